//! The judgement: [`Facts`] → [`Finding`]s, without the network. Each rule says what it found and what to do.

use serde::Serialize;
use time::Duration;

use super::expr;
use super::facts::{Facts, Look, TargetDetail, TargetFact};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// As it should be.
    Ok,
    /// A risk; the deployment works.
    Warning,
    /// Backups or alerts will not work as deployed (exit 1).
    Error,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The check (`bucket-policy`, `reserved-memory`, …).
    pub check: &'static str,
    /// How bad.
    pub level: Level,
    /// What was checked (a name, an id).
    pub subject: String,
    /// What was found.
    pub finding: String,
    /// What to do (empty when ok).
    pub action: String,
}

fn f(
    check: &'static str,
    level: Level,
    subject: impl Into<String>,
    finding: impl Into<String>,
    action: impl Into<String>,
) -> Finding {
    Finding {
        check,
        level,
        subject: subject.into(),
        finding: finding.into(),
        action: action.into(),
    }
}

/// The minimum `reserved-memory-percent` (ElastiCache User Guide, "Managing reserved memory": 25 % is the default
/// and the recommendation for Redis OSS 3.2.4 and later).
pub const MIN_RESERVED_MEMORY_PERCENT: u32 = 25;
/// The export actions the bucket policy grants the regional principal (User Guide, "Exporting a backup").
pub const EXPORT_ACTIONS: &[&str] = &[
    "s3:PutObject",
    "s3:GetObject",
    "s3:ListBucket",
    "s3:GetBucketAcl",
    "s3:ListMultipartUploadParts",
    "s3:ListBucketMultipartUploads",
];
/// What seeding reads in `bucket-policy` mode (User Guide, "Seeding a new self-designed cluster with an externally
/// created backup").
pub const SEED_ACTIONS: &[&str] = &["s3:GetObject", "s3:ListBucket", "s3:GetBucketAcl"];
/// Slack for a run's duration when judging a backup's age against the schedule's interval.
const RUN_SLACK: Duration = Duration::hours(2);

/// Every finding, infrastructure first, then per target.
pub fn judge(facts: &Facts) -> Vec<Finding> {
    let mut out = Vec::new();
    machines(facts, &mut out);
    functions(facts, &mut out);
    bucket_policy(facts, &mut out);
    seeding(facts, &mut out);
    secrets(facts, &mut out);
    schedules(facts, &mut out);
    alarms(facts, &mut out);
    queues(facts, &mut out);
    for t in &facts.targets {
        target(facts, t, &mut out);
    }
    if let Some(why) = &facts.backups_unlisted {
        out.push(failed(
            "last-backup",
            facts.bucket.as_ref().map_or("bucket", |b| b.name.as_str()),
            why,
        ));
    }
    for (key, why) in &facts.unreadable_manifests {
        out.push(f(
            "last-backup",
            Level::Warning,
            key,
            format!("manifest not readable: {why}"),
            "check the object (ecb backups)",
        ));
    }
    out
}

fn failed(check: &'static str, subject: &str, e: &str) -> Finding {
    f(
        check,
        Level::Error,
        subject,
        format!("could not check: {e}"),
        "check the credentials' permissions and the region",
    )
}

fn machines(facts: &Facts, out: &mut Vec<Finding>) {
    for m in &facts.machines {
        let subject = m.arn.clone().unwrap_or_else(|| m.label.to_string());
        out.push(match (&m.arn, &m.status) {
            (None, _) => f(
                "state-machine",
                Level::Error,
                m.label,
                format!(
                    "the {} state machine's ARN is not known (no flag, ECB_* variable or Terraform output names it)",
                    m.label
                ),
                "give --terraform-dir / --terraform-output of the deployment",
            ),
            (_, Look::Found(s)) if s == "ACTIVE" => f(
                "state-machine",
                Level::Ok,
                subject,
                format!("{} state machine ACTIVE", m.label),
                "",
            ),
            (_, Look::Found(s)) => f(
                "state-machine",
                Level::Error,
                subject,
                format!("{} state machine is {s}", m.label),
                "terraform apply",
            ),
            (_, Look::Missing) => f(
                "state-machine",
                Level::Error,
                subject,
                format!("{} state machine does not exist", m.label),
                "terraform apply (it was deleted outside Terraform?)",
            ),
            (_, Look::Failed(e)) => failed("state-machine", &subject, e),
        });
    }
}

