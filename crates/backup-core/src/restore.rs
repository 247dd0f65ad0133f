//! The restore run document ([`RestoreRun`]) and its input: one JSON object that flows through every state of
//! `terraform/restore.asl.json`, as [`crate::BackupRun`] does through the backup.
//!
//! ```json
//! {
//!   "input": { "manifest": "s3://acme-cache-backups/ecb-orders-1a2b3c4d.manifest.json",
//!              "targetReplicationGroupId": "orders-restored", "drill": false },
//!   "execution": { "id": "…", "name": "restore-1", "startTime": "…" },          // added by the first Pass state
//!   "request": { "manifestBucket": "…", "manifestKey": "…", "targetReplicationGroupId": "orders-restored",
//!                "drill": false, "restoreTimeoutSeconds": 3600, "verifyBeforeRestore": false,
//!                "overrides": { "nodeType": "cache.r7g.large" } },             // validated input (ResolveBackup)
//!   "backup": { "bucket": "…", "manifestKey": "…", "exportName": "…", "clusterMode": "enabled",
//!               "engine": "redis", "engineVersion": "7.0.15", "settings": { … }, "snapshotName": "…",
//!               "keptSnapshot": false,
//!               "shards": [ { "key": "…-0001.rdb", "sizeBytes": 1, "sha256": "…", "nodeGroupId": "0001",
//!                             "slots": "0-5460", "keys": 10, "keysWithExpiry": 1,
//!                             "databases": { "0": { "keys": 10, "keysWithExpiry": 1 } }, "sample": [ … ] } ] },
//!   "restore": { "replicationGroupId": "orders-restored", "status": "creating", "created": true,
//!                "from": "snapshotArns", "requestedAt": "…", "deadline": "…", "availableAt": "…",
//!                "rtoSeconds": 312 },
//!   "verification": { "keysExpected": 100000, "keysFound": 100000, "keysExpired": 0, "match": true,
//!                     "samplesChecked": 64, "samplesMissing": [], "shards": [ … ], "verifiedAt": "…" },
//!   "report": "ecb-orders-1a2b3c4d.restore-restore-1.json",
//!   "cleanup": { "restoredGroup": "deleted", "note": "the drill's replication group … is deleted" },
//!   // or, for a restore that failed after creating its group: { "restoredGroup": "kept", "verdict": "unverified",
//!   //   "note": "replication group … (available) is KEPT, tagged elasticache-backup:restore-verdict=unverified …" }
//!   "poll": { "waitSeconds": 5, "checks": 1 }, "timings": { … }, "warnings": [] }
//! ```
//!
//! The Choice states read `restore.status` (`available` → verify) and `request.drill` (true → delete the group).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::backup::input::check_bucket_name;
use crate::backup::manifest::Manifest;
use crate::backup::run::{Execution, Poll, SourceSettings, StepTiming};
use crate::error::BackupError;
use crate::model::{ClusterMode, Timestamp};
use crate::model::{DbSummary, KeySample};
use crate::naming::check_elasticache_id;
use crate::partition::Partition;
use crate::resources::{NewGroup, NewShard, Secret};

/// Smallest accepted restore deadline, seconds.
pub const MIN_RESTORE_TIMEOUT_SECONDS: u64 = 300;
/// Largest accepted restore deadline (the state machine gives up after 48 h), seconds.
pub const MAX_RESTORE_TIMEOUT_SECONDS: u64 = 86_400;
/// Default restore deadline, seconds.
pub const DEFAULT_RESTORE_TIMEOUT_SECONDS: u64 = 3600;
/// Tag key on every group a restore creates; its value is the restore execution's id. Only a group carrying the
/// execution's own id is ever deleted by it.
pub const RESTORE_TAG: &str = "elasticache-backup:restore-execution";

/// The restore input, as a schedule (drills) or a person gives it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RestoreInput {
    /// `s3://<bucket>/<exportName>.manifest.json`.
    pub manifest: Option<String>,
    /// With `latest`: the source whose newest verified backup is restored.
    pub replication_group_id: Option<String>,
    /// Pick the newest verified backup of `replicationGroupId` from the manifests in `bucket`.
    pub latest: Option<bool>,
    /// With `latest`: the bucket to search (default the functions' `BACKUP_BUCKET`).
    pub bucket: Option<String>,
    /// The new group's id; must not exist. Required unless `drill`, which then names it `ecbr-…`.
    pub target_replication_group_id: Option<String>,
    /// Verify, report, then delete the restored group.
    pub drill: Option<bool>,
    /// `CacheNodeType` (default: the source's).
    pub node_type: Option<String>,
    /// `EngineVersion` (default: the source's).
    pub engine_version: Option<String>,
    /// `CacheSubnetGroupName` (default: the source's).
    pub cache_subnet_group_name: Option<String>,
    /// `SecurityGroupIds` (default: the source's).
    pub security_group_ids: Option<Vec<String>>,
    /// `CacheParameterGroupName` (default: the source's).
    pub cache_parameter_group_name: Option<String>,
    /// `ReplicasPerNodeGroup` 0–5 (default: the source's).
    pub replicas_per_shard: Option<u32>,
    /// Deadline for the group to become `available`, seconds.
    pub restore_timeout_seconds: Option<u64>,
    /// Re-read every object and compare its SHA-256 with the manifest before creating anything.
    pub verify_before_restore: Option<bool>,
    /// Secrets Manager secret (ARN) holding the AUTH token the new group gets (and the verification uses). Required
    /// to restore a source that used AUTH, except for a drill (whose group then has none).
    pub auth_token_secret_arn: Option<String>,
}

