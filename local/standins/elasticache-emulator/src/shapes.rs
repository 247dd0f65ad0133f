//! The account's resources as the Query protocol's XML shapes (`ReplicationGroup`, `Snapshot`), shared by the actions
//! that answer with them ([`crate::api`], [`crate::restore`]).

use crate::state::{Group, NODE_TYPE, Snapshot, State};
use crate::xml::Xml;

/// One `ReplicationGroup` element.
pub fn write_group(x: &mut Xml, st: &State, g: &Group) {
    let cme = g.spec.cluster_mode;
    let multi = g.shards.iter().any(|s| s.nodes.len() > 1);
    let snapshotting = st.snapshots.values().find(|s| {
        s.status == "creating"
            && s.nodes.iter().any(|n| {
                g.shards
                    .iter()
                    .flat_map(|sh| &sh.nodes)
                    .any(|m| m.cache_cluster_id == n.cache_cluster_id)
            })
    });
    x.open("ReplicationGroup")
        .text("ReplicationGroupId", &g.spec.id)
        .text(
            "Description",
            format!("emulated {} replication group", g.spec.engine),
        )
        .text("Status", st.group_status(g).as_str());
    x.open("MemberClusters");
    for n in g.shards.iter().flat_map(|s| &s.nodes) {
        x.text("ClusterId", &n.cache_cluster_id);
    }
    x.close("MemberClusters").open("NodeGroups");
    for shard in &g.shards {
        x.open("NodeGroup")
            .text("NodeGroupId", &shard.node_group_id)
            .text("Status", "available");
        if !cme {
            if let Some(port) = shard.nodes.first().and_then(|n| n.port) {
                x.endpoint("PrimaryEndpoint", port);
            }
            if let Some(port) = shard
                .nodes
                .iter()
                .find(|n| n.role == "replica")
                .or(shard.nodes.first())
                .and_then(|n| n.port)
            {
                x.endpoint("ReaderEndpoint", port);
            }
        }
        if let Some((a, b)) = shard.slots {
            x.text("Slots", format!("{a}-{b}"));
        }
        x.open("NodeGroupMembers");
        for n in &shard.nodes {
            x.open("NodeGroupMember")
                .text("CacheClusterId", &n.cache_cluster_id)
                .text("CacheNodeId", "0001");
            if let Some(port) = n.port {
                x.endpoint("ReadEndpoint", port);
            }
            x.text(
                "PreferredAvailabilityZone",
                format!("{}a", st.settings.region),
            );
            if !cme {
                x.text("CurrentRole", &n.role);
            }
            x.close("NodeGroupMember");
        }
        x.close("NodeGroupMembers").close("NodeGroup");
    }
    x.close("NodeGroups");
    if let Some(s) = snapshotting
        && let Some(n) = s.nodes.first()
    {
        x.text("SnapshottingClusterId", &n.cache_cluster_id);
    }
    x.text(
        "AutomaticFailover",
        if multi || cme { "enabled" } else { "disabled" },
    )
    .text("MultiAZ", "disabled");
    if cme
        && let Some(port) = g
            .shards
            .first()
            .and_then(|s| s.nodes.first())
            .and_then(|n| n.port)
    {
        x.endpoint("ConfigurationEndpoint", port);
    }
    x.text(
        "SnapshotRetentionLimit",
        g.spec.snapshot_retention_limit.to_string(),
    )
    .opt("SnapshotWindow", g.spec.snapshot_window.as_deref())
    .text("ClusterEnabled", if cme { "true" } else { "false" })
    .text("CacheNodeType", NODE_TYPE)
    .text("AuthTokenEnabled", "false")
    .text("TransitEncryptionEnabled", "false")
    .text("AtRestEncryptionEnabled", "false")
    .text("ARN", st.arn("replicationgroup", &g.spec.id))
    .time("ReplicationGroupCreateTime", g.created)
    .text(
        "DataTiering",
        if g.spec.data_tiering {
            "enabled"
        } else {
            "disabled"
        },
    )
    .text("ClusterMode", if cme { "enabled" } else { "disabled" })
    .text("Engine", &g.spec.engine)
    .close("ReplicationGroup");
}

/// One `Snapshot` element; with `node_group_config` (DescribeSnapshots `ShowNodeGroupConfig=true`) each
/// `NodeSnapshot` carries its `NodeGroupConfiguration` (`NodeGroupId`, `Slots` for cluster mode enabled).
pub fn write_snapshot(x: &mut Xml, st: &State, s: &Snapshot, node_group_config: bool) {
    x.open("Snapshot")
        .text("SnapshotName", &s.name)
        .opt("ReplicationGroupId", s.replication_group_id.as_deref())
        .opt("CacheClusterId", s.cache_cluster_id.as_deref())
        .text("SnapshotStatus", &s.status)
        .text("SnapshotSource", "manual")
        .text("CacheNodeType", NODE_TYPE)
        .text("Engine", &s.engine)
        .text("EngineVersion", &s.engine_version);
    if s.cache_cluster_id.is_some() {
        x.text("NumCacheNodes", "1").text(
            "PreferredAvailabilityZone",
            format!("{}a", st.settings.region),
        );
        if let Some(port) = s.nodes.first().and_then(|n| n.port) {
            x.text("Port", port.to_string());
        }
    }
    x.text("SnapshotRetentionLimit", "0")
        .text("NumNodeGroups", s.nodes.len().to_string())
        .text(
            "AutomaticFailover",
            if s.cluster_enabled {
                "enabled"
            } else {
                "disabled"
            },
        );
    x.open("NodeSnapshots");
    for n in &s.nodes {
        x.open("NodeSnapshot");
        if !s.cluster_enabled {
            x.text("CacheClusterId", &n.cache_cluster_id);
        }
        x.opt("NodeGroupId", n.node_group_id.as_deref())
            .text("CacheNodeId", "0001");
        if n.rdb.is_some() {
            x.text("CacheSize", format!("{} MB", n.size.div_ceil(1024 * 1024)));
        }
        if node_group_config && let Some(id) = n.node_group_id.as_deref() {
            x.open("NodeGroupConfiguration").text("NodeGroupId", id);
            if let Some((a, b)) = n.slots {
                x.text("Slots", format!("{a}-{b}"));
            }
            x.close("NodeGroupConfiguration");
        }
        x.time("CacheNodeCreateTime", s.created);
        if let Some(t) = n.created {
            x.time("SnapshotCreateTime", t);
        }
        x.close("NodeSnapshot");
    }
    x.close("NodeSnapshots")
        .text("ARN", st.arn("snapshot", &s.name))
        .text(
            "DataTiering",
            if s.data_tiering {
                "enabled"
            } else {
                "disabled"
            },
        )
        .close("Snapshot");
}
