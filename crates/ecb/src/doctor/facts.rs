//! What `ecb doctor` looks at, gathered through the SDK into plain values ([`Facts`]) that the rules
//! ([`super::rules`]) judge without the network. Each call is named with its API reference page; an answer whose
//! error code means "no such thing" becomes [`Look::Missing`], any other error [`Look::Failed`] (a finding, never a
//! crash). Secret values are never read: only whether a current version exists.

use std::collections::BTreeMap;

use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use backup_core::backup::manifest::Manifest;
use futures_util::StreamExt;
use time::OffsetDateTime;

use super::expr::{self, Expr};
use crate::app::App;

/// The answer to one look-up.
#[derive(Debug, Clone, PartialEq)]
pub enum Look<T> {
    /// It is there.
    Found(T),
    /// The service said it does not exist.
    Missing,
    /// The call failed otherwise (the message names the call and the code).
    Failed(String),
}

/// A state machine of the deployment.
#[derive(Debug, Clone)]
pub struct MachineFact {
    /// `backup`, `restore`, `fleet`.
    pub label: &'static str,
    /// Its ARN from the outputs (None: not known).
    pub arn: Option<String>,
    /// `status` of DescribeStateMachine (`ACTIVE`, `DELETING`).
    pub status: Look<String>,
}

/// A function of the deployment.
#[derive(Debug, Clone)]
pub struct FunctionFact {
    /// Its key in `function_names` (`verify-restore`, …).
    pub key: String,
    /// The deployed name.
    pub name: String,
    /// GetFunction's `Configuration.VpcConfig` (empty when none).
    pub vpc: Look<VpcFact>,
}

/// A function's VPC configuration (Lambda API Reference, VpcConfigResponse).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VpcFact {
    /// `VpcId`.
    pub vpc_id: Option<String>,
    /// `SubnetIds`.
    pub subnets: Vec<String>,
    /// `SecurityGroupIds`.
    pub security_groups: Vec<String>,
}

/// The export bucket and its policy.
#[derive(Debug, Clone)]
pub struct BucketFact {
    /// Bucket name.
    pub name: String,
    /// GetBucketPolicy's policy text (`Missing`: NoSuchBucketPolicy).
    pub policy: Look<String>,
}

/// One region's seeding route (output `seeding`).
#[derive(Debug, Clone)]
pub struct SeedingFact {
    /// The region.
    pub region: String,
    /// `bucket-policy` or `object-acl`.
    pub mode: String,
    /// object-acl: the seed bucket and its `ObjectOwnership` (GetBucketOwnershipControls; `None`: no controls).
    pub seed_bucket: Option<(String, Look<Option<String>>)>,
}

/// One alert secret: whether a current value exists (DescribeSecret `VersionIdsToStages` has `AWSCURRENT`).
#[derive(Debug, Clone)]
pub struct SecretFact {
    /// The output naming it.
    pub output: &'static str,
    /// Its ARN (None: output absent).
    pub arn: Option<String>,
    /// `true`: a current version exists and the secret is not scheduled for deletion.
    pub set: Look<bool>,
}

/// One schedule (GetSchedule).
#[derive(Debug, Clone)]
pub struct ScheduleFact {
    /// Key in `schedule_names`.
    pub key: String,
    /// Schedule name.
    pub name: String,
    /// What GetSchedule said.
    pub found: Look<ScheduleDetail>,
}

/// The parts of a schedule doctor uses.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleDetail {
    /// `State == ENABLED`.
    pub enabled: bool,
    /// `ScheduleExpression`, as written.
    pub expression: String,
    /// `ScheduleExpressionTimezone`.
    pub timezone: String,
    /// The expression as read.
    pub expr: Expr,
    /// `StartDate`, else `CreationDate` (where a rate counts from).
    pub start: Option<OffsetDateTime>,
    /// Targets named by its input (`replicationGroupId`/`cacheClusterId`, or a fleet's `targets`).
    pub targets: Vec<TargetRef>,
    /// The input selects a fleet by tags (its targets are not listed).
    pub selector: bool,
}

