//! The topology file (TOML): which replication groups and clusters the emulator runs.
//!
//! ```toml
//! [[replication_group]]
//! id = "orders"              # ReplicationGroupId (lower-case)
//! engine = "redis"           # "redis" | "valkey" (both run the local redis-server)
//! cluster_mode = false       # true: cluster-enabled nodes, slots split across shards
//! shards = 1                 # node groups (must be 1 when cluster_mode = false)
//! replicas_per_shard = 1
//! data_tiering = false       # reported as DataTiering; such backups cannot be exported
//!
//! [[cache_cluster]]          # a standalone cluster (no replication group)
//! id = "memo"
//! engine = "memcached"       # memcached: no process is started; snapshots are refused as on AWS
//!
//! snapshot_window = "05:00-06:00"   # SnapshotWindow (absent: none reported)
//! snapshot_retention_limit = 0       # SnapshotRetentionLimit (> 0: automatic backups)
//! notification_topic_arn = "arn:aws:sns:us-east-1:123456789012:t"  # NotificationConfiguration.TopicArn
//! parameter_group = "default.redis7" # CacheParameterGroup (a [[cache_parameter_group]] or default.redis7)
//! cache_subnet_group = "app"         # CacheSubnetGroupName (a [[cache_subnet_group]])
//!
//! [[cache_parameter_group]]  # DescribeCacheParameters
//! name = "lowmem"
//! parameters = { "reserved-memory-percent" = "10" }   # default.redis7 has reserved-memory-percent 25
//!
//! [[cache_subnet_group]]     # DescribeCacheSubnetGroups
//! name = "app"
//! vpc_id = "vpc-0a1b2c3d"
//! subnets = ["subnet-0a1", "subnet-0b2"]
//!
//! [[serverless_cache]]      # a serverless cache (DescribeServerlessCaches, CreateServerlessCacheSnapshot, ...)
//! id = "sessions"            # ServerlessCacheName (lower-case)
//! engine = "redis"           # "redis" | "valkey" (the local redis-server) | "memcached" (no process)
//! major_engine_version = "7" # MajorEngineVersion (default "7"; "1.6" for memcached)
//! shards = 1                 # 1: one redis-server; > 1: a Redis Cluster of that many primaries, slots split evenly
//! status = "available"       # Status reported (available, creating, modifying, deleting, create-failed)
//! tags = { backup = "daily" }
//! security_group_ids = ["sg-0a1"]   # and subnet_ids, user_group_id, kms_key_id, daily_snapshot_time,
//! snapshot_retention_limit = 1      # snapshot_retention_limit: reported only
//!
//! [[replication_group_set]]  # many alike groups (fleets): ids <prefix>-001 ... <prefix>-<count>
//! prefix = "app"
//! count = 50                 # 1-500; the groups start 8 at a time
//! cluster_mode = false       # and engine, shards, replicas_per_shard (default 0: one process per group), tags
//! tags = { backup = "daily" }
//! ```

use serde::Deserialize;

/// The whole file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Topology {
    /// Replication groups.
    #[serde(default)]
    pub replication_group: Vec<GroupSpec>,
    /// Standalone clusters.
    #[serde(default)]
    pub cache_cluster: Vec<StandaloneSpec>,
    /// Sets of alike groups, expanded into [`Topology::replication_group`] by [`Topology::parse`].
    #[serde(default)]
    pub replication_group_set: Vec<GroupSetSpec>,
    /// Cache parameter groups besides the built-in [`DEFAULT_PARAMETER_GROUP`].
    #[serde(default)]
    pub cache_parameter_group: Vec<ParameterGroupSpec>,
    /// Cache subnet groups.
    #[serde(default)]
    pub cache_subnet_group: Vec<SubnetGroupSpec>,
    /// Serverless caches.
    #[serde(default)]
    pub serverless_cache: Vec<ServerlessSpec>,
}

/// Serverless cache statuses (botocore `elasticache/2015-02-02`, `ServerlessCache.Status`: "CREATING, AVAILABLE,
/// DELETING, CREATE-FAILED and MODIFYING"), written lower-case as ElastiCache writes its other statuses and as the
/// API Reference's serverless examples write theirs (CopyServerlessCacheSnapshot: `"Status": "creating"`). The case
/// of the cache's own status on the wire is not shown by any AWS example: lower-case is the emulator's choice.
pub const SERVERLESS_STATUSES: &[&str] = &[
    "creating",
    "available",
    "deleting",
    "create-failed",
    "modifying",
];

