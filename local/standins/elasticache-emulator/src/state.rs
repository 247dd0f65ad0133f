//! The emulated ElastiCache account: groups, nodes, snapshots, injected faults and a journal of what happened.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::topology::{GroupSpec, ServerlessSpec, StandaloneSpec};

/// Node type reported for every node.
pub const NODE_TYPE: &str = "cache.r7g.large";

/// An API error: botocore's wire `code`, HTTP status and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// Wire error code (e.g. `CacheClusterNotFound`).
    pub code: String,
    /// HTTP status.
    pub status: u16,
    /// Message.
    pub message: String,
}

impl ApiError {
    /// An error with the status botocore's model gives `code` (see [`status_for`]).
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            status: status_for(code),
            message: message.into(),
        }
    }
}

/// HTTP status of each wire code, as in botocore `elasticache/2015-02-02/service-2.json` (`error.httpStatusCode`).
pub fn status_for(code: &str) -> u16 {
    match code {
        "CacheClusterNotFound"
        | "ReplicationGroupNotFoundFault"
        | "SnapshotNotFoundFault"
        | "CacheParameterGroupNotFound"
        | "ServerlessCacheNotFoundFault"
        | "ServerlessCacheSnapshotNotFoundFault" => 404,
        _ => 400,
    }
}

/// `ServerlessCacheNotFoundFault` (HTTP 404, botocore `elasticache/2015-02-02`).
pub fn serverless_cache_not_found(name: &str) -> ApiError {
    ApiError::new(
        "ServerlessCacheNotFoundFault",
        format!("Serverless cache {name} not found."),
    )
}

/// `ServerlessCacheSnapshotNotFoundFault` (HTTP 404, botocore `elasticache/2015-02-02`).
pub fn serverless_snapshot_not_found(name: &str) -> ApiError {
    ApiError::new(
        "ServerlessCacheSnapshotNotFoundFault",
        format!("Serverless cache snapshot {name} not found."),
    )
}

/// One node (member cluster).
#[derive(Debug, Clone)]
pub struct Node {
    /// `CacheClusterId`.
    pub cache_cluster_id: String,
    /// `NodeGroupId` of its shard (`0001`, …), for group members.
    pub node_group_id: Option<String>,
    /// `primary` or `replica`.
    pub role: String,
    /// Loopback port of its redis-server; `None` for Memcached (not run).
    pub port: Option<u16>,
    /// Data directory.
    pub dir: PathBuf,
    /// `redis_version` of the process.
    pub engine_version: String,
    /// Creation time.
    pub created: OffsetDateTime,
}

/// One shard.
#[derive(Debug, Clone)]
pub struct Shard {
    /// `NodeGroupId`.
    pub node_group_id: String,
    /// Slot range `start-end` (cluster mode enabled).
    pub slots: Option<(u16, u16)>,
    /// Nodes; the primary first.
    pub nodes: Vec<Node>,
}

/// One replication group.
#[derive(Debug, Clone)]
pub struct Group {
    /// Its topology entry (or what CreateReplicationGroup asked for).
    pub spec: GroupSpec,
    /// Its shards.
    pub shards: Vec<Shard>,
    /// Creation time.
    pub created: OffsetDateTime,
    /// A lifecycle status that overrides the computed one: `creating`, `create-failed` (its nodes then read
    /// `restore-failed`) or `deleting`.
    pub status: Option<String>,
    /// Tags (`Tags` of CreateReplicationGroup; `ListTagsForResource`).
    pub tags: Vec<(String, String)>,
}

/// One standalone cluster.
#[derive(Debug, Clone)]
pub struct Standalone {
    /// Its topology entry.
    pub spec: StandaloneSpec,
    /// Its node.
    pub node: Node,
}

/// One shard's part of a snapshot.
#[derive(Debug, Clone)]
pub struct NodeSnapshot {
    /// The node snapshotted.
    pub cache_cluster_id: String,
    /// Its shard.
    pub node_group_id: Option<String>,
    /// The shard's slot range when the snapshot was taken (cluster mode enabled): `NodeGroupConfiguration.Slots`
    /// of DescribeSnapshots with `ShowNodeGroupConfig`.
    pub slots: Option<(u16, u16)>,
    /// The node's port (for BGSAVE).
    pub port: Option<u16>,
    /// The node's data dir.
    pub dir: PathBuf,
    /// The kept RDB, once written.
    pub rdb: Option<PathBuf>,
    /// Its size, bytes.
    pub size: u64,
    /// When the RDB was written.
    pub created: Option<OffsetDateTime>,
}