fn functions(facts: &Facts, out: &mut Vec<Finding>) {
    if facts.functions.is_empty() {
        out.push(f(
            "function",
            Level::Error,
            "function_names",
            "no functions in the Terraform outputs",
            "give the deployment's Terraform outputs",
        ));
    }
    for func in &facts.functions {
        out.push(match &func.vpc {
            Look::Found(_) => f(
                "function",
                Level::Ok,
                &func.name,
                format!("{} exists", func.key),
                "",
            ),
            Look::Missing => f(
                "function",
                Level::Error,
                &func.name,
                format!("{} does not exist", func.key),
                "make build && terraform apply",
            ),
            Look::Failed(e) => failed("function", &func.name, e),
        });
    }
    verify_restore_vpc(facts, out);
}

/// VerifyRestore reaches a restored group only from inside the VPC of the group's subnet group (the restore
/// creates it in the source's subnet group unless told otherwise): the function must have subnets and security
/// groups, and its `VpcId` must be the subnet group's. Security-group rules and routes are not checked (EC2).
fn verify_restore_vpc(facts: &Facts, out: &mut Vec<Finding>) {
    let Some(func) = facts.functions.iter().find(|x| x.key == "verify-restore") else {
        return;
    };
    let Look::Found(vpc) = &func.vpc else { return };
    if vpc.subnets.is_empty() || vpc.security_groups.is_empty() {
        out.push(f("verify-restore-vpc", Level::Error, &func.name, "VerifyRestore has no VPC configuration (subnets and security groups): it cannot reach a restored group", "set the module's VPC variables for the restore functions and apply"));
        return;
    }
    let mut judged = false;
    for t in &facts.targets {
        let Look::Found(d) = &t.detail else { continue };
        for (sg, look) in &d.subnet_groups {
            judged = true;
            out.push(match look {
                Look::Found((vpc_id, subnets)) => {
                    let same_vpc = vpc.vpc_id.as_deref() == Some(vpc_id.as_str());
                    let shared = vpc.subnets.iter().any(|s| subnets.contains(s));
                    if same_vpc || shared {
                        f("verify-restore-vpc", Level::Ok, format!("{} / {sg}", t.target.id), format!("VerifyRestore is in {vpc_id}, the VPC of subnet group {sg} (security-group rules not checked)"), "")
                    } else {
                        f("verify-restore-vpc", Level::Error, format!("{} / {sg}", t.target.id), format!("VerifyRestore is in {} but subnet group {sg} is in {vpc_id}", vpc.vpc_id.as_deref().unwrap_or("an unknown VPC")), "give VerifyRestore subnets in the target's VPC")
                    }
                }
                Look::Missing => f("verify-restore-vpc", Level::Error, format!("{} / {sg}", t.target.id), format!("subnet group {sg} does not exist"), "check the cluster's subnet group"),
                Look::Failed(e) => failed("verify-restore-vpc", sg, e),
            });
        }
    }
    if !judged {
        out.push(f("verify-restore-vpc", Level::Warning, &func.name, format!("VerifyRestore is in {} with {} subnet(s); no target reports a cache subnet group to compare with", vpc.vpc_id.as_deref().unwrap_or("a VPC"), vpc.subnets.len()), "check by hand that it is the targets' VPC"));
    }
}

/// Whether `policy` (an IAM policy document) has an Allow statement for service `principal` covering every one of
/// `actions` on the bucket and its objects. Deny statements and conditions are not evaluated.
pub fn missing_grants(
    policy: &str,
    principal: &str,
    bucket: &str,
    actions: &[&str],
) -> Result<Vec<String>, String> {
    let doc: serde_json::Value =
        serde_json::from_str(policy).map_err(|e| format!("policy is not JSON: {e}"))?;
    let many = |v: Option<&serde_json::Value>| -> Vec<String> {
        match v {
            Some(serde_json::Value::String(s)) => vec![s.clone()],
            Some(serde_json::Value::Array(a)) => a
                .iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        }
    };
    let statements: Vec<&serde_json::Value> = match doc.get("Statement") {
        Some(serde_json::Value::Array(a)) => a.iter().collect(),
        Some(s @ serde_json::Value::Object(_)) => vec![s],
        _ => Vec::new(),
    };
    let mut granted: Vec<String> = Vec::new();
    for s in statements {
        if s.get("Effect").and_then(|e| e.as_str()) != Some("Allow") {
            continue;
        }
        if !many(s.get("Principal").and_then(|p| p.get("Service")))
            .iter()
            .any(|p| p == principal)
        {
            continue;
        }
        let resources = many(s.get("Resource"));
        let covers = |suffix: &str| {
            resources
                .iter()
                .any(|r| r == "*" || r.ends_with(&format!(":::{bucket}{suffix}")))
        };
        if covers("") && covers("/*") {
            granted.extend(many(s.get("Action")));
        }
    }
    Ok(actions
        .iter()
        .filter(|a| !granted.iter().any(|g| g == *a || g == "s3:*" || g == "*"))
        .map(|a| (*a).to_string())
        .collect())
}

