//! Target resolution: which replication group or cluster an execution input names, whether it can be backed up,
//! which node to snapshot now, and whether an existing snapshot of this run's name is ours to resume.
//!
//! Node choice (ElastiCache User Guide, "Making manual backups" and "Improving backup performance"):
//! - cluster mode **disabled**: a member with `CurrentRole = replica` whose cluster status is `available`, read now
//!   (failovers move roles); none → the primary, with a warning. Snapshot by `CacheClusterId` of that node.
//! - cluster mode **enabled**: by `ReplicationGroupId` (no shard-level backups exist).
//! - a standalone cluster: by its `CacheClusterId` (its only node), with a warning.
//! - an ElastiCache Serverless cache: `CreateServerlessCacheSnapshot` by `ServerlessCacheName` (ElastiCache picks the
//!   nodes; the cache must be `available`). A Memcached serverless cache is refused: its snapshots cannot be
//!   exported (`ExportServerlessCacheSnapshot`, "Valkey and Redis OSS only").
//!
//! Memcached and data tiering cannot be exported to S3 (ElastiCache User Guide, "Exporting a backup"): refused as
//! `NotSupported` before anything is created.

use crate::backup::run::{Source, TargetRef};
use crate::error::BackupError;
use crate::model::NodeRole;
use crate::ports::Snapshots;
use crate::resources::{
    CacheClusterInfo, ReplicationGroupInfo, ServerlessCacheInfo, SnapshotInfo, SnapshotTarget,
};

/// What the requested id turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// A replication group (named directly, or through one of its member nodes).
    Group(ReplicationGroupInfo),
    /// A standalone cache cluster (one node, no group).
    Standalone(CacheClusterInfo),
    /// An ElastiCache Serverless cache (`CreateServerlessCacheSnapshot`; ElastiCache picks the nodes).
    Serverless(ServerlessCacheInfo),
}

/// A target resolved and found supported, with what a human should know about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    /// The group or cluster to back up.
    pub resolved: Resolved,
    /// E.g. "cacheClusterId orders-001 is a member of replication group orders: backing up the group …".
    pub warnings: Vec<String>,
}

/// The node (or group) to snapshot now, and what the run document records about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeChoice {
    /// What CreateSnapshot is called with.
    pub target: SnapshotTarget,
    /// What is recorded as `source`.
    pub source: Source,
    /// E.g. "replication group orders has no replica: snapshot taken from primary orders-001".
    pub warnings: Vec<String>,
}

/// Looks the target up (`DescribeReplicationGroups` / `DescribeCacheClusters`) and refuses what cannot be exported.
/// A member node's `CacheClusterId` resolves to its replication group (with a warning), so the node is chosen at
/// run time rather than fixed.
///
/// # Errors
/// `TargetNotFound`, `NotSupported` (Memcached, data tiering), `Throttled`, `AwsError`.
pub async fn resolve<S: Snapshots + ?Sized>(
    target: &TargetRef,
    snapshots: &S,
) -> Result<Resolution, BackupError> {
    let mut warnings = Vec::new();
    let resolved = match target {
        TargetRef::ReplicationGroupId(id) => {
            Resolved::Group(snapshots.replication_group(id).await?)
        }
        TargetRef::ServerlessCacheName(name) => {
            Resolved::Serverless(snapshots.serverless_cache(name).await?)
        }
        TargetRef::CacheClusterId(id) => {
            let cc = snapshots.cache_cluster(id).await?;
            match cc.replication_group_id.clone() {
                None => Resolved::Standalone(cc),
                Some(rg) => {
                    warnings.push(format!(
                        "cacheClusterId {id} is a member of replication group {rg}: backing up the group, with the \
                         node chosen at run time (roles move on failover); pass replicationGroupId {rg} instead"
                    ));
                    Resolved::Group(snapshots.replication_group(&rg).await?)
                }
            }
        }
    };
    resolved.refuse_unsupported()?;
    Ok(Resolution { resolved, warnings })
}

impl Resolved {
    /// `ReplicationGroupId` or `CacheClusterId`.
    pub fn id(&self) -> &str {
        match self {
            Self::Group(rg) => &rg.id,
            Self::Standalone(cc) => &cc.id,
            Self::Serverless(sc) => &sc.name,
        }
    }