/// One serverless cache (botocore `elasticache/2015-02-02`, shape `ServerlessCache`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerlessSpec {
    /// `ServerlessCacheName` ("stored as a lowercase string", CreateServerlessCacheRequest).
    pub id: String,
    /// `redis`, `valkey` or `memcached`.
    #[serde(default = "default_engine")]
    pub engine: String,
    /// `MajorEngineVersion` (default [`default_major_version`]).
    #[serde(default)]
    pub major_engine_version: Option<String>,
    /// Shards: 1 is one redis-server; more is a Redis Cluster of that many primaries (slots split evenly). Serverless
    /// caches hide their shards (User Guide, "How ElastiCache Serverless works"); they are the emulator's means of
    /// producing a multi-object export.
    #[serde(default = "one")]
    pub shards: u32,
    /// ElastiCache tags (`ListTagsForResource` of the cache ARN).
    #[serde(default)]
    pub tags: std::collections::BTreeMap<String, String>,
    /// `Status` reported (one of [`SERVERLESS_STATUSES`]; default `available`).
    #[serde(default)]
    pub status: Option<String>,
    /// `SecurityGroupIds`.
    #[serde(default)]
    pub security_group_ids: Vec<String>,
    /// `SubnetIds`.
    #[serde(default)]
    pub subnet_ids: Vec<String>,
    /// `UserGroupId`.
    #[serde(default)]
    pub user_group_id: Option<String>,
    /// `KmsKeyId` (its presence makes `StorageEncryptionType` `sse-kms`).
    #[serde(default)]
    pub kms_key_id: Option<String>,
    /// `DailySnapshotTime`, e.g. `04:00`; reported only (no automatic snapshot is taken).
    #[serde(default)]
    pub daily_snapshot_time: Option<String>,
    /// `SnapshotRetentionLimit`; reported only.
    #[serde(default)]
    pub snapshot_retention_limit: Option<u32>,
}

impl ServerlessSpec {
    /// `MajorEngineVersion`: the one given, else [`default_major_version`].
    pub fn major_version(&self) -> String {
        self.major_engine_version
            .clone()
            .unwrap_or_else(|| default_major_version(&self.engine).to_string())
    }
}

/// The `MajorEngineVersion` a serverless cache gets when none is given: `1.6` for Memcached, `7` otherwise (the
/// versions ElastiCache Serverless offered first, User Guide "Supported engines and versions").
pub fn default_major_version(engine: &str) -> &'static str {
    if engine == "memcached" { "1.6" } else { "7" }
}

/// The parameter group every group uses unless it names another; its `reserved-memory-percent` is 25, as in
/// AWS's default groups for Redis OSS 3.2.4 and later (ElastiCache User Guide, "Managing reserved memory").
pub const DEFAULT_PARAMETER_GROUP: &str = "default.redis7";

/// One cache parameter group (DescribeCacheParameters).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParameterGroupSpec {
    /// `CacheParameterGroupName`.
    pub name: String,
    /// Parameters the group sets (`Source` user); [`DEFAULT_PARAMETER_GROUP`]'s values fill in the rest.
    #[serde(default)]
    pub parameters: std::collections::BTreeMap<String, String>,
}

/// One cache subnet group (DescribeCacheSubnetGroups).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubnetGroupSpec {
    /// `CacheSubnetGroupName`.
    pub name: String,
    /// `VpcId`.
    pub vpc_id: String,
    /// `Subnets[].SubnetIdentifier`.
    #[serde(default)]
    pub subnets: Vec<String>,
}

