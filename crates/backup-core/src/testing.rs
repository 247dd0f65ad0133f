//! In-memory fakes of the ports and a settable clock, for handler unit tests (feature `testing`).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use time::{Duration, OffsetDateTime};

use crate::clock::Clock;
use crate::error::BackupError;
use crate::model::{NodeRole, Timestamp};
use crate::ports::*;
use crate::resources::*;

/// A clock that stays where it is put.
#[derive(Debug)]
pub struct FixedClock(Mutex<OffsetDateTime>);

impl FixedClock {
    /// A clock at `t`.
    pub fn at(t: OffsetDateTime) -> Self {
        Self(Mutex::new(t))
    }
    /// Moves the clock forward by `seconds`.
    pub fn advance(&self, seconds: i64) {
        let mut t = self.0.lock().unwrap();
        *t += Duration::seconds(seconds);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap()
    }
}

/// State behind [`FakeSnapshots`]; tests arrange and inspect it directly.
#[derive(Debug, Default)]
pub struct FakeElastiCache {
    /// Replication groups by id.
    pub replication_groups: HashMap<String, ReplicationGroupInfo>,
    /// Cache clusters (nodes) by id.
    pub cache_clusters: HashMap<String, CacheClusterInfo>,
    /// Snapshots by name.
    pub snapshots: BTreeMap<String, SnapshotInfo>,
    /// Serverless caches by name.
    pub serverless_caches: HashMap<String, ServerlessCacheInfo>,
    /// Serverless snapshots by name.
    pub serverless_snapshots: BTreeMap<String, SnapshotInfo>,
    /// Every call, as `"<Operation> <args>"`.
    pub calls: Vec<String>,
    /// Errors to return, in order, per operation name (`CreateSnapshot`, `CopySnapshot`, …).
    pub fail_next: HashMap<&'static str, VecDeque<BackupError>>,
    /// How many upcoming DescribeSnapshots calls answer "not found" although the snapshot exists (a race).
    pub describe_misses: u32,
    /// Tags of replication groups, clusters and snapshots, by id or name (the ARN's last part).
    pub tags: HashMap<String, Vec<(String, String)>>,
    /// The event log DescribeEvents reads.
    pub events: Vec<SourceEvent>,
    /// Errors DescribeEvents returns, in order.
    pub fail_events: VecDeque<BackupError>,
}

/// In-memory [`Snapshots`].
#[derive(Debug, Default)]
pub struct FakeSnapshots(pub Mutex<FakeElastiCache>);

#[async_trait]
impl EventLog for FakeSnapshots {
    /// Every event of the log, whatever `since` asks (so a caller's own date check is what a test exercises).
    async fn events_since(&self, since: Timestamp) -> Result<Vec<SourceEvent>, BackupError> {
        let mut fake = self.0.lock().unwrap();
        fake.calls.push(format!("DescribeEvents since {since}"));
        if let Some(err) = fake.fail_events.pop_front() {
            return Err(err);
        }
        Ok(fake.events.clone())
    }
}

impl FakeSnapshots {
    /// A cluster-mode disabled group `id` with one shard whose members are `(node id, role, status)`.
    pub fn cluster_mode_disabled(id: &str, members: &[(&str, &str, &str)]) -> Self {
        let fake = Self::default();
        {
            let mut s = fake.0.lock().unwrap();
            s.replication_groups.insert(
                id.into(),
                ReplicationGroupInfo {
                    id: id.into(),
                    status: "available".into(),
                    engine: Some("redis".into()),
                    cluster_enabled: false,
                    data_tiering: false,
                    arn: Some(format!(
                        "arn:aws:elasticache:eu-west-1:123456789012:replicationgroup:{id}"
                    )),
                    node_type: Some("cache.r7g.large".into()),
                    transit_encryption: false,
                    auth_token_enabled: false,
                    created: Some(FAKE_CREATED),
                    node_groups: vec![NodeGroupInfo {
                        id: "0001".into(),
                        slots: None,
                        members: members
                            .iter()
                            .map(|(node, role, _)| NodeGroupMemberInfo {
                                cache_cluster_id: (*node).into(),
                                current_role: NodeRole::from_current_role(role),
                            })
                            .collect(),
                    }],
                },
            );
            for (node, _, status) in members {
                s.cache_clusters
                    .insert((*node).into(), node_info(node, status, Some(id)));
            }
        }
        fake
    }

