"""The local Step Functions runner (local/standins/sfn/run.mjs) runs nested executions: a Map of
`states:startExecution.sync:2` Tasks starts one child execution per item, at most MaxConcurrency at once, returns
each child's parsed Output, and a failing child fails only its own Task (States.TaskFailed, the child's error in the
Cause) so that a Catch can record it — what a fleet of backups needs. No Lambda is involved."""

import json
import os
import subprocess
import sys

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


def distributed(tolerated_percent: int) -> dict:
    """A Distributed Map over the JSON array s3://<bucket>/items.json, CHILD's states as each item's child workflow,
    its records written back to s3://<bucket>/<execution name>/."""
    return {
        "StartAt": "Fan",
        "States": {
            "Fan": {
                "Type": "Map",
                "Label": "Fan",
                "ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSON"},
                               "Parameters": {"Bucket.$": "$.bucket", "Key": "items.json"}},
                "MaxConcurrencyPath": "$.max",
                "ToleratedFailurePercentage": tolerated_percent,
                "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, **CHILD},
                "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
                                 "Parameters": {"Bucket.$": "$.bucket", "Prefix.$": "$$.Execution.Name"}},
                "ResultPath": "$.mapRun",
                "End": True,
            }
        },
    }


def test_a_distributed_map_reads_items_from_s3_and_writes_each_child_workflows_record_back(tmp_path):
    """Step Functions' Distributed Map as the fleet uses it: ItemReader, MaxConcurrencyPath, a child workflow per item,
    ToleratedFailurePercentage, ResultWriter's manifest and result files."""
    import boto3

    from stack import CREDENTIALS, REGION, free_port, port_open, wait_until

    port = free_port()
    moto = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: port_open(port), 30, "moto server", moto)
        endpoint = f"http://127.0.0.1:{port}"
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name=REGION, aws_access_key_id="test",
                          aws_secret_access_key="test")
        s3.create_bucket(Bucket="runs")
        items = [{"n": i, "fail": i == 3} for i in range(1, 7)]
        s3.put_object(Bucket="runs", Key="items.json", Body=json.dumps(items).encode())

        def run(percent: int, name: str) -> dict:
            (tmp_path / f"{name}.json").write_text(json.dumps(distributed(percent)))
            subprocess.run(
                [str(NODE), str(SFN_DIR / "run.mjs"), "--definition", str(tmp_path / f"{name}.json"), "--name", name,
                 "--input", json.dumps({"bucket": "runs", "max": 2}), "--wait-ms", "300", "--quiet",
                 "--result-file", str(tmp_path / f"{name}-result.json")],
                capture_output=True, text=True, timeout=120, check=False,
                env={**os.environ, **CREDENTIALS, "AWS_ENDPOINT_URL_S3": endpoint})
            return json.loads((tmp_path / f"{name}-result.json").read_text())

        # One failure in six (17 %) is within 20 %: the Map succeeds, its result the manifest's location.
        result = run(20, "tolerant")
        assert result["status"] == "SUCCEEDED", result
        details = result["output"]["mapRun"]["ResultWriterDetails"]
        [map_run] = result["mapRuns"]
        assert result["output"]["mapRun"]["MapRunArn"] == map_run["mapRunArn"]
        assert ":mapRun:elasticache-backup/Fan:" in map_run["mapRunArn"]
        assert (map_run["items"], map_run["failed"], map_run["peak"]) == (6, 1, 2), map_run
        assert details["Bucket"] == "runs" and details["Key"].startswith("tolerant/")
        assert details["Key"].endswith("/manifest.json")
        manifest = json.loads(s3.get_object(Bucket="runs", Key=details["Key"])["Body"].read())
        assert manifest["DestinationBucket"] == "runs" and manifest["MapRunArn"] == map_run["mapRunArn"]
        files = {status: [json.loads(s3.get_object(Bucket="runs", Key=f["Key"])["Body"].read()) for f in listed]
                 for status, listed in manifest["ResultFiles"].items()}
        [succeeded], [failed] = files["SUCCEEDED"], files["FAILED"]
        assert sorted(json.loads(r["Input"])["n"] for r in succeeded) == [1, 2, 4, 5, 6]
        assert all(json.loads(r["Output"]) == {"doubled": 2 * json.loads(r["Input"])["n"]} for r in succeeded)
        assert [(json.loads(r["Input"])["n"], r["Status"], r["Error"]) for r in failed] == [(3, "FAILED", "BoomError")]
        assert all(":execution:elasticache-backup/Fan:" in r["ExecutionArn"] for r in succeeded + failed)

        # With no failure tolerated, the same items fail the Map.
        result = run(0, "strict")
        assert result["status"] == "FAILED" and result["error"] == "States.ExceedToleratedFailureThreshold", result
    finally:
        moto.terminate()
        moto.wait(timeout=10)
