//! CheckGroup step (restore): reads the new group's status and its nodes' (DescribeReplicationGroups,
//! DescribeCacheClusters). `available` → go on; `create-failed`, or a node `restore-failed` (ElastiCache User Guide,
//! "Seeding a new self-designed cluster": an unloadable file ends in `restore-failed`) → `RestoreFailed`; past the
//! deadline → `RestoreTimeout`; anything else → the next wait. Either failure goes on to the clean-up, which deletes
//! a `create-failed` group (and a drill's) and keeps any other, tagged with its verdict (docs/design.md §7c).
//!
//! A serverless cache: DescribeServerlessCaches; its `Status` (`CREATING`, `AVAILABLE`, `DELETING`, `CREATE-FAILED`,
//! `MODIFYING`, compared case-insensitively) is read as a group's, `create-failed` being `RestoreFailed`; once
//! `available`, its endpoint is recorded (`restore.endpoint`).

use backup_core::poll::next_wait_for;
use backup_core::ports::Snapshots;
use backup_core::restore::{GroupStatus, RestoreRun, RestoreTarget};
use backup_core::{BackupError, Clock, Deps};
use lambda_runtime::LambdaEvent;

/// The state name this handler serves, used for timings.
pub const STEP: &str = "CheckGroup";

/// The node status of a node that could not load its RDB file.
pub const RESTORE_FAILED: &str = "restore-failed";

/// Handles one CheckGroup invocation: updates `restore.status` (and `availableAt`) and `poll`.
///
/// # Errors
/// `RestoreFailed`, `RestoreTimeout`, `Throttled`, `AwsError`, `InvalidInput` (document not from CreateGroup).
#[tracing::instrument(skip_all, fields(execution = %event.payload.execution.name))]
pub async fn function_handler<S: Snapshots, C: Clock>(
    event: LambdaEvent<RestoreRun>,
    deps: &Deps<S, (), (), C>,
) -> Result<RestoreRun, BackupError> {
    let mut run = event.payload;
    let started = deps.clock.now();
    let target = run.restore()?.target();
    let (kind, id) = (target.kind(), target.id().to_string());
    let vanished = |e: BackupError| match e {
        BackupError::TargetNotFound { .. } => BackupError::RestoreFailed {
            message: format!("{kind} {id} vanished while it was being created"),
        },
        e => e,
    };
    let mut failed_nodes = Vec::new();
    let mut endpoint = None;
    let status = match target {
        RestoreTarget::ReplicationGroup(_) => {
            let group = deps
                .snapshots
                .replication_group(&id)
                .await
                .map_err(vanished)?;
            for member in group.node_groups.iter().flat_map(|ng| &ng.members) {
                let node = deps
                    .snapshots
                    .cache_cluster(&member.cache_cluster_id)
                    .await?;
                if node.status == RESTORE_FAILED {
                    failed_nodes.push(node.id);
                }
            }
            GroupStatus::from(group.status.clone())
        }
        RestoreTarget::Serverless(_) => {
            let cache = deps
                .snapshots
                .serverless_cache(&id)
                .await
                .map_err(vanished)?;
            endpoint = cache.endpoint.clone();
            GroupStatus::of_serverless(&cache.status)
        }
    };
    let now = deps.clock.now();
    let Some(progress) = run.restore.as_mut() else {
        return Err(BackupError::invalid_input("restore", "is missing"));
    };
    progress.status = status.clone();
    if status == GroupStatus::CreateFailed || !failed_nodes.is_empty() {
        return Err(BackupError::RestoreFailed {
            message: format!(
                "{kind} {id} is {status}{}; the backup is untouched",
                if failed_nodes.is_empty() {
                    String::new()
                } else {
                    format!(
                        ", nodes {} restore-failed (the RDB file could not be loaded)",
                        failed_nodes.join(", ")
                    )
                }
            ),
        });
    }
    if status == GroupStatus::Available {
        progress.available_at = Some(now);
        if endpoint.is_some() {
            progress.endpoint = endpoint;
        }
        run.poll.checks = 0;
        tracing::info!(target = %id, kind, "restored target available");
    } else if now >= progress.deadline {
        return Err(BackupError::RestoreTimeout {
            message: format!(
                "{kind} {id} still {status} at its deadline {} (requested {})",
                progress.deadline, progress.requested_at
            ),
        });
    } else {
        run.poll.checks += 1;
        run.poll.wait_seconds = next_wait_for(progress.requested_at, progress.deadline, now, None);
        tracing::info!(target = %id, kind, status = %status, wait_seconds = run.poll.wait_seconds, "restore in progress");
    }
    run.record_timing(STEP, started, deps.clock.now());
    Ok(run)
}

#[cfg(test)]
mod tests {
    use super::*;
    use backup_core::Config;
    use backup_core::ports::Groups;
    use backup_core::resources::{GroupCreateOutcome, NewGroup, NewShard};
    use backup_core::restore::{RestoreProgress, SeedFrom};
    use backup_core::testing::{FakeSnapshots, FixedClock};
    use lambda_runtime::Context;
    use time::macros::datetime;

