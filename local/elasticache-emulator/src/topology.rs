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
        let t: Topology = toml::from_str(text).map_err(|e| format!("topology: {e}"))?;
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
