"""End to end: restores and drills through the real restore state machine (terraform/restore.asl.json), from backups
the real backup state machine just took, on the local stack. A restore creates a new group from the exported .rdb
objects (real redis-server nodes loading them), verifies it against the manifest and writes a report; a drill then
deletes it. No path deletes anything this execution did not create, and the backup is never modified."""

import json
import uuid

import pytest
import redis
from redis.cluster import ClusterNode, RedisCluster

from stack import ELASTICACHE_CANONICAL_USER, SEED_BUCKET
from test_e2e import load_keys, objects


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture()
def seeded_bucket(stack, bucket):
    stack.allow_elasticache_seeding(bucket)
    return bucket


def backup(stack, group, bucket, **extra):
    result = stack.run_execution({"replicationGroupId": group, "bucket": bucket, **extra})
    assert result["status"] == "SUCCEEDED", result
    return result["output"]


def restore(stack, execution_input):
    return stack.run_execution(execution_input, state_machine="restore")


def manifest_uri(bucket, out):
    return f"s3://{bucket}/{out['verification']['manifestKey']}"


def fill_sessions(stack, prefix, count):
    """Empties the cluster mode enabled `sessions` group and writes `<prefix>:<i>` = i for i < count through the
    cluster (keys spread over its shards by slot); returns its primaries."""
    primaries = [n for n in stack.nodes("sessions") if n["role"] == "primary"]
    rc = RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", n["port"]) for n in primaries])
    rc.flushall()
    for i in range(count):
        rc.set(f"{prefix}:{i}", i)
    rc.close()
    return primaries


def primary_of(ec, group):
    rg = ec.describe_replication_groups(ReplicationGroupId=group)["ReplicationGroups"][0]
    ep = rg["NodeGroups"][0]["PrimaryEndpoint"]
    return redis.Redis(host=ep["Address"], port=ep["Port"])


def group_exists(ec, group):
    try:
        status = ec.describe_replication_groups(ReplicationGroupId=group)["ReplicationGroups"][0]["Status"]
        return status != "deleting"
    except ec.exceptions.ReplicationGroupNotFoundFault:
        return False


def created_groups(stack):
    return [e["replicationGroupId"] for e in stack.emulator_state()["journal"] if e["event"] == "CreateReplicationGroup"]


def test_a_cluster_mode_disabled_restore_equals_the_source(stack, ec, s3, seeded_bucket):
    source = redis.Redis(port=stack.primary_port("orders"))
    source.flushall()
    load_keys(stack.primary_port("orders"), n=400, prefix="restore")
    source.set("restore:ttl", "x", ex=3600)
    out = backup(stack, "orders", seeded_bucket)
    target = unique("orders-r")

    result = restore(stack, {"manifest": manifest_uri(seeded_bucket, out), "targetReplicationGroupId": target})

    assert result["status"] == "SUCCEEDED", result
    doc = result["output"]
    assert doc["restore"]["replicationGroupId"] == target and doc["restore"]["from"] == "snapshotArns"
    assert doc["verification"]["match"] is True
    assert doc["verification"]["keysExpected"] == doc["verification"]["keysFound"] == source.dbsize() == 402
    assert doc["verification"]["samplesChecked"] > 0 and doc["verification"]["samplesMissing"] == []
    assert doc["restore"]["rtoSeconds"] >= 0
    restored = primary_of(ec, target)
    assert restored.dbsize() == 402 and restored.get("restore:7") == b"value-7"
    assert restored.hgetall("restore:hash") == {b"a": b"1", b"b": b"2"}
    report = json.loads(s3.get_object(Bucket=seeded_bucket, Key=doc["report"])["Body"].read())
    assert report["verdict"] == "verified" and report["rtoSeconds"] == doc["restore"]["rtoSeconds"]
    assert doc["report"].startswith(out["exportName"] + ".restore-")
    ec.delete_replication_group(ReplicationGroupId=target)