/// Where the backup is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum BackupSelector {
    /// A manifest by location.
    Manifest {
        /// Bucket.
        bucket: String,
        /// Key.
        key: String,
    },
    /// The newest verified backup of a source.
    Latest {
        /// Bucket searched.
        bucket: String,
        /// `ReplicationGroupId` (or standalone `CacheClusterId`) of the source, lower-case.
        source: String,
    },
}

/// Overrides of the source's settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Overrides {
    /// `CacheNodeType`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_type: Option<String>,
    /// `EngineVersion`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine_version: Option<String>,
    /// `CacheSubnetGroupName`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_subnet_group_name: Option<String>,
    /// `SecurityGroupIds`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_group_ids: Option<Vec<String>>,
    /// `CacheParameterGroupName`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_parameter_group_name: Option<String>,
    /// `ReplicasPerNodeGroup`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas_per_shard: Option<u32>,
}

/// The validated restore request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreRequest {
    /// Which backup.
    pub backup: BackupSelector,
    /// The new group's id (lower-case).
    pub target_replication_group_id: String,
    /// Drill: verify, report, delete.
    pub drill: bool,
    /// Seconds for the group to become `available`.
    pub restore_timeout_seconds: u64,
    /// Compare every object's SHA-256 with the manifest before creating anything.
    pub verify_before_restore: bool,
    /// Settings that replace the source's.
    pub overrides: Overrides,
    /// Secret holding the new group's AUTH token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_token_secret_arn: Option<String>,
}

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
    /// The source replication group or cluster.
    pub source_id: String,
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
            .replication_group_id
            .clone()
            .or_else(|| source.cache_cluster_id.clone())
            .unwrap_or_default();
        Ok(Self {
            bucket: bucket.to_string(),
            manifest_key: manifest_key.to_string(),
            manifest_version: manifest.manifest_version,
            export_name: manifest.export_name.clone(),
            source_id,
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
            snapshot_arns: Vec::new(),
        })
    }

    /// Keys in all shards.
    pub fn keys(&self) -> u64 {
        self.shards.iter().map(|s| s.keys).sum()
    }
}

/// `restore.status`: the new group's `Status` (Amazon ElastiCache API Reference, `ReplicationGroup`: "creating |
/// available | modifying | deleting | create-failed | snapshotting"); a value AWS adds later is kept in `Other`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum GroupStatus {
    /// `creating`.
    #[default]
    Creating,
    /// `available` (the `IsGroupReady` Choice state compares with this).
    Available,
    /// `modifying`.
    Modifying,
    /// `deleting`.
    Deleting,
    /// `create-failed`.
    CreateFailed,
    /// `snapshotting`.
    Snapshotting,
    /// Any other value, as reported.
    Other(String),
}

impl GroupStatus {
    /// Every documented value.
    pub const KNOWN: &'static [&'static str] = &[
        "creating",
        "available",
        "modifying",
        "deleting",
        "create-failed",
        "snapshotting",
    ];

    /// The string ElastiCache uses.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Creating => "creating",
            Self::Available => "available",
            Self::Modifying => "modifying",
            Self::Deleting => "deleting",
            Self::CreateFailed => "create-failed",
            Self::Snapshotting => "snapshotting",
            Self::Other(s) => s,
        }
    }
}

impl From<String> for GroupStatus {
    fn from(s: String) -> Self {
        match s.as_str() {
            "creating" => Self::Creating,
            "available" => Self::Available,
            "modifying" => Self::Modifying,
            "deleting" => Self::Deleting,
            "create-failed" => Self::CreateFailed,
            "snapshotting" => Self::Snapshotting,
            _ => Self::Other(s),
        }
    }
}

impl From<GroupStatus> for String {
    fn from(s: GroupStatus) -> Self {
        match s {
            GroupStatus::Other(s) => s,
            known => known.as_str().to_string(),
        }
    }
}

