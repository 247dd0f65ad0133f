//! `evidence`: gathers the month's manifests, drill and retention reports and executions
//! ([`backup_core::evidence::gather`]), builds the report ([`backup_core::evidence::report::build`]) and writes it as
//! HTML and JSON next to the backups, tagged `elasticache-backup:verified=true` so the vault's replication rule
//! carries it.

use backup_core::config::{ConfigError, Env};
use backup_core::evidence::gather::{Sources, gather};
use backup_core::evidence::policy::EvidencePolicy;
use backup_core::evidence::report::build;
use backup_core::evidence::{period, render, report_key};
use backup_core::naming::verified_tags;
use backup_core::ports::{Executions, ExportStore, ObjectReader, ReportPublisher};
use backup_core::{BackupError, Clock};
use lambda_runtime::LambdaEvent;
use serde::{Deserialize, Serialize};

/// The function's configuration, read once at cold start.
#[derive(Debug, Clone, PartialEq)]
pub struct EvidenceConfig {
    /// `BACKUP_BUCKET`.
    pub bucket: String,
    /// `EVIDENCE_POLICY`, parsed.
    pub policy: Option<EvidencePolicy>,
    /// `STATE_MACHINE_ARN`.
    pub backup_machine: Option<String>,
    /// `RESTORE_STATE_MACHINE_ARN`.
    pub restore_machine: Option<String>,
}

impl EvidenceConfig {
    /// Reads the configuration from `env`.
    ///
    /// # Errors
    /// [`ConfigError`] for a missing `BACKUP_BUCKET` or an `EVIDENCE_POLICY` that is not the policy document (the
    /// field at fault named).
    pub fn load<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let bucket = env.string("BACKUP_BUCKET").ok_or_else(|| ConfigError {
            variable: "BACKUP_BUCKET".into(),
            value: String::new(),
            rule: "the export bucket is required".into(),
        })?;
        let policy = env
            .string("EVIDENCE_POLICY")
            .map(|text| {
                EvidencePolicy::from_json(&text).map_err(|rule| ConfigError {
                    variable: "EVIDENCE_POLICY".into(),
                    value: backup_core::text::ellipsize(&text, 80),
                    rule,
                })
            })
            .transpose()?;
        Ok(Self {
            bucket,
            policy,
            backup_machine: env.string("STATE_MACHINE_ARN"),
            restore_machine: env.string("RESTORE_STATE_MACHINE_ARN"),
        })
    }
}

/// What the handler is given.
pub struct EvidenceDeps<S, X, C> {
    /// The export bucket.
    pub store: S,
    /// The state machines' executions.
    pub executions: X,
    /// Wall clock.
    pub clock: C,
    /// Configuration.
    pub config: EvidenceConfig,
}

/// The event: `{}` (the previous calendar month) or `{"month": "2026-11"}`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EvidenceRequest {
    /// `YYYY-MM`.
    #[serde(default)]
    pub month: Option<String>,
}

/// What the function returns.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EvidenceOutput {
    /// The month reported, `YYYY-MM`.
    pub month: String,
    /// `s3://bucket/evidence/<month>.html`.
    pub html: String,
    /// `s3://bucket/evidence/<month>.json`.
    pub json: String,
    /// One line per target.
    pub summary: Vec<String>,
    /// Targets whose RPO was not met.
    pub rpo_not_met: Vec<String>,
    /// Targets whose RTO was not met.
    pub rto_not_met: Vec<String>,
}

