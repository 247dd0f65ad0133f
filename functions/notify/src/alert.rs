//! From incoming events to [`Alert`]s: what happened, to which cluster, and whether it pages, resolves or informs.
//!
//! Accepted events (parsed leniently; anything else becomes [`Notice::Unknown`], logged and acknowledged):
//! - EventBridge "Step Functions Execution Status Change" (`source: aws.states`; AWS Step Functions Developer Guide,
//!   "EventBridge events"): `FAILED`, `TIMED_OUT`, `ABORTED` → trigger; `SUCCEEDED` → resolve; others ignored.
//! - EventBridge `aws.elasticache` "Snapshot Creation Failed", "Snapshot Export Failed", "Snapshot Copy Failed" →
//!   trigger; "Snapshot Created" → info (Amazon EventBridge events reference, ElastiCache). ElastiCache documents these
//!   for serverless caches (User Guide, "Serverless cache events"); the target is `detail.SourceIdentifier`: a node,
//!   a group, a serverless cache's name or a snapshot's (which one a serverless snapshot event names is UNCONFIRMED).
//! - SNS notifications from ElastiCache (`NotificationTopicArn`; ElastiCache User Guide, "Event notifications and
//!   Amazon SNS"): `ElastiCache:SnapshotFailed` → trigger; `ElastiCache:SnapshotComplete` → info.
//! - SNS notifications from a CloudWatch alarm (the "no successful backup" alarm; Amazon CloudWatch User Guide,
//!   "Using Amazon CloudWatch alarms", SNS message JSON): `NewStateValue` `ALARM` → trigger, `OK` → resolve.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use aws_lambda_events::sns::SnsEvent;
use serde_json::Value;

use backup_core::execution_history::FailureContext;

/// What the alert asks of the sinks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Page (PagerDuty trigger) and post to Slack.
    Trigger,
    /// Resolve the open incident for the same target (PagerDuty resolve).
    Resolve,
    /// Post to Slack only; never pages.
    Info,
}

/// One parsed incoming event.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// A Step Functions execution status change.
    Execution(Box<ExecutionNotice>),
    /// An ElastiCache snapshot event (EventBridge or SNS).
    Snapshot(SnapshotNotice),
    /// Not one of ours; the reason is logged.
    Unknown(String),
}

/// The fields of a Step Functions execution status change that an alert uses.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExecutionNotice {
    /// `detail.status`.
    pub status: String,
    /// `detail.executionArn`.
    pub execution_arn: String,
    /// `detail.stateMachineArn`.
    pub state_machine_arn: String,
    /// `detail.name`.
    pub name: String,
    /// `detail.input`, parsed (the execution input), when included.
    pub input: Option<Value>,
    /// `detail.output`, parsed, when included.
    pub output: Option<Value>,
    /// `detail.error` / `detail.cause` when the event carries them.
    pub error: Option<String>,
    /// See `error`.
    pub cause: Option<String>,
    /// Event `region`.
    pub region: String,
    /// Event `time`.
    pub time: Option<String>,
}

impl ExecutionNotice {
    /// Whether the execution ended badly (`FAILED`, `TIMED_OUT`, `ABORTED`): its alert pages, and its history is
    /// read for the step, error and cause.
    pub fn failed(&self) -> bool {
        matches!(self.status.as_str(), "FAILED" | "TIMED_OUT" | "ABORTED")
    }
}

/// An ElastiCache snapshot event.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SnapshotNotice {
    /// Trigger or info.
    pub action: Option<Action>,
    /// What happened ("Snapshot Export Failed", "ElastiCache:SnapshotFailed", …).
    pub kind: String,
    /// The cluster or replication group (`SourceIdentifier`, or the SNS message's cluster).
    pub target: String,
    /// The service's message, if any.
    pub message: Option<String>,
    /// Region, when known.
    pub region: String,
    /// Event time, when known.
    pub time: Option<String>,
}

