//! The manifest: what a verified backup holds, written by VerifyExport next to the export as
//! `<exportName>.manifest.json` (see [`crate::naming::manifest_key`]) before the source snapshot is deleted.
//!
//! It is the contract between the backup and everything after it (restore, drills, retention, the operator's CLI):
//! this type is the one definition every writer and reader uses. It is versioned by `manifestVersion`; a reader
//! accepts every version up to [`MANIFEST_VERSION`] and refuses a newer one by name.
//!
//! Versions:
//! - **1** (issue 5): written as ad-hoc JSON; `verifiedAt` and `export.startedAt`/`completedAt` in Rust's `Display`
//!   form (`2026-11-22 3:06:05.0 +00:00:00`), per-database counts with snake_case fields.
//! - **2**: the same fields, every timestamp RFC 3339, every field camelCase.
//! - **3** (restore): per object its shard (`nodeGroupId`, `slots`) and a key sample (`rdb.sample`: the first keys
//!   the checker read, with database and type); the source's node type, replicas per shard, parameter group, subnet
//!   group, security groups, TLS in transit and AUTH (`source.*`). A version 1 or 2 manifest restores with what it
//!   has: shards in object order, no sample check.
//! - **4**: per object the hash slots its keys fall in (`rdb.slots`, computed by the checker from every key), and
//!   `nodeGroupId`/`slots` proven from them: the node group of the snapshot (DescribeSnapshots
//!   `ShowNodeGroupConfig`) that owns every slot of the object's keys, not the Nth node group for the Nth object.
//!   Version 3 mapped objects to node groups by position, an assumption AWS does not document.
//!
//! ```json
//! { "manifestVersion": 2, "tool": "elasticache-backup",
//!   "snapshotName": "ecb-orders-1a2b3c4d", "exportName": "ecb-orders-1a2b3c4d", "bucket": "acme-cache-backups",
//!   "source": { …as in the run document… }, "execution": { "name": "…" }, "snapshot": { … },
//!   "export": { "startedAt": "…", "completedAt": "…" }, "verifiedAt": "2026-11-22T03:06:05Z",
//!   "totals": { "objects": 1, "keys": 100000, "keysWithExpiry": 10000, "bytes": 5501714 },
//!   "objects": [ { "key": "ecb-orders-1a2b3c4d-0001.rdb", "sizeBytes": 5501714, "sha256": "…",
//!                  "rdb": { "magic": "REDIS", "version": 10, "crc64": "…", "redisVersion": "7.0.15",
//!                           "databases": { "0": { "keys": 100000, "keysWithExpiry": 10000 } },
//!                           "keys": 100000, "keysWithExpiry": 10000, "types": { "string": 50000 },
//!                           "encodings": { "string-raw": 50000 }, "functions": 0 } } ],
//!   "timings": { "CreateSnapshot": { … } } }
//! ```

use crate::model::RdbSummary;
use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

use crate::backup::run::{
    BackupRun, Execution, SnapshotProgress, Source, StepTiming, Verification, VerifiedSummary,
};
use crate::error::BackupError;
use crate::model::Timestamp;
use crate::model::VerifiedObject;

/// The version this code writes.
pub const MANIFEST_VERSION: u32 = 4;
/// The `tool` field of every manifest this project writes.
pub const TOOL: &str = "elasticache-backup";

