"""Emulator fidelity for ElastiCache Serverless: boto3 (botocore's own model of ElastiCache) drives every serverless
action the emulator serves (DescribeServerlessCaches, CreateServerlessCacheSnapshot,
DescribeServerlessCacheSnapshots, ExportServerlessCacheSnapshot, DeleteServerlessCacheSnapshot,
CreateServerlessCache, DeleteServerlessCache, and tags on serverless ARNs) and must parse every answer; codes and
HTTP statuses are botocore's `elasticache/2015-02-02` ones. Caches of local/topologies/test.toml: `sls-one` (one
redis-server), `sls-three` (a Redis Cluster of 3 primaries), `sls-memo` (Memcached, no process)."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import boto3
import redis
from botocore.exceptions import ClientError
from redis.cluster import RedisCluster

from stack import CREDENTIALS, ELASTICACHE_CANONICAL_USER, REGION, emulator_binary, free_port, wait_until
from test_emulator import error_of, wait_status

ACCOUNT = "123456789012"


def unique(prefix="sls"):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def arn(kind: str, name: str) -> str:
    return f"arn:aws:elasticache:{REGION}:{ACCOUNT}:{kind}:{name}"


def cache(ec, name):
    return ec.describe_serverless_caches(ServerlessCacheName=name)["ServerlessCaches"][0]


def snapshot(ec, name):
    return ec.describe_serverless_cache_snapshots(ServerlessCacheSnapshotName=name)["ServerlessCacheSnapshots"][0]


def wait_cache(ec, name, wanted="available", timeout=90):
    deadline = time.monotonic() + timeout
    status = None
    while time.monotonic() < deadline:
        try:
            status = cache(ec, name)["Status"]
        except ClientError as e:
            status = e.response["Error"]["Code"]
        if status == wanted:
            return
        if status == "create-failed" and wanted != status:
            break
        time.sleep(0.1)
    events = [e["Message"] for e in ec.describe_events(SourceType="serverless-cache", SourceIdentifier=name)["Events"]]
    raise AssertionError(f"serverless cache {name} is {status}, never {wanted}: {events}")


def wait_snapshot(ec, name, wanted="available", timeout=60):
    deadline = time.monotonic() + timeout
    status = None
    while time.monotonic() < deadline:
        status = snapshot(ec, name)["Status"]
        if status == wanted:
            return
        time.sleep(0.1)
    raise AssertionError(f"serverless snapshot {name} is {status}, never {wanted}")


def wait_objects(s3, bucket, prefix, count, timeout=30):
    deadline = time.monotonic() + timeout
    keys = []
    while time.monotonic() < deadline:
        keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", []))
        if len(keys) >= count:
            return keys
        time.sleep(0.1)
    raise AssertionError(f"only {keys} under {prefix} in {bucket}")


def client_of(ec, name):
    """A client of the cache: a plain one for one shard, a cluster client for several (the endpoint is the first
    primary; the cluster client finds the others)."""
    c = cache(ec, name)
    host, port = c["Endpoint"]["Address"], c["Endpoint"]["Port"]
    plain = redis.Redis(host=host, port=port)
    if plain.info("cluster").get("cluster_enabled") == 1:
        return RedisCluster(host=host, port=port)
    return plain


def all_keys(client) -> set[bytes]:
    if isinstance(client, RedisCluster):
        return set(client.scan_iter(count=1000, target_nodes=RedisCluster.PRIMARIES))
    return set(client.scan_iter(count=1000))


def rdb_keys(data: bytes) -> set[bytes]:
    """The keys of an RDB file, as a fresh redis-server loads it."""
    with tempfile.TemporaryDirectory() as d:
        Path(d, "dump.rdb").write_bytes(data)
        port = free_port()
        proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", d,
                                 "--dbfilename", "dump.rdb", "--save", "", "--appendonly", "no"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            r = redis.Redis(port=port)
            wait_until(lambda: r.ping(), 10, "redis-server loading an exported RDB", proc)
            return set(r.scan_iter(count=1000))
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def grant_elasticache(s3, bucket, key):
    """User Guide, "Seeding a new self-designed cluster with an externally created backup" (default regions)."""
    s3.put_object_acl(Bucket=bucket, Key=key, GrantRead=f"id={ELASTICACHE_CANONICAL_USER}",
                      GrantReadACP=f"id={ELASTICACHE_CANONICAL_USER}")


def raw(stack, action: str, params: dict) -> tuple[int, bytes]:
    """A Query form POST boto3 would refuse to send (a required parameter missing)."""
    data = urllib.parse.urlencode({"Action": action, "Version": "2015-02-02", **params}).encode()
    req = urllib.request.Request(stack.elasticache_endpoint + "/", data=data,
                                 headers={"content-type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def take_snapshot(ec, cache_name, **kwargs):
    name = unique("snap")
    ec.create_serverless_cache_snapshot(ServerlessCacheSnapshotName=name, ServerlessCacheName=cache_name, **kwargs)
    wait_snapshot(ec, name)
    return name


# -- DescribeServerlessCaches --------------------------------------------------------------------------------------

def test_describe_serverless_caches_reports_the_topology_with_real_endpoints(ec):
    one = cache(ec, "sls-one")
    assert one["Status"] == "available"
    assert (one["Engine"], one["MajorEngineVersion"]) == ("redis", "7")
    assert one["FullEngineVersion"].startswith("7.")
    assert one["ARN"] == arn("serverlesscache", "sls-one")
    assert one["SecurityGroupIds"] == ["sg-0a1b2c3d"] and one["SubnetIds"] == ["subnet-0f1", "subnet-0f2"]
    assert (one["DailySnapshotTime"], one["SnapshotRetentionLimit"]) == ("04:00", 1)
    assert one["Endpoint"] == one["ReaderEndpoint"] and one["Endpoint"]["Address"] == "127.0.0.1"
    assert redis.Redis(port=one["Endpoint"]["Port"]).ping()
    assert isinstance(client_of(ec, "sls-one"), redis.Redis)
    three = client_of(ec, "sls-three")
    assert isinstance(three, RedisCluster) and len(three.get_primaries()) == 3
    memo = cache(ec, "sls-memo")
    assert (memo["Engine"], memo["MajorEngineVersion"], memo["Status"]) == ("memcached", "1.6", "available")
    assert "Endpoint" not in memo  # no memcached runs here
    # Stored lower-case, looked up case-insensitively.
    assert cache(ec, "SLS-One")["ServerlessCacheName"] == "sls-one"


def test_describe_serverless_caches_pages_and_refuses(ec):
    pages = list(ec.get_paginator("describe_serverless_caches").paginate(PaginationConfig={"PageSize": 1}))
    assert len(pages) >= 3 and "NextToken" in pages[0]
    names = [c["ServerlessCacheName"] for p in pages for c in p["ServerlessCaches"]]
    assert {"sls-one", "sls-three", "sls-memo"} <= set(names) and len(names) == len(set(names))
    assert error_of(ec.describe_serverless_caches, ServerlessCacheName="nope")[:2] == (
        "ServerlessCacheNotFoundFault", 404)
    assert error_of(ec.describe_serverless_caches, MaxResults=0)[:2] == ("InvalidParameterValue", 400)
    assert error_of(ec.describe_serverless_caches, NextToken="not-a-token")[:2] == ("InvalidParameterValue", 400)


# -- snapshots ------------------------------------------------------------------------------------------------------

def test_snapshot_lifecycle_shapes_and_refusals(ec):
    r = client_of(ec, "sls-one")
    r.set("sls:probe", "1")
    name = unique("Snap")
    snap = ec.create_serverless_cache_snapshot(ServerlessCacheSnapshotName=name, ServerlessCacheName="sls-one",
                                               Tags=[{"Key": "ecb:execution", "Value": "x"}])["ServerlessCacheSnapshot"]
    name = name.lower()
    assert snap["ServerlessCacheSnapshotName"] == name  # stored lower-cased
    assert (snap["Status"], snap["SnapshotType"]) == ("creating", "manual")
    assert snap["ARN"] == arn("serverlesscachesnapshot", name)
    assert snap["ServerlessCacheConfiguration"] == {"ServerlessCacheName": "sls-one", "Engine": "redis",
                                                    "MajorEngineVersion": "7"}
    assert "CreateTime" in snap
    # While it is being taken: a second one, deleting or exporting it are refused; the cache stays available.
    assert cache(ec, "sls-one")["Status"] == "available"
    assert error_of(ec.create_serverless_cache_snapshot, ServerlessCacheSnapshotName=unique(),
                    ServerlessCacheName="sls-one")[:2] == ("InvalidServerlessCacheStateFault", 400)
    assert error_of(ec.delete_serverless_cache_snapshot, ServerlessCacheSnapshotName=name)[:2] == (
        "InvalidServerlessCacheSnapshotStateFault", 400)
    assert error_of(ec.export_serverless_cache_snapshot, ServerlessCacheSnapshotName=name,
                    S3BucketName="whatever")[:2] == ("InvalidServerlessCacheSnapshotStateFault", 400)
    assert error_of(ec.create_serverless_cache_snapshot, ServerlessCacheSnapshotName=name,
                    ServerlessCacheName="sls-three")[:2] == ("ServerlessCacheSnapshotAlreadyExistsFault", 400)
    assert error_of(ec.create_serverless_cache_snapshot, ServerlessCacheSnapshotName=unique(),
                    ServerlessCacheName="nope")[:2] == ("ServerlessCacheNotFoundFault", 404)
    wait_snapshot(ec, name)
    described = snapshot(ec, name)
    assert int(described["BytesUsedForCache"]) > 0
    # Filters.
    assert name in [s["ServerlessCacheSnapshotName"] for s in
                    ec.describe_serverless_cache_snapshots(ServerlessCacheName="sls-one")["ServerlessCacheSnapshots"]]
    assert name not in [s["ServerlessCacheSnapshotName"] for s in ec.describe_serverless_cache_snapshots(
        ServerlessCacheName="sls-three")["ServerlessCacheSnapshots"]]
    assert ec.describe_serverless_cache_snapshots(ServerlessCacheSnapshotName=name, SnapshotType="manual")[
        "ServerlessCacheSnapshots"]
    assert error_of(ec.describe_serverless_cache_snapshots, ServerlessCacheSnapshotName=name,
                    SnapshotType="automated")[:2] == ("ServerlessCacheSnapshotNotFoundFault", 404)
    assert error_of(ec.describe_serverless_cache_snapshots, ServerlessCacheSnapshotName="nope")[:2] == (
        "ServerlessCacheSnapshotNotFoundFault", 404)
    assert error_of(ec.describe_serverless_cache_snapshots, ServerlessCacheName="nope")[:2] == (
        "ServerlessCacheNotFoundFault", 404)
    assert error_of(ec.describe_serverless_cache_snapshots, SnapshotType="weekly")[:2] == (
        "InvalidParameterValue", 400)
    assert error_of(ec.describe_serverless_cache_snapshots, MaxResults=51)[:2] == ("InvalidParameterValue", 400)
    # Tags round-trip on the snapshot and the cache.
    snap_arn = arn("serverlesscachesnapshot", name)
    assert ec.list_tags_for_resource(ResourceName=snap_arn)["TagList"] == [{"Key": "ecb:execution", "Value": "x"}]
    tagged = ec.add_tags_to_resource(ResourceName=snap_arn, Tags=[{"Key": "ecb:verdict", "Value": "verified"}])
    assert tagged["TagList"] == [{"Key": "ecb:execution", "Value": "x"}, {"Key": "ecb:verdict", "Value": "verified"}]
    deleted = ec.delete_serverless_cache_snapshot(ServerlessCacheSnapshotName=name)["ServerlessCacheSnapshot"]
    assert deleted["Status"] == "deleting"
    assert error_of(ec.describe_serverless_cache_snapshots, ServerlessCacheSnapshotName=name)[:2] == (
        "ServerlessCacheSnapshotNotFoundFault", 404)
    assert error_of(ec.delete_serverless_cache_snapshot, ServerlessCacheSnapshotName=name)[:2] == (
        "ServerlessCacheSnapshotNotFoundFault", 404)
    assert error_of(ec.list_tags_for_resource, ResourceName=snap_arn)[:2] == (
        "ServerlessCacheSnapshotNotFoundFault", 404)


def test_tags_of_a_cache_come_from_the_topology_and_can_be_added(ec):
    cache_arn = arn("serverlesscache", "sls-one")
    assert ec.list_tags_for_resource(ResourceName=cache_arn)["TagList"] == [{"Key": "backup", "Value": "daily"}]
    # Tags of other caches are their own (other modules may have added some).
    assert {"Key": "backup", "Value": "daily"} not in ec.list_tags_for_resource(
        ResourceName=arn("serverlesscache", "sls-three"))["TagList"]
    key = unique("tag")
    out = ec.add_tags_to_resource(ResourceName=arn("serverlesscache", "sls-memo"), Tags=[{"Key": key, "Value": "v"}])
    assert {"Key": key, "Value": "v"} in out["TagList"]
    assert out["TagList"] == ec.list_tags_for_resource(ResourceName=arn("serverlesscache", "sls-memo"))["TagList"]
    assert error_of(ec.list_tags_for_resource, ResourceName=arn("serverlesscache", "nope"))[:2] == (
        "ServerlessCacheNotFoundFault", 404)
    assert error_of(ec.add_tags_to_resource, ResourceName=arn("serverlesscache", "nope"),
                    Tags=[{"Key": "k", "Value": "v"}])[:2] == ("ServerlessCacheNotFoundFault", 404)


def test_a_memcached_snapshot_holds_no_data_and_is_not_exported(ec, bucket):
    name = take_snapshot(ec, "sls-memo")
    s = snapshot(ec, name)
    assert s["BytesUsedForCache"] == "0" and s["ServerlessCacheConfiguration"]["Engine"] == "memcached"
    code, status, message = error_of(ec.export_serverless_cache_snapshot, ServerlessCacheSnapshotName=name,
                                     S3BucketName=bucket)
    assert (code, status) == ("InvalidParameterValue", 400) and "Valkey and Redis OSS only" in message
    ec.delete_serverless_cache_snapshot(ServerlessCacheSnapshotName=name)


def test_the_25th_snapshot_in_24_hours_is_refused(ec):
    name = unique("quota")
    ec.create_serverless_cache(ServerlessCacheName=name, Engine="redis")
    wait_cache(ec, name)
    taken = [take_snapshot(ec, name) for _ in range(24)]
    code, status, _ = error_of(ec.create_serverless_cache_snapshot, ServerlessCacheSnapshotName=unique(),
                               ServerlessCacheName=name)
    assert (code, status) == ("ServerlessCacheSnapshotQuotaExceededFault", 400)
    # The quota counts creations, not the snapshots kept.
    for s in taken:
        ec.delete_serverless_cache_snapshot(ServerlessCacheSnapshotName=s)
    assert error_of(ec.create_serverless_cache_snapshot, ServerlessCacheSnapshotName=unique(),
                    ServerlessCacheName=name)[0] == "ServerlessCacheSnapshotQuotaExceededFault"
    ec.delete_serverless_cache(ServerlessCacheName=name)
    wait_cache(ec, name, "ServerlessCacheNotFoundFault")


# -- export ---------------------------------------------------------------------------------------------------------

def test_export_writes_one_object_per_shard_holding_the_caches_keys(ec, s3, bucket, stack):
    r = client_of(ec, "sls-three")
    written = {f"export:{i}".encode() for i in range(300)}
    for k in written:
        r.set(k, "v")
    name = take_snapshot(ec, "sls-three")
    out = ec.export_serverless_cache_snapshot(ServerlessCacheSnapshotName=name, S3BucketName=bucket)
    assert out["ServerlessCacheSnapshot"]["Status"] == "exporting"
    assert snapshot(ec, name)["Status"] == "exporting"
    keys = wait_objects(s3, bucket, name, 3)
    assert keys == [f"{name}-0001.rdb", f"{name}-0002.rdb", f"{name}-0003.rdb"]
    wait_snapshot(ec, name)
    found = set()
    for key in keys:
        data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert data.startswith(b"REDIS")
        found |= rdb_keys(data)
    assert written <= found
    # A second export under the same names is refused as CopySnapshot refuses it.
    code, status, message = error_of(ec.export_serverless_cache_snapshot, ServerlessCacheSnapshotName=name,
                                     S3BucketName=bucket)
    assert (code, status) == ("InvalidParameterValue", 400)
    assert message == f"The S3 bucket {bucket} already contains an object with key {name}-0001.rdb."
    # The event log says so.
    events = ec.describe_events(SourceType="serverless-cache-snapshot", SourceIdentifier=name)["Events"]
    messages = [e["Message"] for e in events]
    assert any(m.startswith("Export succeeded") and bucket in m for m in messages), messages
    assert any(m.startswith("Snapshot succeeded") and "sls-three" in m for m in messages), messages
    ec.delete_serverless_cache_snapshot(ServerlessCacheSnapshotName=name)
    # The deletion was journaled with the export's objects, all present.
    entry = [e for e in stack.emulator_state()["journal"]
             if e["event"] == "DeleteServerlessCacheSnapshot" and e["snapshotName"] == name][0]
    assert [o["present"] for o in entry["exportObjects"]] == [True, True, True]


def test_export_refusals(ec, bucket, stack):
    name = take_snapshot(ec, "sls-one")
    code, status, message = error_of(ec.export_serverless_cache_snapshot, ServerlessCacheSnapshotName=name,
                                     S3BucketName="no-such-bucket-here")
    assert (code, status) == ("InvalidParameterValue", 400)
    assert message == "The S3 bucket no-such-bucket-here does not exist."
    assert error_of(ec.export_serverless_cache_snapshot, ServerlessCacheSnapshotName="nope",
                    S3BucketName=bucket)[:2] == ("ServerlessCacheSnapshotNotFoundFault", 404)
    status, body = raw(stack, "ExportServerlessCacheSnapshot", {"ServerlessCacheSnapshotName": name})
    assert status == 400 and b"<Code>InvalidParameterValue</Code>" in body
    ec.delete_serverless_cache_snapshot(ServerlessCacheSnapshotName=name)


# -- faults ---------------------------------------------------------------------------------------------------------

def test_faults_cover_the_serverless_actions(ec, s3, bucket, stack):
    # Throttling, on any action.
    stack.inject({"kind": "error", "action": "CreateServerlessCacheSnapshot", "code": "Throttling",
                  "message": "Rate exceeded"})
    assert error_of(ec.create_serverless_cache_snapshot, ServerlessCacheSnapshotName=unique(),
                    ServerlessCacheName="sls-one") == ("Throttling", 400, "Rate exceeded")
    # Busy: the cache reads modifying and refuses a snapshot.
    stack.inject({"kind": "busy", "target": "sls-one", "seconds": 30})
    assert cache(ec, "sls-one")["Status"] == "modifying"
    assert error_of(ec.create_serverless_cache_snapshot, ServerlessCacheSnapshotName=unique(),
                    ServerlessCacheName="sls-one")[:2] == ("InvalidServerlessCacheStateFault", 400)
    stack.clear_faults()
    assert cache(ec, "sls-one")["Status"] == "available"
    # A failed snapshot reads failed, and can be deleted.
    stack.inject({"kind": "failSnapshot", "target": "sls-one"})
    failed = unique()
    ec.create_serverless_cache_snapshot(ServerlessCacheSnapshotName=failed, ServerlessCacheName="sls-one")
    wait_snapshot(ec, failed, "failed")
    assert error_of(ec.export_serverless_cache_snapshot, ServerlessCacheSnapshotName=failed,
                    S3BucketName=bucket)[0] == "InvalidServerlessCacheSnapshotStateFault"
    ec.delete_serverless_cache_snapshot(ServerlessCacheSnapshotName=failed)
    events = ec.describe_events(SourceType="serverless-cache-snapshot", SourceIdentifier=failed)["Events"]
    assert any(e["Message"].startswith("Snapshot failed") for e in events)
    # A refused export: accepted, nothing written, the snapshot available again, an event says why.
    name = take_snapshot(ec, "sls-one")
    stack.inject({"kind": "failExport", "target": "sls-one", "reason": "Access Denied"})
    assert ec.export_serverless_cache_snapshot(ServerlessCacheSnapshotName=name, S3BucketName=bucket)[
        "ServerlessCacheSnapshot"]["Status"] == "exporting"
    wait_snapshot(ec, name)
    assert s3.list_objects_v2(Bucket=bucket, Prefix=name).get("KeyCount", 0) == 0
    events = ec.describe_events(SourceType="serverless-cache-snapshot", SourceIdentifier=name)["Events"]
    assert any(e["Message"].startswith("Export failed") and "Access Denied" in e["Message"] for e in events)
    # A slow export stays exporting past the usual delay.
    stack.inject({"kind": "slowExport", "delaySeconds": 2.0})
    ec.export_serverless_cache_snapshot(ServerlessCacheSnapshotName=name, S3BucketName=bucket)
    time.sleep(1.0)
    assert snapshot(ec, name)["Status"] == "exporting"
    assert s3.list_objects_v2(Bucket=bucket, Prefix=name).get("KeyCount", 0) == 0
    assert wait_objects(s3, bucket, name, 1) == [f"{name}-0001.rdb"]
    wait_snapshot(ec, name)
    # A damaged export (the first object truncated).
    stack.inject({"kind": "damageExport", "mode": "truncated"})
    other = f"{bucket}-x"
    stack.create_backup_bucket(other)
    ec.export_serverless_cache_snapshot(ServerlessCacheSnapshotName=name, S3BucketName=other)
    key = wait_objects(s3, other, name, 1)[0]
    wait_snapshot(ec, name)
    assert s3.head_object(Bucket=other, Key=key)["ContentLength"] < int(snapshot(ec, name)["BytesUsedForCache"])
    ec.delete_serverless_cache_snapshot(ServerlessCacheSnapshotName=name)


# -- restore --------------------------------------------------------------------------------------------------------

def test_restore_from_s3_objects_of_a_multi_shard_export_has_the_same_keys(ec, s3, bucket):
    r = client_of(ec, "sls-three")
    r.flushall(target_nodes=RedisCluster.PRIMARIES)
    written = {f"restore:{i}".encode() for i in range(200)} | {b"{tag}a", b"{tag}b"}
    for k in written:
        r.set(k, "v")
    r.expire(b"restore:1", 3600)
    name = take_snapshot(ec, "sls-three")
    ec.export_serverless_cache_snapshot(ServerlessCacheSnapshotName=name, S3BucketName=bucket)
    keys = wait_objects(s3, bucket, name, 3)
    wait_snapshot(ec, name)
    for key in keys:
        grant_elasticache(s3, bucket, key)
    # The objects in any order: each key lands in the shard owning its slot.
    arns = [f"arn:aws:s3:::{bucket}/{k}" for k in reversed(keys)]
    new = unique("restored")
    out = ec.create_serverless_cache(ServerlessCacheName=new, Engine="redis", MajorEngineVersion="7",
                                     SnapshotArnsToRestore=arns, Tags=[{"Key": "ecb:restore", "Value": "x"}],
                                     SecurityGroupIds=["sg-1"], SubnetIds=["subnet-1"], KmsKeyId="key-1",
                                     CacheUsageLimits={"DataStorage": {"Maximum": 10, "Unit": "GB"},
                                                       "ECPUPerSecond": {"Maximum": 5000}})
    created = out["ServerlessCache"]
    assert created["Status"] == "creating" and "Endpoint" not in created
    assert created["CacheUsageLimits"] == {"DataStorage": {"Maximum": 10, "Unit": "GB"},
                                           "ECPUPerSecond": {"Maximum": 5000}}
    assert (created["KmsKeyId"], created["SecurityGroupIds"], created["SubnetIds"]) == ("key-1", ["sg-1"],
                                                                                        ["subnet-1"])
    wait_cache(ec, new)
    restored = client_of(ec, new)
    assert isinstance(restored, RedisCluster) and len(restored.get_primaries()) == 3
    assert all_keys(restored) == written
    assert 0 < restored.ttl(b"restore:1") <= 3600
    assert ec.list_tags_for_resource(ResourceName=arn("serverlesscache", new))["TagList"] == [
        {"Key": "ecb:restore", "Value": "x"}]
    events = [e["Message"] for e in ec.describe_events(SourceType="serverless-cache", SourceIdentifier=new)["Events"]]
    assert "Serverless cache created" in events
    assert ec.delete_serverless_cache(ServerlessCacheName=new)["ServerlessCache"]["Status"] == "deleting"
    wait_cache(ec, new, "ServerlessCacheNotFoundFault")
    ec.delete_serverless_cache_snapshot(ServerlessCacheSnapshotName=name)


def test_restore_from_a_serverless_or_a_node_snapshot_arn(ec):
    r = client_of(ec, "sls-one")
    r.flushall()
    r.mset({f"one:{i}": i for i in range(50)})
    serverless = take_snapshot(ec, "sls-one")
    solo = redis.Redis(port=ec.describe_cache_clusters(CacheClusterId="solo", ShowCacheNodeInfo=True)[
        "CacheClusters"][0]["CacheNodes"][0]["Endpoint"]["Port"])
    solo.flushall()
    solo.mset({f"solo:{i}": i for i in range(30)})
    node = unique("node")
    ec.create_snapshot(SnapshotName=node, CacheClusterId="solo")
    wait_status(ec, node)
    from_serverless, from_node = unique("from-sls"), unique("from-node")
    ec.create_serverless_cache(ServerlessCacheName=from_serverless, Engine="valkey",
                               SnapshotArnsToRestore=[arn("serverlesscachesnapshot", serverless)])
    ec.create_serverless_cache(ServerlessCacheName=from_node, Engine="redis",
                               SnapshotArnsToRestore=[arn("snapshot", node)])
    # The snapshots may go while the caches are being created.
    ec.delete_serverless_cache_snapshot(ServerlessCacheSnapshotName=serverless)
    ec.delete_snapshot(SnapshotName=node)
    wait_cache(ec, from_serverless)
    wait_cache(ec, from_node)
    assert all_keys(client_of(ec, from_serverless)) == {f"one:{i}".encode() for i in range(50)}
    assert all_keys(client_of(ec, from_node)) == {f"solo:{i}".encode() for i in range(30)}
    assert cache(ec, from_serverless)["Engine"] == "valkey"
    for c in (from_serverless, from_node):
        ec.delete_serverless_cache(ServerlessCacheName=c)
    for c in (from_serverless, from_node):
        wait_cache(ec, c, "ServerlessCacheNotFoundFault")


def test_create_serverless_cache_refusals_and_an_unloadable_rdb(ec, s3, bucket, stack):
    assert error_of(ec.create_serverless_cache, ServerlessCacheName="sls-one", Engine="redis")[:2] == (
        "ServerlessCacheAlreadyExistsFault", 400)
    for bad in ("arn:aws:elasticache:us-east-1:123456789012:snapshot:nope",
                "arn:aws:elasticache:us-east-1:123456789012:serverlesscachesnapshot:nope",
                "arn:aws:elasticache:us-east-1:123456789012:replicationgroup:orders",
                "not-an-arn", f"arn:aws:s3:::{bucket}/missing.rdb"):
        assert error_of(ec.create_serverless_cache, ServerlessCacheName=unique(), Engine="redis",
                        SnapshotArnsToRestore=[bad])[:2] == ("InvalidParameterValue", 400), bad
    assert error_of(ec.create_serverless_cache, ServerlessCacheName=unique(), Engine="mysql")[:2] == (
        "InvalidParameterValue", 400)
    assert error_of(ec.create_serverless_cache, ServerlessCacheName=unique(), Engine="memcached",
                    UserGroupId="g")[:2] == ("InvalidParameterCombination", 400)
    status, body = raw(stack, "CreateServerlessCache", {"ServerlessCacheName": unique()})  # Engine is required
    assert status == 400 and b"<Code>InvalidParameterValue</Code>" in body and b"Engine" in body
    # An RDB redis-server refuses: the cache ends create-failed, and can be deleted.
    s3.put_object(Bucket=bucket, Key="garbage.rdb", Body=b"REDIS0010 this is not an RDB file")
    grant_elasticache(s3, bucket, "garbage.rdb")
    name = unique("garbage")
    ec.create_serverless_cache(ServerlessCacheName=name, Engine="redis",
                               SnapshotArnsToRestore=[f"arn:aws:s3:::{bucket}/garbage.rdb"])
    wait_cache(ec, name, "create-failed")
    events = [e["Message"] for e in ec.describe_events(SourceType="serverless-cache", SourceIdentifier=name)["Events"]]
    assert any(m.startswith("Serverless cache creation failed") for m in events), events
    ec.delete_serverless_cache(ServerlessCacheName=name)
    wait_cache(ec, name, "ServerlessCacheNotFoundFault")


def test_delete_serverless_cache_takes_a_final_snapshot_and_refuses(ec):
    assert error_of(ec.delete_serverless_cache, ServerlessCacheName="nope")[:2] == (
        "ServerlessCacheNotFoundFault", 404)
    name = unique("final")
    ec.create_serverless_cache(ServerlessCacheName=name, Engine="redis", Description="to be deleted")
    assert error_of(ec.delete_serverless_cache, ServerlessCacheName=name)[:2] == (
        "InvalidServerlessCacheStateFault", 400)  # still creating
    wait_cache(ec, name)
    assert cache(ec, name)["Description"] == "to be deleted"
    client_of(ec, name).set("kept", "1")
    existing = take_snapshot(ec, "sls-memo")
    assert error_of(ec.delete_serverless_cache, ServerlessCacheName=name, FinalSnapshotName=existing)[:2] == (
        "ServerlessCacheSnapshotAlreadyExistsFault", 400)
    final = unique("last")
    assert ec.delete_serverless_cache(ServerlessCacheName=name, FinalSnapshotName=final)["ServerlessCache"][
        "Status"] == "deleting"
    assert error_of(ec.delete_serverless_cache, ServerlessCacheName=name)[:2] == (
        "InvalidServerlessCacheStateFault", 400)
    wait_snapshot(ec, final)
    wait_cache(ec, name, "ServerlessCacheNotFoundFault")
    assert int(snapshot(ec, final)["BytesUsedForCache"]) > 0
    for s in (final, existing):
        ec.delete_serverless_cache_snapshot(ServerlessCacheSnapshotName=s)


# -- the export key template (its own emulator: the template is fixed at start) --------------------------------------

TEMPLATE_TOPOLOGY = """
[[serverless_cache]]
id = "single"

