//! The sweeper of kept snapshots. A backup run that fails keeps its ElastiCache snapshot on purpose (it may be the
//! only copy), so kept snapshots accumulate, cost money and count toward the 20 manual snapshots per node per day.
//! A snapshot is deleted only when every one of these holds:
//!
//! - it is this project's: its name starts `ecb-` **and** it carries the tag [`SNAPSHOT_TAG`] that CreateSnapshot
//!   gave it (a snapshot someone named `ecb-…` by hand has no such tag);
//! - it is `available` (not being created, exported or deleted);
//! - no kept backup set names it (`snapshotName` of a manifest: a run with `keepSourceSnapshot` kept it on purpose,
//!   and a restore may use it);
//! - it is older than `snapshotMinAgeHours` (at least 48: longer than a backup execution can run, so no running
//!   execution still uses it);
//! - a verified backup of the same target holds newer data: its data was taken
//!   ([`crate::backup::manifest::Manifest::data_time`]) after the
//!   snapshot was created. The same target means the same identity — kind (replication group or standalone
//!   cluster), id, and the source's creation time that CreateSnapshot tagged the snapshot with
//!   ([`SOURCE_CREATED_TAG`]) — so the kept snapshot of a group deleted and re-created under its id (maybe the old
//!   group's only copy) is never made redundant by backups of the new group.
//!
//! Everything listed is in the report, deleted or kept with the reason, and in the logs.

use std::collections::BTreeMap;

use crate::model::{SnapshotStatus, TargetIdentity, Timestamp};
use crate::naming::{SNAPSHOT_PREFIX, SNAPSHOT_TAG, SOURCE_CREATED_TAG};
use crate::resources::SnapshotInfo;

use crate::retention::facts::ManifestFacts;
use serde::Serialize;

/// A snapshot the sweeper deletes (or, in a dry run, would).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Swept {
    /// `SnapshotName`.
    pub name: String,
    /// The target it is a snapshot of.
    pub target: String,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: Timestamp,
    /// The later verified backup (`exportName`) that makes it redundant.
    pub later_backup: String,
}

/// A snapshot the sweeper keeps, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeptSnapshot {
    /// `SnapshotName`.
    pub name: String,
    /// Why it stays.
    pub reason: String,
}

/// The sweeper's part of the report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    /// Deleted (or, in a dry run, would be).
    pub deleted: Vec<Swept>,
    /// Kept, with the reason.
    pub kept: Vec<KeptSnapshot>,
}

/// One listed snapshot with its tags (`None`: the tags could not be read, so it is not known to be ours).
pub struct Candidate {
    /// As `DescribeSnapshots` reports it.
    pub info: SnapshotInfo,
    /// `ListTagsForResource` of its ARN.
    pub tags: Option<Vec<(String, String)>>,
}

/// Decides which snapshots go, given the manifests of the backup sets that stay (`manifest key → facts`).
pub fn plan(
    candidates: &[Candidate],
    kept_manifests: &BTreeMap<String, ManifestFacts>,
    known_creations: &BTreeMap<(&'static str, String), Vec<Timestamp>>,
    min_age_hours: u32,
    now: Timestamp,
) -> SweepReport {
    let named: BTreeMap<&str, &str> = kept_manifests
        .values()
        .filter_map(|m| Some((m.snapshot_name.as_deref()?, m.export_name.as_str())))
        .collect();
    let oldest_allowed = now - time::Duration::hours(i64::from(min_age_hours));
    let mut out = SweepReport::default();
    for c in candidates {
        let s = &c.info;
        let keep = |reason: String| KeptSnapshot {
            name: s.name.clone(),
            reason,
        };
        if !s.name.starts_with(&format!("{SNAPSHOT_PREFIX}-")) {
            continue; // not listed as ours at all
        }
        let tagged = c
            .tags
            .as_ref()
            .is_some_and(|t| t.iter().any(|(k, v)| k == SNAPSHOT_TAG && !v.is_empty()));
        if !tagged {
            out.kept.push(keep(format!(
                "not created by elasticache-backup (no {SNAPSHOT_TAG} tag{})",
                if c.tags.is_none() { " readable" } else { "" }
            )));
            continue;
        }
        if s.status != SnapshotStatus::Available {
            out.kept.push(keep(format!("status {}", s.status)));
            continue;
        }
        if let Some(export) = named.get(s.name.as_str()) {
            out.kept.push(keep(format!(
                "kept on purpose by the verified backup {export}"
            )));
            continue;
        }
        let Some(created) = s.created else {
            out.kept.push(keep("no creation time reported".into()));
            continue;
        };
        if created > oldest_allowed {
            out.kept
                .push(keep(format!("younger than {min_age_hours} h")));
            continue;
        }
        let Some(id) = s
            .replication_group_id
            .as_deref()
            .or(s.cache_cluster_id.as_deref())
            .map(str::to_ascii_lowercase)
        else {
            out.kept
                .push(keep("names no replication group or cluster".into()));
            continue;
        };
        let mut target = TargetIdentity {
            kind: if s.replication_group_id.is_some() {
                "replication-group"
            } else {
                "cache-cluster"
            },
            id,
            created_at: c
                .tags
                .as_ref()
                .and_then(|t| t.iter().find(|(k, _)| k == SOURCE_CREATED_TAG))
                .map(|(_, v)| v.clone())
                .unwrap_or_default(),
        };
        // A snapshot taken before CreateSnapshot tagged the source's creation time.
        crate::retention::facts::complete_identity(&mut target, created, known_creations);
        let later = kept_manifests
            .values()
            .filter(|m| m.data_time > created && m.target.as_ref() == Some(&target))
            .max_by_key(|m| m.data_time);
        match later {
            Some(m) => out.deleted.push(Swept {
                name: s.name.clone(),
                target: target.id,
                created_at: created,
                later_backup: m.export_name.clone(),
            }),
            None => out.kept.push(keep(format!(
                "no verified backup of {target} with data taken since it was created ({})",
                created
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default()
            ))),
        }
    }
    out
}
