"""End to end: the real state machine (terraform/backup.asl.json) run by aws-local-stepfunctions, the real Rust
handlers served by cargo lambda watch, the ElastiCache emulator on real redis-server nodes, moto for S3.

Every test ends by checking the invariant: no source snapshot was deleted unless all of its shard objects were in
S3 at that moment (the emulator checks S3 when DeleteSnapshot is called and journals it)."""

import json
import uuid

import pytest
import redis
from botocore.exceptions import ClientError
from redis.cluster import ClusterNode, RedisCluster


def journal(stack, event, **match):
    return [e for e in stack.emulator_state()["journal"]
            if e["event"] == event and all(e.get(k) == v for k, v in match.items())]


def snapshot_exists(ec, name):
    try:
        ec.describe_snapshots(SnapshotName=name)
        return True
    except ClientError as e:
        assert e.response["Error"]["Code"] == "SnapshotNotFoundFault"
        return False


def objects(s3, bucket, prefix=""):
    return {o["Key"]: o["Size"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])}


def states_of(result):
    return [s["state"] for s in result["states"] if s["type"] != "Retry"]


def load_keys(port, n=500, prefix="k"):
    r = redis.Redis(port=port)
    pipe = r.pipeline(transaction=False)
    for i in range(n):
        pipe.set(f"{prefix}:{i}", f"value-{i}")
    pipe.hset(f"{prefix}:hash", mapping={"a": "1", "b": "2"})
    pipe.execute()


@pytest.fixture(autouse=True)
def invariant(stack):
    yield
    stack.assert_no_unsafe_deletion()


def test_a_cluster_mode_disabled_group_is_backed_up_from_its_replica(stack, ec, s3, bucket):
    load_keys(stack.primary_port("orders"))
    result = stack.run_execution({"replicationGroupId": "orders", "bucket": bucket})

    assert result["status"] == "SUCCEEDED", result
    out = result["output"]
    assert out["source"]["cacheClusterId"] == "orders-002"
    assert out["source"]["role"] == "replica"
    creates = journal(stack, "CreateSnapshot", snapshotName=out["snapshotName"])
    assert [c["nodes"] for c in creates] == [["orders-002"]]
    found = objects(s3, bucket)
    assert sorted(found) == [f"{out['exportName']}-0001.rdb", f"{out['exportName']}.manifest.json"]
    assert all(size > 0 for size in found.values())
    del found[f"{out['exportName']}.manifest.json"]
    # The manifest records what the backup holds: the primary's keys, read back from the exported RDB.
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=out["verification"]["manifestKey"])["Body"].read())
    assert manifest["totals"]["keys"] == redis.Redis(port=stack.primary_port("orders")).dbsize()
    assert manifest["objects"][0]["rdb"]["version"] == 10
    assert manifest["source"]["cacheClusterId"] == "orders-002"
    assert out["export"]["objects"] == [{"key": k, "sizeBytes": v} for k, v in found.items()]
    assert out["cleanup"]["sourceSnapshot"] == "deleted"
    assert not snapshot_exists(ec, out["snapshotName"])
    # The handler's DeleteSnapshot is in the journal, with the export checked at that moment (so the invariant
    # below has something to check).
    (deletion,) = [d for d in stack.deletions() if d["snapshotName"] == out["snapshotName"]]
    assert deletion["exportObjects"] == [{"bucket": bucket, "key": f"{out['exportName']}-0001.rdb", "present": True}]
    assert states_of(result)[:2] == ["PrepareRun", "CreateSnapshot"]
    assert states_of(result)[-2:] == ["DeleteSnapshot", "BackupSucceeded"]


