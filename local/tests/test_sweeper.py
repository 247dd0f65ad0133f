"""The sweeper of kept snapshots, end to end: a failed run keeps its snapshot (it may be the only copy); the
retention function deletes it only when it is older than snapshotMinAgeHours and a later verified backup of the same
target is in the bucket. A kept snapshot with no later verified backup stays, and so does one named ecb-… that this
project did not create (no elasticache-backup:execution tag) — name and tag are both checked."""

import time


def snapshots_now(ec) -> dict[str, dict]:
    out, marker = {}, None
    while True:
        page = ec.describe_snapshots(**({"Marker": marker} if marker else {}))
        out.update({s["SnapshotName"]: s for s in page["Snapshots"]})
        marker = page.get("Marker")
        if not marker:
            return out


def failed_run_keeps_its_snapshot(stack, ec, group: str, bucket: str) -> str:
    before = set(snapshots_now(ec))
    stack.inject({"kind": "corruptExport"})
    try:
        run = stack.run_execution({"replicationGroupId": group, "bucket": bucket})
    finally:
        stack.clear_faults()
    assert run["status"] == "FAILED" and run["error"] == "ExportCorrupt", run
    made = [n for n in set(snapshots_now(ec)) - before if n.startswith(f"ecb-{group}-")]
    assert len(made) == 1, made
    return made[0]


def wait_available(ec, name: str) -> None:
    deadline = time.monotonic() + 60
    while ec.describe_snapshots(SnapshotName=name)["Snapshots"][0]["SnapshotStatus"] != "available":
        assert time.monotonic() < deadline, f"{name} never became available"
        time.sleep(0.2)


def test_a_kept_snapshot_goes_only_after_a_later_verified_backup_and_its_age(stack, ec, bucket):
    carts_kept = failed_run_keeps_its_snapshot(stack, ec, "carts", bucket)
    orders_kept = failed_run_keeps_its_snapshot(stack, ec, "orders", bucket)
    ok = stack.run_execution({"replicationGroupId": "carts", "bucket": bucket})
    assert ok["status"] == "SUCCEEDED", ok
    # Named like ours, not created by this project: no elasticache-backup:execution tag.
    ec.create_snapshot(SnapshotName="ecb-carts-handmade", ReplicationGroupId="carts")
    wait_available(ec, "ecb-carts-handmade")
    young = failed_run_keeps_its_snapshot(stack, ec, "carts", bucket)
    for name in (carts_kept, orders_kept, "ecb-carts-handmade"):
        stack.inject({"kind": "ageSnapshot", "name": name, "days": 4})
    # A newer verified backup of carts than the young one, too: it is kept only for its age.
    ok2 = stack.run_execution({"replicationGroupId": "carts", "bucket": bucket})
    assert ok2["status"] == "SUCCEEDED", ok2

    dry = stack._invoke("retention", {"bucket": bucket, "keepLast": 10, "snapshotMinAgeHours": 72})
    assert dry.get("dryRun") is True, dry
    sweep = dry["snapshots"]
    assert [s["name"] for s in sweep["deleted"]] == [carts_kept], sweep
    assert sweep["deleted"][0]["target"] == "carts" and sweep["deleted"][0]["laterBackup"] == ok2["output"]["exportName"]  # the newest
    kept = {k["name"]: k["reason"] for k in sweep["kept"]}
    assert kept[orders_kept].startswith("no verified backup of replication-group orders (created "), kept[orders_kept]
    assert kept["ecb-carts-handmade"].startswith("not created by elasticache-backup"), kept["ecb-carts-handmade"]
    assert kept[young].startswith("younger than 72 h"), kept[young]
    assert snapshots_now(ec)[carts_kept]["SnapshotStatus"] == "available", "a dry run deletes nothing"

    report = stack._invoke("retention", {"bucket": bucket, "keepLast": 10, "snapshotMinAgeHours": 72,
                                         "dryRun": False})
    assert report.get("dryRun") is False and report["errors"] == [], report
    assert [s["name"] for s in report["snapshots"]["deleted"]] == [carts_kept]
    left = snapshots_now(ec)
    assert left.get(carts_kept, {}).get("SnapshotStatus") in (None, "deleting"), left.get(carts_kept)
    for name in (orders_kept, young, "ecb-carts-handmade"):
        assert left[name]["SnapshotStatus"] == "available", (name, left[name])
    # The sweeper's DeleteSnapshot calls are the only deletions of these snapshots in the journal.
    deleted = [e["snapshotName"] for e in stack.emulator_state()["journal"] if e["event"] == "DeleteSnapshot"]
    assert carts_kept in deleted and orders_kept not in deleted and young not in deleted
    for name in (orders_kept, young, "ecb-carts-handmade"):
        ec.delete_snapshot(SnapshotName=name)  # tidy up for the other tests


def test_a_re_created_groups_old_kept_snapshot_survives_the_sweeper(stack, ec, bucket):
    """A group is deleted and created again under the same id: the old group's kept snapshot (maybe its only copy)
    is not made redundant by the new group's backups. The target's identity includes its creation time, which
    CreateSnapshot tags every snapshot with (elasticache-backup:source-created) and the manifest records."""
    import uuid

    stack.allow_elasticache_seeding(bucket)
    seed = stack.run_execution({"replicationGroupId": "carts", "bucket": bucket})
    assert seed["status"] == "SUCCEEDED", seed
    manifest = f"s3://{bucket}/{seed['output']['verification']['manifestKey']}"
    group = f"phoenix-{uuid.uuid4().hex[:6]}"

    def create():
        r = stack.run_execution({"manifest": manifest, "targetReplicationGroupId": group}, state_machine="restore")
        assert r["status"] == "SUCCEEDED", r
        return ec.describe_replication_groups(ReplicationGroupId=group)["ReplicationGroups"][0]

    first = create()
    kept = failed_run_keeps_its_snapshot(stack, ec, group, bucket)
    arn = ec.describe_snapshots(SnapshotName=kept)["Snapshots"][0]["ARN"]
    tags = {t["Key"]: t["Value"] for t in ec.list_tags_for_resource(ResourceName=arn)["TagList"]}
    assert tags.get("elasticache-backup:source-created"), tags
    ec.delete_replication_group(ReplicationGroupId=group)
    deadline = time.monotonic() + 60
    while True:
        try:
            ec.describe_replication_groups(ReplicationGroupId=group)
        except ec.exceptions.ReplicationGroupNotFoundFault:
            break
        assert time.monotonic() < deadline, f"{group} never went away"
        time.sleep(0.3)
    time.sleep(1.1)  # creation times are in whole seconds
    second = create()
    assert second["ReplicationGroupCreateTime"] > first["ReplicationGroupCreateTime"]
    # The new group's verified backups are all later than the kept snapshot: by target id alone it would go.
    for _ in range(2):
        ok = stack.run_execution({"replicationGroupId": group, "bucket": bucket})
        assert ok["status"] == "SUCCEEDED", ok
    stack.inject({"kind": "ageSnapshot", "name": kept, "days": 4})

    report = stack._invoke("retention", {"bucket": bucket, "keepLast": 10, "snapshotMinAgeHours": 72})
    sweep = report["snapshots"]
    assert kept not in [s["name"] for s in sweep["deleted"]], sweep
    reason = {k["name"]: k["reason"] for k in sweep["kept"]}[kept]
    assert reason.startswith(f"no verified backup of replication-group {group} (created "), reason
    ec.delete_snapshot(SnapshotName=kept)
    ec.delete_replication_group(ReplicationGroupId=group)
