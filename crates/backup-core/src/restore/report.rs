//! What VerifyRestore leaves: the report next to the manifest ([`restore_report`]) and the measured RTO as a
//! CloudWatch metric ([`rto_metric`]).

use serde_json::{Value, json};

use super::run::RestoreRun;
use super::verify::RestoreVerification;
use crate::error::BackupError;
use crate::model::Timestamp;
use crate::naming::restore_report_key;

/// The restore report VerifyRestore writes next to the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreReport {
    /// Its S3 key, in the backup's bucket: `<exportName>.restore-<executionName>.json`.
    pub key: String,
    /// The JSON document, pretty-printed.
    pub body: String,
    /// The measured recovery time: CreateReplicationGroup to verified data, seconds (0 if the clock went back).
    pub rto_seconds: u64,
}

/// The report of `run`'s restore, verified at `now` with `verification`: kind (`drill` or `restore`), verdict
/// (`verified` or `mismatch`), the execution, manifest, source, group (`replicationGroupId`; a serverless restore:
/// `serverlessCacheName` and `endpoint` instead), how it was seeded, when it was requested,
/// available and verified, the RTO and the comparison.
///
/// # Errors
/// `InvalidInput` when the document lacks `request`, `backup` or `restore`; `AwsError` naming the report if it
/// cannot be serialised.
pub fn restore_report(
    run: &RestoreRun,
    verification: &RestoreVerification,
    now: Timestamp,
) -> Result<RestoreReport, BackupError> {
    let backup = run.backup()?;
    let progress = run.restore()?;
    let rto = u64::try_from((now - progress.requested_at).whole_seconds()).unwrap_or(0);
    let key = restore_report_key(&backup.export_name, &run.execution.name);
    let mut report = json!({
        "tool": "elasticache-backup",
        "kind": if run.request()?.drill { "drill" } else { "restore" },
        "verdict": if verification.matches { "verified" } else { "mismatch" },
        "execution": run.execution,
        "manifest": format!("s3://{}/{}", backup.bucket, backup.manifest_key),
        "source": backup.source_id,
        "replicationGroupId": progress.replication_group_id,
        "from": progress.from,
        "requestedAt": format_time(progress.requested_at),
        "availableAt": progress.available_at.map(format_time),
        "verifiedAt": format_time(now),
        "rtoSeconds": rto,
        "verification": verification,
    });
    // A serverless restore names its cache (and where it answers) in place of a group.
    if let Some(name) = &progress.serverless_cache_name {
        report["serverlessCacheName"] = json!(name);
        report["endpoint"] = json!(progress.endpoint);
        if let Some(fields) = report.as_object_mut() {
            fields.remove("replicationGroupId");
        }
    }
    let body = serde_json::to_string_pretty(&report).map_err(|e| BackupError::AwsError {
        message: format!("report {key}: {e}"),
        source: None,
    })?;
    Ok(RestoreReport {
        key,
        body,
        rto_seconds: rto,
    })
}

fn format_time(t: Timestamp) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// CloudWatch namespace of the metrics the restore publishes.
pub const METRIC_NAMESPACE: &str = "ElastiCacheBackup";

