//! The ports the handlers are written against, and the plain data they exchange.
//!
//! Production uses the AWS SDK adapters in [`crate::aws`]; unit tests use the in-memory fakes in `testing`.

use async_trait::async_trait;

use crate::error::BackupError;
use crate::manifest::RdbSummary;
use crate::run::{NodeRole, SnapshotStatus, Timestamp};

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
}

/// A snapshot as `DescribeSnapshots` reports it.
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
    pub node_groups: Vec<crate::run::ShardInfo>,
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

/// ElastiCache operations the step functions use.
#[async_trait]
pub trait Snapshots: Send + Sync {
    /// `DescribeReplicationGroups` for one id. Errors: `TargetNotFound`, `Throttled`, `AwsError`.
    async fn replication_group(&self, id: &str) -> Result<ReplicationGroupInfo, BackupError>;
    /// `DescribeCacheClusters` for one id. Errors: `TargetNotFound`, `Throttled`, `AwsError`.
    async fn cache_cluster(&self, id: &str) -> Result<CacheClusterInfo, BackupError>;
    /// `CreateSnapshot` with `Tags` (which needs `AddTagsToResource` too). Errors: `ClusterBusy`,
    /// `TargetNotFound`, `SnapshotQuotaExceeded`, `NotSupported`, `Throttled`, `AwsError`; an existing name is
    /// [`CreateOutcome::AlreadyExists`], not an error.
    async fn create_snapshot(
        &self,
        name: &str,
        target: &SnapshotTarget,
        tags: &[(String, String)],
    ) -> Result<CreateOutcome, BackupError>;
    /// `DescribeSnapshots` by name; `None` when it does not exist. Errors: `Throttled`, `AwsError`.
    async fn snapshot(&self, name: &str) -> Result<Option<SnapshotInfo>, BackupError>;
    /// `CopySnapshot` with `TargetBucket` (export to S3). Errors: `ExportRejected`, `ClusterBusy` (snapshot busy),
    /// `SnapshotFailed` (source gone), `SnapshotQuotaExceeded`, `Throttled`, `AwsError`.
    async fn export_snapshot(
        &self,
        source: &str,
        target_name: &str,
        bucket: &str,
    ) -> Result<(), BackupError>;
    /// `DeleteSnapshot`. Errors: `ClusterBusy` (`InvalidSnapshotState`), `Throttled`, `AwsError`.
    async fn delete_snapshot(&self, name: &str) -> Result<DeleteOutcome, BackupError>;
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

/// ElastiCache's event log. Node-based clusters report snapshot and export outcomes there (and to their SNS topic);
/// the EventBridge snapshot events are documented for serverless caches only (User Guide, "Viewing ElastiCache
/// events"; aws-facts §2.2).
#[async_trait]
pub trait EventLog: Send + Sync {
    /// `DescribeEvents` of every source from `since` to now (all pages; ElastiCache keeps 14 days). Which source
    /// an export's events are recorded on (the node snapshotted, a member node of a group snapshot, the group) is
    /// not documented, so no source filter is applied. Errors: `Throttled`, `AwsRejected`, `AwsError`.
    async fn events_since(&self, since: Timestamp) -> Result<Vec<SourceEvent>, BackupError>;
}

/// One exported object read end to end and checked (also the result of a per-shard VerifyExport invocation, so
/// it travels as JSON: `{"key", "sizeBytes", "sha256", "rdb"}`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifiedObject {
    /// S3 key.
    pub key: String,
    /// Bytes read (the whole object).
    pub size_bytes: u64,
    /// SHA-256 of the object, 64 lower-case hex digits.
    pub sha256: String,
    /// What the RDB holds (version, keys, types, CRC-64), as the manifest records it.
    pub rdb: RdbSummary,
}

/// Access to the export bucket.
#[async_trait]
pub trait ExportStore: Send + Sync {
    /// Every object under `prefix` (`ListObjectsV2`, all pages). Errors: `ExportRejected` (no such bucket),
    /// `Throttled`, `AwsError`.
    async fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<StoredObject>, BackupError>;

    /// Writes a JSON document (`PutObject`, `application/json`). Errors: `Throttled`, `AwsError`.
    async fn put_json(&self, bucket: &str, key: &str, body: String) -> Result<(), BackupError>;
}

