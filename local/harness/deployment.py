"""The local deployment: what this project's Terraform (terraform/) would have created, registered in the local
stand-ins of a running Stack, and the `terraform output -json` values naming it, for `ecb` (`ecb doctor` judges it).

- the functions, one per crate under functions/ as terraform/locals.tf's `functions` has them, in moto's Lambda
  control plane (a dummy zip; GetFunction is all ecb asks of it), VerifyRestore with a VpcConfig whose subnets are
  those of the scheduled targets' cache subnet group;
- the export bucket with the bucket policy (stack.bucket_policy), the seed bucket for `object-acl` seeding and the two
  alert secrets: the stack's own (SEED_BUCKET, `ecb-local/slack`, `ecb-local/pagerduty`), which its functions use;
- the SNS events topic, one EventBridge Scheduler schedule per target, the notify and schedule dead-letter queues,
  with a retention policy the retention schedule, and the monthly evidence schedule (`<NAME>-evidence`);
- the evidence policy (output `evidence_policy`, a JSON string as Terraform's `jsonencode` gives it): each schedule
  with the default RPO of 25 h, and `drills` (name -> target, RTO minutes) when given;
- the state machines: the local Step Functions endpoint's three (Stack.state_machine_arn).

Function names. Terraform names a function `<name>-<key>`; locally the deployed name is the key itself, the crate's
name, because that is the name cargo lambda watch serves it under (`ecb retention` invokes `function_names.retention`
there). moto's control plane registers the same names, so `function_names` is `{key: key}` for both. Lambda's two
halves are two local endpoints: `env(..., invoke=True)` points AWS_ENDPOINT_URL_LAMBDA at cargo lambda watch (Invoke:
`ecb retention`), the default at moto (GetFunction: `ecb doctor`); no other ecb command calls Lambda.

Not registered: the staleness alarms (output `staleness_alarm_names`): the Rust SDK speaks CloudWatch's rpcv2-cbor
protocol, which moto does not serve, so the alarm rule is covered by doctor's Rust unit tests only.
"""

from __future__ import annotations

import io
import json
import zipfile

import boto3

from stack import ELASTICACHE_CANONICAL_USER, REGION, ROOT, SEED_BUCKET, Stack, bucket_policy

# The module's var.name: resources are named "<NAME>-…" as terraform/*.tf names them.
NAME = "ecb"
# The secrets the stack's notify reads (Stack.start creates them with their values).
SECRETS = {"slack_webhook_secret_arn": "ecb-local/slack", "pagerduty_routing_key_secret_arn": "ecb-local/pagerduty"}


def function_keys() -> list[str]:
    """terraform/locals.tf's `functions`: one entry per crate under functions/."""
    return sorted(p.name for p in (ROOT / "functions").iterdir() if (p / "Cargo.toml").exists())


def _clients(stack: Stack, *services: str) -> dict:
    return {s: boto3.client(s, endpoint_url=stack.s3_endpoint if s == "s3" else stack.moto_endpoint, region_name=REGION, aws_access_key_id="test",
                            aws_secret_access_key="test") for s in services}


def _target_subnets(stack: Stack, targets) -> list[str]:
    """The subnets of the first target's cache subnet group that has one (the restore creates its group there, and
    VerifyRestore must reach it); none when no target names a subnet group."""
    ec = stack.client("elasticache")
    for t in targets:
        groups = ec.describe_replication_groups(ReplicationGroupId=t)["ReplicationGroups"]
        for member in groups[0]["MemberClusters"] if groups else []:
            cluster = ec.describe_cache_clusters(CacheClusterId=member)["CacheClusters"][0]
            if name := cluster.get("CacheSubnetGroupName"):
                sg = ec.describe_cache_subnet_groups(CacheSubnetGroupName=name)["CacheSubnetGroups"][0]
                return [s["SubnetIdentifier"] for s in sg["Subnets"]]
    return []


def evidence_policy(bucket: str, schedules: dict[str, str], drills: dict[str, tuple[str, int]] | None = None) -> str:
    """The evidence policy JSON terraform/evidence.tf renders for `schedules` (target -> expression, one schedule
    per target named after it) and `drills` (name -> (target, rtoMinutes))."""
    return json.dumps({
        "schedules": [{"name": t, "scheduleExpression": e, "timezone": "UTC", "rpoHours": 25, "targets": [t.lower()],
                       "selector": None} for t, e in schedules.items()],
        "drills": [{"name": n, "scheduleExpression": "cron(0 5 ? * SUN *)", "timezone": "UTC", "target": t.lower(),
                    "rtoMinutes": rto, "vault": False} for n, (t, rto) in (drills or {}).items()],
        "bucket": bucket, "drBucket": None, "vaultBucket": None,
    })


