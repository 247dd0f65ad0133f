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
