//! The evidence report of a window: its inputs (what the bucket and the execution histories hold: [`Inputs`]),
//! the report per target ([`TargetEvidence`]) and the builder ([`build`]). Pure: no I/O, no clock.
//!
//! JSON (camelCase), as `ecb evidence --format json` prints it and the evidence function writes it:
//!
//! ```json
//! {"from": "2026-11-01T00:00:00Z", "to": "2026-12-01T00:00:00Z",
//!  "targets": [{"target": "orders", "schedules": [{"name": "nightly", …}], "rpoHours": 25, "rtoMinutes": 60,
//!    "runs": [{"execution": "…", "kind": "backup", "status": "SUCCEEDED", "startedAt": "…", "stoppedAt": "…",
//!              "machine": "…", "error": null, "cause": null}],
//!    "verifiedBackups": [{"exportName": "…", "manifest": "…", "dataTime": "…", "verifiedAt": "…", "keys": 1,
//!              "sizeBytes": 1, "objects": [{"key": "…", "sizeBytes": 1, "sha256": "…"}],
//!              "locations": [{"kind": "bucket", "bucket": "…"}], "execution": "…"}],
//!    "failedRuns": [{"execution": "…", "error": "…", "cause": "…", "startedAt": "…", "machine": "…"}],
//!    "drills": [{"execution": "…", "rtoSeconds": 312, "match": true, "verdict": "verified", "at": "…",
//!                "report": "…"}],
//!    "retentionDeletions": [{"exportName": "…", "at": "…", "report": "…"}],
//!    "largestGapHours": 24.1, "rpoMet": true, "rtoMet": true}],
//!  "notes": ["…"]}
//! ```
//!
//! `notes` (left out when empty) says what the report could not see: no policy found, a bucket that could not be
//! listed, reports that could not be read.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::policy::{DEFAULT_RPO_HOURS, EvidencePolicy, SchedulePolicy};
use crate::backup::manifest::Manifest;
use crate::model::Timestamp;
use crate::resources::{ExecutionRecord, MachineKind};

/// Where a copy of a backup is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    /// `bucket` (the export bucket), `dr` (the DR region's copy) or `vault` (the vault account's bucket).
    pub kind: String,
    /// The bucket name.
    pub bucket: String,
}

/// A verified backup as found: its manifest and where copies of the manifest are.
#[derive(Debug, Clone, PartialEq)]
pub struct BackupRecord {
    /// The manifest's key.
    pub manifest_key: String,
    /// The manifest.
    pub manifest: Manifest,
    /// The buckets holding it (the export bucket first).
    pub locations: Vec<Location>,
}

/// A drill (or restore) report found next to a manifest (`<exportName>.restore-<execution>.json`).
#[derive(Debug, Clone, PartialEq)]
pub struct DrillRecord {
    /// The report's key.
    pub key: String,
    /// `drill` or `restore`.
    pub kind: String,
    /// `verified` or `mismatch`.
    pub verdict: String,
    /// The restore execution's name.
    pub execution: String,
    /// The export name of the backup restored.
    pub export_name: String,
    /// The source the report names (`source`), lower-cased, used when the manifest is not found.
    pub source: String,
    /// When the data was verified (`verifiedAt`).
    pub at: Timestamp,
    /// The measured RTO, seconds.
    pub rto_seconds: u64,
    /// `verification.match`.
    pub matches: bool,
}

/// One deletion of a retention report (`retention-reports/…`; dry runs are not deletions).
#[derive(Debug, Clone, PartialEq)]
pub struct RetentionDeletion {
    /// The report's key.
    pub report: String,
    /// When the retention run read the bucket (`at`).
    pub at: Timestamp,
    /// The target (`targets[].target`), lower-cased.
    pub target: String,
    /// The backup set deleted (`targets[].deleted[]`).
    pub export_name: String,
}

/// Everything a report is built from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inputs {
    /// The policy, when one was found.
    pub policy: Option<EvidencePolicy>,
    /// Every verified backup found (before the window too: the last one before it starts the first gap).
    pub backups: Vec<BackupRecord>,
    /// Drill and restore reports.
    pub drills: Vec<DrillRecord>,
    /// Retention deletions.
    pub deletions: Vec<RetentionDeletion>,
    /// Executions of the backup and restore state machines.
    pub executions: Vec<ExecutionRecord>,
    /// What could not be seen (carried into the report's `notes`).
    pub notes: Vec<String>,
}