/// Parses one Lambda event (EventBridge or SNS) into notices; never fails.
pub fn parse(event: &Value) -> Vec<Notice> {
    if event.get("Records").is_some() {
        return match serde_json::from_value::<SnsEvent>(event.clone()) {
            Ok(sns) => sns
                .records
                .iter()
                .map(|r| parse_sns(&r.sns.message, &r.sns.topic_arn))
                .collect(),
            Err(e) => vec![Notice::Unknown(format!(
                "Records present but not an SNS event: {e}"
            ))],
        };
    }
    let eb: EventBridgeEvent<Value> = match serde_json::from_value(event.clone()) {
        Ok(eb) => eb,
        Err(e) => return vec![Notice::Unknown(format!("neither SNS nor EventBridge: {e}"))],
    };
    let source = eb.source.as_str();
    let detail_type = eb.detail_type.as_str();
    let region = eb.region.clone().unwrap_or_default();
    let time = eb
        .time
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    match (source, detail_type) {
        ("aws.states", "Step Functions Execution Status Change") => {
            let d = &eb.detail;
            let text = |k: &str| d.get(k).and_then(Value::as_str).map(str::to_string);
            let json = |k: &str| text(k).and_then(|s| serde_json::from_str(&s).ok());
            vec![Notice::Execution(Box::new(ExecutionNotice {
                status: text("status").unwrap_or_default(),
                execution_arn: text("executionArn").unwrap_or_default(),
                state_machine_arn: text("stateMachineArn").unwrap_or_default(),
                name: text("name").unwrap_or_default(),
                input: json("input"),
                output: json("output"),
                error: text("error"),
                cause: text("cause"),
                region,
                time,
            }))]
        }
        ("aws.elasticache", kind) => {
            let d = &eb.detail;
            let field = |names: &[&str]| {
                names
                    .iter()
                    .find_map(|n| d.get(*n).and_then(Value::as_str).map(str::to_string))
            };
            let action = match kind {
                "Snapshot Creation Failed" | "Snapshot Export Failed" | "Snapshot Copy Failed" => {
                    Some(Action::Trigger)
                }
                "Snapshot Created" => Some(Action::Info),
                _ => None,
            };
            let target = field(&["SourceIdentifier", "source-identifier", "sourceIdentifier"])
                .or_else(|| {
                    eb.resources
                        .as_ref()
                        .and_then(|r| r.first())
                        .and_then(|arn| arn.rsplit(':').next().map(str::to_string))
                })
                .unwrap_or_else(|| "unknown".into());
            vec![Notice::Snapshot(SnapshotNotice {
                action,
                kind: kind.to_string(),
                target,
                message: field(&["Message", "message"]),
                region,
                time,
            })]
        }
        _ => vec![Notice::Unknown(format!(
            "unhandled event: source {source:?}, detail-type {detail_type:?}"
        ))],
    }
}

/// `t` as RFC 3339 (UTC), accepting CloudWatch's `2026-11-22T05:00:00.000+0000`; `None` if neither parses.
pub fn rfc3339(t: &str) -> Option<String> {
    use time::format_description::well_known::Rfc3339;
    let parsed = time::OffsetDateTime::parse(t, &Rfc3339).ok().or_else(|| {
        let cw = time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond][offset_hour sign:mandatory][offset_minute]"
        );
        time::OffsetDateTime::parse(t, &cw).ok()
    })?;
    parsed.to_offset(time::UtcOffset::UTC).format(&Rfc3339).ok()
}

