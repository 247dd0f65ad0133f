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

VerifyShard through S3 (issue 27), on each strings file (the file of the CLI figure): `rdb-check s3://...` against
local-s3 (local/standins/s3-fs, the fast local S3 stand-in), which it reads as VerifyShard does (`rdb_check::s3`:
HeadObject, then ranged GetObjects, several in flight); MB/s, peak RSS, and the GetObjects the server counted
(checked against ceil(size / part size)), for each part size x parallelism of --s3-grid, then the default (the
median of --runs), each run right after a run on the local file (the percentage compares the two), and the checker's
own CPU time against the file's (on Lambda the server is S3's, not the function's; here local-s3 takes its share of
the same two CPUs). "Before": the same on moto (the ~100 MB file only: moto copies the whole object for each ranged
GET). Goals: >= 80 % of the file figure, peak RSS <= 256 MB.

Resumable verification (issue 27), on every file: `rdb-check --pause-every-mib N` (N = 256 and 64) checks it in
pieces as VerifyShard checks a shard across invocations (each piece reads the file again from the previous one's
checkpoint); the report and SHA-256 must equal one pass's (else the bench fails), with the time, the pieces and the
largest checkpoint.

Key-level recovery (issue 25), on the small-collections file: `ecb keys FILE --json` (every key) and `ecb keys FILE
--match PATTERN --json` (a prefix), side by side with librdb's `rdb-cli FILE print -k %k` when --rdb-cli names one
(build it with local/tools/build-librdb.sh; goal: ecb keys >= 500 MB/s, peak RSS <= 64 MB); and `ecb restore-keys`
of 100,000 keys into an empty local redis-server (pipelined; goal >= 50,000 keys/s; the time includes the check of
the whole file that comes before any write).
Usage: python3 local/tools/bench.py [--sizes-mb 100,1000] [--small-collections-mb 1000] [--runs 5]
                                    [--rdb-cli PATH] [--restore-keys 100000] [--s3-grid 4,8,16,32x2,4,8]
