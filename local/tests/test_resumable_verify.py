"""Resumable verification (issue 27) through the real state machine: `verifyBudgetSeconds` reaches every VerifyShard
item, each VerifyShard is followed by the VerifyExport Map's IsShardVerified Choice, and the manifest is the one a
single invocation writes (compared with VerifyShard run once, with the whole budget, on the same object).

Whether a VerifyShard pauses depends on the time it takes: moto reads these objects within the smallest budget (1 s),
so the loop's turns are proven here by the handler's tests (a zero budget: one opcode per invocation) and, through
this state machine, by the 5 GB case on the fast local S3 (test_large_shard.py)."""

import hashlib
import json

import pytest
import redis
from redis.cluster import ClusterNode, RedisCluster


def fill(r, n: int, prefix: str, value_bytes: int = 200) -> None:
    pipe = r.pipeline(transaction=False)
    for i in range(n):
        pipe.set(f"{prefix}:{i}", f"{i:08d}".ljust(value_bytes, "v"))
        if i % 5000 == 4999:
            pipe.execute()
    pipe.execute()


@pytest.fixture(autouse=True)
def invariant(stack):
    yield
    stack.assert_no_unsafe_deletion()


def entered(result, state):
    return [s for s in result["states"] if s["state"] == state and s["type"] != "Retry"]


def one_pass(stack, bucket, export_name, key, size):
    """VerifyShard on one object with the whole budget it may have: what a single invocation finds."""
    out = stack._invoke("verify-export", {"bucket": bucket, "exportName": export_name,
                                          "object": {"key": key, "sizeBytes": size}, "verifyBudgetSeconds": 840})
    assert "checkpoint" not in out, out
    return out["object"]


def same_as_one_pass(entry, once):
    """The manifest's entry for an object records what VerifyShard found (key, size, SHA-256, what the RDB holds),
    and the shard it belongs to besides."""
    assert set(once) == {"key", "sizeBytes", "sha256", "rdb"}, once
    assert {k: entry[k] for k in once} == once


def test_a_shard_verified_in_many_budgets_gives_the_manifest_of_one_pass(stack, s3, bucket):
    primary = redis.Redis(port=stack.primary_port("orders"))
    primary.flushall()
    fill(primary, 40_000, "big")
    result = stack.run_execution({"replicationGroupId": "orders", "bucket": bucket, "verifyBudgetSeconds": 1})
    assert result["status"] == "SUCCEEDED", result
    out = result["output"]
    assert out["request"]["verifyBudgetSeconds"] == 1
    shards = entered(result, "VerifyShard")
    loops = entered(result, "IsShardVerified")
    assert shards and len(loops) == len(shards), [s["state"] for s in result["states"]]

    manifest = json.loads(s3.get_object(Bucket=bucket, Key=out["verification"]["manifestKey"])["Body"].read())
    (entry,) = manifest["objects"]
    body = s3.get_object(Bucket=bucket, Key=entry["key"])["Body"].read()
    assert entry["sha256"] == hashlib.sha256(body).hexdigest()
    assert entry["sizeBytes"] == len(body)
    assert entry["rdb"]["keys"] == primary.dbsize() == 40_000
    # Byte for byte what one invocation without a budget records.
    same_as_one_pass(entry, one_pass(stack, bucket, out["exportName"], entry["key"], len(body)))


def test_every_shard_of_a_cluster_loops_on_its_own_checkpoints(stack, s3, bucket):
    nodes = stack.nodes("sessions")
    primaries = [n for n in nodes if n["role"] == "primary"]
    rc = RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", n["port"]) for n in primaries])
    rc.flushall()
    pipe = rc.pipeline()
    for i in range(30_000):
        pipe.set(f"s:{i}", "x" * 200)
    pipe.execute()
    result = stack.run_execution({"replicationGroupId": "sessions", "bucket": bucket, "verifyBudgetSeconds": 1})
    assert result["status"] == "SUCCEEDED", result
    out = result["output"]
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=out["verification"]["manifestKey"])["Body"].read())
    assert len(manifest["objects"]) == 3
    assert manifest["totals"]["keys"] == 30_000
    assert len(entered(result, "VerifyShard")) >= 3
    assert len(entered(result, "IsShardVerified")) == len(entered(result, "VerifyShard"))
    for entry in manifest["objects"]:
        same_as_one_pass(entry, one_pass(stack, bucket, out["exportName"], entry["key"], entry["sizeBytes"]))


def test_a_budget_outside_its_range_is_refused_before_any_snapshot(stack, bucket):
    before = len(stack.emulator_state()["journal"])
    for budget in (0, 841, "60"):
        result = stack.run_execution({"replicationGroupId": "orders", "bucket": bucket,
                                      "verifyBudgetSeconds": budget})
        assert result["status"] == "FAILED", result
        assert result["error"] == "InvalidInput", result
        assert "verifyBudgetSeconds" in result["cause"] and "from 1 to 840" in result["cause"], result
    assert not [e for e in stack.emulator_state()["journal"][before:] if e["event"] == "CreateSnapshot"]
