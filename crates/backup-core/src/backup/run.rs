//! The run document: one JSON object that flows through every state of the state machine.
//!
//! Every step handler takes the whole document and returns it, updated. Shape (camelCase JSON):
//!
//! ```json
//! {
//!   "input": { "replicationGroupId": "orders", "bucket": "acme-cache-backups" },  // execution input, as given
//!   "execution": { "id": "arn:aws:states:…:execution:sm:run-1", "name": "run-1",
//!                  "startTime": "2026-11-22T03:00:00Z" },                    // added by the first Pass state
//!   "request": { "target": { "replicationGroupId": "orders" }, "bucket": "acme-cache-backups",
//!                "snapshotTimeoutSeconds": 3600, "exportTimeoutSeconds": 3600,
//!                "keepSourceSnapshot": false, "verifyBudgetSeconds": 720 },  // validated input (CreateSnapshot)
//!   "snapshotName": "ecb-orders-1a2b3c4d", "exportName": "ecb-orders-1a2b3c4d",
//!   "source": { "replicationGroupId": "orders", "cacheClusterId": "orders-002", "role": "replica",
//!               "clusterMode": "disabled", "engine": "redis", "engineVersion": "7.0.15", "shardCount": 1 },
//!   "snapshot": { "status": "available", "resumed": false, "startedAt": "…", "deadline": "…",
//!                 "availableAt": "…" },
//!   "export": { "bucket": "…", "status": "complete", "startedAt": "…", "deadline": "…", "completedAt": "…",
//!               "objects": [ { "key": "ecb-orders-1a2b3c4d-0001.rdb", "sizeBytes": 1234 } ] },
//!   "cleanup": { "sourceSnapshot": "deleted", "at": "…" },
//!   "history": { "manifest": "ecb-orders-….manifest.json", "snapshotSeconds": 600, "exportSeconds": 180 },
//!   "poll": { "waitSeconds": 5, "checks": 3 },
//!   "timings": { "CreateSnapshot": { "invocations": 1, "firstStartedAt": "…", "lastFinishedAt": "…",
//!                                    "totalMillis": 120 } },
//!   "warnings": [ "…" ],
//!   "verifiedObjects": [ { "object": { "key": "…-0001.rdb", "sizeBytes": 1234, "sha256": "…", "rdb": { … } },
//!                          "millis": 80 } ]                       // only between VerifyExport and WriteManifest
//! }
//! ```
//!
//! For an ElastiCache Serverless cache the input names `serverlessCacheName`, `request.target` is
//! `{"serverlessCacheName": "sessions"}`, `source` is `{"serverlessCacheName": "sessions", "role": "group",
//! "clusterMode": "enabled", "shardCount": 0, …}` until CheckExport finds the export's objects (then their number), and
//! `export.seen` holds the objects the previous CheckExport saw while the export is in progress.
//!
//! Choice states read `snapshot.status` (`available` → export; anything else → wait) and `export.status`
//! (`complete` → delete; anything else → wait); Wait states read `poll.waitSeconds`.

use crate::model::{
    CleanupOutcome, ClusterMode, ExportStatus, NodeRole, ShardInfo, SnapshotStatus, TargetIdentity,
    Timestamp, rfc3339,
};
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::naming::TargetKind;
use crate::resources::{CacheClusterInfo, ReplicationGroupInfo, ServerlessCacheInfo, SnapshotInfo};