/// A backup target named by a schedule or `--target`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct TargetRef {
    /// The id.
    pub id: String,
    /// A replication group (else a cache cluster).
    pub group: bool,
}

/// A CloudWatch alarm (DescribeAlarms `StateValue`).
#[derive(Debug, Clone)]
pub struct AlarmFact {
    /// Name.
    pub name: String,
    /// `OK`, `ALARM`, `INSUFFICIENT_DATA`.
    pub state: Look<String>,
}

/// A dead-letter queue (GetQueueAttributes `ApproximateNumberOfMessages`).
#[derive(Debug, Clone)]
pub struct QueueFact {
    /// Key in `dead_letter_queue_urls`.
    pub key: String,
    /// URL.
    pub url: String,
    /// Messages waiting.
    pub messages: Look<u64>,
}

/// One backup target's ElastiCache settings.
#[derive(Debug, Clone)]
pub struct TargetFact {
    /// The target.
    pub target: TargetRef,
    /// The schedule that names it (`--target`: none) and that schedule's expression.
    pub schedule: Option<(String, Expr)>,
    /// Its settings.
    pub detail: Look<TargetDetail>,
    /// `data_time()` of its newest verified backup in the bucket.
    pub last_backup: Option<OffsetDateTime>,
}

/// What DescribeReplicationGroups / DescribeCacheClusters / DescribeCacheParameters / DescribeCacheSubnetGroups say
/// of a target.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TargetDetail {
    /// Per member cluster: its `NotificationConfiguration.TopicArn`.
    pub topics: Vec<(String, Option<String>)>,
    /// `SnapshotWindow`.
    pub snapshot_window: Option<String>,
    /// `SnapshotRetentionLimit`.
    pub retention_limit: i32,
    /// The fewest replicas of any shard.
    pub min_replicas: usize,
    /// Per parameter group: `reserved-memory-percent`.
    pub reserved_memory_percent: Vec<(String, Look<Option<u32>>)>,
    /// Per subnet group: `VpcId` and subnets.
    pub subnet_groups: Vec<(String, Look<SubnetGroup>)>,
}

/// Everything doctor judges.
#[derive(Debug, Clone)]
pub struct Facts {
    /// The region the SDK is configured for.
    pub region: String,
    /// Now.
    pub now: OffsetDateTime,
    /// Output `events_topic_arn`.
    pub events_topic_arn: Option<String>,
    /// State machines.
    pub machines: Vec<MachineFact>,
    /// Functions (`function_names`).
    pub functions: Vec<FunctionFact>,
    /// The export bucket (None: `bucket_name` unknown).
    pub bucket: Option<BucketFact>,
    /// Seeding routes (output `seeding`).
    pub seeding: Vec<SeedingFact>,
    /// Alert secrets.
    pub secrets: Vec<SecretFact>,
    /// Schedules.
    pub schedules: Vec<ScheduleFact>,
    /// Staleness alarms.
    pub alarms: Vec<AlarmFact>,
    /// Dead-letter queues.
    pub queues: Vec<QueueFact>,
    /// Targets.
    pub targets: Vec<TargetFact>,
    /// Manifests that could not be read (key, why).
    pub unreadable_manifests: Vec<(String, String)>,
    /// Why the bucket could not be listed, if it could not (no target's last backup is then judged).
    pub backups_unlisted: Option<String>,
}

/// A subnet group's `VpcId` and subnet ids.
pub type SubnetGroup = (String, Vec<String>);

/// A schedule's key and expression.
type Scheduled = (String, Expr);

/// `Missing` when the error's code is one of `missing`, else `Failed` naming `call`.
fn look<T, E>(call: &str, r: Result<T, E>, missing: &[&str]) -> Look<T>
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
{
    match r {
        Ok(v) => Look::Found(v),
        Err(e) if e.code().is_some_and(|c| missing.contains(&c)) => Look::Missing,
        Err(e) => Look::Failed(format!(
            "{call}: {}",
            aws_smithy_types::error::display::DisplayErrorContext(&e)
        )),
    }
}