def register(stack: Stack, bucket: str, schedules: dict[str, str], *, retention: dict | None = None,
             subnets: list[str] | None = None, drills: dict[str, tuple[str, int]] | None = None) -> dict:
    """Registers the deployment in `stack`'s stand-ins; returns its Terraform outputs (pass them to `env`, or to
    `stack.ecb_env(bucket, **outputs)`). `schedules`: replication group id -> schedule expression (UTC), one backup
    schedule each, named `<NAME>-<id>` as terraform/schedule.tf names them. `retention`: the retention schedule's input
    (`{"keepLast": 7, "keepDays": 30}`; dryRun true and graceHours 24 unless given), scheduled daily. `subnets`:
    VerifyRestore's subnets (default: the targets' cache subnet group's). `drills`: name -> (target, rtoMinutes), for the
    evidence policy only (no drill schedule is registered)."""
    c = _clients(stack, "iam", "lambda", "s3", "sns", "scheduler", "sqs", "secretsmanager")
    role = c["iam"].create_role(RoleName=f"{NAME}-local", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    machines = {out: Stack.state_machine_arn(key) for key, out in [
        ("backup", "state_machine_arn"), ("restore", "restore_state_machine_arn"), ("fleet", "fleet_state_machine_arn")]}

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("bootstrap", "#!/bin/sh\n")
    subnets = subnets if subnets is not None else _target_subnets(stack, schedules)
    arns = {}
    for key in function_keys():
        vpc = ({"VpcConfig": {"SubnetIds": subnets, "SecurityGroupIds": ["sg-local-restore"]}}
               if key == "verify-restore" and subnets else {})
        arns[key] = c["lambda"].create_function(
            FunctionName=key, Runtime="provided.al2023", Role=role, Handler="bootstrap",
            Code={"ZipFile": buf.getvalue()}, **vpc)["FunctionArn"]

    s3 = c["s3"]
    if bucket not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
        s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(bucket_policy(bucket, REGION)))
    topic = c["sns"].create_topic(Name=f"{NAME}-events")["TopicArn"]
    secrets = {out: c["secretsmanager"].describe_secret(SecretId=name)["ARN"] for out, name in SECRETS.items()}
    queues = {k: c["sqs"].create_queue(QueueName=f"{NAME}-{k}-dlq")["QueueUrl"] for k in ["notify", "schedule"]}
    dlq = c["sqs"].get_queue_attributes(QueueUrl=queues["schedule"], AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    def schedule(name: str, expression: str, target_arn: str, payload: dict) -> str:
        c["scheduler"].create_schedule(
            Name=name, ScheduleExpression=expression, ScheduleExpressionTimezone="UTC",
            FlexibleTimeWindow={"Mode": "OFF"}, State="ENABLED",
            Target={"Arn": target_arn, "RoleArn": role, "Input": json.dumps(payload),
                    "RetryPolicy": {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 5},
                    "DeadLetterConfig": {"Arn": dlq}})
        return name

    names = {t: schedule(f"{NAME}-{t}", e, machines["state_machine_arn"], {"replicationGroupId": t})
             for t, e in schedules.items()}
    retention_name = None
    if retention is not None:
        retention_name = schedule(f"{NAME}-retention", "cron(0 5 * * ? *)", arns["retention"],
                                  {"dryRun": True, "graceHours": 48, "snapshotMinAgeHours": 72, **retention})
    schedule(f"{NAME}-evidence", "cron(0 6 1 * ? *)", arns["evidence"], {})
    return {
        **machines, **secrets,
        "bucket_name": bucket,
        "function_names": {k: k for k in arns},
        "events_topic_arn": topic,
        "schedule_names": names,
        "dead_letter_queue_urls": queues,
        "dr_bucket_name": None,
        "seeding": {REGION: {"mode": "object-acl", "seed_bucket_name": SEED_BUCKET,
                             "elasticache_canonical_user": ELASTICACHE_CANONICAL_USER}},
        "retention_schedule_name": retention_name,
        "evidence_policy": evidence_policy(bucket, schedules, drills),
    }


def env(stack: Stack, outputs: dict, *, invoke: bool = False) -> dict:
    """The environment ecb runs in against this deployment: `stack.ecb_env` (outputs as ECB_TERRAFORM_OUTPUT) with
    SQS and CloudWatch in moto too, and Lambda at moto's control plane (GetFunction: `ecb doctor`), or with `invoke`
    at cargo lambda watch (Invoke: `ecb retention`)."""
    e = stack.ecb_env(outputs["bucket_name"], **outputs)
    e.update({"AWS_ENDPOINT_URL_SQS": stack.moto_endpoint, "AWS_ENDPOINT_URL_CLOUDWATCH": stack.moto_endpoint,
              "AWS_ENDPOINT_URL_LAMBDA": stack.lambda_endpoint if invoke else stack.moto_endpoint})
    return e