/// The run document. See the module documentation for the JSON shape.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupRun {
    /// The execution input exactly as given; validated into [`BackupRun::request`] by the first step.
    #[serde(default)]
    pub input: serde_json::Value,
    /// The execution, from the context object (`$$.Execution`).
    #[serde(default)]
    pub execution: Execution,
    /// The validated request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<Request>,
    /// ElastiCache `SnapshotName` of this run's snapshot (lower-case, deterministic).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_name: Option<String>,
    /// CopySnapshot `TargetSnapshotName`; objects are `<exportName>-000N.rdb`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub export_name: Option<String>,
    /// What was snapshotted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    /// Snapshot progress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<SnapshotProgress>,
    /// Export progress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub export: Option<ExportProgress>,
    /// The end-to-end check of every exported object, and where its manifest is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<Verification>,
    /// What happened to the source snapshot at the end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleanup: Option<Cleanup>,
    /// How long the target's phases took in its previous verified backup (polling plans around it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<crate::backup::run::PhaseHistory>,
    /// Polling state for the Wait states.
    #[serde(default)]
    pub poll: Poll,
    /// Per-step invocation timings, keyed by state name (`CreateSnapshot`, `CheckSnapshot`, …).
    #[serde(default)]
    pub timings: BTreeMap<String, StepTiming>,
    /// Things a human should know that did not fail the run (e.g. snapshot taken from the primary).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The shard objects verified one per invocation by the `VerifyExport` Map state (its `ResultPath`), until the
    /// `WriteManifest` step turns them into the manifest and removes them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub verified_objects: Vec<VerifiedShard>,
}

/// One shard object verified by its own VerifyExport invocation: the object and how long the check took,
/// `{"object": {"key", "sizeBytes", "sha256", "rdb"}, "millis"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifiedShard {
    /// What the check found (not flattened: serde's flatten cannot read the integer-keyed `databases` map).
    pub object: crate::model::VerifiedObject,
    /// Duration of the invocation's check, milliseconds.
    pub millis: u64,
}

/// The execution, from the Step Functions context object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Execution {
    /// `$$.Execution.Id` (the execution ARN), when the state machine passes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `$$.Execution.Name`.
    #[serde(default)]
    pub name: String,
    /// `$$.Execution.StartTime` (RFC 3339), as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
}

/// The validated execution input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    /// What to back up.
    pub target: TargetRef,
    /// Export bucket (`TargetBucket`).
    pub bucket: String,
    /// Deadline for the snapshot to become `available`, seconds after CreateSnapshot.
    pub snapshot_timeout_seconds: u64,
    /// Deadline for every shard object to be in S3, seconds after CopySnapshot.
    pub export_timeout_seconds: u64,
    /// Keep the ElastiCache snapshot after a verified export.
    pub keep_source_snapshot: bool,
    /// Seconds one VerifyShard invocation checks before it pauses with a checkpoint (the `VerifyExport` Map
    /// passes it to every item; a run document written before it existed gets the default).
    #[serde(default = "default_verify_budget_seconds")]
    pub verify_budget_seconds: u64,
}

fn default_verify_budget_seconds() -> u64 {
    crate::config::DEFAULT_VERIFY_BUDGET_SECONDS
}

/// The id the execution input names: exactly one of the two.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TargetRef {
    /// `ReplicationGroupId` (cluster mode enabled or disabled).
    ReplicationGroupId(String),
    /// `CacheClusterId` (a standalone cluster, or a member node whose group is then resolved).
    CacheClusterId(String),
    /// `ServerlessCacheName` (an ElastiCache Serverless cache).
    ServerlessCacheName(String),
}

/// What was snapshotted, recorded by CreateSnapshot. Built by the constructors below (target resolution in
/// [`crate::backup::target`]), never field by field in a handler.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Source {
    /// The replication group, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replication_group_id: Option<String>,
    /// The node (member cluster) snapshotted; absent for a cluster-mode enabled group snapshot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_cluster_id: Option<String>,
    /// The ElastiCache Serverless cache snapshotted (`ServerlessCacheName`); absent for node-based caches. A
    /// serverless source has no group or node id, role `group`, cluster mode `enabled` (serverless caches always are),
    /// and its shard count is the number of objects its export produced (unknown before: 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serverless_cache_name: Option<String>,
    /// `replica`, `primary`, `group` (cluster mode enabled: ElastiCache picks the nodes) or `unknown`.
    pub role: NodeRole,
    /// `enabled` or `disabled`.
    pub cluster_mode: ClusterMode,
    /// `redis` or `valkey`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<String>,
    /// Engine version, e.g. `7.1.0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine_version: Option<String>,
    /// Number of shards (node groups) = number of `.rdb` objects the export must produce.
    pub shard_count: u32,
    /// The shards in `NodeGroupId` order, with their slot ranges (cluster mode enabled), as the group reported them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shards: Vec<ShardInfo>,
    /// What a restore recreates: node type, replicas, network and security settings.
    #[serde(default)]
    pub settings: SourceSettings,
    /// When the group (or standalone cluster) was created (`ReplicationGroupCreateTime` / `CacheClusterCreateTime`):
    /// with the kind and the id it is the target's identity, so a group deleted and re-created under the same id is
    /// another target ([`Source::identity`]). Absent in manifests written before it was recorded.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub created_at: Option<Timestamp>,
}