/// Many alike replication groups: `<prefix>-001` to `<prefix>-<count>` (three digits at least).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSetSpec {
    /// Id prefix (lower-case).
    pub prefix: String,
    /// How many groups, 1-500.
    pub count: u32,
    /// `redis` or `valkey`.
    #[serde(default = "default_engine")]
    pub engine: String,
    /// Cluster mode enabled.
    #[serde(default)]
    pub cluster_mode: bool,
    /// Shards of each group.
    #[serde(default = "one")]
    pub shards: u32,
    /// Replicas per shard (default 0: each group is one redis-server process).
    #[serde(default)]
    pub replicas_per_shard: u32,
    /// ElastiCache tags of every group of the set.
    #[serde(default)]
    pub tags: std::collections::BTreeMap<String, String>,
}

/// One replication group.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    /// `ReplicationGroupId`.
    pub id: String,
    /// `redis` or `valkey`.
    #[serde(default = "default_engine")]
    pub engine: String,
    /// Cluster mode enabled.
    #[serde(default)]
    pub cluster_mode: bool,
    /// Number of shards.
    #[serde(default = "one")]
    pub shards: u32,
    /// Replicas per shard.
    #[serde(default)]
    pub replicas_per_shard: u32,
    /// Data tiering enabled.
    #[serde(default)]
    pub data_tiering: bool,
    /// ElastiCache tags (`ListTagsForResource`), e.g. `tags = { backup = "daily" }`.
    #[serde(default)]
    pub tags: std::collections::BTreeMap<String, String>,
    /// `SnapshotWindow`, e.g. `05:00-06:00` (UTC); reported only (no automatic backup is taken).
    #[serde(default)]
    pub snapshot_window: Option<String>,
    /// `SnapshotRetentionLimit`: days automatic backups are kept (0: none); reported only.
    #[serde(default)]
    pub snapshot_retention_limit: u32,
    /// `NotificationConfiguration.TopicArn` of the group's clusters; reported only (nothing is published).
    #[serde(default)]
    pub notification_topic_arn: Option<String>,
    /// `CacheParameterGroup.CacheParameterGroupName` of its clusters (default [`DEFAULT_PARAMETER_GROUP`]).
    #[serde(default)]
    pub parameter_group: Option<String>,
    /// `CacheSubnetGroupName` of its clusters.
    #[serde(default)]
    pub cache_subnet_group: Option<String>,
}

impl GroupSpec {
    /// The parameter group's name.
    pub fn parameter_group(&self) -> &str {
        self.parameter_group
            .as_deref()
            .unwrap_or(DEFAULT_PARAMETER_GROUP)
    }
}

/// One standalone cluster.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StandaloneSpec {
    /// `CacheClusterId`.
    pub id: String,
    /// `redis`, `valkey` or `memcached`.
    #[serde(default = "default_engine")]
    pub engine: String,
    /// ElastiCache tags (`ListTagsForResource` of the cluster ARN).
    #[serde(default)]
    pub tags: std::collections::BTreeMap<String, String>,
}

fn default_engine() -> String {
    "redis".into()
}

fn one() -> u32 {
    1
}