    /// A cluster-mode enabled group `id` with `shards` shards of two nodes each.
    pub fn cluster_mode_enabled(id: &str, shards: u32) -> Self {
        let fake = Self::default();
        {
            let mut s = fake.0.lock().unwrap();
            let node_groups = (1..=shards)
                .map(|i| NodeGroupInfo {
                    id: format!("{i:04}"),
                    slots: Some(format!(
                        "{}-{}",
                        (i - 1) * 16384 / shards,
                        i * 16384 / shards - 1
                    )),
                    members: (1..=2)
                        .map(|n| NodeGroupMemberInfo {
                            cache_cluster_id: format!("{id}-{i:04}-{n:03}"),
                            current_role: None,
                        })
                        .collect(),
                })
                .collect::<Vec<_>>();
            for ng in &node_groups {
                for m in &ng.members {
                    s.cache_clusters.insert(
                        m.cache_cluster_id.clone(),
                        node_info(&m.cache_cluster_id, "available", Some(id)),
                    );
                }
            }
            s.replication_groups.insert(
                id.into(),
                ReplicationGroupInfo {
                    id: id.into(),
                    status: "available".into(),
                    engine: Some("valkey".into()),
                    cluster_enabled: true,
                    data_tiering: false,
                    arn: Some(format!(
                        "arn:aws:elasticache:eu-west-1:123456789012:replicationgroup:{id}"
                    )),
                    node_type: Some("cache.r7g.large".into()),
                    transit_encryption: false,
                    auth_token_enabled: false,
                    created: Some(FAKE_CREATED),
                    node_groups,
                },
            );
        }
        fake
    }

    /// A standalone cluster (no replication group) with the given engine.
    pub fn standalone(id: &str, engine: &str) -> Self {
        let fake = Self::default();
        let mut info = node_info(id, "available", None);
        info.engine = Some(engine.into());
        fake.0
            .lock()
            .unwrap()
            .cache_clusters
            .insert(id.into(), info);
        fake
    }

    /// An ElastiCache Serverless cache `name` (status `available`) of `engine`.
    pub fn serverless(name: &str, engine: &str) -> Self {
        let fake = Self::default();
        fake.0.lock().unwrap().serverless_caches.insert(
            name.into(),
            ServerlessCacheInfo {
                name: name.into(),
                status: "available".into(),
                engine: Some(engine.into()),
                major_engine_version: Some("7".into()),
                full_engine_version: Some("7.1".into()),
                arn: Some(format!(
                    "arn:aws:elasticache:eu-west-1:123456789012:serverlesscache:{name}"
                )),
                created: Some(FAKE_CREATED),
                endpoint: Some(Endpoint {
                    address: "127.0.0.1".into(),
                    port: 6379,
                }),
                security_group_ids: vec!["sg-0123456789abcdef0".into()],
                subnet_ids: vec!["subnet-0a1".into(), "subnet-0b2".into()],
                ..Default::default()
            },
        );
        fake
    }

    /// Sets the status of serverless cache `name`.
    pub fn set_serverless_status(&self, name: &str, status: &str) {
        if let Some(c) = self.0.lock().unwrap().serverless_caches.get_mut(name) {
            c.status = status.into();
        }
    }

    /// Adds (or replaces) a serverless snapshot record; one without an ARN gets
    /// `arn:aws:elasticache:…:serverlesscachesnapshot:<name>`.
    pub fn insert_serverless_snapshot(&self, mut info: SnapshotInfo) {
        if info.arn.is_none() {
            info.arn = Some(format!(
                "arn:aws:elasticache:eu-west-1:123456789012:serverlesscachesnapshot:{}",
                info.name
            ));
        }
        self.0
            .lock()
            .unwrap()
            .serverless_snapshots
            .insert(info.name.clone(), info);
    }

    /// Sets the status of serverless snapshot `name`.
    pub fn set_serverless_snapshot_status(&self, name: &str, status: &str) {
        if let Some(s) = self.0.lock().unwrap().serverless_snapshots.get_mut(name) {
            s.status = status.into();
        }
    }

    /// No groups or clusters, one snapshot `name` in `status`.
    pub fn with_snapshot(name: &str, status: &str) -> Self {
        let fake = Self::default();
        fake.insert_snapshot(SnapshotInfo {
            name: name.into(),
            status: status.into(),
            ..Default::default()
        });
        fake
    }

    /// Adds (or replaces) a snapshot record; one without an ARN gets `arn:aws:elasticache:…:snapshot:<name>`.
    pub fn insert_snapshot(&self, mut info: SnapshotInfo) {
        if info.arn.is_none() {
            info.arn = Some(format!(
                "arn:aws:elasticache:eu-west-1:123456789012:snapshot:{}",
                info.name
            ));
        }
        self.0
            .lock()
            .unwrap()
            .snapshots
            .insert(info.name.clone(), info);
    }

    /// Queues `err` as the next result of `operation`.
    pub fn fail_next(&self, operation: &'static str, err: BackupError) {
        self.0
            .lock()
            .unwrap()
            .fail_next
            .entry(operation)
            .or_default()
            .push_back(err);
    }

    /// Sets the status of snapshot `name`.
    pub fn set_snapshot_status(&self, name: &str, status: &str) {
        if let Some(s) = self.0.lock().unwrap().snapshots.get_mut(name) {
            s.status = status.into();
        }
    }

    /// The calls made so far.
    pub fn calls(&self) -> Vec<String> {
        self.0.lock().unwrap().calls.clone()
    }

    /// Calls whose operation is `op`.
    pub fn calls_of(&self, op: &str) -> Vec<String> {
        self.calls()
            .into_iter()
            .filter(|c| c.split(' ').next() == Some(op))
            .collect()
    }

