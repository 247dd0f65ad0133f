"""RDB files written by a scratch redis-server (the Debian one, as the tests and the bench use): DEBUG POPULATE's
string keys, then small collections of every type and keys with an expiry, saved with SAVE. The server listens on
127.0.0.1 on a free port and is stopped before this returns."""

import subprocess
from pathlib import Path

import redis

from stack import free_port, wait_until


def write_rdb(workdir: Path, *, strings: int, value_bytes: int, collections: int, compression: bool = True) -> Path:
    """`workdir/dump.rdb`: `strings` keys `k:N` of `value_bytes` bytes, and `collections` each of a hash, a list, a
    set, a sorted set and an expiring string. `compression=False` writes values as they are (rdbcompression no:
    POPULATE's padding would otherwise compress to nothing)."""
    port = free_port()
    server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no", "--dir", str(workdir), "--enable-debug-command", "local",
                               "--rdbcompression", "yes" if compression else "no"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        r = redis.Redis(port=port)
        wait_until(lambda: r.ping(), 10, "redis-server")
        r.execute_command("DEBUG", "POPULATE", strings, "k", value_bytes)
        pipe = r.pipeline(transaction=False)
        for i in range(collections):
            pipe.hset(f"h:{i}", mapping={"a": i, "b": "x" * 30})
            pipe.rpush(f"l:{i}", *range(10))
            pipe.sadd(f"s:{i}", *range(5))
            pipe.zadd(f"z:{i}", {"m1": 1.5, "m2": 2.5})
            pipe.set(f"e:{i}", "v", ex=3600)
        pipe.execute()
        r.save()
    finally:
        server.terminate()
        server.wait(timeout=60)
    return workdir / "dump.rdb"