impl Topology {
    /// Parses and checks a topology.
    ///
    /// # Errors
    /// A message naming the entry and the rule it breaks.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut t: Topology = toml::from_str(text).map_err(|e| format!("topology: {e}"))?;
        for set in std::mem::take(&mut t.replication_group_set) {
            if set.count == 0 || set.count > 500 {
                return Err(format!(
                    "topology: replication_group_set {} count must be 1-500",
                    set.prefix
                ));
            }
            let width = set.count.to_string().len().max(3);
            for i in 1..=set.count {
                t.replication_group.push(GroupSpec {
                    id: format!("{}-{i:0width$}", set.prefix),
                    engine: set.engine.clone(),
                    cluster_mode: set.cluster_mode,
                    shards: set.shards,
                    replicas_per_shard: set.replicas_per_shard,
                    data_tiering: false,
                    tags: set.tags.clone(),
                    snapshot_window: None,
                    snapshot_retention_limit: 0,
                    notification_topic_arn: None,
                    parameter_group: None,
                    cache_subnet_group: None,
                });
            }
        }
        let mut ids = std::collections::HashSet::new();
        for g in &t.replication_group {
            if !ids.insert(g.id.clone()) {
                return Err(format!("topology: duplicate id {}", g.id));
            }
            if g.id != g.id.to_ascii_lowercase() {
                return Err(format!(
                    "topology: id {} must be lower-case (ElastiCache stores ids lower-cased)",
                    g.id
                ));
            }
            if !["redis", "valkey"].contains(&g.engine.as_str()) {
                return Err(format!(
                    "topology: replication group {} engine must be redis or valkey",
                    g.id
                ));
            }
            if g.shards == 0 || g.shards > 16 {
                return Err(format!(
                    "topology: replication group {} shards must be 1-16",
                    g.id
                ));
            }
            if !g.cluster_mode && g.shards != 1 {
                return Err(format!(
                    "topology: replication group {} has cluster_mode = false, so shards must be 1",
                    g.id
                ));
            }
            if g.replicas_per_shard > 5 {
                return Err(format!(
                    "topology: replication group {} replicas_per_shard must be 0-5",
                    g.id
                ));
            }
        }
        let parameter_groups: std::collections::HashSet<&str> = t
            .cache_parameter_group
            .iter()
            .map(|p| p.name.as_str())
            .chain([DEFAULT_PARAMETER_GROUP])
            .collect();
        for g in &t.replication_group {
            let pg = g.parameter_group();
            if !parameter_groups.contains(pg) {
                return Err(format!(
                    "topology: replication group {} names parameter group {pg}, which is not a [[cache_parameter_group]]",
                    g.id
                ));
            }
            if let Some(sg) = &g.cache_subnet_group
                && !t.cache_subnet_group.iter().any(|s| &s.name == sg)
            {
                return Err(format!(
                    "topology: replication group {} names subnet group {sg}, which is not a [[cache_subnet_group]]",
                    g.id
                ));
            }
        }
        for c in &t.cache_cluster {
            if !ids.insert(c.id.clone()) {
                return Err(format!("topology: duplicate id {}", c.id));
            }
            if !["redis", "valkey", "memcached"].contains(&c.engine.as_str()) {
                return Err(format!(
                    "topology: cache cluster {} engine must be redis, valkey or memcached",
                    c.id
                ));
            }
        }
        let mut serverless = std::collections::HashSet::new();
        for c in &t.serverless_cache {
            let what = format!("topology: serverless cache {}", c.id);
            if !serverless.insert(c.id.clone()) {
                return Err(format!("topology: duplicate serverless cache {}", c.id));
            }
            if c.id.is_empty() || c.id != c.id.to_ascii_lowercase() {
                return Err(format!(
                    "{what}: id must be lower-case (ElastiCache stores ServerlessCacheName lower-cased)"
                ));
            }
            if !["redis", "valkey", "memcached"].contains(&c.engine.as_str()) {
                return Err(format!("{what}: engine must be redis, valkey or memcached"));
            }
            if c.shards == 0 || c.shards > 16 {
                return Err(format!("{what}: shards must be 1-16"));
            }
            if c.engine == "memcached" && c.shards != 1 {
                return Err(format!(
                    "{what}: a memcached cache runs no process here, so shards must be 1"
                ));
            }
            if let Some(s) = &c.status
                && !SERVERLESS_STATUSES.contains(&s.as_str())
            {
                return Err(format!(
                    "{what}: status must be one of {}",
                    SERVERLESS_STATUSES.join(", ")
                ));
            }
        }
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_groups_and_clusters_with_defaults() {
        let t = Topology::parse(
            "[[replication_group]]\nid = \"orders\"\nreplicas_per_shard = 1\n\n[[cache_cluster]]\nid = \"memo\"\nengine = \"memcached\"\n",
        )
        .unwrap();
        assert_eq!(t.replication_group[0].shards, 1);
        assert!(!t.replication_group[0].cluster_mode);
        assert_eq!(t.cache_cluster[0].engine, "memcached");
    }

