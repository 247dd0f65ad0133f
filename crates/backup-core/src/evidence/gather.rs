//! What a report is built from, read through the ports (shared by `ecb evidence` and the evidence function):
//! manifests (`<exportName>.manifest.json`), drill reports (`<exportName>.restore-<execution>.json`) and retention
//! reports (`retention-reports/…`) in the export bucket, the manifests' copies in the DR and vault buckets, and the
//! executions of the backup and restore state machines.
//!
//! Reads: `ListObjectsV2` of the bucket (prefix `ecb-` and `retention-reports/`; of the DR and vault buckets,
//! `ecb-`), `GetObject` of every manifest (the one before the window starts the first gap) and of each report
//! written since the window's start, `ListExecutions` + `DescribeExecution` of each state machine since the
//! window's start.

use futures_util::{StreamExt, TryStreamExt};
use serde_json::Value;

use super::policy::EvidencePolicy;
use super::report::{BackupRecord, DrillRecord, Inputs, Location, RetentionDeletion};
use crate::backup::manifest::Manifest;
use crate::error::BackupError;
use crate::model::Timestamp;
use crate::ports::{Executions, ExportStore, ObjectReader};
use crate::resources::{MachineKind, StoredObject};
use crate::retention::plan::REPORT_PREFIX;
use crate::retention::run::listing_prefix;

/// Objects read at once.
const READS_IN_FLIGHT: usize = 16;

/// Where to look.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sources {
    /// The export bucket.
    pub bucket: String,
    /// The DR region's bucket, if any (policy `drBucket`).
    pub dr_bucket: Option<String>,
    /// The vault bucket, if any (policy `vaultBucket`).
    pub vault_bucket: Option<String>,
    /// The backup state machine's ARN, when known.
    pub backup_machine: Option<String>,
    /// The restore state machine's ARN, when known.
    pub restore_machine: Option<String>,
    /// The policy, when found.
    pub policy: Option<EvidencePolicy>,
}

/// Reads what a report of the window starting at `from` needs. Other buckets that cannot be listed, documents that
/// cannot be read or parsed, and unknown state machines become notes of the report, not errors.
///
/// # Errors
/// Listing the export bucket or the executions of a known state machine fails (the ports' errors).
pub async fn gather<S, E>(
    store: &S,
    executions: &E,
    sources: &Sources,
    from: Timestamp,
) -> Result<Inputs, BackupError>
where
    S: ExportStore + ObjectReader,
    E: Executions,
{
    let bucket = sources.bucket.as_str();
    let mut notes = Vec::new();
    let listing = store.list(bucket, &listing_prefix()).await?;
    let manifest_keys: Vec<&str> = listing
        .iter()
        .map(|o| o.key.as_str())
        .filter(|k| k.ends_with(".manifest.json"))
        .collect();
    let mut copies: Vec<(Location, std::collections::BTreeSet<String>)> = Vec::new();
    for (kind, other) in [("dr", &sources.dr_bucket), ("vault", &sources.vault_bucket)] {
        let Some(other) = other.as_deref() else {
            continue;
        };
        match store.list(other, &listing_prefix()).await {
            Ok(objects) => copies.push((
                Location {
                    kind: kind.into(),
                    bucket: other.into(),
                },
                objects.into_iter().map(|o| o.key).collect(),
            )),
            Err(e) => notes.push(format!(
                "the {kind} bucket {other} could not be listed, so copies there are not shown: {e}"
            )),
        }
    }

    let read = read_all(store, bucket, manifest_keys.iter().copied()).await?;
    let mut backups = Vec::new();
    for (key, bytes) in read {
        match Manifest::from_json(&bytes) {
            Ok(manifest) => {
                let mut locations = vec![Location {
                    kind: "bucket".into(),
                    bucket: bucket.into(),
                }];
                locations.extend(
                    copies
                        .iter()
                        .filter(|(_, keys)| keys.contains(&key))
                        .map(|(l, _)| l.clone()),
                );
                backups.push(BackupRecord {
                    manifest_key: key,
                    manifest,
                    locations,
                });
            }
            Err(e) => notes.push(format!(
                "manifest s3://{bucket}/{key} could not be read: {e}"
            )),
        }
    }

    let since = |o: &&StoredObject| o.last_modified.is_none_or(|t| t >= from);
    let drill_keys = listing
        .iter()
        .filter(|o| o.key.contains(".restore-") && o.key.ends_with(".json"))
        .filter(since)
        .map(|o| o.key.as_str());
    let mut drills = Vec::new();
    for (key, bytes) in read_all(store, bucket, drill_keys).await? {
        match drill_record(&key, &bytes) {
            Ok(d) => drills.push(d),
            Err(e) => notes.push(format!("report s3://{bucket}/{key} could not be read: {e}")),
        }
    }

    let reports = store.list(bucket, REPORT_PREFIX).await?;
    let report_keys = reports
        .iter()
        .filter(|o| o.key.ends_with(".json"))
        .filter(since)
        .map(|o| o.key.as_str());
    let mut deletions = Vec::new();
    for (key, bytes) in read_all(store, bucket, report_keys).await? {
        match retention_deletions(&key, &bytes) {
            Ok(d) => deletions.extend(d),
            Err(e) => notes.push(format!(
                "retention report s3://{bucket}/{key} could not be read: {e}"
            )),
        }
    }

    let mut runs = Vec::new();
    for (kind, arn, what) in [
        (MachineKind::Backup, &sources.backup_machine, "backup"),
        (MachineKind::Restore, &sources.restore_machine, "restore"),
    ] {
        match arn.as_deref() {
            Some(arn) => runs.extend(executions.executions_since(arn, kind, from).await?),
            None => notes.push(format!(
                "the {what} state machine is not known, so its runs are not listed"
            )),
        }
    }
    Ok(Inputs {
        policy: sources.policy.clone(),
        backups,
        drills,
        deletions,
        executions: runs,
        notes,
    })
}

