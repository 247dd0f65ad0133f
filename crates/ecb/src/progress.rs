//! The live view's content, computed from what Step Functions says about an execution: its description and its
//! history events (AWS Step Functions API Reference, `DescribeExecution` and `GetExecutionHistory`, `HistoryEvent`).
//! Pure: the watcher ([`crate::watch`]) fetches, this decides what a person sees.
//!
//! The run document a state works on is the input of the newest `…StateEntered` event, or the output of the newest
//! `…StateExited` one, that is a whole run document (it has `execution`, which the first state adds): Map iterations
//! carry other documents (VerifyShard's `{bucket, exportName, object}`), and they are read as per-shard rows.

use backup_core::backup::run::BackupRun;
use backup_core::fleet::document::FleetRun;
use backup_core::restore::run::RestoreRun;
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;

use crate::cli::Machine;

/// One history event, as far as the view needs it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// The event id (1-based, increasing).
    pub id: i64,
    /// When it happened.
    #[serde(with = "time::serde::rfc3339")]
    pub timestamp: OffsetDateTime,
    /// The API's `HistoryEventType` (`TaskStateEntered`, `LambdaFunctionFailed`, …).
    pub kind: String,
    /// The state's name, for state events.
    pub state: Option<String>,
    /// The state's input (entered), output (exited), or the execution's input (`ExecutionStarted`).
    pub payload: Option<String>,
    /// A failure's error name.
    pub error: Option<String>,
    /// A failure's cause.
    pub cause: Option<String>,
}

/// An execution as `DescribeExecution` gives it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Execution {
    /// Its ARN.
    pub execution_arn: String,
    /// Its name.
    pub name: String,
    /// Which of the project's machines runs it, when known.
    #[serde(skip)]
    pub machine: Option<Machine>,
    /// `RUNNING`, `SUCCEEDED`, `FAILED`, `TIMED_OUT`, `ABORTED`, `PENDING_REDRIVE`.
    pub status: String,
    /// Start.
    #[serde(with = "time::serde::rfc3339")]
    pub start_date: OffsetDateTime,
    /// End, once ended.
    #[serde(with = "time::serde::rfc3339::option")]
    pub stop_date: Option<OffsetDateTime>,
    /// The input document.
    pub input: Option<Value>,
    /// The output document (succeeded).
    pub output: Option<Value>,
    /// The error name (failed).
    pub error: Option<String>,
    /// The cause (failed).
    pub cause: Option<String>,
}

impl Execution {
    /// Whether the execution has ended: not `RUNNING`, and not `PENDING_REDRIVE` (a redrive was asked for: it runs
    /// again).
    pub fn ended(&self) -> bool {
        !matches!(self.status.as_str(), "RUNNING" | "PENDING_REDRIVE")
    }
}

/// What the live view shows at one moment.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct View {
    /// The execution's status.
    pub status: String,
    /// The state running now (the newest entered), if any.
    pub state: Option<String>,
    /// Seconds since the start (to the end, once ended).
    pub elapsed_seconds: i64,
    /// When the current Wait state ends (its `SecondsPath` is `$.poll.waitSeconds`).
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_check: Option<OffsetDateTime>,
    /// The detail lines (snapshot, export, shards, group, verification, fleet targets).
    pub lines: Vec<String>,
}

/// The view of `execution` given its `events` (oldest first), at `now`.
pub fn view(execution: &Execution, events: &[Event], now: OffsetDateTime) -> View {
    let end = execution.stop_date.unwrap_or(now);
    let state = events
        .iter()
        .rev()
        .find(|e| e.kind.ends_with("StateEntered"))
        .and_then(|e| e.state.clone());
    let current_wait = events.last().filter(|e| e.kind == "WaitStateEntered");
    let doc = execution
        .output
        .clone()
        .filter(|_| execution.status == "SUCCEEDED")
        .or_else(|| run_document(events));
    let next_check = current_wait.and_then(|e| {
        let seconds = doc.as_ref()?.pointer("/poll/waitSeconds")?.as_i64()?;
        Some(e.timestamp + time::Duration::seconds(seconds))
    });
    let lines = match (execution.machine, &doc) {
        (Some(Machine::Backup), Some(doc)) => backup_lines(doc, events),
        (Some(Machine::Restore), Some(doc)) => restore_lines(doc),
        (Some(Machine::Fleet), Some(doc)) => fleet_lines(doc, events),
        _ => Vec::new(),
    };
    View {
        status: execution.status.clone(),
        state: if execution.ended() { None } else { state },
        elapsed_seconds: (end - execution.start_date).whole_seconds().max(0),
        next_check: if execution.ended() { None } else { next_check },
        lines,
    }
}

