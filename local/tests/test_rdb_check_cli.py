"""`rdb-check s3://bucket/key`: a backup checked by hand straight from the S3 stand-in, in several ranged parts."""

import hashlib
import json
import subprocess
from pathlib import Path

import pytest
import redis

from cargo import binary
from stack import CREDENTIALS, free_port, wait_until

RDB_CHECK = binary("rdb-check")


@pytest.fixture(scope="module")
def rdb_file(tmp_path_factory) -> Path:
    """A ~5 MB RDB written by redis-server: strings, hashes, lists, sets, sorted sets, keys with expiry."""
    workdir = tmp_path_factory.mktemp("rdb")
    port = free_port()
    server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no", "--dir", str(workdir), "--enable-debug-command", "local"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        r = redis.Redis(port=port)
        wait_until(lambda: r.ping(), 10, "redis-server")
        r.execute_command("DEBUG", "POPULATE", 150_000, "k", 24)
        pipe = r.pipeline(transaction=False)
        for i in range(2000):
            pipe.hset(f"h:{i}", mapping={"a": i, "b": "x" * 30})
            pipe.rpush(f"l:{i}", *range(10))
            pipe.sadd(f"s:{i}", *range(5))
            pipe.zadd(f"z:{i}", {"m1": 1.5, "m2": 2.5})
            pipe.set(f"e:{i}", "v", ex=3600)
        pipe.execute()
        r.save()
    finally:
        server.terminate()
        server.wait(timeout=30)
    path = workdir / "dump.rdb"
    assert path.stat().st_size > 3 * 1024 * 1024, "want several 1 MiB parts"
    return path


def run(stack, *args: str) -> tuple[int, list[dict]]:
    env = {**CREDENTIALS, "AWS_ENDPOINT_URL": stack.s3_endpoint, "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([str(RDB_CHECK), "--json", *args], capture_output=True, text=True, env=env, timeout=120)
    return proc.returncode, [json.loads(line) for line in proc.stdout.splitlines()]


def test_an_object_checked_from_s3_reports_what_the_local_file_does(stack, s3, bucket, rdb_file):
    data = rdb_file.read_bytes()
    s3.put_object(Bucket=bucket, Key="ecb-orders-0001.rdb", Body=data)

    code, [remote] = run(stack, "--part-mib", "1", "--parallel", "3", f"s3://{bucket}/ecb-orders-0001.rdb")
    local_code, [local] = run(stack, str(rdb_file))

    assert (code, local_code) == (0, 0), remote
    assert remote["ok"] and remote["report"] == local["report"]
    assert remote["sha256"] == local["sha256"] == hashlib.sha256(data).hexdigest()
    report = remote["report"]
    assert report["keys"] == 150_000 + 5 * 2000 and report["keys_with_expiry"] == 2000
    assert report["bytes"] == len(data)


def test_a_damaged_or_missing_object_exits_1_and_says_why(stack, s3, bucket, rdb_file):
    data = bytearray(rdb_file.read_bytes())
    data[len(data) // 2] ^= 0x40
    s3.put_object(Bucket=bucket, Key="damaged-0001.rdb", Body=bytes(data))

    code, results = run(stack, "--part-mib", "1", f"s3://{bucket}/damaged-0001.rdb", f"s3://{bucket}/missing.rdb")

    assert code == 1
    damaged, missing = results
    # Whatever the flipped byte lands on, the checker names a finding (a value, an opcode or the CRC-64), not a read.
    assert not damaged["ok"] and any(w in damaged["error"] for w in ("checksum", "corrupt", "offset")), damaged
    assert "reading" not in damaged["error"], damaged
    assert not missing["ok"] and "HeadObject" in missing["error"], missing