/// Parses an ElastiCache SNS message: `{"ElastiCache:SnapshotFailed": "<cluster>"}` (as seen in the wild) or the
/// documented text form `ElastiCache:SnapshotFailed : <cluster>`.
fn parse_sns(message: &str, topic_arn: &str) -> Notice {
    let region = topic_arn.split(':').nth(3).unwrap_or_default().to_string();
    if let Ok(Value::Object(m)) = serde_json::from_str::<Value>(message)
        && let Some(name) = m.get("AlarmName").and_then(Value::as_str)
    {
        let text = |k: &str| m.get(k).and_then(Value::as_str).map(str::to_string);
        let region = text("AlarmArn")
            .and_then(|a| a.split(':').nth(3).map(str::to_string))
            .unwrap_or(region);
        let action = match text("NewStateValue").as_deref() {
            Some("ALARM") => Some(Action::Trigger),
            Some("OK") => Some(Action::Resolve),
            _ => None,
        };
        // A per-target staleness alarm (`<name>-no-verified-backup-<target>`, Terraform) pages under its target's
        // key, so the target's next successful run resolves it.
        let target = name
            .rsplit_once("-no-verified-backup-")
            .map_or(name, |(_, target)| target);
        return Notice::Snapshot(SnapshotNotice {
            action,
            kind: format!("alarm {}", text("NewStateValue").unwrap_or_default()),
            target: target.to_string(),
            message: text("AlarmDescription").map(|d| match text("NewStateReason") {
                Some(r) => format!("{d} {r}"),
                None => d,
            }),
            region,
            time: text("StateChangeTime").and_then(|t| rfc3339(&t)),
        });
    }
    let (kind, target) = match serde_json::from_str::<Value>(message) {
        Ok(Value::Object(m)) => match m.iter().find(|(k, _)| k.starts_with("ElastiCache:")) {
            Some((k, v)) => (k.clone(), v.as_str().unwrap_or_default().to_string()),
            None => {
                return Notice::Unknown(format!(
                    "SNS message without an ElastiCache event: {message}"
                ));
            }
        },
        _ => match message.split_once(" : ") {
            Some((k, v)) => {
                let k = k.trim();
                let k = if k.starts_with("ElastiCache:") {
                    k.to_string()
                } else {
                    format!("ElastiCache:{k}")
                };
                (k, v.trim().to_string())
            }
            None => return Notice::Unknown(format!("SNS message not understood: {message}")),
        },
    };
    let action = match kind.as_str() {
        "ElastiCache:SnapshotFailed" => Some(Action::Trigger),
        "ElastiCache:SnapshotComplete" => Some(Action::Info),
        _ => None,
    };
    Notice::Snapshot(SnapshotNotice {
        action,
        kind,
        target,
        message: Some(message.to_string()),
        region,
        time: None,
    })
}

/// A notification for the sinks.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// Trigger, resolve or info.
    pub action: Action,
    /// The cluster or replication group it is about.
    pub target: String,
    /// Region of the target.
    pub region: String,
    /// One line (Slack header, PagerDuty summary).
    pub title: String,
    /// The step (state) that failed, if known.
    pub step: Option<String>,
    /// The error name, if any (e.g. `ExportRejected`).
    pub error: Option<String>,
    /// The cause, if any (the handler's message).
    pub cause: Option<String>,
    /// The ElastiCache snapshot concerned, if known (kept on failure).
    pub snapshot_name: Option<String>,
    /// The execution, if any.
    pub execution_arn: Option<String>,
    /// When it happened.
    pub time: Option<String>,
}

/// Any text, short or past every limit of the sinks, for property tests.
#[cfg(test)]
pub(crate) fn any_text() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    let long = |min: usize, max: usize| {
        proptest::collection::vec(any::<char>(), min..=max).prop_map(String::from_iter)
    };
    prop_oneof![
        4 => ".*",
        1 => long(140, 160),
        1 => long(250, 260),
        1 => long(1000, 1100),
        1 => long(1990, 3100),
    ]
}

/// Any alert, with any text in every field, for property tests.
#[cfg(test)]
pub(crate) fn any_alert() -> impl proptest::strategy::Strategy<Value = Alert> {
    use proptest::prelude::*;
    let action = prop_oneof![
        Just(Action::Trigger),
        Just(Action::Resolve),
        Just(Action::Info)
    ];
    let opt = || proptest::option::of(any_text());
    (
        action,
        any_text(),
        any_text(),
        any_text(),
        (opt(), opt(), opt(), opt(), opt(), opt()),
    )
        .prop_map(
            |(
                action,
                target,
                region,
                title,
                (step, error, cause, snapshot_name, execution_arn, time),
            )| {
                Alert {
                    action,
                    target,
                    region,
                    title,
                    step,
                    error,
                    cause,
                    snapshot_name,
                    execution_arn,
                    time,
                }
            },
        )
}

