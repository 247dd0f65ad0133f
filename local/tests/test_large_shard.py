"""Shards of any size (issue 27), at scale, on the fast local S3 (`Stack(s3="fast")`):

- a 5 GB shard object, written by redis-server, verified by VerifyShard invocations of a 5 s budget, each going on from
  the previous one's checkpoint as the VerifyExport Map's loop does: at least five resumptions, and the result byte
  for byte what one invocation finds;
- a 1 GB backup through the whole state machine (snapshot, export, VerifyExport with its loop, manifest, deletion).

Nothing here is timed as a pass/fail condition (the figures are `make bench`'s); the durations are printed for the
note. The redis-server this starts and the stack stop at the end; the files, the objects and the nodes' dumps are
removed (the stack's logs stay, as every stack's do)."""

import hashlib
import json
import shutil
import time

import pytest
import redis
from boto3.s3.transfer import TransferConfig

from rdbfiles import write_rdb
from stack import ROOT, Stack, wait_until

BUCKET = "acme-cache-backups"
# The local functions are debug builds (about 50 MB/s here): 5 s reads about 250 MB, so about 20 invocations, far from
# the 100 a shard may take, and at least 5 on a machine four times as fast.
BUDGET = 5
GB = 1000 ** 3


@pytest.fixture(scope="module")
def fast_stack():
    with Stack(ROOT / "local" / "topologies" / "test.toml", snapshot_min_seconds=0.5, export_delay_seconds=0.3,
               default_bucket=BUCKET, s3="fast") as s:
        s.create_backup_bucket(BUCKET)
        yield s
    # The stack keeps its logs; the GBs of objects and node dumps go (the machine stays as it was).
    for data in ("s3", "elasticache"):
        shutil.rmtree(s.workdir / data, ignore_errors=True)


def verify_shard(stack, request: dict) -> dict:
    out = stack._invoke("verify-export", request)
    assert isinstance(out, dict) and "errorType" not in out, out
    return out


def test_a_5_gb_shard_is_verified_in_resumed_invocations_as_in_one(fast_stack, tmp_path):
    path = write_rdb(tmp_path, strings=5 * GB // 1000, value_bytes=1000, collections=1000, compression=False)
    size = path.stat().st_size
    s3 = fast_stack.client("s3")
    key = "ecb-big-00000000-0001.rdb"
    t0 = time.monotonic()
    s3.upload_file(str(path), BUCKET, key, Config=TransferConfig(multipart_chunksize=256 << 20))
    uploaded = time.monotonic() - t0
    sha256 = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(16 << 20):
            sha256.update(chunk)
    path.unlink()

    request = {"bucket": BUCKET, "exportName": "ecb-big-00000000", "object": {"key": key, "sizeBytes": size},
               "verifyBudgetSeconds": BUDGET}
    pauses, offsets, largest = 0, [], 0
    t0 = time.monotonic()
    while "checkpoint" in (out := verify_shard(fast_stack, request)):
        pauses += 1
        checkpoint = out["checkpoint"]
        offsets.append(checkpoint["offset"])
        # As the function writes it (compact JSON), which is what counts against Step Functions' payload limit.
        size_of = len(json.dumps(checkpoint, separators=(",", ":")))
        largest = max(largest, size_of)
        assert size_of < 4096, checkpoint
        assert checkpoint["invocations"] == pauses
        request = out
        assert pauses < 100
    resumed = time.monotonic() - t0
    assert pauses >= 5, pauses
    assert offsets == sorted(set(offsets)) and offsets[-1] < size

    t0 = time.monotonic()
    once = verify_shard(fast_stack, {"bucket": BUCKET, "exportName": "ecb-big-00000000",
                                     "object": {"key": key, "sizeBytes": size}, "verifyBudgetSeconds": 840})
    single = time.monotonic() - t0
    assert "checkpoint" not in once
    assert out["object"] == once["object"]
    assert once["object"]["sha256"] == sha256.hexdigest()
    assert once["object"]["sizeBytes"] == size
    print(f"\n5 GB shard ({size:,} bytes): upload {uploaded:.1f} s; {pauses + 1} invocations of a {BUDGET} s budget "
          f"in {resumed:.1f} s ({size / resumed / 1e6:.0f} MB/s); one invocation {single:.1f} s "
          f"({size / single / 1e6:.0f} MB/s); largest checkpoint {largest} bytes")
    s3.delete_object(Bucket=BUCKET, Key=key)


# 1,000-byte values written on the primary (and so replicated: DEBUG POPULATE is not), 100,000 keys per call.
FILL = """
local value = string.rep('v', 1000)
for i = tonumber(ARGV[1]), tonumber(ARGV[1]) + 99999 do redis.call('SET', 'k:' .. i, value) end
"""


def test_a_1_gb_backup_goes_through_the_whole_state_machine(fast_stack):
    primary = redis.Redis(port=fast_stack.primary_port("orders"))
    primary.flushall()
    nodes = [redis.Redis(port=node["port"]) for node in fast_stack.nodes("orders")]
    for node in nodes:
        node.config_set("rdbcompression", "no")  # 1,000 equal bytes would compress to nothing
    for base in range(0, 1_000_000, 100_000):
        primary.eval(FILL, 0, base)
    wait_until(lambda: all(n.dbsize() == 1_000_000 for n in nodes), 120, "the replica to catch up")
    t0 = time.monotonic()
    result = fast_stack.run_execution({"replicationGroupId": "orders", "bucket": BUCKET, "verifyBudgetSeconds": 1})
    took = time.monotonic() - t0
    assert result["status"] == "SUCCEEDED", result
    out = result["output"]
    (obj,) = out["verification"]["objects"]
    assert obj["keys"] == 1_000_000 and obj["sizeBytes"] >= GB, obj
    shards = [s for s in result["states"] if s["state"] == "VerifyShard" and s["type"] != "Retry"]
    verify_ms = sum(s["durationMs"] for s in shards)
    print(f"\n1 GB backup ({obj['sizeBytes']:,} bytes): execution {took:.1f} s, VerifyShard {len(shards)} "
          f"invocation(s) {verify_ms / 1000:.1f} s")
    primary.flushall()