/// One snapshot.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// `SnapshotName`.
    pub name: String,
    /// `ReplicationGroupId`.
    pub replication_group_id: Option<String>,
    /// `CacheClusterId` (a node snapshot).
    pub cache_cluster_id: Option<String>,
    /// `SnapshotStatus`.
    pub status: String,
    /// Engine.
    pub engine: String,
    /// Engine version.
    pub engine_version: String,
    /// Cluster mode enabled.
    pub cluster_enabled: bool,
    /// Data tiering.
    pub data_tiering: bool,
    /// Per-shard parts.
    pub nodes: Vec<NodeSnapshot>,
    /// Creation time.
    pub created: OffsetDateTime,
    /// `Tags` of CreateSnapshot (`ListTagsForResource` of the snapshot ARN).
    pub tags: Vec<(String, String)>,
}

/// One serverless cache (botocore `elasticache/2015-02-02`, shape `ServerlessCache`).
#[derive(Debug, Clone)]
pub struct ServerlessCache {
    /// Its topology entry (or what CreateServerlessCache asked for).
    pub spec: ServerlessSpec,
    /// `Description`.
    pub description: String,
    /// Its redis-server processes as shards (one primary each); none for Memcached or while `creating`.
    pub shards: Vec<Shard>,
    /// `CreateTime`.
    pub created: OffsetDateTime,
    /// Lifecycle status (`creating`, `available`, `create-failed`, `deleting`, or the topology's); `modifying` is
    /// also read while an injected busy fault lasts ([`State::serverless_status`]).
    pub status: String,
    /// Tags, in the order given.
    pub tags: Vec<(String, String)>,
    /// `FullEngineVersion`: the redis-server's `redis_version` (Memcached: `1.6.22`), once known.
    pub full_engine_version: Option<String>,
    /// `CacheUsageLimits` as the request gave it (`DataStorage.Maximum`, `ECPUPerSecond.Minimum`, ...).
    pub usage_limits: BTreeMap<String, String>,
}

/// One shard's RDB of a serverless snapshot.
#[derive(Debug, Clone)]
pub struct ServerlessPart {
    /// The shard's redis-server port (for BGSAVE).
    pub port: Option<u16>,
    /// Its data directory.
    pub dir: PathBuf,
    /// The kept RDB, once written.
    pub rdb: Option<PathBuf>,
    /// Its size, bytes.
    pub size: u64,
}

/// One serverless cache snapshot (botocore `elasticache/2015-02-02`, shape `ServerlessCacheSnapshot`).
#[derive(Debug, Clone)]
pub struct ServerlessSnapshot {
    /// `ServerlessCacheSnapshotName` (lower-cased).
    pub name: String,
    /// `ServerlessCacheConfiguration.ServerlessCacheName`.
    pub cache: String,
    /// `ServerlessCacheConfiguration.Engine`.
    pub engine: String,
    /// `ServerlessCacheConfiguration.MajorEngineVersion`.
    pub major_engine_version: String,
    /// `Status`: `creating`, `available`, `failed`, `exporting`, `deleting` (AWS lists none; see
    /// [`crate::serverless`]).
    pub status: String,
    /// `SnapshotType`: `manual`.
    pub snapshot_type: String,
    /// `CreateTime`.
    pub created: OffsetDateTime,
    /// `KmsKeyId`.
    pub kms_key_id: Option<String>,
    /// Tags.
    pub tags: Vec<(String, String)>,
    /// One RDB per shard of the cache, in shard order.
    pub parts: Vec<ServerlessPart>,
}

impl ServerlessSnapshot {
    /// `BytesUsedForCache`: the RDBs' total size.
    pub fn bytes(&self) -> u64 {
        self.parts.iter().map(|p| p.size).sum()
    }
}