    /// Refuses Memcached and data tiering, which ElastiCache cannot export to S3.
    ///
    /// # Errors
    /// `NotSupported` naming the target and the reason.
    pub fn refuse_unsupported(&self) -> Result<(), BackupError> {
        let (id, engine, data_tiering) = match self {
            Self::Group(rg) => (&rg.id, rg.engine.as_deref(), rg.data_tiering),
            Self::Standalone(cc) => (&cc.id, cc.engine.as_deref(), false),
            Self::Serverless(sc) => {
                if sc
                    .engine
                    .as_deref()
                    .is_some_and(|e| e.eq_ignore_ascii_case("memcached"))
                {
                    // ExportServerlessCacheSnapshot: "Available for Valkey and Redis OSS only" (Amazon
                    // ElastiCache API Reference); refused before a snapshot is taken.
                    return Err(not_supported(format!(
                        "serverless cache {} runs Memcached: ExportServerlessCacheSnapshot exports Valkey and \
                         Redis OSS caches only",
                        sc.name
                    )));
                }
                return Ok(());
            }
        };
        if engine.is_some_and(|e| e.eq_ignore_ascii_case("memcached")) {
            return Err(not_supported(format!(
                "{id} runs Memcached: node-based Memcached backups cannot be exported to S3"
            )));
        }
        if data_tiering {
            return Err(not_supported(format!(
                "{id} uses data tiering: ElastiCache cannot export its backups to S3"
            )));
        }
        Ok(())
    }

    /// Chooses what to snapshot now, reading roles and statuses at run time (see the module doc).
    ///
    /// # Errors
    /// `ClusterBusy` (group, chosen node or primary not `available`), `NotSupported` (a group without members),
    /// `TargetNotFound`, `Throttled`, `AwsError` from `DescribeCacheClusters`.
    pub async fn choose_node<S: Snapshots + ?Sized>(
        &self,
        snapshots: &S,
    ) -> Result<NodeChoice, BackupError> {
        let rg = match self {
            Self::Serverless(sc) => {
                if !sc.is_available() {
                    return Err(busy("serverless cache", &sc.name, &sc.status));
                }
                return Ok(NodeChoice {
                    target: SnapshotTarget::ServerlessCache(sc.name.clone()),
                    source: Source::serverless(sc),
                    warnings: Vec::new(),
                });
            }
            Self::Standalone(cc) => {
                if !cc.is_available() {
                    return Err(busy("cache cluster", &cc.id, &cc.status));
                }
                return Ok(NodeChoice {
                    target: SnapshotTarget::CacheCluster(cc.id.clone()),
                    source: Source::standalone(cc),
                    warnings: vec![format!(
                        "cache cluster {} has no replica: snapshot taken from its only node",
                        cc.id
                    )],
                });
            }
            Self::Group(rg) => rg,
        };
        if !rg.is_available() {
            return Err(busy("replication group", &rg.id, &rg.status));
        }
        if rg.cluster_enabled {
            let first_node = rg.node_groups.iter().flat_map(|ng| &ng.members).next();
            let node = match first_node {
                Some(m) => Some(snapshots.cache_cluster(&m.cache_cluster_id).await?),
                None => None,
            };
            return Ok(NodeChoice {
                target: SnapshotTarget::ReplicationGroup(rg.id.clone()),
                source: Source::cluster_mode_enabled(rg, node.as_ref()),
                warnings: Vec::new(),
            });
        }

        let members = rg
            .node_groups
            .first()
            .map(|ng| ng.members.as_slice())
            .unwrap_or_default();
        let mut replicas: Vec<_> = members
            .iter()
            .filter(|m| m.current_role == Some(NodeRole::Replica))
            .collect();
        replicas.sort_by(|a, b| a.cache_cluster_id.cmp(&b.cache_cluster_id));
        let mut skipped = Vec::new();
        for r in replicas {
            let cc = snapshots.cache_cluster(&r.cache_cluster_id).await?;
            if cc.is_available() {
                return Ok(NodeChoice {
                    target: SnapshotTarget::CacheCluster(cc.id.clone()),
                    source: Source::group_node(rg, &cc, NodeRole::Replica),
                    warnings: Vec::new(),
                });
            }
            skipped.push(format!("{} ({})", cc.id, cc.status));
        }

        let primary = members
            .iter()
            .find(|m| m.current_role == Some(NodeRole::Primary))
            .or_else(|| members.first())
            .ok_or_else(|| {
                not_supported(format!(
                    "replication group {} reports no member nodes",
                    rg.id
                ))
            })?;
        let cc = snapshots.cache_cluster(&primary.cache_cluster_id).await?;
        if !cc.is_available() {
            return Err(busy("primary node", &cc.id, &cc.status));
        }
        let warning = if skipped.is_empty() {
            format!(
                "replication group {} has no replica: snapshot taken from primary {}",
                rg.id, cc.id
            )
        } else {
            format!(
                "no available replica in replication group {} (skipped {}): snapshot taken from primary {}",
                rg.id,
                skipped.join(", "),
                cc.id
            )
        };
        Ok(NodeChoice {
            target: SnapshotTarget::CacheCluster(cc.id.clone()),
            source: Source::group_node(rg, &cc, NodeRole::Primary),
            warnings: vec![warning],
        })
    }