/// A verified backup: one object per shard, each checked end to end. See the module doc for the JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// Format version (see the module doc).
    pub manifest_version: u32,
    /// Always [`TOOL`].
    pub tool: String,
    /// The ElastiCache snapshot the export was made from.
    #[serde(default)]
    pub snapshot_name: Option<String>,
    /// `TargetSnapshotName` of the export; objects are `<exportName>-000N.rdb`.
    pub export_name: String,
    /// The export bucket.
    pub bucket: String,
    /// What was snapshotted.
    #[serde(default)]
    pub source: Option<Source>,
    /// The backup execution.
    #[serde(default)]
    pub execution: Execution,
    /// Snapshot progress and times.
    #[serde(default)]
    pub snapshot: Option<SnapshotProgress>,
    /// When the export was started and found complete.
    #[serde(default)]
    pub export: Option<ExportTimes>,
    /// When the last object was checked.
    #[serde(deserialize_with = "lenient_time::required")]
    #[serde(serialize_with = "time::serde::rfc3339::serialize")]
    pub verified_at: Timestamp,
    /// Sums over the objects.
    pub totals: Totals,
    /// One entry per shard object, sorted by key.
    pub objects: Vec<ManifestObject>,
    /// Per-step timings of the backup execution, keyed by state name.
    #[serde(default)]
    pub timings: BTreeMap<String, StepTiming>,
}

/// The node group each verified object holds, in the objects' order (empty when the source reported none).
///
/// Cluster mode enabled: proven from the data ([`crate::slots::assign_node_groups`]) against the snapshot's node
/// groups (`snapshot.nodeGroups`, from DescribeSnapshots `ShowNodeGroupConfig`) when they all have `Slots`, else the
/// group's as CreateSnapshot read them; with no slots on either side (or objects without key slots) none is
/// recorded, never a guess by position. Cluster mode disabled: its one node group.
///
/// # Errors
/// `ExportCorrupt` when an object's keys do not belong to exactly one node group, or two objects hold one node
/// group's keys (the source snapshot is kept).
fn shards_of_objects(
    run: &BackupRun,
    objects: &[VerifiedObject],
) -> Result<Vec<crate::model::ShardInfo>, BackupError> {
    let from_snapshot = run
        .snapshot
        .as_ref()
        .map(|s| s.node_groups.as_slice())
        .unwrap_or_default();
    let from_source = run
        .source
        .as_ref()
        .map(|s| s.shards.as_slice())
        .unwrap_or_default();
    let cluster_mode_enabled = run
        .source
        .as_ref()
        .is_some_and(|s| s.cluster_mode == crate::model::ClusterMode::Enabled);
    if !cluster_mode_enabled {
        // One node group: nothing to map.
        return Ok(if from_snapshot.is_empty() {
            from_source.to_vec()
        } else {
            from_snapshot.to_vec()
        });
    }
    // The snapshot's node groups when they all have slots, else the group's as CreateSnapshot read them.
    let with_slots =
        |g: &[crate::model::ShardInfo]| !g.is_empty() && g.iter().all(|s| s.slots.is_some());
    let node_groups = if with_slots(from_snapshot) {
        from_snapshot
    } else if with_slots(from_source) {
        from_source
    } else {
        &[]
    };
    if node_groups.is_empty() || objects.iter().any(|o| o.rdb.slots.is_none()) {
        // Never a guess by position: without slots on both sides the manifest records no node group, and a restore
        // of it is refused (ResolveBackup: no slot range).
        tracing::warn!(
            "cluster mode enabled without node group slots or key slots: node groups not recorded"
        );
        return Ok(Vec::new());
    }
    let slots: Vec<crate::slots::ObjectSlots<'_>> = objects
        .iter()
        .map(|o| crate::slots::ObjectSlots {
            key: &o.key,
            slots: o.rdb.slots.as_deref(),
        })
        .collect();
    crate::slots::assign_node_groups(&slots, node_groups).map_err(|e| match e {
        BackupError::ExportCorrupt { message } => BackupError::ExportCorrupt {
            message: format!(
                "export {}: {message}; the source snapshot {} is kept",
                run.export_name.as_deref().unwrap_or("?"),
                run.snapshot_name.as_deref().unwrap_or("?")
            ),
        },
        other => other,
    })
}

