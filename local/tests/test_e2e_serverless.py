"""End to end, ElastiCache Serverless: the real backup state machine (terraform/backup.asl.json), the real handlers,
the emulator's serverless caches (`sls-one`: one redis-server; `sls-three`: a Redis Cluster of three primaries;
`sls-memo`: Memcached) and moto for S3.

A serverless backup takes the same states as a node-based one, with the serverless API (CreateServerlessCacheSnapshot,
DescribeServerlessCacheSnapshots, ExportServerlessCacheSnapshot, DeleteServerlessCacheSnapshot). Every test ends with
the deletion invariant: no snapshot was deleted unless every object of its export was in S3 at that moment."""

import json
import uuid
from pathlib import Path

import pytest
import redis
from botocore.exceptions import ClientError
from redis.cluster import ClusterNode, RedisCluster
from stack import ROOT, Stack


def journal(stack, event, **match):
    return [e for e in stack.emulator_state()["journal"]
            if e["event"] == event and all(e.get(k) == v for k, v in match.items())]


def creates(stack):
    return len(journal(stack, "CreateServerlessCacheSnapshot"))


def serverless_snapshot_exists(ec, name):
    try:
        ec.describe_serverless_cache_snapshots(ServerlessCacheSnapshotName=name)
        return True
    except ClientError as e:
        assert e.response["Error"]["Code"] == "ServerlessCacheSnapshotNotFoundFault"
        return False


def objects(s3, bucket, prefix=""):
    return {o["Key"]: o["Size"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])}


def manifest_of(s3, bucket, out):
    return json.loads(s3.get_object(Bucket=bucket, Key=out["verification"]["manifestKey"])["Body"].read())


@pytest.fixture(autouse=True)
def invariant(stack):
    yield
    stack.assert_no_unsafe_deletion()


def test_a_serverless_cache_is_backed_up_verified_and_its_snapshot_deleted(stack, ec, s3, bucket):
    (port,) = stack.serverless_ports("sls-one")
    r = redis.Redis(port=port)
    tag = uuid.uuid4().hex[:6]
    pipe = r.pipeline(transaction=False)
    for i in range(400):
        pipe.set(f"sl:{tag}:{i}", f"v{i}")
    pipe.hset(f"sl:{tag}:hash", mapping={"a": "1"})
    pipe.execute()
    keys = r.dbsize()

    result = stack.run_execution({"serverlessCacheName": "SLS-One", "bucket": bucket})

    assert result["status"] == "SUCCEEDED", result
    out = result["output"]
    assert out["request"]["target"] == {"serverlessCacheName": "sls-one"}
    assert out["source"]["serverlessCacheName"] == "sls-one"
    assert out["source"]["clusterMode"] == "enabled"
    assert "replicationGroupId" not in out["source"] and "cacheClusterId" not in out["source"]
    # One redis-server: one object, and the shard count learnt from it.
    assert out["source"]["shardCount"] == 1
    name = out["snapshotName"]
    assert name.startswith("ecb-sls-one-")
    assert len(journal(stack, "CreateServerlessCacheSnapshot", snapshotName=name)) == 1
    found = objects(s3, bucket, prefix=name)
    assert sorted(found) == [f"{name}-0001.rdb", f"{name}.manifest.json"]
    manifest = manifest_of(s3, bucket, out)
    # Keys equal to the source's, read back from the exported RDB.
    assert manifest["totals"]["keys"] == keys
    assert manifest["source"]["serverlessCacheName"] == "sls-one"
    assert out["cleanup"]["sourceSnapshot"] == "deleted"
    assert not serverless_snapshot_exists(ec, name)
    (deletion,) = [d for d in stack.deletions() if d.get("snapshotName") == name]
    assert all(o["present"] for o in deletion["exportObjects"]), deletion
    ran = [s["state"] for s in result["states"] if s["type"] != "Retry"]
    assert ran[:2] == ["PrepareRun", "CreateSnapshot"] and ran[-2:] == ["DeleteSnapshot", "BackupSucceeded"], ran