def test_b_cluster_mode_enabled_with_three_shards_gives_three_objects(stack, ec, s3, bucket):
    nodes = stack.nodes("sessions")
    rc = RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", n["port"]) for n in nodes if n["role"] == "primary"])
    for i in range(300):
        rc.set(f"session:{i}", f"user-{i}")
    rc.close()
    per_shard = [redis.Redis(port=n["port"]).dbsize() for n in nodes if n["role"] == "primary"]
    assert sum(per_shard) == 300

    result = stack.run_execution({"replicationGroupId": "sessions", "bucket": bucket})

    assert result["status"] == "SUCCEEDED", result
    out = result["output"]
    assert out["source"]["clusterMode"] == "enabled"
    assert out["source"]["shardCount"] == 3
    found = objects(s3, bucket, prefix=f"{out['exportName']}-")
    assert sorted(found) == [f"{out['exportName']}-{i:04}.rdb" for i in (1, 2, 3)]
    assert out["verification"]["keys"] == 300
    assert [o["keys"] for o in out["verification"]["objects"]] == [rc_keys for rc_keys in per_shard]
    assert all(size > 0 for size in found.values())
    assert len(out["export"]["objects"]) == 3
    assert not snapshot_exists(ec, out["snapshotName"])

    # Verified by three parallel invocations (the VerifyExport Map state), then one WriteManifest.
    ran = [st["state"] for st in result["states"] if st["type"] != "Retry"]
    assert ran.count("VerifyShard") == 3 and ran.count("WriteManifest") == 1, ran
    assert "verifiedObjects" not in out
    # The same manifest as one invocation verifying the whole export from the document VerifyExport was given.
    key = out["verification"]["manifestKey"]
    split = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    doc = {k: v for k, v in out.items() if k not in ("verification", "cleanup")}
    doc["timings"] = {k: v for k, v in out["timings"].items() if k not in ("VerifyExport", "DeleteSnapshot")}
    once = stack._invoke("verify-export", doc)
    assert once.get("verification", {}).get("manifestKey") == key, once
    whole = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    for m in (split, whole):
        m.pop("verifiedAt")
    assert split == whole


def test_c_busy_cluster_at_start_is_retried_then_succeeds(stack, s3, bucket):
    # The group reads `modifying` for its next two status checks, whenever they come.
    stack.inject({"kind": "busy", "target": "carts", "reads": 2})
    result = stack.run_execution({"replicationGroupId": "carts", "bucket": bucket}, retry_ms=200)

    assert result["status"] == "SUCCEEDED", result
    retries = [s for s in result["states"] if s["type"] == "Retry" and s["state"] == "CreateSnapshot"]
    assert len(retries) == 2 and all(r["errorEquals"] == ["ClusterBusy"] for r in retries), retries
    assert len(objects(s3, bucket, prefix=result["output"]["exportName"] + "-")) == 1


def test_c_busy_answer_from_create_snapshot_itself_is_retried(stack, s3, bucket):
    stack.inject({"kind": "error", "action": "CreateSnapshot", "code": "InvalidReplicationGroupState",
                  "message": "Cluster not in available state to perform this operation.", "times": 2})
    stack.inject({"kind": "error", "action": "DescribeSnapshots", "code": "Throttling", "message": "Rate exceeded",
                  "times": 1})
    result = stack.run_execution({"replicationGroupId": "carts", "bucket": bucket}, retry_ms=200)

    assert result["status"] == "SUCCEEDED", result
    retries = [s for s in result["states"] if s["type"] == "Retry" and s["state"] == "CreateSnapshot"]
    assert len(retries) == 2
    assert len(objects(s3, bucket, prefix=result["output"]["exportName"] + "-")) == 1


def test_d_missing_export_bucket_is_refused_before_any_snapshot(stack, ec):
    before = len(journal(stack, "CreateSnapshot"))
    result = stack.run_execution({"replicationGroupId": "carts", "bucket": f"missing-{uuid.uuid4().hex[:10]}"})

    assert result["status"] == "FAILED"
    assert result["error"] == "InvalidInput"
    assert "does not exist" in result["cause"]
    assert result["cause"].startswith("CreateSnapshot failed for execution ")
    assert len(journal(stack, "CreateSnapshot")) == before, "no snapshot may be taken for a bucket that cannot hold it"


def test_d_a_bucket_elasticache_may_not_write_is_refused_before_any_snapshot(stack, s3):
    name = f"nopolicy-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=name)  # no bucket policy for ElastiCache
    before = len(journal(stack, "CreateSnapshot"))
    result = stack.run_execution({"replicationGroupId": "carts", "bucket": name})

    assert result["status"] == "FAILED"
    assert result["error"] == "ExportRejected"
    assert "us-east-1.elasticache-snapshot.amazonaws.com" in result["cause"]
    assert len(journal(stack, "CreateSnapshot")) == before