impl std::fmt::Display for GroupStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the group is seeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SeedFrom {
    /// `SnapshotArns`: the exported S3 objects.
    SnapshotArns,
    /// `SnapshotName`: the run's ElastiCache snapshot, kept.
    SnapshotName,
}

/// Progress of the new group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreProgress {
    /// The new group.
    pub replication_group_id: String,
    /// Its status.
    pub status: GroupStatus,
    /// True once this execution's CreateReplicationGroup was accepted (or its own group found): the only case in
    /// which a clean-up may delete it.
    pub created: bool,
    /// How it is seeded.
    pub from: SeedFrom,
    /// When CreateReplicationGroup was called.
    #[serde(with = "time::serde::rfc3339")]
    pub requested_at: Timestamp,
    /// When it must be `available`.
    #[serde(with = "time::serde::rfc3339")]
    pub deadline: Timestamp,
    /// When a check first saw it `available`.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub available_at: Option<Timestamp>,
    /// Measured recovery time: CreateReplicationGroup to verified data, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rto_seconds: Option<u64>,
}

/// What the restored group holds compared with the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreVerification {
    /// Keys in the backup.
    pub keys_expected: u64,
    /// Keys found (`DBSIZE` summed over the shards).
    pub keys_found: u64,
    /// Keys missing that had a TTL in the backup and may have expired since (allowed).
    pub keys_expired: u64,
    /// Counts within the allowance and every sampled key present with its type.
    #[serde(rename = "match")]
    pub matches: bool,
    /// Sampled keys checked.
    pub samples_checked: u64,
    /// Sampled keys missing or of another type (`db/key: expected type, found type`).
    #[serde(default)]
    pub samples_missing: Vec<String>,
    /// Per shard.
    pub shards: Vec<ShardCheck>,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub verified_at: Timestamp,
}

/// One shard's comparison.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShardCheck {
    /// `NodeGroupId`.
    pub node_group_id: String,
    /// Keys in the backup's object.
    pub expected: u64,
    /// `DBSIZE` of the restored shard.
    pub found: u64,
    /// Keys per database found (`INFO keyspace`).
    pub databases: BTreeMap<u64, u64>,
}

/// What the clean-up did with the restored group.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::VariantNames,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum GroupCleanup {
    /// DeleteReplicationGroup accepted.
    Deleted,
    /// Already gone.
    AlreadyDeleted,
    /// This execution created nothing (or the group is not tagged as its own): nothing touched.
    NothingToDelete,
    /// A restore (not a drill) failed after creating its group: the group is kept, tagged with its verdict.
    Kept,
}

/// The restore clean-up record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreCleanup {
    /// Outcome.
    pub restored_group: GroupCleanup,
    /// The verdict a kept group was tagged with ([`RESTORE_VERDICT_TAG`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<RestoreVerdict>,
    /// One sentence for a person (the failed execution's cause ends with it): what happened to the group and what
    /// to do.
    #[serde(default)]
    pub note: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: Timestamp,
}

/// Tag key a restored group gets when the restore fails after creating it and the group is kept (docs/design.md §7c:
/// only drills, and groups ElastiCache reports `create-failed`, are deleted); the value is a [`RestoreVerdict`].
pub const RESTORE_VERDICT_TAG: &str = "elasticache-backup:restore-verdict";

/// The value of [`RESTORE_VERDICT_TAG`] on a kept group.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::VariantNames,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum RestoreVerdict {
    /// The data could not be checked (unreachable, timed out, not yet `available`, a node `restore-failed`): it
    /// may well be right.
    Unverified,
    /// VerifyRestore compared the data with the manifest and it differs (`RestoreMismatch`; the report says how).
    Mismatch,
}

/// The error a Catch recorded and the step it came from, as the `…Failed` Pass states of
/// `terraform/restore.asl.json` write it to `$.failed`: `{"step": "VerifyRestore", "failure": {"Error": "…",
/// "Cause": "…"}}`. Present only on a failure path.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedStep {
    /// The state that failed.
    #[serde(default)]
    pub step: String,
    /// Its error.
    #[serde(default)]
    pub failure: StepFailure,
}

/// A Catch's error output (Step Functions Developer Guide, "Handling errors": `Error` and `Cause`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepFailure {
    /// The error name, e.g. `RestoreMismatch`.
    #[serde(rename = "Error", default)]
    pub error: String,
    /// The cause text.
    #[serde(rename = "Cause", default)]
    pub cause: String,
}

/// What the clean-up does with the group this execution created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CleanupAction {
    /// Delete it: a drill's group, or one ElastiCache reports `create-failed`.
    Delete,
    /// Keep it and tag it with the verdict: a restore that failed after creating its group.
    Keep(RestoreVerdict),
}

