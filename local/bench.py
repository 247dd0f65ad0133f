#!/usr/bin/env python3
"""make bench: rdb-check against redis-check-rdb on RDB files of ~100 MB and ~1 GB written by the Debian redis-server.

Reports, side by side on the same file: wall time, throughput, and peak RSS (GNU time) of each checker. rdb-check
also computes the file's SHA-256, as VerifyExport does. Goals (issue 5): rdb-check at least 5x faster, and flat
memory under 64 MB whatever the file size.
Usage: python3 local/bench.py [--sizes-mb 100,1000]
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stack import ROOT, free_port, wait_until  # noqa: E402

RDB_CHECK = ROOT / "target" / "release" / "rdb-check"


def measure(cmd: list[str]) -> tuple[float, float, int]:
    """Runs cmd under /usr/bin/time (GNU time, apt package `time`); returns (seconds, peak RSS in MB, exit code).

    (wait4's ru_maxrss from this Python process would count the forked interpreter's memory before exec.)"""
    with tempfile.NamedTemporaryFile("r") as out:
        proc = subprocess.run(["/usr/bin/time", "-o", out.name, "-f", "%e %M %x"] + cmd,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        secs, rss_kb, code = Path(out.name).read_text().split()[-3:]
    return float(secs), int(rss_kb) / 1024, int(code) if proc.returncode == 0 else proc.returncode


def make_rdb(target_mb: int, workdir: Path) -> Path:
    port = free_port()
    server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no", "--dir", str(workdir), "--enable-debug-command", "local"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        r = redis.Redis(port=port, socket_timeout=None)
        wait_until(lambda: r.ping(), 10, "redis-server")
        # Mixed types first (hashes, lists, sorted sets, sets, a stream), then strings until the size is reached.
        pipe = r.pipeline(transaction=False)
        for i in range(20_000):
            pipe.hset(f"h:{i}", mapping={f"f{j}": f"value-{i}-{j}" for j in range(8)})
            pipe.rpush(f"l:{i}", *[f"item-{i}-{j}" for j in range(8)])
            pipe.zadd(f"z:{i}", {f"m{j}": j * 1.5 for j in range(8)})
            pipe.sadd(f"s:{i}", *[f"member-{j}" for j in range(8)])
            if i % 1000 == 999:
                pipe.execute()
        pipe.execute()
        for i in range(2000):
            r.xadd("events", {"n": str(i), "payload": "x" * 50})
        rdb = workdir / "dump.rdb"
        batch = 0
        while True:
            r.save()
            size_mb = rdb.stat().st_size / 1e6
            if size_mb >= target_mb:
                return rdb
            per_key = rdb.stat().st_size / max(r.dbsize(), 1)
            count = max(10_000, int((target_mb - size_mb) * 1e6 / per_key * 1.05))
            for start in range(0, count, 2_000_000):
                r.execute_command("DEBUG", "POPULATE", min(2_000_000, count - start), f"k{batch}", 100)
                batch += 1
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes-mb", default="100,1000")
    args = ap.parse_args()
    if not RDB_CHECK.exists():
        print(f"{RDB_CHECK} missing: cargo build --release -p rdb-check", file=sys.stderr)
        return 2
    rows = []
    for mb in [int(s) for s in args.sizes_mb.split(",")]:
        with tempfile.TemporaryDirectory(prefix="ecb-bench-") as d:
            t = time.monotonic()
            rdb = make_rdb(mb, Path(d))
            size = rdb.stat().st_size
            print(f"{rdb.name}: {size / 1e6:,.0f} MB written by redis-server in {time.monotonic() - t:.0f} s", flush=True)
            results = {}
            for name, cmd in [("redis-check-rdb", ["redis-check-rdb", str(rdb)]), ("rdb-check", [str(RDB_CHECK), str(rdb)])]:
                secs, rss, code = measure(cmd)
                results[name] = (secs, rss, code)
                print(f"  {name:<16} {secs:7.2f} s  {size / 1e6 / secs:8.1f} MB/s  peak RSS {rss:8.1f} MB  exit {code}", flush=True)
            ratio = results["redis-check-rdb"][0] / results["rdb-check"][0]
            rows.append((size, results, ratio))
            print(f"  rdb-check is {ratio:.1f}x the speed of redis-check-rdb", flush=True)
    print("\n| file | redis-check-rdb | rdb-check | speed-up | peak RSS redis-check-rdb | peak RSS rdb-check |")
    print("|---|---|---|---|---|---|")
    for size, res, ratio in rows:
        a, b = res["redis-check-rdb"], res["rdb-check"]
        print(f"| {size / 1e6:,.0f} MB | {a[0]:.2f} s | {b[0]:.2f} s | {ratio:.1f}x | {a[1]:.0f} MB | {b[1]:.0f} MB |")
    ok = all(res["rdb-check"][2] == 0 and res["redis-check-rdb"][2] == 0 for _, res, _ in rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