def test_a_three_shard_serverless_cache_gives_three_verified_objects(stack, ec, s3, bucket):
    ports = stack.serverless_ports("sls-three")
    rc = RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", p) for p in ports])
    tag = uuid.uuid4().hex[:6]
    for i in range(300):
        rc.set(f"cart:{tag}:{i}", f"item-{i}")
    rc.close()
    per_shard = [redis.Redis(port=p).dbsize() for p in ports]

    result = stack.run_execution({"serverlessCacheName": "sls-three", "bucket": bucket})

    assert result["status"] == "SUCCEEDED", result
    out = result["output"]
    assert out["source"]["shardCount"] == 3
    assert len(out["export"]["objects"]) == 3
    assert out["verification"]["keys"] == sum(per_shard)
    assert sorted(o["keys"] for o in out["verification"]["objects"]) == sorted(per_shard)
    # Each object's slots are proven from its keys: together they hold every key once.
    manifest = manifest_of(s3, bucket, out)
    assert len(manifest["objects"]) == 3
    assert not serverless_snapshot_exists(ec, out["snapshotName"])


def test_the_same_serverless_execution_started_twice_makes_one_snapshot(stack, s3, bucket):
    name = f"dup-{uuid.uuid4().hex[:8]}"
    procs = [stack.start_execution({"serverlessCacheName": "sls-one", "bucket": bucket}, name=name) for _ in range(2)]
    results = [stack.finish(p) for p in procs]

    assert [r["status"] for r in results] == ["SUCCEEDED"] * 2, [(r["error"], r["cause"]) for r in results]
    (snapshot_name,) = {r["output"]["snapshotName"] for r in results}
    assert len(journal(stack, "CreateServerlessCacheSnapshot", snapshotName=snapshot_name)) == 1
    rdbs = [k for k in objects(s3, bucket, prefix=snapshot_name) if k.endswith(".rdb")]
    assert rdbs == [f"{snapshot_name}-0001.rdb"]
    assert sorted(r["output"]["cleanup"]["sourceSnapshot"] for r in results) == ["already-deleted", "deleted"]


def test_a_busy_serverless_cache_is_retried_then_backed_up(stack, s3, bucket):
    stack.inject({"kind": "error", "action": "CreateServerlessCacheSnapshot", "code": "InvalidServerlessCacheStateFault",
                  "message": "Serverless cache is not in available state.", "times": 2})
    result = stack.run_execution({"serverlessCacheName": "sls-one", "bucket": bucket}, retry_ms=200)

    assert result["status"] == "SUCCEEDED", result
    retries = [s for s in result["states"] if s["type"] == "Retry" and s["state"] == "CreateSnapshot"]
    assert len(retries) == 2 and all(r["errorEquals"] == ["ClusterBusy"] for r in retries), retries


def test_the_serverless_snapshot_quota_is_named_and_nothing_is_deleted(stack, bucket):
    stack.inject({"kind": "error", "action": "CreateServerlessCacheSnapshot",
                  "code": "ServerlessCacheSnapshotQuotaExceededFault",
                  "message": "You have exceeded the number of snapshots allowed per serverless cache per day.",
                  "times": 1})
    result = stack.run_execution({"serverlessCacheName": "sls-one", "bucket": bucket})

    assert result["status"] == "FAILED"
    assert result["error"] == "SnapshotQuotaExceeded"
    assert "ServerlessCacheSnapshotQuotaExceededFault" in result["cause"]


def test_a_failed_serverless_snapshot_fails_the_run_and_is_kept(stack, ec, bucket):
    stack.inject({"kind": "failSnapshot", "target": "sls-one"})
    result = stack.run_execution({"serverlessCacheName": "sls-one", "bucket": bucket})
    assert result["status"] == "FAILED"
    assert result["error"] == "SnapshotFailed", result
    name = result["cause"].split()[4].rstrip(":")
    assert name.startswith("ecb-sls-one-"), result["cause"]
    assert ec.describe_serverless_cache_snapshots(ServerlessCacheSnapshotName=name)[
        "ServerlessCacheSnapshots"][0]["Status"] == "failed"
    ec.delete_serverless_cache_snapshot(ServerlessCacheSnapshotName=name)  # tidy up (not the pipeline's doing)


