//! Retention by backup set. A backup set is what one verified run left in the export bucket: its manifest
//! (`<exportName>.manifest.json`), its shard objects (`<exportName>-<id>.rdb`) and the reports of restores from it
//! (`<exportName>.restore-<execution>.json`). Per target — its identity: kind (replication group or standalone
//! cluster), id and creation time, so a group re-created under the same id is another target — the sets are ordered by
//! when their data was taken ([`Manifest::data_time`](crate::backup::manifest::Manifest::data_time), never
//! `verifiedAt`: overlapping runs finish in either order); a set is kept when it is one of the `keepLast` newest or its
//! data was taken within `keepDays` days (whichever keeps more), and the newest set of a target is always kept — also
//! for a target that is no longer backed up. Any other set is deleted whole, manifest first: a set interrupted half-way
//! is no longer a backup (a restore resolves backups by their manifests) and its leftovers are exports without a
//! manifest.
//!
//! Exports without a manifest (a run that failed verification, or the leftovers above) are deleted once older than
//! `graceHours` (at least 48: longer than any backup execution may run, its two deadlines being at most 22 h each,
//! so no running execution still writes or reads them). Restore reports of deleted sets go with them.
//!
//! Manifests are read [`MANIFEST_READS_IN_FLIGHT`] at a time and only their [`ManifestFacts`] kept (5,000 manifests
//! of ~14 KB each added 3.8 MB to the process, measured on the fake store); a manifest that cannot be read fails the
//! run before anything is deleted, and one that is not a manifest is named and its set kept.
//!
//! Dry-run by default: the report says what would be deleted. The report is returned, logged and written to
//! `retention-reports/<time>.json`. Deleting on the versioned bucket adds delete markers: the data stays as
//! noncurrent versions until the bucket's lifecycle rule expires them, which S3 Object Lock retention governs.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::error::BackupError;
use crate::model::{TargetIdentity, Timestamp};
use crate::resources::StoredObject;
pub use crate::retention::facts::{ManifestFacts, complete_identity, known_creations};
use crate::retention::sweep::SweepReport;

/// Prefix of the reports this function writes.
pub const REPORT_PREFIX: &str = "retention-reports/";
/// The least grace period, hours: longer than a backup execution can run (two deadlines of at most 22 h each).
pub const MIN_GRACE_HOURS: u32 = 48;
/// How old a kept snapshot must be before the sweeper may delete it, by default, hours.
pub const DEFAULT_SNAPSHOT_MIN_AGE_HOURS: u32 = 72;

/// The invocation's input (the schedule's), camelCase JSON; unknown fields are refused.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RetentionRequest {
    /// The export bucket; default `BACKUP_BUCKET`.
    #[serde(default)]
    pub bucket: Option<String>,
    /// Newest verified backups kept per target, 1-1000.
    pub keep_last: u32,
    /// Days within which every verified backup is kept, 0-3650 (0: only `keepLast` counts).
    #[serde(default)]
    pub keep_days: u32,
    /// Report only (default `true`): nothing is deleted unless this is `false`.
    #[serde(default = "yes")]
    pub dry_run: bool,
    /// Hours after which an export without a manifest is deleted, 48-8760 (default 48).
    #[serde(default = "min_grace")]
    pub grace_hours: u32,
    /// Hours a kept snapshot must be old before the sweeper may delete it, 48-8760 (default 72).
    #[serde(default = "default_snapshot_age")]
    pub snapshot_min_age_hours: u32,
}

fn default_snapshot_age() -> u32 {
    DEFAULT_SNAPSHOT_MIN_AGE_HOURS
}

fn yes() -> bool {
    true
}

fn min_grace() -> u32 {
    MIN_GRACE_HOURS
}

/// What one target keeps and loses (export names, newest data first).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetReport {
    /// The target (replication group or standalone cluster id, lower-cased).
    pub target: String,
    /// `replication-group` or `cache-cluster`.
    pub kind: String,
    /// The target's creation time (RFC 3339), when its manifests record it.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub created_at: String,
    /// Sets kept.
    pub kept: Vec<String>,
    /// Sets deleted (or, in a dry run, that would be).
    pub deleted: Vec<String>,
}

/// The whole run's report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RetentionReport {
    /// Nothing was deleted.
    pub dry_run: bool,
    /// The bucket.
    pub bucket: String,
    /// When the bucket was read.
    #[serde(with = "time::serde::rfc3339")]
    pub at: Timestamp,
    /// `keepLast`, `keepDays`, `graceHours` as applied.
    pub policy: BTreeMap<String, u32>,
    /// Per target.
    pub targets: Vec<TargetReport>,
    /// Exports without a manifest deleted (older than the grace period).
    pub orphans_deleted: Vec<String>,
    /// Exports without a manifest kept (younger than the grace period).
    pub orphans_kept: Vec<String>,
    /// Manifests that could not be read: their sets are kept, whatever their age.
    pub unreadable_manifests: Vec<String>,
    /// Kept snapshots of failed runs: deleted (or, in a dry run, would be) and kept, with the reason.
    pub snapshots: SweepReport,
    /// Objects deleted (or that would be), and their bytes.
    pub objects_deleted: u64,
    /// Bytes of those objects.
    pub bytes_deleted: u64,
    /// Deletions that failed (`key: error`); the run then fails after writing the report.
    pub errors: Vec<String>,
    /// Where the report was written.
    pub report_key: String,
}

/// One verified backup found in the bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupSet {
    /// `exportName`.
    pub export_name: String,
    /// The target it backs up.
    pub target: TargetIdentity,
    /// When its data was taken ([`Manifest::data_time`](crate::backup::manifest::Manifest::data_time)): what
    /// orders the sets of a target.
    pub data_time: Timestamp,
    /// Its objects in deletion order: the manifest first, then the shard objects and restore reports.
    pub keys: Vec<String>,
}

