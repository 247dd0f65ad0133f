"""`ecb evidence` on the local stack: a local history of verified backups, a failed run (an injected corrupt export),
a drill and a retention deletion, then the report as JSON (each appears with its fields), Markdown and HTML; bad
input (an unknown --target, an unparsable --since) is a usage error (exit 2) that says what is accepted."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from cargo import binary

POLICY = {
    "schedules": [{"name": "nightly", "scheduleExpression": "cron(0 3 * * ? *)", "timezone": "UTC", "rpoHours": 25,
                   "targets": ["orders"], "selector": None}],
    "drills": [{"name": "weekly", "scheduleExpression": "cron(0 5 ? * SUN *)", "timezone": "UTC", "target": "orders",
                "rtoMinutes": 60, "vault": False}],
    "bucket": None, "drBucket": None, "vaultBucket": None,
}


@pytest.fixture()
def ecb(stack, bucket, tmp_path):
    """Runs ecb against the local stack; `policy=True` names the evidence policy (ECB_EVIDENCE_POLICY)."""
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({**POLICY, "bucket": bucket}))
    base = {**stack.ecb_env(bucket), "ECB_BUCKET": bucket}

    def run(*args: str, policy_file: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
        env = {**base, "ECB_EVIDENCE_POLICY": str(policy)} if policy_file else base
        return subprocess.run([str(binary("ecb")), *args], env=env, capture_output=True, text=True, timeout=timeout)

    return run


def test_evidence_shows_backups_a_failed_run_a_drill_and_a_retention_deletion(ecb, stack, bucket, tmp_path):
    stack.allow_elasticache_seeding(bucket)
    for _ in range(2):
        done = ecb("backup", "orders", "--wait", "--interval", "0.2")
        assert done.returncode == 0, done.stdout + done.stderr
    stack.inject({"kind": "corruptExport"})
    failed = ecb("backup", "orders", "--replication-group", "--wait", "--interval", "0.2",
                 "--name", "ecb-test-evidence-fails")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    stack.clear_faults()
    cause = json.loads(ecb("watch", "ecb-test-evidence-fails", "--json").stdout)["execution"]["cause"]
    stack.client("elasticache").delete_snapshot(SnapshotName=cause.split()[4].rstrip(":"))
    drill = ecb("drill", "orders", "--wait", "--interval", "0.2", "--name", "ecb-test-evidence-drill")
    assert drill.returncode == 0, drill.stdout + drill.stderr
    applied = ecb("retention", "--keep-last", "1", "--apply", "--json")
    assert applied.returncode == 0, applied.stderr
    deleted = next(t for t in json.loads(applied.stdout)["targets"] if t["target"] == "orders")["deleted"]
    assert len(deleted) == 1, applied.stdout

    done = ecb("evidence", "--since", "12h", "--target", "orders", "--format", "json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert set(report) >= {"from", "to", "targets"}
    assert "notes" not in report or not any("no evidence policy" in n for n in report["notes"]), report.get("notes")
    [t] = report["targets"]
    assert t["target"] == "orders"
    assert t["schedules"][0]["name"] == "nightly" and t["rpoHours"] == 25 and t["rtoMinutes"] == 60, t
    # The backup retention kept, with every object's SHA-256 and where it is.
    [kept] = t["verifiedBackups"]
    assert kept["exportName"] not in deleted
    assert kept["keys"] >= 0 and kept["sizeBytes"] > 0 and kept["dataTime"], kept
    assert all(re.fullmatch(r"[0-9a-f]{64}", o["sha256"]) for o in kept["objects"]), kept
    assert kept["locations"] == [{"kind": "bucket", "bucket": bucket}], kept
    # Every run of the window, the failed one with its error and cause.
    runs = {r["execution"]: r for r in t["runs"]}
    assert runs["ecb-test-evidence-fails"]["status"] == "FAILED"
    assert runs["ecb-test-evidence-drill"]["kind"] == "drill" and runs["ecb-test-evidence-drill"]["status"] == "SUCCEEDED"
    assert sum(r["kind"] == "backup" and r["status"] == "SUCCEEDED" for r in t["runs"]) >= 2, t["runs"]
    bad = next(f for f in t["failedRuns"] if f["execution"] == "ecb-test-evidence-fails")
    assert bad["error"] == "ExportCorrupt" and "VerifyExport" in bad["cause"] and bad["startedAt"], bad
    # The drill, within its RTO and matching.
    drill_row = next(d for d in t["drills"] if d["execution"] == "ecb-test-evidence-drill")
    assert isinstance(drill_row["rtoSeconds"], int) and drill_row["match"] is True, drill_row
    assert drill_row["verdict"] == "verified" and drill_row["at"], drill_row
    # The retention deletion.
    assert [d["exportName"] for d in t["retentionDeletions"]] == deleted, t["retentionDeletions"]
    assert t["retentionDeletions"][0]["report"].startswith("retention-reports/")
    # A backup minutes ago in a 12 h window: the gap from the window's start is about 12 h.
    assert 11 < t["largestGapHours"] <= 12.1, t["largestGapHours"]
    assert t["rpoMet"] is True and t["rtoMet"] is True, t

    md = ecb("evidence", "--since", "12h", "--format", "md")
    assert md.returncode == 0, md.stderr
    assert re.search(r"^- orders: RPO met \(largest gap [0-9.]+ h, RPO 25 h\); RTO met", md.stdout, re.M), md.stdout
    assert "## orders" in md.stdout and "ExportCorrupt" in md.stdout and deleted[0] in md.stdout, md.stdout
    page = tmp_path / "evidence.html"
    html = ecb("evidence", "--since", "12h", "--target", "ORDERS", "--format", "html", "--out", str(page))
    assert html.returncode == 0 and html.stdout == "", html.stdout + html.stderr
    text = page.read_text()
    assert text.startswith("<!DOCTYPE html>") and kept["objects"][0]["sha256"] in text and "<script" not in text
    summary = ecb("evidence", "--since", "12h", "--format", "summary")
    assert summary.returncode == 0 and re.search(r"^orders: RPO met", summary.stdout, re.M), summary.stdout

    # Without a policy the report still shows what it found, at the default RPO, and says so.
    bare = json.loads(ecb("evidence", "--since", "12h", "--target", "orders", "--json", policy_file=False).stdout)
    assert any("no evidence policy" in n for n in bare["notes"]), bare
    assert bare["targets"][0]["rpoHours"] == 25 and bare["targets"][0]["rtoMet"] is None


def test_bad_evidence_input_is_a_usage_error_naming_what_is_accepted(ecb):
    unknown = ecb("evidence", "--target", "nosuch")
    assert unknown.returncode == 2, unknown.stdout + unknown.stderr
    assert "--target nosuch" in unknown.stderr and "known targets:" in unknown.stderr, unknown.stderr
    assert "orders" in unknown.stderr, "the policy's targets are known"
    since = ecb("evidence", "--since", "yesterday-ish")
    assert since.returncode == 2, since.stdout + since.stderr
    assert "--since" in since.stderr and "90d" in since.stderr and "RFC 3339" in since.stderr, since.stderr
    fmt = ecb("evidence", "--format", "pdf")
    assert fmt.returncode == 2 and "md" in fmt.stderr, fmt.stderr


def test_the_evidence_function_writes_the_month_tagged_verified(stack, s3):
    """The deployed function (cargo lambda watch, the functions' environment: BACKUP_BUCKET, the restore state
    machine, no policy and no backup state machine) writes evidence/<month>.html and .json with the verified tag."""
    from conftest import DEFAULT_BUCKET

    out = stack._invoke("evidence", {"month": "2026-11"})
    assert out.get("month") == "2026-11", out
    assert out["html"] == f"s3://{DEFAULT_BUCKET}/evidence/2026-11.html", out
    for key in ("evidence/2026-11.html", "evidence/2026-11.json"):
        tags = s3.get_object_tagging(Bucket=DEFAULT_BUCKET, Key=key)["TagSet"]
        assert tags == [{"Key": "elasticache-backup:verified", "Value": "true"}], (key, tags)
    doc = json.loads(s3.get_object(Bucket=DEFAULT_BUCKET, Key="evidence/2026-11.json")["Body"].read())
    assert doc["from"] == "2026-11-01T00:00:00Z" and doc["to"] == "2026-12-01T00:00:00Z", doc
    assert any("no evidence policy" in n for n in doc["notes"]), doc["notes"]
    assert any("backup state machine is not known" in n for n in doc["notes"]), doc["notes"]
    html = s3.get_object(Bucket=DEFAULT_BUCKET, Key="evidence/2026-11.html")
    assert html["ContentType"].startswith("text/html") and html["Body"].read().startswith(b"<!DOCTYPE html>")
    bad = stack._invoke("evidence", {"month": "November"})
    assert bad.get("errorType") == "InvalidInput" and "month" in bad.get("errorMessage", ""), bad