    fn begin(
        &self,
        op: &'static str,
        args: String,
    ) -> Result<std::sync::MutexGuard<'_, FakeElastiCache>, BackupError> {
        let mut s = self.0.lock().unwrap();
        s.calls.push(format!("{op} {args}"));
        if let Some(err) = s.fail_next.get_mut(op).and_then(VecDeque::pop_front) {
            return Err(err);
        }
        Ok(s)
    }
}

/// When every fake group and node was created (`ReplicationGroupCreateTime` / `CacheClusterCreateTime`).
pub const FAKE_CREATED: Timestamp = time::macros::datetime!(2026-01-05 10:00 UTC);

fn node_info(id: &str, status: &str, rg: Option<&str>) -> CacheClusterInfo {
    CacheClusterInfo {
        id: id.into(),
        status: status.into(),
        engine: Some("redis".into()),
        engine_version: Some("7.0.15".into()),
        replication_group_id: rg.map(str::to_string),
        endpoint: Some(Endpoint {
            address: "127.0.0.1".into(),
            port: 6379,
        }),
        parameter_group: Some("default.redis7".into()),
        subnet_group: Some("private".into()),
        security_group_ids: vec!["sg-0123456789abcdef0".into()],
        arn: Some(format!(
            "arn:aws:elasticache:eu-west-1:123456789012:cluster:{id}"
        )),
        created: Some(FAKE_CREATED),
    }
}

fn not_found(what: &str, id: &str) -> BackupError {
    BackupError::TargetNotFound {
        message: format!("{what} {id} not found"),
        source: None,
    }
}

#[async_trait]
impl Snapshots for FakeSnapshots {
    async fn replication_group(&self, id: &str) -> Result<ReplicationGroupInfo, BackupError> {
        let s = self.begin("DescribeReplicationGroups", id.into())?;
        s.replication_groups
            .get(id)
            .cloned()
            .ok_or_else(|| not_found("replication group", id))
    }

    async fn cache_cluster(&self, id: &str) -> Result<CacheClusterInfo, BackupError> {
        let s = self.begin("DescribeCacheClusters", id.into())?;
        s.cache_clusters
            .get(id)
            .cloned()
            .ok_or_else(|| not_found("cache cluster", id))
    }

    async fn create_snapshot(
        &self,
        name: &str,
        target: &SnapshotTarget,
        tags: &[(String, String)],
    ) -> Result<CreateOutcome, BackupError> {
        if let SnapshotTarget::ServerlessCache(id) = target {
            let mut s = self.begin("CreateServerlessCacheSnapshot", format!("{name} {id}"))?;
            if s.serverless_snapshots.contains_key(name) {
                return Ok(CreateOutcome::AlreadyExists);
            }
            if !s.serverless_caches.contains_key(id) {
                return Err(not_found("serverless cache", id));
            }
            let info = SnapshotInfo {
                name: name.into(),
                status: "creating".into(),
                serverless_cache_name: Some(id.clone()),
                arn: Some(format!(
                    "arn:aws:elasticache:eu-west-1:123456789012:serverlesscachesnapshot:{name}"
                )),
                ..Default::default()
            };
            s.serverless_snapshots.insert(name.into(), info.clone());
            s.tags.insert(name.into(), tags.to_vec());
            return Ok(CreateOutcome::Created(info));
        }
        let mut s = self.begin("CreateSnapshot", format!("{name} {target:?}"))?;
        if s.snapshots.contains_key(name) {
            return Ok(CreateOutcome::AlreadyExists);
        }
        let info = match target {
            SnapshotTarget::ServerlessCache(id) => return Err(not_found("serverless cache", id)),
            SnapshotTarget::ReplicationGroup(id) => {
                let rg = s
                    .replication_groups
                    .get(id)
                    .ok_or_else(|| not_found("replication group", id))?;
                SnapshotInfo {
                    name: name.into(),
                    status: "creating".into(),
                    replication_group_id: Some(id.clone()),
                    cache_cluster_id: None,
                    num_node_groups: Some(rg.node_groups.len() as u32),
                    node_snapshot_count: rg.node_groups.len() as u32,
                    ..Default::default()
                }
            }
            SnapshotTarget::CacheCluster(id) => {
                let cc = s
                    .cache_clusters
                    .get(id)
                    .ok_or_else(|| not_found("cache cluster", id))?;
                SnapshotInfo {
                    name: name.into(),
                    status: "creating".into(),
                    replication_group_id: cc.replication_group_id.clone(),
                    cache_cluster_id: Some(id.clone()),
                    num_node_groups: Some(1),
                    node_snapshot_count: 1,
                    ..Default::default()
                }
            }
        };
        let info = SnapshotInfo {
            arn: Some(format!(
                "arn:aws:elasticache:eu-west-1:123456789012:snapshot:{name}"
            )),
            ..info
        };
        s.snapshots.insert(name.into(), info.clone());
        s.tags.insert(name.into(), tags.to_vec());
        Ok(CreateOutcome::Created(info))
    }

    async fn snapshot(&self, name: &str) -> Result<Option<SnapshotInfo>, BackupError> {
        let mut s = self.begin("DescribeSnapshots", name.into())?;
        if s.describe_misses > 0 {
            s.describe_misses -= 1;
            return Ok(None);
        }
        Ok(s.snapshots.get(name).cloned())
    }

