"""The vault, locally (docs/design.md, "The vault"): WriteManifest tags a proven backup
`elasticache-backup:verified=true` and nothing else; the local replication step (local/harness/vault.py, standing in
for S3's replication, which moto does not do) carries exactly the tagged objects into a second bucket with Object
Lock in COMPLIANCE mode, never a deletion; a restore reads the vault's manifest, copies the shard objects where
ElastiCache may read them and leaves its report in the deployment's bucket. The Terraform side (the replication rule's
tag filter, no delete-marker replication, the vault module) is tested by terraform/tests and terraform/modules/vault."""

import uuid

import pytest
import redis

from conftest import DEFAULT_BUCKET
from stack import SEED_BUCKET
from test_e2e import load_keys, objects
from vault import VAULT_BUCKET, create_vault, replicate

TAG = [{"Key": "elasticache-backup:verified", "Value": "true"}]


@pytest.fixture()
def vault(s3):
    name = f"vault-{uuid.uuid4().hex[:12]}"
    create_vault(s3, name)
    return name


def tags(s3, bucket, key):
    return s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]


def test_the_local_replication_takes_only_tagged_current_objects_and_never_a_deletion(s3, vault):
    source = f"src-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=source)
    s3.put_bucket_versioning(Bucket=source, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=source, Key="good.rdb", Body=b"good", Tagging="elasticache-backup%3Averified=true")
    s3.put_object(Bucket=source, Key="unproven.rdb", Body=b"unproven")
    s3.put_object(Bucket=source, Key="wrong-value.rdb", Body=b"x", Tagging="elasticache-backup%3Averified=false")
    s3.put_object(Bucket=source, Key="gone.rdb", Body=b"gone", Tagging="elasticache-backup%3Averified=true")
    s3.delete_object(Bucket=source, Key="gone.rdb")  # a delete marker: never replicated, nothing of it copied

    assert sorted(replicate(s3, source, vault)) == ["good.rdb"]
    assert objects(s3, vault) == {"good.rdb": 4}
    assert tags(s3, vault, "good.rdb") == TAG
    assert replicate(s3, source, vault) == []  # a version is replicated once

    # A deletion in the source does not reach the vault, and the vault's COMPLIANCE retention refuses one there.
    s3.delete_object(Bucket=source, Key="good.rdb")
    assert replicate(s3, source, vault) == []
    assert objects(s3, vault) == {"good.rdb": 4}
    version = s3.head_object(Bucket=vault, Key="good.rdb")["VersionId"]
    assert s3.head_object(Bucket=vault, Key="good.rdb")["ObjectLockMode"] == "COMPLIANCE"
    with pytest.raises(s3.exceptions.ClientError):
        s3.delete_object(Bucket=vault, Key="good.rdb", VersionId=version)

    # Tagging an object that is already there is what WriteManifest does to ElastiCache's export: the local step,
    # standing for the Batch Replication job, carries it.
    s3.put_object_tagging(Bucket=source, Key="unproven.rdb", Tagging={"TagSet": TAG})
    assert replicate(s3, source, vault) == ["unproven.rdb"]


def test_only_a_verified_backup_reaches_the_vault_and_it_restores_from_there(stack, ec, s3, bucket):
    vault = VAULT_BUCKET
    load_keys(stack.primary_port("carts"), n=120, prefix="vault")
    good = stack.run_execution({"replicationGroupId": "carts", "bucket": bucket})
    assert good["status"] == "SUCCEEDED", good
    out = good["output"]
    manifest = out["verification"]["manifestKey"]
    shards = [o["key"] for o in out["verification"]["objects"]]
    for key in [manifest, *shards]:
        assert tags(s3, bucket, key) == TAG, key

    stack.inject({"kind": "corruptExport"})
    bad = stack.run_execution({"replicationGroupId": "carts", "bucket": bucket})
    assert bad["status"] == "FAILED" and bad["error"] == "ExportCorrupt", bad
    bad_name = bad["cause"].split()[4].rstrip(":")
    bad_objects = [k for k in objects(s3, bucket) if k.startswith(bad_name)]
    assert bad_objects and all(tags(s3, bucket, k) == [] for k in bad_objects)

    copied = replicate(s3, bucket, vault)
    assert sorted(copied) == sorted([manifest, *shards])
    assert not any(k.startswith(bad_name) for k in objects(s3, vault))
    ec.delete_snapshot(SnapshotName=bad_name)  # the failed run kept it; tidy up

    # The source bucket loses the backup (an attacker, a bad automation): the vault still has it, and it restores.
    for key in [manifest, *shards]:
        s3.delete_object(Bucket=bucket, Key=key)
    assert replicate(s3, bucket, vault) == []
    target = f"carts-v-{uuid.uuid4().hex[:6]}"
    restored = stack.run_execution({"replicationGroupId": "carts", "latest": True, "bucket": vault,
                                    "targetReplicationGroupId": target}, state_machine="restore")
    assert restored["status"] == "SUCCEEDED", restored
    doc = restored["output"]
    assert doc["backup"]["bucket"] == vault and doc["backup"]["exportName"] == out["exportName"]
    assert doc["verification"]["match"] is True
    # Seeded from copies ElastiCache may read (the stack seeds by the object-ACL route: the seed bucket), never
    # from the vault itself; the report is in the deployment's bucket, not the vault (which admits only its
    # replication role).
    assert all(arn.startswith(f"arn:aws:s3:::{SEED_BUCKET}/") for arn in doc["backup"]["snapshotArns"]), doc["backup"]
    assert doc["report"] in objects(s3, DEFAULT_BUCKET)
    assert doc["report"] not in objects(s3, vault)
    ep = ec.describe_replication_groups(ReplicationGroupId=target)["ReplicationGroups"][0]["NodeGroups"][0]
    restored_node = redis.Redis(host=ep["PrimaryEndpoint"]["Address"], port=ep["PrimaryEndpoint"]["Port"])
    assert restored_node.get("vault:7") == b"value-7"
    ec.delete_replication_group(ReplicationGroupId=target)