/// Decides, from the request, the failure (None at the end of a drill that succeeded) and the group's current
/// status, whether the clean-up deletes the group this execution created. A restore that is not a drill never
/// deletes a group ElastiCache has not reported `create-failed`: once created, the group may hold the only usable
/// copy of the data a person is waiting for (docs/design.md §7c).
pub fn cleanup_action(
    drill: bool,
    failed: Option<&FailedStep>,
    status: &GroupStatus,
) -> CleanupAction {
    if drill || *status == GroupStatus::CreateFailed {
        return CleanupAction::Delete;
    }
    let mismatch_name = BackupError::RestoreMismatch {
        message: String::new(),
    }
    .error_type();
    let mismatch = failed.is_some_and(|f| f.failure.error == mismatch_name);
    CleanupAction::Keep(if mismatch {
        RestoreVerdict::Mismatch
    } else {
        RestoreVerdict::Unverified
    })
}

/// The restore run document. See the module documentation for the JSON shape.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreRun {
    /// The execution input as given.
    #[serde(default)]
    pub input: Value,
    /// The execution (`$$.Execution`).
    #[serde(default)]
    pub execution: Execution,
    /// The validated request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<RestoreRequest>,
    /// The backup, from its manifest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup: Option<BackupInfo>,
    /// The new group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore: Option<RestoreProgress>,
    /// The comparison with the manifest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<RestoreVerification>,
    /// S3 key of the report (next to the manifest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<String>,
    /// What the clean-up did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleanup: Option<RestoreCleanup>,
    /// The failure a Catch recorded (`Error`, `Cause`), when the execution is failing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<Value>,
    /// The failed step and its error, recorded by the `…Failed` Pass states before the clean-up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<Value>,
    /// Polling state for the Wait state.
    #[serde(default)]
    pub poll: Poll,
    /// Per-step timings.
    #[serde(default)]
    pub timings: BTreeMap<String, StepTiming>,
    /// Things a human should know.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl RestoreRun {
    /// Records one invocation of `step`.
    pub fn record_timing(&mut self, step: &str, started: Timestamp, finished: Timestamp) {
        crate::backup::run::record_timing(&mut self.timings, step, started, finished);
    }

    /// The validated request, or `InvalidInput`.
    ///
    /// # Errors
    /// `InvalidInput` naming `request`.
    pub fn request(&self) -> Result<&RestoreRequest, BackupError> {
        from_resolve_backup(self.request.as_ref(), "request")
    }

    /// The backup, or `InvalidInput`.
    ///
    /// # Errors
    /// `InvalidInput` naming `backup`.
    pub fn backup(&self) -> Result<&BackupInfo, BackupError> {
        from_resolve_backup(self.backup.as_ref(), "backup")
    }

    /// The restore progress, or `InvalidInput`.
    ///
    /// # Errors
    /// `InvalidInput` naming `restore`.
    pub fn restore(&self) -> Result<&RestoreProgress, BackupError> {
        self.restore.as_ref().ok_or_else(|| {
            BackupError::invalid_input(
                "restore",
                "is missing: the document must come from CreateGroup",
            )
        })
    }

    /// The failed step, when the document is on a failure path (`failed` as the `…Failed` Pass states write it);
    /// `None` otherwise, or when `failed` has another shape.
    pub fn failed_step(&self) -> Option<FailedStep> {
        self.failed
            .as_ref()
            .filter(|f| f.get("failure").is_some())
            .and_then(|f| serde_json::from_value(f.clone()).ok())
    }

    /// The execution's id (ARN), or its name when no ARN was passed: the value of [`RESTORE_TAG`].
    pub fn execution_id(&self) -> &str {
        self.execution.id.as_deref().unwrap_or(&self.execution.name)
    }
}

fn from_resolve_backup<T>(part: Option<T>, field: &str) -> Result<T, BackupError> {
    part.ok_or_else(|| {
        BackupError::invalid_input(
            field,
            "is missing: the document must come from ResolveBackup",
        )
    })
}

/// `(bucket, key)` of `s3://bucket/key`.
///
/// # Errors
/// The rule broken, as a phrase to follow the field name.
pub fn parse_s3_uri(uri: &str) -> Result<(String, String), String> {
    let rest = uri
        .strip_prefix("s3://")
        .ok_or("must be an s3://<bucket>/<key> URI")?;
    let (bucket, key) = rest
        .split_once('/')
        .filter(|(_, k)| !k.is_empty())
        .ok_or("must be an s3://<bucket>/<key> URI")?;
    check_bucket_name(bucket)?;
    if !key.ends_with(".manifest.json") {
        return Err("must name a manifest (<exportName>.manifest.json)".into());
    }
    Ok((bucket.to_string(), key.to_string()))
}