    /// Adopts an existing snapshot of this run's name (a retried step, or a duplicate of this execution made it),
    /// after checking it is a snapshot of this target; returns the `source` to record.
    ///
    /// # Errors
    /// `SnapshotFailed` when the snapshot is of another source (it is never touched).
    pub async fn adopt<S: Snapshots + ?Sized>(
        &self,
        existing: &SnapshotInfo,
        snapshots: &S,
    ) -> Result<Source, BackupError> {
        let same = |a: Option<&str>, b: &str| a.is_some_and(|a| a.eq_ignore_ascii_case(b));
        let ours = match self {
            Self::Group(rg) => same(existing.replication_group_id.as_deref(), &rg.id),
            Self::Standalone(cc) => same(existing.cache_cluster_id.as_deref(), &cc.id),
            Self::Serverless(sc) => same(existing.serverless_cache_name.as_deref(), &sc.name),
        };
        if !ours {
            return Err(BackupError::SnapshotFailed {
                message: format!(
                    "snapshot {} already exists but is of {} — not this run's target; refusing to touch it",
                    existing.name,
                    existing
                        .replication_group_id
                        .as_deref()
                        .or(existing.cache_cluster_id.as_deref())
                        .or(existing.serverless_cache_name.as_deref())
                        .unwrap_or("another source")
                ),
            });
        }
        let rg = match self {
            Self::Standalone(cc) => return Ok(Source::standalone(cc)),
            Self::Serverless(sc) => return Ok(Source::serverless(sc)),
            Self::Group(rg) => rg,
        };
        let Some(node) = existing.cache_cluster_id.as_deref() else {
            return Ok(Source::resumed_group_snapshot(rg, existing));
        };
        let role = rg
            .node_groups
            .iter()
            .flat_map(|ng| &ng.members)
            .find(|m| m.cache_cluster_id.eq_ignore_ascii_case(node))
            .and_then(|m| m.current_role)
            .unwrap_or(NodeRole::Unknown);
        // The node's details are informative only: a node that vanished since must not fail the resume.
        let info = snapshots.cache_cluster(node).await.ok();
        Ok(Source::resumed_node_snapshot(
            rg,
            existing,
            node,
            role,
            info.as_ref(),
        ))
    }
}

fn busy(what: &str, id: &str, status: &str) -> BackupError {
    BackupError::ClusterBusy {
        message: format!("{what} {id} is {status}, not available"),
        source: None,
    }
}

