"""`ecb doctor` (issue 24) against a correct local deployment, then with each problem planted one at a time.

The deployment: local/harness/deployment.py registers what Terraform would have created in the local stand-ins
(moto: S3, the Lambda control plane, Scheduler, SNS, SQS, Secrets Manager; Step Functions at the local endpoint) for the
ElastiCache emulator with local/topologies/doctor.toml (a correct group `good`, one group per risk). A saved
`terraform output -json` document names it all (`--terraform-output`). Each test plants one problem, checks the
finding and the exit code, and puts the deployment back.
"""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timedelta, timezone

import boto3
import pytest

import deployment
from stack import REGION, ROOT, SEED_BUCKET as SEED, Stack, bucket_policy
from cargo import binary

TOPIC = f"arn:aws:sns:{REGION}:123456789012:ecb-events"  # doctor.toml's groups notify it
BUCKET = "ecb-doctor-backups"
CRON = "cron(0 3 * * ? *)"


class Deployment:
    """deployment.register's deployment, one schedule (on `good`), with the manifests doctor's last-backup reads."""

    def __init__(self, stack: Stack, tmp):
        self.stack = stack
        kw = dict(region_name=REGION, aws_access_key_id="test", aws_secret_access_key="test")
        self.c = {s: boto3.client(s, endpoint_url=stack.s3_endpoint if s == "s3" else stack.moto_endpoint, **kw)
                  for s in ["s3", "lambda", "scheduler", "sqs", "secretsmanager"]}
        self.outputs_file = tmp / "outputs.json"

    def build(self) -> None:
        self.outputs = deployment.register(self.stack, BUCKET, {"good": CRON})
        assert self.outputs["events_topic_arn"] == TOPIC, self.outputs["events_topic_arn"]
        self.schedule = self.outputs["schedule_names"]["good"]
        self.verify_restore = self.outputs["function_names"]["verify-restore"]
        # ecb doctor reads the document named by --terraform-output (the plants rewrite it), not ECB_TERRAFORM_OUTPUT.
        self.env = {k: v for k, v in deployment.env(self.stack, self.outputs).items() if k != "ECB_TERRAFORM_OUTPUT"}
        for group in ["good", "notopic", "lowmem", "norep", "overlap"]:
            self.put_manifest(group, datetime.now(timezone.utc) - timedelta(hours=1))
        self.write_outputs(self.outputs)

    def write_outputs(self, outputs: dict) -> None:
        self.outputs_file.write_text(json.dumps({k: {"value": v, "type": "string", "sensitive": False}
                                                 for k, v in outputs.items()}))

    def put_manifest(self, group: str, started: datetime, key: str | None = None) -> None:
        t = started.strftime("%Y-%m-%dT%H:%M:%SZ")
        name = key or f"ecb-{group}-00000001"
        m = {"manifestVersion": 4, "tool": "elasticache-backup", "snapshotName": name, "exportName": name,
             "bucket": BUCKET,
             "source": {"replicationGroupId": group, "cacheClusterId": f"{group}-002", "role": "replica",
                        "clusterMode": "disabled", "engine": "redis", "engineVersion": "7.0.15", "shardCount": 1},
             "execution": {"name": "t", "startTime": t},
             "snapshot": {"status": "available", "resumed": False, "startedAt": t, "deadline": t, "availableAt": t},
             "verifiedAt": t, "totals": {"objects": 0, "keys": 0, "keysWithExpiry": 0, "bytes": 0}, "objects": []}
        self.c["s3"].put_object(Bucket=BUCKET, Key=f"{name}.manifest.json", Body=json.dumps(m).encode())

    def target(self, group: str) -> None:
        """Points the schedule at `group` (its per-target findings are then judged)."""
        s = self.c["scheduler"].get_schedule(Name=self.schedule)
        target = {**s["Target"], "Input": json.dumps({"replicationGroupId": group})}
        self.c["scheduler"].update_schedule(Name=self.schedule, ScheduleExpression=s["ScheduleExpression"],
                                            FlexibleTimeWindow={"Mode": "OFF"}, Target=target, State=s["State"])

    def doctor(self, *args: str) -> tuple[int, list[dict]]:
        r = subprocess.run([str(binary("ecb")), "--json", "--terraform-output", str(self.outputs_file), "doctor", *args],
                           env=self.env, capture_output=True, text=True, timeout=120)
        assert r.stdout, r.stderr
        return r.returncode, json.loads(r.stdout)


