"""Emulator fidelity for DescribeEvents (issue 22, item 4): boto3 (botocore's model of ElastiCache) reads the event
log the emulator keeps as things happen — snapshots, exports (and the injected export failure CheckExport must see),
restores and deletions — with the model's window, SourceType filter, MaxRecords/Marker paging and refusals.

Messages: "Snapshot succeeded for snapshot with ID '%s' of cache cluster with ID '%s'" (User Guide, Event
Notifications and Amazon SNS); "... of replication group with ID '%s'" on the member node (botocore examples-1.json,
DescribeEvents); export texts are the emulator's (UNDOCUMENTED; src/events.rs)."""

import time
import uuid
from datetime import datetime, timedelta, timezone

from test_emulator import error_of, wait_status
from test_emulator_restore import wait_group


def unique(prefix="ev"):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def events(ec, **kwargs):
    return [e for p in ec.get_paginator("describe_events").paginate(**kwargs) for e in p["Events"]]


def wait_event(ec, predicate, timeout=20, **kwargs):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [e for e in events(ec, **kwargs) if predicate(e)]
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"no event matching within {timeout} s among {events(ec, **kwargs)}")


def now():
    return datetime.now(timezone.utc)


def test_a_node_snapshot_is_an_event_of_its_node_within_the_default_hour(ec):
    t0 = now()
    name = unique()
    ec.create_snapshot(SnapshotName=name, CacheClusterId="fidelity-002")
    wait_status(ec, name)
    text = f"Snapshot succeeded for snapshot with ID '{name}' of cache cluster with ID 'fidelity-002'"
    mine = [e for e in events(ec) if e["Message"] == text]  # no window given: the last hour
    assert len(mine) == 1
    event = mine[0]
    assert (event["SourceType"], event["SourceIdentifier"]) == ("cache-cluster", "fidelity-002")
    assert t0 <= event["Date"] <= now()
    # Filters: by source, by type, by window.
    assert text in [e["Message"] for e in events(ec, SourceType="cache-cluster", SourceIdentifier="fidelity-002",
                                                 StartTime=t0)]
    assert text not in [e["Message"] for e in events(ec, SourceType="replication-group")]
    assert text not in [e["Message"] for e in events(ec, SourceType="cache-cluster", SourceIdentifier="fidelity-001")]
    assert text not in [e["Message"] for e in events(ec, StartTime=now() + timedelta(seconds=1))]
    assert text not in [e["Message"] for e in events(ec, EndTime=t0 - timedelta(seconds=1))]
    assert text in [e["Message"] for e in events(ec, Duration=1)]
    assert text in [e["Message"] for e in events(ec, StartTime=t0 - timedelta(minutes=1), Duration=5)]
    ec.delete_snapshot(SnapshotName=name)


def test_a_failed_snapshot_and_a_group_snapshot_are_events_of_the_nodes_snapshotted(ec, stack):
    stack.inject({"kind": "failSnapshot", "target": "solo"})
    failed = unique()
    ec.create_snapshot(SnapshotName=failed, CacheClusterId="solo")
    wait_status(ec, failed, "failed")
    assert [e["Message"] for e in events(ec, SourceType="cache-cluster", SourceIdentifier="solo")
            if failed in e["Message"]] == [
        f"Snapshot failed for snapshot with ID '{failed}' of cache cluster with ID 'solo'"]
    ec.delete_snapshot(SnapshotName=failed)

    name = unique()
    ec.create_snapshot(SnapshotName=name, ReplicationGroupId="sessions")
    wait_status(ec, name)
    nodes = [n["CacheClusterId"] for n in
             ec.describe_cache_clusters(ShowCacheNodeInfo=False)["CacheClusters"]
             if n.get("ReplicationGroupId") == "sessions"]
    mine = [e for e in events(ec, SourceType="cache-cluster") if name in e["Message"]]
    assert {e["Message"] for e in mine} == {
        f"Snapshot succeeded for snapshot with ID '{name}' of replication group with ID 'sessions'"}
    assert len(mine) == 3 and {e["SourceIdentifier"] for e in mine} <= set(nodes)
    assert not [e for e in events(ec, SourceType="replication-group", SourceIdentifier="sessions")
                if name in e["Message"]]
    ec.delete_snapshot(SnapshotName=name)