def test_an_export_elasticache_reports_failed_ends_the_run_at_once_and_keeps_the_snapshot(stack, ec, bucket):
    stack.inject({"kind": "failExport", "target": "sls-one",
                  "reason": "ElastiCache has not been granted WRITE permissions"})
    result = stack.run_execution({"serverlessCacheName": "sls-one", "bucket": bucket})
    assert result["status"] == "FAILED"
    # Seen in the snapshot's events, not at the export deadline (an hour).
    assert result["error"] == "ExportRejected", result
    assert "WRITE permissions" in result["cause"]
    name = result["cause"].split()[4].rstrip(":")
    assert serverless_snapshot_exists(ec, name)
    assert journal(stack, "DeleteServerlessCacheSnapshot", snapshotName=name) == []
    ec.delete_serverless_cache_snapshot(ServerlessCacheSnapshotName=name)


def test_a_damaged_serverless_export_fails_verification_and_keeps_the_snapshot(stack, ec, s3, bucket):
    stack.inject({"kind": "corruptExport"})
    result = stack.run_execution({"serverlessCacheName": "sls-one", "bucket": bucket})
    assert result["status"] == "FAILED", result
    assert result["error"] == "ExportCorrupt"
    name = result["cause"].split()[4].rstrip(":")
    assert serverless_snapshot_exists(ec, name)
    assert f"{name}.manifest.json" not in objects(s3, bucket)
    ec.delete_serverless_cache_snapshot(ServerlessCacheSnapshotName=name)


@pytest.mark.parametrize(("execution_input", "error", "says"), [
    ({"serverlessCacheName": "-sessions"}, "InvalidInput", "serverlessCacheName"),
    ({"serverlessCacheName": "a" * 41}, "InvalidInput", "1-40 characters"),
    ({"serverlessCacheName": "sls-one", "replicationGroupId": "orders"}, "InvalidInput", "give exactly one"),
    ({"serverlessCacheName": "sls-memo"}, "NotSupported", "Memcached"),
    ({"serverlessCacheName": "no-such-cache"}, "TargetNotFound", "no-such-cache"),
])
def test_bad_serverless_targets_are_refused_before_any_snapshot(stack, execution_input, error, says):
    before = creates(stack)
    result = stack.run_execution(execution_input)
    assert result["status"] == "FAILED"
    assert result["error"] == error, result
    assert says in result["cause"], result["cause"]
    assert creates(stack) == before


@pytest.mark.parametrize("template", ["{snapshot}.rdb", "{snapshot}/part-{shard}.rdb"])
def test_an_export_whose_objects_are_named_otherwise_is_found_and_verified(template, tmp_path):
    """ExportServerlessCacheSnapshot's object names are undocumented: the backup finds and verifies the export
    whichever of the shapes it accepts the emulator writes (`<name>.rdb`, `<name>/….rdb`)."""
    topology = tmp_path / "one.toml"
    topology.write_text('[[serverless_cache]]\nid = "named"\n')
    with Stack(Path(topology), snapshot_min_seconds=0.3, export_delay_seconds=0.2,
               default_bucket="named-backups", serverless_export_key=template, log=lambda *a: None) as other:
        other.create_backup_bucket("named-backups")
        (port,) = other.serverless_ports("named")
        redis.Redis(port=port).mset({f"n:{i}": i for i in range(50)})
        result = other.run_execution({"serverlessCacheName": "named"})
        assert result["status"] == "SUCCEEDED", (result["error"], result["cause"])
        out = result["output"]
        name = out["snapshotName"]
        expected = template.format(snapshot=name, shard="0001")
        assert [o["key"] for o in out["export"]["objects"]] == [expected]
        assert out["verification"]["keys"] == 50
        assert out["cleanup"]["sourceSnapshot"] == "deleted"
        other.assert_no_unsafe_deletion()


def test_the_topology_of_this_file_is_the_shared_one():
    # The shared stack's caches this file relies on (a guard against a topology edit breaking it silently).
    text = (ROOT / "local" / "topologies" / "test.toml").read_text()
    for cache in ("sls-one", "sls-three", "sls-memo"):
        assert f'id = "{cache}"' in text
