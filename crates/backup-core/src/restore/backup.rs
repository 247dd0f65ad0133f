//! The backup being restored ([`BackupInfo`], one [`BackupShard`] per object), as its manifest records it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::backup::manifest::Manifest;
use crate::backup::run::SourceSettings;
use crate::error::BackupError;
use crate::model::{ClusterMode, DbSummary, KeySample, Timestamp};

/// The backup being restored, from its manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupInfo {
    /// Bucket of the objects and the manifest.
    pub bucket: String,
    /// The manifest's key.
    pub manifest_key: String,
    /// `manifestVersion` read.
    pub manifest_version: u32,
    /// Export name (objects `<exportName>-000N.rdb`; the report goes next to them).
    pub export_name: String,
    /// The source replication group, cluster or serverless cache.
    pub source_id: String,
    /// The source was an ElastiCache Serverless cache (its kept snapshot, if any, is a serverless snapshot).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub source_serverless: bool,
    /// Cluster mode of the source.
    pub cluster_mode: ClusterMode,
    /// `redis` or `valkey`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<String>,
    /// Engine version of the source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine_version: Option<String>,
    /// The source's settings.
    #[serde(default)]
    pub settings: SourceSettings,
    /// When the backup was verified.
    #[serde(with = "time::serde::rfc3339")]
    pub verified_at: Timestamp,
    /// One entry per shard object, in object order.
    pub shards: Vec<BackupShard>,
    /// The backup run's ElastiCache snapshot, when it was kept and is still `available`: the restore then uses
    /// `SnapshotName` instead of the S3 objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept_snapshot: Option<String>,
    /// The kept snapshot's ARN as DescribeSnapshots / DescribeServerlessCacheSnapshots report it: what a restore
    /// into a serverless cache gives `SnapshotArnsToRestore` (`…:snapshot:<name>` for a node-based backup,
    /// `…:serverlesscachesnapshot:<name>` for a serverless one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept_snapshot_arn: Option<String>,
    /// `SnapshotArns` of CreateReplicationGroup, one per shard in `shards` order, set by ResolveBackup: the
    /// export's objects (`bucket-policy` seeding) or their copies in the seed bucket (`object-acl`), each built
    /// from the region's partition. Empty when the restore uses `kept_snapshot`, or in documents written before
    /// it was recorded (then the export's objects in partition `aws`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub snapshot_arns: Vec<String>,
}

impl BackupInfo {
    /// Why CreateReplicationGroup could not be given this backup's node groups, if it could not: cluster mode
    /// enabled seeded from S3 needs `NodeGroupConfiguration` with `Slots` for every node group, one
    /// "startkey-endkey" range each (Amazon ElastiCache API Reference, `NodeGroupConfiguration`; "required when
    /// seeding a … (cluster mode enabled) cluster from a S3 rdb file"). A node group owning several ranges (after
    /// resharding) cannot be expressed.
    pub fn node_group_problem(&self) -> Option<String> {
        if self.cluster_mode != ClusterMode::Enabled || self.kept_snapshot.is_some() {
            return None;
        }
        for shard in &self.shards {
            match shard.slots.as_deref() {
                None => {
                    return Some(format!(
                        "the manifest records no slot range for node group {} (manifest version {}): a cluster \
                         mode enabled group cannot be seeded from S3 without one",
                        shard.node_group_id, self.manifest_version
                    ));
                }
                Some(slots) if slots.contains(',') => {
                    return Some(format!(
                        "node group {} owns several slot ranges ({slots}), and CreateReplicationGroup takes one \
                         \"startkey-endkey\" range per node group (NodeGroupConfiguration.Slots); restore it from \
                         the backup's ElastiCache snapshot if it was kept, or rebalance the source's slots so each \
                         shard owns one range and take a new backup",
                        shard.node_group_id
                    ));
                }
                Some(_) => {}
            }
        }
        None
    }
}

