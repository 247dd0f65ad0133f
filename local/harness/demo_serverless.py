#!/usr/bin/env python3
"""make demo-serverless: back up an ElastiCache Serverless cache through the real state machine, on this machine, and
prove the backup sound.

1. Starts the local stack with local/topologies/demo-serverless.toml: one Redis OSS serverless cache, `sessions`,
   served by a real redis-server behind the ElastiCache emulator's serverless API.
2. Fills it with ~100,000 keys of every type (the same data as `make demo`).
3. Backs up with the operator's CLI, `ecb backup sessions --wait`: ecb finds `sessions` is a serverless cache
   (DescribeServerlessCaches), and the real terraform/backup.asl.json runs CreateServerlessCacheSnapshot,
   DescribeServerlessCacheSnapshots, ExportServerlessCacheSnapshot, the verification and the manifest, then
   DeleteServerlessCacheSnapshot.
4. Shows the S3 objects the export wrote (ElastiCache names them; the emulator's names are configurable), the
   manifest, that the serverless snapshot is gone, then loads the exported .rdb into a scratch redis-server and
   compares the keys, every key's DEBUG DIGEST-VALUE, the types and the TTLs with the cache.
Exit code 0 only if every check passes.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))
import deployment  # noqa: E402
from cargo import binary  # noqa: E402
from demo import PLAN, banner, ecb, execution_output, fill, load_and_compare  # noqa: E402
from stack import ROOT, Stack  # noqa: E402

BUCKET = "acme-cache-backups"
CACHE = "sessions"


def main() -> int:
    started = time.monotonic()
    ok = True
    with Stack(ROOT / "local" / "topologies" / "demo-serverless.toml", snapshot_min_seconds=2,
               export_delay_seconds=2, default_bucket=BUCKET, sfn_wait_ms=None, sfn_retry_ms=None) as stack:
        s3, ec = stack.client("s3"), stack.client("elasticache")
        outputs = deployment.register(stack, BUCKET, {})
        env = deployment.env(stack, outputs)
        cache = ec.describe_serverless_caches(ServerlessCacheName=CACHE)["ServerlessCaches"][0]
        endpoint = cache["Endpoint"]
        print(f"serverless cache {CACHE}: engine {cache['Engine']} {cache['MajorEngineVersion']}, status "
              f"{cache['Status']}, endpoint {endpoint['Address']}:{endpoint['Port']}")

        banner("Filling the cache with ~100,000 keys of every type")
        source = redis.Redis(host=endpoint["Address"], port=endpoint["Port"])
        t = time.monotonic()
        fill(source)
        print(f"{source.dbsize()} keys written in {time.monotonic() - t:.1f} s: "
              + ", ".join(f"{count} {kind}" for kind, count in PLAN))

        banner("Backing up with ecb (terraform/backup.asl.json through the local Step Functions endpoint)")
        name = f"demo-serverless-{int(time.time())}"
        if ecb(env, "backup", CACHE, "--wait", "--name", name).returncode != 0:
            print("backup FAILED")
            return 1
        out = execution_output(env, name)

        banner("What happened")
        print(f"serverless snapshot {out['snapshotName']} of {out['source']['serverlessCacheName']} "
              f"(request target {json.dumps(out['request']['target'])})")
        listing = s3.list_objects_v2(Bucket=BUCKET, Prefix=out["exportName"]).get("Contents", [])
        print(f"S3 objects in s3://{BUCKET}/ (ExportServerlessCacheSnapshot names them; "
              f"{out['source']['shardCount']} .rdb found and verified):")
        for o in listing:
            print(f"  {o['Key']}  {o['Size']:,} bytes")
        manifest = json.loads(s3.get_object(Bucket=BUCKET, Key=out["verification"]["manifestKey"])["Body"].read())
        print(f"manifest {out['verification']['manifestKey']}:")
        for o in manifest["objects"]:
            rdb = o["rdb"]
            print(f"  {o['key']}: RDB {rdb['version']}, {rdb['keys']:,} keys ({rdb['keysWithExpiry']:,} with "
                  f"expiry), CRC-64 {rdb['crc64']}, SHA-256 {o['sha256'][:16]}…")
        ok &= manifest["totals"]["keys"] == source.dbsize()
        try:
            ec.describe_serverless_cache_snapshots(ServerlessCacheSnapshotName=out["snapshotName"])
            print(f"serverless snapshot {out['snapshotName']}: STILL PRESENT")
            ok = False
        except ec.exceptions.ServerlessCacheSnapshotNotFoundFault:
            print(f"serverless snapshot {out['snapshotName']}: {out['cleanup']['sourceSnapshot']} after the export "
                  "was seen in S3 and verified")

        banner("Proving the backup sound")
        rdbs = [o["Key"] for o in listing if o["Key"].endswith(".rdb")]
        if len(rdbs) != 1:
            print(f"expected one .rdb for a one-shard cache, found {rdbs}")
            return 1
        work = Path(tempfile.mkdtemp(prefix="ecb-demo-serverless-"))
        rdb = work / "backup.rdb"
        s3.download_file(BUCKET, rdbs[0], str(rdb))
        ours = subprocess.run([str(binary("rdb-check")), str(rdb)], capture_output=True, text=True)
        print("rdb-check (this project's streaming checker):")
        for line in ours.stdout.splitlines():
            print(f"  {line}")
        ok &= ours.returncode == 0
        ok &= load_and_compare(rdb, source, "serverless cache")[0]

    banner(f"{'SERVERLESS BACKUP VERIFIED' if ok else 'VERIFICATION FAILED'} — demo took "
           f"{time.monotonic() - started:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