/// The bytes of each of `keys` (a key deleted since the listing is left out).
async fn read_all<'a, S: ObjectReader>(
    store: &S,
    bucket: &str,
    keys: impl Iterator<Item = &'a str>,
) -> Result<Vec<(String, Vec<u8>)>, BackupError> {
    let read: Vec<Option<(String, Vec<u8>)>> =
        futures_util::stream::iter(keys.map(|key| async move {
            Ok::<_, BackupError>(
                store
                    .get_object(bucket, key)
                    .await?
                    .map(|bytes| (key.to_string(), bytes)),
            )
        }))
        .buffer_unordered(READS_IN_FLIGHT)
        .try_collect()
        .await?;
    let mut out: Vec<(String, Vec<u8>)> = read.into_iter().flatten().collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

fn time_field(v: &Value, field: &str) -> Result<Timestamp, String> {
    let text = v
        .get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("no `{field}`"))?;
    Timestamp::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("`{field}` {text:?}: {e}"))
}

/// A restore report's gist (`crate::restore::report`): kind, verdict, execution, backup, source, RTO, match.
///
/// # Errors
/// Not JSON, or `verifiedAt` missing or not RFC 3339.
pub fn drill_record(key: &str, bytes: &[u8]) -> Result<DrillRecord, String> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
    let text = |p: &str| {
        v.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let export_name = v
        .get("manifest")
        .and_then(Value::as_str)
        .and_then(|m| m.rsplit('/').next())
        .and_then(|k| k.strip_suffix(".manifest.json"))
        .map(str::to_string)
        .or_else(|| key.split_once(".restore-").map(|(e, _)| e.to_string()))
        .unwrap_or_default();
    Ok(DrillRecord {
        key: key.into(),
        kind: text("/kind"),
        verdict: text("/verdict"),
        execution: text("/execution/name"),
        export_name,
        source: text("/source").to_lowercase(),
        at: time_field(&v, "verifiedAt")?,
        rto_seconds: v.get("rtoSeconds").and_then(Value::as_u64).unwrap_or(0),
        matches: v
            .pointer("/verification/match")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    })
}