/// The end-to-end check of one exported object (used by VerifyExport only; implemented with `rdb-check` by the
/// `rdb-verify` crate, so the other functions do not link the checker).
#[async_trait]
pub trait Verifier: Send + Sync {
    /// Reads `s3://bucket/key` end to end in bounded memory, checks it as an RDB file and hashes it (SHA-256).
    /// Errors: `ExportCorrupt` (not a sound RDB; the message names the key and the offset), `Throttled`,
    /// `AwsError` (reading failed: never mistaken for corruption).
    async fn verify_object(&self, bucket: &str, key: &str) -> Result<VerifiedObject, BackupError>;
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

/// Result of CreateReplicationGroup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupCreateOutcome {
    /// Creation started.
    Created,
    /// `ReplicationGroupAlreadyExists`: the caller decides whether it is its own (tags) or someone else's.
    AlreadyExists,
}

/// ElastiCache operations of a restore.
#[async_trait]
pub trait Groups: Send + Sync {
    /// `CreateReplicationGroup`. Errors: `RestoreRejected` (parameters, quotas, a seed ElastiCache cannot read;
    /// the AWS message kept), `Throttled`, `AwsError`; an existing id is [`GroupCreateOutcome::AlreadyExists`].
    async fn create_replication_group(
        &self,
        group: &NewGroup,
    ) -> Result<GroupCreateOutcome, BackupError>;
    /// `DeleteReplicationGroup`. Errors: `ClusterBusy` (`InvalidReplicationGroupState`), `Throttled`,
    /// `AwsError`; a group already gone is [`DeleteOutcome::NotFound`].
    async fn delete_replication_group(&self, id: &str) -> Result<DeleteOutcome, BackupError>;
    /// `ListTagsForResource` of a group ARN. Errors: `TargetNotFound`, `Throttled`, `AwsError`.
    async fn tags(&self, arn: &str) -> Result<Vec<(String, String)>, BackupError>;
    /// `AddTagsToResource` of a group ARN: adds `tags`, a key already there taking the new value (Amazon
    /// ElastiCache API Reference, AddTagsToResource). Errors: `TargetNotFound`, `Throttled`, `AwsError`.
    async fn add_tags(&self, arn: &str, tags: &[(String, String)]) -> Result<(), BackupError>;
}