/// The source's settings a restore recreates (each may be overridden in the restore input). All optional: a value
/// ElastiCache did not report is left to the restore's defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceSettings {
    /// `CacheNodeType`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_type: Option<String>,
    /// Replicas per shard (members of a shard less its primary).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas_per_shard: Option<u32>,
    /// `CacheParameterGroupName`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_parameter_group_name: Option<String>,
    /// `CacheSubnetGroupName`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_subnet_group_name: Option<String>,
    /// `SecurityGroupIds`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security_group_ids: Vec<String>,
    /// `TransitEncryptionEnabled`.
    #[serde(default)]
    pub transit_encryption: bool,
    /// `AuthTokenEnabled`.
    #[serde(default)]
    pub auth_token_enabled: bool,
}

impl SourceSettings {
    /// What group `rg` and its node `cc` (any member) report.
    pub fn of(rg: Option<&ReplicationGroupInfo>, cc: Option<&CacheClusterInfo>) -> Self {
        Self {
            node_type: rg.and_then(|g| g.node_type.clone()),
            replicas_per_shard: rg
                .and_then(|g| g.node_groups.first())
                .map(|ng| u32::try_from(ng.members.len().saturating_sub(1)).unwrap_or(0)),
            cache_parameter_group_name: cc.and_then(|c| c.parameter_group.clone()),
            cache_subnet_group_name: cc.and_then(|c| c.subnet_group.clone()),
            security_group_ids: cc.map(|c| c.security_group_ids.clone()).unwrap_or_default(),
            transit_encryption: rg.is_some_and(|g| g.transit_encryption),
            auth_token_enabled: rg.is_some_and(|g| g.auth_token_enabled),
        }
    }
}

/// The shards of `rg` in `NodeGroupId` order.
fn shards_of_group(rg: &ReplicationGroupInfo) -> Vec<ShardInfo> {
    let mut shards: Vec<ShardInfo> = rg
        .node_groups
        .iter()
        .map(|ng| ShardInfo {
            node_group_id: ng.id.clone(),
            slots: ng.slots.clone(),
        })
        .collect();
    shards.sort_by(|a, b| a.node_group_id.cmp(&b.node_group_id));
    shards
}

impl Source {
    /// An ElastiCache Serverless cache: role `group`, cluster mode `enabled`, shards unknown until its export is
    /// listed (ElastiCache chooses how many objects an export writes; aws-facts §1.7).
    pub fn serverless(cache: &ServerlessCacheInfo) -> Self {
        Self {
            replication_group_id: None,
            cache_cluster_id: None,
            serverless_cache_name: Some(cache.name.clone()),
            role: NodeRole::Group,
            cluster_mode: ClusterMode::Enabled,
            engine: cache.engine.clone(),
            engine_version: cache
                .full_engine_version
                .clone()
                .or_else(|| cache.major_engine_version.clone()),
            shard_count: 0,
            shards: Vec::new(),
            settings: SourceSettings {
                security_group_ids: cache.security_group_ids.clone(),
                // Serverless caches encrypt in transit always (User Guide, "In-transit encryption (TLS) in
                // ElastiCache": serverless caches support TLS only).
                transit_encryption: true,
                ..SourceSettings::default()
            },
            created_at: cache.created,
        }
    }