def test_b_cluster_mode_enabled_three_shards_restore_with_slots(stack, ec, seeded_bucket):
    primaries = fill_sessions(stack, "cart", 600)
    per_shard = [redis.Redis(port=n["port"]).dbsize() for n in primaries]
    out = backup(stack, "sessions", seeded_bucket)
    target = unique("sessions-r")

    result = restore(stack, {"manifest": manifest_uri(seeded_bucket, out), "targetReplicationGroupId": target})

    assert result["status"] == "SUCCEEDED", result
    doc = result["output"]
    assert [s["found"] for s in doc["verification"]["shards"]] == per_shard
    create = [e for e in stack.emulator_state()["journal"]
              if e["event"] == "CreateReplicationGroup" and e["replicationGroupId"] == target][0]
    source_slots = [ng["Slots"] for ng in
                    ec.describe_replication_groups(ReplicationGroupId="sessions")["ReplicationGroups"][0]["NodeGroups"]]
    assert create["slots"] == source_slots and len(source_slots) == 3
    # Cluster mode enabled needs automatic failover (the model; the emulator refuses it otherwise).
    assert create["automaticFailover"] is True
    # Seeded by the default regions' route: copies in the seed bucket with ElastiCache's object ACL grant.
    assert all(arn.startswith(f"arn:aws:s3:::{SEED_BUCKET}/") for arn in create["snapshotArns"]), create
    grants = stack.client("s3").get_object_acl(Bucket=SEED_BUCKET,
                                               Key=create["snapshotArns"][0].split(":::", 1)[1].split("/", 1)[1])["Grants"]
    assert {(g["Grantee"].get("ID"), g["Permission"]) for g in grants} >= {
        (ELASTICACHE_CANONICAL_USER, "READ"), (ELASTICACHE_CANONICAL_USER, "READ_ACP")}
    # The manifest maps each object to its node group by the slots of its keys.
    manifest = json.loads(stack.client("s3").get_object(
        Bucket=seeded_bucket, Key=out["verification"]["manifestKey"])["Body"].read())
    assert manifest["manifestVersion"] == 4
    for o in manifest["objects"]:
        assert o["rdb"]["slots"], o
        found = [tuple(map(int, r.split("-"))) for r in o["rdb"]["slots"].split(",")]
        a, b = map(int, o["slots"].split("-"))
        assert all(a <= x <= y <= b for x, y in found), o
    rg = ec.describe_replication_groups(ReplicationGroupId=target)["ReplicationGroups"][0]
    ep = rg["ConfigurationEndpoint"]
    restored = RedisCluster(host=ep["Address"], port=ep["Port"])
    assert restored.get("cart:123") == b"123"
    restored.close()
    ec.delete_replication_group(ReplicationGroupId=target)


def test_b2_objects_named_out_of_node_group_order_are_mapped_by_their_data_and_restore(stack, ec, seeded_bucket):
    """Held back: the export names its objects in the reverse of NodeGroupId order (-0001 holds the last node
    group). The manifest still records each object with the node group its keys belong to, and the restore gives
    each node group its own data."""
    fill_sessions(stack, "user", 300)
    stack.inject({"kind": "damageExport", "mode": "reversed"})
    out = backup(stack, "sessions", seeded_bucket)
    manifest = json.loads(stack.client("s3").get_object(
        Bucket=seeded_bucket, Key=out["verification"]["manifestKey"])["Body"].read())
    by_key = {o["key"].rsplit("-", 1)[1]: o["nodeGroupId"] for o in manifest["objects"]}
    groups = sorted(ng["NodeGroupId"] for ng in
                    ec.describe_replication_groups(ReplicationGroupId="sessions")["ReplicationGroups"][0]["NodeGroups"])
    assert [by_key[k] for k in sorted(by_key)] == list(reversed(groups)), manifest["objects"]
    target = unique("sessions-rev")
    result = restore(stack, {"manifest": manifest_uri(seeded_bucket, out), "targetReplicationGroupId": target})
    assert result["status"] == "SUCCEEDED", result
    rg = ec.describe_replication_groups(ReplicationGroupId=target)["ReplicationGroups"][0]
    ep = rg["ConfigurationEndpoint"]
    restored = RedisCluster(host=ep["Address"], port=ep["Port"])
    assert all(restored.get(f"user:{i}") == str(i).encode() for i in range(0, 300, 7))
    restored.close()
    ec.delete_replication_group(ReplicationGroupId=target)


