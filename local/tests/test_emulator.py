"""Emulator fidelity: boto3 (botocore's own model of ElastiCache) calls every emulated action, success and each
error, and must parse every answer. Codes and HTTP statuses are botocore's `elasticache/2015-02-02` ones."""

import time
import uuid

import pytest
import redis
from botocore.exceptions import ClientError


def error_of(call, **kwargs):
    with pytest.raises(ClientError) as e:
        call(**kwargs)
    err = e.value.response
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Message"]


def wait_status(ec, name, wanted="available", timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = ec.describe_snapshots(SnapshotName=name)["Snapshots"][0]["SnapshotStatus"]
        if status == wanted:
            return
        time.sleep(0.1)
    raise AssertionError(f"{name} never became {wanted}")


def unique(prefix="fid"):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def test_describe_replication_groups_reports_members_roles_and_real_endpoints(ec):
    rg = ec.describe_replication_groups(ReplicationGroupId="fidelity")["ReplicationGroups"][0]
    assert rg["Status"] == "available"
    assert rg["ClusterEnabled"] is False
    assert rg["MemberClusters"] == ["fidelity-001", "fidelity-002"]
    members = rg["NodeGroups"][0]["NodeGroupMembers"]
    assert [(m["CacheClusterId"], m["CurrentRole"]) for m in members] == [
        ("fidelity-001", "primary"), ("fidelity-002", "replica")]
    primary = rg["NodeGroups"][0]["PrimaryEndpoint"]
    replica = members[1]["ReadEndpoint"]
    # The endpoints are the real nodes: a write to the primary is read back from the replica.
    redis.Redis(host=primary["Address"], port=primary["Port"]).set("fidelity:probe", "1")
    r = redis.Redis(host=replica["Address"], port=replica["Port"])
    deadline = time.monotonic() + 5
    while r.get("fidelity:probe") != b"1" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert r.get("fidelity:probe") == b"1"


def test_describe_replication_groups_cluster_mode_enabled_has_shards_and_slots(ec):
    rg = ec.describe_replication_groups(ReplicationGroupId="sessions")["ReplicationGroups"][0]
    assert rg["ClusterEnabled"] is True and rg["ClusterMode"] == "enabled"
    assert [ng["NodeGroupId"] for ng in rg["NodeGroups"]] == ["0001", "0002", "0003"]
    assert rg["NodeGroups"][0]["Slots"] == "0-5460"
    assert "CurrentRole" not in rg["NodeGroups"][0]["NodeGroupMembers"][0]
    assert rg["ConfigurationEndpoint"]["Address"] == "127.0.0.1"


def test_describe_replication_groups_errors(ec):
    assert error_of(ec.describe_replication_groups, ReplicationGroupId="nope")[:2] == (
        "ReplicationGroupNotFoundFault", 404)
    assert error_of(ec.describe_replication_groups, MaxRecords=5)[:2] == ("InvalidParameterValue", 400)


def test_describe_replication_groups_all_and_paginated(ec):
    ids = [g["ReplicationGroupId"] for p in ec.get_paginator("describe_replication_groups").paginate()
           for g in p["ReplicationGroups"]]
    assert {"orders", "sessions", "carts", "tiered", "fidelity"} <= set(ids)
    tiered = ec.describe_replication_groups(ReplicationGroupId="tiered")["ReplicationGroups"][0]
    assert tiered["DataTiering"] == "enabled"


def test_describe_cache_clusters_with_node_info(ec):
    cc = ec.describe_cache_clusters(CacheClusterId="fidelity-002", ShowCacheNodeInfo=True)["CacheClusters"][0]
    assert cc["CacheClusterStatus"] == "available"
    assert cc["ReplicationGroupId"] == "fidelity"
    assert cc["Engine"] == "redis" and cc["EngineVersion"].startswith("7.")
    endpoint = cc["CacheNodes"][0]["Endpoint"]
    assert redis.Redis(host=endpoint["Address"], port=endpoint["Port"]).ping()
    standalone = ec.describe_cache_clusters(ShowCacheClustersNotInReplicationGroups=True)["CacheClusters"]
    assert {c["CacheClusterId"] for c in standalone} == {"memo", "solo"}
    assert next(c for c in standalone if c["CacheClusterId"] == "memo")["Engine"] == "memcached"


def test_describe_cache_clusters_errors(ec):
    assert error_of(ec.describe_cache_clusters, CacheClusterId="nope")[:2] == ("CacheClusterNotFound", 404)
    assert error_of(ec.describe_cache_clusters, MaxRecords=101)[:2] == ("InvalidParameterValue", 400)


def test_create_snapshot_of_a_node_then_describe_delete(ec):
    name = unique()
    snap = ec.create_snapshot(SnapshotName=name.upper(), CacheClusterId="fidelity-002")["Snapshot"]
    assert snap["SnapshotName"] == name  # stored lower-cased
    assert snap["SnapshotStatus"] == "creating"
    assert snap["SnapshotSource"] == "manual"
    # While it is being created the node reads `snapshotting` and the group refuses a second one.
    assert ec.describe_cache_clusters(CacheClusterId="fidelity-002")["CacheClusters"][0]["CacheClusterStatus"] == \
        "snapshotting"
    assert ec.describe_replication_groups(ReplicationGroupId="fidelity")["ReplicationGroups"][0]["Status"] == \
        "snapshotting"
    assert error_of(ec.create_snapshot, SnapshotName=unique(), CacheClusterId="fidelity-001")[:2] == (
        "InvalidCacheClusterState", 400)
    assert error_of(ec.create_snapshot, SnapshotName=unique(), ReplicationGroupId="fidelity")[:2] == (
        "InvalidReplicationGroupState", 400)
    assert error_of(ec.delete_snapshot, SnapshotName=name)[:2] == ("InvalidSnapshotState", 400)
    wait_status(ec, name)
    described = ec.describe_snapshots(SnapshotName=name)["Snapshots"][0]
    assert described["CacheClusterId"] == "fidelity-002" and described["ReplicationGroupId"] == "fidelity"
    assert described["NumNodeGroups"] == 1
    assert described["NodeSnapshots"][0]["CacheClusterId"] == "fidelity-002"
    assert "SnapshotCreateTime" in described["NodeSnapshots"][0]
    assert ec.describe_snapshots(CacheClusterId="fidelity-002", SnapshotSource="user")["Snapshots"]
    assert ec.describe_snapshots(CacheClusterId="fidelity-002", SnapshotSource="system")["Snapshots"] == []
    assert error_of(ec.create_snapshot, SnapshotName=name, CacheClusterId="fidelity-002")[:2] == (
        "SnapshotAlreadyExistsFault", 400)
    deleted = ec.delete_snapshot(SnapshotName=name)["Snapshot"]
    assert deleted["SnapshotStatus"] == "deleting"
    assert error_of(ec.describe_snapshots, SnapshotName=name)[:2] == ("SnapshotNotFoundFault", 404)
    assert error_of(ec.delete_snapshot, SnapshotName=name)[:2] == ("SnapshotNotFoundFault", 404)


def test_create_snapshot_errors(ec, stack):
    assert error_of(ec.create_snapshot, SnapshotName=unique(), CacheClusterId="nope")[:2] == (
        "CacheClusterNotFound", 404)
    assert error_of(ec.create_snapshot, SnapshotName=unique(), ReplicationGroupId="nope")[:2] == (
        "ReplicationGroupNotFoundFault", 404)
    assert error_of(ec.create_snapshot, SnapshotName=unique(), CacheClusterId="memo")[:2] == (
        "SnapshotFeatureNotSupportedFault", 400)
    assert error_of(ec.create_snapshot, SnapshotName=unique(), CacheClusterId="fidelity-001",
                    ReplicationGroupId="fidelity")[:2] == ("InvalidParameterCombination", 400)
    assert error_of(ec.create_snapshot, SnapshotName=unique(), CacheClusterId="sessions-0001-001")[:2] == (
        "InvalidParameterCombination", 400)
    stack.inject({"kind": "error", "action": "CreateSnapshot", "code": "SnapshotQuotaExceededFault",
                  "message": "The request cannot be processed because it would exceed the maximum number of snapshots."})
    assert error_of(ec.create_snapshot, SnapshotName=unique(), CacheClusterId="fidelity-002")[:2] == (
        "SnapshotQuotaExceededFault", 400)
    stack.inject({"kind": "error", "action": "CreateSnapshot", "code": "Throttling", "message": "Rate exceeded"})
    code, status, message = error_of(ec.create_snapshot, SnapshotName=unique(), CacheClusterId="fidelity-002")
    assert (code, status, message) == ("Throttling", 400, "Rate exceeded")
    stack.inject({"kind": "busy", "target": "fidelity", "seconds": 30})
    assert ec.describe_replication_groups(ReplicationGroupId="fidelity")["ReplicationGroups"][0]["Status"] == \
        "modifying"
    assert error_of(ec.create_snapshot, SnapshotName=unique(), ReplicationGroupId="fidelity")[:2] == (
        "InvalidReplicationGroupState", 400)
    stack.clear_faults()
    assert ec.describe_replication_groups(ReplicationGroupId="fidelity")["ReplicationGroups"][0]["Status"] == \
        "available"


def test_cluster_mode_enabled_snapshot_covers_every_shard(ec):
    name = unique()
    snap = ec.create_snapshot(SnapshotName=name, ReplicationGroupId="sessions")["Snapshot"]
    assert snap["NumNodeGroups"] == 3 and "CacheClusterId" not in snap
    wait_status(ec, name)
    nodes = ec.describe_snapshots(SnapshotName=name)["Snapshots"][0]["NodeSnapshots"]
    assert [n["NodeGroupId"] for n in nodes] == ["0001", "0002", "0003"]
    ec.delete_snapshot(SnapshotName=name)


def test_describe_snapshots_errors(ec):
    assert error_of(ec.describe_snapshots, SnapshotName="nope")[:2] == ("SnapshotNotFoundFault", 404)
    assert error_of(ec.describe_snapshots, CacheClusterId="nope")[:2] == ("CacheClusterNotFound", 404)
    assert error_of(ec.describe_snapshots, SnapshotSource="automatic")[:2] == ("InvalidParameterValue", 400)
    assert error_of(ec.describe_snapshots, MaxRecords=51)[:2] == ("InvalidParameterValue", 400)


def test_describe_snapshots_paginates_with_marker(ec):
    base = unique("page")
    ec.create_snapshot(SnapshotName=base, CacheClusterId="solo")
    wait_status(ec, base)
    copies = [f"{base}-{i:02}" for i in range(24)]
    for c in copies:
        assert ec.copy_snapshot(SourceSnapshotName=base, TargetSnapshotName=c)["Snapshot"]["SnapshotName"] == c
    pages = list(ec.get_paginator("describe_snapshots").paginate(CacheClusterId="solo",
                                                                 PaginationConfig={"PageSize": 20}))
    assert len(pages) >= 2 and "Marker" in pages[0]
    names = [s["SnapshotName"] for p in pages for s in p["Snapshots"]]
    assert set(copies + [base]) <= set(names)
    assert len(names) == len(set(names))
    for c in copies + [base]:
        ec.delete_snapshot(SnapshotName=c)


def test_copy_snapshot_exports_every_shard_to_the_bucket(ec, s3, bucket):
    name = unique()
    ec.create_snapshot(SnapshotName=name, ReplicationGroupId="sessions")
    assert error_of(ec.copy_snapshot, SourceSnapshotName=name, TargetSnapshotName=name, TargetBucket=bucket)[:2] == (
        "InvalidSnapshotState", 400)
    wait_status(ec, name)
    out = ec.copy_snapshot(SourceSnapshotName=name, TargetSnapshotName=f"{name}-x", TargetBucket=bucket)
    assert out["Snapshot"]["SnapshotName"] == name
    deadline = time.monotonic() + 20
    keys = []
    while time.monotonic() < deadline and len(keys) < 3:
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
        time.sleep(0.1)
    assert sorted(keys) == [f"{name}-x-0001.rdb", f"{name}-x-0002.rdb", f"{name}-x-0003.rdb"]
    body = s3.get_object(Bucket=bucket, Key=keys[0])["Body"].read()
    assert body.startswith(b"REDIS")
    wait_status(ec, name)
    # The bucket refuses an existing key.
    code, status, message = error_of(ec.copy_snapshot, SourceSnapshotName=name, TargetSnapshotName=f"{name}-x",
                                     TargetBucket=bucket)
    assert (code, status) == ("InvalidParameterValue", 400)
    assert message == f"The S3 bucket {bucket} already contains an object with key {name}-x-0001.rdb."
    ec.delete_snapshot(SnapshotName=name)


def test_copy_snapshot_errors(ec, stack):
    name = unique()
    ec.create_snapshot(SnapshotName=name, CacheClusterId="solo")
    wait_status(ec, name)
    code, status, message = error_of(ec.copy_snapshot, SourceSnapshotName=name, TargetSnapshotName="x",
                                     TargetBucket="no-such-bucket-here")
    assert (code, status, message) == ("InvalidParameterValue", 400, "The S3 bucket no-such-bucket-here does not exist.")
    assert error_of(ec.copy_snapshot, SourceSnapshotName="nope", TargetSnapshotName="x", TargetBucket="b")[:2] == (
        "SnapshotNotFoundFault", 404)
    ec.copy_snapshot(SourceSnapshotName=name, TargetSnapshotName=f"{name}-copy")
    assert error_of(ec.copy_snapshot, SourceSnapshotName=name, TargetSnapshotName=f"{name}-copy")[:2] == (
        "SnapshotAlreadyExistsFault", 400)
    stack.inject({"kind": "error", "action": "CopySnapshot", "code": "InvalidParameterValue",
                  "message": "The S3 bucket b is outside of the region."})
    assert error_of(ec.copy_snapshot, SourceSnapshotName=name, TargetSnapshotName="y", TargetBucket="b")[2] == \
        "The S3 bucket b is outside of the region."
    for n in (name, f"{name}-copy"):
        ec.delete_snapshot(SnapshotName=n)


def test_failed_snapshot_reads_failed(ec, stack):
    stack.inject({"kind": "failSnapshot", "target": "solo"})
    name = unique()
    ec.create_snapshot(SnapshotName=name, CacheClusterId="solo")
    wait_status(ec, name, "failed")
    ec.delete_snapshot(SnapshotName=name)


def test_unknown_action_is_rejected(stack):
    import urllib.error
    import urllib.request
    req = urllib.request.Request(stack.elasticache_endpoint + "/", data=b"Action=RebootCacheCluster&Version=2015-02-02",
                                 headers={"content-type": "application/x-www-form-urlencoded"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=5)
    assert e.value.code == 400
    assert b"<Code>InvalidAction</Code>" in e.value.read()


def test_the_deletion_invariant_catches_unsafe_deletions():
    from stack import check_deletions

    check_deletions([{"snapshotName": "ecb-a", "exportObjects": [{"bucket": "b", "key": "k", "present": True}]}])
    with pytest.raises(AssertionError, match="never exported"):
        check_deletions([{"snapshotName": "ecb-a", "exportObjects": []}])
    with pytest.raises(AssertionError, match="were not in S3"):
        check_deletions([{"snapshotName": "ecb-a", "exportObjects": [
            {"bucket": "b", "key": "k1", "present": True}, {"bucket": "b", "key": "k2", "present": False}]}])


def test_deletions_by_the_handlers_are_told_from_test_clean_up(ec, stack):
    name = unique()
    ec.create_snapshot(SnapshotName=name, CacheClusterId="solo")
    wait_status(ec, name)
    ec.delete_snapshot(SnapshotName=name)
    entry = [e for e in stack.emulator_state()["journal"]
             if e["event"] == "DeleteSnapshot" and e["snapshotName"] == name][0]
    assert "Boto3" in entry["userAgent"]
    assert name not in [d["snapshotName"] for d in stack.deletions()]


def test_tags_come_from_the_topology(ec):
    group = ec.describe_replication_groups(ReplicationGroupId="fidelity")["ReplicationGroups"][0]
    tags = ec.list_tags_for_resource(ResourceName=group["ARN"])["TagList"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("backup", "daily"), ("team", "payments")]
    solo = ec.describe_cache_clusters(CacheClusterId="solo")["CacheClusters"][0]
    assert ec.list_tags_for_resource(ResourceName=solo["ARN"])["TagList"] == [{"Key": "backup", "Value": "weekly"}]
    member = ec.describe_cache_clusters(CacheClusterId="fidelity-001")["CacheClusters"][0]
    assert ec.list_tags_for_resource(ResourceName=member["ARN"])["TagList"] == []
    code, _, _ = error_of(ec.list_tags_for_resource,
                          ResourceName=solo["ARN"].replace(":cluster:solo", ":cluster:nope"))
    assert code == "CacheClusterNotFound"


def test_a_snapshot_can_be_aged_for_tests_of_old_snapshots(ec, stack):
    name = unique("aged")
    ec.create_snapshot(CacheClusterId="fidelity-002", SnapshotName=name)
    wait_status(ec, name)
    stack.inject({"kind": "ageSnapshot", "name": name, "days": 10})
    created = ec.describe_snapshots(SnapshotName=name)["Snapshots"][0]["NodeSnapshots"][0]["SnapshotCreateTime"]
    age_days = (time.time() - created.timestamp()) / 86400
    assert 9.9 < age_days < 10.1, age_days
    ec.delete_snapshot(SnapshotName=name)