/// The report.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EvidenceReport {
    /// The window's start.
    #[serde(with = "time::serde::rfc3339")]
    pub from: Timestamp,
    /// The window's end.
    #[serde(with = "time::serde::rfc3339")]
    pub to: Timestamp,
    /// Per target, by name.
    pub targets: Vec<TargetEvidence>,
    /// What the report could not see.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// The evidence of one target.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetEvidence {
    /// The target id, lower-cased.
    pub target: String,
    /// The schedules that back it up (a selector schedule for a target no schedule names).
    pub schedules: Vec<ScheduleRef>,
    /// The RPO held to, hours: the strictest of its schedules', [`DEFAULT_RPO_HOURS`] without one.
    pub rpo_hours: f64,
    /// The RTO held to, minutes: the strictest of its drills'; `null` when no drill is configured.
    pub rto_minutes: Option<f64>,
    /// Every backup and drill execution started in the window, oldest first.
    pub runs: Vec<RunEvidence>,
    /// Every verified backup whose data time is in the window, oldest first.
    pub verified_backups: Vec<BackupEvidence>,
    /// The runs that failed, timed out or were aborted.
    pub failed_runs: Vec<FailedRun>,
    /// Every drill verified in the window.
    pub drills: Vec<DrillEvidence>,
    /// Every backup set retention deleted in the window.
    pub retention_deletions: Vec<DeletionEvidence>,
    /// The largest gap between consecutive verified backups' data times, hours, counted from the window's start
    /// (or the last backup before it) to the first and from the last to the window's end; the whole window (or
    /// from the last backup before it) when there is none.
    pub largest_gap_hours: f64,
    /// `largestGapHours <= rpoHours`.
    pub rpo_met: bool,
    /// Every drill in the window matched and met the RTO, none failed, and at least one ran; `null` when no drill
    /// is configured for the target.
    pub rto_met: Option<bool>,
}

/// A schedule as the report names it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleRef {
    /// Name.
    pub name: String,
    /// Expression.
    pub schedule_expression: String,
    /// Time zone.
    pub timezone: Option<String>,
    /// Its RPO, hours.
    pub rpo_hours: f64,
    /// The tag selector, for a fleet schedule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selector: Option<BTreeMap<String, String>>,
}

/// One execution.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunEvidence {
    /// Execution name.
    pub execution: String,
    /// `backup` or `drill`.
    pub kind: String,
    /// Its status.
    pub status: String,
    /// Start.
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: Timestamp,
    /// End.
    #[serde(with = "time::serde::rfc3339::option")]
    pub stopped_at: Option<Timestamp>,
    /// State machine ARN.
    pub machine: String,
    /// Error name of a failed run.
    pub error: Option<String>,
    /// Cause of a failed run.
    pub cause: Option<String>,
}

/// One failed run.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FailedRun {
    /// Execution name.
    pub execution: String,
    /// Error name (`States.Timeout`, `Aborted` when the execution gives none).
    pub error: String,
    /// Cause (empty when none).
    pub cause: String,
    /// Start.
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: Timestamp,
    /// State machine ARN.
    pub machine: String,
}

/// One verified backup.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupEvidence {
    /// Export name.
    pub export_name: String,
    /// Manifest key.
    pub manifest: String,
    /// When the data was taken ([`Manifest::data_time`]).
    #[serde(with = "time::serde::rfc3339")]
    pub data_time: Timestamp,
    /// When it was verified.
    #[serde(with = "time::serde::rfc3339")]
    pub verified_at: Timestamp,
    /// Keys over all shards.
    pub keys: u64,
    /// Bytes over all shards.
    pub size_bytes: u64,
    /// Each shard object.
    pub objects: Vec<ObjectEvidence>,
    /// Where copies are.
    pub locations: Vec<Location>,
    /// The backup execution.
    pub execution: String,
}

/// One shard object.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectEvidence {
    /// Key.
    pub key: String,
    /// Size, bytes.
    pub size_bytes: u64,
    /// SHA-256, hex.
    pub sha256: String,
}

/// One drill.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DrillEvidence {
    /// Execution name.
    pub execution: String,
    /// Restore requested to data verified, seconds.
    pub rto_seconds: u64,
    /// The restored data matched the manifest.
    #[serde(rename = "match")]
    pub matches: bool,
    /// `verified` or `mismatch`.
    pub verdict: String,
    /// When verified.
    #[serde(with = "time::serde::rfc3339")]
    pub at: Timestamp,
    /// The backup drilled.
    pub export_name: String,
    /// The report's key.
    pub report: String,
}

/// One retention deletion.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletionEvidence {
    /// The backup set deleted.
    pub export_name: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: Timestamp,
    /// The retention report's key.
    pub report: String,
}

fn in_window(t: Timestamp, from: Timestamp, to: Timestamp) -> bool {
    from <= t && t <= to
}