/// The deletions a retention report records (none for a dry run): each target's `deleted` sets.
///
/// # Errors
/// Not JSON, or `at` missing or not RFC 3339.
pub fn retention_deletions(key: &str, bytes: &[u8]) -> Result<Vec<RetentionDeletion>, String> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
    if v.get("dryRun").and_then(Value::as_bool).unwrap_or(false) {
        return Ok(Vec::new());
    }
    let at = time_field(&v, "at")?;
    let mut out = Vec::new();
    for t in v
        .get("targets")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let target = t
            .get("target")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_lowercase();
        for name in t
            .get("deleted")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(name) = name.as_str() {
                out.push(RetentionDeletion {
                    report: key.into(),
                    at,
                    target: target.clone(),
                    export_name: name.into(),
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{FakeExecutions, FakeExportStore};
    use serde_json::json;
    use time::macros::datetime;

    fn manifest(export: &str) -> Vec<u8> {
        json!({
            "manifestVersion": 4, "tool": "elasticache-backup", "exportName": export, "bucket": "b",
            "source": {"replicationGroupId": "orders", "role": "replica", "clusterMode": "disabled", "shardCount": 1},
            "execution": {"name": "x"}, "verifiedAt": "2026-11-02T03:00:00Z",
            "totals": {"objects": 0, "keys": 0, "keysWithExpiry": 0, "bytes": 0}, "objects": [], "timings": {}
        })
        .to_string()
        .into_bytes()
    }

    #[tokio::test]
    async fn copies_in_the_dr_bucket_are_located_and_an_unlistable_vault_is_a_note() {
        let store = FakeExportStore::with_bucket("b");
        let at = datetime!(2026-11-02 03:00 UTC);
        store.put_bytes(
            "b",
            "ecb-orders-1.manifest.json",
            manifest("ecb-orders-1"),
            at,
        );
        store.put_bytes("b", "ecb-orders-2.manifest.json", b"not json".to_vec(), at);
        store.put_bytes(
            "dr",
            "ecb-orders-1.manifest.json",
            manifest("ecb-orders-1"),
            at,
        );
        let sources = Sources {
            bucket: "b".into(),
            dr_bucket: Some("dr".into()),
            vault_bucket: Some("vault".into()),
            backup_machine: Some("arn:m".into()),
            ..Sources::default()
        };
        let executions = FakeExecutions::default();
        let inputs = gather(
            &store,
            &executions,
            &sources,
            datetime!(2026-11-01 0:00 UTC),
        )
        .await
        .unwrap();
        assert_eq!(inputs.backups.len(), 1);
        let kinds: Vec<&str> = inputs.backups[0]
            .locations
            .iter()
            .map(|l| l.kind.as_str())
            .collect();
        assert_eq!(kinds, ["bucket", "dr"]);
        let notes = inputs.notes.join("\n");
        assert!(
            notes.contains("the vault bucket vault could not be listed"),
            "{notes}"
        );
        assert!(
            notes.contains("ecb-orders-2.manifest.json could not be read"),
            "{notes}"
        );
        assert!(
            notes.contains("restore state machine is not known"),
            "{notes}"
        );
        assert_eq!(executions.calls.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_missing_bucket_or_a_failing_listing_of_runs_is_an_error() {
        let store = FakeExportStore::default();
        let sources = Sources {
            bucket: "gone".into(),
            ..Sources::default()
        };
        let executions = FakeExecutions::default();
        let from = datetime!(2026-11-01 0:00 UTC);
        assert!(gather(&store, &executions, &sources, from).await.is_err());
        let store = FakeExportStore::with_bucket("b");
        executions
            .fail_next
            .lock()
            .unwrap()
            .push_back(BackupError::Throttled {
                message: "ListExecutions".into(),
                source: None,
            });
        let sources = Sources {
            bucket: "b".into(),
            backup_machine: Some("arn:m".into()),
            ..Sources::default()
        };
        let err = gather(&store, &executions, &sources, from)
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "Throttled");
    }

    #[test]
    fn reports_are_read_leniently_and_a_dry_run_deletes_nothing() {
        let d = drill_record(
            "ecb-o-1.restore-drill-x.json",
            br#"{"kind": "drill", "verdict": "verified", "execution": {"name": "drill-x"}, "source": "Orders",
                 "verifiedAt": "2026-11-02T05:00:00Z", "rtoSeconds": 42, "verification": {"match": true}}"#,
        )
        .unwrap();
        assert_eq!(
            (
                d.export_name.as_str(),
                d.source.as_str(),
                d.rto_seconds,
                d.matches
            ),
            ("ecb-o-1", "orders", 42, true)
        );
        assert!(drill_record("k", b"{}").unwrap_err().contains("verifiedAt"));
        let dry = br#"{"dryRun": true, "at": "2026-11-02T05:00:00Z", "targets": [{"target": "o", "deleted": ["x"]}]}"#;
        assert!(retention_deletions("r", dry).unwrap().is_empty());
        let real = br#"{"dryRun": false, "at": "2026-11-02T05:00:00Z", "targets": [{"target": "O", "deleted": ["x", 1]}]}"#;
        let got = retention_deletions("r", real).unwrap();
        assert_eq!((got.len(), got[0].target.as_str()), (1, "o"));
        assert!(retention_deletions("r", b"[").is_err());
    }
}