    /// Whether the source is an ElastiCache Serverless cache.
    pub fn is_serverless(&self) -> bool {
        self.serverless_cache_name.is_some()
    }

    /// A standalone cluster: its only node, role `primary`, one shard.
    pub fn standalone(cc: &CacheClusterInfo) -> Self {
        Self {
            replication_group_id: None,
            cache_cluster_id: Some(cc.id.clone()),
            serverless_cache_name: None,
            role: NodeRole::Primary,
            cluster_mode: ClusterMode::Disabled,
            engine: cc.engine.clone(),
            engine_version: cc.engine_version.clone(),
            shard_count: 1,
            shards: Vec::new(),
            settings: SourceSettings::of(None, Some(cc)),
            created_at: cc.created,
        }
    }

    /// Node `cc` of the cluster-mode disabled group `rg`, in `role`: one shard.
    pub fn group_node(rg: &ReplicationGroupInfo, cc: &CacheClusterInfo, role: NodeRole) -> Self {
        Self {
            replication_group_id: Some(rg.id.clone()),
            cache_cluster_id: Some(cc.id.clone()),
            serverless_cache_name: None,
            role,
            cluster_mode: ClusterMode::Disabled,
            engine: rg.engine.clone().or_else(|| cc.engine.clone()),
            engine_version: cc.engine_version.clone(),
            shard_count: 1,
            shards: shards_of_group(rg),
            settings: SourceSettings::of(Some(rg), Some(cc)),
            created_at: rg.created,
        }
    }

    /// The cluster-mode enabled group `rg` as a whole: one shard per node group; `node` is any member, for the
    /// engine version and the network settings.
    pub fn cluster_mode_enabled(
        rg: &ReplicationGroupInfo,
        node: Option<&CacheClusterInfo>,
    ) -> Self {
        Self {
            replication_group_id: Some(rg.id.clone()),
            cache_cluster_id: None,
            serverless_cache_name: None,
            role: NodeRole::Group,
            cluster_mode: ClusterMode::Enabled,
            engine: rg.engine.clone(),
            engine_version: node.and_then(|n| n.engine_version.clone()),
            shard_count: u32::try_from(rg.node_groups.len()).unwrap_or(u32::MAX),
            shards: shards_of_group(rg),
            settings: SourceSettings::of(Some(rg), node),
            created_at: rg.created,
        }
    }

    /// A resumed snapshot of the whole group `rg` (no `CacheClusterId`): shard count from `NumNodeGroups`.
    pub fn resumed_group_snapshot(rg: &ReplicationGroupInfo, existing: &SnapshotInfo) -> Self {
        Self {
            replication_group_id: Some(rg.id.clone()),
            cache_cluster_id: None,
            serverless_cache_name: None,
            role: NodeRole::Group,
            cluster_mode: ClusterMode::from_cluster_enabled(rg.cluster_enabled),
            engine: rg.engine.clone(),
            engine_version: None,
            shard_count: Self::shards_of(rg, existing),
            shards: shards_of_group(rg),
            settings: SourceSettings::of(Some(rg), None),
            created_at: rg.created,
        }
    }

    /// A resumed snapshot of node `node` of group `rg`, whose role is read now.
    pub fn resumed_node_snapshot(
        rg: &ReplicationGroupInfo,
        existing: &SnapshotInfo,
        node: &str,
        role: NodeRole,
        info: Option<&CacheClusterInfo>,
    ) -> Self {
        Self {
            replication_group_id: Some(rg.id.clone()),
            cache_cluster_id: Some(node.to_string()),
            serverless_cache_name: None,
            role,
            cluster_mode: ClusterMode::from_cluster_enabled(rg.cluster_enabled),
            engine: rg.engine.clone(),
            engine_version: info.and_then(|c| c.engine_version.clone()),
            shard_count: Self::shards_of(rg, existing),
            shards: shards_of_group(rg),
            settings: SourceSettings::of(Some(rg), info),
            created_at: rg.created,
        }
    }