impl<T> Look<T> {
    /// Applies `f` to a found value.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Look<U> {
        match self {
            Self::Found(v) => Look::Found(f(v)),
            Self::Missing => Look::Missing,
            Self::Failed(e) => Look::Failed(e),
        }
    }
}

fn time_of(t: &aws_smithy_types::DateTime) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(t.secs()).ok()
}

/// Gathers the facts for `only` (per-target checks of these targets; empty: the scheduled ones).
pub async fn gather(app: &App, only: &[String]) -> Facts {
    let d = &app.deployment;
    let region = app
        .sdk
        .region()
        .map(ToString::to_string)
        .unwrap_or_default();
    let now = OffsetDateTime::now_utc();
    let (machines, functions, bucket, secrets, schedules, alarms, queues) = tokio::join!(
        machines(app),
        functions(app),
        bucket(app),
        secrets(app),
        schedules(app),
        alarms(app),
        queues(app),
    );
    let seeding = seeding(app).await;
    let mut targets: Vec<(TargetRef, Option<Scheduled>)> = Vec::new();
    if only.is_empty() {
        for s in &schedules {
            if let Look::Found(detail) = &s.found {
                for t in &detail.targets {
                    targets.push((t.clone(), Some((s.key.clone(), detail.expr.clone()))));
                }
            }
        }
    } else {
        let ec = app.elasticache();
        for id in only {
            // DescribeReplicationGroups first; only an id it says it does not know (ReplicationGroupNotFoundFault) is
            // taken as a cache cluster: another error (throttling, access) leaves it a group, whose checks then say
            // they could not check.
            let group = match ec
                .describe_replication_groups()
                .replication_group_id(id)
                .send()
                .await
            {
                Ok(_) => true,
                Err(e) => {
                    aws_smithy_types::error::metadata::ProvideErrorMetadata::code(&e)
                        != Some("ReplicationGroupNotFoundFault")
                }
            };
            let schedule = schedules.iter().find_map(|s| match &s.found {
                Look::Found(x) if x.targets.iter().any(|t| &t.id == id) => {
                    Some((s.key.clone(), x.expr.clone()))
                }
                _ => None,
            });
            targets.push((
                TargetRef {
                    id: id.clone(),
                    group,
                },
                schedule,
            ));
        }
    }
    targets.sort_by(|a, b| a.0.cmp(&b.0));
    targets.dedup_by(|a, b| a.0 == b.0);
    let (latest, unreadable_manifests, backups_unlisted) = match d.bucket() {
        Ok(b) => match latest_backups(app, b).await {
            Ok((latest, bad)) => (latest, bad, None),
            Err(e) => (BTreeMap::new(), Vec::new(), Some(e)),
        },
        Err(_) => (BTreeMap::new(), Vec::new(), None),
    };
    let mut out = Vec::new();
    for (target, schedule) in targets {
        let detail = target_detail(app, &target).await;
        let last_backup = latest.get(&target.id.to_ascii_lowercase()).copied();
        out.push(TargetFact {
            target,
            schedule,
            detail,
            last_backup,
        });
    }
    Facts {
        region,
        now,
        events_topic_arn: d.text("events_topic_arn").map(str::to_string),
        machines,
        functions,
        bucket,
        seeding,
        secrets,
        schedules,
        alarms,
        queues,
        targets: out,
        unreadable_manifests,
        backups_unlisted,
    }
}

/// Step Functions DescribeStateMachine (API Reference: DescribeStateMachine; `StateMachineDoesNotExist`).
async fn machines(app: &App) -> Vec<MachineFact> {
    let sfn = app.sfn();
    let mut out = Vec::new();
    for machine in [
        crate::cli::Machine::Backup,
        crate::cli::Machine::Restore,
        crate::cli::Machine::Fleet,
    ] {
        let label = machine.label();
        // Flags and ECB_* variables first, as every other command (Deployment::machines).
        let arn = app.deployment.machines.get(&machine).cloned();
        let status = match &arn {
            None => Look::Missing,
            Some(a) => look(
                "DescribeStateMachine",
                sfn.describe_state_machine()
                    .state_machine_arn(a)
                    .send()
                    .await,
                &["StateMachineDoesNotExist", "InvalidArn"],
            )
            .map(|o| {
                o.status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default()
            }),
        };
        out.push(MachineFact { label, arn, status });
    }
    out
}

