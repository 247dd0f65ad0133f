"""The local Step Functions runner (local/sfn/run.mjs) runs nested executions: a Map of
`states:startExecution.sync:2` Tasks starts one child execution per item, at most MaxConcurrency at once, returns
each child's parsed Output, and a failing child fails only its own Task (States.TaskFailed, the child's error in the
Cause) so that a Catch can record it — what a fleet of backups needs. No Lambda is involved."""

import json
import subprocess

from stack import NODE, SFN_DIR

PARENT = {
    "StartAt": "Children",
    "States": {
        "Children": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "MaxConcurrencyPath": "$.max",
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": "StartChild",
                "States": {
                    "StartChild": {
                        "Type": "Task",
                        "Resource": "arn:aws:states:::states:startExecution.sync:2",
                        "Parameters": {"StateMachineArn": "${child_state_machine_arn}", "Input.$": "$"},
                        "ResultSelector": {"target.$": "$.Input.n", "status.$": "$.Status", "doubled.$": "$.Output.doubled"},
                        "Catch": [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.failure", "Next": "ChildFailed"}],
                        "End": True,
                    },
                    "ChildFailed": {
                        "Type": "Pass",
                        "Parameters": {"target.$": "$.n", "status": "FAILED", "cause.$": "States.StringToJson($.failure.Cause)"},
                        "End": True,
                    },
                },
            },
            "End": True,
        }
    },
}

CHILD = {
    "StartAt": "Work",
    "States": {
        "Work": {"Type": "Wait", "Seconds": 1, "Next": "ShouldFail"},
        "ShouldFail": {"Type": "Choice", "Choices": [{"Variable": "$.fail", "BooleanEquals": True, "Next": "Boom"}],
                       "Default": "Double"},
        "Boom": {"Type": "Fail", "Error": "BoomError", "Cause": "asked to fail"},
        "Double": {"Type": "Pass", "Parameters": {"doubled.$": "States.MathAdd($.n, $.n)"}, "End": True},
    },
}


def test_a_map_of_child_executions_runs_each_isolates_failures_and_bounds_concurrency(tmp_path):
    (tmp_path / "parent.json").write_text(json.dumps(PARENT))
    (tmp_path / "child.json").write_text(json.dumps(CHILD))
    items = [{"n": i, "fail": i == 3} for i in range(1, 7)]
    proc = subprocess.run(
        [str(NODE), str(SFN_DIR / "run.mjs"), "--definition", str(tmp_path / "parent.json"),
         "--machine", f"child={tmp_path / 'child.json'}", "--input", json.dumps({"items": items, "max": 2}),
         "--wait-ms", "300", "--quiet", "--result-file", str(tmp_path / "result.json")],
        capture_output=True, text=True, timeout=120)
    result = json.loads((tmp_path / "result.json").read_text())
    assert proc.returncode == 0 and result["status"] == "SUCCEEDED", (proc.stderr, result)

    by_target = {r["target"]: r for r in result["output"]}
    assert sorted(by_target) == [1, 2, 3, 4, 5, 6]
    assert all(by_target[n] == {"target": n, "status": "SUCCEEDED", "doubled": 2 * n} for n in (1, 2, 4, 5, 6))
    failed = by_target[3]
    assert failed["status"] == "FAILED" and failed["cause"]["Error"] == "BoomError", failed
    assert failed["cause"]["ExecutionArn"].split(":")[-2] == "elasticache-backup-child"

    children = result["children"]
    assert len(children) == 6 and {c["status"] for c in children} == {"SUCCEEDED", "FAILED"}
    # At most MaxConcurrency (2) children at any moment.
    events = sorted([(c["startDate"], 1) for c in children] + [(c["stopDate"], -1) for c in children])
    running, peak = 0, 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    assert peak == 2, events