def test_b3_a_shard_object_holding_another_node_groups_keys_fails_verification_and_keeps_the_snapshot(
        stack, ec, seeded_bucket):
    fill_sessions(stack, "order", 300)
    stack.inject({"kind": "damageExport", "mode": "duplicated"})
    result = stack.run_execution({"replicationGroupId": "sessions", "bucket": seeded_bucket})
    assert result["status"] == "FAILED", result
    assert result["error"] == "ExportCorrupt", result
    assert "both hold keys of node group" in result["cause"], result["cause"]
    stack.assert_no_unsafe_deletion()
    kept = [s["SnapshotName"] for s in ec.describe_snapshots(ReplicationGroupId="sessions")["Snapshots"]]
    assert any(name in result["cause"] for name in kept), (kept, result["cause"])
    for name in kept:
        if name in result["cause"]:
            ec.delete_snapshot(SnapshotName=name)


def test_c_a_drill_verifies_then_deletes_its_group_and_leaves_source_and_backup(stack, ec, s3, seeded_bucket):
    load_keys(stack.primary_port("carts"), n=50, prefix="drill")
    out = backup(stack, "carts", seeded_bucket)
    before = objects(s3, seeded_bucket)

    result = restore(stack, {"replicationGroupId": "carts", "latest": True, "bucket": seeded_bucket, "drill": True})

    assert result["status"] == "SUCCEEDED", result
    doc = result["output"]
    target = doc["restore"]["replicationGroupId"]
    assert target.startswith("ecbr-")
    assert doc["cleanup"]["restoredGroup"] == "deleted"
    assert not group_exists(ec, target)
    assert group_exists(ec, "carts")
    after = objects(s3, seeded_bucket)
    assert {k: v for k, v in after.items() if k in before} == before
    assert set(after) - set(before) == {doc["report"]}
    assert doc["backup"]["exportName"] == out["exportName"]


def test_d_latest_picks_the_newest_verified_backup(stack, seeded_bucket):
    backup(stack, "carts", seeded_bucket)
    newest = backup(stack, "carts", seeded_bucket)

    result = restore(stack, {"replicationGroupId": "carts", "latest": True, "bucket": seeded_bucket,
                             "targetReplicationGroupId": unique("carts-r"), "drill": True})

    assert result["status"] == "SUCCEEDED", result
    assert result["output"]["backup"]["exportName"] == newest["exportName"]


