//! What retention and the sweeper both read of the backups: the facts of each manifest, and the completion of a
//! target identity recorded without its creation time.

use std::collections::BTreeMap;

use crate::backup::manifest::Manifest;
use crate::model::{TargetIdentity, Timestamp};

/// What retention and the sweeper need of one manifest. Only this is kept of each manifest read (a manifest holds
/// per-object RDB summaries, key samples and timings, kilobytes each): thousands of backups fit in a small function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestFacts {
    /// `exportName`.
    pub export_name: String,
    /// `snapshotName`: a kept snapshot named by a set that stays is kept too.
    pub snapshot_name: Option<String>,
    /// The target ([`Manifest::target_identity`]); `None` when the manifest names no source.
    pub target: Option<TargetIdentity>,
    /// When its data was taken ([`Manifest::data_time`]).
    pub data_time: Timestamp,
    /// The keys of its shard objects, as the manifest lists them.
    pub object_keys: Vec<String>,
}

impl ManifestFacts {
    /// The facts of `m`.
    pub fn of(m: &Manifest) -> Self {
        Self {
            export_name: m.export_name.clone(),
            snapshot_name: m.snapshot_name.clone(),
            target: m.target_identity(),
            data_time: m.data_time(),
            object_keys: m.objects.iter().map(|o| o.key.clone()).collect(),
        }
    }
}

/// The creation times recorded per target (kind and id), oldest first, from manifests that record one.
pub fn known_creations(
    manifests: &BTreeMap<String, ManifestFacts>,
) -> BTreeMap<(&'static str, String), Vec<Timestamp>> {
    let mut known: BTreeMap<(&'static str, String), Vec<Timestamp>> = BTreeMap::new();
    for t in manifests.values().filter_map(|m| m.target.as_ref()) {
        if let Ok(created) = Timestamp::parse(
            &t.created_at,
            &time::format_description::well_known::Rfc3339,
        ) {
            known
                .entry((t.kind, t.id.clone()))
                .or_default()
                .push(created);
        }
    }
    for times in known.values_mut() {
        times.sort();
        times.dedup();
    }
    known
}

/// Completes an identity that records no creation time (a manifest written before it was recorded, a snapshot
/// taken before it was tagged): it belongs to the incarnation of its kind and id created last at or before `at`
/// (when its data was taken). None such (its data predates every known creation): it stays apart, an older
/// incarnation's. Without this every upgraded target would be two, each keeping its own newest backups forever.
pub fn complete_identity(
    target: &mut TargetIdentity,
    at: Timestamp,
    known: &BTreeMap<(&'static str, String), Vec<Timestamp>>,
) {
    if !target.created_at.is_empty() {
        return;
    }
    if let Some(created) = known
        .get(&(target.kind, target.id.clone()))
        .and_then(|times| times.iter().rev().find(|t| **t <= at))
    {
        target.created_at = crate::model::rfc3339(*created);
    }
}