impl Alert {
    /// PagerDuty `dedup_key`: one per target, so a retry and the later resolve hit the same incident.
    pub fn dedup_key(&self) -> String {
        format!("elasticache-backup/{}/{}", self.region, self.target)
    }

    /// The Step Functions console page of the execution.
    pub fn execution_url(&self) -> Option<String> {
        self.execution_arn.as_ref().map(|arn| {
            format!(
                "https://{r}.console.aws.amazon.com/states/home?region={r}#/v2/executions/details/{arn}",
                r = self.region
            )
        })
    }
}

/// The target an execution input (or a run document's `input`) names: `replicationGroupId`, `cacheClusterId` or
/// `serverlessCacheName`, matched without regard to case or `_`/`-` so that an invalid input (`ReplicationGroupID`,
/// `replication_group_id`) still keys its incident by the target it meant. A serverless cache is keyed by its name,
/// as its ElastiCache events name it: the key does not say which kind of target a name is.
fn target_of(input: Option<&Value>) -> Option<String> {
    let input = input?;
    let doc_input = input.get("input").unwrap_or(input).as_object()?;
    let squash = |k: &str| {
        k.chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_lowercase()
    };
    [
        "replicationgroupid",
        "cacheclusterid",
        "serverlesscachename",
    ]
    .iter()
    .find_map(|want| {
        doc_input
            .iter()
            .find(|(k, v)| squash(k) == *want && v.as_str().is_some_and(|s| !s.trim().is_empty()))
            .and_then(|(_, v)| v.as_str())
            .map(|s| s.trim().to_string())
    })
}

/// The group (or standalone cluster) a backup run actually read, from the run document's `source` (CreateSnapshot
/// resolved a member node to its group there).
fn source_of(doc: Option<&Value>) -> Option<String> {
    let source = doc?.get("source")?;
    ["replicationGroupId", "cacheClusterId"]
        .iter()
        .find_map(|k| source.get(*k).and_then(Value::as_str))
        .map(str::to_string)
}

/// Errors of a CreateSnapshot step after which no snapshot can exist (refused before the CreateSnapshot call).
const REFUSED_BEFORE_CREATE: &[&str] = &[
    "InvalidInput",
    "TargetNotFound",
    "NotSupported",
    "ExportRejected",
    "SnapshotQuotaExceeded",
];

/// The snapshot a failed CreateSnapshot step may have left behind, when the run document does not name it (the step
/// timed out or crashed after the API call): the name is a pure function of the input's target and the execution id
/// ([`backup_core::naming::snapshot_name`]), so the alert can name it anyway.
fn snapshot_name_of_failed_create(
    n: &ExecutionNotice,
    step: Option<&str>,
    error: Option<&str>,
) -> Option<String> {
    if step != Some("CreateSnapshot") || error.is_some_and(|e| REFUSED_BEFORE_CREATE.contains(&e)) {
        return None;
    }
    let input = n.input.as_ref()?;
    let text = |k: &str| input.get(k).and_then(Value::as_str);
    let (kind, id) = if let Some(id) = text("replicationGroupId") {
        (backup_core::naming::TargetKind::ReplicationGroup, id)
    } else if let Some(id) = text("serverlessCacheName") {
        (backup_core::naming::TargetKind::ServerlessCache, id)
    } else {
        (
            backup_core::naming::TargetKind::CacheCluster,
            text("cacheClusterId")?,
        )
    };
    Some(backup_core::naming::snapshot_name(
        kind,
        id,
        &n.execution_arn,
    ))
}