/// One shard object of the backup, as the manifest records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupShard {
    /// S3 key.
    pub key: String,
    /// Size, bytes.
    pub size_bytes: u64,
    /// SHA-256, hex.
    pub sha256: String,
    /// `NodeGroupId` (manifest version 3), else `000N` in object order.
    pub node_group_id: String,
    /// Slot range (cluster mode enabled; manifest version 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slots: Option<String>,
    /// Keys in the object.
    pub keys: u64,
    /// Keys with an expiry (they may have expired since: the restore check allows for them).
    pub keys_with_expiry: u64,
    /// Per database.
    #[serde(default)]
    pub databases: BTreeMap<u64, DbSummary>,
    /// Sampled keys (manifest version 3).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sample: Vec<KeySample>,
}

impl BackupInfo {
    /// What a restore needs from `manifest`, read from `bucket`/`manifest_key`.
    ///
    /// # Errors
    /// `BackupNotFound` when the manifest names no source or no object.
    pub fn from_manifest(
        manifest: &Manifest,
        bucket: &str,
        manifest_key: &str,
    ) -> Result<Self, BackupError> {
        let source = manifest
            .source
            .as_ref()
            .ok_or_else(|| BackupError::BackupNotFound {
                message: format!("manifest s3://{bucket}/{manifest_key} names no source"),
            })?;
        if manifest.objects.is_empty() {
            return Err(BackupError::BackupNotFound {
                message: format!("manifest s3://{bucket}/{manifest_key} lists no object"),
            });
        }
        let source_id = source
            .serverless_cache_name
            .clone()
            .or_else(|| source.replication_group_id.clone())
            .or_else(|| source.cache_cluster_id.clone())
            .unwrap_or_default();
        Ok(Self {
            bucket: bucket.to_string(),
            manifest_key: manifest_key.to_string(),
            manifest_version: manifest.manifest_version,
            export_name: manifest.export_name.clone(),
            source_id,
            source_serverless: source.is_serverless(),
            cluster_mode: source.cluster_mode,
            engine: source.engine.clone(),
            engine_version: source.engine_version.clone(),
            settings: source.settings.clone(),
            verified_at: manifest.verified_at,
            shards: manifest
                .objects
                .iter()
                .enumerate()
                .map(|(i, o)| BackupShard {
                    key: o.key.clone(),
                    size_bytes: o.size_bytes,
                    sha256: o.sha256.clone(),
                    node_group_id: o
                        .node_group_id
                        .clone()
                        .unwrap_or_else(|| format!("{:04}", i + 1)),
                    slots: o.slots.clone(),
                    keys: o.rdb.keys,
                    keys_with_expiry: o.rdb.keys_with_expiry,
                    databases: o.rdb.databases.clone(),
                    sample: o.rdb.sample.clone(),
                })
                .collect(),
            kept_snapshot: None,
            kept_snapshot_arn: None,
            snapshot_arns: Vec::new(),
        })
    }

    /// Keys in all shards.
    pub fn keys(&self) -> u64 {
        self.shards
            .iter()
            .fold(0, |n: u64, s| n.saturating_add(s.keys))
    }

    /// The backup as one keyspace: a single shard (node group `all`) holding every shard's keys, keys with an
    /// expiry, per-database counts and sample. A serverless cache is one logical cluster whose endpoint answers for
    /// all of it, so its restore is compared with the backup as a whole, not shard by shard.
    pub fn as_one_keyspace(&self) -> Self {
        let mut databases: BTreeMap<u64, DbSummary> = BTreeMap::new();
        for (db, d) in self.shards.iter().flat_map(|s| &s.databases) {
            let sum = databases.entry(*db).or_default();
            sum.keys = sum.keys.saturating_add(d.keys);
            sum.keys_with_expiry = sum.keys_with_expiry.saturating_add(d.keys_with_expiry);
        }
        let shard = BackupShard {
            key: self
                .shards
                .iter()
                .map(|s| s.key.as_str())
                .collect::<Vec<_>>()
                .join(","),
            size_bytes: self
                .shards
                .iter()
                .fold(0, |n: u64, s| n.saturating_add(s.size_bytes)),
            sha256: String::new(),
            node_group_id: "all".into(),
            slots: None,
            keys: self.keys(),
            keys_with_expiry: self
                .shards
                .iter()
                .fold(0, |n: u64, s| n.saturating_add(s.keys_with_expiry)),
            databases,
            sample: self.shards.iter().flat_map(|s| s.sample.clone()).collect(),
        };
        Self {
            shards: vec![shard],
            ..self.clone()
        }
    }