    async fn export_snapshot(
        &self,
        source: &str,
        target_name: &str,
        bucket: &str,
    ) -> Result<(), BackupError> {
        let s = self.begin("CopySnapshot", format!("{source} {target_name} {bucket}"))?;
        if !s.snapshots.contains_key(source) {
            return Err(BackupError::SnapshotFailed {
                message: format!("snapshot {source} not found"),
            });
        }
        Ok(())
    }

    async fn delete_snapshot(&self, name: &str) -> Result<DeleteOutcome, BackupError> {
        let mut s = self.begin("DeleteSnapshot", name.into())?;
        Ok(if s.snapshots.remove(name).is_some() {
            DeleteOutcome::Deleted
        } else {
            DeleteOutcome::NotFound
        })
    }

    async fn serverless_cache(&self, name: &str) -> Result<ServerlessCacheInfo, BackupError> {
        let s = self.begin("DescribeServerlessCaches", name.into())?;
        s.serverless_caches
            .get(name)
            .cloned()
            .ok_or_else(|| not_found("serverless cache", name))
    }

    async fn serverless_snapshot(&self, name: &str) -> Result<Option<SnapshotInfo>, BackupError> {
        let mut s = self.begin("DescribeServerlessCacheSnapshots", name.into())?;
        if s.describe_misses > 0 {
            s.describe_misses -= 1;
            return Ok(None);
        }
        Ok(s.serverless_snapshots.get(name).cloned())
    }

    async fn export_serverless_snapshot(
        &self,
        name: &str,
        bucket: &str,
    ) -> Result<(), BackupError> {
        let mut s = self.begin("ExportServerlessCacheSnapshot", format!("{name} {bucket}"))?;
        match s.serverless_snapshots.get_mut(name) {
            None => Err(BackupError::SnapshotFailed {
                message: format!("serverless snapshot {name} not found"),
            }),
            Some(snap) if snap.status != crate::model::SnapshotStatus::Available => {
                Err(BackupError::ClusterBusy {
                    message: format!("serverless snapshot {name} is {}", snap.status),
                    source: None,
                })
            }
            Some(snap) => {
                snap.status = "exporting".into();
                Ok(())
            }
        }
    }

    async fn delete_serverless_snapshot(&self, name: &str) -> Result<DeleteOutcome, BackupError> {
        let mut s = self.begin("DeleteServerlessCacheSnapshot", name.into())?;
        Ok(if s.serverless_snapshots.remove(name).is_some() {
            DeleteOutcome::Deleted
        } else {
            DeleteOutcome::NotFound
        })
    }
}

/// Object bytes by (bucket, key).
pub type ObjectContents = HashMap<(String, String), Vec<u8>>;

/// In-memory [`ExportStore`]: objects per bucket. Clones share the same objects (a fake verifier reads them).
#[derive(Debug, Default, Clone)]
pub struct FakeExportStore {
    /// Objects by bucket.
    pub buckets: Arc<Mutex<HashMap<String, Vec<StoredObject>>>>,
    /// Object contents by (bucket, key), for a verifier; written by `put_json` too.
    pub contents: Arc<Mutex<ObjectContents>>,
    /// Errors to return, in order, from `list`.
    pub fail_next: Arc<Mutex<VecDeque<BackupError>>>,
    /// Errors to return from `get_object` of a key, in order (then it answers normally).
    pub fail_get: Arc<Mutex<HashMap<String, VecDeque<BackupError>>>>,
    /// What `bucket_facts` answers per bucket; an existing bucket without an entry is in `us-east-1` with the
    /// export policy for that region.
    pub facts: Arc<Mutex<HashMap<String, BucketFacts>>>,
    /// `copy_for_seeding` calls.
    pub seed_copies: Arc<Mutex<Vec<SeedCopy>>>,
    /// `lock_object` calls.
    pub locks: Arc<Mutex<Vec<Lock>>>,
    /// Errors to return, in order, from `lock_object`.
    pub fail_locks: Arc<Mutex<VecDeque<BackupError>>>,
    /// Each object's tag set by (bucket, key), as `tag_object` leaves it.
    pub tags: Arc<Mutex<ObjectTags>>,
    /// Errors to return, in order, from `tag_object`.
    pub fail_tags: Arc<Mutex<VecDeque<BackupError>>>,
    /// `replicate_prefix` calls: (account, bucket, prefix, role ARN, token).
    pub replications: Arc<Mutex<Vec<Replication>>>,
    /// Errors to return, in order, from `replicate_prefix`.
    pub fail_replications: Arc<Mutex<VecDeque<BackupError>>>,
    /// Object tags written by `put_tagged`, by (bucket, key), with the content type.
    pub tagged: Arc<Mutex<HashMap<(String, String), Tagged>>>,
}

/// Tag sets by (bucket, key).
pub type ObjectTags = HashMap<(String, String), Vec<(String, String)>>;
/// One `replicate_prefix` call: (account, bucket, prefix, role ARN, token).
pub type Replication = (String, String, String, String, String);