/// The newest whole run document in `events` (see the module documentation).
pub fn run_document(events: &[Event]) -> Option<Value> {
    events.iter().rev().find_map(|e| {
        let whole = e.kind.ends_with("StateEntered") || e.kind.ends_with("StateExited");
        let doc: Value = serde_json::from_str(e.payload.as_deref()?).ok()?;
        (whole && doc.get("execution").is_some()).then_some(doc)
    })
}

fn label<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(s)) => s,
        Ok(v) => v.to_string(),
        Err(_) => "?".into(),
    }
}

/// Bytes as a person reads them (binary units): `512 B`, `1.5 MiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

fn backup_lines(doc: &Value, events: &[Event]) -> Vec<String> {
    let Ok(run) = serde_json::from_value::<BackupRun>(doc.clone()) else {
        return Vec::new();
    };
    let mut lines = Vec::new();
    if let Some(source) = &run.source {
        if let Some(name) = &source.serverless_cache_name {
            // How many objects a serverless export writes is known once it is complete.
            let shards = match source.shard_count {
                0 => "shards known after the export".to_string(),
                n => format!("{n} export object(s)"),
            };
            lines.push(format!("source     serverless cache {name}: {shards}"));
        } else {
            let id = source
                .replication_group_id
                .as_deref()
                .or(source.cache_cluster_id.as_deref())
                .unwrap_or("?");
            lines.push(format!(
                "source     {id}: {} shard(s), cluster mode {}, snapshot from the {}",
                source.shard_count,
                label(&source.cluster_mode),
                label(&source.role)
            ));
        }
    }
    if let (Some(name), Some(s)) = (&run.snapshot_name, &run.snapshot) {
        lines.push(format!(
            "snapshot   {name}: {}{}",
            label(&s.status),
            if s.resumed { " (resumed)" } else { "" }
        ));
    }
    if let Some(e) = &run.export {
        let size: u64 = e.objects.iter().map(|o| o.size_bytes).sum();
        let objects = match e.objects.len() {
            0 => String::new(),
            n => format!(", {n} object(s), {}", bytes(size)),
        };
        lines.push(format!(
            "export     {}: {}{objects}",
            run.export_name.as_deref().unwrap_or("?"),
            label(&e.status)
        ));
    }
    // Per-shard verification: each VerifyShard's output ({object, millis}), as the Map's iterations end.
    let expected = run.export.as_ref().map_or(0, |e| e.objects.len());
    let shards: Vec<Value> = events
        .iter()
        .filter(|e| e.kind == "TaskStateExited" && e.state.as_deref() == Some("VerifyShard"))
        .filter_map(|e| serde_json::from_str(e.payload.as_deref()?).ok())
        .collect();
    if let Some(v) = &run.verification {
        lines.push(format!(
            "verified   {} object(s), {} keys ({} with expiry); manifest {}",
            v.objects.len(),
            v.keys,
            v.keys_with_expiry,
            v.manifest_key
        ));
    } else if !shards.is_empty()
        || run
            .export
            .as_ref()
            .is_some_and(|e| label(&e.status) == "complete")
    {
        lines.push(format!(
            "verifying  {}/{expected} shard object(s)",
            shards.len()
        ));
    }
    if run.verification.is_none() {
        for shard in &shards {
            let key = shard
                .pointer("/object/key")
                .and_then(Value::as_str)
                .unwrap_or("?");
            let keys = shard
                .pointer("/object/rdb/keys")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            let size = shard
                .pointer("/object/sizeBytes")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            let millis = shard.get("millis").and_then(Value::as_u64).unwrap_or(0);
            lines.push(format!(
                "  shard    {key}: {keys} keys, {} in {millis} ms",
                bytes(size)
            ));
        }
    }
    if let Some(v) = &run.verification {
        for o in &v.objects {
            lines.push(format!(
                "  shard    {}: {} keys, {}",
                o.key,
                o.keys,
                bytes(o.size_bytes)
            ));
        }
    }
    if let Some(c) = &run.cleanup {
        lines.push(format!(
            "cleanup    source snapshot {}",
            label(&c.source_snapshot)
        ));
    }
    lines.extend(run.warnings.iter().map(|w| format!("warning    {w}")));
    lines
}

/// A restore's recovery time as VerifyRestore measured it (`restore.rtoSeconds`: CreateReplicationGroup to verified
/// data, seconds), else from the document's times.
pub fn rto_seconds(run: &RestoreRun) -> Option<i64> {
    let progress = run.restore.as_ref()?;
    if let Some(rto) = progress.rto_seconds {
        return i64::try_from(rto).ok();
    }
    let verified = run.verification.as_ref()?.verified_at;
    Some((verified - progress.requested_at).whole_seconds().max(0))
}

