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