    fn shards_of(rg: &ReplicationGroupInfo, existing: &SnapshotInfo) -> u32 {
        existing
            .num_node_groups
            .unwrap_or_else(|| u32::try_from(rg.node_groups.len()).unwrap_or(1))
    }

    /// The group, or else the standalone cluster: the target a backup is kept and reported under (metrics, history,
    /// incidents), lower-cased as snapshot names are.
    pub fn target_id(&self) -> String {
        self.serverless_cache_name
            .as_deref()
            .or(self.replication_group_id.as_deref())
            .or(self.cache_cluster_id.as_deref())
            .unwrap_or_default()
            .to_ascii_lowercase()
    }

    /// The target's identity: kind, id and creation time (see [`TargetIdentity`]).
    pub fn identity(&self) -> TargetIdentity {
        TargetIdentity {
            kind: if self.serverless_cache_name.is_some() {
                "serverless-cache"
            } else if self.replication_group_id.is_some() {
                "replication-group"
            } else {
                "cache-cluster"
            },
            id: self.target_id(),
            created_at: self.created_at.map(rfc3339).unwrap_or_default(),
        }
    }

    /// The node, or else the group: what messages name as the snapshot's source.
    pub fn name(&self) -> &str {
        self.cache_cluster_id
            .as_deref()
            .or(self.replication_group_id.as_deref())
            .or(self.serverless_cache_name.as_deref())
            .unwrap_or_default()
    }
}

impl BackupRun {
    /// Whether this run backs up an ElastiCache Serverless cache: its request names `serverlessCacheName`, or its
    /// source is one. Its snapshot is then a serverless snapshot (`DescribeServerlessCacheSnapshots`,
    /// `ExportServerlessCacheSnapshot`, `DeleteServerlessCacheSnapshot`).
    pub fn is_serverless(&self) -> bool {
        self.request
            .as_ref()
            .is_some_and(|r| matches!(r.target, TargetRef::ServerlessCacheName(_)))
            || self.source.as_ref().is_some_and(Source::is_serverless)
    }
}

impl TargetRef {
    /// The kind of id (part of the snapshot name's hash) and the id.
    pub fn kind_and_id(&self) -> (TargetKind, &str) {
        match self {
            Self::ReplicationGroupId(id) => (TargetKind::ReplicationGroup, id),
            Self::CacheClusterId(id) => (TargetKind::CacheCluster, id),
            Self::ServerlessCacheName(id) => (TargetKind::ServerlessCache, id),
        }
    }
}

/// Snapshot progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotProgress {
    /// `SnapshotStatus` as ElastiCache reports it (`creating`, `available`, …).
    pub status: SnapshotStatus,
    /// True when CreateSnapshot found this run's snapshot already there and resumed it.
    #[serde(default)]
    pub resumed: bool,
    /// When CreateSnapshot was called.
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: Timestamp,
    /// When the snapshot must be `available`.
    #[serde(with = "time::serde::rfc3339")]
    pub deadline: Timestamp,
    /// When a check first saw it `available`.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub available_at: Option<Timestamp>,
    /// The node groups the snapshot holds (`NodeGroupId`, and `Slots` for cluster mode enabled), recorded by
    /// CheckSnapshot from DescribeSnapshots(`ShowNodeGroupConfig=true`) once the snapshot is `available`: what
    /// VerifyExport maps each exported object to, by the slots of its keys.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub node_groups: Vec<ShardInfo>,
}