/// The account's caches in this region, for fleet discovery (`discover` of the `fleet` function).
#[async_trait]
pub trait Inventory: Send + Sync {
    /// Every replication group: `DescribeReplicationGroups` without an id, every page (`Marker`). Errors:
    /// `Throttled`, `AwsError`.
    async fn replication_groups(&self) -> Result<Vec<ReplicationGroupInfo>, BackupError>;
    /// Every cache cluster that is not a member of a replication group: `DescribeCacheClusters` with
    /// `ShowCacheClustersNotInReplicationGroups`, every page (Memcached clusters included). Errors: `Throttled`,
    /// `AwsError`.
    async fn standalone_cache_clusters(&self) -> Result<Vec<CacheClusterInfo>, BackupError>;
    /// Every manual snapshot whose name starts `ecb-`: `DescribeSnapshots` with `SnapshotSource=user`, every
    /// page. Errors: `Throttled`, `AwsError`.
    async fn our_snapshots(&self) -> Result<Vec<SnapshotInfo>, BackupError>;
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

/// Reads a restored node over the Redis protocol (only commands ElastiCache allows: `INFO`, `TYPE`, `READONLY`),
/// over TLS when `tls` (the group has in-transit encryption).
#[async_trait]
pub trait DataProbe: Send + Sync {
    /// Keys per database of the node. Errors: `AwsError` (connection or protocol failure).
    async fn counts(&self, node: &NodeAccess) -> Result<NodeCounts, BackupError>;
    /// `TYPE` of each of `keys` in database `db` (`none` for a missing key). Errors: `AwsError`.
    async fn key_types(
        &self,
        node: &NodeAccess,
        db: u64,
        keys: &[String],
    ) -> Result<Vec<String>, BackupError>;
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
/// ([`crate::export::preflight`]).
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

/// The export bucket, read before anything is created.
#[async_trait]
pub trait ExportBucket: Send + Sync {
    /// `HeadBucket` (with `ExpectedBucketOwner` = `expected_owner` when given), then `GetBucketLocation`,
    /// `GetBucketPolicy` and `GetBucketAcl`. Errors: `InvalidInput` (field `bucket`) when the bucket does not exist,
    /// `ExportRejected` when it belongs to another account or the function may not see it (403), `Throttled`,
    /// `AwsError`.
    async fn bucket_facts(
        &self,
        bucket: &str,
        expected_owner: Option<&str>,
    ) -> Result<BucketFacts, BackupError>;
}

/// Reads whole objects (manifests), for the restore.
#[async_trait]
pub trait ObjectReader: Send + Sync {
    /// `GetObject`; `None` when the key does not exist. Errors: `BackupNotFound` (no such bucket), `Throttled`,
    /// `AwsError`.
    async fn get_object(&self, bucket: &str, key: &str) -> Result<Option<Vec<u8>>, BackupError>;
}

/// Deletes objects of the export bucket (the retention function only).
#[async_trait]
pub trait ObjectDeleter: Send + Sync {
    /// `DeleteObject` without a version id: on the versioned export bucket this adds a delete marker and the
    /// object's data stays as a noncurrent version until the bucket's lifecycle rule expires it — so Object Lock
    /// retention is never bypassed and a mistaken deletion can be undone within the noncurrent-version window.
    /// Deleting a key that does not exist succeeds. Errors: `AwsRejected` (AccessDenied), `ExportRejected` (no such
    /// bucket), `Throttled`, `AwsError`.
    async fn delete_object(&self, bucket: &str, key: &str) -> Result<(), BackupError>;
}

/// Copies a verified shard object to where ElastiCache may read it when seeding a restore (`object-acl` mode,
/// [`crate::partition::SeedingMode`]).
#[async_trait]
pub trait SeedCopier: Send + Sync {
    /// Server-side copy of `s3://from_bucket/from_key` (`size_bytes` long) to `s3://to_bucket/to_key`, encrypted
    /// with SSE-S3 (seeding reads SSE-S3 objects only), with an object ACL granting `READ` and `READ_ACP` to the
    /// canonical user `grantee` (ElastiCache's: User Guide, "Seeding a new self-designed cluster with an externally
    /// created backup"). `CopyObject` up to 5 GiB; above, a multipart upload of `UploadPartCopy` parts (S3 API
    /// Reference, `CopyObject`: "up to 5 GB in size in a single atomic action"), aborted on failure. Errors:
    /// `AwsRejected` (AccessDenied, no such bucket), `Throttled`, `AwsError`.
    async fn copy_for_seeding(
        &self,
        from_bucket: &str,
        from_key: &str,
        size_bytes: u64,
        to_bucket: &str,
        to_key: &str,
        grantee: &str,
    ) -> Result<(), BackupError>;
}

/// Sets Object Lock retention on an object (`PutObjectRetention`, S3 API Reference): WriteManifest locks a backup
/// exactly when it is proven good.
#[async_trait]
pub trait ObjectLocker: Send + Sync {
    /// `PutObjectRetention` on the current version of `s3://bucket/key`: `mode` (`GOVERNANCE` | `COMPLIANCE`) until
    /// `until`. Errors: `AwsRejected` (AccessDenied; `InvalidRequest` when the bucket has no Object Lock),
    /// `Throttled`, `AwsError`.
    async fn lock_object(
        &self,
        bucket: &str,
        key: &str,
        mode: crate::config::ObjectLockMode,
        until: crate::run::Timestamp,
    ) -> Result<(), BackupError>;
}

/// Reads secret strings (Secrets Manager `SecretString`).
#[async_trait]
pub trait Secrets: Send + Sync {
    /// `SecretString` of `arn`.
    ///
    /// # Errors
    /// A message (never containing the secret) when it cannot be read.
    async fn secret_string(&self, arn: &str) -> Result<String, String>;
}

/// A secret value: never printed by `Debug` or `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// Reads an execution's history (Step Functions `GetExecutionHistory`), for the alerts.
#[async_trait]
pub trait ExecutionHistory: Send + Sync {
    /// The failure context of `execution_arn`.
    ///
    /// # Errors
    /// A message when the history cannot be read (the alert is then sent without it).
    async fn failure_context(
        &self,
        execution_arn: &str,
    ) -> Result<crate::execution_history::FailureContext, String>;
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
