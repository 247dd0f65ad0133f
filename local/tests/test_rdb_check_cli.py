"""`rdb-check s3://bucket/key`: a backup checked by hand straight from the S3 stand-in, in several ranged parts."""

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from cargo import binary
from rdbfiles import write_rdb
from stack import CREDENTIALS

RDB_CHECK = binary("rdb-check")


@pytest.fixture(scope="module")
def rdb_file(tmp_path_factory) -> Path:
    """A ~5 MB RDB written by redis-server: strings, hashes, lists, sets, sorted sets, keys with expiry."""
    path = write_rdb(tmp_path_factory.mktemp("rdb"), strings=150_000, value_bytes=24, collections=2000)
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


@pytest.mark.parametrize("every_mib", ["1", "2", "3"])
def test_a_check_in_pieces_reports_what_one_pass_does(stack, s3, bucket, rdb_file, every_mib):
    """`--pause-every-mib`: the checker pauses at the first key boundary after every N MiB, its checkpoint goes
    through JSON, and the next piece reads the file again from the checkpoint's offset (locally and from S3, as
    VerifyShard does across invocations)."""
    data = rdb_file.read_bytes()
    key = f"pieces-{every_mib}-0001.rdb"
    s3.put_object(Bucket=bucket, Key=key, Body=data)
    _, [once] = run(stack, str(rdb_file))
    for target in (str(rdb_file), f"s3://{bucket}/{key}"):
        code, [pieces] = run(stack, "--part-mib", "1", "--pause-every-mib", every_mib, target)
        assert code == 0, pieces
        assert pieces["pieces"] >= len(data) // (int(every_mib) << 20), pieces["pieces"]
        assert 0 < pieces["largestCheckpointBytes"] < 4096, pieces
        assert pieces["report"] == once["report"] and pieces["sha256"] == once["sha256"], target


def test_a_damaged_byte_after_a_pause_fails_as_one_pass_does(stack, tmp_path, rdb_file):
    data = bytearray(rdb_file.read_bytes())
    data[len(data) - 3] ^= 0x40  # in the CRC-64, well after the first pieces
    damaged = tmp_path / "damaged.rdb"
    damaged.write_bytes(bytes(data))
    code, [once] = run(stack, str(damaged))
    code_pieces, [pieces] = run(stack, "--pause-every-mib", "1", str(damaged))
    assert (code, code_pieces) == (1, 1)
    assert pieces["error"] == once["error"] and "checksum" in once["error"], (pieces, once)
