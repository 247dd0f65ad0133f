//! The ports the handlers are written against: traits only (the data they exchange is in [`crate::resources`] and
//! [`crate::model`]).
//!
//! Production uses the adapters of the `aws-adapters` crate; unit tests use the in-memory fakes in `testing`.

use async_trait::async_trait;

use crate::error::BackupError;
use crate::model::{Timestamp, VerifiedObject};
use crate::resources::*;

/// ElastiCache operations the step functions use.
#[async_trait]
pub trait Snapshots: Send + Sync {
    /// `DescribeReplicationGroups` for one id. Errors: `TargetNotFound`, `Throttled`, `AwsError`.
    async fn replication_group(&self, id: &str) -> Result<ReplicationGroupInfo, BackupError>;
    /// `DescribeCacheClusters` for one id. Errors: `TargetNotFound`, `Throttled`, `AwsError`.
    async fn cache_cluster(&self, id: &str) -> Result<CacheClusterInfo, BackupError>;
    /// `CreateSnapshot` with `Tags` (which needs `AddTagsToResource` too); for
    /// [`SnapshotTarget::ServerlessCache`], `CreateServerlessCacheSnapshot` (24 manual snapshots per serverless cache
    /// per day). Errors: `ClusterBusy` (also `InvalidServerlessCacheStateFault`), `TargetNotFound`,
    /// `SnapshotQuotaExceeded` (also `ServerlessCacheSnapshotQuotaExceededFault`), `NotSupported`, `Throttled`,
    /// `AwsError`; an existing name (`SnapshotAlreadyExistsFault`, `ServerlessCacheSnapshotAlreadyExistsFault`) is
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
    /// `DescribeServerlessCaches` for one name (Amazon ElastiCache API Reference). Errors: `TargetNotFound`
    /// (`ServerlessCacheNotFoundFault`), `Throttled`, `AwsError`.
    async fn serverless_cache(&self, name: &str) -> Result<ServerlessCacheInfo, BackupError>;
    /// `DescribeServerlessCacheSnapshots` by `ServerlessCacheSnapshotName`; `None` when it does not exist
    /// (`ServerlessCacheSnapshotNotFoundFault`). Errors: `Throttled`, `AwsError`.
    async fn serverless_snapshot(&self, name: &str) -> Result<Option<SnapshotInfo>, BackupError>;
    /// `ExportServerlessCacheSnapshot(ServerlessCacheSnapshotName, S3BucketName)`: ElastiCache chooses the object
    /// names (undocumented; see [`crate::backup::export`]). Errors: `ExportRejected` (bucket refused, Memcached),
    /// `ClusterBusy` (`InvalidServerlessCacheSnapshotStateFault`), `SnapshotFailed` (snapshot gone), `Throttled`,
    /// `AwsError`.
    async fn export_serverless_snapshot(&self, name: &str, bucket: &str)
    -> Result<(), BackupError>;
    /// `DeleteServerlessCacheSnapshot`. Errors: `ClusterBusy` (`InvalidServerlessCacheSnapshotStateFault`),
    /// `Throttled`, `AwsError`; a snapshot already gone is [`DeleteOutcome::NotFound`].
    async fn delete_serverless_snapshot(&self, name: &str) -> Result<DeleteOutcome, BackupError>;
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

    /// Reads `s3://bucket/key` as [`Self::verify_object`] does, from the start or from where an earlier invocation
    /// paused (`from`), for about `budget` at most: returns the verified object, or where it paused. A checkpoint
    /// this version cannot go on from (another format) is not an error: the object is read from its first byte
    /// again, and [`ShardStep::restarted`] says why. Errors: as [`Self::verify_object`]; `ExportCorrupt` when the
    /// object is not the one the checkpoint was taken on (another ETag or size).
    async fn verify_object_from(
        &self,
        bucket: &str,
        key: &str,
        from: Option<&ShardCheckpoint>,
        budget: std::time::Duration,
    ) -> Result<ShardStep, BackupError>;
}

