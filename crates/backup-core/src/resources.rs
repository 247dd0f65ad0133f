//! The plain data the ports exchange: ElastiCache and S3 resources as this tool reads them (the fields it uses, named
//! as the AWS API reference names them), and what a port answers.

use crate::model::{NodeRole, SnapshotStatus, Timestamp};

/// The status string ElastiCache reports for a group or cluster that accepts a snapshot.
pub const AVAILABLE: &str = "available";

/// A replication group as `DescribeReplicationGroups` reports it (the fields this tool reads).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplicationGroupInfo {
    /// `ReplicationGroupId`.
    pub id: String,
    /// `Status`: `creating | available | modifying | deleting | create-failed | snapshotting`.
    pub status: String,
    /// `Engine` (`redis`, `valkey`), when reported.
    pub engine: Option<String>,
    /// `ClusterEnabled`.
    pub cluster_enabled: bool,
    /// `DataTiering == enabled`.
    pub data_tiering: bool,
    /// `NodeGroups` (one per shard).
    pub node_groups: Vec<NodeGroupInfo>,
    /// `ARN`.
    pub arn: Option<String>,
    /// `CacheNodeType`, e.g. `cache.r7g.large`.
    pub node_type: Option<String>,
    /// `TransitEncryptionEnabled`.
    pub transit_encryption: bool,
    /// `AuthTokenEnabled`.
    pub auth_token_enabled: bool,
    /// `ReplicationGroupCreateTime`: with the id, it tells a group from one deleted and re-created under the same
    /// id (Amazon ElastiCache API Reference, `ReplicationGroup`).
    pub created: Option<Timestamp>,
}

impl ReplicationGroupInfo {
    /// `Status` is `available` (not `snapshotting`, `modifying`, …).
    pub fn is_available(&self) -> bool {
        self.status == AVAILABLE
    }
}

/// One shard (`NodeGroup`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeGroupInfo {
    /// `NodeGroupId` (`0001`, …).
    pub id: String,
    /// `NodeGroupMembers`.
    pub members: Vec<NodeGroupMemberInfo>,
    /// `Slots` (cluster mode enabled), e.g. `0-5460`.
    pub slots: Option<String>,
}

/// One node of a shard (`NodeGroupMember`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeGroupMemberInfo {
    /// `CacheClusterId` of the member cluster (one node).
    pub cache_cluster_id: String,
    /// `CurrentRole` (`primary` | `replica`), only reported for cluster mode disabled.
    pub current_role: Option<NodeRole>,
}

/// A cache cluster (node) as `DescribeCacheClusters` reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CacheClusterInfo {
    /// `CacheClusterId`.
    pub id: String,
    /// `CacheClusterStatus` (`available`, `snapshotting`, `modifying`, …).
    pub status: String,
    /// `Engine` (`redis`, `valkey`, `memcached`).
    pub engine: Option<String>,
    /// `EngineVersion`.
    pub engine_version: Option<String>,
    /// `ReplicationGroupId` when the node belongs to a group.
    pub replication_group_id: Option<String>,
    /// `CacheNodes[0].Endpoint` (DescribeCacheClusters with `ShowCacheNodeInfo`).
    pub endpoint: Option<Endpoint>,
    /// `CacheParameterGroup.CacheParameterGroupName`.
    pub parameter_group: Option<String>,
    /// `CacheSubnetGroupName`.
    pub subnet_group: Option<String>,
    /// `SecurityGroups[].SecurityGroupId`.
    pub security_group_ids: Vec<String>,
    /// `ARN` (what `ListTagsForResource` takes).
    pub arn: Option<String>,
    /// `CacheClusterCreateTime` (Amazon ElastiCache API Reference, `CacheCluster`).
    pub created: Option<Timestamp>,
}

/// Where a node answers (`Endpoint`: address and port).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Endpoint {
    /// Host name or address.
    pub address: String,
    /// TCP port.
    pub port: u16,
}