/// A `put_tagged` object's content type and tags.
pub type Tagged = (String, Vec<(String, String)>);
/// One `copy_for_seeding` call: (from bucket, from key, to bucket, to key, grantee).
pub type SeedCopy = (String, String, String, String, String);
/// One `lock_object` call: (bucket, key, mode, until).
pub type Lock = (String, String, String, OffsetDateTime);

impl FakeExportStore {
    /// A store with an empty bucket `bucket`.
    pub fn with_bucket(bucket: &str) -> Self {
        let store = Self::default();
        store
            .buckets
            .lock()
            .unwrap()
            .insert(bucket.into(), Vec::new());
        store
    }

    /// Puts an object with its contents, last modified at `at`.
    pub fn put_bytes(&self, bucket: &str, key: &str, bytes: Vec<u8>, at: OffsetDateTime) {
        self.put(bucket, key, bytes.len() as u64, at);
        self.contents
            .lock()
            .unwrap()
            .insert((bucket.into(), key.into()), bytes);
    }

    /// The contents of an object, if stored.
    pub fn get(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        self.contents
            .lock()
            .unwrap()
            .get(&(bucket.to_string(), key.to_string()))
            .cloned()
    }

    /// Puts (or replaces) an object of `size` bytes, last modified at `at`.
    pub fn put(&self, bucket: &str, key: &str, size: u64, at: OffsetDateTime) {
        let mut buckets = self.buckets.lock().unwrap();
        let objects = buckets.entry(bucket.into()).or_default();
        objects.retain(|o| o.key != key);
        objects.push(StoredObject {
            key: key.into(),
            size_bytes: size,
            last_modified: Some(at),
        });
    }
}

#[async_trait]
impl ExportStore for FakeExportStore {
    async fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<StoredObject>, BackupError> {
        if let Some(err) = self.fail_next.lock().unwrap().pop_front() {
            return Err(err);
        }
        let buckets = self.buckets.lock().unwrap();
        let objects = buckets
            .get(bucket)
            .ok_or_else(|| BackupError::ExportRejected {
                message: format!("ListObjectsV2 s3://{bucket}/{prefix}: NoSuchBucket"),
                source: None,
            })?;
        Ok(objects
            .iter()
            .filter(|o| o.key.starts_with(prefix))
            .cloned()
            .collect())
    }

    async fn put_json(&self, bucket: &str, key: &str, body: String) -> Result<(), BackupError> {
        self.contents
            .lock()
            .unwrap()
            .insert((bucket.into(), key.into()), body.into_bytes());
        Ok(())
    }
}

#[async_trait]
impl crate::ports::SeedCopier for FakeExportStore {
    async fn copy_for_seeding(
        &self,
        from_bucket: &str,
        from_key: &str,
        size_bytes: u64,
        to_bucket: &str,
        to_key: &str,
        grantee: Option<&str>,
    ) -> Result<(), BackupError> {
        if let Some(err) = self.fail_next.lock().unwrap().pop_front() {
            return Err(err);
        }
        let at = self
            .buckets
            .lock()
            .unwrap()
            .get(from_bucket)
            .and_then(|objects| objects.iter().find(|o| o.key == from_key))
            .and_then(|o| o.last_modified)
            .ok_or_else(|| BackupError::AwsRejected {
                message: format!("CopyObject s3://{from_bucket}/{from_key}: NoSuchKey"),
                source: None,
            })?;
        self.put(to_bucket, to_key, size_bytes, at);
        self.seed_copies.lock().unwrap().push((
            from_bucket.into(),
            from_key.into(),
            to_bucket.into(),
            to_key.into(),
            grantee.unwrap_or_default().into(),
        ));
        Ok(())
    }
}

#[async_trait]
impl crate::ports::ObjectLocker for FakeExportStore {
    async fn lock_object(
        &self,
        bucket: &str,
        key: &str,
        mode: crate::config::ObjectLockMode,
        until: OffsetDateTime,
    ) -> Result<(), BackupError> {
        if let Some(err) = self.fail_locks.lock().unwrap().pop_front() {
            return Err(err);
        }
        self.locks
            .lock()
            .unwrap()
            .push((bucket.into(), key.into(), mode.to_string(), until));
        Ok(())
    }
}

impl FakeExportStore {
    /// The tag set of `s3://bucket/key`, as `tag_object` or `put_tagged` left it (empty when it has none).
    pub fn tags_of(&self, bucket: &str, key: &str) -> Vec<(String, String)> {
        let id = (bucket.to_string(), key.to_string());
        if let Some(tags) = self.tags.lock().unwrap().get(&id) {
            return tags.clone();
        }
        self.tagged
            .lock()
            .unwrap()
            .get(&id)
            .map(|(_, tags)| tags.clone())
            .unwrap_or_default()
    }
}