/// When the export ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportTimes {
    /// When CopySnapshot was called.
    #[serde(default, deserialize_with = "lenient_time::optional")]
    #[serde(serialize_with = "time::serde::rfc3339::option::serialize")]
    pub started_at: Option<Timestamp>,
    /// When CheckExport found every object.
    #[serde(default, deserialize_with = "lenient_time::optional")]
    #[serde(serialize_with = "time::serde::rfc3339::option::serialize")]
    pub completed_at: Option<Timestamp>,
}

/// Sums over a manifest's objects.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    /// Shard objects.
    pub objects: u64,
    /// Keys.
    pub keys: u64,
    /// Keys with an expiry.
    pub keys_with_expiry: u64,
    /// Bytes of all objects.
    pub bytes: u64,
}

/// One shard object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManifestObject {
    /// S3 key.
    pub key: String,
    /// Size, bytes.
    pub size_bytes: u64,
    /// SHA-256 of the object, 64 lower-case hex digits.
    pub sha256: String,
    /// The shard the object holds (`NodeGroupId`), when the source reported its shards (version 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_group_id: Option<String>,
    /// The shard's slot range, e.g. `0-5460` (cluster mode enabled, version 3): `NodeGroupConfiguration.Slots` of a
    /// restore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slots: Option<String>,
    /// What the RDB file holds.
    pub rdb: RdbSummary,
}

impl Manifest {
    /// When the data was taken — what orders backups for retention, the sweeper and `latest` (docs/design.md §7c),
    /// never `verifiedAt` (two overlapping runs finish verifying in either order). The snapshot's start
    /// (`snapshot.startedAt`: CreateSnapshot was called, so the snapshot's data is from then or later); a manifest
    /// without it falls back to its earliest recorded time (the execution's start, the export's start, then
    /// `verifiedAt`).
    pub fn data_time(&self) -> Timestamp {
        if let Some(s) = &self.snapshot {
            return s.started_at;
        }
        let execution_start =
            self.execution.start_time.as_deref().and_then(|t| {
                Timestamp::parse(t, &time::format_description::well_known::Rfc3339).ok()
            });
        [
            execution_start,
            self.export.as_ref().and_then(|e| e.started_at),
            Some(self.verified_at),
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(self.verified_at)
    }

    /// The target this backup is of ([`crate::backup::run::Source::identity`]); `None` when the manifest names no source.
    pub fn target_identity(&self) -> Option<crate::model::TargetIdentity> {
        self.source
            .as_ref()
            .map(Source::identity)
            .filter(|i| !i.id.is_empty())
    }

    /// The manifest of a run whose objects were all verified at `verified_at`.
    ///
    /// # Errors
    /// `InvalidInput` when the document lacks `request` or `exportName` (it did not come through CreateSnapshot).
    pub fn of_run(
        run: &BackupRun,
        objects: &[VerifiedObject],
        verified_at: Timestamp,
    ) -> Result<Self, BackupError> {
        let shards = shards_of_objects(run, objects)?;
        let objects: Vec<ManifestObject> = objects
            .iter()
            .enumerate()
            .map(|(i, v)| ManifestObject {
                key: v.key.clone(),
                size_bytes: v.size_bytes,
                sha256: v.sha256.clone(),
                node_group_id: shards.get(i).map(|s| s.node_group_id.clone()),
                slots: shards.get(i).and_then(|s| s.slots.clone()),
                rdb: v.rdb.clone(),
            })
            .collect();
        let totals = Totals {
            objects: objects.len() as u64,
            keys: objects.iter().map(|o| o.rdb.keys).sum(),
            keys_with_expiry: objects.iter().map(|o| o.rdb.keys_with_expiry).sum(),
            bytes: objects.iter().map(|o| o.size_bytes).sum(),
        };
        Ok(Self {
            manifest_version: MANIFEST_VERSION,
            tool: TOOL.to_string(),
            snapshot_name: run.snapshot_name.clone(),
            export_name: run.export_name()?.to_string(),
            bucket: run.request()?.bucket.clone(),
            source: run.source.clone(),
            execution: run.execution.clone(),
            snapshot: run.snapshot.clone(),
            export: run.export.as_ref().map(|e| ExportTimes {
                started_at: Some(e.started_at),
                completed_at: e.completed_at,
            }),
            verified_at,
            totals,
            objects,
            timings: run.timings.clone(),
        })
    }

    /// Reads a manifest of any version up to [`MANIFEST_VERSION`].
    ///
    /// # Errors
    /// A message naming the JSON path at fault, or the version when it is newer than this code understands.
    pub fn from_json(bytes: &[u8]) -> Result<Self, String> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Version {
            manifest_version: u32,
        }
        let v: Version = serde_json::from_slice(bytes)
            .map_err(|e| format!("not a manifest (manifestVersion): {e}"))?;
        if v.manifest_version == 0 || v.manifest_version > MANIFEST_VERSION {
            return Err(format!(
                "manifestVersion {} is not one this version reads (1 to {MANIFEST_VERSION})",
                v.manifest_version
            ));
        }
        let de = &mut serde_json::Deserializer::from_slice(bytes);
        serde_path_to_error::deserialize(de)
            .map_err(|e| format!("manifest `{}`: {}", e.path(), e.inner()))
    }