[[serverless_cache]]
id = "double"
shards = 2
"""


def test_a_template_without_shard_names_one_object_and_refuses_several_shards(stack, s3, bucket, tmp_path):
    topology = tmp_path / "serverless.toml"
    topology.write_text(TEMPLATE_TOPOLOGY)
    env = {**os.environ, **CREDENTIALS, "AWS_ENDPOINT_URL_S3": stack.s3_endpoint,
           "ECB_EMULATOR_SERVERLESS_EXPORT_KEY": "{snapshot}/backup.rdb"}
    # A template that cannot name an export is refused at start.
    bad = subprocess.run([str(emulator_binary()), "--topology", str(topology)], capture_output=True, text=True,
                         env={**env, "ECB_EMULATOR_SERVERLESS_EXPORT_KEY": "backup.rdb"}, timeout=30)
    assert bad.returncode == 1 and "{snapshot}" in bad.stderr
    ready = tmp_path / "ready.json"
    proc = subprocess.Popen([str(emulator_binary()), "--topology", str(topology), "--ready-file", str(ready),
                             "--state-dir", str(tmp_path / "state"), "--snapshot-min-seconds", "0.2",
                             "--export-delay-seconds", "0.2"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_until(ready.exists, 60, "emulator with a serverless export template", proc)
        info = json.loads(ready.read_text())
        assert [len(info["serverlessCaches"][c]["ports"]) for c in ("single", "double")] == [1, 2]
        ec = boto3.client("elasticache", endpoint_url=info["endpoint"], region_name=REGION,
                          aws_access_key_id="test", aws_secret_access_key="test")
        redis.Redis(port=info["serverlessCaches"]["single"]["ports"][0]).set("t", "1")
        one, two = take_snapshot(ec, "single"), take_snapshot(ec, "double")
        ec.export_serverless_cache_snapshot(ServerlessCacheSnapshotName=one, S3BucketName=bucket)
        assert wait_objects(s3, bucket, one, 1) == [f"{one}/backup.rdb"]
        code, status, message = error_of(ec.export_serverless_cache_snapshot, ServerlessCacheSnapshotName=two,
                                         S3BucketName=bucket)
        assert (code, status) == ("InvalidParameterValue", 400)
        assert "{shard}" in message and "2-shard" in message
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=10)


def test_export_damage_modes_name_objects_alike_for_node_and_serverless_exports(ec, s3, stack):
    """Both exports share one uploader: misnumbered, reversed and duplicated objects as test_faults.py expects them
    (`-0001, -0003, -0004` for three shards; the reverse order; the first shard's data twice)."""
    r = client_of(ec, "sls-three")
    for i in range(100):
        r.set(f"damage:{i}", i)  # every shard holds keys of its own: their RDBs differ
    group = unique("grp")
    ec.create_snapshot(SnapshotName=group, ReplicationGroupId="sessions")
    wait_status(ec, group)
    serverless = take_snapshot(ec, "sls-three")

    def export(kind, mode):
        bucket = unique("damage")
        stack.create_backup_bucket(bucket)
        stack.inject({"kind": "damageExport", "mode": mode})
        if kind == "node":
            ec.copy_snapshot(SourceSnapshotName=group, TargetSnapshotName=f"{group}-x", TargetBucket=bucket)
            prefix = f"{group}-x"
            wait_status(ec, group)
        else:
            ec.export_serverless_cache_snapshot(ServerlessCacheSnapshotName=serverless, S3BucketName=bucket)
            prefix = serverless
            wait_snapshot(ec, serverless)
        keys = wait_objects(s3, bucket, prefix, 3)
        bodies = [s3.get_object(Bucket=bucket, Key=k)["Body"].read() for k in keys]
        return [k[len(prefix):] for k in keys], bodies

    for kind in ("node", "serverless"):
        names, _ = export(kind, "misnumbered")
        assert names == ["-0001.rdb", "-0003.rdb", "-0004.rdb"], kind
        names, reversed_bodies = export(kind, "reversed")
        names_plain, bodies = export(kind, "flipped")
        assert names == names_plain == ["-0001.rdb", "-0002.rdb", "-0003.rdb"], kind
        assert reversed_bodies[0] != bodies[0] or reversed_bodies[2] != bodies[2], kind
        _, duplicated = export(kind, "duplicated")
        assert duplicated[1] == duplicated[0] and duplicated[2] != duplicated[0], kind
    ec.delete_snapshot(SnapshotName=group)
    ec.delete_serverless_cache_snapshot(ServerlessCacheSnapshotName=serverless)
