"""The fault matrix (issue 11): each scenario injects a fault into the local stack, runs the real state machine, and
ends in the deletion invariant (no source snapshot deleted unless its whole export was in S3) and in an assertion
about the alert: the execution's final status event is fed through notify's real code, whose PagerDuty body must
trigger (with the error as its class) or resolve, always under the target's one incident key."""

from __future__ import annotations

import time
import uuid

import pytest

DEDUP = "elasticache-backup/us-east-1/{}"


def err(action, code, times=1, status=None, after=False):
    fault = {"kind": "error", "action": action, "code": code, "times": times, "afterEffect": after}
    if status:
        fault["status"] = status
    return fault


# (scenario, faults, input overrides, expected status, expected error)
OK, FAILED = "SUCCEEDED", "FAILED"
MATRIX = [
    # Throttling bursts: the SDK's own retries, then the state machine's Throttled retry.
    *[(f"throttling burst on {a}", [err(a, "Throttling", 4)], {}, OK, None)
      for a in ["DescribeReplicationGroups", "DescribeCacheClusters", "CreateSnapshot", "DescribeSnapshots",
                "CopySnapshot", "DeleteSnapshot"]],
    # 5xx past the SDK's 3 attempts: AwsError, retried by every Task.
    *[(f"5xx on {a}", [err(a, "InternalFailure", 4, status=500)], {}, OK, None)
      for a in ["DescribeReplicationGroups", "DescribeCacheClusters", "CreateSnapshot", "DescribeSnapshots",
                "CopySnapshot", "DeleteSnapshot"]],
    ("503 ServiceUnavailable on CreateSnapshot", [err("CreateSnapshot", "ServiceUnavailable", 3, status=503)], {}, OK,
     None),
    # A call that takes effect but answers an error: the retry finds what the first call did.
    *[(f"{a} takes effect, answers 500", [err(a, "InternalFailure", 4, status=500, after=True)], {}, OK, None)
      for a in ["CreateSnapshot", "CopySnapshot", "DeleteSnapshot"]],
    # Persistent failures end the run, with the error named and the snapshot (if any) kept.
    ("persistent 5xx on CreateSnapshot", [err("CreateSnapshot", "InternalFailure", 200, status=500)], {}, FAILED,
     "AwsError"),
    ("persistent 5xx on DescribeSnapshots", [err("DescribeSnapshots", "InternalFailure", 400, status=500)], {}, FAILED,
     "AwsError"),
    ("persistent throttling on CreateSnapshot", [err("CreateSnapshot", "Throttling", 400)], {}, FAILED, "Throttled"),
    ("AccessDenied on CopySnapshot", [err("CopySnapshot", "AccessDenied", 1, status=403)], {}, FAILED,
     "ExportRejected"),
    ("AccessDenied on DeleteSnapshot", [err("DeleteSnapshot", "AccessDenied", 1, status=403)], {}, FAILED,
     "AwsRejected"),
    ("quota exceeded", [err("CreateSnapshot", "SnapshotQuotaExceededFault")], {}, FAILED, "SnapshotQuotaExceeded"),
    ("InvalidSnapshotState on copy, then clears", [err("CopySnapshot", "InvalidSnapshotState", 2)], {}, OK, None),
    ("InvalidSnapshotState on delete, then clears", [err("DeleteSnapshot", "InvalidSnapshotState", 2)], {}, OK, None),
    ("InvalidReplicationGroupState at create, then clears",
     [err("CreateSnapshot", "InvalidReplicationGroupState", 2)], {}, OK, None),
    ("busy group for 3 reads", [{"kind": "busy", "target": "{group}", "reads": 3}], {}, OK, None),
    ("snapshot ends failed", [{"kind": "failSnapshot", "target": "{group}"}], {}, FAILED, "SnapshotFailed"),
    ("damaged export", [{"kind": "corruptExport"}], {}, FAILED, "ExportCorrupt"),
    # Deadlines (60 s is the shortest an input may ask for).
    ("export never lands by its deadline", [{"kind": "slowExport", "delaySeconds": 70}],
     {"exportTimeoutSeconds": 60}, FAILED, "ExportTimeout"),
    ("snapshot stuck in creating past its deadline", [{"kind": "slowSnapshot", "seconds": 70}],
     {"snapshotTimeoutSeconds": 60}, FAILED, "SnapshotTimeout"),
    # Damaged shard objects: never a verified backup, never a deleted snapshot.
    # An empty object is not yet a complete export (ElastiCache may still be writing it): CheckExport waits, then
    # the deadline ends the run.
    ("a shard object is empty", [{"kind": "damageExport", "mode": "empty"}], {"exportTimeoutSeconds": 60}, FAILED,
     "ExportTimeout"),
    ("a shard object is truncated", [{"kind": "damageExport", "mode": "truncated"}], {}, FAILED, "ExportCorrupt"),
    ("one of three shard objects is missing", [{"kind": "damageExport", "mode": "missing"}],
     {"replicationGroupId": "sessions", "exportTimeoutSeconds": 60}, FAILED, "ExportTimeout"),
    # Which instance identifier each object gets, and which object holds which node group, is not documented: any
    # `<export>-<id>.rdb`, one per node group, is the export, and each object is mapped by the slots of its keys.
    ("export objects -0001, -0003, -0004 for three shards", [{"kind": "damageExport", "mode": "misnumbered"}],
     {"replicationGroupId": "sessions"}, OK, None),
    ("export objects named in the reverse of NodeGroupId order", [{"kind": "damageExport", "mode": "reversed"}],
     {"replicationGroupId": "sessions"}, OK, None),
    # ElastiCache accepts the export, then reports it failed (an event): the run ends at the next check, not at
    # the export deadline (an hour; with this event unseen the scenario would end in ExportTimeout).
    ("ElastiCache reports the export failed", [{"kind": "failExport", "target": "{group}",
                                                "reason": "ElastiCache has not been granted WRITE permissions"}],
     {}, FAILED, "ExportRejected"),
    # Refused before anything is created.
    ("missing bucket", [], {"bucket": "missing-{uid}"}, FAILED, "InvalidInput"),
    ("unknown input field", [], {"bukket": "x"}, FAILED, "InvalidInput"),
    ("target not found", [], {"replicationGroupId": "nope-{uid}"}, FAILED, "TargetNotFound"),
    ("upper-case target", [], {"replicationGroupId": "CARTS"}, OK, None),
    ("a member node as cacheClusterId", [], {"replicationGroupId": None, "cacheClusterId": "carts-002"}, OK, None),
    ("a deadline past what the execution allows", [], {"snapshotTimeoutSeconds": 604800}, FAILED, "InvalidInput"),
]