/// An export made by CopySnapshot with TargetBucket.
#[derive(Debug, Clone)]
pub struct ExportRecord {
    /// Source snapshot.
    pub snapshot: String,
    /// `TargetBucket`.
    pub bucket: String,
    /// The keys it writes.
    pub keys: Vec<String>,
}

/// A fault injected through `POST /_emulator/faults`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Fault {
    /// The next `times` calls of `action` fail with `code` (HTTP status from the model) and `message`.
    #[serde(rename_all = "camelCase")]
    Error {
        /// Query action name, e.g. `CreateSnapshot`.
        action: String,
        /// Wire code, e.g. `InvalidReplicationGroupState`, `Throttling`.
        code: String,
        /// Message.
        #[serde(default)]
        message: Option<String>,
        /// How many calls.
        #[serde(default = "one")]
        times: u32,
        /// HTTP status instead of the model's (e.g. 500 or 503 for `InternalFailure`, `ServiceUnavailable`).
        #[serde(default)]
        status: Option<u16>,
        /// The call takes effect first, then the error is answered (a lost answer).
        #[serde(default)]
        after_effect: bool,
    },
    /// The group, cluster or serverless cache `target` reads `modifying` (CreateSnapshot and
    /// CreateServerlessCacheSnapshot get the state error) for `seconds`, or for its next `reads` status evaluations
    /// (deterministic, for tests).
    Busy {
        /// Group, cluster or serverless cache name.
        target: String,
        /// Seconds.
        #[serde(default)]
        seconds: Option<f64>,
        /// Status evaluations.
        #[serde(default)]
        reads: Option<u32>,
    },
    /// The next snapshot of `target` ends in status `failed`.
    FailSnapshot {
        /// Group, cluster or serverless cache name.
        target: String,
    },
    /// The next export uploads its first object with one byte flipped in the middle (a damaged backup).
    CorruptExport,
    /// The next export damages its first object in another way: `empty` (0 bytes), `truncated` (the first half),
    /// `missing` (never uploaded), or `flipped` (as `corruptExport`).
    DamageExport {
        /// How.
        mode: Damage,
    },
    /// The next snapshot stays `creating` at least `seconds` (a snapshot stuck past its deadline).
    SlowSnapshot {
        /// Seconds.
        seconds: f64,
    },
    /// Not a fault: the snapshot `name` (node-based: `SnapshotCreateTime`; serverless: `CreateTime`) reads as created
    /// `days` ago, for tests of what acts on old snapshots (a sweeper, retention).
    AgeSnapshot {
        /// `SnapshotName`.
        name: String,
        /// Days in the past.
        days: f64,
    },
    /// The nodes of group `target` (which may not exist yet: a restore's new group), or the serverless cache
    /// `target`, report an endpoint nothing listens on (127.0.0.1, port 1): what a verifier outside the VPC or
    /// security groups meets.
    Unreachable {
        /// Replication group id or serverless cache name.
        target: String,
    },
    /// A failover in `target` (a cluster mode disabled group): its primary and first replica swap roles now.
    Failover {
        /// Replication group id.
        target: String,
    },
    /// The next export uploads its objects only after `delay_seconds`.
    #[serde(rename_all = "camelCase")]
    SlowExport {
        /// Seconds.
        delay_seconds: f64,
    },
    /// Not a fault: from now on, seeding follows `route` (as the emulator would in that kind of region).
    SeedingRoute {
        /// `object-acl` or `bucket-policy`.
        route: SeedingRoute,
    },
    /// The next export (CopySnapshot or ExportServerlessCacheSnapshot; of a snapshot of `target`, a replication
    /// group, cluster or serverless cache name or the snapshot's name; of any
    /// snapshot without one) is accepted as AWS accepts it, then fails after the export delay: no object is written,
    /// the snapshot is `available` again, and the failure is recorded as an event on the snapshot's source
    /// (`DescribeEvents`; its message names the `TargetSnapshotName`, the bucket and `reason`).
    FailExport {
        /// Group, cluster or snapshot name.
        #[serde(default)]
        target: Option<String>,
        /// Why, as the event's message says it.
        #[serde(default)]
        reason: Option<String>,
    },
}

