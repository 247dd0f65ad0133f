"""A fleet end to end: one execution of terraform/fleet.asl.json with a tag selector backs up every matching
replication group and standalone cluster (12, of mixed modes) by child executions of the real backup state machine,
never more than maxConcurrency snapshots in progress at once (from the emulator's journal), each child verified; a
target that stays busy past its retries fails only its own child, and notify pages once, for that target only.

The stack's fleet function runs at most INLINE targets in an inline Map (FLEET_INLINE_MAX_TARGETS, 60 when
deployed), so the larger fleets here take the Distributed Map path (targets and results in S3, as beyond 60 in AWS)
and the small lists the inline one.

Runs its own local stack on a fleet topology (the session stack's test.toml stays as the other tests know it)."""

import json
import re
import time
from datetime import datetime

import pytest

from stack import Stack

TOPOLOGY = """
[[replication_group_set]]
prefix = "app"                # cluster mode disabled, one node each
count = 6
tags = { backup = "daily", team = "core" }

[[replication_group_set]]
prefix = "cme"                # cluster mode enabled, 2 shards each
count = 3
cluster_mode = true
shards = 2
tags = { backup = "daily" }

[[replication_group_set]]
prefix = "rep"                # cluster mode disabled, primary + replica: the replica is snapshotted
count = 2
replicas_per_shard = 1
tags = { backup = "daily" }

[[replication_group]]
id = "weekly"                 # another schedule's: not selected
tags = { backup = "weekly" }

[[replication_group]]
id = "tiered"                 # selected, but data tiering cannot be exported: skipped, with the reason
data_tiering = true
tags = { backup = "daily" }

[[cache_cluster]]
id = "solo"                   # a standalone cluster, selected
tags = { backup = "daily" }

[[cache_cluster]]
id = "untagged"
"""

SELECTED = [f"app-{i:03}" for i in range(1, 7)] + [f"cme-{i:03}" for i in range(1, 4)] + ["rep-001", "rep-002", "solo"]
DEDUP = "elasticache-backup/us-east-1/{}"
BUCKET = "fleet-backups"
INLINE = 5


def results_of(stack, output: dict) -> list[dict]:
    """Every target's result: inline in the output, or (a Distributed Map fleet) in the object Summarize wrote."""
    if "results" in output:
        return output["results"]
    where = output["resultsObject"]
    return json.loads(stack.client("s3").get_object(Bucket=where["bucket"], Key=where["key"])["Body"].read())


@pytest.fixture(scope="module")
def fleet_stack(tmp_path_factory):
    topology = tmp_path_factory.mktemp("fleet") / "fleet.toml"
    topology.write_text(TOPOLOGY)
    with Stack(topology, snapshot_min_seconds=1.0, export_delay_seconds=0.3, default_bucket=BUCKET,
               function_env={"FLEET_INLINE_MAX_TARGETS": str(INLINE)}) as s:
        s.create_backup_bucket(BUCKET)
        yield s
        s.assert_no_unsafe_deletion()


def at(stamp: str) -> float:
    """Seconds of an RFC 3339 journal time (nanoseconds cut to microseconds)."""
    stamp = re.sub(r"(\.\d{6})\d+", r"\1", stamp).replace("Z", "+00:00")
    return datetime.fromisoformat(stamp).timestamp()


def peak_snapshots_in_progress(journal: list[dict]) -> int:
    """Most snapshots between CreateSnapshot and SnapshotFinished at any moment."""
    edges = [(at(e["at"]), 1) for e in journal if e["event"] == "CreateSnapshot"]
    edges += [(at(e["at"]), -1) for e in journal if e["event"] == "SnapshotFinished"]
    running = peak = 0
    for _, step in sorted(edges, key=lambda x: (x[0], x[1])):  # an end before a start at the same instant
        running += step
        peak = max(peak, running)
    return peak