fn bucket_policy(facts: &Facts, out: &mut Vec<Finding>) {
    let Some(b) = &facts.bucket else {
        out.push(f(
            "bucket-policy",
            Level::Error,
            "bucket_name",
            "the export bucket is not known",
            "give --bucket or the Terraform outputs",
        ));
        return;
    };
    let principal = format!("{}.elasticache-snapshot.amazonaws.com", facts.region);
    out.push(match &b.policy {
        Look::Missing => f(
            "bucket-policy",
            Level::Error,
            &b.name,
            "the bucket has no policy: ElastiCache cannot write exports (ExportRejected)",
            "apply the output bucket_policy_json to the bucket",
        ),
        Look::Failed(e) => failed("bucket-policy", &b.name, e),
        Look::Found(p) => match missing_grants(p, &principal, &b.name, EXPORT_ACTIONS) {
            Err(e) => f(
                "bucket-policy",
                Level::Error,
                &b.name,
                e,
                "apply the output bucket_policy_json",
            ),
            Ok(m) if m.is_empty() => f(
                "bucket-policy",
                Level::Ok,
                &b.name,
                format!("{principal} may write exports"),
                "",
            ),
            Ok(m) => f(
                "bucket-policy",
                Level::Error,
                &b.name,
                format!(
                    "{principal} lacks {} on the bucket: exports fail (ExportRejected)",
                    m.join(", ")
                ),
                "merge the output bucket_policy_json into the bucket's policy",
            ),
        },
    });
}

fn seeding(facts: &Facts, out: &mut Vec<Finding>) {
    if facts.seeding.is_empty() {
        out.push(f(
            "seeding",
            Level::Warning,
            "seeding",
            "the Terraform outputs have no seeding: restores' access not checked",
            "give the deployment's Terraform outputs",
        ));
    }
    for s in &facts.seeding {
        let subject = format!("{} ({})", s.region, s.mode);
        if s.region != facts.region {
            out.push(f(
                "seeding",
                Level::Warning,
                subject,
                "another region than the one doctor runs in: not checked",
                format!("run ecb doctor --region {}", s.region),
            ));
            continue;
        }
        match (s.mode.as_str(), &s.seed_bucket) {
            ("bucket-policy", _) => {
                let principal = format!("{}.elasticache-snapshot.amazonaws.com", s.region);
                let verdict = match facts.bucket.as_ref().map(|b| &b.policy) {
                    Some(Look::Found(p)) => missing_grants(p, &principal, &facts.bucket.as_ref().map(|b| b.name.clone()).unwrap_or_default(), SEED_ACTIONS),
                    _ => Err("the export bucket has no readable policy".into()),
                };
                out.push(match verdict {
                    Ok(m) if m.is_empty() => f("seeding", Level::Ok, subject, format!("{principal} may read backups to seed restores"), ""),
                    Ok(m) => f("seeding", Level::Error, subject, format!("{principal} lacks {}: restores cannot seed", m.join(", ")), "merge the output bucket_policy_json into the bucket's policy"),
                    Err(e) => f("seeding", Level::Error, subject, e, "apply the output bucket_policy_json"),
                });
            }
            ("object-acl", Some((bucket, own))) => out.push(match own {
                Look::Found(Some(o)) if o == "BucketOwnerEnforced" => f("seeding", Level::Error, bucket, "the seed bucket has ACLs disabled (BucketOwnerEnforced): the object ACL seeding needs cannot be set", "set its ObjectOwnership to BucketOwnerPreferred (terraform apply)"),
                Look::Found(o) => f("seeding", Level::Ok, bucket, format!("seed bucket exists, ACLs enabled ({})", o.as_deref().unwrap_or("no ownership controls")), ""),
                Look::Missing => f("seeding", Level::Error, bucket, "the seed bucket does not exist: restores fail", "terraform apply"),
                Look::Failed(e) => failed("seeding", bucket, e),
            }),
            (mode, _) => out.push(f("seeding", Level::Error, subject, format!("seeding mode {mode:?} without its seed bucket"), "terraform apply")),
        }
    }
}