    async fn setup() -> Deps<FakeSnapshots, (), (), FixedClock> {
        let snapshots = FakeSnapshots::default();
        let group = NewGroup {
            id: "orders-r".into(),
            description: "d".into(),
            engine: None,
            engine_version: None,
            node_type: None,
            cluster_mode_enabled: false,
            shards: vec![NewShard {
                node_group_id: "0001".into(),
                slots: None,
            }],
            replicas_per_shard: None,
            snapshot_arns: vec![],
            snapshot_name: None,
            parameter_group: None,
            subnet_group: None,
            security_group_ids: vec![],
            transit_encryption: false,
            auth_token: None,
            tags: vec![],
        };
        assert_eq!(
            snapshots.create_replication_group(&group).await.unwrap(),
            GroupCreateOutcome::Created
        );
        Deps {
            snapshots,
            exports: (),
            verifier: (),
            clock: FixedClock::at(datetime!(2026-11-22 05:01 UTC)),
            probe: (),
            secrets: (),
            config: Config::default(),
        }
    }

    fn event() -> LambdaEvent<RestoreRun> {
        let run = RestoreRun {
            restore: Some(RestoreProgress {
                replication_group_id: "orders-r".into(),
                serverless_cache_name: None,
                endpoint: None,
                status: GroupStatus::Creating,
                created: true,
                from: SeedFrom::SnapshotArns,
                requested_at: datetime!(2026-11-22 05:00 UTC),
                deadline: datetime!(2026-11-22 05:10 UTC),
                available_at: None,
                rto_seconds: None,
            }),
            ..RestoreRun::default()
        };
        LambdaEvent::new(run, Context::default())
    }

    #[tokio::test]
    async fn waits_while_creating_then_moves_on_when_available() {
        let d = setup().await;
        let run = function_handler(event(), &d).await.unwrap();
        assert_eq!(run.restore.unwrap().status, GroupStatus::Creating);
        assert_eq!(run.poll.wait_seconds, 15);
        d.snapshots
            .set_group_status("orders-r", "available", "available");
        let run = function_handler(event(), &d).await.unwrap();
        let r = run.restore.unwrap();
        assert_eq!(r.status, GroupStatus::Available);
        assert_eq!(r.available_at, Some(datetime!(2026-11-22 05:01 UTC)));
    }

    #[tokio::test]
    async fn a_restore_failed_node_or_a_failed_group_is_restore_failed() {
        let d = setup().await;
        d.snapshots
            .set_group_status("orders-r", "creating", "restore-failed");
        let err = function_handler(event(), &d).await.unwrap_err();
        assert_eq!(err.error_type(), "RestoreFailed");
        assert!(err.to_string().contains("restore-failed"), "{err}");
        d.snapshots
            .set_group_status("orders-r", "create-failed", "creating");
        assert_eq!(
            function_handler(event(), &d)
                .await
                .unwrap_err()
                .error_type(),
            "RestoreFailed"
        );
    }

    #[tokio::test]
    async fn past_the_deadline_is_restore_timeout() {
        let d = setup().await;
        d.clock.advance(600);
        assert_eq!(
            function_handler(event(), &d)
                .await
                .unwrap_err()
                .error_type(),
            "RestoreTimeout"
        );
    }

    fn serverless_event() -> LambdaEvent<RestoreRun> {
        let mut ev = event();
        if let Some(r) = ev.payload.restore.as_mut() {
            r.replication_group_id = String::new();
            r.serverless_cache_name = Some("orders-sl".into());
        }
        ev
    }

    fn serverless_deps(status: &str) -> Deps<FakeSnapshots, (), (), FixedClock> {
        let snapshots = FakeSnapshots::serverless("orders-sl", "valkey");
        snapshots.set_serverless_status("orders-sl", status);
        Deps {
            snapshots,
            exports: (),
            verifier: (),
            clock: FixedClock::at(datetime!(2026-11-22 05:01 UTC)),
            probe: (),
            secrets: (),
            config: Config::default(),
        }
    }

    #[tokio::test]
    async fn a_serverless_cache_is_waited_for_then_its_endpoint_recorded() {
        let d = serverless_deps("CREATING");
        let run = function_handler(serverless_event(), &d).await.unwrap();
        let r = run.restore.unwrap();
        assert_eq!(r.status, GroupStatus::Creating);
        assert!(r.endpoint.is_none());
        assert_eq!(run.poll.wait_seconds, 15);
        assert!(d.snapshots.calls_of("DescribeReplicationGroups").is_empty());

        let d = serverless_deps("AVAILABLE");
        let run = function_handler(serverless_event(), &d).await.unwrap();
        let r = run.restore.unwrap();
        assert_eq!(r.status, GroupStatus::Available);
        assert_eq!(r.endpoint.map(|e| e.port), Some(6379));
        assert_eq!(r.available_at, Some(datetime!(2026-11-22 05:01 UTC)));
    }

    #[tokio::test]
    async fn a_create_failed_or_vanished_serverless_cache_is_restore_failed() {
        for status in ["CREATE-FAILED", "create-failed"] {
            let err = function_handler(serverless_event(), &serverless_deps(status))
                .await
                .unwrap_err();
            assert_eq!(err.error_type(), "RestoreFailed", "{status}");
            assert!(
                err.to_string()
                    .contains("serverless cache orders-sl is create-failed"),
                "{err}"
            );
        }
        let d = serverless_deps("AVAILABLE");
        d.snapshots
            .0
            .lock()
            .unwrap()
            .serverless_caches
            .remove("orders-sl");
        let err = function_handler(serverless_event(), &d).await.unwrap_err();
        assert_eq!(err.error_type(), "RestoreFailed");
        assert!(err.to_string().contains("vanished"), "{err}");
        let d = serverless_deps("MODIFYING");
        d.clock.advance(600);
        assert_eq!(
            function_handler(serverless_event(), &d)
                .await
                .unwrap_err()
                .error_type(),
            "RestoreTimeout"
        );
    }
}