/// Builds and writes one month's report.
///
/// # Errors
/// `InvalidInput` (an unknown field, `month` not `YYYY-MM`); the ports' errors (`ExportRejected` for a missing
/// bucket, `AwsRejected`, `Throttled`, `AwsError`).
#[tracing::instrument(skip_all)]
pub async fn function_handler<S, X, C>(
    event: LambdaEvent<serde_json::Value>,
    deps: &EvidenceDeps<S, X, C>,
) -> Result<EvidenceOutput, BackupError>
where
    S: ExportStore + ObjectReader + ReportPublisher,
    X: Executions,
    C: Clock,
{
    let payload = match event.payload {
        serde_json::Value::Null => serde_json::json!({}),
        p => p,
    };
    let request: EvidenceRequest = serde_json::from_value(payload).map_err(|e| {
        BackupError::invalid_input(
            "event",
            format!("expected {{}} or {{\"month\": \"YYYY-MM\"}}: {e}"),
        )
    })?;
    let (from, to, month) = period::month_window(request.month.as_deref(), deps.clock.now())
        .map_err(|e| BackupError::invalid_input("month", e))?;
    let config = &deps.config;
    let sources = Sources {
        bucket: config.bucket.clone(),
        dr_bucket: config.policy.as_ref().and_then(|p| p.dr_bucket.clone()),
        vault_bucket: config.policy.as_ref().and_then(|p| p.vault_bucket.clone()),
        backup_machine: config.backup_machine.clone(),
        restore_machine: config.restore_machine.clone(),
        policy: config.policy.clone(),
    };
    let inputs = gather(&deps.store, &deps.executions, &sources, from).await?;
    let report = build(&inputs, from, to, None);
    let json = serde_json::to_string_pretty(&report).map_err(|e| BackupError::AwsError {
        message: format!("evidence {month}: {e}"),
        source: None,
    })?;
    let tags = verified_tags();
    let (html_key, json_key) = (report_key(&month, "html"), report_key(&month, "json"));
    deps.store
        .put_tagged(
            &config.bucket,
            &json_key,
            json.into_bytes(),
            "application/json",
            &tags,
        )
        .await?;
    deps.store
        .put_tagged(
            &config.bucket,
            &html_key,
            render::html(&report).into_bytes(),
            "text/html; charset=utf-8",
            &tags,
        )
        .await?;
    let summary = render::summary_lines(&report);
    tracing::info!(month = %month, targets = report.targets.len(), "evidence written");
    Ok(EvidenceOutput {
        html: format!("s3://{}/{html_key}", config.bucket),
        json: format!("s3://{}/{json_key}", config.bucket),
        rpo_not_met: report
            .targets
            .iter()
            .filter(|t| !t.rpo_met)
            .map(|t| t.target.clone())
            .collect(),
        rto_not_met: report
            .targets
            .iter()
            .filter(|t| t.rto_met == Some(false))
            .map(|t| t.target.clone())
            .collect(),
        summary,
        month,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use backup_core::resources::{ExecutionRecord, MachineKind};
    use backup_core::testing::{FakeExecutions, FakeExportStore, FixedClock};
    use serde_json::json;
    use time::macros::datetime;

    const BACKUP_MACHINE: &str = "arn:aws:states:eu-west-1:1:stateMachine:ecb";
    const RESTORE_MACHINE: &str = "arn:aws:states:eu-west-1:1:stateMachine:ecb-restore";

    fn manifest(export: &str, at: &str) -> Vec<u8> {
        json!({
            "manifestVersion": 4, "tool": "elasticache-backup", "snapshotName": export, "exportName": export,
            "bucket": "b",
            "source": {"replicationGroupId": "orders", "role": "replica", "clusterMode": "disabled", "shardCount": 1},
            "execution": {"name": format!("run-{export}")},
            "snapshot": {"status": "available", "resumed": false, "startedAt": at, "deadline": at},
            "verifiedAt": at,
            "totals": {"objects": 1, "keys": 10, "keysWithExpiry": 0, "bytes": 99},
            "objects": [{"key": format!("{export}-0001.rdb"), "sizeBytes": 99, "sha256": "cd".repeat(32),
                         "rdb": {"magic": "REDIS", "version": 10, "crc64": "0", "databases": {}, "keys": 10,
                                 "keysWithExpiry": 0, "types": {}, "encodings": {}, "functions": 0}}],
            "timings": {}
        })
        .to_string()
        .into_bytes()
    }

    fn deps(policy: Option<&str>) -> EvidenceDeps<FakeExportStore, FakeExecutions, FixedClock> {
        let store = FakeExportStore::with_bucket("b");
        for (i, day) in (1..=30).enumerate() {
            let export = format!("ecb-orders-{i:02}");
            let at = format!("2026-11-{day:02}T03:00:00Z");
            store.put_bytes(
                "b",
                &format!("{export}.manifest.json"),
                manifest(&export, &at),
                datetime!(2026-11-01 03:20 UTC),
            );
        }
        store.put_bytes(
            "b",
            "ecb-orders-03.restore-drill-1.json",
            json!({"kind": "drill", "verdict": "verified", "execution": {"name": "drill-1"},
                   "manifest": "s3://b/ecb-orders-03.manifest.json", "source": "orders",
                   "verifiedAt": "2026-11-08T05:10:00Z", "rtoSeconds": 600, "verification": {"match": true}})
            .to_string()
            .into_bytes(),
            datetime!(2026-11-08 05:10 UTC),
        );
        store.put_bytes(
            "b",
            "retention-reports/2026-11-10.json",
            json!({"dryRun": false, "at": "2026-11-10T04:00:00Z",
                   "targets": [{"target": "orders", "kind": "replication-group", "kept": [], "deleted": ["ecb-orders-old"]}]})
            .to_string()
            .into_bytes(),
            datetime!(2026-11-10 04:00 UTC),
        );
        let executions = FakeExecutions::default();
        executions.add(ExecutionRecord {
            name: "nightly-7".into(),
            machine_arn: BACKUP_MACHINE.into(),
            machine: MachineKind::Backup,
            input: json!({"replicationGroupId": "orders"}),
            status: "FAILED".into(),
            started_at: datetime!(2026-11-07 03:00 UTC),
            stopped_at: Some(datetime!(2026-11-07 03:30 UTC)),
            error: Some("ExportRejected".into()),
            cause: Some("CopySnapshot refused".into()),
        });
        let env = |k: &str| match k {
            "BACKUP_BUCKET" => Some("b".to_string()),
            "EVIDENCE_POLICY" => policy.map(str::to_string),
            "STATE_MACHINE_ARN" => Some(BACKUP_MACHINE.to_string()),
            "RESTORE_STATE_MACHINE_ARN" => Some(RESTORE_MACHINE.to_string()),
            _ => None,
        };
        EvidenceDeps {
            store,
            executions,
            clock: FixedClock::at(datetime!(2026-12-01 06:00 UTC)),
            config: EvidenceConfig::load(&Env::from_lookup(env)).unwrap(),
        }
    }

    const POLICY: &str = r#"{"schedules": [{"name": "nightly", "scheduleExpression": "cron(0 3 * * ? *)",
        "timezone": "UTC", "rpoHours": 25, "targets": ["orders"], "selector": null}],
        "drills": [{"name": "weekly", "scheduleExpression": "cron(0 5 ? * SUN *)", "timezone": "UTC",
        "target": "orders", "rtoMinutes": 15, "vault": false}], "bucket": "b", "drBucket": null, "vaultBucket": null}"#;

    fn event(text: &str) -> LambdaEvent<serde_json::Value> {
        LambdaEvent::new(
            serde_json::from_str(text).unwrap(),
            lambda_runtime::Context::default(),
        )
    }

    #[tokio::test]
    async fn writes_the_previous_months_report_tagged_verified() {
        let d = deps(Some(POLICY));
        let out = function_handler(
            event(include_str!("../../../events/evidence/previous-month.json")),
            &d,
        )
        .await
        .unwrap();
        assert_eq!(out.month, "2026-11");
        assert_eq!(out.html, "s3://b/evidence/2026-11.html");
        assert!(out.rpo_not_met.is_empty(), "{out:?}");
        assert!(out.rto_not_met.is_empty(), "{out:?}");
        let tagged = d.store.tagged.lock().unwrap().clone();
        for key in ["evidence/2026-11.html", "evidence/2026-11.json"] {
            let (_, tags) = &tagged[&("b".to_string(), key.to_string())];
            assert_eq!(
                tags,
                &vec![(
                    "elasticache-backup:verified".to_string(),
                    "true".to_string()
                )]
            );
        }
        let json: serde_json::Value =
            serde_json::from_slice(&d.store.get("b", "evidence/2026-11.json").unwrap()).unwrap();
        let t = &json["targets"][0];
        assert_eq!(t["target"], "orders");
        assert_eq!(t["verifiedBackups"].as_array().unwrap().len(), 30);
        assert_eq!(t["failedRuns"][0]["error"], "ExportRejected");
        assert_eq!(t["drills"][0]["rtoSeconds"], 600);
        assert_eq!(t["retentionDeletions"][0]["exportName"], "ecb-orders-old");
        assert_eq!(t["rpoMet"], true);
        assert_eq!(t["rtoMet"], true);
        // Both state machines were read from the window's start.
        let calls = d.executions.calls.lock().unwrap().clone();
        assert_eq!(calls.len(), 2);
        assert!(
            calls
                .iter()
                .all(|(_, since)| *since == datetime!(2026-11-01 0:00 UTC))
        );
        let html = String::from_utf8(d.store.get("b", "evidence/2026-11.html").unwrap()).unwrap();
        assert!(html.starts_with("<!DOCTYPE html>"));
    }

    #[tokio::test]
    async fn a_named_month_is_reported_and_a_bad_one_is_invalid_input() {
        let d = deps(Some(POLICY));
        let out = function_handler(event(r#"{"month": "2026-10"}"#), &d)
            .await
            .unwrap();
        assert_eq!(out.month, "2026-10");
        assert_eq!(out.rpo_not_met, ["orders"], "no backup in October");
        assert_eq!(out.rto_not_met, ["orders"], "no drill in October");
        let d = deps(None);
        let named = function_handler(
            event(include_str!("../../../events/evidence/named-month.json")),
            &d,
        )
        .await
        .unwrap();
        assert_eq!(named.month, "2026-11");
        let json = String::from_utf8(d.store.get("b", "evidence/2026-11.json").unwrap()).unwrap();
        assert!(json.contains("no evidence policy"), "{json}");

        let err = function_handler(event(r#"{"month": "November"}"#), &d)
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "InvalidInput");
        assert!(err.to_string().contains("month"), "{err}");
        let err = function_handler(event(r#"{"months": "2026-11"}"#), &d)
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "InvalidInput");
    }

    #[tokio::test]
    async fn a_missing_bucket_fails_the_run() {
        let mut d = deps(None);
        d.config.bucket = "gone".into();
        let err = function_handler(event("{}"), &d).await.unwrap_err();
        assert_eq!(err.error_type(), "ExportRejected");
    }

    #[test]
    fn the_configuration_names_what_is_wrong() {
        let err = EvidenceConfig::load(&Env::from_lookup(|_| None)).unwrap_err();
        assert_eq!(err.variable, "BACKUP_BUCKET");
        let err = EvidenceConfig::load(&Env::from_lookup(|k| match k {
            "BACKUP_BUCKET" => Some("b".into()),
            "EVIDENCE_POLICY" => Some(r#"{"schedules": [{"name": 1}]}"#.into()),
            _ => None,
        }))
        .unwrap_err();
        assert_eq!(err.variable, "EVIDENCE_POLICY");
        assert!(err.rule.contains("schedules[0].name"), "{err}");
    }
}