/// The source of a restore execution: the input's `replicationGroupId` (a `latest` restore), else the run
/// document's `backup.sourceId` (ResolveBackup read it from the manifest).
fn restore_source_of(input: Option<&Value>, doc: Option<&Value>) -> Option<String> {
    target_of(input).or_else(|| {
        doc?.get("backup")?
            .get("sourceId")?
            .as_str()
            .map(str::to_string)
    })
}

/// Which state machine an execution belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Machine {
    /// The backup state machine.
    Backup,
    /// The restore state machine (restores and drills): its incidents are keyed `drill/<source>`, apart from the
    /// source's backup incidents.
    Restore,
    /// The fleet state machine: it fails only when discovery (or its summary) fails — each target's failure is its
    /// own child backup execution's alert — so its incidents are keyed `fleet/<name>`.
    Fleet,
}

/// What `terraform/restore.asl.json`'s DescribeFailureAfterCleanUp state puts between the failed step's cause and
/// the clean-up's note (whether the restored group was kept, tagged, or deleted).
pub const RESTORED_GROUP_MARKER: &str = ". Restored group: ";

/// A fleet's name as the fleet state machine derives it (`backup_core::fleet::validate`): the input's `name`, else
/// the selector's tags as [`backup_core::fleet::Selector::label`] writes them (`k=v,k2=v2`, keys in order), else
/// `targets`.
fn fleet_name_of(input: Option<&Value>, doc: Option<&Value>) -> String {
    if let Some(name) = doc.and_then(|d| d.get("name")).and_then(Value::as_str) {
        return name.to_string();
    }
    let Some(input) = input else {
        return "targets".into();
    };
    if let Some(name) = input
        .get("name")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        return name.to_string();
    }
    match input
        .get("selector")
        .and_then(|s| s.get("tags"))
        .and_then(Value::as_object)
    {
        // Labelled by the fleet's own rule, so the key is the one the fleet names itself with (a value that is not
        // a string, which the fleet refuses, is shown as JSON).
        Some(tags) if !tags.is_empty() => backup_core::fleet::Selector {
            tags: tags
                .iter()
                .map(|(k, v)| {
                    let v = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                    (k.clone(), v)
                })
                .collect(),
        }
        .label(),
        _ => "targets".into(),
    }
}