/// Export progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportProgress {
    /// `TargetBucket`.
    pub bucket: String,
    /// `exporting` until every shard object is in S3, then `complete`.
    pub status: ExportStatus,
    /// True when the objects were already in S3 from an earlier attempt of this run.
    #[serde(default)]
    pub resumed: bool,
    /// When CopySnapshot was called.
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: Timestamp,
    /// When every object must be in S3.
    #[serde(with = "time::serde::rfc3339")]
    pub deadline: Timestamp,
    /// When a check found every object.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub completed_at: Option<Timestamp>,
    /// The objects found, one per shard.
    #[serde(default)]
    pub objects: Vec<ExportedObject>,
    /// A serverless export only, while it is `exporting`: the objects the previous check saw. ElastiCache does not
    /// say how many objects a serverless export writes, so it is complete only when a check sees the same objects
    /// as the one before and the snapshot is no longer exporting (see CheckExport).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seen: Vec<ExportedObject>,
}

/// One exported `.rdb` object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportedObject {
    /// S3 key.
    pub key: String,
    /// Object size, bytes.
    pub size_bytes: u64,
}

/// The verification of an export (VerifyExport): every shard object read end to end and checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Verification {
    /// S3 key of the manifest written next to the export (`<exportName>.manifest.json`).
    pub manifest_key: String,
    /// When the last object was checked.
    #[serde(with = "time::serde::rfc3339")]
    pub verified_at: Timestamp,
    /// Keys in all objects.
    pub keys: u64,
    /// Keys with an expiry, all objects.
    pub keys_with_expiry: u64,
    /// One entry per object.
    pub objects: Vec<VerifiedSummary>,
    /// The S3 Batch Replication job WriteManifest started to copy the verified objects to the vault (its id), when
    /// the deployment has a vault ([`crate::config::Vault`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault_replication_job: Option<String>,
}

/// What one object holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifiedSummary {
    /// S3 key.
    pub key: String,
    /// Size, bytes.
    pub size_bytes: u64,
    /// RDB version.
    pub rdb_version: u32,
    /// CRC-64 stored in the file, hex (none when disabled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crc64: Option<String>,
    /// SHA-256 of the object, hex.
    pub sha256: String,
    /// Keys.
    pub keys: u64,
    /// Keys with an expiry.
    pub keys_with_expiry: u64,
    /// Keys per type.
    pub types: BTreeMap<String, u64>,
}

/// What the last step did with the source snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cleanup {
    /// `deleted`, `already-deleted` or `kept`.
    pub source_snapshot: CleanupOutcome,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: Timestamp,
}

/// Polling state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Poll {
    /// Seconds the next Wait state waits (`SecondsPath`).
    pub wait_seconds: u64,
    /// Status checks made so far in the current phase.
    pub checks: u32,
}

/// Timing of one step across its invocations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepTiming {
    /// Number of invocations.
    pub invocations: u32,
    /// Start of the first invocation.
    #[serde(with = "time::serde::rfc3339")]
    pub first_started_at: Timestamp,
    /// End of the last invocation.
    #[serde(with = "time::serde::rfc3339")]
    pub last_finished_at: Timestamp,
    /// Summed handler time, milliseconds.
    pub total_millis: u64,
}

impl BackupRun {
    /// Records one invocation of `step` that ran from `started` to `finished`.
    pub fn record_timing(&mut self, step: &str, started: Timestamp, finished: Timestamp) {
        record_timing(&mut self.timings, step, started, finished);
    }

    /// The validated request, or `InvalidInput` if the document never went through CreateSnapshot.
    ///
    /// # Errors
    /// [`crate::BackupError::InvalidInput`] naming `request`.
    pub fn request(&self) -> Result<&Request, crate::BackupError> {
        from_create_snapshot(self.request.as_ref(), "request")
    }

    /// The snapshot name, or `InvalidInput` if missing.
    ///
    /// # Errors
    /// [`crate::BackupError::InvalidInput`] naming `snapshotName`.
    pub fn snapshot_name(&self) -> Result<&str, crate::BackupError> {
        from_create_snapshot(self.snapshot_name.as_deref(), "snapshotName")
    }

    /// The execution's id (ARN), or its name when no ARN was passed: the value of the snapshot tag
    /// [`crate::naming::SNAPSHOT_TAG`].
    pub fn execution_id(&self) -> &str {
        self.execution.id.as_deref().unwrap_or(&self.execution.name)
    }