/// How an injected export damages its first object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Damage {
    /// One byte flipped in the middle.
    Flipped,
    /// Zero bytes.
    Empty,
    /// The first half only.
    Truncated,
    /// Not uploaded at all.
    Missing,
    /// Every object after the first is uploaded one number up (`-0001, -0003, -0004` for three shards): as many
    /// objects as shards, but one key missing and one unexpected.
    Misnumbered,
    /// The objects are named in the reverse of `NodeGroupId` order (`-0001` holds the last node group): which object
    /// holds which node group is not documented, so nothing may depend on it.
    Reversed,
    /// The second object holds the first node group's data again (keys of another node group than its own).
    Duplicated,
}

fn one() -> u32 {
    1
}

/// Timing settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Minimum time a snapshot stays `creating`, seconds.
    pub snapshot_min_seconds: f64,
    /// Delay before an export's objects are uploaded, seconds.
    pub export_delay_seconds: f64,
    /// Region reported in ARNs and availability zones.
    pub region: String,
    /// Account id reported in ARNs.
    pub account: String,
    /// Where snapshot RDBs are kept.
    pub snapshot_dir: PathBuf,
    /// Where node data directories live.
    pub node_dir: PathBuf,
    /// The redis-server binary.
    pub redis_server: String,
    /// How ElastiCache may read seed objects in this region ([`SeedingRoute`]).
    pub seeding_route: SeedingRoute,
    /// Object key template of ExportServerlessCacheSnapshot (`{snapshot}`, `{shard}`; see
    /// [`crate::serverless::export_keys`]).
    pub serverless_export_key: String,
}

/// The documented way ElastiCache is given read access to a seed `.rdb` (User Guide, "Seeding a new self-designed
/// cluster with an externally created backup"), which depends on the kind of region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum SeedingRoute {
    /// Default regions: an object ACL granting ElastiCache's canonical user read access on the object.
    ObjectAcl,
    /// Opt-in regions: a bucket policy granting `<region>.elasticache-snapshot.amazonaws.com` `s3:GetObject`.
    BucketPolicy,
}

/// Regions an account must opt in to (AWS Account Management Reference Guide, "Specify which AWS Regions your
/// account can use"): their seeding route is the bucket policy.
pub const OPT_IN_REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-south-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-west-1",
    "eu-central-2",
    "eu-south-1",
    "eu-south-2",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
];

impl SeedingRoute {
    /// The route of `region`'s kind.
    pub fn of_region(region: &str) -> Self {
        if OPT_IN_REGIONS.contains(&region) {
            Self::BucketPolicy
        } else {
            Self::ObjectAcl
        }
    }
}

/// Everything the emulator knows.
#[derive(Debug)]
pub struct State {
    /// Settings.
    pub settings: Settings,
    /// Replication groups, by id.
    pub groups: BTreeMap<String, Group>,
    /// Standalone clusters, by id.
    pub standalone: BTreeMap<String, Standalone>,
    /// Snapshots, by name.
    pub snapshots: BTreeMap<String, Snapshot>,
    /// Exports started.
    pub exports: Vec<ExportRecord>,
    /// Error faults, in order of injection.
    pub error_faults: VecDeque<(String, ApiError, u32, bool)>,
    /// Busy-until per target.
    pub busy_until: HashMap<String, Instant>,
    /// Remaining busy status evaluations per target.
    pub busy_reads: std::cell::RefCell<HashMap<String, u32>>,
    /// Targets whose next snapshot fails.
    pub fail_snapshot: Vec<String>,
    /// Export delay for the next export.
    pub slow_export: Option<f64>,
    /// The next export's first object is damaged, and how.
    pub damage_export: Option<Damage>,
    /// Extra seconds the next snapshot stays `creating`.
    pub slow_snapshot: Option<f64>,
    /// Groups whose nodes report an unreachable endpoint ([`Fault::Unreachable`]).
    pub unreachable: std::collections::HashSet<String>,
    /// Exports that fail ([`Fault::FailExport`]): `(target, reason)`.
    pub fail_export: Vec<(Option<String>, Option<String>)>,
    /// ElastiCache's event log (`DescribeEvents`), derived from the journal.
    pub events: crate::event_log::EventLog,
    /// Cache parameter groups of the topology, by name (DescribeCacheParameters).
    pub parameter_groups: BTreeMap<String, crate::topology::ParameterGroupSpec>,
    /// Cache subnet groups of the topology, by name (DescribeCacheSubnetGroups).
    pub subnet_groups: BTreeMap<String, crate::topology::SubnetGroupSpec>,
    /// Serverless caches, by name.
    pub serverless: BTreeMap<String, ServerlessCache>,
    /// Serverless cache snapshots, by name.
    pub serverless_snapshots: BTreeMap<String, ServerlessSnapshot>,
    /// When each manual snapshot of a serverless cache was created, by cache name (the 24-hour quota).
    pub serverless_snapshot_times: HashMap<String, Vec<OffsetDateTime>>,
    /// Exports started by ExportServerlessCacheSnapshot.
    pub serverless_exports: Vec<ExportRecord>,
    /// What happened, for tests and the demo.
    pub journal: Vec<Value>,
}