/// Lambda GetFunction (API Reference: GetFunction; `ResourceNotFoundException`): existence and `VpcConfig`.
async fn functions(app: &App) -> Vec<FunctionFact> {
    let lambda = aws_sdk_lambda::Client::new(&app.sdk);
    let mut out = Vec::new();
    for (key, name) in app.deployment.map("function_names") {
        let vpc = look(
            "GetFunction",
            lambda.get_function().function_name(&name).send().await,
            &["ResourceNotFoundException"],
        )
        .map(|o| {
            o.configuration()
                .and_then(|c| c.vpc_config())
                .map(|v| VpcFact {
                    vpc_id: v.vpc_id().filter(|s| !s.is_empty()).map(str::to_string),
                    subnets: v.subnet_ids().to_vec(),
                    security_groups: v.security_group_ids().to_vec(),
                })
                .unwrap_or_default()
        });
        out.push(FunctionFact { key, name, vpc });
    }
    out
}

/// S3 GetBucketPolicy (API Reference: GetBucketPolicy; `NoSuchBucketPolicy`, `NoSuchBucket`).
async fn bucket(app: &App) -> Option<BucketFact> {
    let name = app.deployment.bucket().ok()?.to_string();
    let policy = match app.s3().get_bucket_policy().bucket(&name).send().await {
        Ok(o) => Look::Found(o.policy().unwrap_or_default().to_string()),
        Err(e) if e.code() == Some("NoSuchBucketPolicy") => Look::Missing,
        Err(e) => Look::Failed(format!(
            "GetBucketPolicy: {}",
            aws_smithy_types::error::display::DisplayErrorContext(&e)
        )),
    };
    Some(BucketFact { name, policy })
}

/// Output `seeding`; for object-acl, S3 GetBucketOwnershipControls of the seed bucket (API Reference:
/// GetBucketOwnershipControls; `OwnershipControlsNotFoundError` = no controls, ACLs as the bucket was created).
async fn seeding(app: &App) -> Vec<SeedingFact> {
    let Some(map) = app
        .deployment
        .outputs
        .get("seeding")
        .and_then(|v| v.as_object())
    else {
        return Vec::new();
    };
    let s3 = app.s3();
    let mut out = Vec::new();
    for (region, v) in map {
        let mode = v
            .get("mode")
            .and_then(|m| m.as_str())
            .unwrap_or_default()
            .to_string();
        let seed_bucket = match v.get("seed_bucket_name").and_then(|m| m.as_str()) {
            Some(b) => {
                let r = s3.get_bucket_ownership_controls().bucket(b).send().await;
                let own = match r {
                    Ok(o) => Look::Found(
                        o.ownership_controls()
                            .and_then(|c| c.rules().first())
                            .map(|r| r.object_ownership().as_str().to_string()),
                    ),
                    Err(e) if e.code() == Some("OwnershipControlsNotFoundError") => {
                        Look::Found(None)
                    }
                    Err(e) => {
                        look::<(), _>("GetBucketOwnershipControls", Err(e), &["NoSuchBucket"])
                            .map(|()| None)
                    }
                };
                Some((b.to_string(), own))
            }
            None => None,
        };
        out.push(SeedingFact {
            region: region.clone(),
            mode,
            seed_bucket,
        });
    }
    out
}

