"""local-s3 (local/standins/s3-fs), the fast local S3: what the project relies on from it, checked with boto3 (as the
tests and the harness use it) and with the Rust SDK (rdb-check, as VerifyExport reads); and a whole backup through
`Stack(s3="fast")`.

The stand-in runs alone here (no Stack) except in the end-to-end case, which starts its own stack: this module does
not use the session's moto stack (the conftest's autouse fault-clearing fixture is replaced below)."""

import hashlib
import json
import sys
import subprocess
import uuid

import pytest
import redis
from botocore.exceptions import ClientError

from cargo import binary
from stack import (CREDENTIALS, REGION, ROOT, LocalS3, Stack, bucket_policy, free_port, local_s3_stats, port_open,
                   wait_until)

RDB_CHECK = binary("rdb-check")
BUCKET = "fast"


@pytest.fixture(autouse=True)
def _no_leftover_faults():
    """This module does not start the session's moto stack."""
    yield


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    """A moto server, for bucket configuration."""
    port = free_port()
    log = open(tmp_path_factory.mktemp("moto") / "moto.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        wait_until(lambda: port_open(port), 30, "moto server", proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def server(tmp_path_factory, moto):
    with LocalS3(tmp_path_factory.mktemp("local-s3") / "root", buckets=(BUCKET,),
                 bucket_config_endpoint=moto) as s:
        yield s


@pytest.fixture(scope="module")
def s3(server):
    return server.client()


@pytest.fixture(scope="module")
def data() -> bytes:
    """3.5 MiB that differ everywhere (a shifted range would not compare equal)."""
    return b"".join(hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(3_670_016 // 32)) + b"tail"


def test_an_object_put_is_read_back_whole_with_its_size_and_md5_etag(s3, data):
    s3.put_object(Bucket=BUCKET, Key="dir/whole.rdb", Body=data)

    head = s3.head_object(Bucket=BUCKET, Key="dir/whole.rdb")
    assert head["ContentLength"] == len(data)
    assert head["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
    got = s3.get_object(Bucket=BUCKET, Key="dir/whole.rdb")
    assert got["ETag"] == head["ETag"]
    assert got["Body"].read() == data


@pytest.mark.parametrize("first,last", [(0, 0), (0, 1_048_575), (1_048_576, 2_097_151), (3_000_001, 3_670_019)])
def test_a_ranged_get_returns_exactly_those_bytes(s3, data, first, last):
    s3.put_object(Bucket=BUCKET, Key="dir/ranged.rdb", Body=data)

    got = s3.get_object(Bucket=BUCKET, Key="dir/ranged.rdb", Range=f"bytes={first}-{last}")

    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert got["ContentRange"] == f"bytes {first}-{last}/{len(data)}"
    assert got["ContentLength"] == last - first + 1
    assert got["Body"].read() == data[first:last + 1]


def test_a_range_past_the_end_is_refused_with_416(s3, data):
    s3.put_object(Bucket=BUCKET, Key="dir/short.rdb", Body=data[:100])
    with pytest.raises(ClientError) as refused:
        s3.get_object(Bucket=BUCKET, Key="dir/short.rdb", Range="bytes=100-199")
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 416


def test_listing_with_a_prefix_gives_only_its_keys_and_their_sizes(s3):
    for key in ("list/a-0001.rdb", "list/a-0002.rdb", "list/b-0001.rdb", "other/a-0001.rdb"):
        s3.put_object(Bucket=BUCKET, Key=key, Body=key.encode())

    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="list/a-")["Contents"]

    assert [(o["Key"], o["Size"]) for o in listed] == [("list/a-0001.rdb", 15), ("list/a-0002.rdb", 15)]


def test_a_deleted_object_is_gone(s3):
    s3.put_object(Bucket=BUCKET, Key="gone.rdb", Body=b"x")
    s3.delete_object(Bucket=BUCKET, Key="gone.rdb")
    with pytest.raises(ClientError) as missing:
        s3.head_object(Bucket=BUCKET, Key="gone.rdb")
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET, Prefix="gone")


def test_an_unsigned_request_is_refused(server):
    import urllib.error
    import urllib.request
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{server.endpoint}/{BUCKET}?list-type=2", timeout=10)
    assert refused.value.code == 403


def test_the_bucket_policy_is_stored_as_the_document_written(s3, moto):
    name = f"policy-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=name)
    with pytest.raises(ClientError) as none:
        s3.get_bucket_policy(Bucket=name)
    assert none.value.response["Error"]["Code"] == "NoSuchBucketPolicy"

    s3.put_bucket_policy(Bucket=name, Policy=json.dumps(bucket_policy(name, REGION)))

    assert json.loads(s3.get_bucket_policy(Bucket=name)["Policy"]) == bucket_policy(name, REGION)
    assert s3.get_bucket_location(Bucket=name).get("LocationConstraint") in (None, "")
    s3.delete_bucket(Bucket=name)
    with pytest.raises(ClientError):
        s3.head_bucket(Bucket=name)


def test_rdb_check_reads_an_object_in_ranged_parts_and_the_server_counts_them(server, s3, tmp_path):
    rdb = tmp_path / "dump.rdb"
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(tmp_path), "--enable-debug-command", "local"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        r = redis.Redis(port=port)
        wait_until(lambda: r.ping(), 10, "redis-server")
        r.execute_command("DEBUG", "POPULATE", 200_000, "k", 40)
        r.save()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    data = rdb.read_bytes()
    s3.put_object(Bucket=BUCKET, Key="rdb/dump.rdb", Body=data)
    before = server.stats()

    env = {**CREDENTIALS, "AWS_ENDPOINT_URL_S3": server.endpoint, "PATH": "/usr/bin:/bin"}
    out = subprocess.run([str(RDB_CHECK), "--json", "--part-mib", "1", "--parallel", "3", "s3://fast/rdb/dump.rdb"],
                         capture_output=True, text=True, env=env, timeout=120)

    assert out.returncode == 0, out.stdout + out.stderr
    report = json.loads(out.stdout)
    assert report["sha256"] == hashlib.sha256(data).hexdigest()
    assert report["report"]["keys"] == 200_000
    after = server.stats()
    parts = -(-len(data) // (1 << 20))
    assert parts >= 4
    assert after["rangedGetObject"] - before["rangedGetObject"] == parts
    assert after["requests"]["HeadObject"] - before["requests"].get("HeadObject", 0) == 1


def test_a_backup_runs_end_to_end_through_the_fast_s3():
    """test_e2e.py's cluster-mode-disabled case on `Stack(s3="fast")`: the export lands in local-s3, CreateSnapshot's
    preflight reads the bucket policy kept by moto, VerifyExport reads the object in ranged parts from local-s3."""
    with Stack(ROOT / "local" / "topologies" / "test.toml", snapshot_min_seconds=0.5, export_delay_seconds=0.3,
               s3="fast") as stack:
        bucket = f"backups-{uuid.uuid4().hex[:12]}"
        stack.create_backup_bucket(bucket)
        r = redis.Redis(port=stack.primary_port("orders"))
        r.mset({f"k:{i}": f"value-{i}" for i in range(500)})

        result = stack.run_execution({"replicationGroupId": "orders", "bucket": bucket})

        assert result["status"] == "SUCCEEDED", result
        out = result["output"]
        s3 = stack.client("s3")
        assert stack.s3_endpoint != stack.moto_endpoint
        found = {o["Key"]: o["Size"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
        assert sorted(found) == [f"{out['exportName']}-0001.rdb", f"{out['exportName']}.manifest.json"]
        # The objects are local-s3's files, not moto's.
        assert (stack.workdir / "s3" / bucket / f"{out['exportName']}-0001.rdb").stat().st_size == \
            found[f"{out['exportName']}-0001.rdb"]
        manifest = json.loads(s3.get_object(Bucket=bucket, Key=out["verification"]["manifestKey"])["Body"].read())
        assert manifest["totals"]["keys"] == r.dbsize()
        assert out["cleanup"]["sourceSnapshot"] == "deleted"
        stats = local_s3_stats(stack.s3_endpoint)
        assert stats["rangedGetObject"] >= 1 and stats["requests"]["BucketConfiguration"] >= 1, stats
        stack.assert_no_unsafe_deletion()
        assert stack.deletions()