"""

import argparse
import json
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
from stack import CREDENTIALS, LocalS3, free_port, port_open, wait_until  # noqa: E402

# rdb_check::s3::RangeOptions::default() (and backup-core's verify_part_bytes / verify_parallel_parts).
DEFAULT_PART_MIB, DEFAULT_PARALLEL = 8, 4


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
    ap.add_argument("--s3-grid", default="4,8,16,32x2,4,8",
                    help="part sizes (MiB) x parallel requests tried through the local S3 ('' : the default only)")
    ap.add_argument("--no-s3", action="store_true", help="skip VerifyShard through the local S3")
    args = ap.parse_args()
    ecb = binary("ecb", "release")
    rdb_check = binary("rdb-check", "release")
    if not rdb_check.exists():
        print(f"{rdb_check} missing: cargo build --release -p rdb-check", file=sys.stderr)
        return 2
    rows = []
    key_rows: list = []
    s3_rows: list = []
    resume_rows: list = []
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
            resume_rows += bench_resume(rdb_check, rdb, kind, size, results["rdb-check"][0])
            print(f"  rdb-check is {ratio:.1f}x the speed of redis-check-rdb", flush=True)
            if kind == "strings" and not args.no_s3:
                s3_rows += bench_s3(rdb_check, rdb, results["rdb-check"][0], args,
                                    with_moto=size < 500e6)
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
    if resume_rows:
        print("\n| resumable check (rdb-check --pause-every-mib) | pieces | time | one pass | largest checkpoint "
              "| report and SHA-256 equal to one pass |")
        print("|---|---|---|---|---|---|")
        for r in resume_rows:
            print(f"| {r['kind']}, {r['mb']:,.0f} MB, every {r['every']} MiB | {r['pieces']} | {r['secs']:.2f} s | "
                  f"{r['once']:.2f} s | {r['checkpoint']:,} bytes | {'yes' if r['equal'] else 'NO'} |")
        ok &= all(r["equal"] for r in resume_rows)
    if s3_rows:
        print("\n| VerifyShard (rdb-check s3://) | S3 | part x parallel | time | MB/s | % of the file run beside it "
              "| checker CPU, S3 / file | peak RSS | GETs (counted / expected) |")
        print("|---|---|---|---|---|---|---|---|---|")
        for r in s3_rows:
            print(f"| strings, {r['mb']:,.0f} MB | {r['server']} | {r['part']} MiB x {r['parallel']}"
                  f"{' (default)' if r['default'] else ''} | {r['secs']:.2f} s | {r['mb'] / r['secs']:,.0f} | "
                  f"{100 * r['paired_file_secs'] / r['secs']:.0f} % ({r['paired_file_secs']:.2f} s) | "
                  f"{r['cpu']:.2f} s / {r['file_cpu']:.2f} s | {r['rss']:.0f} MB | {r['gets']} / {r['expected']} |")
        ok &= all(r["code"] == 0 and r["gets"] == r["expected"] for r in s3_rows)
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


def bench_resume(rdb_check: Path, rdb: Path, kind: str, size: int, once_secs: float) -> list[dict]:
    """The file checked in pieces as VerifyShard checks a shard across invocations (issue 27): paused at the first key
    boundary after every N MiB, the checkpoint through JSON, the next piece reading the file again from it. Its report
    and SHA-256 must be those of one pass; the time shows what resuming costs."""
    def json_run(*extra: str) -> tuple[float, dict]:
        t = time.monotonic()
        out = subprocess.run([str(rdb_check), "--json", *extra, str(rdb)], capture_output=True, text=True)
        return time.monotonic() - t, json.loads(out.stdout)
    _, once = json_run()
    rows = []
    for every in (256, 64):
        secs, pieces = json_run("--pause-every-mib", str(every))
        equal = pieces.get("ok") and pieces["report"] == once["report"] and pieces["sha256"] == once["sha256"]
        rows.append({"kind": kind, "mb": size / 1e6, "every": every, "pieces": pieces.get("pieces", 0), "secs": secs,
                     "once": once_secs, "checkpoint": pieces.get("largestCheckpointBytes", 0), "equal": bool(equal)})
        print(f"  rdb-check in pieces of {every} MiB: {rows[-1]['pieces']} pieces in {secs:.2f} s, largest checkpoint "
              f"{rows[-1]['checkpoint']:,} bytes, {'equal to' if equal else 'DIFFERENT FROM'} one pass", flush=True)
    return rows


def bench_s3(rdb_check: Path, rdb: Path, file_secs: float, args, with_moto: bool) -> list[dict]:
    """rdb-check s3://bench/<file> through local-s3 for each part size x parallelism of --s3-grid, then the default
    (median of --runs); and, with_moto, the default through moto (one run). Each row: time, peak RSS, and the ranged
    GetObjects the server counted (local-s3's counters, moto's request log)."""
    size = rdb.stat().st_size
    rows: list[dict] = []
    grid = []
    if args.s3_grid:
        parts, parallel = args.s3_grid.split("x")
        grid = [(int(p), int(n)) for p in parts.split(",") for n in parallel.split(",")]
    with tempfile.TemporaryDirectory(prefix="ecb-bench-s3-") as d, \
            LocalS3(Path(d) / "root", buckets=("bench",)) as s3:
        with open(rdb, "rb") as f:
            s3.client().put_object(Bucket="bench", Key=rdb.name, Body=f)
        runs = [(p, n, max(1, min(args.runs, 3)), False) for p, n in grid]
        runs.append((DEFAULT_PART_MIB, DEFAULT_PARALLEL, args.runs, True))
        for part, parallel, n_runs, default in runs:
            rows.append(_s3_run(rdb_check, s3.endpoint, rdb, size, file_secs, part, parallel, n_runs, default,
                                "local-s3", lambda: s3.stats()["rangedGetObject"]))
    if with_moto:
        with tempfile.TemporaryDirectory(prefix="ecb-bench-moto-") as d:
            port = free_port()
            with open(Path(d) / "moto.log", "wb") as log:
                moto = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            try:
                wait_until(lambda: port_open(port), 30, "moto server", moto)
                endpoint = f"http://127.0.0.1:{port}"
                import boto3
                client = boto3.client("s3", endpoint_url=endpoint, region_name=CREDENTIALS["AWS_REGION"],
                                      aws_access_key_id="test", aws_secret_access_key="test")
                client.create_bucket(Bucket="bench")
                with open(rdb, "rb") as f:
                    client.put_object(Bucket="bench", Key=rdb.name, Body=f)
                # moto's request log: one line per request, 206 for a ranged GET.
                rows.append(_s3_run(rdb_check, endpoint, rdb, size, file_secs, DEFAULT_PART_MIB, DEFAULT_PARALLEL,
                                    1, True, "moto (before)",
                                    lambda: (Path(d) / "moto.log").read_text(errors="replace").count('" 206 ')))
            finally:
                moto.terminate()
                moto.wait(timeout=30)
    return rows


def measure_cpu(cmd: list[str]) -> tuple[float, float, int, float]:
    """measure(), and the CPU time the command used (user + system), seconds."""
    with tempfile.NamedTemporaryFile("r") as out:
        proc = subprocess.run(["/usr/bin/time", "-o", out.name, "-f", "%e %M %x %U %S"] + cmd,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        secs, rss_kb, code, user, system = Path(out.name).read_text().split()[-5:]
    return float(secs), int(rss_kb) / 1024, int(code) if proc.returncode == 0 else proc.returncode, \
        float(user) + float(system)


def _s3_run(rdb_check: Path, endpoint: str, rdb: Path, size: int, file_secs: float, part: int, parallel: int,
            runs: int, default: bool, server: str, ranged_gets) -> dict:
    """`runs` runs of rdb-check against endpoint, each right after a run on the local file (this machine's speed
    drifts, and the S3 server shares its two CPUs): the medians of both times, of the checker's own CPU time (what a
    Lambda function pays), the largest RSS, the GETs of one run. `file_secs` (the CLI figure) is reported beside."""
    env_cmd = ["env", *(f"{k}={v}" for k, v in CREDENTIALS.items()), f"AWS_ENDPOINT_URL_S3={endpoint}",
               str(rdb_check), "--part-mib", str(part), "--parallel", str(parallel), f"s3://bench/{rdb.name}"]
    times, file_times, cpus, file_cpus, rss, code, gets = [], [], [], [], 0.0, 0, 0
    for _ in range(runs):
        f_secs, _, f_code, f_cpu = measure_cpu([str(rdb_check), str(rdb)])
        before = ranged_gets()
        secs, run_rss, run_code, cpu = measure_cpu(env_cmd)
        gets = ranged_gets() - before
        times.append(secs)
        file_times.append(f_secs)
        cpus.append(cpu)
        file_cpus.append(f_cpu)
        rss, code = max(rss, run_rss), run_code or f_code or code
    med = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
    secs, paired, cpu, file_cpu = med(times), med(file_times), med(cpus), med(file_cpus)
    expected = -(-size // (part << 20))
    row = {"mb": size / 1e6, "server": server, "part": part, "parallel": parallel, "default": default, "secs": secs,
           "rss": rss, "code": code, "gets": gets, "expected": expected, "file_secs": file_secs,
           "paired_file_secs": paired, "cpu": cpu, "file_cpu": file_cpu}
    spread = f"  (median of {runs}: {min(times):.2f}-{max(times):.2f} s)" if runs > 1 else ""
    print(f"  rdb-check s3:// {server:<13} {part:>2} MiB x {parallel}: {secs:6.2f} s  {size / 1e6 / secs:7.1f} MB/s "
          f"({100 * paired / secs:3.0f} % of the file run beside it, {paired:.2f} s)  checker CPU {cpu:.2f} s "
          f"(file {file_cpu:.2f} s)  peak RSS {rss:6.1f} MB  {gets} GETs  exit {code}{spread}", flush=True)
    return row


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