/// Secrets Manager DescribeSecret (API Reference: DescribeSecret: `VersionIdsToStages`, `DeletedDate`;
/// `ResourceNotFoundException`). The value is never fetched.
async fn secrets(app: &App) -> Vec<SecretFact> {
    let sm = aws_sdk_secretsmanager::Client::new(&app.sdk);
    let mut out = Vec::new();
    for output in [
        "slack_webhook_secret_arn",
        "pagerduty_routing_key_secret_arn",
    ] {
        let arn = app.deployment.text(output).map(str::to_string);
        let set = match &arn {
            None => Look::Missing,
            Some(a) => look(
                "DescribeSecret",
                sm.describe_secret().secret_id(a).send().await,
                &["ResourceNotFoundException"],
            )
            .map(|o| {
                o.deleted_date().is_none()
                    && o.version_ids_to_stages()
                        .is_some_and(|m| m.values().any(|s| s.iter().any(|l| l == "AWSCURRENT")))
            }),
        };
        out.push(SecretFact { output, arn, set });
    }
    out
}

/// EventBridge Scheduler GetSchedule in the `default` group, where terraform/schedule.tf creates them (API
/// Reference: GetSchedule; `ResourceNotFoundException`).
async fn schedules(app: &App) -> Vec<ScheduleFact> {
    let sch = aws_sdk_scheduler::Client::new(&app.sdk);
    let mut out = Vec::new();
    for (key, name) in app.deployment.map("schedule_names") {
        let found = look(
            "GetSchedule",
            sch.get_schedule().name(&name).send().await,
            &["ResourceNotFoundException"],
        )
        .map(|o| {
            let expression = o.schedule_expression().unwrap_or_default().to_string();
            let timezone = o
                .schedule_expression_timezone()
                .unwrap_or("UTC")
                .to_string();
            let input: serde_json::Value = o
                .target()
                .and_then(|t| t.input())
                .and_then(|i| serde_json::from_str(i).ok())
                .unwrap_or_default();
            let (targets, selector) = targets_of_input(&input);
            ScheduleDetail {
                enabled: o.state().is_some_and(|s| s.as_str() == "ENABLED"),
                expr: expr::parse(&expression, &timezone),
                expression,
                timezone,
                start: o.start_date().or(o.creation_date()).and_then(time_of),
                targets,
                selector,
            }
        });
        out.push(ScheduleFact { key, name, found });
    }
    out
}

/// The targets a schedule's input names (terraform/schedule.tf's input: `replicationGroupId`, `cacheClusterId`, or a
/// fleet's `targets`/`selector`).
pub fn targets_of_input(input: &serde_json::Value) -> (Vec<TargetRef>, bool) {
    let one = |v: &serde_json::Value| -> Option<TargetRef> {
        if let Some(id) = v.get("replicationGroupId").and_then(|x| x.as_str()) {
            Some(TargetRef {
                id: id.to_string(),
                group: true,
            })
        } else {
            v.get("cacheClusterId")
                .and_then(|x| x.as_str())
                .map(|id| TargetRef {
                    id: id.to_string(),
                    group: false,
                })
        }
    };
    let mut out: Vec<TargetRef> = one(input).into_iter().collect();
    if let Some(list) = input.get("targets").and_then(|t| t.as_array()) {
        out.extend(list.iter().filter_map(one));
    }
    (out, input.get("selector").is_some())
}