#[async_trait]
impl crate::ports::VerifiedTagger for FakeExportStore {
    async fn tag_object(
        &self,
        bucket: &str,
        key: &str,
        tags: &[(String, String)],
    ) -> Result<(), BackupError> {
        if let Some(err) = self.fail_tags.lock().unwrap().pop_front() {
            return Err(err);
        }
        let exists = self
            .buckets
            .lock()
            .unwrap()
            .get(bucket)
            .is_some_and(|objects| objects.iter().any(|o| o.key == key))
            || self
                .contents
                .lock()
                .unwrap()
                .contains_key(&(bucket.to_string(), key.to_string()));
        if !exists {
            return Err(BackupError::AwsRejected {
                message: format!("PutObjectTagging s3://{bucket}/{key}: NoSuchKey"),
                source: None,
            });
        }
        self.tags
            .lock()
            .unwrap()
            .insert((bucket.into(), key.into()), tags.to_vec());
        Ok(())
    }
}

#[async_trait]
impl crate::ports::BatchReplicator for FakeExportStore {
    async fn replicate_prefix(
        &self,
        account_id: &str,
        bucket: &str,
        prefix: &str,
        role_arn: &str,
        token: &str,
    ) -> Result<String, BackupError> {
        if let Some(err) = self.fail_replications.lock().unwrap().pop_front() {
            return Err(err);
        }
        let mut calls = self.replications.lock().unwrap();
        calls.push((
            account_id.into(),
            bucket.into(),
            prefix.into(),
            role_arn.into(),
            token.into(),
        ));
        Ok(format!("job-{}", calls.len()))
    }
}

#[async_trait]
impl ExportBucket for FakeExportStore {
    async fn bucket_facts(
        &self,
        bucket: &str,
        _expected_owner: Option<&str>,
    ) -> Result<BucketFacts, BackupError> {
        if let Some(f) = self.facts.lock().unwrap().get(bucket) {
            return Ok(f.clone());
        }
        if !self.buckets.lock().unwrap().contains_key(bucket) {
            return Err(BackupError::invalid_input(
                "bucket",
                format!("bucket {bucket} does not exist (HeadBucket: 404)"),
            ));
        }
        Ok(BucketFacts {
            region: "us-east-1".into(),
            acl_writers: vec![crate::backup::export::ELASTICACHE_CANONICAL_ID.into()],
            ..BucketFacts::default()
        })
    }
}

#[async_trait]
impl crate::ports::ObjectDeleter for FakeExportStore {
    async fn delete_object(&self, bucket: &str, key: &str) -> Result<(), BackupError> {
        if let Some(err) = self.fail_next.lock().unwrap().pop_front() {
            return Err(err);
        }
        let mut buckets = self.buckets.lock().unwrap();
        let objects = buckets
            .get_mut(bucket)
            .ok_or_else(|| BackupError::ExportRejected {
                message: format!("DeleteObject s3://{bucket}/{key}: NoSuchBucket"),
                source: None,
            })?;
        objects.retain(|o| o.key != key);
        self.contents
            .lock()
            .unwrap()
            .remove(&(bucket.to_string(), key.to_string()));
        Ok(())
    }
}

#[async_trait]
impl ObjectReader for FakeExportStore {
    async fn get_object(&self, bucket: &str, key: &str) -> Result<Option<Vec<u8>>, BackupError> {
        if let Some(err) = self
            .fail_get
            .lock()
            .unwrap()
            .get_mut(key)
            .and_then(VecDeque::pop_front)
        {
            return Err(err);
        }
        if !self.buckets.lock().unwrap().contains_key(bucket) {
            return Err(BackupError::BackupNotFound {
                message: format!("GetObject s3://{bucket}/{key}: NoSuchBucket"),
            });
        }
        Ok(self.get(bucket, key))
    }
}

#[async_trait]
impl Groups for FakeSnapshots {
    async fn create_replication_group(
        &self,
        group: &NewGroup,
    ) -> Result<GroupCreateOutcome, BackupError> {
        let mut s = self.begin("CreateReplicationGroup", format!("{group:?}"))?;
        if s.replication_groups.contains_key(&group.id) {
            return Ok(GroupCreateOutcome::AlreadyExists);
        }
        let node_groups = group
            .shards
            .iter()
            .map(|sh| NodeGroupInfo {
                id: sh.node_group_id.clone(),
                slots: sh.slots.clone(),
                members: vec![NodeGroupMemberInfo {
                    cache_cluster_id: format!("{}-{}-001", group.id, sh.node_group_id),
                    current_role: None,
                }],
            })
            .collect::<Vec<_>>();
        for ng in &node_groups {
            for m in &ng.members {
                let mut node = node_info(&m.cache_cluster_id, "creating", Some(&group.id));
                node.endpoint = Some(Endpoint {
                    address: "127.0.0.1".into(),
                    port: 7000 + u16::try_from(s.cache_clusters.len()).unwrap_or(0),
                });
                s.cache_clusters.insert(m.cache_cluster_id.clone(), node);
            }
        }
        s.replication_groups.insert(
            group.id.clone(),
            ReplicationGroupInfo {
                id: group.id.clone(),
                status: "creating".into(),
                engine: group.engine.clone(),
                cluster_enabled: group.cluster_mode_enabled,
                data_tiering: false,
                node_groups,
                arn: Some(format!(
                    "arn:aws:elasticache:eu-west-1:123456789012:replicationgroup:{}",
                    group.id
                )),
                node_type: group.node_type.clone(),
                transit_encryption: group.transit_encryption,
                auth_token_enabled: false,
                created: None,
            },
        );
        s.tags.insert(group.id.clone(), group.tags.clone());
        Ok(GroupCreateOutcome::Created)
    }