def test_an_injected_export_failure_is_accepted_then_recorded_on_the_source(ec, s3, stack, bucket):
    """The contract CheckExport relies on: an export failure is an event on the snapshotted source (the group for a
    group snapshot, the node for a node snapshot) whose Message contains the TargetSnapshotName and "failed", dated
    after the CopySnapshot call; nothing is written to the bucket."""
    for source_type, source_id, kwargs in [
        ("replication-group", "orders", {"ReplicationGroupId": "orders"}),
        ("cache-cluster", "fidelity-002", {"CacheClusterId": "fidelity-002"}),
    ]:
        name = unique()
        ec.create_snapshot(SnapshotName=name, **kwargs)
        wait_status(ec, name)
        target = f"{name}-Export"
        stack.inject({"kind": "failExport", "target": source_id, "reason": "Access Denied"})
        called = now()
        out = ec.copy_snapshot(SourceSnapshotName=name, TargetSnapshotName=target, TargetBucket=bucket)
        assert out["Snapshot"]["SnapshotStatus"] == "copying"  # accepted, as AWS accepts it
        failure = wait_event(ec, lambda e: target in e["Message"] and "failed" in e["Message"].lower(),
                             SourceType=source_type, SourceIdentifier=source_id, StartTime=called)[0]
        assert failure["Date"] > called
        assert failure["Message"] == (f"Export failed for snapshot with ID '{name}' to S3 bucket '{bucket}' as "
                                      f"'{target}': Access Denied")
        wait_status(ec, name)
        assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0
        # The next export of it succeeds, and says so (without "failed").
        called = now()
        ec.copy_snapshot(SourceSnapshotName=name, TargetSnapshotName=f"{name}-again", TargetBucket=bucket)
        done = wait_event(ec, lambda e: f"'{name}-again'" in e["Message"], SourceType=source_type,
                          SourceIdentifier=source_id, StartTime=called)[0]
        assert done["Message"].startswith("Export succeeded") and "failed" not in done["Message"]
        assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] >= 1
        wait_status(ec, name)
        for key in [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]:
            s3.delete_object(Bucket=bucket, Key=key)
        ec.delete_snapshot(SnapshotName=name)


def test_a_fault_for_another_target_leaves_this_export_alone(ec, s3, stack, bucket):
    name = unique()
    ec.create_snapshot(SnapshotName=name, CacheClusterId="solo")
    wait_status(ec, name)
    stack.inject({"kind": "failExport", "target": "orders"})
    ec.copy_snapshot(SourceSnapshotName=name, TargetSnapshotName=f"{name}-x", TargetBucket=bucket)
    wait_event(ec, lambda e: f"'{name}-x'" in e["Message"] and e["Message"].startswith("Export succeeded"),
               SourceType="cache-cluster", SourceIdentifier="solo")
    wait_status(ec, name)
    ec.delete_snapshot(SnapshotName=name)


