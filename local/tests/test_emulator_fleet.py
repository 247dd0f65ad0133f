"""The emulator's fleet topology: `[[replication_group_set]]` expands into numbered groups that start quickly (8 at
a time, one redis-server per group when replicas_per_shard = 0), are listed page by page by
DescribeReplicationGroups and carry their set's tags. Runs its own emulator (no S3, no functions needed)."""

import json
import subprocess
import time

import boto3

from stack import CREDENTIALS, REGION, emulator_binary, wait_until

TOPOLOGY = """
[[replication_group_set]]
prefix = "app"
count = 50
tags = { backup = "daily" }

[[replication_group_set]]
prefix = "cme"
count = 4
cluster_mode = true
shards = 2
tags = { backup = "weekly" }

[[replication_group]]
id = "orders"
replicas_per_shard = 1
"""


def redis_servers_of(pid: int) -> set[int]:
    """The redis-server children of the emulator (redis-server rewrites its command line, so ask by parent)."""
    out = subprocess.run(["ps", "-o", "pid=,comm=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return {int(line.split()[0]) for line in out.splitlines() if "redis-server" in line}


def alive(pids: set[int]) -> set[int]:
    out = subprocess.run(["ps", "-o", "pid=", "-p", ",".join(map(str, pids))], capture_output=True, text=True).stdout
    return {int(x) for x in out.split()}


def test_a_fleet_of_55_groups_starts_lists_by_page_and_carries_tags(tmp_path):
    (tmp_path / "fleet.toml").write_text(TOPOLOGY)
    ready = tmp_path / "ready.json"
    t0 = time.monotonic()
    proc = subprocess.Popen([str(emulator_binary()), "--topology", str(tmp_path / "fleet.toml"), "--ready-file", str(ready),
                             "--state-dir", str(tmp_path / "state")],
                            env={**CREDENTIALS, "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9", "PATH": "/usr/bin:/bin"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(ready.exists, 120, "ElastiCache emulator with 55 groups", proc)
        started = time.monotonic() - t0
        print(f"55 groups (60 redis-server processes) ready in {started:.1f} s")
        endpoint = json.loads(ready.read_text())["endpoint"]
        ec = boto3.client("elasticache", endpoint_url=endpoint, region_name=REGION, **{
            "aws_access_key_id": CREDENTIALS["AWS_ACCESS_KEY_ID"],
            "aws_secret_access_key": CREDENTIALS["AWS_SECRET_ACCESS_KEY"]})
        pages = list(ec.get_paginator("describe_replication_groups").paginate(PaginationConfig={"PageSize": 20}))
        assert len(pages) == 3
        groups = [g for page in pages for g in page["ReplicationGroups"]]
        ids = [g["ReplicationGroupId"] for g in groups]
        assert ids[:2] == ["app-001", "app-002"] and "app-050" in ids and "cme-004" in ids and "orders" in ids
        assert len(ids) == len(set(ids)) == 55
        # In the topology file's order, although the groups start 8 at a time.
        assert ids == [f"app-{i:03}" for i in range(1, 51)] + [f"cme-{i:03}" for i in range(1, 5)] + ["orders"]
        by_id = {g["ReplicationGroupId"]: g for g in groups}
        assert len(by_id["app-017"]["MemberClusters"]) == 1 and by_id["app-017"]["ClusterEnabled"] is False
        assert len(by_id["cme-002"]["NodeGroups"]) == 2 and by_id["cme-002"]["ClusterEnabled"] is True
        tags = ec.list_tags_for_resource(ResourceName=by_id["app-033"]["ARN"])["TagList"]
        assert tags == [{"Key": "backup", "Value": "daily"}]
        tags = ec.list_tags_for_resource(ResourceName=by_id["cme-001"]["ARN"])["TagList"]
        assert tags == [{"Key": "backup", "Value": "weekly"}]
        servers = redis_servers_of(proc.pid)
        assert len(servers) == 50 + 4 * 2 + 2
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    wait_until(lambda: not alive(servers), 30, "the redis-server processes to stop")
