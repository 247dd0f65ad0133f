#!/usr/bin/env python3
"""make bench: rdb-check against redis-check-rdb on RDB files written by the Debian redis-server.

Two kinds of file: "strings" (~100 MB and ~1 GB: a few mixed collections, then mostly 100-byte strings) and
"small collections" (~1 GB of small hashes, sets, sorted sets and lists — listpacks and intsets, the hardest case
per byte). Reports, side by side on the same file: wall time, throughput, and peak RSS (GNU time) of each checker
(rdb-check: the median of --runs runs, with their range; redis-check-rdb, fifteen times slower: one run).
rdb-check also computes the file's SHA-256, as VerifyExport does: hashing on its own thread when there are two CPUs
(the default here; each chunk read by whichever of the two threads is free, and parsed where it lies), and inline on
one CPU (`taskset -c 0`, as a 1,769 MB Lambda function has). Goals: rdb-check at least 5x faster than
redis-check-rdb (issue 5), >= 1 GB/s with the SHA-256 on two CPUs (issue 12), and flat memory under 64 MB whatever
the file size.

Key-level recovery (issue 25), on the small-collections file: `ecb keys FILE --json` (every key) and `ecb keys FILE
--match PATTERN --json` (a prefix), side by side with librdb's `rdb-cli FILE print -k %k` when --rdb-cli names one
(build it with local/tools/build-librdb.sh; goal: ecb keys >= 500 MB/s, peak RSS <= 64 MB); and `ecb restore-keys`
of 100,000 keys into an empty local redis-server (pipelined; goal >= 50,000 keys/s; the time includes the check of
the whole file that comes before any write).
Usage: python3 local/tools/bench.py [--sizes-mb 100,1000] [--small-collections-mb 1000] [--runs 5]
                                    [--rdb-cli PATH] [--restore-keys 100000]
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "harness"))
from cargo import binary  # noqa: E402
from stack import free_port, wait_until  # noqa: E402


def measure(cmd: list[str]) -> tuple[float, float, int]:
    """Runs cmd under /usr/bin/time (GNU time, apt package `time`); returns (seconds, peak RSS in MB, exit code).

    (wait4's ru_maxrss from this Python process would count the forked interpreter's memory before exec.)"""
    with tempfile.NamedTemporaryFile("r") as out:
        proc = subprocess.run(["/usr/bin/time", "-o", out.name, "-f", "%e %M %x"] + cmd,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        secs, rss_kb, code = Path(out.name).read_text().split()[-3:]
    return float(secs), int(rss_kb) / 1024, int(code) if proc.returncode == 0 else proc.returncode


# Server-side (Lua), so a GB of small keys is written in about two minutes rather than an hour of round trips.
SMALL_COLLECTIONS = """
local n = tonumber(ARGV[1]); local base = tonumber(ARGV[2])
for i = base, base + n - 1 do
  local k = tostring(i)
  redis.call('HSET', 'h:'..k, 'name', 'user-'..k, 'email', 'u'..k..'@example.com', 'visits', i % 977, 'plan', 'free')
  redis.call('SADD', 's:'..k, 'tag-'..(i % 13), 'tag-'..(i % 17), 'tag-'..(i % 19), i, i + 1)
  redis.call('SADD', 'i:'..k, i % 7, i % 11, i % 101, 1000 + i % 3)
  redis.call('ZADD', 'z:'..k, i, 'a', i + 1.5, 'b', i * 2, 'c', 7, 'member-'..k)
  redis.call('RPUSH', 'l:'..k, 'event-1', 'event-2', i, 'payload-'..k, 'x')