/// An ElastiCache Serverless cache as `DescribeServerlessCaches` reports it (Amazon ElastiCache API Reference,
/// `ServerlessCache`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerlessCacheInfo {
    /// `ServerlessCacheName` (stored lower-cased).
    pub name: String,
    /// `Status`: `creating | available | deleting | create-failed | modifying` (the API reference lists them
    /// upper-case; compared case-insensitively).
    pub status: String,
    /// `Engine` (`redis`, `valkey`, `memcached`).
    pub engine: Option<String>,
    /// `MajorEngineVersion`, e.g. `7`.
    pub major_engine_version: Option<String>,
    /// `FullEngineVersion`, e.g. `7.1`.
    pub full_engine_version: Option<String>,
    /// `ARN` (what `ListTagsForResource` takes).
    pub arn: Option<String>,
    /// `CreateTime`: with the name, it tells a cache from one deleted and re-created under the same name.
    pub created: Option<Timestamp>,
    /// `Endpoint`.
    pub endpoint: Option<Endpoint>,
    /// `SecurityGroupIds`.
    pub security_group_ids: Vec<String>,
    /// `SubnetIds`.
    pub subnet_ids: Vec<String>,
    /// `UserGroupId`.
    pub user_group_id: Option<String>,
    /// `KmsKeyId`.
    pub kms_key_id: Option<String>,
    /// `CacheUsageLimits.DataStorage.Maximum`, with its `Unit` (`GB`), when set.
    pub data_storage_max_gb: Option<i32>,
    /// `CacheUsageLimits.ECPUPerSecond.Maximum`, when set.
    pub ecpu_per_second_max: Option<i32>,
}

impl ServerlessCacheInfo {
    /// `Status` is `available` (case-insensitive: the API reference lists `AVAILABLE`).
    pub fn is_available(&self) -> bool {
        self.status.eq_ignore_ascii_case(AVAILABLE)
    }
}

impl CacheClusterInfo {
    /// `CacheClusterStatus` is `available`.
    pub fn is_available(&self) -> bool {
        self.status == AVAILABLE
    }
}

/// What CreateSnapshot is called with: exactly one id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnapshotTarget {
    /// `ReplicationGroupId` (cluster mode enabled: ElastiCache snapshots every shard).
    ReplicationGroup(String),
    /// `CacheClusterId` (one node: a replica, or the primary / a standalone cluster).
    CacheCluster(String),
    /// `ServerlessCacheName`: `CreateServerlessCacheSnapshot` instead of `CreateSnapshot`.
    ServerlessCache(String),
}

/// A snapshot as `DescribeSnapshots` (node-based) or `DescribeServerlessCacheSnapshots` reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SnapshotInfo {
    /// `SnapshotName`.
    pub name: String,
    /// `SnapshotStatus` (`creating`, `available`, `copying`, `deleting`, `failed`, or a value AWS adds later).
    pub status: SnapshotStatus,
    /// `ReplicationGroupId`.
    pub replication_group_id: Option<String>,
    /// `CacheClusterId`.
    pub cache_cluster_id: Option<String>,
    /// `ServerlessCacheConfiguration.ServerlessCacheName`, for a serverless snapshot
    /// (`DescribeServerlessCacheSnapshots`).
    pub serverless_cache_name: Option<String>,
    /// `NumNodeGroups`.
    pub num_node_groups: Option<u32>,
    /// Number of `NodeSnapshots`.
    pub node_snapshot_count: u32,
    /// The earliest `NodeSnapshots[].SnapshotCreateTime`, once a node's snapshot is taken.
    pub created: Option<Timestamp>,
    /// `ARN` (what `ListTagsForResource` takes).
    pub arn: Option<String>,
    /// The node groups the snapshot holds, in `NodeGroupId` order: `NodeSnapshots[].NodeGroupConfiguration`
    /// (`NodeGroupId`, `Slots` for cluster mode enabled) as DescribeSnapshots returns them with
    /// `ShowNodeGroupConfig=true` (Amazon ElastiCache API Reference, `DescribeSnapshots`, `NodeSnapshot`). Empty
    /// when AWS did not report them.
    pub node_groups: Vec<crate::model::ShardInfo>,
}

/// Result of CreateSnapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateOutcome {
    /// A new snapshot was started.
    Created(SnapshotInfo),
    /// `SnapshotAlreadyExistsFault`: a snapshot of that name exists (this run's, on a retry or duplicated start).
    AlreadyExists,
}