def tidy_up(ec, name):
    """Deletes a snapshot a failed run kept, once it is deletable (a slow one may still be creating or copying), so
    that the next scenario finds its group idle. Not the pipeline's doing."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status = ec.describe_snapshots(SnapshotName=name)["Snapshots"][0]["SnapshotStatus"]
        if status in ("available", "failed"):
            ec.delete_snapshot(SnapshotName=name)
            return
        time.sleep(0.5)
    raise AssertionError(f"snapshot {name} never became deletable")


@pytest.fixture(autouse=True)
def _clean(stack):
    stack.clear_faults()
    yield
    stack.clear_faults()


@pytest.mark.parametrize("name,faults,overrides,status,error", MATRIX, ids=[m[0] for m in MATRIX])
def test_fault(stack, ec, bucket, name, faults, overrides, status, error):
    uid = uuid.uuid4().hex[:8]
    group = "carts"
    execution_input = {"replicationGroupId": group, "bucket": bucket}
    for k, v in overrides.items():
        if v is None:
            execution_input.pop(k, None)
        else:
            execution_input[k] = v.format(uid=uid) if isinstance(v, str) else v
    before = {s["SnapshotName"] for s in ec.describe_snapshots()["Snapshots"]}
    for f in faults:
        stack.inject({k: (v.format(group=group) if isinstance(v, str) else v) for k, v in f.items()})

    result = stack.run_execution(execution_input)
    stack.clear_faults()

    # The deletion invariant: nothing deleted without its whole export in S3.
    stack.assert_no_unsafe_deletion()
    if status is not None:
        assert result["status"] == status, (name, result.get("error"), result.get("cause"))
    if result["status"] == "FAILED":
        if error:
            assert result["error"] == error, (name, result["error"], result["cause"])
        # A failed run deletes nothing it made: every snapshot it created is still there.
        made = {s["SnapshotName"] for s in ec.describe_snapshots()["Snapshots"]} - before
        for snap in made:
            tidy_up(ec, snap)

    pages = stack.notify(result, execution_input)
    pd = [p["body"] for p in pages if p["path"].startswith("/v2/enqueue")]
    assert len(pd) == 1, pages
    target = (execution_input.get("replicationGroupId") or group).lower()
    if "cacheClusterId" in execution_input:
        target = "carts"  # a member node pages under its group
    if result["status"] == "SUCCEEDED":
        assert pd[0]["event_action"] == "resolve"
        assert pd[0]["dedup_key"] == DEDUP.format(target)
    else:
        assert pd[0]["event_action"] == "trigger"
        assert pd[0]["payload"]["class"] == result["error"]
        if error in ("InvalidInput", "TargetNotFound") and "replicationGroupId" not in execution_input:
            assert pd[0]["dedup_key"] == DEDUP.format("invalid-input")
        else:
            assert pd[0]["dedup_key"] == DEDUP.format(target), pd[0]
        # The page names the step; a failure after CreateSnapshot names the kept snapshot.
        assert pd[0]["payload"]["custom_details"]["step"], pd[0]


def assert_one_page(stack, result, execution_input, action, target):
    pd = [p["body"] for p in stack.notify(result, execution_input) if p["path"].startswith("/v2/enqueue")]
    assert len(pd) == 1 and pd[0]["event_action"] == action, pd
    assert pd[0]["dedup_key"] == DEDUP.format(target)


def test_a_failover_that_moves_the_replica_during_a_run(stack, ec, bucket):
    """The snapshot was taken of the node that was the replica when the run began; the failover changes nothing."""
    execution_input = {"replicationGroupId": "orders", "bucket": bucket}
    before = len(stack.emulator_state()["journal"])
    proc = stack.start_execution(execution_input)
    deadline = time.monotonic() + 60
    while not any(e["event"] == "CreateSnapshot" for e in stack.emulator_state()["journal"][before:]):
        assert time.monotonic() < deadline, "no CreateSnapshot"
        time.sleep(0.1)
    stack.inject({"kind": "failover", "target": "orders"})
    try:
        result = stack.finish(proc)
    finally:
        stack.inject({"kind": "failover", "target": "orders"})  # back as it was, for the other tests
    stack.assert_no_unsafe_deletion()
    assert result["status"] == "SUCCEEDED", result
    assert_one_page(stack, result, execution_input, "resolve", "orders")


def test_two_executions_on_one_target_both_end_verified_and_delete_only_their_own(stack, ec, bucket):
    execution_input = {"replicationGroupId": "carts", "bucket": bucket}
    procs = [stack.start_execution(execution_input) for _ in range(2)]
    results = [stack.finish(p) for p in procs]
    stack.assert_no_unsafe_deletion()
    assert [r["status"] for r in results] == ["SUCCEEDED", "SUCCEEDED"], [(r.get("error"), r.get("cause")) for r in results]
    names = {r["output"]["snapshotName"] for r in results}
    assert len(names) == 2, "each execution has its own snapshot"
    for r in results:
        assert_one_page(stack, r, execution_input, "resolve", "carts")


def test_an_unavailable_replica_falls_back_to_the_primary_with_a_warning(stack, ec, bucket):
    execution_input = {"replicationGroupId": "carts", "bucket": bucket}
    stack.inject({"kind": "busy", "target": "carts-002", "reads": 5})
    result = stack.run_execution(execution_input)
    stack.assert_no_unsafe_deletion()
    assert result["status"] == "SUCCEEDED", result
    assert result["output"]["source"]["cacheClusterId"] == "carts-001"
    assert any("no available replica" in w for w in result["output"]["warnings"]), result["output"]["warnings"]
    assert_one_page(stack, result, execution_input, "resolve", "carts")