fn not_supported(message: String) -> BackupError {
    BackupError::NotSupported {
        message,
        source: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ClusterMode;
    use crate::testing::FakeSnapshots;

    fn orders(members: &[(&str, &str, &str)]) -> FakeSnapshots {
        FakeSnapshots::cluster_mode_disabled("orders", members)
    }

    async fn choose(fake: &FakeSnapshots, target: TargetRef) -> Result<NodeChoice, BackupError> {
        let r = resolve(&target, fake).await?;
        r.resolved.choose_node(fake).await
    }

    fn group(id: &str) -> TargetRef {
        TargetRef::ReplicationGroupId(id.into())
    }

    #[tokio::test]
    async fn chooses_the_available_replica_by_current_role() {
        let fake = orders(&[
            ("orders-001", "replica", "available"),
            ("orders-002", "primary", "available"),
        ]);
        let c = choose(&fake, group("orders")).await.unwrap();
        assert_eq!(c.target, SnapshotTarget::CacheCluster("orders-001".into()));
        assert_eq!(c.source.role, NodeRole::Replica);
        assert_eq!(c.source.cluster_mode, ClusterMode::Disabled);
        assert!(c.warnings.is_empty());
    }

    #[tokio::test]
    async fn skips_busy_replicas_then_falls_back_to_the_primary_with_a_warning() {
        let fake = orders(&[
            ("orders-001", "primary", "available"),
            ("orders-002", "replica", "modifying"),
        ]);
        let c = choose(&fake, group("orders")).await.unwrap();
        assert_eq!(c.target, SnapshotTarget::CacheCluster("orders-001".into()));
        assert_eq!(c.source.role, NodeRole::Primary);
        assert!(
            c.warnings[0].contains("skipped orders-002 (modifying)"),
            "{:?}",
            c.warnings
        );
    }

    #[tokio::test]
    async fn a_busy_primary_without_replica_is_cluster_busy() {
        let fake = orders(&[("orders-001", "primary", "snapshotting")]);
        let err = choose(&fake, group("orders")).await.unwrap_err();
        assert_eq!(err.error_type(), "ClusterBusy");
        assert!(
            err.to_string()
                .contains("primary node orders-001 is snapshotting"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn cluster_mode_enabled_snapshots_the_group_with_its_shard_count() {
        let fake = FakeSnapshots::cluster_mode_enabled("sessions", 3);
        let c = choose(&fake, group("sessions")).await.unwrap();
        assert_eq!(
            c.target,
            SnapshotTarget::ReplicationGroup("sessions".into())
        );
        assert_eq!(
            (c.source.role, c.source.cluster_mode, c.source.shard_count),
            (NodeRole::Group, ClusterMode::Enabled, 3)
        );
    }

    #[tokio::test]
    async fn a_member_node_resolves_to_its_group_with_a_warning() {
        let fake = orders(&[
            ("orders-001", "primary", "available"),
            ("orders-002", "replica", "available"),
        ]);
        let r = resolve(&TargetRef::CacheClusterId("orders-001".into()), &fake)
            .await
            .unwrap();
        assert_eq!(r.resolved.id(), "orders");
        assert!(r.warnings[0].contains("member of replication group orders"));
    }

    #[tokio::test]
    async fn a_standalone_cluster_is_its_own_node() {
        let fake = FakeSnapshots::standalone("solo", "redis");
        let c = choose(&fake, TargetRef::CacheClusterId("solo".into()))
            .await
            .unwrap();
        assert_eq!(c.target, SnapshotTarget::CacheCluster("solo".into()));
        assert_eq!(c.source.role, NodeRole::Primary);
        assert_eq!(c.warnings.len(), 1);
    }

    #[tokio::test]
    async fn memcached_and_data_tiering_are_not_supported() {
        let fake = FakeSnapshots::standalone("memo", "memcached");
        let err = resolve(&TargetRef::CacheClusterId("memo".into()), &fake)
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "NotSupported");

        let fake = orders(&[("orders-001", "primary", "available")]);
        fake.0
            .lock()
            .unwrap()
            .replication_groups
            .get_mut("orders")
            .unwrap()
            .data_tiering = true;
        let err = resolve(&group("orders"), &fake).await.unwrap_err();
        assert!(err.to_string().contains("data tiering"), "{err}");
    }

    #[tokio::test]
    async fn an_unknown_target_is_target_not_found() {
        let err = resolve(&group("nope"), &FakeSnapshots::default())
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "TargetNotFound");
    }

    #[tokio::test]
    async fn adopts_its_own_snapshot_with_the_node_role_read_now() {
        let fake = orders(&[
            ("orders-001", "primary", "available"),
            ("orders-002", "replica", "available"),
        ]);
        let r = resolve(&group("orders"), &fake).await.unwrap();
        let existing = SnapshotInfo {
            name: "ecb-orders-1".into(),
            replication_group_id: Some("Orders".into()),
            cache_cluster_id: Some("orders-002".into()),
            ..Default::default()
        };
        let source = r.resolved.adopt(&existing, &fake).await.unwrap();
        assert_eq!(source.cache_cluster_id.as_deref(), Some("orders-002"));
        assert_eq!(source.role, NodeRole::Replica);
        assert_eq!(source.engine_version.as_deref(), Some("7.0.15"));
    }

    #[tokio::test]
    async fn refuses_to_adopt_a_snapshot_of_another_source() {
        let fake = orders(&[("orders-001", "primary", "available")]);
        let r = resolve(&group("orders"), &fake).await.unwrap();
        let existing = SnapshotInfo {
            name: "ecb-orders-1".into(),
            cache_cluster_id: Some("other".into()),
            ..Default::default()
        };
        let err = r.resolved.adopt(&existing, &fake).await.unwrap_err();
        assert_eq!(err.error_type(), "SnapshotFailed");
        assert!(err.to_string().contains("of other"), "{err}");
    }

    #[tokio::test]
    async fn a_resumed_node_that_left_the_group_has_an_unknown_role() {
        let fake = orders(&[("orders-001", "primary", "available")]);
        let r = resolve(&group("orders"), &fake).await.unwrap();
        let existing = SnapshotInfo {
            name: "ecb-orders-1".into(),
            replication_group_id: Some("orders".into()),
            cache_cluster_id: Some("orders-009".into()),
            ..Default::default()
        };
        let source = r.resolved.adopt(&existing, &fake).await.unwrap();
        assert_eq!(source.role, NodeRole::Unknown);
        assert_eq!(source.engine_version, None);
    }
}