fn secrets(facts: &Facts, out: &mut Vec<Finding>) {
    for s in &facts.secrets {
        let subject = s.arn.clone().unwrap_or_else(|| s.output.to_string());
        out.push(match (&s.arn, &s.set) {
            (None, _) => f(
                "secret",
                Level::Error,
                s.output,
                "not in the Terraform outputs",
                "give the deployment's Terraform outputs",
            ),
            (_, Look::Found(true)) => f("secret", Level::Ok, subject, "has a value", ""),
            (_, Look::Found(false)) => f(
                "secret",
                Level::Error,
                subject,
                "has no value: alerts are not delivered",
                "aws secretsmanager put-secret-value --secret-id ARN --secret-string …",
            ),
            (_, Look::Missing) => f(
                "secret",
                Level::Error,
                subject,
                "does not exist",
                "terraform apply",
            ),
            (_, Look::Failed(e)) => failed("secret", &subject, e),
        });
    }
}

fn schedules(facts: &Facts, out: &mut Vec<Finding>) {
    for s in &facts.schedules {
        out.push(match &s.found {
            Look::Found(d) if !d.enabled => f(
                "schedule",
                Level::Error,
                &s.name,
                format!("DISABLED ({}): no backups are taken", d.expression),
                "enable it (schedules.<key>.enabled = true, terraform apply)",
            ),
            Look::Found(d) => {
                let next = d.expr.next_run(facts.now, d.start).map_or_else(
                    || "next run not computed".to_string(),
                    |t| format!("next run {}", crate::table::time(t)),
                );
                let fleet = if d.selector {
                    "; a tag selector: its targets are checked only with --target"
                } else {
                    ""
                };
                f(
                    "schedule",
                    Level::Ok,
                    &s.name,
                    format!("ENABLED, {} {}, {next}{fleet}", d.expression, d.timezone),
                    "",
                )
            }
            Look::Missing => f(
                "schedule",
                Level::Error,
                &s.name,
                "does not exist",
                "terraform apply",
            ),
            Look::Failed(e) => failed("schedule", &s.name, e),
        });
    }
}

fn alarms(facts: &Facts, out: &mut Vec<Finding>) {
    for a in &facts.alarms {
        out.push(match &a.state {
            Look::Found(s) if s == "ALARM" => f(
                "alarm",
                Level::Error,
                &a.name,
                "in ALARM: no recent verified backup",
                "ecb runs --status failed; fix the cause, then ecb backup",
            ),
            Look::Found(s) => f("alarm", Level::Ok, &a.name, s.clone(), ""),
            Look::Missing => f(
                "alarm",
                Level::Warning,
                &a.name,
                "does not exist",
                "terraform apply",
            ),
            Look::Failed(e) => failed("alarm", &a.name, e),
        });
    }
}

fn queues(facts: &Facts, out: &mut Vec<Finding>) {
    for q in &facts.queues {
        let what = if q.key == "notify" {
            "alerts notify could not deliver"
        } else {
            "backups the scheduler could not start"
        };
        out.push(match &q.messages {
            Look::Found(0) => f("dead-letter-queue", Level::Ok, &q.key, "empty", ""),
            Look::Found(n) => f(
                "dead-letter-queue",
                Level::Error,
                &q.url,
                format!("{n} message(s): {what}"),
                "read them (aws sqs receive-message), fix the cause, then purge the queue",
            ),
            Look::Missing => f(
                "dead-letter-queue",
                Level::Error,
                &q.url,
                "does not exist",
                "terraform apply",
            ),
            Look::Failed(e) => failed("dead-letter-queue", &q.url, e),
        });
    }
}

fn target(facts: &Facts, t: &TargetFact, out: &mut Vec<Finding>) {
    let id = &t.target.id;
    match &t.detail {
        Look::Found(d) => target_risks(facts, t, d, out),
        Look::Missing => out.push(f(
            "target",
            Level::Error,
            id,
            "no such replication group or cache cluster",
            "fix the schedule's target (terraform apply)",
        )),
        Look::Failed(e) => out.push(failed("target", id, e)),
    }
    last_backup(facts, t, out);
}