def test_e_the_same_execution_started_twice_makes_one_snapshot(stack, s3, bucket):
    name = f"dup-{uuid.uuid4().hex[:8]}"
    # Three starts of one execution at once (a double click and a retried delivery, say).
    procs = [stack.start_execution({"replicationGroupId": "carts", "bucket": bucket}, name=name) for _ in range(3)]
    results = [stack.finish(p) for p in procs]

    assert [r["status"] for r in results] == ["SUCCEEDED"] * 3, [(r["error"], r["cause"]) for r in results]
    snapshot_names = {r["output"]["snapshotName"] for r in results}
    assert len(snapshot_names) == 1
    (snapshot_name,) = snapshot_names
    assert len(journal(stack, "CreateSnapshot", snapshotName=snapshot_name)) == 1
    assert list(objects(s3, bucket, prefix=f"{snapshot_name}-")) == [f"{snapshot_name}-0001.rdb"]
    assert sorted(r["output"]["cleanup"]["sourceSnapshot"] for r in results) == [
        "already-deleted", "already-deleted", "deleted"]


def test_a_damaged_export_fails_verification_and_keeps_the_snapshot(stack, ec, s3, bucket):
    stack.inject({"kind": "corruptExport"})
    result = stack.run_execution({"replicationGroupId": "carts", "bucket": bucket})

    assert result["status"] == "FAILED", result
    assert result["error"] == "ExportCorrupt"
    assert result["cause"].startswith("VerifyExport failed for snapshot ecb-carts-")
    name = result["cause"].split()[4].rstrip(":")
    assert f"{name}-0001.rdb" in result["cause"]
    assert ec.describe_snapshots(SnapshotName=name)["Snapshots"][0]["SnapshotStatus"] == "available"
    assert journal(stack, "DeleteSnapshot", snapshotName=name) == []
    assert f"{name}.manifest.json" not in objects(s3, bucket)
    ec.delete_snapshot(SnapshotName=name)  # tidy up (not the pipeline's doing)


def test_invalid_input_fails_before_anything_is_created(stack):
    before = len(journal(stack, "CreateSnapshot"))
    result = stack.run_execution({"replicationGroupID": "carts"})
    assert result["status"] == "FAILED"
    assert result["error"] == "InvalidInput"
    assert "replicationGroupID" in result["cause"]
    assert len(journal(stack, "CreateSnapshot")) == before


@pytest.mark.parametrize("execution_input", [{"cacheClusterId": "memo"}, {"replicationGroupId": "tiered"}])
def test_unsupported_targets_are_refused_before_any_snapshot(stack, execution_input):
    before = len(journal(stack, "CreateSnapshot"))
    result = stack.run_execution(execution_input)
    assert result["status"] == "FAILED"
    assert result["error"] == "NotSupported"
    assert len(journal(stack, "CreateSnapshot")) == before


def test_a_failed_snapshot_fails_the_run_and_is_not_deleted(stack, ec):
    stack.inject({"kind": "failSnapshot", "target": "solo"})
    result = stack.run_execution({"cacheClusterId": "solo"})
    assert result["status"] == "FAILED"
    assert result["error"] == "SnapshotFailed"
    name = result["cause"].split()[4].rstrip(":")
    assert ec.describe_snapshots(SnapshotName=name)["Snapshots"][0]["SnapshotStatus"] == "failed"
    ec.delete_snapshot(SnapshotName=name)


def test_a_standalone_cluster_uses_the_default_bucket_and_warns(stack, s3):
    result = stack.run_execution({"cacheClusterId": "solo", "keepSourceSnapshot": True})
    assert result["status"] == "SUCCEEDED", result
    out = result["output"]
    assert out["request"]["bucket"] == "acme-cache-backups"
    assert out["cleanup"]["sourceSnapshot"] == "kept"
    assert any("no replica" in w for w in out["warnings"])
    assert f"{out['exportName']}-0001.rdb" in objects(s3, "acme-cache-backups")
    stack.client("elasticache").delete_snapshot(SnapshotName=out["snapshotName"])