/// Validates the restore input into a [`RestoreRequest`], before anything is read or created.
/// `default_bucket` is `BACKUP_BUCKET`; `execution_id` names a drill's group when the input names none.
///
/// # Errors
/// `InvalidInput` naming the field and the rule.
pub fn validate_restore(
    input: &Value,
    default_bucket: Option<&str>,
    execution_id: &str,
) -> Result<RestoreRequest, BackupError> {
    if !input.is_object() {
        return Err(BackupError::invalid_input(
            "(input)",
            "must be a JSON object",
        ));
    }
    let i: RestoreInput = crate::backup::input::parse_typed(input, |field| match field {
        "drill" | "latest" | "verifyBeforeRestore" => "must be true or false".into(),
        "replicasPerShard" => "must be a whole number from 0 to 5".into(),
        "restoreTimeoutSeconds" => restore_timeout_rule(),
        "securityGroupIds" => "must be a list of strings".into(),
        "authTokenSecretArn" => "must be a Secrets Manager secret ARN".into(),
        _ => "must be a string".into(),
    })?;
    let drill = i.drill.unwrap_or(false);
    let backup = match (&i.manifest, i.latest.unwrap_or(false)) {
        (Some(_), true) => {
            return Err(BackupError::invalid_input(
                "manifest",
                "and `latest` are both set; give one",
            ));
        }
        (Some(uri), false) => {
            if i.replication_group_id.is_some() || i.bucket.is_some() {
                return Err(BackupError::invalid_input(
                    "manifest",
                    "names the backup already; `replicationGroupId` and `bucket` go with `latest`",
                ));
            }
            let (bucket, key) =
                parse_s3_uri(uri).map_err(|rule| BackupError::invalid_input("manifest", rule))?;
            BackupSelector::Manifest { bucket, key }
        }
        (None, true) => {
            let source = i.replication_group_id.clone().ok_or_else(|| {
                BackupError::invalid_input("replicationGroupId", "is required with `latest`")
            })?;
            check_elasticache_id(&source)
                .map_err(|rule| BackupError::invalid_input("replicationGroupId", rule))?;
            let bucket = i
                .bucket
                .clone()
                .or_else(|| default_bucket.map(str::to_string))
                .ok_or_else(|| {
                    BackupError::invalid_input(
                        "bucket",
                        "is required when the functions have no BACKUP_BUCKET configured",
                    )
                })?;
            check_bucket_name(&bucket)
                .map_err(|rule| BackupError::invalid_input("bucket", rule))?;
            BackupSelector::Latest {
                bucket,
                source: source.to_ascii_lowercase(),
            }
        }
        (None, false) => {
            return Err(BackupError::invalid_input(
                "manifest",
                "is required (or `replicationGroupId` with `latest: true`)",
            ));
        }
    };
    let target = match (&i.target_replication_group_id, drill) {
        (Some(t), _) => {
            check_elasticache_id(t)
                .map_err(|rule| BackupError::invalid_input("targetReplicationGroupId", rule))?;
            t.to_ascii_lowercase()
        }
        (None, true) => crate::naming::drill_group_id(execution_id),
        (None, false) => {
            return Err(BackupError::invalid_input(
                "targetReplicationGroupId",
                "is required (a new replication group id); only a drill names its own",
            ));
        }
    };
    if let Some(n) = i.replicas_per_shard
        && n > 5
    {
        return Err(BackupError::invalid_input(
            "replicasPerShard",
            "must be a whole number from 0 to 5",
        ));
    }
    let timeout = i
        .restore_timeout_seconds
        .unwrap_or(DEFAULT_RESTORE_TIMEOUT_SECONDS);
    if !(MIN_RESTORE_TIMEOUT_SECONDS..=MAX_RESTORE_TIMEOUT_SECONDS).contains(&timeout) {
        return Err(BackupError::invalid_input(
            "restoreTimeoutSeconds",
            restore_timeout_rule(),
        ));
    }
    for (field, value) in [
        ("nodeType", &i.node_type),
        ("engineVersion", &i.engine_version),
        ("cacheSubnetGroupName", &i.cache_subnet_group_name),
        ("cacheParameterGroupName", &i.cache_parameter_group_name),
    ] {
        if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
            return Err(BackupError::invalid_input(field, "must not be empty"));
        }
    }
    if let Some(arn) = &i.auth_token_secret_arn
        && !(arn.starts_with("arn:") && arn.contains(":secretsmanager:"))
    {
        return Err(BackupError::invalid_input(
            "authTokenSecretArn",
            "must be a Secrets Manager secret ARN (arn:aws:secretsmanager:…)",
        ));
    }
    Ok(RestoreRequest {
        auth_token_secret_arn: i.auth_token_secret_arn,
        backup,
        target_replication_group_id: target,
        drill,
        restore_timeout_seconds: timeout,
        verify_before_restore: i.verify_before_restore.unwrap_or(false),
        overrides: Overrides {
            node_type: i.node_type,
            engine_version: i.engine_version,
            cache_subnet_group_name: i.cache_subnet_group_name,
            security_group_ids: i.security_group_ids,
            cache_parameter_group_name: i.cache_parameter_group_name,
            replicas_per_shard: i.replicas_per_shard,
        },
    })
}