end
return n
"""


def make_small_collections_rdb(target_mb: int, workdir: Path) -> Path:
    """A file of small hashes, sets (listpack and intset), sorted sets and lists, about target_mb large."""
    port = free_port()
    server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no", "--dir", str(workdir)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        r = redis.Redis(port=port, socket_timeout=None)
        wait_until(lambda: r.ping(), 10, "redis-server")
        rdb, base, step = workdir / "dump.rdb", 0, 250_000
        while True:
            r.eval(SMALL_COLLECTIONS, 0, step, base)
            base += step
            if base % 1_000_000 == 0:
                r.save()
                if rdb.stat().st_size / 1e6 >= target_mb:
                    return rdb
    finally:
        server.terminate()
        server.wait(timeout=30)


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
    ap.add_argument("--sizes-mb", default="100,1000", help="sizes of the strings files")
    ap.add_argument("--small-collections-mb", type=int, default=1000, help="size of the small-collections file (0: none)")
    ap.add_argument("--runs", type=int, default=5, help="runs of rdb-check per file (the median is reported)")
    ap.add_argument("--rdb-cli", default=os.environ.get("RDB_CLI"), help="librdb's rdb-cli, to list keys beside ecb")
    ap.add_argument("--restore-keys", type=int, default=100_000, help="keys ecb restore-keys writes (0: skip)")
    args = ap.parse_args()
    ecb = binary("ecb", "release")
    rdb_check = binary("rdb-check", "release")
    if not rdb_check.exists():
        print(f"{rdb_check} missing: cargo build --release -p rdb-check", file=sys.stderr)
        return 2
    rows = []
    key_rows: list = []
    files = [("strings", mb, make_rdb) for mb in [int(s) for s in args.sizes_mb.split(",") if s]]
    if args.small_collections_mb:
        files.append(("small collections", args.small_collections_mb, make_small_collections_rdb))
    one_cpu = ["taskset", "-c", "0"] if shutil.which("taskset") else None
    for kind, mb, make in files:
        with tempfile.TemporaryDirectory(prefix="ecb-bench-") as d:
            t = time.monotonic()
            rdb = make(mb, Path(d))
            size = rdb.stat().st_size
            print(f"{kind}: {size / 1e6:,.0f} MB written by redis-server in {time.monotonic() - t:.0f} s", flush=True)
            results = {}
            checkers = [("redis-check-rdb", ["redis-check-rdb", str(rdb)], 1),
                        ("rdb-check", [str(rdb_check), str(rdb)], args.runs)]
            if one_cpu:
                checkers.append(("rdb-check 1 CPU", one_cpu + [str(rdb_check), str(rdb)], args.runs))
            for name, cmd, runs in checkers:
                # This machine's speed drifts by 10-20 % from one second to the next: rdb-check runs several times
                # (a second at most each) and reports the median, with the range.
                times, rss, code = [], 0.0, 0
                for _ in range(runs):
                    secs, run_rss, run_code = measure(cmd)
                    times.append(secs)
                    rss, code = max(rss, run_rss), run_code or code
                times.sort()
                secs = times[len(times) // 2]
                spread = f"  (median of {runs}: {times[0]:.2f}-{times[-1]:.2f} s)" if runs > 1 else ""
                results[name] = (secs, rss, code)
                print(f"  {name:<16} {secs:7.2f} s  {size / 1e6 / secs:8.1f} MB/s  peak RSS {rss:8.1f} MB  exit {code}{spread}",
                      flush=True)
            ratio = results["redis-check-rdb"][0] / results["rdb-check"][0]
            rows.append((kind, size, results, ratio))
            print(f"  rdb-check is {ratio:.1f}x the speed of redis-check-rdb", flush=True)
            if kind == "small collections" and ecb.exists():
                key_rows = bench_keys(ecb, rdb, args)
    print("\n| file | redis-check-rdb | rdb-check, 2 CPUs (SHA-256 thread) | rdb-check 1 CPU | speed-up | peak RSS redis-check-rdb | peak RSS rdb-check |")
    print("|---|---|---|---|---|---|---|")
    for kind, size, res, ratio in rows:
        a, b = res["redis-check-rdb"], res["rdb-check"]
        c = res.get("rdb-check 1 CPU")
        mbs = size / 1e6
        one = f"{c[0]:.2f} s ({mbs / c[0]:,.0f} MB/s)" if c else "n/a (no taskset)"
        print(f"| {kind}, {mbs:,.0f} MB | {a[0]:.2f} s ({mbs / a[0]:,.0f} MB/s) | {b[0]:.2f} s ({mbs / b[0]:,.0f} MB/s) | "
              f"{one} | {ratio:.1f}x | {a[1]:.0f} MB | {b[1]:.0f} MB |")
    ok = all(r[2] == 0 for _, _, res, _ in rows for r in res.values())
    if args.small_collections_mb and not ecb.exists():
        print(f"\n{ecb} missing: cargo build --release -p ecb for the key-level figures", file=sys.stderr)
    if key_rows:
        print("\n| small collections, listing keys | time | throughput | peak RSS | keys printed |")
        print("|---|---|---|---|---|")
        for name, secs, mbs, rss, printed in key_rows:
            print(f"| {name} | {secs:.2f} s | {mbs:,.0f} MB/s | {rss:.0f} MB | {printed:,} |")
        ok &= all(r[4] > 0 for r in key_rows)
    if args.restore_keys and ecb.exists():
        restored = bench_restore_keys(ecb, args.restore_keys)
        print("\n| ecb restore-keys | keys | time (check + restore) | keys/s |")
        print("|---|---|---|---|")
        print(f"| into an empty local redis-server | {restored[0]:,} | {restored[1]:.2f} s | {restored[0] / restored[1]:,.0f} |")
        ok &= restored[2]
    return 0 if ok else 1


def count_output(cmd: list[str]) -> tuple[float, float, int]:
    """Runs cmd under GNU time with stdout counted in lines; (seconds, peak RSS MB, lines printed)."""
    with tempfile.NamedTemporaryFile("r") as out, tempfile.TemporaryFile("w+b") as sink:
        subprocess.run(["/usr/bin/time", "-o", out.name, "-f", "%e %M"] + cmd, stdout=sink,
                       stderr=subprocess.DEVNULL, check=False)
        secs, rss_kb = Path(out.name).read_text().split()[-2:]
        sink.seek(0)
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: sink.read(1 << 20), b""))
    return float(secs), int(rss_kb) / 1024, lines


def bench_keys(ecb: Path, rdb: Path, args) -> list[tuple[str, float, float, float, int]]:
    """`ecb keys` (every key; one prefix) and, when given, `rdb-cli print -k %k` on the same file: the median of
    --runs runs each. JSON output is one line per key."""
    size = rdb.stat().st_size
    runs = [("ecb keys --json (every key)", [str(ecb), "keys", str(rdb), "--json"]),
            ("ecb keys --match 'h:12*' --json", [str(ecb), "keys", str(rdb), "--match", "h:12*", "--json"])]
    if args.rdb_cli:
        runs.append(("librdb rdb-cli print -k %k (every key)", [args.rdb_cli, str(rdb), "print", "-k", "%k"]))
    rows = []
    for name, cmd in runs:
        results = sorted(count_output(cmd) for _ in range(max(1, min(args.runs, 3))))
        secs, rss, printed = results[len(results) // 2]
        rows.append((name, secs, size / 1e6 / secs, rss, printed))
        print(f"  {name:<42} {secs:7.2f} s  {size / 1e6 / secs:8.1f} MB/s  peak RSS {rss:6.1f} MB  {printed:,} lines",
              flush=True)
    return rows


def bench_restore_keys(ecb: Path, n: int) -> tuple[int, float, bool]:
    """Writes n small keys of every common type, saves them, and times `ecb restore-keys` of all of them into an
    empty second server: (keys restored, seconds, whether the second server then holds n keys)."""
    with tempfile.TemporaryDirectory(prefix="ecb-bench-rk-") as d:
        servers = []
        try:
            for sub in ("source", "target"):
                (Path(d) / sub).mkdir()
                port = free_port()
                proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                         "--appendonly", "no", "--dir", str(Path(d) / sub)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                servers.append((proc, redis.Redis(port=port, socket_timeout=None), port))
            for _, r, _ in servers:
                wait_until(lambda r=r: r.ping(), 10, "redis-server")
            source, target = servers[0][1], servers[1][1]
            source.eval(SMALL_COLLECTIONS, 0, n // 5, 0)
            source.save()
            t = time.monotonic()
            proc = subprocess.run([str(ecb), "restore-keys", str(Path(d) / "source" / "dump.rdb"), "--match", "*",
                                   "--to", f"redis://127.0.0.1:{servers[1][2]}", "--json"],
                                  capture_output=True, text=True, check=False)
            secs = time.monotonic() - t
            restored = target.dbsize()
            print(f"  ecb restore-keys: {restored:,} keys in {secs:.2f} s ({restored / secs:,.0f} keys/s), exit "
                  f"{proc.returncode}", flush=True)
            return restored, secs, proc.returncode == 0 and restored == source.dbsize()
        finally:
            for proc, _, _ in servers:
                proc.terminate()
                proc.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