/// Result of DeleteSnapshot and DeleteReplicationGroup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteOutcome {
    /// Deletion started (`deleting`).
    Deleted,
    /// `SnapshotNotFoundFault` / `ReplicationGroupNotFoundFault`: already gone.
    NotFound,
}

/// An object in the export bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    /// S3 key.
    pub key: String,
    /// Size, bytes.
    pub size_bytes: u64,
    /// `LastModified`.
    pub last_modified: Option<Timestamp>,
}

/// One ElastiCache event (`DescribeEvents`, Amazon ElastiCache API Reference: `Event`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceEvent {
    /// `SourceIdentifier`.
    pub source_id: String,
    /// `Message`.
    pub message: String,
    /// `Date`.
    pub date: Option<Timestamp>,
}

/// One shard of a group to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewShard {
    /// `NodeGroupId`.
    pub node_group_id: String,
    /// `Slots` (cluster mode enabled: required when seeding from S3).
    pub slots: Option<String>,
}

/// What CreateReplicationGroup is called with (Amazon ElastiCache API Reference, `CreateReplicationGroup`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewGroup {
    /// `ReplicationGroupId`.
    pub id: String,
    /// `ReplicationGroupDescription`.
    pub description: String,
    /// `Engine`.
    pub engine: Option<String>,
    /// `EngineVersion`.
    pub engine_version: Option<String>,
    /// `CacheNodeType`.
    pub node_type: Option<String>,
    /// Cluster mode enabled (`ClusterMode=enabled`, `NumNodeGroups`, `NodeGroupConfiguration` with `Slots`).
    pub cluster_mode_enabled: bool,
    /// The shards, in order (`NumNodeGroups` = their number).
    pub shards: Vec<NewShard>,
    /// `ReplicasPerNodeGroup`.
    pub replicas_per_shard: Option<u32>,
    /// `SnapshotArns`: S3 object ARNs, one per shard.
    pub snapshot_arns: Vec<String>,
    /// `SnapshotName`: an ElastiCache snapshot (instead of `snapshot_arns`).
    pub snapshot_name: Option<String>,
    /// `CacheParameterGroupName`.
    pub parameter_group: Option<String>,
    /// `CacheSubnetGroupName`.
    pub subnet_group: Option<String>,
    /// `SecurityGroupIds`.
    pub security_group_ids: Vec<String>,
    /// `TransitEncryptionEnabled`.
    pub transit_encryption: bool,
    /// `AuthToken` (needs `transit_encryption`).
    pub auth_token: Option<Secret>,
    /// `Tags`.
    pub tags: Vec<(String, String)>,
}

/// What CreateServerlessCache is called with (Amazon ElastiCache API Reference, `CreateServerlessCache`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewServerlessCache {
    /// `ServerlessCacheName`.
    pub name: String,
    /// `Description`.
    pub description: String,
    /// `Engine` (`redis` | `valkey`).
    pub engine: String,
    /// `MajorEngineVersion`.
    pub major_engine_version: Option<String>,
    /// `SnapshotArnsToRestore`: S3 object ARNs of the backup's shard objects, or the ARN of its kept snapshot.
    pub snapshot_arns_to_restore: Vec<String>,
    /// `SecurityGroupIds`.
    pub security_group_ids: Vec<String>,
    /// `SubnetIds`.
    pub subnet_ids: Vec<String>,
    /// `UserGroupId`.
    pub user_group_id: Option<String>,
    /// `KmsKeyId`.
    pub kms_key_id: Option<String>,
    /// `CacheUsageLimits.DataStorage` (`Maximum`, `Unit` GB).
    pub data_storage_max_gb: Option<u32>,
    /// `CacheUsageLimits.ECPUPerSecond.Maximum`.
    pub ecpu_per_second_max: Option<u32>,
    /// `Tags`.
    pub tags: Vec<(String, String)>,
}

/// Result of CreateReplicationGroup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupCreateOutcome {
    /// Creation started.
    Created,
    /// `ReplicationGroupAlreadyExists` / `ServerlessCacheAlreadyExistsFault`: the caller decides whether it is its
    /// own (tags) or someone else's.
    AlreadyExists,
}