/// Where a CreateSnapshot applies.
#[derive(Debug, Clone)]
pub struct SnapshotPlan {
    /// The record to insert.
    pub snapshot: Snapshot,
    /// Fail it at the end.
    pub fail: bool,
}

impl State {
    /// The snapshot `name` (lower-cased), which must be `available` (as CopySnapshot and a restore by
    /// `SnapshotName` require: `SnapshotNotFoundFault` / `InvalidSnapshotState` otherwise).
    pub fn available_snapshot_mut(&mut self, name: &str) -> Result<&mut Snapshot, ApiError> {
        let s = self.snapshots.get_mut(name).ok_or_else(|| {
            ApiError::new(
                "SnapshotNotFoundFault",
                format!("Snapshot {name} not found."),
            )
        })?;
        if s.status != "available" {
            return Err(ApiError::new(
                "InvalidSnapshotState",
                format!("Snapshot {name} is not in available state ({}).", s.status),
            ));
        }
        Ok(s)
    }

    /// A new state.
    pub fn new(settings: Settings) -> Self {
        Self {
            settings,
            groups: BTreeMap::new(),
            standalone: BTreeMap::new(),
            snapshots: BTreeMap::new(),
            exports: Vec::new(),
            error_faults: VecDeque::new(),
            busy_until: HashMap::new(),
            busy_reads: std::cell::RefCell::new(HashMap::new()),
            fail_snapshot: Vec::new(),
            slow_export: None,
            damage_export: None,
            slow_snapshot: None,
            unreachable: std::collections::HashSet::new(),
            fail_export: Vec::new(),
            events: crate::event_log::EventLog::default(),
            parameter_groups: BTreeMap::new(),
            subnet_groups: BTreeMap::new(),
            serverless: BTreeMap::new(),
            serverless_snapshots: BTreeMap::new(),
            serverless_snapshot_times: HashMap::new(),
            serverless_exports: Vec::new(),
            journal: Vec::new(),
        }
    }