/// CloudWatch DescribeAlarms of the staleness alarms, composite and metric (API Reference: DescribeAlarms; an
/// unknown name is simply absent from the answer).
async fn alarms(app: &App) -> Vec<AlarmFact> {
    let names: Vec<String> = app
        .deployment
        .map("staleness_alarm_names")
        .into_values()
        .collect();
    if names.is_empty() {
        return Vec::new();
    }
    let cw = aws_sdk_cloudwatch::Client::new(&app.sdk);
    let r = cw
        .describe_alarms()
        .set_alarm_names(Some(names.clone()))
        .alarm_types(aws_sdk_cloudwatch::types::AlarmType::CompositeAlarm)
        .alarm_types(aws_sdk_cloudwatch::types::AlarmType::MetricAlarm)
        .send()
        .await;
    match r {
        Err(e) => {
            let msg = format!(
                "DescribeAlarms: {}",
                aws_smithy_types::error::display::DisplayErrorContext(&e)
            );
            names
                .into_iter()
                .map(|name| AlarmFact {
                    name,
                    state: Look::Failed(msg.clone()),
                })
                .collect()
        }
        Ok(o) => {
            let mut states: BTreeMap<String, String> = BTreeMap::new();
            for a in o.metric_alarms() {
                if let (Some(n), Some(s)) = (a.alarm_name(), a.state_value()) {
                    states.insert(n.to_string(), s.as_str().to_string());
                }
            }
            for a in o.composite_alarms() {
                if let (Some(n), Some(s)) = (a.alarm_name(), a.state_value()) {
                    states.insert(n.to_string(), s.as_str().to_string());
                }
            }
            names
                .into_iter()
                .map(|name| {
                    let state = states
                        .get(&name)
                        .cloned()
                        .map_or(Look::Missing, Look::Found);
                    AlarmFact { name, state }
                })
                .collect()
        }
    }
}