/// One CloudWatch embedded-metric-format record (CloudWatch User Guide, "Specification: Embedded metric format"):
/// `RestoreRtoSeconds` (seconds) and `RestoreVerified` (1 or 0) of `source`, dimension `Source`, plus `Drill`.
/// Printed as one log line, CloudWatch turns it into metrics without an API call.
pub fn rto_metric(
    source: &str,
    drill: bool,
    rto_seconds: u64,
    verified: bool,
    at: Timestamp,
) -> Value {
    serde_json::json!({
        "_aws": {
            "Timestamp": at.unix_timestamp() * 1000,
            "CloudWatchMetrics": [{
                "Namespace": METRIC_NAMESPACE,
                "Dimensions": [["Source"], ["Source", "Kind"]],
                "Metrics": [
                    {"Name": "RestoreRtoSeconds", "Unit": "Seconds"},
                    {"Name": "RestoreVerified", "Unit": "Count"}
                ]
            }]
        },
        "Source": source,
        "Kind": if drill { "drill" } else { "restore" },
        "RestoreRtoSeconds": rto_seconds,
        "RestoreVerified": u8::from(verified),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rto_metric_is_an_embedded_metric_format_record() {
        let m = rto_metric(
            "orders",
            true,
            312,
            true,
            time::macros::datetime!(2026-11-22 05:00 UTC),
        );
        let def = &m["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(def["Namespace"], METRIC_NAMESPACE);
        for metric in def["Metrics"].as_array().unwrap() {
            let name = metric["Name"].as_str().unwrap();
            assert!(m.get(name).is_some(), "{name} has no value");
        }
        for dims in def["Dimensions"].as_array().unwrap() {
            for d in dims.as_array().unwrap() {
                assert!(m[d.as_str().unwrap()].is_string(), "{d} has no value");
            }
        }
        assert_eq!(
            (m["RestoreRtoSeconds"].as_u64(), m["Kind"].as_str()),
            (Some(312), Some("drill"))
        );
        assert_eq!(m["_aws"]["Timestamp"], 1_795_323_600_000_i64);
    }

    #[test]
    fn the_report_goes_next_to_the_manifest_with_its_verdict_and_rto() {
        use crate::restore::backup::test_backup;
        use crate::restore::progress::{RestoreProgress, SeedFrom};
        use crate::restore::verify::{ShardFound, compare};
        use time::macros::datetime;
        let mut run: RestoreRun = serde_json::from_value(serde_json::json!({
            "request": {"backup": {"manifest": {"bucket": "b", "key": "e.manifest.json"}},
                        "targetReplicationGroupId": "orders-r", "drill": true, "restoreTimeoutSeconds": 3600,
                        "verifyBeforeRestore": false, "overrides": {}}
        }))
        .unwrap();
        run.execution.name = "drill-1".into();
        let backup = test_backup(1, 0);
        run.backup = Some(backup.clone());
        assert_eq!(
            restore_report(
                &run,
                &compare(&backup, &[], datetime!(2026-11-22 04:00 UTC)),
                datetime!(2026-11-22 04:00 UTC)
            )
            .unwrap_err()
            .error_type(),
            "InvalidInput"
        );
        run.restore = Some(RestoreProgress {
            replication_group_id: "orders-r".into(),
            serverless_cache_name: None,
            endpoint: None,
            status: crate::restore::progress::GroupStatus::Available,
            created: true,
            from: SeedFrom::SnapshotArns,
            requested_at: datetime!(2026-11-22 04:00 UTC),
            deadline: datetime!(2026-11-22 05:00 UTC),
            available_at: Some(datetime!(2026-11-22 04:04 UTC)),
            rto_seconds: None,
        });
        let now = datetime!(2026-11-22 04:05:12 UTC);
        let found = [ShardFound {
            node_group_id: "0001".into(),
            databases: [(0, 1)].into(),
            samples: Vec::new(),
        }];
        let report = restore_report(&run, &compare(&backup, &found, now), now).unwrap();
        assert_eq!(report.key, "e.restore-drill-1.json");
        assert_eq!(report.rto_seconds, 312);
        let body: Value = serde_json::from_str(&report.body).unwrap();
        assert_eq!(
            (
                &body["kind"],
                &body["verdict"],
                &body["manifest"],
                &body["availableAt"]
            ),
            (
                &json!("drill"),
                &json!("verified"),
                &json!("s3://b/e.manifest.json"),
                &json!("2026-11-22T04:04:00Z")
            )
        );
        assert_eq!(body["replicationGroupId"], "orders-r");
        assert!(body.get("serverlessCacheName").is_none());

        if let Some(r) = run.restore.as_mut() {
            r.replication_group_id = String::new();
            r.serverless_cache_name = Some("orders-sl".into());
            r.endpoint = Some(crate::resources::Endpoint {
                address: "orders-sl.serverless.cache.amazonaws.com".into(),
                port: 6379,
            });
        }
        let report = restore_report(&run, &compare(&backup, &found, now), now).unwrap();
        let body: Value = serde_json::from_str(&report.body).unwrap();
        assert_eq!(body["serverlessCacheName"], "orders-sl");
        assert_eq!(body["endpoint"]["port"], 6379);
        assert!(body.get("replicationGroupId").is_none(), "{body}");
    }
}