fn restore_timeout_rule() -> String {
    format!(
        "must be a whole number of seconds from {MIN_RESTORE_TIMEOUT_SECONDS} to {MAX_RESTORE_TIMEOUT_SECONDS}"
    )
}

/// The CreateReplicationGroup request for `backup` into `request.target_replication_group_id`, tagged with
/// [`RESTORE_TAG`] = `execution_id`. Seeded from the S3 objects (`SnapshotArns`, one ARN per shard, with
/// `NodeGroupConfiguration.Slots` for cluster mode enabled), or from `snapshot_name` when given.
/// With `auth_token` the group gets that AUTH token and, as ElastiCache requires for one, TLS in transit.
pub fn new_group(
    request: &RestoreRequest,
    backup: &BackupInfo,
    execution_id: &str,
    snapshot_name: Option<String>,
    auth_token: Option<Secret>,
) -> NewGroup {
    let o = &request.overrides;
    let s = &backup.settings;
    let cme = backup.cluster_mode == ClusterMode::Enabled;
    NewGroup {
        id: request.target_replication_group_id.clone(),
        description: format!(
            "elasticache-backup {} of {} from {}",
            if request.drill { "drill" } else { "restore" },
            backup.source_id,
            backup.export_name
        ),
        engine: backup.engine.clone(),
        engine_version: o
            .engine_version
            .clone()
            .or_else(|| backup.engine_version.clone()),
        node_type: o.node_type.clone().or_else(|| s.node_type.clone()),
        cluster_mode_enabled: cme,
        shards: backup
            .shards
            .iter()
            .map(|sh| NewShard {
                node_group_id: sh.node_group_id.clone(),
                // Several ranges cannot be given (`NodeGroupConfiguration.Slots` is one "startkey-endkey"); only
                // a restore from the kept snapshot gets here with them, and ElastiCache takes its own layout then.
                slots: if cme {
                    sh.slots.clone().filter(|s| !s.contains(','))
                } else {
                    None
                },
            })
            .collect(),
        replicas_per_shard: o.replicas_per_shard.or(s.replicas_per_shard),
        snapshot_arns: if snapshot_name.is_some() {
            Vec::new()
        } else {
            if backup.snapshot_arns.len() == backup.shards.len() {
                backup.snapshot_arns.clone()
            } else {
                backup
                    .shards
                    .iter()
                    .map(|sh| Partition::Aws.s3_object_arn(&backup.bucket, &sh.key))
                    .collect()
            }
        },
        snapshot_name,
        parameter_group: o
            .cache_parameter_group_name
            .clone()
            .or_else(|| s.cache_parameter_group_name.clone()),
        subnet_group: o
            .cache_subnet_group_name
            .clone()
            .or_else(|| s.cache_subnet_group_name.clone()),
        security_group_ids: o
            .security_group_ids
            .clone()
            .unwrap_or_else(|| s.security_group_ids.clone()),
        transit_encryption: s.transit_encryption || auth_token.is_some(),
        auth_token,
        tags: vec![
            (RESTORE_TAG.to_string(), execution_id.to_string()),
            (
                "elasticache-backup:source".to_string(),
                backup.source_id.clone(),
            ),
        ],
    }
}

/// The AUTH token named by `request.authTokenSecretArn`, read from `secrets`; `None` when the request names none.
///
/// # Errors
/// `AwsError` naming the secret (never its value) when it cannot be read, `AwsRejected` when it is empty.
pub async fn auth_token<K: crate::ports::Secrets + ?Sized>(
    request: &RestoreRequest,
    secrets: &K,
) -> Result<Option<Secret>, BackupError> {
    let Some(arn) = &request.auth_token_secret_arn else {
        return Ok(None);
    };
    let value = secrets
        .secret_string(arn)
        .await
        .map_err(|e| BackupError::AwsError {
            message: format!("GetSecretValue {arn}: {e}"),
            source: None,
        })?;
    let value = value.trim().to_string();
    if value.is_empty() {
        return Err(BackupError::AwsRejected {
            message: format!("GetSecretValue {arn}: the secret is empty"),
            source: None,
        });
    }
    Ok(Some(Secret(value)))
}

/// What one restored shard was found to hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardFound {
    /// `NodeGroupId`.
    pub node_group_id: String,
    /// Keys per database.
    pub databases: BTreeMap<u64, u64>,
    /// `(db/key, expected type, found type)` of each sampled key.
    pub samples: Vec<(String, String, String)>,
}

