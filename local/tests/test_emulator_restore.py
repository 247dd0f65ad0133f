"""Emulator fidelity for restores: boto3 calls CreateReplicationGroup (from S3 objects and from a kept snapshot),
DeleteReplicationGroup and ListTagsForResource, and must parse every answer; codes and statuses are botocore's."""

import time
import uuid

import pytest
import redis
from botocore.exceptions import ClientError

from stack import ELASTICACHE_CANONICAL_USER
from test_emulator import error_of, wait_status


def unique(prefix="rst"):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def wait_group(ec, group, wanted, timeout=60):
    deadline = time.monotonic() + timeout
    status = None
    while time.monotonic() < deadline:
        try:
            status = ec.describe_replication_groups(ReplicationGroupId=group)["ReplicationGroups"][0]["Status"]
        except ClientError as e:
            status = e.response["Error"]["Code"]
        if status == wanted:
            return
        time.sleep(0.1)
    raise AssertionError(f"{group} is {status}, never {wanted}")


def upload_rdb(stack, s3, bucket, key, keys=50, prefix="r", grant=True):
    """A real RDB with `keys` keys: written by the orders primary, saved and uploaded; with `grant`, its object ACL
    lets ElastiCache read it (the default regions' seeding route)."""
    port = stack.primary_port("fidelity")
    r = redis.Redis(port=port)
    r.flushall()
    for i in range(keys):
        r.set(f"{prefix}:{i}", i)
    r.save()
    path = r.config_get("dir")["dir"] + "/dump.rdb"
    s3.upload_file(path, bucket, key)
    r.flushall()
    if grant:
        grant_elasticache(s3, bucket, key)


def grant_elasticache(s3, bucket, key):
    """User Guide, "Seeding a new self-designed cluster with an externally created backup" (default regions): read
    access on the object and its ACL for ElastiCache's canonical user."""
    s3.put_object_acl(Bucket=bucket, Key=key, GrantRead=f"id={ELASTICACHE_CANONICAL_USER}",
                      GrantReadACP=f"id={ELASTICACHE_CANONICAL_USER}")


def test_create_from_snapshot_arns_loads_the_rdb_and_tags_the_group(stack, ec, s3, bucket):
    stack.allow_elasticache_seeding(bucket)
    upload_rdb(stack, s3, bucket, "seed-0001.rdb", keys=42)
    group = unique()
    out = ec.create_replication_group(
        ReplicationGroupId=group, ReplicationGroupDescription="restore", ReplicasPerNodeGroup=1,
        SnapshotArns=[f"arn:aws:s3:::{bucket}/seed-0001.rdb"], Tags=[{"Key": "ecb:restore", "Value": "x"}])
    assert out["ReplicationGroup"]["Status"] == "creating"
    node = ec.describe_cache_clusters(CacheClusterId=f"{group}-001")["CacheClusters"][0]
    assert node["CacheClusterStatus"] == "creating"
    wait_group(ec, group, "available")
    rg = ec.describe_replication_groups(ReplicationGroupId=group)["ReplicationGroups"][0]
    endpoint = rg["NodeGroups"][0]["PrimaryEndpoint"]
    assert redis.Redis(host=endpoint["Address"], port=endpoint["Port"]).dbsize() == 42
    arn = rg["ARN"]
    assert ec.list_tags_for_resource(ResourceName=arn)["TagList"] == [{"Key": "ecb:restore", "Value": "x"}]
    assert ec.delete_replication_group(ReplicationGroupId=group)["ReplicationGroup"]["Status"] == "deleting"
    wait_group(ec, group, "ReplicationGroupNotFoundFault")