    /// Adds a fault.
    pub fn inject(&mut self, fault: Fault) {
        self.log("InjectFault", json!({ "fault": format!("{fault:?}") }));
        match fault {
            Fault::Error {
                action,
                code,
                message,
                times,
                status,
                after_effect,
            } => {
                let msg = message.unwrap_or_else(|| format!("injected {code}"));
                let mut err = ApiError::new(&code, msg);
                if let Some(status) = status {
                    err.status = status;
                }
                self.error_faults
                    .push_back((action, err, times, after_effect));
            }
            Fault::Busy {
                target,
                seconds,
                reads,
            } => {
                if let Some(seconds) = seconds {
                    self.busy_until.insert(
                        target.clone(),
                        Instant::now() + Duration::from_secs_f64(seconds.max(0.0)),
                    );
                }
                if let Some(reads) = reads {
                    self.busy_reads.borrow_mut().insert(target, reads);
                }
            }
            Fault::FailSnapshot { target } => self.fail_snapshot.push(target),
            Fault::SeedingRoute { route } => self.settings.seeding_route = route,
            Fault::SlowExport { delay_seconds } => self.slow_export = Some(delay_seconds.max(0.0)),
            Fault::CorruptExport => self.damage_export = Some(Damage::Flipped),
            Fault::DamageExport { mode } => self.damage_export = Some(mode),
            Fault::SlowSnapshot { seconds } => self.slow_snapshot = Some(seconds.max(0.0)),
            Fault::AgeSnapshot { name, days } => {
                let age = time::Duration::seconds_f64(days.max(0.0) * 86_400.0);
                if let Some(s) = self
                    .serverless_snapshots
                    .get_mut(&name.to_ascii_lowercase())
                {
                    s.created -= age;
                }
                if let Some(s) = self.snapshots.get_mut(&name.to_ascii_lowercase()) {
                    s.created -= age;
                    for n in &mut s.nodes {
                        n.created = n.created.map(|t| t - age);
                    }
                }
            }
            Fault::FailExport { target, reason } => {
                self.fail_export
                    .push((target.map(|t| t.to_ascii_lowercase()), reason));
            }
            Fault::Unreachable { target } => {
                self.unreachable.insert(target.to_ascii_lowercase());
            }
            Fault::Failover { target } => {
                if let Some(g) = self.groups.get_mut(&target) {
                    for shard in &mut g.shards {
                        let replica = shard.nodes.iter().position(|n| n.role == "replica");
                        let primary = shard.nodes.iter().position(|n| n.role == "primary");
                        if let (Some(r), Some(p)) = (replica, primary) {
                            shard.nodes[r].role = "primary".into();
                            shard.nodes[p].role = "replica".into();
                        }
                    }
                }
            }
        }
    }

    /// Clears every fault.
    pub fn clear_faults(&mut self) {
        self.error_faults.clear();
        self.busy_until.clear();
        self.busy_reads.borrow_mut().clear();
        self.fail_snapshot.clear();
        self.slow_export = None;
        self.damage_export = None;
        self.slow_snapshot = None;
        self.unreachable.clear();
        self.fail_export.clear();
    }

    /// The reason the export of `snapshot` fails, if a [`Fault::FailExport`] applies to it (consumes it).
    pub fn take_fail_export(&mut self, snapshot: &Snapshot) -> Option<String> {
        let applies = |t: &Option<String>| {
            t.as_ref().is_none_or(|t| {
                *t == snapshot.name
                    || snapshot.replication_group_id.as_ref() == Some(t)
                    || snapshot.cache_cluster_id.as_ref() == Some(t)
            })
        };
        let i = self.fail_export.iter().position(|(t, _)| applies(t))?;
        let (_, reason) = self.fail_export.remove(i);
        Some(reason.unwrap_or_else(|| "injected failExport".into()))
    }

    /// The reason the export of the serverless snapshot `snapshot` fails, if a [`Fault::FailExport`] names it or its
    /// cache (or names nothing) (consumes it).
    pub fn take_fail_serverless_export(&mut self, snapshot: &ServerlessSnapshot) -> Option<String> {
        let i = self.fail_export.iter().position(|(t, _)| {
            t.as_ref()
                .is_none_or(|t| *t == snapshot.name || *t == snapshot.cache)
        })?;
        let (_, reason) = self.fail_export.remove(i);
        Some(reason.unwrap_or_else(|| "injected failExport".into()))
    }

    /// Whether the next snapshot of `target` is to fail ([`Fault::FailSnapshot`]; consumes it).
    pub fn take_fail_snapshot(&mut self, target: &str) -> bool {
        match self.fail_snapshot.iter().position(|t| t == target) {
            Some(i) => {
                self.fail_snapshot.remove(i);
                true
            }
            None => false,
        }
    }

    /// `Status` of a serverless cache: its lifecycle status, or `modifying` while an injected busy fault names it.
    pub fn serverless_status(&self, cache: &ServerlessCache) -> String {
        if cache.status == "available" && self.busy(&cache.spec.id) {
            "modifying".into()
        } else {
            cache.status.clone()
        }
    }

    /// The injected error for this call of `action`, if any (consumes one use).
    pub fn take_error_fault(&mut self, action: &str) -> Option<(ApiError, bool)> {
        let idx = self
            .error_faults
            .iter()
            .position(|(a, _, n, _)| a == action && *n > 0)?;
        let entry = &mut self.error_faults[idx];
        entry.2 -= 1;
        let err = (entry.1.clone(), entry.3);
        if entry.2 == 0 {
            self.error_faults.remove(idx);
        }
        Some(err)
    }