/// Compares what the restored shards hold with the backup: per shard, the keys found may fall short of the keys
/// in the object only by keys that had an expiry (they may have expired since; both figures are reported), never
/// exceed it, and every sampled key must be there with its type.
pub fn compare(backup: &BackupInfo, found: &[ShardFound], at: Timestamp) -> RestoreVerification {
    let mut shards = Vec::new();
    let mut matches = found.len() == backup.shards.len();
    let (mut expected_all, mut found_all, mut expired_all) = (0, 0, 0);
    let mut samples_checked = 0;
    let mut samples_missing = Vec::new();
    for (b, f) in backup.shards.iter().zip(found) {
        let keys: u64 = f.databases.values().sum();
        let short = b.keys.saturating_sub(keys);
        matches &= keys <= b.keys && short <= b.keys_with_expiry;
        expected_all += b.keys;
        found_all += keys;
        expired_all += short;
        for (key, want, got) in &f.samples {
            samples_checked += 1;
            if want != got {
                samples_missing.push(format!("{key}: expected {want}, found {got}"));
            }
        }
        shards.push(ShardCheck {
            node_group_id: b.node_group_id.clone(),
            expected: b.keys,
            found: keys,
            databases: f.databases.clone(),
        });
    }
    matches &= samples_missing.is_empty();
    RestoreVerification {
        keys_expected: expected_all,
        keys_found: found_all,
        keys_expired: expired_all,
        matches,
        samples_checked,
        samples_missing,
        shards,
        verified_at: at,
    }
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
    use serde_json::json;

    fn field_of(err: BackupError) -> String {
        match err {
            BackupError::InvalidInput { field, .. } => field,
            other => panic!("expected InvalidInput, got {other:?}"),
        }
    }

    #[test]
    fn a_manifest_restore_is_validated() {
        let r = validate_restore(
            &json!({"manifest": "s3://acme-cache-backups/ecb-orders-1.manifest.json",
                    "targetReplicationGroupId": "Orders-Restored", "nodeType": "cache.t4g.small"}),
            None,
            "exec",
        )
        .unwrap();
        assert_eq!(
            r.backup,
            BackupSelector::Manifest {
                bucket: "acme-cache-backups".into(),
                key: "ecb-orders-1.manifest.json".into()
            }
        );
        assert_eq!(r.target_replication_group_id, "orders-restored");
        assert_eq!(r.overrides.node_type.as_deref(), Some("cache.t4g.small"));
        assert_eq!(r.restore_timeout_seconds, DEFAULT_RESTORE_TIMEOUT_SECONDS);
        assert!(!r.drill);
    }

    #[test]
    fn latest_takes_the_default_bucket_and_a_drill_names_its_group() {
        let r = validate_restore(
            &json!({"replicationGroupId": "Orders", "latest": true, "drill": true}),
            Some("acme-cache-backups"),
            "arn:aws:states:us-east-1:1:execution:restore:drill-1",
        )
        .unwrap();
        assert_eq!(
            r.backup,
            BackupSelector::Latest {
                bucket: "acme-cache-backups".into(),
                source: "orders".into()
            }
        );
        assert!(r.target_replication_group_id.starts_with("ecbr-"));
        assert!(check_elasticache_id(&r.target_replication_group_id).is_ok());
    }

    #[test]
    fn each_bad_field_is_named() {
        let m = "s3://acme-cache-backups/e.manifest.json";
        let cases = [
            (json!("x"), "(input)"),
            (json!({}), "manifest"),
            (json!({"manifest": m}), "targetReplicationGroupId"),
            (
                json!({"manifest": "acme/e.manifest.json", "targetReplicationGroupId": "a"}),
                "manifest",
            ),
            (
                json!({"manifest": "s3://acme-cache-backups/e-0001.rdb", "targetReplicationGroupId": "a"}),
                "manifest",
            ),
            (
                json!({"manifest": m, "latest": true, "targetReplicationGroupId": "a"}),
                "manifest",
            ),
            (
                json!({"latest": true, "targetReplicationGroupId": "a"}),
                "replicationGroupId",
            ),
            (
                json!({"latest": true, "replicationGroupId": "orders", "targetReplicationGroupId": "a"}),
                "bucket",
            ),
            (
                json!({"manifest": m, "targetReplicationGroupId": "9a"}),
                "targetReplicationGroupId",
            ),
            (
                json!({"manifest": m, "targetReplicationGroupId": "a", "replicasPerShard": 6}),
                "replicasPerShard",
            ),
            (
                json!({"manifest": m, "targetReplicationGroupId": "a", "restoreTimeoutSeconds": 10}),
                "restoreTimeoutSeconds",
            ),
            (
                json!({"manifest": m, "targetReplicationGroupId": "a", "drill": "yes"}),
                "drill",
            ),
            (
                json!({"manifest": m, "targetReplicationGroupId": "a", "nodeType": ""}),
                "nodeType",
            ),
            (
                json!({"manifest": m, "targetReplicationGroupId": "a", "securityGroupIds": "sg-1"}),
                "securityGroupIds",
            ),
            (
                json!({"manifest": m, "targetReplicationGroupId": "a", "targetGroup": "b"}),
                "targetGroup",
            ),
        ];
        for (input, field) in cases {
            assert_eq!(
                field_of(validate_restore(&input, None, "e").unwrap_err()),
                field,
                "input {input}"
            );
        }
    }

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
    fn group_status_keeps_unknown_values() {
        let s: GroupStatus = serde_json::from_value(json!("restoring-later")).unwrap();
        assert_eq!(s, GroupStatus::Other("restoring-later".into()));
        assert_eq!(
            serde_json::to_value(GroupStatus::CreateFailed).unwrap(),
            "create-failed"
        );
    }
}