    #[test]
    fn a_group_set_expands_into_numbered_groups_checked_like_the_others() {
        let t = Topology::parse(
            "[[replication_group]]\nid = \"orders\"\n\n[[replication_group_set]]\nprefix = \"app\"\ncount = 12\ncluster_mode = true\nshards = 2\ntags = { backup = \"daily\" }\n",
        )
        .unwrap();
        let ids: Vec<&str> = t.replication_group.iter().map(|g| g.id.as_str()).collect();
        assert_eq!(ids.len(), 13);
        assert_eq!((ids[0], ids[1], ids[12]), ("orders", "app-001", "app-012"));
        assert!(t.replication_group[1..].iter().all(|g| g.cluster_mode
            && g.shards == 2
            && g.replicas_per_shard == 0
            && g.tags.get("backup").map(String::as_str) == Some("daily")));
        let err =
            Topology::parse("[[replication_group_set]]\nprefix = \"a\"\ncount = 2\nshards = 3\n")
                .unwrap_err();
        assert!(
            err.contains("a-001") && err.contains("shards must be 1"),
            "{err}"
        );
        let err = Topology::parse(
            "[[replication_group]]\nid = \"a-002\"\n[[replication_group_set]]\nprefix = \"a\"\ncount = 2\n",
        )
        .unwrap_err();
        assert!(err.contains("duplicate id a-002"), "{err}");
        assert!(Topology::parse("[[replication_group_set]]\nprefix = \"a\"\ncount = 0\n").is_err());
    }

    #[test]
    fn a_group_names_known_parameter_and_subnet_groups() {
        let t = Topology::parse(
            "[[replication_group]]\nid = \"a\"\nparameter_group = \"low\"\ncache_subnet_group = \"app\"\nsnapshot_retention_limit = 3\n[[cache_parameter_group]]\nname = \"low\"\nparameters = { \"reserved-memory-percent\" = \"10\" }\n[[cache_subnet_group]]\nname = \"app\"\nvpc_id = \"vpc-1\"\nsubnets = [\"subnet-1\"]\n",
        )
        .unwrap();
        assert_eq!(t.replication_group[0].parameter_group(), "low");
        assert_eq!(t.replication_group[0].snapshot_retention_limit, 3);
        let err = Topology::parse("[[replication_group]]\nid = \"a\"\nparameter_group = \"x\"\n")
            .unwrap_err();
        assert!(err.contains("parameter group x"), "{err}");
        let err =
            Topology::parse("[[replication_group]]\nid = \"a\"\ncache_subnet_group = \"x\"\n")
                .unwrap_err();
        assert!(err.contains("subnet group x"), "{err}");
    }

    #[test]
    fn serverless_caches_default_to_one_redis_shard_and_are_checked() {
        let t = Topology::parse(
            "[[serverless_cache]]\nid = \"sessions\"\n[[serverless_cache]]\nid = \"memo\"\nengine = \"memcached\"\n[[serverless_cache]]\nid = \"big\"\nshards = 3\nstatus = \"modifying\"\nsubnet_ids = [\"subnet-1\"]\n",
        )
        .unwrap();
        let c = &t.serverless_cache;
        assert_eq!((c[0].engine.as_str(), c[0].shards), ("redis", 1));
        assert_eq!(c[0].major_version(), "7");
        assert_eq!(c[1].major_version(), "1.6");
        assert_eq!(c[2].status.as_deref(), Some("modifying"));
        for bad in [
            "id = \"Up\"",
            "id = \"a\"\nengine = \"x\"",
            "id = \"a\"\nshards = 0",
            "id = \"a\"\nengine = \"memcached\"\nshards = 2",
            "id = \"a\"\nstatus = \"AVAILABLE\"",
            "id = \"a\"\nshard = 2",
        ] {
            assert!(
                Topology::parse(&format!("[[serverless_cache]]\n{bad}\n")).is_err(),
                "{bad}"
            );
        }
        assert!(
            Topology::parse("[[serverless_cache]]\nid = \"a\"\n[[serverless_cache]]\nid = \"a\"\n")
                .is_err()
        );
    }

    #[test]
    fn rejects_sharded_cluster_mode_disabled() {
        let err = Topology::parse("[[replication_group]]\nid = \"a\"\nshards = 3\n").unwrap_err();
        assert!(err.contains("shards must be 1"), "{err}");
    }

    #[test]
    fn rejects_unknown_fields_and_duplicates() {
        assert!(Topology::parse("[[replication_group]]\nid = \"a\"\nshard = 3\n").is_err());
        assert!(
            Topology::parse("[[replication_group]]\nid = \"a\"\n[[cache_cluster]]\nid = \"a\"\n")
                .is_err()
        );
    }
}