    async fn create_serverless_cache(
        &self,
        cache: &NewServerlessCache,
    ) -> Result<GroupCreateOutcome, BackupError> {
        let mut s = self.begin("CreateServerlessCache", format!("{cache:?}"))?;
        if s.serverless_caches.contains_key(&cache.name) {
            return Ok(GroupCreateOutcome::AlreadyExists);
        }
        let port = 7000 + u16::try_from(s.serverless_caches.len()).unwrap_or(0);
        s.serverless_caches.insert(
            cache.name.clone(),
            ServerlessCacheInfo {
                name: cache.name.clone(),
                status: "creating".into(),
                engine: Some(cache.engine.clone()),
                major_engine_version: cache.major_engine_version.clone(),
                arn: Some(format!(
                    "arn:aws:elasticache:eu-west-1:123456789012:serverlesscache:{}",
                    cache.name
                )),
                endpoint: Some(Endpoint {
                    address: "127.0.0.1".into(),
                    port,
                }),
                security_group_ids: cache.security_group_ids.clone(),
                subnet_ids: cache.subnet_ids.clone(),
                user_group_id: cache.user_group_id.clone(),
                ..Default::default()
            },
        );
        s.tags.insert(cache.name.clone(), cache.tags.clone());
        Ok(GroupCreateOutcome::Created)
    }

    async fn delete_serverless_cache(&self, name: &str) -> Result<DeleteOutcome, BackupError> {
        let mut s = self.begin("DeleteServerlessCache", name.into())?;
        Ok(match s.serverless_caches.remove(name) {
            Some(_) => DeleteOutcome::Deleted,
            None => DeleteOutcome::NotFound,
        })
    }

    async fn delete_replication_group(&self, id: &str) -> Result<DeleteOutcome, BackupError> {
        let mut s = self.begin("DeleteReplicationGroup", id.into())?;
        Ok(match s.replication_groups.remove(id) {
            Some(_) => DeleteOutcome::Deleted,
            None => DeleteOutcome::NotFound,
        })
    }

    async fn tags(&self, arn: &str) -> Result<Vec<(String, String)>, BackupError> {
        let s = self.begin("ListTagsForResource", arn.into())?;
        let id = arn.rsplit(':').next().unwrap_or_default();
        Ok(s.tags.get(id).cloned().unwrap_or_default())
    }