/// Where one object's verification paused, as VerifyShard returns it for the next invocation (the `VerifyExport`
/// Map loops on VerifyShard while its output has a `checkpoint`). JSON: `{"offset", "sizeBytes", "etag",
/// "invocations", "millis", "rdb"}`; `rdb` is the checker's own state (`rdb_check::Checkpoint`, under 4 KiB for
/// all but pathological files), opaque here.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ShardCheckpoint {
    /// Bytes checked so far (the next opcode's offset).
    pub offset: u64,
    /// The object's size when the verification began, bytes.
    pub size_bytes: u64,
    /// The object's ETag when the verification began (every later read must find the same).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// Invocations so far.
    pub invocations: u32,
    /// Milliseconds the invocations so far spent checking.
    pub millis: u64,
    /// The checker's state.
    pub rdb: serde_json::Value,
}

/// Where one object's verification got to in an invocation ([`Verifier::verify_object_from`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ShardStep {
    /// Verified, or paused.
    pub progress: ShardProgress,
    /// Why the checkpoint given was not used (the object was read from its first byte), if it was not.
    pub restarted: Option<String>,
}

/// Verified, or paused with a checkpoint.
#[derive(Debug, Clone, PartialEq)]
pub enum ShardProgress {
    /// Read end to end and checked.
    Done(VerifiedObject),
    /// Paused: go on from this checkpoint (its `invocations` and `millis` left for the caller to count).
    Paused(ShardCheckpoint),
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
    /// `CreateServerlessCache` with `SnapshotArnsToRestore` and `Tags` (Amazon ElastiCache API Reference). Errors:
    /// `RestoreRejected` (`ServerlessCacheQuotaForCustomerExceededFault`, `InvalidParameterValue`,
    /// `InvalidParameterCombination`, any other refusal; the AWS message kept), `Throttled`, `AwsError`; an existing
    /// name (`ServerlessCacheAlreadyExistsFault`) is [`GroupCreateOutcome::AlreadyExists`].
    async fn create_serverless_cache(
        &self,
        cache: &NewServerlessCache,
    ) -> Result<GroupCreateOutcome, BackupError>;
    /// `DeleteServerlessCache` (no final snapshot). Errors: `ClusterBusy` (`InvalidServerlessCacheStateFault`),
    /// `Throttled`, `AwsError`; a cache already gone (`ServerlessCacheNotFoundFault`) is [`DeleteOutcome::NotFound`].
    async fn delete_serverless_cache(&self, name: &str) -> Result<DeleteOutcome, BackupError>;
    /// `ListTagsForResource` of a group (or serverless cache) ARN. Errors: `TargetNotFound`, `Throttled`, `AwsError`.
    async fn tags(&self, arn: &str) -> Result<Vec<(String, String)>, BackupError>;
    /// `AddTagsToResource` of a group (or serverless cache) ARN: adds `tags`, a key already there taking the new value (Amazon
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
    /// Every ElastiCache Serverless cache: `DescribeServerlessCaches` without a name, every page (`NextToken`;
    /// Memcached caches included). Errors: `Throttled`, `AwsError`.
    async fn serverless_caches(&self) -> Result<Vec<ServerlessCacheInfo>, BackupError>;
    /// Every manual snapshot whose name starts `ecb-`: `DescribeSnapshots` with `SnapshotSource=user`, every
    /// page. Errors: `Throttled`, `AwsError`.
    async fn our_snapshots(&self) -> Result<Vec<SnapshotInfo>, BackupError>;
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
    /// canonical user `grantee` when given (ElastiCache's: User Guide, "Seeding a new self-designed cluster with an
    /// externally created backup"; `None` where the destination bucket's policy grants ElastiCache instead). `CopyObject` up to 5 GiB; above, a multipart upload of `UploadPartCopy` parts (S3 API
    /// Reference, `CopyObject`: "up to 5 GB in size in a single atomic action"), aborted on failure. Errors:
    /// `AwsRejected` (AccessDenied, no such bucket), `Throttled`, `AwsError`.
    async fn copy_for_seeding(
        &self,
        from_bucket: &str,
        from_key: &str,
        size_bytes: u64,
        to_bucket: &str,
        to_key: &str,
        grantee: Option<&str>,
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
        until: crate::model::Timestamp,
    ) -> Result<(), BackupError>;
}