    /// The databases other than 0 that hold keys, by the manifest's per-database counts (ascending); `None` when a
    /// shard with keys records no per-database counts (an older manifest: nothing can be said).
    pub fn databases_beyond_zero(&self) -> Option<Vec<u64>> {
        let mut dbs = std::collections::BTreeSet::new();
        for shard in &self.shards {
            if shard.databases.is_empty() && shard.keys > 0 {
                return None;
            }
            dbs.extend(
                shard
                    .databases
                    .iter()
                    .filter(|(db, d)| **db != 0 && d.keys > 0)
                    .map(|(db, _)| *db),
            );
        }
        Some(dbs.into_iter().collect())
    }
}

/// A one-shard cluster mode enabled backup of `orders` (`e-0001.rdb`, slots 0-16383) holding `keys` keys, `expiring`
/// of them with a TTL: the fixture of the restore modules' unit tests.
#[cfg(test)]
pub(crate) fn test_backup(keys: u64, expiring: u64) -> BackupInfo {
    BackupInfo {
        bucket: "b".into(),
        manifest_key: "e.manifest.json".into(),
        manifest_version: 3,
        export_name: "e".into(),
        source_id: "orders".into(),
        source_serverless: false,
        cluster_mode: ClusterMode::Enabled,
        engine: Some("redis".into()),
        engine_version: Some("7.0.15".into()),
        settings: SourceSettings {
            node_type: Some("cache.r7g.large".into()),
            replicas_per_shard: Some(1),
            ..SourceSettings::default()
        },
        verified_at: time::macros::datetime!(2026-11-22 03:00 UTC),
        shards: vec![BackupShard {
            key: "e-0001.rdb".into(),
            size_bytes: 10,
            sha256: "ab".into(),
            node_group_id: "0001".into(),
            slots: Some("0-16383".into()),
            keys,
            keys_with_expiry: expiring,
            databases: BTreeMap::new(),
            sample: Vec::new(),
        }],
        kept_snapshot: None,
        kept_snapshot_arn: None,
        snapshot_arns: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_keyspace_sums_the_shards_and_keeps_every_sample() {
        let mut b = test_backup(10, 2);
        let mut second = b.shards[0].clone();
        second.key = "e-0002.rdb".into();
        second.keys = 5;
        second.keys_with_expiry = 1;
        second.sample = vec![KeySample {
            db: 0,
            key: "k".into(),
            key_type: "string".into(),
        }];
        second.databases = BTreeMap::from([(
            0,
            DbSummary {
                keys: 5,
                keys_with_expiry: 1,
            },
        )]);
        b.shards[0].databases = BTreeMap::from([(
            0,
            DbSummary {
                keys: 10,
                keys_with_expiry: 2,
            },
        )]);
        b.shards.push(second);
        let one = b.as_one_keyspace();
        assert_eq!(one.shards.len(), 1);
        let s = &one.shards[0];
        assert_eq!((s.keys, s.keys_with_expiry, s.sample.len()), (15, 3, 1));
        assert_eq!(s.databases[&0].keys, 15);
        assert_eq!(b.databases_beyond_zero(), Some(vec![]));
        b.shards[1].databases.insert(
            3,
            DbSummary {
                keys: 1,
                keys_with_expiry: 0,
            },
        );
        b.shards[1].databases.insert(
            5,
            DbSummary {
                keys: 0,
                keys_with_expiry: 0,
            },
        );
        assert_eq!(b.databases_beyond_zero(), Some(vec![3]));
        b.shards[0].databases.clear();
        assert_eq!(b.databases_beyond_zero(), None);
    }

    #[test]
    fn one_keyspace_of_counts_near_the_limit_saturates_instead_of_panicking() {
        let mut b = test_backup(u64::MAX, u64::MAX);
        b.shards.push(b.shards[0].clone());
        let one = b.as_one_keyspace();
        assert_eq!(
            (one.shards[0].keys, one.shards[0].keys_with_expiry),
            (u64::MAX, u64::MAX)
        );
    }
}