    /// The manifest as pretty-printed JSON.
    ///
    /// # Errors
    /// `AwsError` if serialization fails (it does not for this type; kept typed rather than unwrapped).
    pub fn to_json(&self) -> Result<String, BackupError> {
        serde_json::to_string_pretty(self).map_err(|e| BackupError::AwsError {
            message: format!("manifest of {}: {e}", self.export_name),
            source: None,
        })
    }

    /// What the run document records about the verification, with the manifest's key.
    pub fn verification(&self, manifest_key: String) -> Verification {
        Verification {
            manifest_key,
            verified_at: self.verified_at,
            keys: self.totals.keys,
            keys_with_expiry: self.totals.keys_with_expiry,
            objects: self
                .objects
                .iter()
                .map(|o| VerifiedSummary {
                    key: o.key.clone(),
                    size_bytes: o.size_bytes,
                    rdb_version: o.rdb.version,
                    crc64: o.rdb.crc64.clone(),
                    sha256: o.sha256.clone(),
                    keys: o.rdb.keys,
                    keys_with_expiry: o.rdb.keys_with_expiry,
                    types: o.rdb.types.clone(),
                })
                .collect(),
            vault_replication_job: None,
        }
    }
}

/// Timestamps in RFC 3339, or in the `Display` form version 1 wrote (`2026-11-22 3:06:05.0 +00:00:00`).
mod lenient_time {
    use super::{Deserialize, Deserializer, Timestamp};
    use time::format_description::well_known::Rfc3339;
    use time::macros::format_description;

    fn parse(text: &str) -> Result<Timestamp, String> {
        let display = format_description!(
            "[year]-[month]-[day] [hour padding:none]:[minute]:[second].[subsecond] [offset_hour sign:mandatory]:[offset_minute]:[offset_second]"
        );
        Timestamp::parse(text, &Rfc3339)
            .or_else(|_| Timestamp::parse(text, display))
            .map_err(|e| format!("{text:?} is neither RFC 3339 nor a version-1 timestamp: {e}"))
    }