fn target_risks(facts: &Facts, t: &TargetFact, d: &TargetDetail, out: &mut Vec<Finding>) {
    let id = &t.target.id;
    let wrong: Vec<&str> = d
        .topics
        .iter()
        .filter(|(_, topic)| {
            topic.as_deref() != facts.events_topic_arn.as_deref() || topic.is_none()
        })
        .map(|(c, _)| c.as_str())
        .collect();
    out.push(if wrong.is_empty() {
        f("notification-topic", Level::Ok, id, "every cluster notifies the alert topic", "")
    } else {
        f("notification-topic", Level::Warning, id, format!("{} do(es) not notify the alert topic: ElastiCache's own snapshot failures are not alerted", wrong.join(", ")), format!("set NotificationTopicArn = {} (output events_topic_arn)", facts.events_topic_arn.as_deref().unwrap_or("events_topic_arn")))
    });
    for (pg, look) in &d.reserved_memory_percent {
        out.push(match look {
            Look::Found(Some(p)) if *p >= MIN_RESERVED_MEMORY_PERCENT => f("reserved-memory", Level::Ok, id, format!("{pg}: reserved-memory-percent {p}"), ""),
            Look::Found(Some(p)) => f("reserved-memory", Level::Warning, id, format!("{pg}: reserved-memory-percent {p} < {MIN_RESERVED_MEMORY_PERCENT}: the snapshot's fork may swap or fail"), format!("set reserved-memory-percent to {MIN_RESERVED_MEMORY_PERCENT} in {pg}")),
            Look::Found(None) => f("reserved-memory", Level::Warning, id, format!("{pg} has no reserved-memory-percent (reserved-memory in bytes?)"), "check the reserved memory by hand"),
            Look::Missing => f("reserved-memory", Level::Warning, id, format!("parameter group {pg} not found"), "check the cluster's parameter group"),
            Look::Failed(e) => failed("reserved-memory", id, e),
        });
    }
    out.push(if d.min_replicas > 0 || !t.target.group {
        if t.target.group {
            f(
                "replica",
                Level::Ok,
                id,
                format!(
                    "{} replica(s) per shard: snapshots fork a replica",
                    d.min_replicas
                ),
                "",
            )
        } else {
            f(
                "replica",
                Level::Warning,
                id,
                "a standalone cluster: the snapshot forks the only node",
                "add a replica (a replication group)",
            )
        }
    } else {
        f(
            "replica",
            Level::Warning,
            id,
            "no replica: the snapshot forks the primary, which serves traffic",
            "add a replica",
        )
    });
    let auto = d.retention_limit > 0;
    out.push(if auto {
        f("automatic-backups", Level::Warning, id, format!("automatic backups on (SnapshotRetentionLimit {}): they snapshot the nodes too, competing with the manual snapshots (20 per node per 24 h)", d.retention_limit), "set SnapshotRetentionLimit to 0 if these backups replace them")
    } else {
        f("automatic-backups", Level::Ok, id, "automatic backups off", "")
    });
    if let (true, Some(w), Some((_, e))) = (auto, d.snapshot_window.as_deref(), &t.schedule)
        && let Some(win) = expr::window(w)
    {
        {
            let clash: Vec<String> = e
                .times_of_day()
                .iter()
                .filter(|m| expr::overlaps(**m, win, 60))
                .map(|m| format!("{:02}:{:02}", m / 60, m % 60))
                .collect();
            out.push(if clash.is_empty() {
                f("snapshot-window", Level::Ok, id, format!("window {w} clear of the schedule"), "")
            } else {
                f("snapshot-window", Level::Warning, id, format!("the schedule's run at {} UTC overlaps the snapshot window {w} (or starts within the hour before it): the run finds the cluster snapshotting (ClusterBusy)", clash.join(", ")), "move the snapshot window or the schedule")
            });
        }
    }
}

fn last_backup(facts: &Facts, t: &TargetFact, out: &mut Vec<Finding>) {
    let id = &t.target.id;
    let interval = t.schedule.as_ref().and_then(|(_, e)| e.interval());
    if facts.backups_unlisted.is_some() {
        return; // one finding for the bucket says it could not be listed
    }
    let Some(at) = t.last_backup else {
        out.push(f(
            "last-backup",
            Level::Error,
            id,
            "no verified backup in the bucket",
            format!("ecb backup {id}"),
        ));
        return;
    };
    let age = facts.now - at;
    let text = format!(
        "newest verified backup {} ({} old)",
        crate::table::time(at),
        crate::table::duration(age.whole_seconds())
    );
    out.push(match interval {
        Some(i) if age > i * 2 + RUN_SLACK => f(
            "last-backup",
            Level::Error,
            id,
            format!("{text}: two scheduled runs missed"),
            format!("ecb runs --status failed; ecb backup {id}"),
        ),
        Some(i) if age > i + RUN_SLACK => f(
            "last-backup",
            Level::Warning,
            id,
            format!("{text}: the last scheduled run did not verify a backup"),
            "ecb runs --status failed",
        ),
        Some(_) => f("last-backup", Level::Ok, id, text, ""),
        None => f(
            "last-backup",
            Level::Ok,
            id,
            format!("{text} (no schedule interval to compare with)"),
            "",
        ),
    });
}

#[cfg(test)]
mod tests;