/// What to delete: whole sets, and exports without a manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Per target, kept and deleted export names.
    pub targets: Vec<TargetReport>,
    /// Sets to delete.
    pub delete: Vec<BackupSet>,
    /// Objects of exports without a manifest, older than the grace period.
    pub orphans_deleted: Vec<String>,
    /// Objects of exports without a manifest, younger than it.
    pub orphans_kept: Vec<String>,
}

/// Manifests read at once (ranged by the function's memory and S3's per-prefix request rate, 5,500 GET/s, far
/// above this).
pub const MANIFEST_READS_IN_FLIGHT: usize = 16;

/// `<exportName>` of a shard object key `<exportName>-<id>.rdb`, if it is one (the id as
/// [`crate::backup::export::is_shard_key`] accepts it: 1–64 ASCII letters or digits).
pub fn export_of_shard(key: &str) -> Option<&str> {
    let stem = key.strip_suffix(".rdb")?;
    let (export, _) = stem.rsplit_once('-')?;
    (!export.is_empty() && crate::backup::export::is_shard_key(export, key)).then_some(export)
}

/// Decides, from the bucket's listing and its readable manifests (`manifest key → facts`), what goes.
pub fn plan(
    listing: &[StoredObject],
    manifests: &BTreeMap<String, ManifestFacts>,
    request: &RetentionRequest,
    now: Timestamp,
) -> Plan {
    let manifest_of_export: BTreeMap<&str, &ManifestFacts> = manifests
        .values()
        .map(|m| (m.export_name.as_str(), m))
        .collect();
    // The objects of each set, from the listing (what is really there) and the manifest's own list.
    let mut sets: BTreeMap<&str, BackupSet> = BTreeMap::new();
    for (key, m) in manifests {
        let target = m.target.clone().unwrap_or_else(|| TargetIdentity {
            kind: "unknown",
            id: format!("(unknown source of {})", m.export_name),
            created_at: String::new(),
        });
        let mut keys = vec![key.clone()];
        let mut members: BTreeSet<String> = m.object_keys.iter().cloned().collect();
        let reports = format!("{}.restore-", m.export_name);
        for o in listing {
            let shard = export_of_shard(&o.key) == Some(m.export_name.as_str());
            if shard || (o.key.starts_with(&reports) && o.key.ends_with(".json")) {
                members.insert(o.key.clone());
            }
        }
        keys.extend(members);
        sets.insert(
            m.export_name.as_str(),
            BackupSet {
                export_name: m.export_name.clone(),
                target,
                data_time: m.data_time,
                keys,
            },
        );
    }

    let mut by_target: BTreeMap<TargetIdentity, Vec<&BackupSet>> = BTreeMap::new();
    for set in sets.values() {
        by_target.entry(set.target.clone()).or_default().push(set);
    }
    let recent = now - time::Duration::days(i64::from(request.keep_days));
    let mut out = Plan::default();
    for (target, mut target_sets) in by_target {
        target_sets.sort_by(|a, b| {
            b.data_time
                .cmp(&a.data_time)
                .then(b.export_name.cmp(&a.export_name))
        });
        let mut report = TargetReport {
            target: target.id,
            kind: target.kind.to_string(),
            created_at: target.created_at,
            ..TargetReport::default()
        };
        for (i, set) in target_sets.into_iter().enumerate() {
            let newest = i == 0;
            let by_count = i < request.keep_last as usize;
            let by_age = request.keep_days > 0 && set.data_time >= recent;
            if newest || by_count || by_age {
                report.kept.push(set.export_name.clone());
            } else {
                report.deleted.push(set.export_name.clone());
                out.delete.push(set.clone());
            }
        }
        out.targets.push(report);
    }

    let grace = now - time::Duration::hours(i64::from(request.grace_hours));
    for o in listing {
        let Some(export) = export_of_shard(&o.key) else {
            continue;
        };
        let ours = export.starts_with(&format!("{}-", crate::naming::SNAPSHOT_PREFIX));
        if !ours || manifest_of_export.contains_key(export) {
            continue;
        }
        // An object without a time is treated as new: kept.
        if o.last_modified.is_some_and(|t| t < grace) {
            out.orphans_deleted.push(o.key.clone());
        } else {
            out.orphans_kept.push(o.key.clone());
        }
    }
    out
}

/// Checks a request's fields against their ranges.
///
/// # Errors
/// `InvalidInput` naming the field and its range.
pub fn validate(request: &RetentionRequest) -> Result<(), BackupError> {
    if !(1..=1000).contains(&request.keep_last) {
        return Err(BackupError::invalid_input(
            "keepLast",
            "must be from 1 to 1000 (the newest backup of a target is always kept)",
        ));
    }
    if request.keep_days > 3650 {
        return Err(BackupError::invalid_input(
            "keepDays",
            "must be from 0 to 3650",
        ));
    }
    if !(MIN_GRACE_HOURS..=8760).contains(&request.snapshot_min_age_hours) {
        return Err(BackupError::invalid_input(
            "snapshotMinAgeHours",
            format!(
                "must be from {MIN_GRACE_HOURS} to 8760 (longer than a backup execution can run)"
            ),
        ));
    }
    if !(MIN_GRACE_HOURS..=8760).contains(&request.grace_hours) {
        return Err(BackupError::invalid_input(
            "graceHours",
            format!(
                "must be from {MIN_GRACE_HOURS} to 8760 (longer than a backup execution can run)"
            ),
        ));
    }
    Ok(())
}