def test_a_selector_backs_up_every_matching_cache_within_max_concurrency(fleet_stack):
    s3 = fleet_stack.client("s3")
    t0 = time.monotonic()
    result = fleet_stack.run_execution({"selector": {"tags": {"backup": "daily"}}, "maxConcurrency": 3})
    wall = time.monotonic() - t0
    print(f"fleet of {len(SELECTED)} targets at maxConcurrency 3: {wall:.1f} s")
    assert result["status"] == "SUCCEEDED", (result.get("error"), result.get("cause"))
    out = result["output"]
    assert sorted(out["summary"]["succeeded"]) == sorted(SELECTED), out["summary"]
    assert out["summary"]["failed"] == [] and out["summary"]["skipped"] == ["tiered"], out["summary"]
    assert out["skipped"] == [{"target": "tiered", "reason": "NotSupported: data tiering groups cannot be exported"}]

    # More targets than an inline Map takes: a Distributed Map read them from S3 and wrote its records back.
    assert out["targetCount"] == len(SELECTED) and out["targets"] == [], out
    assert out["targetsObject"]["key"] == f"fleet-runs/backup=daily/{result['name']}/targets.json", out
    [map_run] = result["mapRuns"]
    assert (map_run["items"], map_run["failed"], map_run["maxConcurrency"]) == (len(SELECTED), 0, 3), map_run
    results = results_of(fleet_stack, out)
    assert sorted(r["target"] for r in results if r["status"] == "SUCCEEDED") == sorted(SELECTED), results

    # One child execution of the backup state machine per target, each verified: a manifest in the bucket.
    children = result["children"]
    assert len(children) == len(SELECTED)
    assert all(c["executionArn"].split(":")[-2] == "elasticache-backup" for c in children)
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])}
    for c in children:
        assert c["status"] == "SUCCEEDED", c
        assert f"{c['output']['exportName']}.manifest.json" in keys, c["output"]["exportName"]
    by_target = {c["input"].get("replicationGroupId") or c["input"].get("cacheClusterId"): c for c in children}
    assert by_target["cme-002"]["output"]["source"]["shardCount"] == 2
    assert by_target["rep-001"]["output"]["source"]["role"] == "replica"
    assert by_target["solo"]["input"] == {"cacheClusterId": "solo"}

    journal = fleet_stack.emulator_state()["journal"]
    peak = peak_snapshots_in_progress(journal)
    print(f"snapshots in progress at once: at most {peak}")
    assert 2 <= peak <= 3, peak  # children do run in parallel, and never more than maxConcurrency


def test_a_target_busy_past_its_retries_fails_alone_and_pages_once(fleet_stack):
    fleet_stack.inject({"kind": "busy", "target": "app-003", "reads": 100000})
    try:
        execution_input = {"selector": {"tags": {"team": "core"}}, "maxConcurrency": 4, "name": "core"}
        result = fleet_stack.run_execution(execution_input)
    finally:
        fleet_stack.clear_faults()
    assert result["status"] == "SUCCEEDED", (result.get("error"), result.get("cause"))
    summary = result["output"]["summary"]
    assert summary["failed"] == ["app-003"], summary
    assert sorted(summary["succeeded"]) == [f"app-{i:03}" for i in (1, 2, 4, 5, 6)], summary
    assert "targetsObject" in result["output"], "6 targets > INLINE: the Distributed Map path"
    failed = next(r for r in results_of(fleet_stack, result["output"]) if r["target"] == "app-003")
    assert failed["status"] == "FAILED" and failed["error"] == "ClusterBusy", failed

    # Every child's and the fleet's final status through notify's real code: one trigger, for app-003 alone.
    pages = []
    for child in result["children"]:
        pages += fleet_stack.notify(child, child["input"])
    fleet_pages = fleet_stack.notify(result, execution_input)
    pd = [p["body"] for p in pages + fleet_pages if p["path"].startswith("/v2/enqueue")]
    triggers = [b for b in pd if b["event_action"] == "trigger"]
    assert len(triggers) == 1 and triggers[0]["dedup_key"] == DEDUP.format("app-003"), triggers
    assert triggers[0]["payload"]["class"] == "ClusterBusy"
    resolves = sorted(b["dedup_key"] for b in pd if b["event_action"] == "resolve")
    assert resolves == sorted([DEDUP.format(f"app-{i:03}") for i in (1, 2, 4, 5, 6)] + [DEDUP.format("fleet/core")])


def test_a_selector_that_matches_nothing_fails_the_fleet_and_pages_for_the_fleet(fleet_stack):
    execution_input = {"selector": {"tags": {"backup": "hourly"}}}
    result = fleet_stack.run_execution(execution_input)
    assert result["status"] == "FAILED" and result["error"] == "TargetNotFound", result
    assert result["children"] == []
    pd = [p["body"] for p in fleet_stack.notify(result, execution_input) if p["path"].startswith("/v2/enqueue")]
    assert len(pd) == 1 and pd[0]["event_action"] == "trigger", pd
    assert pd[0]["dedup_key"] == DEDUP.format("fleet/backup=hourly")


