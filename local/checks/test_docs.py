"""The generated docs (local/tools/docs.py) match the files they are generated from."""

import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import docs  # noqa: E402


def test_generated_sections_are_up_to_date():
    stale = [str(p.relative_to(docs.ROOT)) for p, content in docs.generated().items() if p.read_text() != content]
    assert not stale, f"run `make docs`: stale generated sections in {stale}"


def test_every_variable_and_output_is_in_the_module_readme():
    text = (docs.TERRAFORM / "README.md").read_text()
    for tf, kind in (("variables.tf", "variable"), ("outputs.tf", "output")):
        names = re.findall(rf'^{kind} "(\w+)"', (docs.TERRAFORM / tf).read_text(), re.M)
        assert names, tf
        missing = [n for n in names if f"| `{n}` |" not in text]
        assert not missing, f"{tf}: {missing} not in terraform/README.md"


def test_each_diagram_has_every_state_and_every_transition():
    for path in sorted(docs.TERRAFORM.glob("*.asl.json")):
        asl = json.loads(path.read_text())
        chart = docs.mermaid(asl)
        transitions = sum(("Next" in s) + len(s.get("Choices", [])) + ("Default" in s) + len(s.get("Catch", []))
                          for s in asl["States"].values())
        assert len(re.findall(r"^    s\d+ -(?:->|\.->)", chart, re.M)) == transitions, path.name
        for name in asl["States"]:
            assert f'"{name}"' in chart, f"{path.name}: {name} is not drawn"


def test_a_choice_rule_and_a_catch_are_labelled():
    asl = {"StartAt": "A", "States": {
        "A": {"Type": "Task", "Next": "B", "Catch": [{"ErrorEquals": ["AwsError", "Throttled"], "Next": "F"}]},
        "B": {"Type": "Choice", "Choices": [{"Variable": "$.s", "StringEquals": "done", "Next": "C"}], "Default": "A"},
        "C": {"Type": "Succeed"}, "F": {"Type": "Fail"}}}
    chart = docs.mermaid(asl)
    assert "s0 -.->|\"AwsError, Throttled\"| s3" in chart
    assert "s1 -->|\"$.s == 'done'\"| s2" in chart and "s1 -->|\"otherwise\"| s0" in chart


# Links. Every relative Markdown link and every #anchor in the project's documents resolves: the file (or folder)
# exists, and an anchor names a heading of the file it points into, slugged as GitHub slugs it.

ROOT = Path(__file__).resolve().parents[2]
LINKED_DOCS = ("README.md", "CONTRIBUTING.md", "CHANGELOG.md", "docs/*.md", "terraform/README.md", "crates/*/README.md")
FENCE = re.compile(r"^ {0,3}(```|~~~)")
INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1")
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)")
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")


def _documents() -> list[Path]:
    found = sorted({p for pattern in LINKED_DOCS for p in ROOT.glob(pattern)})
    assert ROOT / "README.md" in found and ROOT / "docs" / "architecture.md" in found, found
    return found


def _prose_lines(text: str, blank_code: bool = True):
    """(line number, line) outside fenced code blocks, inline code spans blanked (unless `blank_code` is false: a
    heading's code span is part of its anchor)."""
    fence = None
    for number, line in enumerate(text.splitlines(), 1):
        match = FENCE.match(line)
        if match:
            if fence is None:
                fence = match.group(1)
            elif line.strip().startswith(fence):
                fence = None
            continue
        if fence is None:
            yield number, INLINE_CODE.sub(lambda m: " " * len(m.group(0)), line) if blank_code else line


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: its rendered text (inline markup gone), lower-cased, every character that
    is not a letter, digit, `_`, `-` or space removed, spaces turned into `-`."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link reads as its text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML
    text = text.replace("`", "").replace("*", "")
    text = re.sub(r"(?<!\w)_+|_+(?!\w)", "", text)  # _emphasis_, not snake_case
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every heading's anchor in a Markdown file; a repeated slug gets -1, -2, ... as on GitHub."""
    seen: dict[str, int] = {}
    found = set()
    for _, line in _prose_lines(path.read_text(), blank_code=False):
        match = HEADING.match(line)
        if not match:
            continue
        slug = github_slug(match.group(2))
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def links(path: Path) -> list[tuple[int, str]]:
    """(line, target) of every link and link reference definition outside code."""
    found = []
    for number, line in _prose_lines(path.read_text()):
        found += [(number, m.group(1)) for m in LINK.finditer(line)]
        match = REFERENCE.match(line)
        if match:
            found.append((number, match.group(1)))
    return found


def broken_links(path: Path) -> list[str]:
    broken = []
    for number, target in links(path):
        if not target or re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # http(s):, mailto:, ...
            continue
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        where = f"{path.relative_to(ROOT)}:{number}: {target}"
        if not linked.exists():
            broken.append(f"{where} (no such file)")
        elif anchor and (linked.is_dir() or linked.suffix != ".md"):
            broken.append(f"{where} (an anchor into a file that is not Markdown)")
        elif anchor and anchor not in anchors(linked):
            broken.append(f"{where} (no heading with this anchor in {linked.relative_to(ROOT)})")
    return broken


def test_every_relative_link_and_anchor_resolves():
    broken = [b for path in _documents() for b in broken_links(path)]
    assert not broken, "broken links:\n" + "\n".join(broken)


def test_headings_slug_as_on_github():
    assert github_slug("7c. Rules learned from review") == "7c-rules-learned-from-review"
    assert github_slug("What `make demo` shows") == "what-make-demo-shows"
    assert github_slug("Runbook: a failed backup — the page") == "runbook-a-failed-backup--the-page"
    assert github_slug("The [run document](x.md) and *its* `snake_case` fields") == \
        "the-run-document-and-its-snake_case-fields"


def test_a_broken_file_link_and_a_broken_anchor_are_found(tmp_path, monkeypatch):
    monkeypatch.setitem(globals(), "ROOT", tmp_path)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# A\n\n## Same\n\n## Same\n")
    doc = tmp_path / "README.md"
    doc.write_text("# Top\n\n[ok](docs/a.md#same-1) [ok](#top) [gone](docs/b.md) [bad](docs/a.md#same-2)\n"
                   "`[code](nowhere.md)`\n\n```\n[fenced](nowhere.md)\n```\n[ref]: docs/a.md#nope\n"
                   "[web](https://example.com/#x)\n")
    assert broken_links(doc) == [
        "README.md:3: docs/b.md (no such file)",
        "README.md:3: docs/a.md#same-2 (no heading with this anchor in docs/a.md)",
        "README.md:9: docs/a.md#nope (no heading with this anchor in docs/a.md)",
    ]