/// The alert for an execution status change, given what the execution history told (if anything). `None` for
/// statuses that need no alert (`RUNNING`, …).
pub fn execution_alert(
    n: &ExecutionNotice,
    history: Option<&FailureContext>,
    machine: Machine,
) -> Option<Alert> {
    let doc = history.and_then(|h| h.run_document.as_ref());
    // One incident per target: the group the run read (a member node resolved to its group), else the input's
    // target, lower-cased as the backup does; an input that names no target at all shares one `invalid-input`
    // incident rather than opening one per execution.
    let target = match machine {
        Machine::Backup => source_of(doc.or(n.output.as_ref()))
            .or_else(|| target_of(n.input.as_ref()))
            .or_else(|| target_of(doc))
            .map(|t| t.to_ascii_lowercase()),
        Machine::Restore => restore_source_of(n.input.as_ref(), doc.or(n.output.as_ref()))
            .map(|source| format!("drill/{}", source.to_ascii_lowercase())),
        Machine::Fleet => Some(format!(
            "fleet/{}",
            fleet_name_of(n.input.as_ref(), doc.or(n.output.as_ref()))
        )),
    }
    .unwrap_or_else(|| match machine {
        Machine::Backup | Machine::Fleet => "invalid-input".to_string(),
        Machine::Restore => "drill/invalid-input".to_string(),
    });
    let noun = match machine {
        Machine::Backup => "ElastiCache backup",
        Machine::Restore => "ElastiCache restore",
        Machine::Fleet => "ElastiCache backup fleet",
    };
    // The cause the Describe*Failure state wrote (`<Step> failed for …`), from the event or the history.
    let execution_cause = n
        .cause
        .as_deref()
        .or_else(|| history.and_then(|h| h.cause.as_deref()));
    let step_of_cause = execution_cause.and_then(|cause| {
        let (step, _) = cause.split_once(" failed for ")?;
        (!step.is_empty() && step.chars().all(|c| c.is_ascii_alphanumeric()))
            .then(|| step.to_string())
    });
    // A restore's last task is its clean-up: the step that failed is the one its cause names. Elsewhere the
    // history's failed state, else the cause's.
    let step = match machine {
        Machine::Restore => step_of_cause
            .clone()
            .or_else(|| history.and_then(|h| h.failed_state.clone())),
        _ => history
            .and_then(|h| h.failed_state.clone())
            .or_else(|| step_of_cause.clone()),
    };
    // What the restore's clean-up did with the group (`… Restored group: <note>`): the page must say a kept group
    // is kept, and what to do with it.
    let restored_group = (machine == Machine::Restore)
        .then(|| execution_cause?.split_once(RESTORED_GROUP_MARKER))
        .flatten()
        .map(|(_, note)| note.to_string());
    let error = history
        .and_then(|h| h.error.clone())
        .or_else(|| n.error.clone());
    let snapshot_name = doc
        .or(n.output.as_ref())
        .and_then(|d| d.get("snapshotName"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| {
            (machine == Machine::Backup && n.status != "SUCCEEDED")
                .then(|| snapshot_name_of_failed_create(n, step.as_deref(), error.as_deref()))
                .flatten()
        });
    let base = Alert {
        action: Action::Trigger,
        target: target.clone(),
        region: n.region.clone(),
        title: String::new(),
        step,
        error,
        cause: history
            .and_then(FailureContext::best_cause)
            .or_else(|| n.cause.clone())
            .map(|cause| match &restored_group {
                Some(note) if !cause.contains(note.as_str()) => {
                    format!("{cause}{RESTORED_GROUP_MARKER}{note}")
                }
                _ => cause,
            }),
        snapshot_name,
        execution_arn: Some(n.execution_arn.clone()),
        time: n.time.clone(),
    };
    match n.status.as_str() {
        "FAILED" | "TIMED_OUT" | "ABORTED" => {
            let what = match n.status.as_str() {
                "FAILED" => "failed",
                "TIMED_OUT" => "timed out",
                _ => "was aborted",
            };
            let error = base
                .error
                .clone()
                .unwrap_or_else(|| format!("States.{}", n.status));
            let at = base
                .step
                .as_ref()
                .map(|s| format!(" at {s}"))
                .unwrap_or_default();
            Some(Alert {
                title: format!("{noun} of {target} {what}: {error}{at}"),
                error: Some(error),
                ..base
            })
        }
        "SUCCEEDED" => Some(Alert {
            action: Action::Resolve,
            title: format!("{noun} of {target} succeeded"),
            step: None,
            error: None,
            cause: None,
            ..base
        }),
        _ => None,
    }
}

/// The alert for an ElastiCache snapshot event; `None` for event kinds that need none.
pub fn snapshot_alert(n: &SnapshotNotice) -> Option<Alert> {
    let action = n.action?;
    let alarm = n.kind.starts_with("alarm ");
    let title = match (alarm, action) {
        (true, Action::Resolve) => format!("Backups succeeding again: alarm {} is OK", n.target),
        (true, _) => format!(
            "No verified ElastiCache backup of {} in time (staleness alarm)",
            n.target
        ),
        (false, _) => format!(
            "ElastiCache {}: {}",
            n.kind.trim_start_matches("ElastiCache:"),
            n.target
        ),
    };
    Some(Alert {
        action,
        target: n.target.clone(),
        region: n.region.clone(),
        title,
        step: None,
        error: (action == Action::Trigger).then(|| {
            if alarm {
                "NoSuccessfulBackup".into()
            } else {
                n.kind.clone()
            }
        }),
        cause: n.message.clone(),
        snapshot_name: None,
        execution_arn: None,
        time: n.time.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::rfc3339;
    use proptest::prelude::*;

    #[test]
    fn a_fleet_is_keyed_by_its_selector_as_the_fleet_names_it() {
        // '-' sorts before '=': sorting `k=v` strings puts `a-b=1` first, sorting keys puts `a` first.
        let tags = serde_json::json!({"a-b": "1", "a": "2"});
        let selector: backup_core::fleet::Selector =
            serde_json::from_value(serde_json::json!({ "tags": tags })).unwrap();
        let input = serde_json::json!({ "selector": { "tags": tags } });
        assert_eq!(super::fleet_name_of(Some(&input), None), selector.label());
        assert_eq!(selector.label(), "a=2,a-b=1");
    }

    proptest! {
        #[test]
        fn any_text_in_an_event_is_parsed_without_a_panic(
            message in super::any_text(),
            cause in super::any_text(),
            name in super::any_text(),
            input in super::any_text(),
        ) {
            let sns = serde_json::json!({"Records": [{"EventSource": "aws:sns", "Sns": {
                "Type": "Notification", "MessageId": "m", "TopicArn": name, "Message": message,
                "Timestamp": "2026-11-22T03:05:00.000Z"}}]});
            let alarm = serde_json::json!({"AlarmName": name, "NewStateValue": "ALARM", "AlarmDescription": cause,
                "NewStateReason": message, "StateChangeTime": input});
            let alarm = serde_json::json!({"Records": [{"EventSource": "aws:sns", "Sns": {
                "Type": "Notification", "MessageId": "m", "TopicArn": name, "Message": alarm.to_string(),
                "Timestamp": "2026-11-22T03:05:00.000Z"}}]});
            let elasticache = serde_json::json!({"version": "0", "id": "e", "detail-type": "Snapshot Export Failed",
                "source": "aws.elasticache", "account": "1", "time": "2026-11-22T03:05:00Z", "region": name,
                "resources": [cause], "detail": {"Message": message, "SourceIdentifier": input}});
            let failed = serde_json::json!({"version": "0", "id": "e", "detail-type": "Step Functions Execution Status Change",
                "source": "aws.states", "account": "1", "time": "2026-11-22T03:05:00Z", "region": "us-east-1",
                "resources": [], "detail": {"status": "FAILED", "executionArn": name, "stateMachineArn": "sm",
                "name": name, "input": input, "error": message, "cause": cause}});
            for event in [sns, alarm, elasticache, failed] {
                for notice in super::parse(&event) {
                    let alert = match notice {
                        super::Notice::Execution(n) => {
                            let machine = super::Machine::Backup;
                            super::execution_alert(&n, None, machine)
                        }
                        super::Notice::Snapshot(n) => super::snapshot_alert(&n),
                        super::Notice::Unknown(_) => None,
                    };
                    if let Some(a) = alert {
                        crate::slack::message(&a);
                        crate::pagerduty::event(&a, "R0UT1NGKEYR0UT1NGKEYR0UT1NGKEY12");
                    }
                }
            }
        }
    }

    #[test]
    fn failed_timed_out_and_aborted_executions_are_failures() {
        let with = |status: &str| super::ExecutionNotice {
            status: status.into(),
            ..Default::default()
        };
        for status in ["FAILED", "TIMED_OUT", "ABORTED"] {
            assert!(with(status).failed(), "{status}");
        }
        for status in ["SUCCEEDED", "RUNNING", "failed"] {
            assert!(!with(status).failed(), "{status}");
        }
    }

    #[test]
    fn cloudwatch_and_rfc3339_times_become_rfc3339() {
        assert_eq!(
            rfc3339("2026-11-22T05:00:00.000+0000").as_deref(),
            Some("2026-11-22T05:00:00Z")
        );
        assert_eq!(
            rfc3339("2026-11-22T14:00:00+09:00").as_deref(),
            Some("2026-11-22T05:00:00Z")
        );
        assert_eq!(rfc3339("yesterday"), None);
    }
}