    /// ARN of a resource.
    pub fn arn(&self, kind: &str, name: &str) -> String {
        format!(
            "arn:aws:elasticache:{}:{}:{kind}:{name}",
            self.settings.region, self.settings.account
        )
    }

    /// The group a node belongs to, if any.
    pub fn group_of_node(&self, cache_cluster_id: &str) -> Option<&Group> {
        self.groups.values().find(|g| {
            g.shards
                .iter()
                .flat_map(|s| &s.nodes)
                .any(|n| n.cache_cluster_id == cache_cluster_id)
        })
    }

    /// A node by id (group member or standalone).
    pub fn node(&self, cache_cluster_id: &str) -> Option<&Node> {
        self.groups
            .values()
            .flat_map(|g| g.shards.iter().flat_map(|s| &s.nodes))
            .chain(self.standalone.values().map(|s| &s.node))
            .find(|n| n.cache_cluster_id == cache_cluster_id)
    }

    fn busy(&self, id: &str) -> bool {
        if self.busy_until.get(id).is_some_and(|t| Instant::now() < *t) {
            return true;
        }
        let mut reads = self.busy_reads.borrow_mut();
        match reads.get_mut(id) {
            Some(n) if *n > 0 => {
                *n -= 1;
                true
            }
            _ => false,
        }
    }

    fn snapshot_in_progress_for_group(&self, group: &Group) -> bool {
        self.snapshots.values().any(|s| {
            s.status == "creating"
                && (s.replication_group_id.as_deref() == Some(group.spec.id.as_str())
                    || s.nodes.iter().any(|n| {
                        group
                            .shards
                            .iter()
                            .flat_map(|sh| &sh.nodes)
                            .any(|m| m.cache_cluster_id == n.cache_cluster_id)
                    }))
        })
    }

    /// `Status` of a group: its lifecycle status (`creating`, `create-failed`, `deleting`), `modifying` (injected
    /// busy), `snapshotting` (a snapshot is being created), `available`.
    pub fn group_status(&self, group: &Group) -> String {
        if let Some(status) = &group.status {
            return status.clone();
        }
        (if self.busy(&group.spec.id) {
            "modifying"
        } else if self.snapshot_in_progress_for_group(group) {
            "snapshotting"
        } else {
            "available"
        })
        .to_string()
    }