/// What a node holds (`INFO keyspace`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeCounts {
    /// Keys per database.
    pub databases: std::collections::BTreeMap<u64, u64>,
}

impl NodeCounts {
    /// Keys in all databases.
    pub fn keys(&self) -> u64 {
        self.databases.values().sum()
    }
}

/// How to reach one node: where, over TLS or not, with which AUTH token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeAccess {
    /// Address and port.
    pub endpoint: Endpoint,
    /// TLS in transit.
    pub tls: bool,
    /// AUTH token.
    pub auth: Option<Secret>,
}

/// What S3 says about an export bucket, for the preflight before any snapshot is taken
/// ([`crate::backup::export::preflight`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BucketFacts {
    /// `GetBucketLocation`'s `LocationConstraint`, normalized: `us-east-1` for the empty answer, `eu-west-1` for `EU`.
    pub region: String,
    /// The bucket policy JSON (`GetBucketPolicy`); `None` when the bucket has none (`NoSuchBucketPolicy`).
    pub policy: Option<String>,
    /// Canonical user ids granted `WRITE` or `FULL_CONTROL` by the bucket ACL (`GetBucketAcl`).
    pub acl_writers: Vec<String>,
    /// What could not be read (AccessDenied on GetBucketPolicy / GetBucketAcl): the check is then skipped, with a
    /// warning, rather than refusing a bucket that may be fine.
    pub unreadable: Vec<String>,
}

/// A secret value: never printed by `Debug` or `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// Which state machine an execution is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum MachineKind {
    /// The backup state machine.
    Backup,
    /// The restore state machine (drills and restores).
    Restore,
}

/// One Step Functions execution, as the `Executions` port lists it (ListExecutions + DescribeExecution).
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionRecord {
    /// The execution name.
    pub name: String,
    /// The state machine's ARN.
    pub machine_arn: String,
    /// Which state machine.
    pub machine: MachineKind,
    /// Its input (the run document's input).
    pub input: serde_json::Value,
    /// `RUNNING`, `SUCCEEDED`, `FAILED`, `TIMED_OUT`, `ABORTED`, …
    pub status: String,
    /// Start.
    pub started_at: Timestamp,
    /// End, when ended.
    pub stopped_at: Option<Timestamp>,
    /// The execution's error name, when it failed.
    pub error: Option<String>,
    /// The execution's cause, when it failed.
    pub cause: Option<String>,
}

impl ExecutionRecord {
    /// Ended without success.
    pub fn failed(&self) -> bool {
        matches!(self.status.as_str(), "FAILED" | "TIMED_OUT" | "ABORTED")
    }

    /// A drill of the restore state machine (`"drill": true` in its input).
    pub fn is_drill(&self) -> bool {
        self.machine == MachineKind::Restore
            && self
                .input
                .get("drill")
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(false)
    }

    /// The target the input names (`replicationGroupId`, `cacheClusterId`, `serverlessCacheName`), lower-cased.
    pub fn named_target(&self) -> Option<String> {
        [
            "replicationGroupId",
            "cacheClusterId",
            "serverlessCacheName",
        ]
        .iter()
        .find_map(|k| self.input.get(*k).and_then(serde_json::Value::as_str))
        .filter(|s| !s.is_empty())
        .map(str::to_lowercase)
    }

    /// The export name a restore input's `manifest` names (`s3://b/<export>.manifest.json`).
    pub fn manifest_export(&self) -> Option<String> {
        let m = self.input.get("manifest")?.as_str()?;
        let key = m.rsplit('/').next().unwrap_or(m);
        key.strip_suffix(".manifest.json").map(str::to_string)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_an_auth_token() {
        let token = Secret("T0KENSECRET".into());
        let node = NodeAccess {
            endpoint: Endpoint {
                address: "orders.example".into(),
                port: 6379,
            },
            tls: true,
            auth: Some(token.clone()),
        };
        let shown = format!("{token:?} {node:?} {node:#?}");
        assert!(!shown.contains("T0KENSECRET"), "{shown}");
        assert!(
            shown.contains("redacted") && shown.contains("orders.example"),
            "{shown}"
        );
    }
}