@pytest.fixture(autouse=True)
def _no_leftover_faults():
    """This module injects no emulator faults and does not use the session stack (conftest's fixture of this name
    would start it)."""
    yield


@pytest.fixture(scope="module")
def dep(tmp_path_factory):
    assert binary("ecb").exists(), "ecb is not built: cargo build --workspace --bins (CI builds the binaries first)"
    with Stack(ROOT / "local" / "topologies" / "doctor.toml") as stack:
        d = Deployment(stack, tmp_path_factory.mktemp("doctor"))
        d.build()
        yield d


def one(findings: list[dict], check: str, subject: str | None = None) -> list[dict]:
    return [f for f in findings if f["check"] == check and (subject is None or subject in f["subject"])]


def bad(findings: list[dict]) -> list[dict]:
    return [f for f in findings if f["level"] != "ok"]


def test_a_correct_deployment_has_no_error_and_no_warning(dep):
    code, findings = dep.doctor()
    assert bad(findings) == [] and code == 0, json.dumps(bad(findings), indent=1)
    checks = {f["check"] for f in findings}
    assert checks >= {"state-machine", "function", "verify-restore-vpc", "bucket-policy", "seeding", "secret",
                      "schedule", "dead-letter-queue", "notification-topic", "reserved-memory", "replica",
                      "automatic-backups", "last-backup"}, checks
    schedule = one(findings, "schedule")[0]["finding"]
    assert "ENABLED" in schedule and "next run" in schedule and "T03:00:00Z" in schedule, schedule


def assert_finding(findings, check, level, text, subject=None):
    found = [f for f in one(findings, check, subject) if f["level"] == level and text in f["finding"]]
    assert found, json.dumps(bad(findings), indent=1)
    assert found[0]["action"], found[0]


def test_a_bucket_policy_without_the_regional_principal_is_an_error(dep):
    s3 = dep.c["s3"]
    policy = bucket_policy(BUCKET, REGION)
    policy["Statement"] = [s for s in policy["Statement"] if s["Sid"] != "ElastiCacheSnapshotExport"]
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(policy))
    try:
        code, findings = dep.doctor()
        assert_finding(findings, "bucket-policy", "error", "lacks s3:PutObject")
        assert code == 1
        s3.delete_bucket_policy(Bucket=BUCKET)
        code, findings = dep.doctor()
        assert_finding(findings, "bucket-policy", "error", "has no policy")
    finally:
        s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(bucket_policy(BUCKET, REGION)))


def test_a_seed_bucket_with_acls_disabled_is_an_error(dep):
    s3 = dep.c["s3"]
    s3.put_bucket_ownership_controls(Bucket=SEED, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
    try:
        code, findings = dep.doctor()
        assert_finding(findings, "seeding", "error", "BucketOwnerEnforced")
        assert code == 1
    finally:
        s3.put_bucket_ownership_controls(Bucket=SEED, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]})


def test_an_unset_secret_is_an_error_and_its_value_is_never_printed(dep):
    sm = dep.c["secretsmanager"]
    arn = sm.create_secret(Name="ecb-doctor/unset")["ARN"]
    dep.write_outputs({**dep.outputs, "pagerduty_routing_key_secret_arn": arn})
    try:
        code, findings = dep.doctor()
        assert_finding(findings, "secret", "error", "has no value", "ecb-doctor/unset")
        assert code == 1
        values = [sm.get_secret_value(SecretId=dep.outputs[o])["SecretString"]
                  for o in ["slack_webhook_secret_arn", "pagerduty_routing_key_secret_arn"]]
        assert values and not any(v in json.dumps(findings) for v in values)
    finally:
        dep.write_outputs(dep.outputs)


@pytest.mark.parametrize("group,check,level,text", [
    ("notopic", "notification-topic", "warning", "not notify the alert topic"),
    ("lowmem", "reserved-memory", "warning", "reserved-memory-percent 10 < 25"),
    ("norep", "replica", "warning", "no replica"),
    ("overlap", "snapshot-window", "warning", "overlaps the snapshot window 02:30-03:30"),
    ("overlap", "automatic-backups", "warning", "automatic backups on (SnapshotRetentionLimit 1)"),
    ("nope", "target", "error", "no such replication group"),
])
def test_each_target_risk_is_found(dep, group, check, level, text):
    dep.target(group)
    try:
        code, findings = dep.doctor()
        assert_finding(findings, check, level, text, group)
        assert code == (1 if level == "error" or group == "nope" else 0), json.dumps(bad(findings), indent=1)
    finally:
        dep.target("good")


