"""The messages users read when the module refuses an input (terraform/tests/messages/messages.tftest.hcl).

`terraform test` can say which check refused an input (expect_failures, in terraform/tests/) but not what the
user reads. Each run in messages.tftest.hcl is meant to fail, and carries `# message:` comments: the text its
errors must contain. A failing run skips the runs after it in the same file, so each run is written to a file of
its own (with the file's providers and variables) in a temporary test directory, and `terraform test` runs them
all at once.
"""

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

TERRAFORM = Path(__file__).resolve().parents[2] / "terraform"
MESSAGES = TERRAFORM / "tests" / "messages" / "messages.tftest.hcl"
RUN = re.compile(r'^run "([a-z0-9_]+)" \{\n(.*?)^\}\n', re.S | re.M)


def runs():
    """(header, {run name: (run block, [expected messages])}) of messages.tftest.hcl."""
    text = MESSAGES.read_text()
    first = RUN.search(text)
    assert first, f"{MESSAGES} has no run blocks"
    header = text[: first.start()]
    found = {}
    for m in RUN.finditer(text):
        expected = re.findall(r"^\s*# message: (.+)$", m.group(2), re.M)
        assert expected, f'run "{m.group(1)}" needs at least one "# message:" comment'
        found[m.group(1)] = (m.group(0), expected)
    return header, found


def per_run_output():
    """Runs every message run in its own test file and returns {run name: its status line and errors}."""
    header, found = runs()
    if shutil.which("terraform") is None:
        pytest.fail("terraform is not installed (make deps-checks checks for it)")
    if not (TERRAFORM / ".terraform").is_dir():
        pytest.fail("run `make tf-test` first (it initialises terraform/)")
    with tempfile.TemporaryDirectory(prefix="messages-", dir=TERRAFORM) as tmp:
        for name, (block, _) in found.items():
            (Path(tmp) / f"{name}.tftest.hcl").write_text(header + block)
        out = subprocess.run(
            ["terraform", "test", f"-test-directory={Path(tmp).name}", "-no-color"],
            # Errors go to stderr: one pipe keeps them after the run they belong to.
            cwd=TERRAFORM, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900,
        )
    text = out.stdout
    # Output: `<dir>/<name>.tftest.hcl... in progress`, then `  run "<name>"... fail`, then its errors.
    sections = re.split(r"^\S+/([a-z0-9_]+)\.tftest\.hcl\.\.\. in progress$", text, flags=re.M)
    return found, dict(zip(sections[1::2], sections[2::2])), text


def test_every_refused_input_fails_with_the_message_it_documents():
    found, sections, text = per_run_output()
    assert set(sections) == set(found), f"terraform test did not run every message run:\n{text[-3000:]}"
    wrong = []
    for name, (_, expected) in found.items():
        section = sections[name]
        # Terraform wraps long messages: compare with whitespace collapsed (and the box drawing removed).
        flat = " ".join(re.sub(r"[│╷╵]", " ", section).split())
        if f'run "{name}"... fail' not in flat:
            wrong.append(f'{name}: did not fail\n{section[-1500:]}')
            continue
        for message in expected:
            if " ".join(message.split()) not in flat:
                wrong.append(f"{name}: no {message!r} in\n{section[-2000:]}")
    assert not wrong, "\n\n".join(wrong)