def test_an_invalid_fleet_input_starts_nothing(fleet_stack):
    before = len(fleet_stack.emulator_state()["journal"])
    result = fleet_stack.run_execution({"targets": [{"replicationGroupId": "app-001"}], "maxConcurrency": 0})
    assert result["status"] == "FAILED" and result["error"] == "InvalidInput", result
    assert "maxConcurrency" in result["cause"], result["cause"]
    assert result["children"] == []
    assert len(fleet_stack.emulator_state()["journal"]) == before


def test_an_explicit_list_runs_each_target_with_the_fleet_options(fleet_stack):
    result = fleet_stack.run_execution({"targets": [{"replicationGroupId": "APP-005"}, {"cacheClusterId": "solo"}],
                                        "keepSourceSnapshot": True})
    assert result["status"] == "SUCCEEDED", result
    assert result["output"]["summary"]["succeeded"] == ["app-005", "solo"]
    for child in result["children"]:
        assert child["input"]["keepSourceSnapshot"] is True
        assert child["output"]["cleanup"]["sourceSnapshot"] == "kept", child["output"]["cleanup"]



def test_a_listed_target_that_does_not_exist_fails_alone_and_pages_under_its_own_key(fleet_stack):
    execution_input = {"targets": [{"replicationGroupId": "app-006"}, {"replicationGroupId": "gone"}], "name": "listed"}
    result = fleet_stack.run_execution(execution_input)
    assert result["status"] == "SUCCEEDED", result
    summary = result["output"]["summary"]
    assert summary == {"succeeded": ["app-006"], "failed": ["gone"], "skipped": []}, summary
    assert "targetsObject" not in result["output"], "2 targets: the inline Map"
    gone = next(r for r in result["output"]["results"] if r["target"] == "gone")
    assert gone["error"] == "TargetNotFound" and gone["executionArn"], gone
    pd = [p["body"] for c in result["children"] for p in fleet_stack.notify(c, c["input"])
          if p["path"].startswith("/v2/enqueue")]
    triggers = [b for b in pd if b["event_action"] == "trigger"]
    assert [b["dedup_key"] for b in triggers] == [DEDUP.format("gone")], triggers


def test_targets_whose_child_never_started_fail_the_fleet_and_page_for_it(fleet_stack, tmp_path):
    """No child execution, no child alert: when the start itself is refused (here the backup state machine is gone),
    the fleet execution fails with TargetsNotStarted naming the targets, and notify pages under the fleet's key."""
    execution_input = {"targets": [{"replicationGroupId": "app-001"}, {"replicationGroupId": "app-002"}],
                       "name": "orphaned"}
    result = fleet_stack.run_execution(execution_input, machines={"backup": str(tmp_path / "deleted.asl.json")})
    assert result["status"] == "FAILED" and result["error"] == "TargetsNotStarted", result
    assert '["app-001","app-002"]' in result["cause"], result["cause"]
    assert result["children"] == []
    pd = [p["body"] for p in fleet_stack.notify(result, execution_input) if p["path"].startswith("/v2/enqueue")]
    assert len(pd) == 1 and pd[0]["event_action"] == "trigger", pd
    assert pd[0]["dedup_key"] == DEDUP.format("fleet/orphaned") and pd[0]["payload"]["class"] == "TargetsNotStarted"


def test_in_a_distributed_fleet_too_targets_whose_child_never_started_fail_the_fleet(fleet_stack, tmp_path):
    names = [f"app-{i:03}" for i in range(1, INLINE + 2)]
    execution_input = {"targets": [{"replicationGroupId": n} for n in names], "name": "orphaned-at-scale"}
    result = fleet_stack.run_execution(execution_input, machines={"backup": str(tmp_path / "deleted.asl.json")})
    assert result["status"] == "FAILED" and result["error"] == "TargetsNotStarted", result
    assert json.dumps(names, separators=(",", ":")) in result["cause"], result["cause"]
    assert result["mapRuns"][0]["items"] == len(names)
    pd = [p["body"] for p in fleet_stack.notify(result, execution_input) if p["path"].startswith("/v2/enqueue")]
    assert [(b["event_action"], b["dedup_key"]) for b in pd] == [("trigger", DEDUP.format("fleet/orphaned-at-scale"))]