def test_cluster_mode_enabled_needs_slots_and_gets_them(stack, ec, s3, bucket):
    stack.allow_elasticache_seeding(bucket)
    upload_rdb(stack, s3, bucket, "cme-0001.rdb", keys=0)
    upload_rdb(stack, s3, bucket, "cme-0002.rdb", keys=0)
    arns = [f"arn:aws:s3:::{bucket}/cme-000{i}.rdb" for i in (1, 2)]
    code, status, message = error_of(ec.create_replication_group, ReplicationGroupId=unique(),
                                     ReplicationGroupDescription="d", NumNodeGroups=2, SnapshotArns=arns,
                                     AutomaticFailoverEnabled=True)
    assert (code, status) == ("InvalidParameterCombination", 400)
    assert "Slots must be provided" in message
    config = [{"NodeGroupId": "0001", "Slots": "0-8191"}, {"NodeGroupId": "0002", "Slots": "8192-16383"}]
    # Cluster mode enabled without automatic failover: refused as AWS refuses it (the model: "must be enabled").
    code, status, message = error_of(ec.create_replication_group, ReplicationGroupId=unique(),
                                     ReplicationGroupDescription="d", NumNodeGroups=2, SnapshotArns=arns,
                                     NodeGroupConfiguration=config)
    assert (code, status) == ("InvalidParameterValue", 400)
    assert "cannot be created with auto failover turned off" in message
    # Multi-AZ without automatic failover (a cluster mode disabled group with a replica).
    code, _, _ = error_of(ec.create_replication_group, ReplicationGroupId=unique(),
                          ReplicationGroupDescription="d", ReplicasPerNodeGroup=1,
                          AutomaticFailoverEnabled=False, MultiAZEnabled=True)
    assert code == "InvalidParameterCombination"
    group = unique()
    ec.create_replication_group(
        ReplicationGroupId=group, ReplicationGroupDescription="d", NumNodeGroups=2, SnapshotArns=arns,
        NodeGroupConfiguration=config, AutomaticFailoverEnabled=True)
    wait_group(ec, group, "available")
    rg = ec.describe_replication_groups(ReplicationGroupId=group)["ReplicationGroups"][0]
    assert [ng["Slots"] for ng in rg["NodeGroups"]] == ["0-8191", "8192-16383"]
    ec.delete_replication_group(ReplicationGroupId=group)


@pytest.mark.parametrize("arn, code", [
    ("arn:aws:elasticache:us-east-1:123456789012:snapshot:ecb-x", "InvalidParameterValue"),
    ("arn:aws:s3:::{bucket}/missing-0001.rdb", "InvalidParameterValue"),
])
def test_bad_seeds_are_refused(stack, ec, bucket, arn, code):
    stack.allow_elasticache_seeding(bucket)
    got, status, _ = error_of(ec.create_replication_group, ReplicationGroupId=unique(),
                              ReplicationGroupDescription="d", SnapshotArns=[arn.format(bucket=bucket)])
    assert (got, status) == (code, 400)


def test_a_seed_elasticache_may_not_read_is_refused(stack, ec, s3):
    bucket = f"private-{unique()}"
    s3.create_bucket(Bucket=bucket)  # no bucket policy, no object grant: ElastiCache may not read it
    upload_rdb(stack, s3, bucket, "private-0001.rdb", keys=1, grant=False)
    arns = [f"arn:aws:s3:::{bucket}/private-0001.rdb"]
    code, _, message = error_of(ec.create_replication_group, ReplicationGroupId=unique(),
                                ReplicationGroupDescription="d", SnapshotArns=arns)
    assert code == "InvalidParameterValue" and "Unable to fetch metadata from S3" in message
    # A default region (the emulator's us-east-1): the bucket policy for the regional principal is not the route…
    stack.allow_elasticache_seeding(bucket)
    code, _, _ = error_of(ec.create_replication_group, ReplicationGroupId=unique(),
                          ReplicationGroupDescription="d", SnapshotArns=arns)
    assert code == "InvalidParameterValue"
    # … a grant of READ alone is not either (the guide asks for the object and its permissions) …
    s3.put_object_acl(Bucket=bucket, Key="private-0001.rdb", GrantRead=f"id={ELASTICACHE_CANONICAL_USER}")
    code, _, _ = error_of(ec.create_replication_group, ReplicationGroupId=unique(),
                          ReplicationGroupDescription="d", SnapshotArns=arns)
    assert code == "InvalidParameterValue"
    # … an SSE-KMS object cannot be read whatever it grants (seeding reads SSE-S3 only) …
    s3.copy_object(Bucket=bucket, Key="kms-0001.rdb", CopySource=f"{bucket}/private-0001.rdb",
                   ServerSideEncryption="aws:kms", SSEKMSKeyId="alias/aws/s3")
    grant_elasticache(s3, bucket, "kms-0001.rdb")
    code, _, _ = error_of(ec.create_replication_group, ReplicationGroupId=unique(),
                          ReplicationGroupDescription="d", SnapshotArns=[f"arn:aws:s3:::{bucket}/kms-0001.rdb"])
    assert code == "InvalidParameterValue"
    # … the object ACL with READ and READ_ACP is.
    grant_elasticache(s3, bucket, "private-0001.rdb")
    group = unique()
    ec.create_replication_group(ReplicationGroupId=group, ReplicationGroupDescription="d", SnapshotArns=arns)
    wait_group(ec, group, "available")
    ec.delete_replication_group(ReplicationGroupId=group)