fn hours(from: Timestamp, to: Timestamp) -> f64 {
    (to - from).as_seconds_f64().max(0.0) / 3600.0
}

/// The target of a manifest: its source's id, lower-cased (`?` when it names none).
pub fn manifest_target(m: &Manifest) -> String {
    m.target_identity()
        .map_or_else(|| "?".to_string(), |t| t.id.to_lowercase())
}

/// The largest gap, hours, between `before` (the data time of the last backup before the window, if any, else
/// `from`), each of `times` (data times in the window, any order) and `to`.
pub fn largest_gap_hours(
    times: &[Timestamp],
    before: Option<Timestamp>,
    from: Timestamp,
    to: Timestamp,
) -> f64 {
    let mut sorted = times.to_vec();
    sorted.sort();
    let mut prev = before.unwrap_or(from);
    let mut largest = 0.0_f64;
    for t in sorted.into_iter().chain(std::iter::once(to)) {
        largest = largest.max(hours(prev, t));
        prev = t;
    }
    largest
}

/// The report of the window [`from`, `to`] from `inputs`, for every target — or only `only` (lower-cased) when
/// given. Targets: those the policy's schedules and drills name, and any seen in a manifest or execution in the
/// window. A target no schedule names takes the selector schedules when there are any (ElastiCache tags are not
/// read: a target backed up without a schedule naming it is taken to be under them).
pub fn build(
    inputs: &Inputs,
    from: Timestamp,
    to: Timestamp,
    only: Option<&str>,
) -> EvidenceReport {
    let policy = inputs.policy.clone().unwrap_or_default();
    let mut notes = inputs.notes.clone();
    if inputs.policy.is_none() {
        notes.insert(
            0,
            format!(
                "no evidence policy was found (Terraform output evidence_policy): every target is held to the default RPO of {DEFAULT_RPO_HOURS} h and no drill is configured"
            ),
        );
    }
    // Manifests by export name, for drills and restore executions that name a backup.
    let export_target: BTreeMap<&str, String> = inputs
        .backups
        .iter()
        .map(|b| {
            (
                b.manifest.export_name.as_str(),
                manifest_target(&b.manifest),
            )
        })
        .collect();
    let execution_target = |e: &ExecutionRecord| -> Option<String> {
        e.named_target().or_else(|| {
            e.manifest_export()
                .and_then(|x| export_target.get(x.as_str()).cloned())
        })
    };
    let drill_target = |d: &DrillRecord| -> String {
        export_target
            .get(d.export_name.as_str())
            .cloned()
            .unwrap_or_else(|| d.source.to_lowercase())
    };

    let mut names: BTreeSet<String> = BTreeSet::new();
    for s in &policy.schedules {
        names.extend(s.targets.iter().cloned());
    }
    names.extend(policy.drills.iter().map(|d| d.target.clone()));
    for b in &inputs.backups {
        if in_window(b.manifest.data_time(), from, to) {
            names.insert(manifest_target(&b.manifest));
        }
    }
    for e in &inputs.executions {
        let relevant = e.machine == MachineKind::Backup || e.is_drill();
        if let Some(t) =
            execution_target(e).filter(|_| relevant && in_window(e.started_at, from, to))
        {
            names.insert(t);
        }
    }
    let selectors: Vec<&SchedulePolicy> = policy
        .schedules
        .iter()
        .filter(|s| s.selector.is_some() && s.targets.is_empty())
        .collect();

    let targets = names
        .into_iter()
        .filter(|t| only.is_none_or(|o| o == t))
        .map(|target| {
            let mut schedules: Vec<&SchedulePolicy> = policy
                .schedules
                .iter()
                .filter(|s| s.targets.contains(&target))
                .collect();
            if schedules.is_empty() {
                schedules = selectors.clone();
            }
            let rpo_hours = schedules
                .iter()
                .map(|s| s.rpo_hours)
                .reduce(f64::min)
                .unwrap_or(DEFAULT_RPO_HOURS);
            let rto_minutes = policy
                .drills
                .iter()
                .filter(|d| d.target == target)
                .map(|d| d.rto_minutes)
                .reduce(f64::min);

            let mut runs: Vec<&ExecutionRecord> = inputs
                .executions
                .iter()
                .filter(|e| e.machine == MachineKind::Backup || e.is_drill())
                .filter(|e| in_window(e.started_at, from, to))
                .filter(|e| execution_target(e).as_deref() == Some(target.as_str()))
                .collect();
            runs.sort_by(|a, b| (a.started_at, &a.name).cmp(&(b.started_at, &b.name)));

            let mut mine: Vec<&BackupRecord> = inputs
                .backups
                .iter()
                .filter(|b| manifest_target(&b.manifest) == target)
                .collect();
            mine.sort_by_key(|b| (b.manifest.data_time(), b.manifest.export_name.clone()));
            let before = mine
                .iter()
                .map(|b| b.manifest.data_time())
                .filter(|t| *t < from)
                .max();
            let verified: Vec<&BackupRecord> = mine
                .into_iter()
                .filter(|b| in_window(b.manifest.data_time(), from, to))
                .collect();
            let times: Vec<Timestamp> = verified.iter().map(|b| b.manifest.data_time()).collect();
            let largest_gap_hours = largest_gap_hours(&times, before, from, to);

            let mut drills: Vec<DrillEvidence> = inputs
                .drills
                .iter()
                .filter(|d| d.kind == "drill" && in_window(d.at, from, to))
                .filter(|d| drill_target(d) == target)
                .map(|d| DrillEvidence {
                    execution: d.execution.clone(),
                    rto_seconds: d.rto_seconds,
                    matches: d.matches,
                    verdict: d.verdict.clone(),
                    at: d.at,
                    export_name: d.export_name.clone(),
                    report: d.key.clone(),
                })
                .collect();
            drills.sort_by(|a, b| (a.at, &a.execution).cmp(&(b.at, &b.execution)));
            let failed_drill = runs.iter().any(|e| e.is_drill() && e.failed());
            let rto_met = rto_minutes.map(|rto| {
                !drills.is_empty()
                    && !failed_drill
                    && drills
                        .iter()
                        .all(|d| d.matches && (d.rto_seconds as f64) <= rto * 60.0)
            });

            let mut retention_deletions: Vec<DeletionEvidence> = inputs
                .deletions
                .iter()
                .filter(|d| d.target == target && in_window(d.at, from, to))
                .map(|d| DeletionEvidence {
                    export_name: d.export_name.clone(),
                    at: d.at,
                    report: d.report.clone(),
                })
                .collect();
            retention_deletions.sort_by(|a, b| (a.at, &a.export_name).cmp(&(b.at, &b.export_name)));

            TargetEvidence {
                schedules: schedules
                    .iter()
                    .map(|s| ScheduleRef {
                        name: s.name.clone(),
                        schedule_expression: s.schedule_expression.clone(),
                        timezone: s.timezone.clone(),
                        rpo_hours: s.rpo_hours,
                        selector: s.selector.clone(),
                    })
                    .collect(),
                rpo_hours,
                rto_minutes,
                failed_runs: runs
                    .iter()
                    .filter(|e| e.failed())
                    .map(|e| FailedRun {
                        execution: e.name.clone(),
                        error: e.error.clone().unwrap_or_else(|| e.status.clone()),
                        cause: e.cause.clone().unwrap_or_default(),
                        started_at: e.started_at,
                        machine: e.machine_arn.clone(),
                    })
                    .collect(),
                runs: runs
                    .iter()
                    .map(|e| RunEvidence {
                        execution: e.name.clone(),
                        kind: if e.is_drill() { "drill" } else { "backup" }.into(),
                        status: e.status.clone(),
                        started_at: e.started_at,
                        stopped_at: e.stopped_at,
                        machine: e.machine_arn.clone(),
                        error: e.error.clone(),
                        cause: e.cause.clone(),
                    })
                    .collect(),
                verified_backups: verified
                    .iter()
                    .map(|b| BackupEvidence {
                        export_name: b.manifest.export_name.clone(),
                        manifest: b.manifest_key.clone(),
                        data_time: b.manifest.data_time(),
                        verified_at: b.manifest.verified_at,
                        keys: b.manifest.totals.keys,
                        size_bytes: b.manifest.totals.bytes,
                        objects: b
                            .manifest
                            .objects
                            .iter()
                            .map(|o| ObjectEvidence {
                                key: o.key.clone(),
                                size_bytes: o.size_bytes,
                                sha256: o.sha256.clone(),
                            })
                            .collect(),
                        locations: b.locations.clone(),
                        execution: b.manifest.execution.name.clone(),
                    })
                    .collect(),
                drills,
                retention_deletions,
                rpo_met: largest_gap_hours <= rpo_hours,
                largest_gap_hours,
                rto_met,
                target,
            }
        })
        .collect();
    EvidenceReport {
        from,
        to,
        targets,
        notes,
    }
}

/// Every target the report could name: the policy's and those seen in the window (for an unknown `--target`'s
/// message).
pub fn known_targets(inputs: &Inputs, from: Timestamp, to: Timestamp) -> Vec<String> {
    build(inputs, from, to, None)
        .targets
        .into_iter()
        .map(|t| t.target)
        .collect()
}

#[cfg(test)]
mod tests;