#[cfg(test)]
mod compare_tests {
    use super::*;
    use time::macros::datetime;

    fn backup(keys: u64, expiring: u64) -> BackupInfo {
        BackupInfo {
            bucket: "b".into(),
            manifest_key: "e.manifest.json".into(),
            manifest_version: 3,
            export_name: "e".into(),
            source_id: "orders".into(),
            cluster_mode: ClusterMode::Enabled,
            engine: Some("redis".into()),
            engine_version: Some("7.0.15".into()),
            settings: SourceSettings {
                node_type: Some("cache.r7g.large".into()),
                replicas_per_shard: Some(1),
                ..SourceSettings::default()
            },
            verified_at: datetime!(2026-11-22 03:00 UTC),
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
            snapshot_arns: Vec::new(),
        }
    }

    fn found(keys: u64, samples: Vec<(String, String, String)>) -> Vec<ShardFound> {
        vec![ShardFound {
            node_group_id: "0001".into(),
            databases: BTreeMap::from([(0, keys)]),
            samples,
        }]
    }

    #[test]
    fn keys_with_a_ttl_may_be_missing_others_may_not() {
        let at = datetime!(2026-11-22 04:00 UTC);
        let v = compare(&backup(100, 10), &found(95, Vec::new()), at);
        assert!(v.matches);
        assert_eq!(
            (v.keys_expected, v.keys_found, v.keys_expired),
            (100, 95, 5)
        );
        assert!(!compare(&backup(100, 10), &found(89, Vec::new()), at).matches);
        assert!(!compare(&backup(100, 10), &found(101, Vec::new()), at).matches);
        assert!(!compare(&backup(100, 10), &[], at).matches);
    }

    #[test]
    fn a_sampled_key_of_another_type_is_a_mismatch() {
        let at = datetime!(2026-11-22 04:00 UTC);
        let samples = vec![("0/user:1".into(), "hash".into(), "none".into())];
        let v = compare(&backup(100, 0), &found(100, samples), at);
        assert!(!v.matches);
        assert_eq!(
            v.samples_missing,
            vec!["0/user:1: expected hash, found none"]
        );
    }

    #[test]
    fn the_request_seeds_from_s3_with_slots_and_tags_the_group_as_ours() {
        let request = RestoreRequest {
            backup: BackupSelector::Manifest {
                bucket: "b".into(),
                key: "e.manifest.json".into(),
            },
            target_replication_group_id: "orders-restored".into(),
            drill: false,
            restore_timeout_seconds: 3600,
            verify_before_restore: false,
            overrides: Overrides {
                node_type: Some("cache.t4g.small".into()),
                ..Overrides::default()
            },
            auth_token_secret_arn: None,
        };
        let g = new_group(&request, &backup(1, 0), "exec-1", None, None);
        assert_eq!(g.snapshot_arns, vec!["arn:aws:s3:::b/e-0001.rdb"]);
        assert_eq!(g.shards[0].slots.as_deref(), Some("0-16383"));
        assert_eq!(g.node_type.as_deref(), Some("cache.t4g.small"));
        assert_eq!(g.replicas_per_shard, Some(1));
        assert!(
            g.tags
                .contains(&(RESTORE_TAG.to_string(), "exec-1".to_string()))
        );
        let kept = new_group(
            &request,
            &backup(1, 0),
            "exec-1",
            Some("ecb-orders-1".into()),
            None,
        );
        assert!(kept.snapshot_arns.is_empty());
        let token = Some(Secret("p4ssw0rd-0123456789".into()));
        let with_auth = new_group(&request, &backup(1, 0), "exec-1", None, token);
        assert!(
            with_auth.transit_encryption,
            "an AUTH token needs TLS in transit"
        );
        assert!(
            !format!("{with_auth:?}").contains("p4ssw0rd"),
            "the token never reaches Debug output"
        );
    }
}