def test_events_page_newest_first_with_max_records_and_marker(ec, stack):
    name = unique()
    ec.create_snapshot(SnapshotName=name, CacheClusterId="solo")
    wait_status(ec, name)
    start = now()
    # 21 exports that fail (no bucket is written): 21 events on `solo`, quickly.
    targets = [f"{name}-{i:02}" for i in range(21)]
    for t in targets:
        stack.inject({"kind": "failExport", "target": "solo"})
        ec.copy_snapshot(SourceSnapshotName=name, TargetSnapshotName=t, TargetBucket="acme-cache-backups")
        wait_status(ec, name)
    wait_event(ec, lambda e: f"'{targets[-1]}'" in e["Message"], SourceType="cache-cluster",
               SourceIdentifier="solo", StartTime=start)
    first = ec.describe_events(SourceType="cache-cluster", SourceIdentifier="solo", StartTime=start, MaxRecords=20)
    assert len(first["Events"]) == 20 and first.get("Marker")
    second = ec.describe_events(SourceType="cache-cluster", SourceIdentifier="solo", StartTime=start, MaxRecords=20,
                                Marker=first["Marker"])
    assert len(second["Events"]) == 1 and not second.get("Marker")
    listed = first["Events"] + second["Events"]
    dates = [e["Date"] for e in listed]
    assert dates == sorted(dates, reverse=True)  # newest first
    order = [next(t for t in targets if f"'{t}'" in e["Message"]) for e in listed]
    assert order == list(reversed(targets))
    # boto3's paginator walks the same pages.
    assert events(ec, SourceType="cache-cluster", SourceIdentifier="solo", StartTime=start,
                  PaginationConfig={"PageSize": 20}) == listed
    # A new event between two pages does not shift the second page.
    stack.inject({"kind": "failExport", "target": "solo"})
    ec.copy_snapshot(SourceSnapshotName=name, TargetSnapshotName=f"{name}-late", TargetBucket="acme-cache-backups")
    wait_event(ec, lambda e: f"'{name}-late'" in e["Message"], SourceType="cache-cluster", SourceIdentifier="solo",
               StartTime=start)
    again = ec.describe_events(SourceType="cache-cluster", SourceIdentifier="solo", StartTime=start, MaxRecords=20,
                               Marker=first["Marker"])
    assert again["Events"] == second["Events"]
    wait_status(ec, name)
    ec.delete_snapshot(SnapshotName=name)


def test_a_restore_and_a_deletion_are_events_of_the_group_and_its_nodes(ec):
    name = unique("ecb-ev")
    ec.create_snapshot(SnapshotName=name, CacheClusterId="fidelity-002")
    wait_status(ec, name)
    group = unique()
    ec.create_replication_group(ReplicationGroupId=group, ReplicationGroupDescription="d", SnapshotName=name)
    wait_group(ec, group, "available")
    assert [e["Message"] for e in events(ec, SourceType="replication-group", SourceIdentifier=group)] == [
        "Replication group created"]
    assert sorted(e["Message"] for e in events(ec, SourceType="cache-cluster", SourceIdentifier=f"{group}-001")) == [
        "Cache cluster created", "Restore from snapshot succeeded for node group 0001"]
    ec.delete_replication_group(ReplicationGroupId=group)
    wait_group(ec, group, "ReplicationGroupNotFoundFault")
    assert [e["Message"] for e in events(ec, SourceType="replication-group", SourceIdentifier=group)] == [
        "Replication group deleted", "Replication group created"]
    assert "Cache cluster deleted" in [e["Message"] for e in
                                       events(ec, SourceType="cache-cluster", SourceIdentifier=f"{group}-001")]
    ec.delete_snapshot(SnapshotName=name)


def test_describe_events_refusals_are_the_models(ec):
    for bad in (19, 101, 0):
        assert error_of(ec.describe_events, MaxRecords=bad)[:2] == ("InvalidParameterValue", 400)
    # botocore does not check enums client-side: the emulator refuses a SourceType the model does not list.
    assert error_of(ec.describe_events, SourceType="snapshot")[:2] == ("InvalidParameterValue", 400)
    assert error_of(ec.describe_events, Marker="not-a-marker")[:2] == ("InvalidParameterValue", 400)
    assert error_of(ec.describe_events, Duration=-5)[:2] == ("InvalidParameterValue", 400)
    t = now()
    assert error_of(ec.describe_events, StartTime=t, EndTime=t - timedelta(minutes=1))[:2] == (
        "InvalidParameterCombination", 400)
    # Every SourceType the model lists is accepted.
    for source_type in ec.meta.service_model.shape_for("SourceType").enum:
        ec.describe_events(SourceType=source_type, MaxRecords=20)