    async fn add_tags(&self, arn: &str, tags: &[(String, String)]) -> Result<(), BackupError> {
        let mut s = self.begin("AddTagsToResource", format!("{arn} {tags:?}"))?;
        let id = arn.rsplit(':').next().unwrap_or_default().to_string();
        if !s.replication_groups.contains_key(&id) && !s.serverless_caches.contains_key(&id) {
            return Err(BackupError::TargetNotFound {
                message: format!("AddTagsToResource {arn}: ReplicationGroupNotFoundFault"),
                source: None,
            });
        }
        let current = s.tags.entry(id).or_default();
        for (k, v) in tags {
            match current.iter_mut().find(|(key, _)| key == k) {
                Some(slot) => slot.1.clone_from(v),
                None => current.push((k.clone(), v.clone())),
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Inventory for FakeSnapshots {
    async fn replication_groups(&self) -> Result<Vec<ReplicationGroupInfo>, BackupError> {
        let s = self.begin("DescribeReplicationGroups", "(all)".into())?;
        let mut groups: Vec<_> = s.replication_groups.values().cloned().collect();
        groups.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(groups)
    }

    async fn standalone_cache_clusters(&self) -> Result<Vec<CacheClusterInfo>, BackupError> {
        let s = self.begin(
            "DescribeCacheClusters",
            "(not in replication groups)".into(),
        )?;
        let mut clusters: Vec<_> = s
            .cache_clusters
            .values()
            .filter(|c| c.replication_group_id.is_none())
            .cloned()
            .collect();
        clusters.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(clusters)
    }

    async fn serverless_caches(&self) -> Result<Vec<ServerlessCacheInfo>, BackupError> {
        let s = self.begin("DescribeServerlessCaches", "(all)".into())?;
        let mut caches: Vec<_> = s.serverless_caches.values().cloned().collect();
        caches.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(caches)
    }

    async fn our_snapshots(&self) -> Result<Vec<SnapshotInfo>, BackupError> {
        let s = self.begin("DescribeSnapshots", "(manual)".into())?;
        Ok(s.snapshots
            .values()
            .filter(|i| i.name.starts_with("ecb-"))
            .cloned()
            .collect())
    }
}

impl FakeSnapshots {
    /// Merges the other fake's groups and clusters into this one (a fleet built from the single-target
    /// constructors).
    pub fn merge(self, other: FakeSnapshots) -> Self {
        {
            let mut s = self.0.lock().unwrap();
            let o = other.0.into_inner().unwrap();
            s.replication_groups.extend(o.replication_groups);
            s.cache_clusters.extend(o.cache_clusters);
            s.serverless_caches.extend(o.serverless_caches);
            s.tags.extend(o.tags);
        }
        self
    }

    /// Tags resource `id` (a replication group or cluster id; the fake's `ListTagsForResource` keys by the ARN's
    /// last part).
    pub fn tag(&self, id: &str, tags: &[(&str, &str)]) {
        self.0.lock().unwrap().tags.insert(
            id.into(),
            tags.iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect(),
        );
    }

    /// Sets the status of group `id` and of its nodes.
    pub fn set_group_status(&self, id: &str, group: &str, nodes: &str) {
        let mut s = self.0.lock().unwrap();
        let members: Vec<String> = s
            .replication_groups
            .get(id)
            .map(|g| {
                g.node_groups
                    .iter()
                    .flat_map(|ng| ng.members.iter().map(|m| m.cache_cluster_id.clone()))
                    .collect()
            })
            .unwrap_or_default();
        if let Some(g) = s.replication_groups.get_mut(id) {
            g.status = group.into();
        }
        for m in members {
            if let Some(c) = s.cache_clusters.get_mut(&m) {
                c.status = nodes.into();
            }
        }
    }
}

/// `(db, key)` → type.
pub type KeyTypes = HashMap<(u64, String), String>;

/// A [`DataProbe`] answering from fixed counts and types per port.
#[derive(Debug, Default)]
pub struct FakeProbe {
    /// Keys per database, by endpoint port.
    pub counts: Mutex<HashMap<u16, NodeCounts>>,
    /// `(db, key)` → type, by endpoint port.
    pub types: Mutex<HashMap<u16, KeyTypes>>,
    /// How every call reached its node, in order.
    pub seen: Mutex<Vec<NodeAccess>>,
}

/// [`Secrets`] from a map of ARN → value; a missing ARN is an error naming it.
#[derive(Debug, Default)]
pub struct FakeSecrets(pub HashMap<String, String>);

#[async_trait]
impl Secrets for FakeSecrets {
    async fn secret_string(&self, arn: &str) -> Result<String, String> {
        self.0
            .get(arn)
            .cloned()
            .ok_or_else(|| format!("ResourceNotFoundException: {arn}"))
    }
}

#[async_trait]
impl DataProbe for FakeProbe {
    async fn counts(&self, node: &NodeAccess) -> Result<NodeCounts, BackupError> {
        self.seen.lock().unwrap().push(node.clone());
        let endpoint = &node.endpoint;
        Ok(self
            .counts
            .lock()
            .unwrap()
            .get(&endpoint.port)
            .cloned()
            .unwrap_or_default())
    }

    async fn key_types(
        &self,
        node: &NodeAccess,
        db: u64,
        keys: &[String],
    ) -> Result<Vec<String>, BackupError> {
        let endpoint = &node.endpoint;
        let types = self.types.lock().unwrap();
        let node = types.get(&endpoint.port);
        Ok(keys
            .iter()
            .map(|k| {
                node.and_then(|n| n.get(&(db, k.clone())).cloned())
                    .unwrap_or_else(|| "none".into())
            })
            .collect())
    }
}

#[async_trait]
impl ReportPublisher for FakeExportStore {
    async fn put_tagged(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
        tags: &[(String, String)],
    ) -> Result<(), BackupError> {
        if !self.buckets.lock().unwrap().contains_key(bucket) {
            return Err(BackupError::AwsRejected {
                message: format!("PutObject s3://{bucket}/{key}: NoSuchBucket"),
                source: None,
            });
        }
        self.put_bytes(bucket, key, body, OffsetDateTime::now_utc());
        self.tagged.lock().unwrap().insert(
            (bucket.into(), key.into()),
            (content_type.into(), tags.to_vec()),
        );
        Ok(())
    }
}

/// In-memory [`Executions`]: the executions of each state machine ARN.
#[derive(Debug, Default)]
pub struct FakeExecutions {
    /// Executions by state machine ARN.
    pub by_machine: Mutex<HashMap<String, Vec<ExecutionRecord>>>,
    /// Errors to return, in order.
    pub fail_next: Mutex<VecDeque<BackupError>>,
    /// `executions_since` calls: (machine ARN, since).
    pub calls: Mutex<Vec<(String, Timestamp)>>,
}

impl FakeExecutions {
    /// Adds an execution of its `machine_arn`.
    pub fn add(&self, e: ExecutionRecord) {
        self.by_machine
            .lock()
            .unwrap()
            .entry(e.machine_arn.clone())
            .or_default()
            .push(e);
    }
}

#[async_trait]
impl Executions for FakeExecutions {
    async fn executions_since(
        &self,
        machine_arn: &str,
        _machine: MachineKind,
        since: Timestamp,
    ) -> Result<Vec<ExecutionRecord>, BackupError> {
        self.calls.lock().unwrap().push((machine_arn.into(), since));
        if let Some(err) = self.fail_next.lock().unwrap().pop_front() {
            return Err(err);
        }
        Ok(self
            .by_machine
            .lock()
            .unwrap()
            .get(machine_arn)
            .map(|v| {
                v.iter()
                    .filter(|e| e.started_at >= since)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default())
    }
}