def test_a_disabled_schedule_is_an_error(dep):
    sch = dep.c["scheduler"]
    s = sch.get_schedule(Name=dep.schedule)
    sch.update_schedule(Name=dep.schedule, ScheduleExpression=CRON, FlexibleTimeWindow={"Mode": "OFF"},
                        Target=s["Target"], State="DISABLED")
    try:
        code, findings = dep.doctor()
        assert_finding(findings, "schedule", "error", "DISABLED")
        assert code == 1
    finally:
        sch.update_schedule(Name=dep.schedule, ScheduleExpression=CRON, FlexibleTimeWindow={"Mode": "OFF"},
                            Target=s["Target"], State="ENABLED")


def test_a_message_in_a_dead_letter_queue_is_an_error(dep):
    sqs = dep.c["sqs"]
    url = dep.outputs["dead_letter_queue_urls"]["notify"]
    sqs.send_message(QueueUrl=url, MessageBody="{}")
    try:
        code, findings = dep.doctor()
        assert_finding(findings, "dead-letter-queue", "error", "1 message(s): alerts notify could not deliver")
        assert code == 1
    finally:
        sqs.purge_queue(QueueUrl=url)


def test_a_missing_function_or_state_machine_is_an_error(dep):
    dep.write_outputs({**dep.outputs, "function_names": {**dep.outputs["function_names"], "notify": "ecb-doctor-gone"},
                       "fleet_state_machine_arn": dep.outputs["fleet_state_machine_arn"] + "-gone"})
    try:
        code, findings = dep.doctor()
        assert_finding(findings, "function", "error", "notify does not exist")
        assert_finding(findings, "state-machine", "error", "fleet state machine does not exist")
        assert code == 1
    finally:
        dep.write_outputs(dep.outputs)


def test_verify_restore_outside_the_targets_vpc_is_an_error(dep):
    lam = dep.c["lambda"]
    vpc = lam.get_function(FunctionName=dep.verify_restore)["Configuration"]["VpcConfig"]
    assert "subnet-0a1" in vpc["SubnetIds"], vpc  # the subnet group `app`'s
    lam.update_function_configuration(FunctionName=dep.verify_restore,
                                      VpcConfig={"SubnetIds": ["subnet-elsewhere"], "SecurityGroupIds": ["sg-0a1"]})
    try:
        code, findings = dep.doctor()
        assert_finding(findings, "verify-restore-vpc", "error", "subnet group app is in vpc-0a1b2c3d")
        assert code == 1
    finally:
        lam.update_function_configuration(FunctionName=dep.verify_restore, VpcConfig={
            "SubnetIds": vpc["SubnetIds"], "SecurityGroupIds": vpc["SecurityGroupIds"]})


def test_an_old_or_missing_verified_backup(dep):
    s3 = dep.c["s3"]
    dep.put_manifest("good", datetime.now(timezone.utc) - timedelta(hours=30))
    try:
        code, findings = dep.doctor()
        assert_finding(findings, "last-backup", "warning", "the last scheduled run did not verify a backup", "good")
        assert code == 0
        dep.put_manifest("good", datetime.now(timezone.utc) - timedelta(days=3))
        code, findings = dep.doctor()
        assert_finding(findings, "last-backup", "error", "two scheduled runs missed", "good")
        assert code == 1
        s3.delete_object(Bucket=BUCKET, Key="ecb-good-00000001.manifest.json")
        code, findings = dep.doctor()
        assert_finding(findings, "last-backup", "error", "no verified backup", "good")
        assert code == 1
    finally:
        dep.put_manifest("good", datetime.now(timezone.utc) - timedelta(hours=1))


def test_the_table_names_check_level_subject_finding_and_what_to_do(dep):
    dep.target("lowmem")
    try:
        r = subprocess.run([str(binary("ecb")), "--terraform-output", str(dep.outputs_file), "doctor"],
                           env=dep.env, capture_output=True, text=True, timeout=120)
    finally:
        dep.target("good")
    assert r.returncode == 0, r.stderr
    for word in ["check", "level", "subject", "finding", "what to do", "reserved-memory", "warning"]:
        assert word in r.stdout, r.stdout
    print(r.stdout)
