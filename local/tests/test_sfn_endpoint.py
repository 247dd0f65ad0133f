"""The local Step Functions endpoint (local/standins/sfn/server.mjs, issue 24): boto3 against it, as against AWS.

The spec is botocore's `stepfunctions/2016-11-23/service-2.json`. Every answer a test receives is checked, raw, by a
botocore `after-call` hook before boto3 parses it: a 200 answer's JSON against the operation's output shape (every
key a member of its shape, required members present, enum values from the model, timestamps as epoch-second numbers,
integers, booleans, lists and nested structures), an error answer as HTTP 400 with `__type` one of the errors the
model lists for the operation (or ValidationException, the framework's own).

Most tests run small definitions of their own on a server started here (no Lambda needed); the last ones run the
project's backup state machine on the local stack, through the endpoint the stack starts, and notify reading an
execution's history from it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import urllib.error
import urllib.request
import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.loaders import Loader
from botocore.model import ServiceModel

from stack import CREDENTIALS, NODE, REGION, SFN_DIR, wait_until

MODEL = ServiceModel(Loader().load_service_model("stepfunctions", "service-2"), "stepfunctions")
ACCOUNT = "123456789012"
# Errors any operation may answer (the framework's input validation), besides those the model lists per operation.
COMMON_ERRORS = {"ValidationException"}

# Small definitions run by the test server (no Lambda). Wait states take their real time there.
STEPS = {
    "StartAt": "Prepare",
    "States": {
        "Prepare": {"Type": "Pass", "Result": {"ok": True}, "ResultPath": "$.prepared", "Next": "Decide"},
        "Decide": {"Type": "Choice", "Choices": [{"Variable": "$.fail", "IsPresent": True, "Next": "Boom"}],
                   "Default": "Pause"},
        "Pause": {"Type": "Wait", "Seconds": 1, "Next": "Done"},
        "Done": {"Type": "Succeed"},
        "Boom": {"Type": "Fail", "Error": "BoomError", "Cause": "asked to fail"},
    },
}
SLOW = {"StartAt": "Sleep", "States": {"Sleep": {"Type": "Wait", "Seconds": 3600, "End": True}}}
PARENT = {
    "StartAt": "Child",
    "States": {
        "Child": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
                  "Parameters": {"StateMachineArn": "${slow_state_machine_arn}", "Input.$": "$"}, "End": True},
    },
}
FAN = {
    "StartAt": "Each",
    "States": {
        "Each": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 1,
                 "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Echo",
                                   "States": {"Echo": {"Type": "Pass", "End": True}}},
                 "End": True},
    },
}
MACHINES = {"steps": STEPS, "slow": SLOW, "parent": PARENT, "fan": FAN}


def machine_arn(key: str) -> str:
    name = {"backup": "elasticache-backup", "restore": "elasticache-backup-restore",
            "fleet": "elasticache-backup-fleet"}.get(key, f"elasticache-backup-{key}")
    return f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}"


def execution_arn(key: str, name: str) -> str:
    return machine_arn(key).replace(":stateMachine:", ":execution:") + f":{name}"


# -- the model check ---------------------------------------------------------------------------------------------

def shape_problems(value, shape, path: str) -> list[str]:
    """What in `value` (parsed JSON) does not match `shape` (botocore), as awsJson1.0 serializes it."""
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            return [f"{path}: {type(value).__name__}, not an object"]
        problems = [f"{path}.{k}: not a member of {shape.name}" for k in value if k not in shape.members]
        problems += [f"{path}.{k}: required, missing" for k in shape.required_members if k not in value]
        for k, v in value.items():
            if k in shape.members:
                problems += shape_problems(v, shape.members[k], f"{path}.{k}")
        return problems
    if kind == "list":
        if not isinstance(value, list):
            return [f"{path}: not a list"]
        return [p for i, v in enumerate(value) for p in shape_problems(v, shape.member, f"{path}[{i}]")]
    if kind == "map":
        if not isinstance(value, dict):
            return [f"{path}: not a map"]
        return [p for k, v in value.items() for p in shape_problems(v, shape.value, f"{path}.{k}")]
    if kind == "string":
        if not isinstance(value, str):
            return [f"{path}: {value!r} is not a string"]
        if shape.enum and value not in shape.enum:
            return [f"{path}: {value!r} is not one of {shape.enum}"]
        return []
    if kind == "timestamp":
        return [] if isinstance(value, (int, float)) and not isinstance(value, bool) else [f"{path}: {value!r} is not epoch seconds"]
    if kind in ("integer", "long"):
        return [] if isinstance(value, int) and not isinstance(value, bool) else [f"{path}: {value!r} is not an integer"]
    if kind == "boolean":
        return [] if isinstance(value, bool) else [f"{path}: {value!r} is not a boolean"]
    return [f"{path}: shape type {kind} not checked here"]


def answer_problems(operation: str, status: int, body: bytes) -> list[str]:
    op = MODEL.operation_model(operation)
    try:
        answer = json.loads(body)
    except ValueError:
        return [f"{operation}: the answer is not JSON: {body[:200]!r}"]
    if status == 200:
        return shape_problems(answer, op.output_shape, operation)
    allowed = {s.metadata.get("error", {}).get("code", s.name) for s in op.error_shapes} | COMMON_ERRORS
    code = answer.get("__type", "").rsplit("#", 1)[-1]
    problems = [] if status == 400 else [f"{operation}: error with HTTP {status}, not 400"]
    if code not in allowed:
        problems.append(f"{operation}: error {code!r} is not one the model lists ({sorted(allowed)})")
    if not isinstance(answer.get("message"), str):
        problems.append(f"{operation}: error without a message")
    return problems


def test_the_model_check_finds_what_it_should():
    good = {"executionArn": execution_arn("steps", "a"), "startDate": 1.5}
    assert answer_problems("StartExecution", 200, json.dumps(good).encode()) == []
    assert answer_problems("StartExecution", 200, json.dumps({**good, "startDate": "2026-01-01"}).encode())
    assert answer_problems("StartExecution", 200, json.dumps({"startDate": 1}).encode())
    assert answer_problems("StartExecution", 200, json.dumps({**good, "extra": 1}).encode())
    assert answer_problems("DescribeExecution", 200, json.dumps(
        {"executionArn": "a", "stateMachineArn": "b", "status": "DONE", "startDate": 1}).encode())
    assert answer_problems("GetExecutionHistory", 200, json.dumps(
        {"events": [{"id": 1, "type": "ExecutionStarted", "timestamp": 1, "stateEnteredEventDetails": {}}]}).encode())
    assert answer_problems("DescribeExecution", 400, b'{"__type": "ExecutionDoesNotExist", "message": "m"}') == []
    assert answer_problems("DescribeExecution", 400, b'{"__type": "StateMachineDoesNotExist", "message": "m"}')
    assert answer_problems("DescribeExecution", 500, b'{"__type": "ExecutionDoesNotExist", "message": "m"}')


def client(endpoint: str):
    """A boto3 Step Functions client for `endpoint` whose every answer is checked against the model."""
    sfn = boto3.client("stepfunctions", endpoint_url=endpoint, region_name=REGION, aws_access_key_id="test",
                       aws_secret_access_key="test",
                       config=Config(retries={"mode": "standard", "total_max_attempts": 1}))

    def check(http_response, model, **_):
        problems = answer_problems(model.name, http_response.status_code, http_response.content)
        assert not problems, problems

    sfn.meta.events.register("after-call.sfn", check)
    return sfn


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    """The endpoint with this module's definitions (and the project's three) on a free port, stopped after."""
    tmp = tmp_path_factory.mktemp("sfn-endpoint")
    args = [str(NODE), str(SFN_DIR / "server.mjs"), "--port", "0", "--ready-file", str(tmp / "ready.json")]
    for key, definition in MACHINES.items():
        (tmp / f"{key}.asl.json").write_text(json.dumps(definition))
        args += ["--machine", f"{key}={tmp / f'{key}.asl.json'}"]
    log = open(tmp / "server.log", "wb")
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **CREDENTIALS})
    try:
        wait_until((tmp / "ready.json").exists, 30, "server.mjs", proc)
        yield json.loads((tmp / "ready.json").read_text())["endpoint"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


@pytest.fixture()
def sfn(api):
    return client(api)


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def wait_for_end(sfn, arn: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while (d := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline, f"{arn} still RUNNING"
        time.sleep(0.1)
    return d


def history(sfn, arn: str, **kwargs) -> list[dict]:
    return [e for page in sfn.get_paginator("get_execution_history").paginate(executionArn=arn, **kwargs)
            for e in page["events"]]


def code_of(call) -> str:
    with pytest.raises(ClientError) as info:
        call()
    return info.value.response["Error"]["Code"]


# -- StartExecution, DescribeExecution -------------------------------------------------------------------------

def test_an_execution_started_runs_to_succeeded_and_describes_itself(sfn):
    name = unique()
    started = sfn.start_execution(stateMachineArn=machine_arn("steps"), name=name, input='{"n": 1}')
    assert started["executionArn"] == execution_arn("steps", name)

    running = sfn.describe_execution(executionArn=started["executionArn"])
    assert running["status"] == "RUNNING" and "stopDate" not in running and "output" not in running
    assert running["startDate"] == started["startDate"]
    done = wait_for_end(sfn, started["executionArn"])
    assert done["status"] == "SUCCEEDED"
    assert (done["name"], done["stateMachineArn"], done["input"]) == (name, machine_arn("steps"), '{"n": 1}')
    assert json.loads(done["output"]) == {"n": 1, "prepared": {"ok": True}}
    assert done["inputDetails"] == {"included": True} and done["outputDetails"] == {"included": True}
    assert done["stopDate"] > done["startDate"] and "error" not in done

    metadata = sfn.describe_execution(executionArn=started["executionArn"], includedData="METADATA_ONLY")
    assert "input" not in metadata and "output" not in metadata and metadata["status"] == "SUCCEEDED"


def test_a_failed_execution_has_the_fail_states_error_and_cause(sfn):
    arn = sfn.start_execution(stateMachineArn=machine_arn("steps"), input='{"fail": true}')["executionArn"]
    done = wait_for_end(sfn, arn)
    assert (done["status"], done["error"], done["cause"]) == ("FAILED", "BoomError", "asked to fail")
    assert "output" not in done


def test_without_a_name_the_execution_is_named_by_a_uuid(sfn):
    arn = sfn.start_execution(stateMachineArn=machine_arn("steps"))["executionArn"]
    name = arn.rsplit(":", 1)[1]
    assert str(uuid.UUID(name)) == name
    assert sfn.describe_execution(executionArn=arn)["input"] == "{}"


def test_the_same_name_and_input_while_running_is_the_same_execution_any_other_reuse_is_refused(sfn):
    name = unique()
    first = sfn.start_execution(stateMachineArn=machine_arn("slow"), name=name, input='{"a": 1}')
    again = sfn.start_execution(stateMachineArn=machine_arn("slow"), name=name, input='{"a": 1}')
    assert (again["executionArn"], again["startDate"]) == (first["executionArn"], first["startDate"])
    assert code_of(lambda: sfn.start_execution(stateMachineArn=machine_arn("slow"), name=name,
                                               input='{"a": 2}')) == "ExecutionAlreadyExists"
    # Another state machine may use the name.
    other = sfn.start_execution(stateMachineArn=machine_arn("steps"), name=name, input='{"a": 1}')
    wait_for_end(sfn, other["executionArn"])

    sfn.stop_execution(executionArn=first["executionArn"])
    assert code_of(lambda: sfn.start_execution(stateMachineArn=machine_arn("slow"), name=name,
                                               input='{"a": 1}')) == "ExecutionAlreadyExists"


@pytest.mark.parametrize("name", ["has space", "a:b", "a/b", "x" * 81, "tab\tname", "{braces}", "semi;colon"])
def test_a_name_aws_refuses_is_invalid_name(sfn, name):
    assert code_of(lambda: sfn.start_execution(stateMachineArn=machine_arn("steps"), name=name)) == "InvalidName"


def test_names_of_80_characters_and_unicode_letters_are_accepted(sfn):
    for name in ["x" * 80, "sauvegarde-été_1"]:
        arn = sfn.start_execution(stateMachineArn=machine_arn("steps"), name=name)["executionArn"]
        assert arn.endswith(f":{name}")


def test_refusals_carry_the_models_error_codes(sfn):
    missing = execution_arn("steps", unique("missing"))
    assert code_of(lambda: sfn.describe_execution(executionArn=missing)) == "ExecutionDoesNotExist"
    assert code_of(lambda: sfn.get_execution_history(executionArn=missing)) == "ExecutionDoesNotExist"
    assert code_of(lambda: sfn.stop_execution(executionArn=missing)) == "ExecutionDoesNotExist"

    nowhere = machine_arn("nowhere")
    assert code_of(lambda: sfn.start_execution(stateMachineArn=nowhere)) == "StateMachineDoesNotExist"
    assert code_of(lambda: sfn.describe_state_machine(stateMachineArn=nowhere)) == "StateMachineDoesNotExist"
    assert code_of(lambda: sfn.list_executions(stateMachineArn=nowhere)) == "StateMachineDoesNotExist"
    # A version or alias of a state machine is not served.
    assert code_of(lambda: sfn.start_execution(stateMachineArn=machine_arn("steps") + ":1")) == "StateMachineDoesNotExist"

    for bad in ["not-an-arn", machine_arn("steps").replace(":states:", ":lambda:")]:
        assert code_of(lambda: sfn.describe_execution(executionArn=bad)) == "InvalidArn"
        assert code_of(lambda: sfn.start_execution(stateMachineArn=bad)) == "InvalidArn"
    # An ARN of the other resource type.
    assert code_of(lambda: sfn.describe_execution(executionArn=machine_arn("steps"))) == "InvalidArn"
    assert code_of(lambda: sfn.get_execution_history(executionArn=machine_arn("steps"))) == "InvalidArn"
    assert code_of(lambda: sfn.describe_state_machine(stateMachineArn=missing)) == "InvalidArn"
    assert code_of(lambda: sfn.list_executions(stateMachineArn=missing)) == "InvalidArn"

    assert code_of(lambda: sfn.start_execution(stateMachineArn=machine_arn("steps"), input="{not json")) \
        == "InvalidExecutionInput"


def test_an_unknown_operation_is_refused(api):
    req = urllib.request.Request(api, data=b"{}", method="POST", headers={
        "content-type": "application/x-amz-json-1.0", "x-amz-target": "AWSStepFunctions.DeleteStateMachine"})
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(req, timeout=10)
    assert info.value.code == 400
    assert json.loads(info.value.read())["__type"] == "UnknownOperationException"


# -- GetExecutionHistory -----------------------------------------------------------------------------------------

def test_the_history_tells_the_states_in_order_with_their_input_and_output(sfn):
    arn = sfn.start_execution(stateMachineArn=machine_arn("steps"), input='{"n": 2}')["executionArn"]
    wait_for_end(sfn, arn)
    events = history(sfn, arn)
    assert [e["type"] for e in events] == [
        "ExecutionStarted", "PassStateEntered", "PassStateExited", "ChoiceStateEntered", "ChoiceStateExited",
        "WaitStateEntered", "WaitStateExited", "SucceedStateEntered", "SucceedStateExited", "ExecutionSucceeded"]
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    assert [e["previousEventId"] for e in events] == list(range(0, len(events)))
    assert all(a["timestamp"] <= b["timestamp"] for a, b in zip(events, events[1:]))
    started = events[0]["executionStartedEventDetails"]
    assert started["input"] == '{"n": 2}' and started["roleArn"].startswith(f"arn:aws:iam::{ACCOUNT}:role/")
    assert events[1]["stateEnteredEventDetails"] == {"name": "Prepare", "input": '{"n":2}',
                                                     "inputDetails": {"truncated": False}}
    assert json.loads(events[2]["stateExitedEventDetails"]["output"]) == {"n": 2, "prepared": {"ok": True}}
    assert json.loads(events[-1]["executionSucceededEventDetails"]["output"]) == {"n": 2, "prepared": {"ok": True}}

    without_data = history(sfn, arn, includeExecutionData=False)
    assert [e["type"] for e in without_data] == [e["type"] for e in events]
    assert without_data[1]["stateEnteredEventDetails"] == {"name": "Prepare", "inputDetails": {"truncated": False}}


def test_a_failure_ends_the_history_with_its_error_and_cause(sfn):
    arn = sfn.start_execution(stateMachineArn=machine_arn("steps"), input='{"fail": 1}')["executionArn"]
    wait_for_end(sfn, arn)
    events = history(sfn, arn, reverseOrder=True)
    assert [e["type"] for e in events[:2]] == ["ExecutionFailed", "FailStateEntered"]
    assert events[0]["executionFailedEventDetails"] == {"error": "BoomError", "cause": "asked to fail"}


def test_history_pages_forward_and_newest_first_with_opaque_tokens(sfn):
    items = list(range(12))
    arn = sfn.start_execution(stateMachineArn=machine_arn("fan"), input=json.dumps({"items": items}))["executionArn"]
    wait_for_end(sfn, arn)
    whole = sfn.get_execution_history(executionArn=arn, maxResults=1000)
    assert "nextToken" not in whole
    events = whole["events"]
    # Map: entered, then per item an iteration started, Pass entered/exited, iteration succeeded; succeeded, exited.
    assert len(events) == 1 + 1 + 4 * len(items) + 2 + 1
    assert [e["type"] for e in events[2:5]] == ["MapIterationStarted", "PassStateEntered", "PassStateExited"]
    assert [e["mapIterationStartedEventDetails"] for e in events if e["type"] == "MapIterationStarted"] \
        == [{"name": "Each", "index": i} for i in range(len(items))]
    assert sorted(e["mapIterationSucceededEventDetails"]["index"] for e in events
                  if e["type"] == "MapIterationSucceeded") == list(range(len(items)))
    assert [e["type"] for e in events[-3:]] == ["MapStateSucceeded", "MapStateExited", "ExecutionSucceeded"]

    def pages(**kwargs):
        out, token = [], None
        while True:
            page = sfn.get_execution_history(executionArn=arn, maxResults=7, **kwargs,
                                             **({"nextToken": token} if token else {}))
            assert len(page["events"]) <= 7
            out.append(page["events"])
            token = page.get("nextToken")
            if not token:
                return out

    forward = pages()
    assert len(forward) == -(-len(events) // 7) and [e for p in forward for e in p] == events
    backward = pages(reverseOrder=True)
    assert [e for p in backward for e in p] == events[::-1]
    # The default page is 100 events; the paginator follows the tokens.
    assert len(sfn.get_execution_history(executionArn=arn)["events"]) == min(100, len(events))
    assert history(sfn, arn, PaginationConfig={"PageSize": 5}) == events

    # A token continues only the request that gave it.
    token = sfn.get_execution_history(executionArn=arn, maxResults=7)["nextToken"]
    assert code_of(lambda: sfn.get_execution_history(executionArn=arn, maxResults=7, reverseOrder=True,
                                                     nextToken=token)) == "InvalidToken"
    assert code_of(lambda: sfn.get_execution_history(executionArn=arn, nextToken="garbage")) == "InvalidToken"
    assert code_of(lambda: sfn.get_execution_history(executionArn=arn, maxResults=1001)) == "ValidationException"


# -- ListExecutions ----------------------------------------------------------------------------------------------

def test_list_executions_newest_first_by_status_and_in_pages(sfn):
    key = "steps"
    names = [unique("list") for _ in range(5)]
    arns = []
    for i, name in enumerate(names):
        body = {"fail": True} if i % 2 else {}
        arns.append(sfn.start_execution(stateMachineArn=machine_arn(key), name=name, input=json.dumps(body))["executionArn"])
        time.sleep(0.05)
    listed = sfn.list_executions(stateMachineArn=machine_arn(key), statusFilter="RUNNING")["executions"]
    assert {a for a in arns[0::2]} <= {e["executionArn"] for e in listed}
    for arn in arns:
        wait_for_end(sfn, arn)

    everything = sfn.list_executions(stateMachineArn=machine_arn(key), maxResults=1000)["executions"]
    ours = [e for e in everything if e["executionArn"] in arns]
    assert len(ours) == 5
    keys = [e.get("stopDate", e["startDate"]) for e in everything]
    assert keys == sorted(keys, reverse=True), "newest first"
    failed = sfn.list_executions(stateMachineArn=machine_arn(key), statusFilter="FAILED")["executions"]
    assert {e["executionArn"] for e in failed} >= set(arns[1::2])
    assert {e["status"] for e in failed} == {"FAILED"}
    assert not {e["executionArn"] for e in failed} & set(arns[0::2])
    item = next(e for e in ours if e["executionArn"] == arns[0])
    assert (item["name"], item["stateMachineArn"], item["status"]) == (names[0], machine_arn(key), "SUCCEEDED")
    assert item["stopDate"] >= item["startDate"]

    paged, token = [], None
    while True:
        page = sfn.list_executions(stateMachineArn=machine_arn(key), maxResults=2, **({"nextToken": token} if token else {}))
        assert len(page["executions"]) <= 2
        paged += page["executions"]
        token = page.get("nextToken")
        if not token:
            break
    assert paged == everything
    token = sfn.list_executions(stateMachineArn=machine_arn(key), maxResults=1)["nextToken"]
    assert code_of(lambda: sfn.list_executions(stateMachineArn=machine_arn(key), statusFilter="FAILED",
                                               nextToken=token)) == "InvalidToken"
    assert code_of(lambda: sfn.list_executions(stateMachineArn=machine_arn(key), statusFilter="DONE")) \
        == "ValidationException"


# -- StopExecution -----------------------------------------------------------------------------------------------

def test_stop_execution_aborts_with_the_error_and_cause_given(sfn):
    arn = sfn.start_execution(stateMachineArn=machine_arn("slow"), name=unique("stop"))["executionArn"]
    time.sleep(0.3)
    stopped = sfn.stop_execution(executionArn=arn, error="Operator", cause="stopped by hand")
    described = sfn.describe_execution(executionArn=arn)
    assert (described["status"], described["error"], described["cause"]) == ("ABORTED", "Operator", "stopped by hand")
    assert described["stopDate"] == stopped["stopDate"] and "output" not in described
    events = history(sfn, arn)
    assert [e["type"] for e in events] == ["ExecutionStarted", "WaitStateEntered", "ExecutionAborted"]
    assert events[-1]["executionAbortedEventDetails"] == {"error": "Operator", "cause": "stopped by hand"}
    # It stays stopped; stopping it again changes nothing.
    time.sleep(0.3)
    assert sfn.stop_execution(executionArn=arn)["stopDate"] == stopped["stopDate"]
    again = sfn.describe_execution(executionArn=arn)
    assert (again["status"], again["error"]) == ("ABORTED", "Operator")
    assert len(history(sfn, arn)) == 3
    assert arn in [e["executionArn"] for e in
                   sfn.list_executions(stateMachineArn=machine_arn("slow"), statusFilter="ABORTED")["executions"]]


def test_stop_execution_without_error_or_cause_leaves_them_out(sfn):
    arn = sfn.start_execution(stateMachineArn=machine_arn("slow"))["executionArn"]
    sfn.stop_execution(executionArn=arn)
    described = sfn.describe_execution(executionArn=arn)
    assert described["status"] == "ABORTED" and "error" not in described and "cause" not in described
    assert history(sfn, arn)[-1]["executionAbortedEventDetails"] == {}


def test_a_child_started_by_a_sync_task_is_an_execution_of_its_machine_and_stops_with_its_parent(sfn):
    parent = sfn.start_execution(stateMachineArn=machine_arn("parent"), input='{"target": "orders"}')["executionArn"]
    deadline = time.monotonic() + 10
    while not (submitted := [e for e in history(sfn, parent) if e["type"] == "TaskSubmitted"]):
        assert time.monotonic() < deadline, history(sfn, parent)
        time.sleep(0.05)
    details = submitted[0]["taskSubmittedEventDetails"]
    assert (details["resourceType"], details["resource"]) == ("states", "startExecution.sync:2")
    child = json.loads(details["output"])["ExecutionArn"]
    assert child.startswith(machine_arn("slow").replace(":stateMachine:", ":execution:") + ":")
    described = sfn.describe_execution(executionArn=child)
    assert (described["status"], described["input"]) == ("RUNNING", '{"target":"orders"}')
    assert child in [e["executionArn"] for e in sfn.list_executions(stateMachineArn=machine_arn("slow"))["executions"]]
    types = [e["type"] for e in history(sfn, parent)]
    assert types == ["ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSubmitted"]

    sfn.stop_execution(executionArn=parent, error="Operator")
    assert sfn.describe_execution(executionArn=parent)["status"] == "ABORTED"
    assert wait_for_end(sfn, child, timeout=10)["status"] == "ABORTED"
    assert history(sfn, parent)[-1]["type"] == "ExecutionAborted"


# -- DescribeStateMachine, ListStateMachines ---------------------------------------------------------------------

@pytest.mark.parametrize("key,name,role", [
    ("backup", "elasticache-backup", "elasticache-backup-state-machine"),
    ("restore", "elasticache-backup-restore", "elasticache-backup-restore-machine"),
    ("fleet", "elasticache-backup-fleet", "elasticache-backup-fleet-machine"),
])
def test_the_projects_state_machines_are_described_as_deployed(sfn, key, name, role):
    d = sfn.describe_state_machine(stateMachineArn=machine_arn(key))
    assert (d["stateMachineArn"], d["name"], d["type"], d["status"]) == (machine_arn(key), name, "STANDARD", "ACTIVE")
    assert d["roleArn"] == f"arn:aws:iam::{ACCOUNT}:role/{role}-{REGION}"
    definition = json.loads(d["definition"])
    assert "${" not in d["definition"], "every placeholder rendered"
    resources = {s.get("Resource") for s in definition["States"].values() if s["Type"] == "Task"}
    assert any(r.startswith(f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:") for r in resources), resources
    assert d["loggingConfiguration"]["level"] == "ERROR" and d["tracingConfiguration"] == {"enabled": True}


def test_list_state_machines_names_each_once_in_pages(sfn):
    whole = sfn.list_state_machines()["stateMachines"]
    names = [m["name"] for m in whole]
    assert {"elasticache-backup", "elasticache-backup-restore", "elasticache-backup-fleet",
            "elasticache-backup-steps"} <= set(names)
    assert names == sorted(set(names))
    assert all(m["type"] == "STANDARD" and m["stateMachineArn"].endswith(f":stateMachine:{m['name']}") for m in whole)
    paged = [m for page in sfn.get_paginator("list_state_machines").paginate(PaginationConfig={"PageSize": 2})
             for m in page["stateMachines"]]
    assert paged == whole


# -- the project's state machine on the local stack --------------------------------------------------------------

def lambda_arn(function: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function}"


def test_a_backup_started_through_the_api_succeeds_and_its_history_tells_each_step(stack, bucket):
    sfn = client(stack.sfn_endpoint)
    execution_input = {"replicationGroupId": "orders", "bucket": bucket}
    result = stack.run_api_execution(execution_input, name=unique("api-backup"))
    assert result["status"] == "SUCCEEDED", result
    assert result["output"]["snapshotName"] and result["input"] == execution_input
    stack.assert_no_unsafe_deletion()

    events = history(sfn, result["executionArn"])
    assert events[0]["type"] == "ExecutionStarted" and events[-1]["type"] == "ExecutionSucceeded"
    assert json.loads(events[-1]["executionSucceededEventDetails"]["output"]) == result["output"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in events if e["type"] == "TaskStateEntered"]
    first = {}
    for i, n in enumerate(entered):
        first.setdefault(n, i)
    assert sorted(first, key=first.get) == ["CreateSnapshot", "CheckSnapshot", "ExportSnapshot", "CheckExport",
                                            "VerifyShard", "WriteManifest", "DeleteSnapshot"], entered
    assert [e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")][:3] \
        == ["PrepareRun", "CreateSnapshot", "WaitForSnapshot"]
    assert any(e["type"] == "MapStateEntered" and e["stateEnteredEventDetails"]["name"] == "VerifyExport" for e in events)

    # Each Lambda Task: entered, its function scheduled, started and succeeded, exited — in that order.
    for i, e in enumerate(events):
        if e["type"] != "TaskStateEntered":
            continue
        name = e["stateEnteredEventDetails"]["name"]
        following = [x["type"] for x in events[i + 1:i + 6]]
        assert following[:3] == ["LambdaFunctionScheduled", "LambdaFunctionStarted", "LambdaFunctionSucceeded"], \
            (name, following)
        scheduled = events[i + 1]["lambdaFunctionScheduledEventDetails"]
        function = {"VerifyShard": "verify-export", "WriteManifest": "verify-export"}.get(
            name, "-".join(w.lower() for w in re.findall(r"[A-Z][a-z]*", name)))
        assert scheduled["resource"] == lambda_arn(function), (name, scheduled)
        assert json.loads(scheduled["input"]) is not None
    assert result["executionArn"] in [e["executionArn"] for e in sfn.list_executions(
        stateMachineArn=machine_arn("backup"), statusFilter="SUCCEEDED")["executions"]]


def test_notify_alerts_with_the_failed_step_and_cause_it_reads_from_the_endpoints_history(stack, ec, bucket):
    """A backup whose export ElastiCache refuses (AccessDenied on CopySnapshot), started through the endpoint: notify
    reads the execution's history through AWS_ENDPOINT_URL_SFN, and its page names the failed step, the handler's own
    message (LambdaFunctionFailed's cause) and the snapshot from the step's input — which the execution's status
    event alone does not carry."""
    sfn = client(stack.sfn_endpoint)
    execution_input = {"replicationGroupId": "carts", "bucket": bucket}
    before = {s["SnapshotName"] for s in ec.describe_snapshots()["Snapshots"]}
    stack.inject({"kind": "error", "action": "CopySnapshot", "code": "AccessDenied", "times": 1, "status": 403,
                  "afterEffect": False})
    result = stack.run_api_execution(execution_input)
    stack.clear_faults()
    assert (result["status"], result["error"]) == ("FAILED", "ExportRejected"), result
    assert result["cause"].startswith("ExportSnapshot failed for snapshot "), result["cause"]

    events = history(sfn, result["executionArn"], reverseOrder=True)
    failed = next(e["lambdaFunctionFailedEventDetails"] for e in events if e["type"] == "LambdaFunctionFailed")
    assert failed["error"] == "ExportRejected"
    handler_message = json.loads(failed["cause"])["errorMessage"]
    snapshot = next(json.loads(e["stateEnteredEventDetails"]["input"])["snapshotName"] for e in events
                    if e["type"] == "TaskStateEntered" and e["stateEnteredEventDetails"]["name"] == "ExportSnapshot")

    [page] = [p["body"] for p in stack.notify(result, execution_input) if p["path"].startswith("/v2/enqueue")]
    details = page["payload"]["custom_details"]
    assert page["event_action"] == "trigger" and page["payload"]["class"] == "ExportRejected"
    assert details["step"] == "ExportSnapshot"
    assert details["cause"] == handler_message, (details["cause"], handler_message)
    assert details["snapshot_name"] == snapshot
    assert details["execution_arn"] == result["executionArn"]

    # The same event for an execution the endpoint does not know: notify alerts from the event alone, with the
    # execution's cause — so the page above came from the history.
    unknown = {**result, "executionArn": result["executionArn"] + "-unknown", "name": result["name"] + "-unknown"}
    [alone] = [p["body"] for p in stack.notify(unknown, execution_input) if p["path"].startswith("/v2/enqueue")]
    assert alone["payload"]["custom_details"]["cause"] == result["cause"] != handler_message

    for name in {s["SnapshotName"] for s in ec.describe_snapshots()["Snapshots"]} - before:
        deadline = time.monotonic() + 60
        while ec.describe_snapshots(SnapshotName=name)["Snapshots"][0]["SnapshotStatus"] not in ("available", "failed"):
            assert time.monotonic() < deadline
            time.sleep(0.3)
        ec.delete_snapshot(SnapshotName=name)
