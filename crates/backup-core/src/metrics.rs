//! The backup's CloudWatch metrics, as embedded metric format (EMF) records: one JSON line on stdout, which Lambda
//! ships to CloudWatch Logs and CloudWatch turns into metrics — no API call, no permission (Amazon CloudWatch User
//! Guide, "Specification: Embedded metric format"). Namespace [`crate::restore::METRIC_NAMESPACE`], dimension
//! `Target` (the lower-cased replication group or standalone cluster id). Terraform's per-target staleness alarms
//! and the dashboard read these names.

use serde_json::{Value, json};

use crate::backup::run::BackupRun;
use crate::model::Timestamp;
use crate::restore::METRIC_NAMESPACE;

/// Metric counting runs that started a snapshot (CreateSnapshot, not a resumed one): 1 per run.
pub const RUNS_STARTED: &str = "BackupRunsStarted";
/// Metric counting verified backups (the last step, DeleteSnapshot, succeeded): 1 per run.
pub const VERIFIED_BACKUPS: &str = "VerifiedBackups";
/// Seconds from the execution's start to the verified backup.
pub const DURATION_SECONDS: &str = "BackupDurationSeconds";
/// Bytes of all shard objects of the verified export.
pub const EXPORT_BYTES: &str = "ExportBytes";
/// Keys in the verified export.
pub const KEY_COUNT: &str = "KeyCount";

/// The target a run's metrics are reported under: the source group (or standalone cluster) it read, lower-cased.
pub fn target_of(run: &BackupRun) -> Option<String> {
    run.source
        .as_ref()
        .map(crate::backup::run::Source::target_id)
        .filter(|t| !t.is_empty())
}

fn record(target: &str, at: Timestamp, metrics: &[(&str, &str, u64)]) -> Value {
    let mut doc = json!({
        "_aws": {
            "Timestamp": at.unix_timestamp() * 1000,
            "CloudWatchMetrics": [{
                "Namespace": METRIC_NAMESPACE,
                "Dimensions": [["Target"]],
                "Metrics": metrics.iter().map(|(n, unit, _)| json!({"Name": n, "Unit": unit})).collect::<Vec<_>>(),
            }]
        },
        "Target": target,
    });
    for (name, _, value) in metrics {
        doc[*name] = json!(value);
    }
    doc
}

/// The record CreateSnapshot prints when it starts a snapshot: `BackupRunsStarted` = 1.
pub fn run_started(target: &str, at: Timestamp) -> Value {
    record(target, at, &[(RUNS_STARTED, "Count", 1)])
}

/// The record DeleteSnapshot prints when the backup is verified and complete: `VerifiedBackups` = 1, its duration
/// (seconds), export bytes and key count.
pub fn verified_backup(run: &BackupRun, target: &str, at: Timestamp) -> Value {
    let started = run.execution.start_time.as_deref().and_then(|t| {
        time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
    });
    let duration = started.map_or(0, |s| u64::try_from((at - s).whole_seconds()).unwrap_or(0));
    let (bytes, keys) = run.verification.as_ref().map_or((0, 0), |v| {
        (v.objects.iter().map(|o| o.size_bytes).sum(), v.keys)
    });
    record(
        target,
        at,
        &[
            (VERIFIED_BACKUPS, "Count", 1),
            (DURATION_SECONDS, "Seconds", duration),
            (EXPORT_BYTES, "Bytes", bytes),
            (KEY_COUNT, "Count", keys),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn records_are_emf_with_the_target_dimension() {
        let r = run_started("orders", datetime!(2026-11-22 03:00 UTC));
        assert_eq!(
            r["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            METRIC_NAMESPACE
        );
        assert_eq!(
            r["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["Target"]])
        );
        assert_eq!(
            r["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"],
            RUNS_STARTED
        );
        assert_eq!(r[RUNS_STARTED], 1);
        assert_eq!(r["Target"], "orders");

        let mut run = BackupRun::default();
        run.execution.start_time = Some("2026-11-22T03:00:00Z".into());
        let v = verified_backup(&run, "orders", datetime!(2026-11-22 03:13:20 UTC));
        assert_eq!(v[VERIFIED_BACKUPS], 1);
        assert_eq!(v[DURATION_SECONDS], 800);
        let names: Vec<_> = v["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["Name"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            names,
            [VERIFIED_BACKUPS, DURATION_SECONDS, EXPORT_BYTES, KEY_COUNT]
        );
    }
}