    /// `CacheClusterStatus` of a node.
    pub fn node_status(&self, node: &Node) -> &'static str {
        let group = self.group_of_node(&node.cache_cluster_id);
        match group.and_then(|g| g.status.as_deref()) {
            Some("creating") => return "creating",
            Some("create-failed") => return "restore-failed",
            Some("deleting") => return "deleting",
            _ => {}
        }
        if self.busy(&node.cache_cluster_id) || group.is_some_and(|g| self.busy(&g.spec.id)) {
            return "modifying";
        }
        let snapshotting = self.snapshots.values().any(|s| {
            s.status == "creating"
                && s.nodes
                    .iter()
                    .any(|n| n.cache_cluster_id == node.cache_cluster_id)
        });
        if snapshotting {
            "snapshotting"
        } else {
            "available"
        }
    }

    /// Validates a CreateSnapshot and returns the snapshot to create (status `creating`).
    ///
    /// # Errors
    /// The API errors of CreateSnapshot, as botocore models them.
    pub fn plan_snapshot(
        &mut self,
        name: &str,
        replication_group_id: Option<&str>,
        cache_cluster_id: Option<&str>,
    ) -> Result<SnapshotPlan, ApiError> {
        let name = name.to_ascii_lowercase();
        if self.snapshots.contains_key(&name) {
            return Err(ApiError::new(
                "SnapshotAlreadyExistsFault",
                format!("Snapshot {name} already exists."),
            ));
        }
        let created = OffsetDateTime::now_utc();
        let (snapshot, target_id) = match (replication_group_id, cache_cluster_id) {
            (Some(_), Some(_)) | (None, None) => {
                return Err(ApiError::new(
                    "InvalidParameterCombination",
                    "Exactly one of ReplicationGroupId and CacheClusterId must be specified.",
                ));
            }
            (Some(rg), None) => {
                let rg = rg.to_ascii_lowercase();
                let group = self.groups.get(&rg).ok_or_else(|| {
                    ApiError::new(
                        "ReplicationGroupNotFoundFault",
                        format!("Replication group {rg} not found."),
                    )
                })?;
                if self.group_status(group) != "available" {
                    return Err(ApiError::new(
                        "InvalidReplicationGroupState",
                        format!("Replication group {rg} is not in available state."),
                    ));
                }
                let nodes = group
                    .shards
                    .iter()
                    .map(|shard| {
                        // Which node ElastiCache uses for a group snapshot is not documented; a replica is
                        // preferred here, as AWS recommends for manual backups.
                        let node = shard
                            .nodes
                            .iter()
                            .find(|n| n.role == "replica")
                            .unwrap_or(&shard.nodes[0]);
                        NodeSnapshot {
                            slots: shard.slots,
                            ..node_snapshot(node)
                        }
                    })
                    .collect();
                (
                    Snapshot {
                        name: name.clone(),
                        replication_group_id: Some(rg.clone()),
                        cache_cluster_id: None,
                        status: "creating".into(),
                        engine: group.spec.engine.clone(),
                        engine_version: group.shards[0].nodes[0].engine_version.clone(),
                        cluster_enabled: group.spec.cluster_mode,
                        data_tiering: group.spec.data_tiering,
                        nodes,
                        created,
                        tags: Vec::new(),
                    },
                    rg,
                )
            }
            (None, Some(cc)) => {
                let cc = cc.to_ascii_lowercase();
                let node = self
                    .node(&cc)
                    .ok_or_else(|| {
                        ApiError::new(
                            "CacheClusterNotFound",
                            format!("CacheCluster {cc} not found."),
                        )
                    })?
                    .clone();
                let group = self.group_of_node(&cc).cloned();
                let engine = match &group {
                    Some(g) => g.spec.engine.clone(),
                    None => self
                        .standalone
                        .get(&cc)
                        .map(|s| s.spec.engine.clone())
                        .unwrap_or_default(),
                };
                if engine == "memcached" {
                    return Err(ApiError::new(
                        "SnapshotFeatureNotSupportedFault",
                        "Snapshots are not supported for Memcached clusters.",
                    ));
                }
                if group.as_ref().is_some_and(|g| g.spec.cluster_mode) {
                    return Err(ApiError::new(
                        "InvalidParameterCombination",
                        "Cannot snapshot a node of a cluster mode enabled replication group; use ReplicationGroupId.",
                    ));
                }
                let busy = match &group {
                    Some(g) => self.group_status(g) != "available",
                    None => self.node_status(&node) != "available",
                };
                if busy {
                    return Err(ApiError::new(
                        "InvalidCacheClusterState",
                        format!("Cache cluster {cc} is not in available state."),
                    ));
                }
                (
                    Snapshot {
                        name: name.clone(),
                        replication_group_id: group.as_ref().map(|g| g.spec.id.clone()),
                        cache_cluster_id: Some(cc.clone()),
                        status: "creating".into(),
                        engine,
                        engine_version: node.engine_version.clone(),
                        cluster_enabled: false,
                        data_tiering: group.as_ref().is_some_and(|g| g.spec.data_tiering),
                        nodes: vec![node_snapshot(&node)],
                        created,
                        tags: Vec::new(),
                    },
                    group.map(|g| g.spec.id).unwrap_or(cc),
                )
            }
        };
        let fail = match self.fail_snapshot.iter().position(|t| {
            *t == target_id || Some(t) == cache_cluster_id.map(str::to_string).as_ref()
        }) {
            Some(i) => {
                self.fail_snapshot.remove(i);
                true
            }
            None => false,
        };
        Ok(SnapshotPlan { snapshot, fail })
    }
}

fn node_snapshot(node: &Node) -> NodeSnapshot {
    NodeSnapshot {
        cache_cluster_id: node.cache_cluster_id.clone(),
        node_group_id: node.node_group_id.clone(),
        slots: None,
        port: node.port,
        dir: node.dir.clone(),
        rdb: None,
        size: 0,
        created: None,
    }
}

/// Now, RFC 3339.
pub fn now_string() -> String {
    OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
