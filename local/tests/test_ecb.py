"""`ecb`, the operator's CLI, against the local stack as an operator runs it: Step Functions at the local endpoint
(local/standins/sfn/server.mjs), ElastiCache at the emulator, S3 in moto, the retention function through cargo lambda
watch. Each subcommand's table and `--json`, the exit codes of success, failure, bad input and a missing execution,
and `--wait` following a run to its end."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from cargo import binary
from stack import MACHINE_NAMES, REGION

ACCOUNT = "123456789012"


@pytest.fixture()
def ecb(stack, bucket):
    """Runs ecb against the local stack, with a `terraform output -json` document naming the deployment."""
    # ECB_BUCKET: every input names the test's own bucket (the functions' BACKUP_BUCKET is the session's).
    env = {**stack.ecb_env(bucket), "ECB_BUCKET": bucket}

    def run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run([str(binary("ecb")), *args], env=env, capture_output=True, text=True, timeout=timeout)

    return run


def test_backup_wait_follows_the_run_and_backups_show_and_runs_list_it(ecb, bucket):
    done = ecb("backup", "orders", "--wait", "--interval", "0.2")
    assert done.returncode == 0, done.stderr + done.stdout
    # Not a terminal: the live view is a log of state changes on stderr, the summary on stdout.
    # Every state entered is in the log, in order, whatever the interval between checks.
    states = [line.split()[1] for line in done.stderr.splitlines() if line.lstrip().startswith("+")]
    assert states[:3] == ["PrepareRun", "CreateSnapshot", "WaitForSnapshot"], done.stderr
    for state in ("CheckSnapshot", "ExportSnapshot", "CheckExport", "VerifyExport", "VerifyShard", "WriteManifest"):
        assert state in states, done.stderr
    assert states[-2:] == ["DeleteSnapshot", "BackupSucceeded"], done.stderr
    assert "snapshot   ecb-orders-" in done.stderr and "(waits " in done.stderr, done.stderr
    assert " SUCCEEDED in " in done.stdout, done.stdout
    assert "verified   1 object(s)" in done.stdout, done.stdout
    name = done.stdout.split()[0]
    assert name.startswith("ecb-orders-"), done.stdout

    backups = ecb("backups", "--json")
    assert backups.returncode == 0, backups.stderr
    doc = json.loads(backups.stdout)
    rows = [b for b in doc["backups"] if b["target"] == "orders"]
    assert len(rows) == 1, doc
    row = rows[0]
    assert row["shards"] == 1 and row["keys"] >= 0 and row["sizeBytes"] > 0, row
    assert row["manifest"] == f"s3://{bucket}/{row['exportName']}.manifest.json"
    assert row["lastDrill"] is None and row["retention"] == "-", row
    table = ecb("backups", "--target", "orders")
    assert table.returncode == 0 and row["exportName"] in table.stdout and "data time" in table.stdout, table.stdout

    show = ecb("show", row["exportName"])
    assert show.returncode == 0, show.stderr
    assert f"manifest    s3://{bucket}/{row['exportName']}.manifest.json" in show.stdout, show.stdout
    assert f"{row['exportName']}-0001.rdb" in show.stdout and "sha256" in show.stdout, show.stdout
    shown = json.loads(ecb("show", row["manifest"], "--json").stdout)
    assert shown["exportName"] == row["exportName"] and shown["tool"] == "elasticache-backup"

    runs = ecb("runs", "--json", "--machine", "backup", "--target", "orders")
    assert runs.returncode == 0, runs.stderr
    listed = {r["name"]: r for r in json.loads(runs.stdout)}
    assert listed[name]["status"] == "SUCCEEDED" and listed[name]["kind"] == "backup", listed
    assert listed[name]["target"] == "orders" and listed[name]["failedStep"] is None
    table = ecb("runs")
    assert table.returncode == 0 and name in table.stdout and "failed step" in table.stdout, table.stdout

    # Attaching to an ended execution, by name and by ARN, ends at once with its exit code.
    watched = ecb("watch", name, "--json")
    assert watched.returncode == 0, watched.stderr
    assert json.loads(watched.stdout)["execution"]["status"] == "SUCCEEDED"


def test_a_failed_run_exits_1_naming_the_error_and_runs_names_the_failed_step(stack, ecb):
    stack.inject({"kind": "corruptExport"})
    done = ecb("backup", "carts", "--replication-group", "--wait", "--interval", "0.2", "--name", "ecb-test-carts-fails")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "ecb-test-carts-fails FAILED: ExportCorrupt: VerifyExport failed" in done.stderr, done.stderr
    assert "error      ExportCorrupt" in done.stdout, done.stdout
    runs = json.loads(ecb("runs", "--json", "--status", "failed").stdout)
    failed = next(r for r in runs if r["name"] == "ecb-test-carts-fails")
    assert failed["failedStep"] == "VerifyShard" and failed["error"] == "ExportCorrupt", failed
    # The failed run keeps its snapshot (nothing backed up is lost); tidy up, not the pipeline's doing.
    watched = ecb("watch", "ecb-test-carts-fails", "--json")
    assert watched.returncode == 1
    cause = json.loads(watched.stdout)["execution"]["cause"]
    stack.client("elasticache").delete_snapshot(SnapshotName=cause.split()[4].rstrip(":"))


def test_a_tag_selector_starts_the_fleet_and_the_view_has_a_row_per_target(ecb):
    done = ecb("backup", "backup=weekly", "--wait", "--interval", "0.2")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "fleet      backup=weekly: 1 target(s)" in done.stdout, done.stdout
    assert "  target   solo: SUCCEEDED" in done.stdout, done.stdout
    runs = json.loads(ecb("runs", "--json", "--machine", "fleet").stdout)
    assert any(r["target"] == "backup=weekly" and r["kind"] == "fleet" for r in runs), runs


def test_bad_input_is_refused_before_anything_starts(ecb):
    for args, needle in [
        (["backup", "-orders"], "TARGET"),
        (["backup", "orders", "--name", "has space"], "--name"),
        (["backup", "team=payments", "--node"], "tag selector"),
        (["restore", "--latest", "orders", "--to", "Bad--Name"], "targetReplicationGroupId"),
        (["runs", "--since", "a week"], "7d"),
    ]:
        done = ecb(*args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert needle in done.stderr, (args, done.stderr)
    assert json.loads(ecb("runs", "--json", "--machine", "restore").stdout) is not None


def test_a_missing_execution_or_target_exits_3(ecb):
    missing = ecb("watch", "no-such-execution")
    assert missing.returncode == 3, missing.stderr
    assert "no execution of that name" in missing.stderr
    arn = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:{MACHINE_NAMES['backup']}:nope"
    assert ecb("watch", arn).returncode == 3
    gone = ecb("backup", "no-such-group")
    assert gone.returncode == 3 and "no replication group, cache cluster or serverless cache" in gone.stderr, gone.stderr
    assert ecb("show", "ecb-orders-00000000").returncode == 3


def test_restore_wait_prints_the_rto_and_the_verification_then_backups_shows_the_drill(ecb, stack, bucket):
    stack.allow_elasticache_seeding(bucket)
    assert ecb("backup", "orders", "--wait", "--interval", "0.2").returncode == 0
    done = ecb("restore", "--latest", "orders", "--to", "orders-cli-restored", "--wait", "--interval", "0.2")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "rto        " in done.stdout and "verified   match" in done.stdout, done.stdout
    drill = ecb("drill", "orders", "--wait", "--interval", "0.2", "--json")
    assert drill.returncode == 0, drill.stderr
    view = json.loads(drill.stdout)["view"]
    assert any(l.startswith("rto ") for l in view["lines"]), view
    rows = json.loads(ecb("backups", "--json", "--target", "orders").stdout)["backups"]
    assert rows[0]["lastDrill"]["verdict"] == "verified", rows[0]
    assert rows[0]["lastDrill"]["kind"] in ("drill", "restore")


def test_retention_previews_with_the_deployed_function_and_deletes_only_with_apply(ecb, bucket, s3):
    for _ in range(2):
        assert ecb("backup", "carts", "--wait", "--interval", "0.2").returncode == 0
    before = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}
    no_policy = ecb("retention")
    assert no_policy.returncode == 2 and "--keep-last" in no_policy.stderr, no_policy.stderr
    dry = ecb("retention", "--keep-last", "1")
    assert dry.returncode == 0, dry.stderr
    assert "dry run" in dry.stdout and "would delete" in dry.stdout, dry.stdout
    assert "nothing was deleted" in dry.stdout
    rows = json.loads(ecb("backups", "--json", "--target", "carts", "--keep-last", "1").stdout)["backups"]
    assert [r["retention"] for r in rows] == ["kept (newest 1)", "next retention run"], rows
    after_dry = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}
    assert {k for k in before if k.startswith("ecb-")} <= after_dry, "a dry run deleted something"
    applied = json.loads(ecb("retention", "--keep-last", "1", "--apply", "--json").stdout)
    assert applied["dryRun"] is False
    carts = next(t for t in applied["targets"] if t["target"] == "carts")
    assert len(carts["deleted"]) == 1 and len(carts["kept"]) == 1, carts


def test_check_is_rdb_check(ecb, bucket, s3):
    assert ecb("backup", "orders", "--wait", "--interval", "0.2").returncode == 0
    rdb = next(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"] if o["Key"].endswith(".rdb"))
    done = ecb("check", f"s3://{bucket}/{rdb}", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[0])["ok"] is True
    assert ecb("check", "/nonexistent.rdb").returncode == 1


def test_completions_and_the_man_page_come_from_the_definition(ecb):
    bash = ecb("completions", "bash")
    assert bash.returncode == 0 and "ecb" in bash.stdout and "restore" in bash.stdout
    man = ecb("man")
    assert man.returncode == 0 and ".TH ecb" in man.stdout, man.stdout[:200]


def test_a_reader_that_stops_early_ends_ecb_quietly(stack, bucket):
    """`ecb … | head`: a closed pipe ends ecb with exit code 0, never a panic. The pipe holds one page (F_SETPIPE_SZ),
    so the output (≥ 20 KB) cannot fit in it before the reader goes."""
    import fcntl
    for args in (["completions", "bash"], ["completions", "zsh"]):
        read, write = os.pipe()
        fcntl.fcntl(write, 1031, 4096)  # F_SETPIPE_SZ (Linux)
        proc = subprocess.Popen([str(binary("ecb")), *args], stdout=write, stderr=subprocess.PIPE,
                                env=stack.ecb_env(bucket))
        os.close(write)
        with os.fdopen(read, "rb") as reader:
            assert reader.readline()
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0 and b"panicked" not in err, (args, proc.returncode, err[-500:])


def test_ctrl_c_stops_watching_not_the_backup(stack, ecb, bucket):
    import signal
    import time
    stack.inject({"kind": "busy", "target": "orders", "reads": 4})  # a few busy answers: the run takes seconds
    started = ecb("backup", "orders", "--json", "--name", "ecb-test-ctrl-c")
    assert started.returncode == 0, started.stderr
    arn = json.loads(started.stdout)["executionArn"]
    watcher = subprocess.Popen([str(binary("ecb")), "watch", "ecb-test-ctrl-c", "--interval", "0.2"],
                               env={**stack.ecb_env(bucket), "ECB_BUCKET": bucket},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.6)
    assert watcher.poll() is None, "the watch ended before Ctrl-C"
    watcher.send_signal(signal.SIGINT)
    _, err = watcher.communicate(timeout=30)
    assert watcher.returncode == 130, err
    assert "the execution continues" in err, err
    sfn = stack.client("stepfunctions")
    for _ in range(300):
        status = sfn.describe_execution(executionArn=arn)["status"]
        if status != "RUNNING":
            break
        time.sleep(0.2)
    assert status == "SUCCEEDED", status
