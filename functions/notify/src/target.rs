//! Which target an alert's incident is keyed by: one incident per replication group, whatever named it (a member
//! node, a snapshot of this project, the group in any case); a standalone cluster or a serverless cache by its id.

use backup_core::BackupError;
use backup_core::ports::Snapshots;

use crate::alert::Alert;

/// Keys each alert by its group: every target but a restore's (`drill/…`) and a fleet's (`fleet/…`), which name no
/// cluster, goes through [`normalize_target`], one alert after the other.
pub async fn normalize(alerts: &mut [Alert], lookup: Option<&dyn Snapshots>) {
    for a in alerts {
        if !a.target.starts_with("drill/") && !a.target.starts_with("fleet/") {
            a.target = normalize_target(&a.target, lookup).await;
        }
    }
}

/// Where `target` belongs, for the incident key: lower-cased; a member node (`orders-002`) or a snapshot of this
/// project (`ecb-…`) mapped to its replication group by DescribeCacheClusters / DescribeSnapshots, or to its
/// serverless cache by DescribeServerlessCacheSnapshots (whether a serverless snapshot event names the cache or the
/// snapshot is undocumented: both end at the cache). Lookup failures keep the lower-cased id (logged).
async fn normalize_target(target: &str, lookup: Option<&dyn Snapshots>) -> String {
    let id = target.trim().to_ascii_lowercase();
    let Some(lookup) = lookup else {
        return id;
    };
    if id.starts_with(&format!("{}-", backup_core::naming::SNAPSHOT_PREFIX)) {
        match lookup.snapshot(&id).await {
            Ok(Some(snap)) => {
                if let Some(owner) = snap.replication_group_id.or(snap.cache_cluster_id) {
                    return Box::pin(normalize_target(&owner, Some(lookup))).await;
                }
            }
            Ok(None) => match lookup.serverless_snapshot(&id).await {
                // A serverless cache's snapshot: keyed by the cache (its runs are keyed by its name).
                Ok(Some(snap)) => {
                    if let Some(cache) = snap.serverless_cache_name {
                        return cache.to_ascii_lowercase();
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(snapshot = %id, error = %e, "serverless snapshot lookup failed; keyed by its name")
                }
            },
            Err(e) => {
                tracing::warn!(snapshot = %id, error = %e, "snapshot lookup failed; keyed by its name")
            }
        }
        return id;
    }
    match lookup.cache_cluster(&id).await {
        Ok(node) => node
            .replication_group_id
            .map(|g| g.to_ascii_lowercase())
            .unwrap_or(id),
        // Not a node: a replication group id, a serverless cache name (or gone): keep it.
        Err(BackupError::TargetNotFound { .. }) => id,
        Err(e) => {
            tracing::warn!(target = %id, error = %e, "node lookup failed; keyed by the id as given");
            id
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::Action;
    use backup_core::testing::FakeSnapshots;

    fn alert(target: &str) -> Alert {
        Alert {
            action: Action::Trigger,
            target: target.into(),
            region: "us-east-1".into(),
            title: "t".into(),
            step: None,
            error: None,
            cause: None,
            snapshot_name: None,
            execution_arn: None,
            time: None,
        }
    }

    #[tokio::test]
    async fn a_node_is_keyed_by_its_group_and_a_restore_or_fleet_key_is_left_alone() {
        let lookup = FakeSnapshots::cluster_mode_disabled(
            "orders",
            &[
                ("orders-001", "primary", "available"),
                ("orders-002", "replica", "available"),
            ],
        );
        let mut alerts = [
            alert(" Orders-002 "),
            alert("ORDERS"),
            alert("drill/Orders-002"),
            alert("fleet/team=core"),
        ];
        normalize(&mut alerts, Some(&lookup)).await;
        let targets: Vec<_> = alerts.iter().map(|a| a.target.as_str()).collect();
        assert_eq!(
            targets,
            ["orders", "orders", "drill/Orders-002", "fleet/team=core"]
        );
        assert_eq!(lookup.calls_of("DescribeCacheClusters").len(), 2);
    }

    #[tokio::test]
    async fn a_serverless_snapshot_of_this_project_is_keyed_by_its_cache() {
        let lookup = FakeSnapshots::serverless("sessions", "valkey");
        lookup.insert_serverless_snapshot(backup_core::resources::SnapshotInfo {
            name: "ecb-sessions-1a2b3c4d".into(),
            status: "failed".into(),
            serverless_cache_name: Some("Sessions".into()),
            ..Default::default()
        });
        let mut alerts = [
            alert("ecb-sessions-1a2b3c4d"),
            alert("SESSIONS"),
            alert("ecb-gone-00000000"),
        ];
        normalize(&mut alerts, Some(&lookup)).await;
        let targets: Vec<_> = alerts.iter().map(|a| a.target.as_str()).collect();
        assert_eq!(targets, ["sessions", "sessions", "ecb-gone-00000000"]);
    }

    #[tokio::test]
    async fn without_a_lookup_a_target_is_only_lower_cased() {
        assert_eq!(normalize_target(" Orders-002", None).await, "orders-002");
    }
}