    pub fn required<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let text = String::deserialize(d)?;
        parse(&text).map_err(serde::de::Error::custom)
    }

    pub fn optional<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(text) => parse(&text).map(Some).map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::KeySample;
    use time::macros::datetime;

    /// A manifest as issue 5's VerifyExport wrote it (version 1, ad-hoc JSON).
    const VERSION_1: &str = r#"{
      "manifestVersion": 1, "tool": "elasticache-backup", "snapshotName": "ecb-orders-554e16ef",
      "exportName": "ecb-orders-554e16ef", "bucket": "acme-cache-backups",
      "source": {"replicationGroupId": "orders", "cacheClusterId": "orders-002", "role": "replica",
                 "clusterMode": "disabled", "engine": "redis", "engineVersion": "7.0.15", "shardCount": 1},
      "execution": {"name": "demo-1", "startTime": "2026-11-22T03:00:00Z"},
      "snapshot": {"status": "available", "resumed": false, "startedAt": "2026-11-22T03:00:01Z",
                   "deadline": "2026-11-22T04:00:01Z", "availableAt": "2026-11-22T03:00:06Z"},
      "export": {"startedAt": "2026-11-22 3:00:07.123 +00:00:00", "completedAt": null},
      "verifiedAt": "2026-11-22 3:06:05.0 +00:00:00",
      "totals": {"objects": 1, "keys": 3, "keysWithExpiry": 1, "bytes": 100},
      "objects": [{"key": "ecb-orders-554e16ef-0001.rdb", "sizeBytes": 100, "sha256": "ab",
                   "rdb": {"magic": "REDIS", "version": 10, "crc64": "a7", "redisVersion": "7.0.15",
                           "databases": {"0": {"keys": 3, "keys_with_expiry": 1}}, "keys": 3,
                           "keysWithExpiry": 1, "types": {"string": 3}, "encodings": {"string-raw": 3},
                           "functions": 0}}],
      "timings": {}
    }"#;

    #[test]
    fn reads_a_version_1_manifest() {
        let m = Manifest::from_json(VERSION_1.as_bytes()).unwrap();
        assert_eq!(m.verified_at, datetime!(2026-11-22 03:06:05 UTC));
        assert_eq!(
            m.export.as_ref().unwrap().started_at,
            Some(datetime!(2026-11-22 03:00:07.123 UTC))
        );
        assert_eq!(m.objects[0].rdb.databases[&0].keys_with_expiry, 1);
        assert_eq!(m.source.unwrap().role, crate::model::NodeRole::Replica);
    }

    #[test]
    fn writes_the_current_version_with_rfc3339_times_and_reads_it_back() {
        let mut m = Manifest::from_json(VERSION_1.as_bytes()).unwrap();
        m.manifest_version = MANIFEST_VERSION;
        m.objects[0].slots = Some("0-16383".into());
        m.objects[0].rdb.sample = vec![KeySample {
            db: 0,
            key: "user:1".into(),
            key_type: "hash".into(),
        }];
        let json = m.to_json().unwrap();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["verifiedAt"], "2026-11-22T03:06:05Z");
        assert_eq!(value["export"]["startedAt"], "2026-11-22T03:00:07.123Z");
        assert_eq!(
            value["objects"][0]["rdb"]["databases"]["0"]["keysWithExpiry"],
            1
        );
        assert_eq!(Manifest::from_json(json.as_bytes()).unwrap(), m);
    }

    /// A cluster mode enabled run of three node groups whose export named the objects in another order than
    /// `NodeGroupId`, and the verified objects with the slots of their keys.
    fn cme_run(slots: [&str; 3]) -> (BackupRun, Vec<VerifiedObject>) {
        let mut m = Manifest::from_json(VERSION_1.as_bytes()).unwrap();
        let mut source = m.source.take().unwrap();
        source.cluster_mode = crate::model::ClusterMode::Enabled;
        source.shard_count = 3;
        let group = |id: &str, slots: &str| crate::model::ShardInfo {
            node_group_id: id.into(),
            slots: Some(slots.into()),
        };
        // What the group said at CreateSnapshot (before a reshard moved 0002's range)…
        source.shards = vec![
            group("0001", "0-5460"),
            group("0002", "5461-10922"),
            group("0003", "10923-16383"),
        ];
        let mut snapshot = m.snapshot.take().unwrap();
        // … and what the snapshot holds (DescribeSnapshots ShowNodeGroupConfig): this is what counts.
        snapshot.node_groups = vec![
            group("0001", "0-5000"),
            group("0002", "5001-10922"),
            group("0003", "10923-16383"),
        ];
        let run: BackupRun = serde_json::from_value(serde_json::json!({
            "input": {"replicationGroupId": "orders"},
            "request": {"target": {"replicationGroupId": "orders"}, "bucket": "acme-cache-backups",
                        "snapshotTimeoutSeconds": 3600, "exportTimeoutSeconds": 3600, "keepSourceSnapshot": false},
            "execution": {"id": "arn:x", "name": "demo-1", "startTime": "2026-11-22T03:00:00Z"},
            "snapshotName": "ecb-orders-554e16ef", "exportName": "ecb-orders-554e16ef",
            "source": source, "snapshot": snapshot,
        }))
        .unwrap();
        let objects = slots
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let mut o = m.objects[0].clone();
                o.key = format!("ecb-orders-554e16ef-000{}.rdb", i + 1);
                o.rdb.slots = Some((*s).to_string());
                VerifiedObject {
                    key: o.key,
                    size_bytes: o.size_bytes,
                    sha256: o.sha256,
                    rdb: o.rdb,
                }
            })
            .collect();
        (run, objects)
    }

    #[test]
    fn each_object_is_recorded_with_the_node_group_its_keys_belong_to() {
        let (run, objects) = cme_run(["11000-11000", "5001-6000", "1-2,4999-5000"]);
        let m = Manifest::of_run(&run, &objects, datetime!(2026-11-22 03:06:05 UTC)).unwrap();
        assert_eq!(m.manifest_version, MANIFEST_VERSION);
        let got: Vec<(Option<&str>, Option<&str>)> = m
            .objects
            .iter()
            .map(|o| (o.node_group_id.as_deref(), o.slots.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                (Some("0003"), Some("10923-16383")),
                (Some("0002"), Some("5001-10922")),
                (Some("0001"), Some("0-5000"))
            ]
        );
        assert_eq!(m.objects[2].rdb.slots.as_deref(), Some("1-2,4999-5000"));
    }

    #[test]
    fn without_slots_no_node_group_is_recorded_rather_than_one_guessed_by_position() {
        let (mut run, objects) = cme_run(["11000-11000", "5001-6000", "1-2"]);
        for g in &mut run.snapshot.as_mut().unwrap().node_groups {
            g.slots = None;
        }
        for g in &mut run.source.as_mut().unwrap().shards {
            g.slots = None;
        }
        let m = Manifest::of_run(&run, &objects, datetime!(2026-11-22 03:06:05 UTC)).unwrap();
        assert!(
            m.objects
                .iter()
                .all(|o| o.node_group_id.is_none() && o.slots.is_none())
        );
    }

    #[test]
    fn an_object_with_keys_of_another_node_group_is_corrupt_and_keeps_the_snapshot() {
        // 5001 belongs to 0002 in the snapshot, although the group reported 0-5460 for 0001 earlier.
        let (run, objects) = cme_run(["0-5001", "6000-6001", "12000-12000"]);
        let err = Manifest::of_run(&run, &objects, datetime!(2026-11-22 03:06:05 UTC)).unwrap_err();
        assert_eq!(err.error_type(), "ExportCorrupt");
        let text = err.to_string();
        assert!(
            text.contains("ecb-orders-554e16ef-0001.rdb holds keys in slots 0-5001"),
            "{text}"
        );
        assert!(
            text.contains("the source snapshot ecb-orders-554e16ef is kept"),
            "{text}"
        );
    }

    #[test]
    fn refuses_a_newer_version_by_name_and_names_a_bad_field() {
        let newer = VERSION_1.replace("\"manifestVersion\": 1", "\"manifestVersion\": 99");
        let err = Manifest::from_json(newer.as_bytes()).unwrap_err();
        assert!(err.contains("manifestVersion 99"), "{err}");
        let bad = VERSION_1.replace("\"sizeBytes\": 100", "\"sizeBytes\": \"100\"");
        let err = Manifest::from_json(bad.as_bytes()).unwrap_err();
        assert!(err.contains("objects[0].sizeBytes"), "{err}");
    }
}