fn restore_lines(doc: &Value) -> Vec<String> {
    let Ok(run) = serde_json::from_value::<RestoreRun>(doc.clone()) else {
        return Vec::new();
    };
    let mut lines = Vec::new();
    if let Some(b) = &run.backup {
        lines.push(format!(
            "backup     s3://{}/{} (source {}, cluster mode {})",
            b.bucket,
            b.manifest_key,
            b.source_id,
            label(&b.cluster_mode)
        ));
    }
    if let Some(r) = &run.restore {
        lines.push(format!(
            "group      {}: {} (seeded by {})",
            r.replication_group_id,
            label(&r.status),
            label(&r.from)
        ));
    }
    if let Some(v) = &run.verification {
        lines.push(format!(
            "verified   {}: {} of {} keys found ({} expired since), {} samples checked{}",
            if v.matches { "match" } else { "MISMATCH" },
            v.keys_found,
            v.keys_expected,
            v.keys_expired,
            v.samples_checked,
            match v.samples_missing.len() {
                0 => String::new(),
                n => format!(", {n} missing"),
            }
        ));
        for s in &v.shards {
            lines.push(format!(
                "  shard    {}: {} of {} keys",
                s.node_group_id, s.found, s.expected
            ));
        }
    }
    if let Some(rto) = rto_seconds(&run) {
        lines.push(format!(
            "rto        {rto} s (CreateReplicationGroup to verified data)"
        ));
    }
    if let Some(report) = &run.report {
        lines.push(format!("report     {report}"));
    }
    if let Some(c) = &run.cleanup {
        lines.push(format!(
            "cleanup    restored group {}: {}",
            label(&c.restored_group),
            c.note
        ));
    }
    lines.extend(run.warnings.iter().map(|w| format!("warning    {w}")));
    lines
}