/// SQS GetQueueAttributes `ApproximateNumberOfMessages` (API Reference: GetQueueAttributes;
/// `AWS.SimpleQueueService.NonExistentQueue` / `QueueDoesNotExist`).
async fn queues(app: &App) -> Vec<QueueFact> {
    let sqs = aws_sdk_sqs::Client::new(&app.sdk);
    let mut out = Vec::new();
    for (key, url) in app.deployment.map("dead_letter_queue_urls") {
        let messages = look(
            "GetQueueAttributes",
            sqs.get_queue_attributes()
                .queue_url(&url)
                .attribute_names(
                    aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages,
                )
                .send()
                .await,
            &[
                "AWS.SimpleQueueService.NonExistentQueue",
                "QueueDoesNotExist",
            ],
        )
        .map(|o| {
            o.attributes()
                .and_then(|a| {
                    a.get(&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
                })
                .and_then(|n| n.parse().ok())
                .unwrap_or(0)
        });
        out.push(QueueFact { key, url, messages });
    }
    out
}

/// ElastiCache DescribeReplicationGroups / DescribeCacheClusters (API Reference; `ReplicationGroupNotFoundFault`,
/// `CacheClusterNotFound`), then the clusters' parameter groups (DescribeCacheParameters,
/// `CacheParameterGroupNotFound`) and subnet groups (DescribeCacheSubnetGroups, `CacheSubnetGroupNotFoundFault`).
async fn target_detail(app: &App, t: &TargetRef) -> Look<TargetDetail> {
    let ec = app.elasticache();
    let mut detail = TargetDetail::default();
    let members: Vec<String> = if t.group {
        let r = look(
            "DescribeReplicationGroups",
            ec.describe_replication_groups()
                .replication_group_id(&t.id)
                .send()
                .await,
            &["ReplicationGroupNotFoundFault"],
        );
        let g = match r.map(|o| o.replication_groups().first().cloned()) {
            Look::Found(Some(g)) => g,
            Look::Found(None) | Look::Missing => return Look::Missing,
            Look::Failed(e) => return Look::Failed(e),
        };
        detail.snapshot_window = g.snapshot_window().map(str::to_string);
        detail.retention_limit = g.snapshot_retention_limit().unwrap_or(0);
        detail.min_replicas = g
            .node_groups()
            .iter()
            .map(|ng| ng.node_group_members().len().saturating_sub(1))
            .min()
            .unwrap_or(0);
        g.member_clusters().to_vec()
    } else {
        vec![t.id.clone()]
    };
    let mut parameter_groups = Vec::new();
    let mut subnet_groups = Vec::new();
    for id in &members {
        let r = look(
            "DescribeCacheClusters",
            ec.describe_cache_clusters()
                .cache_cluster_id(id)
                .send()
                .await,
            &["CacheClusterNotFound"],
        );
        let c = match r.map(|o| o.cache_clusters().first().cloned()) {
            Look::Found(Some(c)) => c,
            Look::Found(None) | Look::Missing => return Look::Missing,
            Look::Failed(e) => return Look::Failed(e),
        };
        if !t.group {
            detail.snapshot_window = c.snapshot_window().map(str::to_string);
            detail.retention_limit = c.snapshot_retention_limit().unwrap_or(0);
        }
        detail.topics.push((
            id.clone(),
            c.notification_configuration()
                .and_then(|n| n.topic_arn())
                .map(str::to_string),
        ));
        if let Some(pg) = c
            .cache_parameter_group()
            .and_then(|p| p.cache_parameter_group_name())
        {
            parameter_groups.push(pg.to_string());
        }
        if let Some(sg) = c.cache_subnet_group_name() {
            subnet_groups.push(sg.to_string());
        }
    }
    parameter_groups.sort();
    parameter_groups.dedup();
    subnet_groups.sort();
    subnet_groups.dedup();
    for pg in parameter_groups {
        let r: Result<Vec<aws_sdk_elasticache::types::Parameter>, _> = ec
            .describe_cache_parameters()
            .cache_parameter_group_name(&pg)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await;
        let percent = look(
            "DescribeCacheParameters",
            r,
            &["CacheParameterGroupNotFound"],
        )
        .map(|ps| {
            ps.iter()
                .find(|p| p.parameter_name() == Some("reserved-memory-percent"))
                .and_then(|p| p.parameter_value())
                .and_then(|v| v.parse().ok())
        });
        detail.reserved_memory_percent.push((pg, percent));
    }
    for sg in subnet_groups {
        let r = look(
            "DescribeCacheSubnetGroups",
            ec.describe_cache_subnet_groups()
                .cache_subnet_group_name(&sg)
                .send()
                .await,
            &["CacheSubnetGroupNotFoundFault"],
        )
        .map(|o| {
            o.cache_subnet_groups()
                .first()
                .map(|g| {
                    (
                        g.vpc_id().unwrap_or_default().to_string(),
                        g.subnets()
                            .iter()
                            .filter_map(|s| s.subnet_identifier().map(str::to_string))
                            .collect(),
                    )
                })
                .unwrap_or_default()
        });
        detail.subnet_groups.push((sg, r));
    }
    Look::Found(detail)
}

/// The newest verified backup per target (lower-cased id → data time), from the manifests in `bucket` (the same
/// listing and reads as `ecb backups`), and the manifests that could not be read (key, why).
///
/// # Errors
/// The listing failed (`ListObjectsV2`): then no target's age can be judged.
async fn latest_backups(
    app: &App,
    bucket: &str,
) -> Result<(BTreeMap<String, OffsetDateTime>, Vec<(String, String)>), String> {
    let s3 = app.s3();
    let listing =
        crate::backups::list_keys(&s3, bucket, &backup_core::retention::run::listing_prefix())
            .await
            .map_err(|e| e.to_string())?;
    let keys: Vec<String> = backup_core::retention::run::manifest_keys(&listing)
        .map(str::to_string)
        .collect();
    let read = futures_util::stream::iter(keys)
        .map(|key| {
            let s3 = s3.clone();
            async move {
                let parsed = match crate::backups::get(&s3, bucket, &key).await {
                    Ok(bytes) => Some(Manifest::from_json(&bytes)),
                    // Deleted since the listing (retention running): no backup any more.
                    Err(crate::error::CliError::NotFound(_)) => None,
                    Err(e) => Some(Err(e.to_string())),
                };
                (key, parsed)
            }
        })
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await;
    let mut latest: BTreeMap<String, OffsetDateTime> = BTreeMap::new();
    let mut bad = Vec::new();
    for (key, m) in read {
        match m {
            Some(Ok(m)) => {
                if let Some(id) = m.target_identity() {
                    let t = m.data_time();
                    let e = latest.entry(id.id.to_ascii_lowercase()).or_insert(t);
                    if t > *e {
                        *e = t;
                    }
                }
            }
            Some(Err(e)) => bad.push((key, e)),
            None => {}
        }
    }
    Ok((latest, bad))
}