/// Tags the objects of a backup once it is proven (WriteManifest; documents written tagged from their first byte,
/// the manifest and the evidence reports, go through [`ReportPublisher`]).
#[async_trait]
pub trait VerifiedTagger: Send + Sync {
    /// `PutObjectTagging` on the current version of `s3://bucket/key`: its tag set becomes exactly `tags` (S3 API
    /// Reference, PutObjectTagging: "Sets the supplied tag-set to an object that already exists"; up to 10 tags).
    /// Tagging writes no new version, so it does not itself start live replication (see [`BatchReplicator`]).
    /// Errors: `AwsRejected` (AccessDenied, NoSuchKey), `Throttled`, `AwsError`.
    async fn tag_object(
        &self,
        bucket: &str,
        key: &str,
        tags: &[(String, String)],
    ) -> Result<(), BackupError>;
}

/// Starts S3 Batch Replication of a verified backup's objects to the vault: live replication evaluates an object
/// when it is written, and ElastiCache writes the export before it is verified and tagged, so the tagged shard
/// objects reach the vault only through a Batch Replication job (S3 User Guide, "Replicating existing objects with
/// Batch Replication"; "What does Amazon S3 replicate?": "Amazon S3 doesn't replicate objects retroactively").
#[async_trait]
pub trait BatchReplicator: Send + Sync {
    /// S3 Control `CreateJob` in `account_id`: operation `S3ReplicateObject` over a manifest S3 generates from
    /// `bucket`'s objects whose keys start with `prefix` and that were never replicated or failed to
    /// (`ObjectReplicationStatuses` `NONE`, `FAILED`), run by `role_arn`; no confirmation, no report. The objects
    /// go where the bucket's replication configuration sends them, its tag filter included. `token` (1–64
    /// characters) makes a retried request start no second job (`ClientRequestToken`). Answers the job id.
    /// Errors: `AwsRejected` (AccessDenied, a role that cannot be passed, a bucket without replication), `Throttled`,
    /// `AwsError`.
    async fn replicate_prefix(
        &self,
        account_id: &str,
        bucket: &str,
        prefix: &str,
        role_arn: &str,
        token: &str,
    ) -> Result<String, BackupError>;
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

/// Step Functions executions of a state machine, for the evidence report ([`crate::evidence`]).
#[async_trait]
pub trait Executions: Send + Sync {
    /// Every execution of `machine_arn` started at or after `since` (`ListExecutions`, all pages, newest first),
    /// each described (`DescribeExecution`: input, and the error and cause of one that failed). Errors:
    /// `AwsRejected` (no such state machine, access denied), `Throttled`, `AwsError`.
    async fn executions_since(
        &self,
        machine_arn: &str,
        machine: MachineKind,
        since: Timestamp,
    ) -> Result<Vec<ExecutionRecord>, BackupError>;
}

/// Writes report documents that must travel with the verified backups (the evidence function's monthly report).
#[async_trait]
pub trait ReportPublisher: Send + Sync {
    /// `PutObject` of `body` as `content_type` with the object tags `tags` (the `x-amz-tagging` header: S3 API
    /// Reference, PutObject; tagging on upload also needs `s3:PutObjectTagging`, S3 User Guide, "Categorizing your
    /// storage using tags"). Errors: `AwsRejected` (AccessDenied, no such bucket), `Throttled`, `AwsError`.
    async fn put_tagged(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
        tags: &[(String, String)],
    ) -> Result<(), BackupError>;
}
