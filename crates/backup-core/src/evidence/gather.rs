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