    /// The export name, or `InvalidInput` if missing.
    ///
    /// # Errors
    /// [`crate::BackupError::InvalidInput`] naming `exportName`.
    pub fn export_name(&self) -> Result<&str, crate::BackupError> {
        from_create_snapshot(self.export_name.as_deref(), "exportName")
    }

    /// The source, or `InvalidInput` if missing.
    ///
    /// # Errors
    /// [`crate::BackupError::InvalidInput`] naming `source`.
    pub fn source(&self) -> Result<&Source, crate::BackupError> {
        from_create_snapshot(self.source.as_ref(), "source")
    }
}

/// Adds one invocation of `step` (from `started` to `finished`) to `timings` (backup and restore documents alike).
pub fn record_timing(
    timings: &mut BTreeMap<String, StepTiming>,
    step: &str,
    started: Timestamp,
    finished: Timestamp,
) {
    let millis =
        u64::try_from((finished - started).whole_milliseconds().max(0)).unwrap_or(u64::MAX);
    timings
        .entry(step.to_string())
        .and_modify(|t| {
            t.invocations += 1;
            t.last_finished_at = finished;
            t.total_millis = t.total_millis.saturating_add(millis);
        })
        .or_insert(StepTiming {
            invocations: 1,
            first_started_at: started,
            last_finished_at: finished,
            total_millis: millis,
        });
}

/// A part of the run document that CreateSnapshot writes, or `InvalidInput` naming it.
fn from_create_snapshot<T>(part: Option<T>, field: &str) -> Result<T, crate::BackupError> {
    part.ok_or_else(|| {
        crate::BackupError::invalid_input(
            field,
            "is missing: the run document must come from CreateSnapshot",
        )
    })
}

/// The phase durations of the previous verified backup of a target, in the run document as `history`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhaseHistory {
    /// S3 key of the manifest it comes from.
    pub manifest: String,
    /// Seconds from CreateSnapshot to the snapshot `available`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_seconds: Option<u64>,
    /// Seconds from CopySnapshot to every shard object found in S3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub export_seconds: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn pass_state_document_deserializes() {
        let doc: BackupRun = serde_json::from_str(
            r#"{"input":{"replicationGroupId":"orders"},"execution":{"name":"run-1","startTime":"2026-11-22T03:00:00.123Z"}}"#,
        )
        .unwrap();
        assert_eq!(doc.execution.name, "run-1");
        assert_eq!(doc.input["replicationGroupId"], "orders");
        assert!(doc.request.is_none());
    }

    #[test]
    fn round_trips_with_camel_case_fields() {
        let mut doc = BackupRun {
            snapshot_name: Some("ecb-x-1".into()),
            ..Default::default()
        };
        doc.poll.wait_seconds = 7;
        doc.record_timing(
            "CheckSnapshot",
            datetime!(2026-11-22 0:00 UTC),
            datetime!(2026-11-22 0:00:01 UTC),
        );
        doc.record_timing(
            "CheckSnapshot",
            datetime!(2026-11-22 0:01 UTC),
            datetime!(2026-11-22 0:01:00.5 UTC),
        );
        let json = serde_json::to_value(&doc).unwrap();
        assert_eq!(json["snapshotName"], "ecb-x-1");
        assert_eq!(json["poll"]["waitSeconds"], 7);
        assert_eq!(json["timings"]["CheckSnapshot"]["invocations"], 2);
        assert_eq!(json["timings"]["CheckSnapshot"]["totalMillis"], 1500);
        let back: BackupRun = serde_json::from_value(json).unwrap();
        assert_eq!(back, doc);
    }

    #[test]
    fn missing_parts_are_typed_errors() {
        let doc = BackupRun::default();
        assert_eq!(
            doc.snapshot_name().unwrap_err().error_type(),
            "InvalidInput"
        );
        assert!(doc.request().unwrap_err().to_string().contains("request"));
    }
}
