"""Retention by backup set, end to end: five verified runs of one target, one of another, and an export without a
manifest; the retention function (through cargo lambda watch) with keepLast 2 reports in a dry run, then deletes
exactly the three oldest sets of the first target, whole, and nothing else."""

import re


def keys(s3, bucket):
    out, token = [], None
    while True:
        page = s3.list_objects_v2(Bucket=bucket, **({"ContinuationToken": token} if token else {}))
        out += [o["Key"] for o in page.get("Contents", [])]
        if not page.get("IsTruncated"):
            return set(out)
        token = page["NextContinuationToken"]


def of_set(export, key):
    """Whether key belongs to the set of export: its manifest, a shard object or a restore report."""
    return key == f"{export}.manifest.json" or re.fullmatch(rf"{re.escape(export)}-\d{{4}}\.rdb", key) is not None \
        or key.startswith(f"{export}.restore-")


def test_keep_last_two_leaves_the_two_newest_complete_sets_per_target(stack, s3, bucket):
    carts = []
    for _ in range(5):
        run = stack.run_execution({"replicationGroupId": "carts", "bucket": bucket})
        assert run["status"] == "SUCCEEDED", run
        carts.append(run["output"]["exportName"])
    orders = stack.run_execution({"replicationGroupId": "orders", "bucket": bucket})
    assert orders["status"] == "SUCCEEDED", orders
    orders_export = orders["output"]["exportName"]
    # An export without a manifest (a run that failed verification), younger than the grace period.
    s3.put_object(Bucket=bucket, Key="ecb-carts-deadbeef-0001.rdb", Body=b"REDIS0011")
    before = keys(s3, bucket)

    dry = stack._invoke("retention", {"bucket": bucket, "keepLast": 2})
    assert dry.get("dryRun") is True, dry
    by_target = {t["target"]: t for t in dry["targets"]}
    assert by_target["carts"]["kept"] == [carts[4], carts[3]]
    assert by_target["carts"]["deleted"] == [carts[2], carts[1], carts[0]]
    assert {k: by_target["orders"][k] for k in ("target", "kind", "kept", "deleted")} == {
        "target": "orders", "kind": "replication-group", "kept": [orders_export], "deleted": []}
    assert by_target["orders"]["createdAt"], "a target's identity includes its creation time"
    assert dry["orphansKept"] == ["ecb-carts-deadbeef-0001.rdb"] and dry["orphansDeleted"] == []
    assert keys(s3, bucket) - {k for k in keys(s3, bucket) if k.startswith("retention-reports/")} == before

    report = stack._invoke("retention", {"bucket": bucket, "keepLast": 2, "dryRun": False})
    assert report.get("dryRun") is False and report["errors"] == [], report
    left = keys(s3, bucket)
    for export in carts[:3]:
        assert not [k for k in left if of_set(export, k)], f"{export} not wholly deleted: {sorted(left)}"
    for export in carts[3:] + [orders_export]:
        assert f"{export}.manifest.json" in left and f"{export}-0001.rdb" in left, export
    assert "ecb-carts-deadbeef-0001.rdb" in left
    deleted = before - left
    assert report["objectsDeleted"] == len(deleted) == 6, sorted(deleted)  # 3 manifests + 3 shard objects
    assert report["reportKey"] in left


def test_overlapping_runs_keep_the_newer_data_even_when_it_was_verified_first(stack, s3, bucket):
    """Two runs of one target overlap (a fleet and a manual run): the one that took its snapshot first finishes
    verifying last. keepLast 1 keeps the newer data, not the later verification."""
    import json

    first = stack.run_execution({"replicationGroupId": "carts", "bucket": bucket})
    second = stack.run_execution({"replicationGroupId": "carts", "bucket": bucket})
    assert first["status"] == second["status"] == "SUCCEEDED", (first, second)
    older, newer = first["output"]["exportName"], second["output"]["exportName"]
    # The older data's verification "finished" an hour after the newer one's.
    key = f"{older}.manifest.json"
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    newer_manifest = json.loads(s3.get_object(Bucket=bucket, Key=f"{newer}.manifest.json")["Body"].read())
    assert manifest["snapshot"]["startedAt"] < newer_manifest["snapshot"]["startedAt"]
    manifest["verifiedAt"] = "2099-01-01T00:00:00Z"
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(manifest).encode())

    report = stack._invoke("retention", {"bucket": bucket, "keepLast": 1, "dryRun": False})
    assert report.get("dryRun") is False and report["errors"] == [], report
    carts = [t for t in report["targets"] if t["target"] == "carts"][0]
    assert carts["kept"] == [newer] and older in carts["deleted"], carts
    left = keys(s3, bucket)
    assert f"{newer}.manifest.json" in left and f"{older}.manifest.json" not in left