def test_e_an_object_changed_after_the_backup_is_backup_corrupt_before_anything_is_created(stack, s3, seeded_bucket):
    out = backup(stack, "carts", seeded_bucket)
    key = out["verification"]["objects"][0]["key"]
    body = bytearray(s3.get_object(Bucket=seeded_bucket, Key=key)["Body"].read())
    body[len(body) // 2] ^= 0xFF  # same size: only the SHA-256 tells
    s3.put_object(Bucket=seeded_bucket, Key=key, Body=bytes(body))
    target = unique("carts-r")

    result = restore(stack, {"manifest": manifest_uri(seeded_bucket, out), "targetReplicationGroupId": target,
                             "verifyBeforeRestore": True})

    assert result["status"] == "FAILED" and result["error"] == "BackupCorrupt", result
    assert target not in created_groups(stack)


def test_f_a_file_redis_refuses_is_restore_failed_and_the_create_failed_group_is_deleted(stack, ec, s3, seeded_bucket):
    out = backup(stack, "carts", seeded_bucket)
    key = out["verification"]["objects"][0]["key"]
    size = out["verification"]["objects"][0]["sizeBytes"]
    s3.put_object(Bucket=seeded_bucket, Key=key, Body=b"REDIS0010" + b"\xff" * (size - 9))
    target = unique("carts-r")

    result = restore(stack, {"manifest": manifest_uri(seeded_bucket, out), "targetReplicationGroupId": target})

    assert result["status"] == "FAILED" and result["error"] == "RestoreFailed", result
    assert "CleanUpFailedRestore" in [s["state"] for s in result["states"]]
    assert target in created_groups(stack)
    assert not group_exists(ec, target)


def verdict_of(ec, group):
    arn = ec.describe_replication_groups(ReplicationGroupId=group)["ReplicationGroups"][0]["ARN"]
    tags = {t["Key"]: t["Value"] for t in ec.list_tags_for_resource(ResourceName=arn)["TagList"]}
    return tags.get("elasticache-backup:restore-verdict")


def restore_pages(stack, result, execution_input):
    return [p["body"] for p in stack.notify(result, execution_input) if p["path"].startswith("/v2/enqueue")]


def test_j_a_restore_that_cannot_verify_keeps_its_group_tagged_and_pages_once(stack, ec, s3, seeded_bucket):
    """A real restore (not a drill) whose VerifyRestore cannot reach the group (no verify_restore_vpc on a real
    account) keeps the correctly restored group a person is waiting for: tagged unverified, never deleted."""
    out = backup(stack, "carts", seeded_bucket)
    target = unique("carts-r")
    stack.inject({"kind": "unreachable", "target": target})
    execution_input = {"manifest": manifest_uri(seeded_bucket, out), "targetReplicationGroupId": target}

    result = restore(stack, execution_input)
    stack.clear_faults()

    assert result["status"] == "FAILED" and result["error"] == "RestoreUnreachable", result
    assert "CleanUpFailedRestore" in [s["state"] for s in result["states"]]
    assert group_exists(ec, target)
    assert verdict_of(ec, target) == "unverified"
    assert not [e for e in stack.emulator_state()["journal"]
                if e["event"] == "DeleteReplicationGroup" and e["replicationGroupId"] == target]
    assert f"replication group {target} (available) is KEPT" in result["cause"], result["cause"]
    # The data is there: only the verifier could not reach it.
    assert primary_of(ec, target).dbsize() == sum(o["keys"] for o in out["verification"]["objects"])
    pd = restore_pages(stack, result, execution_input)
    assert len(pd) == 1 and pd[0]["event_action"] == "trigger", pd
    assert pd[0]["payload"]["class"] == "RestoreUnreachable"
    # The page says which step failed and that the group is kept, not just the verifier's error.
    assert pd[0]["payload"]["custom_details"]["step"] == "VerifyRestore", pd[0]
    assert f"{target} (available) is KEPT" in pd[0]["payload"]["custom_details"]["cause"], pd[0]
    ec.delete_replication_group(ReplicationGroupId=target)


def test_k_a_drill_that_cannot_verify_still_deletes_its_group(stack, ec, seeded_bucket):
    out = backup(stack, "carts", seeded_bucket)
    target = unique("carts-d")
    stack.inject({"kind": "unreachable", "target": target})

    result = restore(stack, {"manifest": manifest_uri(seeded_bucket, out), "targetReplicationGroupId": target,
                             "drill": True})
    stack.clear_faults()

    assert result["status"] == "FAILED" and result["error"] == "RestoreUnreachable", result
    assert target in created_groups(stack)
    assert not group_exists(ec, target)
    assert "is deleted" in result["cause"], result["cause"]


def test_g_an_existing_target_is_target_exists_and_nothing_is_touched(stack, ec, seeded_bucket):
    out = backup(stack, "carts", seeded_bucket)

    result = restore(stack, {"manifest": manifest_uri(seeded_bucket, out), "targetReplicationGroupId": "orders"})

    assert result["status"] == "FAILED" and result["error"] == "TargetExists", result
    assert "orders" not in created_groups(stack)
    assert ec.describe_replication_groups(ReplicationGroupId="orders")["ReplicationGroups"][0]["Status"] == "available"
    assert not [e for e in stack.emulator_state()["journal"]
                if e["event"] == "DeleteReplicationGroup" and e["replicationGroupId"] == "orders"]


def test_h_a_kept_snapshot_is_restored_by_snapshot_name(stack, ec, seeded_bucket):
    out = backup(stack, "carts", seeded_bucket, keepSourceSnapshot=True)
    target = unique("carts-r")

    result = restore(stack, {"manifest": manifest_uri(seeded_bucket, out), "targetReplicationGroupId": target,
                             "drill": True})

    assert result["status"] == "SUCCEEDED", result
    assert result["output"]["restore"]["from"] == "snapshotName"
    create = [e for e in stack.emulator_state()["journal"]
              if e["event"] == "CreateReplicationGroup" and e["replicationGroupId"] == target][0]
    assert create["snapshotName"] == out["snapshotName"] and create["snapshotArns"] == []
    ec.delete_snapshot(SnapshotName=out["snapshotName"])


def test_i_invalid_input_fails_before_anything_is_read_or_created(stack):
    result = restore(stack, {"manifest": "s3://acme-cache-backups/not-a-manifest.rdb", "targetReplicationGroupId": "x"})
    assert result["status"] == "FAILED" and result["error"] == "InvalidInput", result
    assert "manifest" in result["cause"]


# -- into ElastiCache Serverless (issue 26) ------------------------------------------------------------------------

def serverless_cache(ec, name):
    """The serverless cache `name` as DescribeServerlessCaches reports it, or None."""
    try:
        return ec.describe_serverless_caches(ServerlessCacheName=name)["ServerlessCaches"][0]
    except ec.exceptions.ServerlessCacheNotFoundFault:
        return None


def serverless_exists(ec, name):
    cache = serverless_cache(ec, name)
    return cache is not None and cache["Status"].lower() != "deleting"


def journal(stack, event, name):
    return [e for e in stack.emulator_state()["journal"]
            if e["event"] == event and e.get("serverlessCacheName") == name]


def serverless_client(ec, name):
    ep = serverless_cache(ec, name)["Endpoint"]
    return redis.Redis(host=ep["Address"], port=ep["Port"])


def test_l_serverless_a_group_backup_restores_into_a_new_serverless_cache(stack, ec, s3, seeded_bucket):
    source = redis.Redis(port=stack.primary_port("orders"))
    source.flushall()
    load_keys(stack.primary_port("orders"), n=300, prefix="sl")
    source.set("sl:ttl", "x", ex=3600)
    out = backup(stack, "orders", seeded_bucket)
    target = unique("orders-sl")

    result = restore(stack, {"manifest": manifest_uri(seeded_bucket, out), "targetServerlessCacheName": target})

    assert result["status"] == "SUCCEEDED", result
    doc = result["output"]
    assert doc["restore"]["serverlessCacheName"] == target and "replicationGroupId" not in doc["restore"]
    assert doc["restore"]["from"] == "snapshotArns" and doc["restore"]["endpoint"]["port"] > 0
    v = doc["verification"]
    assert v["match"] is True and v["keysExpected"] == v["keysFound"] == source.dbsize() == 302
    assert v["samplesChecked"] > 0 and v["samplesMissing"] == []
    create = journal(stack, "CreateServerlessCache", target)
    assert len(create) == 1 and create[0]["engine"] == "redis", create
    # Seeded from the same place a group restore reads: the copies in the seed bucket.
    assert create[0]["snapshotArnsToRestore"] and all(
        a.startswith(f"arn:aws:s3:::{SEED_BUCKET}/") for a in create[0]["snapshotArnsToRestore"]), create
    assert not [e for e in stack.emulator_state()["journal"]
                if e["event"] == "CreateReplicationGroup" and e.get("replicationGroupId") == target]
    restored = serverless_client(ec, target)
    assert restored.dbsize() == 302 and restored.get("sl:7") == b"value-7"
    assert restored.hgetall("sl:hash") == {b"a": b"1", b"b": b"2"}
    report = json.loads(s3.get_object(Bucket=seeded_bucket, Key=doc["report"])["Body"].read())
    assert report["verdict"] == "verified" and report["serverlessCacheName"] == target
    arn = serverless_cache(ec, target)["ARN"]
    tags = {t["Key"]: t["Value"] for t in ec.list_tags_for_resource(ResourceName=arn)["TagList"]}
    assert tags["elasticache-backup:restore-execution"], tags
    ec.delete_serverless_cache(ServerlessCacheName=target)


def test_m_serverless_a_drill_into_serverless_verifies_then_deletes_its_cache(stack, ec, s3, seeded_bucket):
    load_keys(stack.primary_port("carts"), n=50, prefix="sldrill")
    out = backup(stack, "carts", seeded_bucket)
    before = objects(s3, seeded_bucket)

    result = restore(stack, {"replicationGroupId": "carts", "latest": True, "bucket": seeded_bucket,
                             "drill": True, "serverless": True})

    assert result["status"] == "SUCCEEDED", result
    doc = result["output"]
    target = doc["restore"]["serverlessCacheName"]
    assert target.startswith("ecbr-")
    assert doc["verification"]["match"] is True
    assert doc["cleanup"]["restoredGroup"] == "deleted", doc["cleanup"]
    assert len(journal(stack, "DeleteServerlessCache", target)) == 1
    assert not serverless_exists(ec, target)
    assert group_exists(ec, "carts")
    after = objects(s3, seeded_bucket)
    assert {k: v for k, v in after.items() if k in before} == before
    assert set(after) - set(before) == {doc["report"]}
    assert doc["backup"]["exportName"] == out["exportName"]


def test_n_serverless_a_restore_that_cannot_verify_keeps_its_cache_tagged(stack, ec, seeded_bucket):
    out = backup(stack, "carts", seeded_bucket)
    target = unique("carts-sl")
    stack.inject({"kind": "unreachable", "target": target})

    result = restore(stack, {"manifest": manifest_uri(seeded_bucket, out), "targetServerlessCacheName": target})
    stack.clear_faults()

    assert result["status"] == "FAILED" and result["error"] == "RestoreUnreachable", result
    assert "CleanUpFailedRestore" in [s["state"] for s in result["states"]]
    assert serverless_exists(ec, target)
    assert not journal(stack, "DeleteServerlessCache", target)
    arn = serverless_cache(ec, target)["ARN"]
    tags = {t["Key"]: t["Value"] for t in ec.list_tags_for_resource(ResourceName=arn)["TagList"]}
    assert tags.get("elasticache-backup:restore-verdict") == "unverified", tags
    assert f"serverless cache {target} (available) is KEPT" in result["cause"], result["cause"]
    # The data is there: only the verifier could not reach it.
    assert serverless_client(ec, target).dbsize() == sum(o["keys"] for o in out["verification"]["objects"])
    ec.delete_serverless_cache(ServerlessCacheName=target)


def test_o_serverless_a_kept_snapshot_seeds_the_cache_by_its_arn(stack, ec, seeded_bucket):
    load_keys(stack.primary_port("carts"), n=40, prefix="slkept")
    out = backup(stack, "carts", seeded_bucket, keepSourceSnapshot=True)
    target = unique("carts-slk")

    result = restore(stack, {"manifest": manifest_uri(seeded_bucket, out), "targetServerlessCacheName": target,
                             "drill": True})

    assert result["status"] == "SUCCEEDED", result
    assert result["output"]["restore"]["from"] == "snapshotName"
    create = journal(stack, "CreateServerlessCache", target)
    assert [a.rsplit(":", 2)[-2:] for a in create[0]["snapshotArnsToRestore"]] == [["snapshot", out["snapshotName"]]], create
    assert not serverless_exists(ec, target)
    ec.delete_snapshot(SnapshotName=out["snapshotName"])


def test_p_serverless_keys_outside_database_0_are_refused_before_anything_is_created(stack, seeded_bucket):
    port = stack.primary_port("carts")
    redis.Redis(port=port, db=3).set("sl:elsewhere", "x")
    try:
        out = backup(stack, "carts", seeded_bucket)
    finally:
        redis.Redis(port=port, db=3).flushdb()
    target = unique("carts-sldb")

    result = restore(stack, {"manifest": manifest_uri(seeded_bucket, out), "targetServerlessCacheName": target})

    assert result["status"] == "FAILED" and result["error"] == "NotSupported", result
    assert "database(s) 3" in result["cause"], result["cause"]
    assert not journal(stack, "CreateServerlessCache", target)


def test_q_serverless_node_options_are_refused_by_name(stack):
    result = restore(stack, {"manifest": "s3://acme-cache-backups/e.manifest.json",
                             "targetServerlessCacheName": "x-sl", "nodeType": "cache.r7g.large"})
    assert result["status"] == "FAILED" and result["error"] == "InvalidInput", result
    assert "nodeType" in result["cause"]


def test_r_serverless_a_serverless_backup_drills_into_serverless_from_its_kept_snapshot(stack, ec, seeded_bucket):
    load_keys(stack.serverless_ports("sls-one")[0], n=60, prefix="slsrc")
    taken = stack.run_execution({"serverlessCacheName": "sls-one", "bucket": seeded_bucket,
                                 "keepSourceSnapshot": True})
    assert taken["status"] == "SUCCEEDED", taken
    out = taken["output"]

    result = restore(stack, {"serverlessCacheName": "sls-one", "latest": True, "bucket": seeded_bucket,
                             "drill": True, "serverless": True})

    assert result["status"] == "SUCCEEDED", result
    doc = result["output"]
    assert doc["backup"]["exportName"] == out["exportName"] and doc["backup"]["sourceId"] == "sls-one"
    assert doc["restore"]["from"] == "snapshotName" and doc["verification"]["match"] is True
    target = doc["restore"]["serverlessCacheName"]
    create = journal(stack, "CreateServerlessCache", target)
    assert [a.rsplit(":", 2)[-2:] for a in create[0]["snapshotArnsToRestore"]] == [
        ["serverlesscachesnapshot", out["snapshotName"]]], create
    assert doc["cleanup"]["restoredGroup"] == "deleted" and not serverless_exists(ec, target)
    ec.delete_serverless_cache_snapshot(ServerlessCacheSnapshotName=out["snapshotName"])
