"""Generated documentation: `make docs` writes it, local/checks/test_docs.py fails when it is stale.

- terraform/README.md, between `<!-- BEGIN_TF_DOCS -->` and `<!-- END_TF_DOCS -->`: the Requirements, Inputs and
  Outputs tables, read from versions.tf, variables.tf and outputs.tf (python-hcl2 parses them).
- docs/architecture.md, between `<!-- BEGIN_ASL_DIAGRAMS -->` and `<!-- END_ASL_DIAGRAMS -->`: one Mermaid flowchart per
  terraform/*.asl.json state machine — every state, its Next, Choice rules and Default, and Catch edges (dashed,
  labelled with the errors they catch).

Usage: `python local/tools/docs.py` rewrites both sections; `python local/tools/docs.py --check` exits 1 naming a stale file.
"""

import json
import re
import sys
from pathlib import Path

import hcl2

ROOT = Path(__file__).resolve().parents[2]
TERRAFORM = ROOT / "terraform"
TF_MARKERS = ("<!-- BEGIN_TF_DOCS -->", "<!-- END_TF_DOCS -->")
ASL_MARKERS = ("<!-- BEGIN_ASL_DIAGRAMS -->", "<!-- END_ASL_DIAGRAMS -->")


def _unquote(value) -> str:
    """python-hcl2 keeps string literals quoted and expressions as ${...}: the source text of either."""
    if isinstance(value, str):
        if value.startswith("${") and value.endswith("}"):
            return value[2:-1]
        if len(value) >= 2 and value[0] == value[-1] == '"':
            return json.loads(value)
    return value


def _cell(text: str) -> str:
    """Markdown table cell: one line, pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _prose(text: str) -> str:
    """A description cell: placeholders such as <region> shown, not taken for HTML."""
    return _cell(text).replace("<", "&lt;").replace(">", "&gt;")


def _code(text: str) -> str:
    return f"`{_cell(text)}`"


def _default(block: dict) -> str:
    if "default" not in block:
        return "required"
    value = block["default"]
    if value is None:
        return _code("null")
    if isinstance(value, str) and value.startswith("${"):
        return _code(_unquote(value))
    if isinstance(value, str):
        return _code(json.dumps(_unquote(value)))
    return _code(json.dumps(value))


def _blocks(path: Path, kind: str) -> list[tuple[str, dict]]:
    with path.open() as f:
        parsed = hcl2.load(f)
    return [(_unquote(name), body) for entry in parsed.get(kind, []) for name, body in entry.items()]


def terraform_docs() -> str:
    """The Requirements, Inputs and Outputs tables of the module."""
    with (TERRAFORM / "versions.tf").open() as f:
        versions = hcl2.load(f)["terraform"][0]
    lines = ["## Requirements", "", "| Name | Version |", "|---|---|",
             f"| terraform | {_code(_unquote(versions['required_version']))} |"]
    for provider in versions["required_providers"]:
        for name, spec in provider.items():
            if isinstance(spec, dict):
                lines.append(f"| {name} ({_unquote(spec['source'])}) | {_code(_unquote(spec['version']))} |")
    lines += ["", "## Inputs", "", "| Name | Description | Type | Default |", "|---|---|---|---|"]
    for name, body in _blocks(TERRAFORM / "variables.tf", "variable"):
        lines.append(f"| `{name}` | {_prose(_unquote(body['description']))} | {_code(_unquote(body['type']))} | {_default(body)} |")
    lines += ["", "## Outputs", "", "| Name | Description |", "|---|---|"]
    for name, body in _blocks(TERRAFORM / "outputs.tf", "output"):
        lines.append(f"| `{name}` | {_prose(_unquote(body['description']))} |")
    return "\n".join(lines)


def _rule(rule: dict) -> str:
    """A Choice rule as a short label: `$.x == "v"` for one comparison, else its operator."""
    ops = {"StringEquals": "==", "BooleanEquals": "==", "NumericEquals": "==", "NumericGreaterThan": ">",
           "NumericLessThan": "<", "NumericGreaterThanEquals": ">=", "NumericLessThanEquals": "<="}
    for key, value in rule.items():
        if key in ops and "Variable" in rule:
            return f"{rule['Variable']} {ops[key]} {json.dumps(value)}"
    if "Variable" in rule:
        test = next((k for k in rule if k not in ("Variable", "Next")), "?")
        return f"{rule['Variable']} {test}"
    return next((k for k in rule if k != "Next"), "rule")


def _label(text: str) -> str:
    """Mermaid edge label text (quotes would end it)."""
    return text.replace('"', "'")


def mermaid(asl: dict) -> str:
    """A Mermaid flowchart of one state machine definition."""
    shapes = {"Task": '["{n}"]', "Choice": '{{"{n}"}}', "Wait": '(["{n}"])', "Pass": '[/"{n}"/]',
              "Succeed": '(("{n}"))', "Fail": '(("{n}"))', "Map": '[["{n}"]]', "Parallel": '[["{n}"]]'}
    ids = {name: f"s{i}" for i, name in enumerate(asl["States"])}
    lines = ["flowchart TD", f'    start(("start")) --> {ids[asl["StartAt"]]}']
    for name, state in asl["States"].items():
        shape = shapes.get(state["Type"], shapes["Task"])
        lines.append(f"    {ids[name]}{shape.format(n=name)}")
    for name, state in asl["States"].items():
        me = ids[name]
        if "Next" in state:
            lines.append(f"    {me} --> {ids[state['Next']]}")
        for rule in state.get("Choices", []):
            lines.append(f'    {me} -->|"{_label(_rule(rule))}"| {ids[rule["Next"]]}')
        if "Default" in state:
            lines.append(f'    {me} -->|"otherwise"| {ids[state["Default"]]}')
        for catch in state.get("Catch", []):
            lines.append(f'    {me} -.->|"{_label(", ".join(catch["ErrorEquals"]))}"| {ids[catch["Next"]]}')
    return "\n".join(lines)


def asl_diagrams() -> str:
    parts = []
    for path in sorted(TERRAFORM.glob("*.asl.json")):
        asl = json.loads(path.read_text())
        parts += [f"`terraform/{path.name}` — {asl.get('Comment', '').strip()}", "", "```mermaid", mermaid(asl), "```", ""]
    return "\n".join(parts).rstrip()


def replaced(text: str, markers: tuple[str, str], body: str, path: Path) -> str:
    begin, end = markers
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise SystemExit(f"{path}: the markers {begin} ... {end} are missing")
    return pattern.sub(lambda _: f"{begin}\n{body}\n{end}", text, count=1)


def generated() -> dict[Path, str]:
    """{file: its content with the generated sections up to date}."""
    tf_readme, architecture = TERRAFORM / "README.md", ROOT / "docs" / "architecture.md"
    return {
        tf_readme: replaced(tf_readme.read_text(), TF_MARKERS, terraform_docs(), tf_readme),
        architecture: replaced(architecture.read_text(), ASL_MARKERS, asl_diagrams(), architecture),
    }


def main() -> int:
    check = "--check" in sys.argv[1:]
    stale = []
    for path, content in generated().items():
        if path.read_text() != content:
            stale.append(path)
            if not check:
                path.write_text(content)
    if check and stale:
        print("stale generated docs (run `make docs`): " + ", ".join(str(p.relative_to(ROOT)) for p in stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
