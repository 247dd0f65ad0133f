//! DeleteGroup step (restore): deletes the restored group — at the end of a drill, and on every failure path after
//! CreateGroup — but only a group this execution created: `restore.created` set, and the group's
//! `elasticache-backup:restore-execution` tag equal to this execution's id. Anything else is left alone and said so.
//! The backup itself is never touched.

use backup_core::ports::{DeleteOutcome, Groups, Snapshots};
use backup_core::restore::{GroupCleanup, RESTORE_TAG, RestoreCleanup, RestoreRun};
use backup_core::{BackupError, Clock, Deps};
use lambda_runtime::LambdaEvent;

/// The state name this handler serves, used for timings.
pub const STEP: &str = "DeleteGroup";

/// Handles one DeleteGroup invocation: sets `cleanup.restoredGroup`.
///
/// # Errors
/// `ClusterBusy` (`InvalidReplicationGroupState`, e.g. still `creating`: retried), `Throttled`, `AwsError`.
#[tracing::instrument(skip_all, fields(execution = %event.payload.execution.name))]
pub async fn function_handler<S: Snapshots + Groups, C: Clock>(
    event: LambdaEvent<RestoreRun>,
    deps: &Deps<S, (), (), C>,
) -> Result<RestoreRun, BackupError> {
    let mut run = event.payload;
    let started = deps.clock.now();
    let outcome = match run.restore.as_ref().filter(|r| r.created) {
        None => GroupCleanup::NothingToDelete,
        Some(r) => {
            let id = r.replication_group_id.clone();
            match deps.snapshots.replication_group(&id).await {
                Err(BackupError::TargetNotFound { .. }) => GroupCleanup::AlreadyDeleted,
                Err(e) => return Err(e),
                Ok(group) => {
                    let tags = match &group.arn {
                        Some(arn) => deps.snapshots.tags(arn).await?,
                        None => Vec::new(),
                    };
                    if tags
                        .iter()
                        .any(|(k, v)| k == RESTORE_TAG && v == run.execution_id())
                    {
                        match deps.snapshots.delete_replication_group(&id).await? {
                            DeleteOutcome::Deleted => GroupCleanup::Deleted,
                            DeleteOutcome::NotFound => GroupCleanup::AlreadyDeleted,
                        }
                    } else {
                        run.warnings.push(format!(
                            "replication group {id} is not tagged as created by this execution: not deleted"
                        ));
                        GroupCleanup::NothingToDelete
                    }
                }
            }
        }
    };
    tracing::info!(
        outcome = <&'static str>::from(outcome),
        "restored group clean-up"
    );
    run.cleanup = Some(RestoreCleanup {
        restored_group: outcome,
        at: deps.clock.now(),
    });
    run.record_timing(STEP, started, deps.clock.now());
    Ok(run)
}

#[cfg(test)]
mod tests {
    use super::*;
    use backup_core::Config;
    use backup_core::ports::Groups;
    use backup_core::restore::{GroupStatus, RestoreProgress, SeedFrom, new_group};
    use backup_core::testing::{FakeSnapshots, FixedClock};
    use lambda_runtime::Context;
    use time::macros::datetime;

    const RESOLVED: &str = include_str!("../../../events/create-group/resolved.json");

    fn deps(snapshots: FakeSnapshots) -> Deps<FakeSnapshots, (), (), FixedClock> {
        Deps {
            snapshots,
            exports: (),
            verifier: (),
            clock: FixedClock::at(datetime!(2026-11-22 05:05 UTC)),
            probe: (),
            secrets: (),
            config: Config::default(),
        }
    }

    fn event(created: bool) -> LambdaEvent<RestoreRun> {
        let mut run: RestoreRun = serde_json::from_str(RESOLVED).unwrap();
        run.restore = Some(RestoreProgress {
            replication_group_id: "sessions-restored".into(),
            status: GroupStatus::Available,
            created,
            from: SeedFrom::SnapshotArns,
            requested_at: datetime!(2026-11-22 05:00 UTC),
            deadline: datetime!(2026-11-22 06:00 UTC),
            available_at: None,
            rto_seconds: None,
        });
        LambdaEvent::new(run, Context::default())
    }

    #[tokio::test]
    async fn deletes_the_group_this_execution_created() {
        let d = deps(FakeSnapshots::default());
        let ev = event(true);
        let g = new_group(
            ev.payload.request().unwrap(),
            ev.payload.backup().unwrap(),
            ev.payload.execution_id(),
            None,
            None,
        );
        d.snapshots.create_replication_group(&g).await.unwrap();
        let run = function_handler(ev, &d).await.unwrap();
        assert_eq!(run.cleanup.unwrap().restored_group, GroupCleanup::Deleted);
        assert_eq!(d.snapshots.calls_of("DeleteReplicationGroup").len(), 1);
    }

    #[tokio::test]
    async fn never_deletes_a_group_it_did_not_create() {
        // A group of the same id, not tagged by this execution (e.g. TargetExists was raised).
        let d = deps(FakeSnapshots::cluster_mode_disabled(
            "sessions-restored",
            &[("x-001", "primary", "available")],
        ));
        let run = function_handler(event(true), &d).await.unwrap();
        assert_eq!(
            run.cleanup.unwrap().restored_group,
            GroupCleanup::NothingToDelete
        );
        let run = function_handler(event(false), &d).await.unwrap();
        assert_eq!(
            run.cleanup.unwrap().restored_group,
            GroupCleanup::NothingToDelete
        );
        assert!(d.snapshots.calls_of("DeleteReplicationGroup").is_empty());
    }
}