def test_an_opt_in_region_seeds_by_the_bucket_policy_only(stack, ec, s3):
    bucket = f"optin-{unique()}"
    s3.create_bucket(Bucket=bucket)
    upload_rdb(stack, s3, bucket, "o-0001.rdb", keys=3)  # with the object ACL grant
    arns = [f"arn:aws:s3:::{bucket}/o-0001.rdb"]
    stack.inject({"kind": "seedingRoute", "route": "bucket-policy"})
    try:
        code, _, _ = error_of(ec.create_replication_group, ReplicationGroupId=unique(),
                              ReplicationGroupDescription="d", SnapshotArns=arns)
        assert code == "InvalidParameterValue"
        stack.allow_elasticache_seeding(bucket)
        group = unique()
        ec.create_replication_group(ReplicationGroupId=group, ReplicationGroupDescription="d", SnapshotArns=arns)
        wait_group(ec, group, "available")
        ec.delete_replication_group(ReplicationGroupId=group)
    finally:
        stack.inject({"kind": "seedingRoute", "route": "object-acl"})


def test_an_existing_id_is_refused_and_a_file_redis_refuses_fails_the_group(stack, ec, s3, bucket):
    code, status, _ = error_of(ec.create_replication_group, ReplicationGroupId="orders",
                               ReplicationGroupDescription="d")
    assert (code, status) == ("ReplicationGroupAlreadyExists", 400)
    stack.allow_elasticache_seeding(bucket)
    s3.put_object(Bucket=bucket, Key="junk-0001.rdb", Body=b"REDIS0010 this is not an rdb file")
    grant_elasticache(s3, bucket, "junk-0001.rdb")
    group = unique()
    ec.create_replication_group(ReplicationGroupId=group, ReplicationGroupDescription="d",
                                SnapshotArns=[f"arn:aws:s3:::{bucket}/junk-0001.rdb"])
    wait_group(ec, group, "create-failed")
    node = ec.describe_cache_clusters(CacheClusterId=f"{group}-001")["CacheClusters"][0]
    assert node["CacheClusterStatus"] == "restore-failed"
    ec.delete_replication_group(ReplicationGroupId=group)
    wait_group(ec, group, "ReplicationGroupNotFoundFault")
    code, status, _ = error_of(ec.delete_replication_group, ReplicationGroupId=group)
    assert (code, status) == ("ReplicationGroupNotFoundFault", 404)


def test_create_from_a_kept_snapshot_by_name(stack, ec):
    name = unique("ecb-keep")
    ec.create_snapshot(SnapshotName=name, CacheClusterId="fidelity-002")
    wait_status(ec, name)
    group = unique()
    ec.create_replication_group(ReplicationGroupId=group, ReplicationGroupDescription="d", SnapshotName=name)
    assert ec.describe_snapshots(SnapshotName=name)["Snapshots"][0]["SnapshotStatus"] == "restoring"
    wait_group(ec, group, "available")
    wait_status(ec, name, "available")
    ec.delete_replication_group(ReplicationGroupId=group)
    ec.delete_snapshot(SnapshotName=name)