fn fleet_lines(doc: &Value, events: &[Event]) -> Vec<String> {
    let Ok(run) = serde_json::from_value::<FleetRun>(doc.clone()) else {
        return Vec::new();
    };
    let mut lines = vec![format!(
        "fleet      {}: {} target(s), {} skipped, at most {} at once",
        run.name,
        run.target_count.max(run.targets.len()),
        run.skipped.len(),
        run.max_concurrency
    )];
    // While the Map runs: each BackupTarget iteration entered (running) and exited (its child's status).
    let mut live: std::collections::BTreeMap<String, String> = Default::default();
    for e in events
        .iter()
        .filter(|e| e.state.as_deref() == Some("BackupTarget"))
    {
        let Some(doc) = e
            .payload
            .as_deref()
            .and_then(|p| serde_json::from_str::<Value>(p).ok())
        else {
            continue;
        };
        let Some(target) = doc.get("target").and_then(Value::as_str) else {
            continue;
        };
        let status = match e.kind.as_str() {
            "TaskStateEntered" => "RUNNING",
            _ => doc
                .pointer("/child/status")
                .and_then(Value::as_str)
                .unwrap_or("ended"),
        };
        live.insert(target.to_string(), status.to_string());
    }
    let results: Vec<_> = run
        .results
        .iter()
        .flatten()
        .map(backup_core::fleet::results::result_of)
        .collect();
    for t in &run.targets {
        let line = match results.iter().find(|r| r.target == t.target) {
            Some(r) => format!(
                "  target   {}: {}{}",
                t.target,
                r.status,
                r.error
                    .as_deref()
                    .map(|e| format!(" ({e})"))
                    .unwrap_or_default()
            ),
            None => format!(
                "  target   {}: {}",
                t.target,
                live.get(&t.target).map_or("PENDING", String::as_str)
            ),
        };
        lines.push(line);
    }
    for s in &run.skipped {
        lines.push(format!("  skipped  {}: {}", s.target, s.reason));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    fn event(id: i64, secs: i64, kind: &str, state: Option<&str>, payload: Option<Value>) -> Event {
        Event {
            id,
            timestamp: datetime!(2026-12-04 03:00:00 UTC) + time::Duration::seconds(secs),
            kind: kind.into(),
            state: state.map(str::to_string),
            payload: payload.map(|p| p.to_string()),
            error: None,
            cause: None,
        }
    }

    #[test]
    fn a_serverless_source_is_named_with_its_kind() {
        let doc = json!({"source": {"serverlessCacheName": "sessions", "role": "group", "clusterMode": "enabled",
                                    "shardCount": 0}});
        assert_eq!(
            backup_lines(&doc, &[])[0],
            "source     serverless cache sessions: shards known after the export"
        );
        let doc = json!({"source": {"serverlessCacheName": "sessions", "role": "group", "clusterMode": "enabled",
                                    "shardCount": 2}});
        assert_eq!(
            backup_lines(&doc, &[])[0],
            "source     serverless cache sessions: 2 export object(s)"
        );
    }

    fn running(machine: Machine) -> Execution {
        Execution {
            execution_arn: "arn:aws:states:us-east-1:1:execution:m:e".into(),
            name: "e".into(),
            machine: Some(machine),
            status: "RUNNING".into(),
            start_date: datetime!(2026-12-04 03:00:00 UTC),
            stop_date: None,
            input: None,
            output: None,
            error: None,
            cause: None,
        }
    }

    fn backup_doc(snapshot: &str, export: Option<&str>) -> Value {
        let mut doc = json!({
            "execution": {"name": "e"},
            "snapshotName": "ecb-orders-1",
            "exportName": "ecb-orders-1",
            "snapshot": {"status": snapshot, "resumed": false, "startedAt": "2026-12-04T03:00:01Z",
                         "deadline": "2026-12-04T04:00:01Z"},
            "poll": {"waitSeconds": 30, "checks": 1}
        });
        if let Some(status) = export {
            doc["export"] = json!({"bucket": "b", "status": status, "resumed": false,
                "startedAt": "2026-12-04T03:01:00Z", "deadline": "2026-12-04T04:01:00Z",
                "objects": [{"key": "ecb-orders-1-0001.rdb", "sizeBytes": 2048},
                            {"key": "ecb-orders-1-0002.rdb", "sizeBytes": 2048}]});
        }
        doc
    }

    #[test]
    fn a_wait_shows_the_state_the_snapshot_and_the_next_check() {
        let events = vec![
            event(
                1,
                0,
                "ExecutionStarted",
                None,
                Some(json!({"replicationGroupId": "orders"})),
            ),
            event(
                2,
                1,
                "TaskStateExited",
                Some("CheckSnapshot"),
                Some(backup_doc("creating", None)),
            ),
            event(
                3,
                2,
                "WaitStateEntered",
                Some("WaitForSnapshot"),
                Some(backup_doc("creating", None)),
            ),
        ];
        let v = view(
            &running(Machine::Backup),
            &events,
            datetime!(2026-12-04 03:00:10 UTC),
        );
        assert_eq!(v.state.as_deref(), Some("WaitForSnapshot"));
        assert_eq!(v.elapsed_seconds, 10);
        assert_eq!(v.next_check, Some(datetime!(2026-12-04 03:00:32 UTC)));
        assert_eq!(v.lines, vec!["snapshot   ecb-orders-1: creating"]);
    }

    #[test]
    fn shards_are_counted_as_their_verification_ends() {
        let shard = json!({"object": {"key": "ecb-orders-1-0001.rdb", "sizeBytes": 2048, "rdb": {"keys": 7}},
                           "millis": 12});
        let events = vec![
            event(
                1,
                1,
                "MapStateEntered",
                Some("VerifyExport"),
                Some(backup_doc("available", Some("complete"))),
            ),
            event(
                2,
                2,
                "TaskStateEntered",
                Some("VerifyShard"),
                Some(json!({"bucket": "b"})),
            ),
            event(3, 3, "TaskStateExited", Some("VerifyShard"), Some(shard)),
        ];
        let v = view(
            &running(Machine::Backup),
            &events,
            datetime!(2026-12-04 03:00:04 UTC),
        );
        assert_eq!(v.state.as_deref(), Some("VerifyShard"));
        assert_eq!(v.next_check, None, "not waiting");
        assert!(
            v.lines
                .contains(&"verifying  1/2 shard object(s)".to_string()),
            "{:?}",
            v.lines
        );
        assert!(
            v.lines.contains(
                &"  shard    ecb-orders-1-0001.rdb: 7 keys, 2.0 KiB in 12 ms".to_string()
            ),
            "{:?}",
            v.lines
        );
        assert!(
            v.lines
                .iter()
                .any(|l| l.starts_with("export     ecb-orders-1: complete, 2 object(s), 4.0 KiB"))
        );
    }

    #[test]
    fn an_ended_execution_has_no_current_state_and_stops_its_clock() {
        let mut e = running(Machine::Restore);
        e.status = "FAILED".into();
        e.stop_date = Some(datetime!(2026-12-04 03:01:00 UTC));
        let events = vec![event(1, 0, "TaskStateEntered", Some("CreateGroup"), None)];
        let v = view(&e, &events, datetime!(2026-12-04 05:00:00 UTC));
        assert_eq!((v.state, v.elapsed_seconds), (None, 60));
    }

    #[test]
    fn bytes_read_as_binary_units() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(3 * 1024 * 1024 * 1024), "3.0 GiB");
    }
}
