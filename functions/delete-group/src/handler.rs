//! DeleteGroup step (restore): at the end of a drill, and on every failure path after CreateGroup, decides what
//! happens to the group this execution created — `restore.created` set, and the group's
//! `elasticache-backup:restore-execution` tag equal to this execution's id; any other group is left alone and said
//! so. A drill's group, and a group ElastiCache reports `create-failed`, are deleted. A restore that is not a drill
//! never deletes its group otherwise (it may hold the data a person is waiting for, docs/design.md §7c): it tags it
//! `elasticache-backup:restore-verdict` = `unverified` or `mismatch` and keeps it. `cleanup.note` says what was done
//! and what to do, and the failed execution's cause ends with it. The backup itself is never touched.
//!
//! A serverless cache is judged the same way (DescribeServerlessCaches, its tags): DeleteServerlessCache for a
//! drill's or a `create-failed` one, AddTagsToResource of the verdict on its `serverlesscache` ARN otherwise.

use backup_core::ports::{Groups, Snapshots};
use backup_core::restore::cleanup::{CleanupStep, verdict_tag};
use backup_core::restore::{FoundTarget, RestoreCleanup, RestoreRun, RestoreTarget};
use backup_core::{BackupError, Clock, Deps};
use lambda_runtime::LambdaEvent;

/// The state name this handler serves, used for timings.
pub const STEP: &str = "DeleteGroup";

/// Handles one DeleteGroup invocation: sets `cleanup` (`restoredGroup`, `verdict` of a kept group, `note`).
///
/// # Errors
/// `ClusterBusy` (`InvalidReplicationGroupState` / `InvalidServerlessCacheStateFault` on delete, e.g. still
/// `creating`: retried), `Throttled`,
/// `AwsError`, `AwsRejected` (reading the group or its tags, or deleting it). A verdict tag that cannot be written
/// is not an error: the group is kept untagged and the note says so.
#[tracing::instrument(skip_all, fields(execution = %event.payload.execution.name))]
pub async fn function_handler<S: Snapshots + Groups, C: Clock>(
    event: LambdaEvent<RestoreRun>,
    deps: &Deps<S, (), (), C>,
) -> Result<RestoreRun, BackupError> {
    let mut run = event.payload;
    let started = deps.clock.now();
    let context = run.cleanup_context();
    let mut verdict = None;
    let (outcome, note) = match run.cleanup_candidate() {
        None => context.nothing(),
        Some(target) => {
            let id = target.id().to_string();
            let described = match target {
                RestoreTarget::ReplicationGroup(_) => deps
                    .snapshots
                    .replication_group(&id)
                    .await
                    .map(|g| FoundTarget::of_group(&g)),
                RestoreTarget::Serverless(_) => deps
                    .snapshots
                    .serverless_cache(&id)
                    .await
                    .map(|c| FoundTarget::of_serverless(&c)),
            };
            let group = match described {
                Ok(found) => Some(found),
                Err(BackupError::TargetNotFound { .. }) => None,
                Err(e) => return Err(e),
            };
            let tags = match group.as_ref().and_then(|g| g.arn.as_deref()) {
                Some(arn) => deps.snapshots.tags(arn).await?,
                None => Vec::new(),
            };
            match context.step(&id, group.as_ref(), &tags) {
                CleanupStep::Done {
                    outcome,
                    note,
                    warn,
                } => {
                    if warn {
                        run.warnings.push(note.clone());
                    }
                    (outcome, note)
                }
                CleanupStep::Delete { status } => {
                    let deleted = match target {
                        RestoreTarget::ReplicationGroup(_) => {
                            deps.snapshots.delete_replication_group(&id).await?
                        }
                        RestoreTarget::Serverless(_) => {
                            deps.snapshots.delete_serverless_cache(&id).await?
                        }
                    };
                    context.deleted(&id, &status, deleted)
                }
                CleanupStep::Keep {
                    arn,
                    status,
                    verdict: v,
                } => {
                    // Kept whether or not the tag could be written (a group still `creating` may refuse it): the
                    // note says which.
                    let tagged = deps.snapshots.add_tags(&arn, &verdict_tag(v)).await;
                    match &tagged {
                        Ok(()) => verdict = Some(v),
                        Err(e) => tracing::warn!(error = %e, "verdict tag not written"),
                    }
                    context.kept(&id, &status, v, tagged.err())
                }
            }
        }
    };
    tracing::info!(
        outcome = <&'static str>::from(outcome),
        verdict = verdict.map(<&'static str>::from),
        "restored group clean-up"
    );
    run.cleanup = Some(RestoreCleanup {
        restored_group: outcome,
        verdict,
        note,
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
    use backup_core::restore::{
        GroupCleanup, GroupStatus, RESTORE_VERDICT_TAG, RestoreProgress, RestoreVerdict, SeedFrom,
        new_group,
    };
    use backup_core::testing::{FakeSnapshots, FixedClock};
    use lambda_runtime::Context;
    use serde_json::json;
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
            serverless_cache_name: None,
            endpoint: None,
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

    /// The document as the `…Failed` Pass state hands it to CleanUpFailedRestore.
    fn failing(drill: bool, step: &str, error: &str) -> LambdaEvent<RestoreRun> {
        let mut ev = event(true);
        if let Some(r) = ev.payload.request.as_mut() {
            r.drill = drill;
        }
        ev.payload.failed = Some(json!({"step": step, "failure": {"Error": error, "Cause": "…"}}));
        ev
    }

    /// A fake holding the group `ev` names, created (and tagged) by its execution; `status` as ElastiCache reports.
    async fn with_own_group(
        ev: &LambdaEvent<RestoreRun>,
        status: &str,
    ) -> Deps<FakeSnapshots, (), (), FixedClock> {
        let d = deps(FakeSnapshots::default());
        let g = new_group(
            ev.payload.request().unwrap(),
            ev.payload.backup().unwrap(),
            ev.payload.execution_id(),
            None,
            None,
        );
        d.snapshots.create_replication_group(&g).await.unwrap();
        d.snapshots
            .set_group_status("sessions-restored", status, status);
        d
    }

    fn verdict_tag(d: &Deps<FakeSnapshots, (), (), FixedClock>) -> Option<String> {
        let s = d.snapshots.0.lock().unwrap();
        s.tags
            .get("sessions-restored")
            .and_then(|t| t.iter().find(|(k, _)| k == RESTORE_VERDICT_TAG))
            .map(|(_, v)| v.clone())
    }

    #[tokio::test]
    async fn a_drill_deletes_the_group_this_execution_created() {
        let mut ev = event(true);
        ev.payload.request.as_mut().unwrap().drill = true;
        let d = with_own_group(&ev, "available").await;
        let run = function_handler(ev, &d).await.unwrap();
        assert_eq!(run.cleanup.unwrap().restored_group, GroupCleanup::Deleted);
        assert_eq!(d.snapshots.calls_of("DeleteReplicationGroup").len(), 1);
    }

    #[tokio::test]
    async fn a_failed_drill_deletes_its_group_too() {
        let ev = failing(true, "VerifyRestore", "RestoreMismatch");
        let d = with_own_group(&ev, "available").await;
        let run = function_handler(ev, &d).await.unwrap();
        assert_eq!(run.cleanup.unwrap().restored_group, GroupCleanup::Deleted);
        assert_eq!(d.snapshots.calls_of("DeleteReplicationGroup").len(), 1);
    }

    #[tokio::test]
    async fn a_restore_that_cannot_verify_keeps_its_available_group_tagged_unverified() {
        let ev = failing(false, "VerifyRestore", "RestoreUnreachable");
        let d = with_own_group(&ev, "available").await;
        let run = function_handler(ev, &d).await.unwrap();
        let cleanup = run.cleanup.unwrap();
        assert_eq!(cleanup.restored_group, GroupCleanup::Kept);
        assert_eq!(cleanup.verdict, Some(RestoreVerdict::Unverified));
        assert!(cleanup.note.contains("is KEPT"), "{}", cleanup.note);
        assert!(d.snapshots.calls_of("DeleteReplicationGroup").is_empty());
        assert_eq!(verdict_tag(&d).as_deref(), Some("unverified"));
    }

    #[tokio::test]
    async fn a_restore_whose_data_differs_keeps_its_group_tagged_mismatch() {
        let ev = failing(false, "VerifyRestore", "RestoreMismatch");
        let d = with_own_group(&ev, "available").await;
        let run = function_handler(ev, &d).await.unwrap();
        assert_eq!(run.cleanup.unwrap().verdict, Some(RestoreVerdict::Mismatch));
        assert!(d.snapshots.calls_of("DeleteReplicationGroup").is_empty());
        assert_eq!(verdict_tag(&d).as_deref(), Some("mismatch"));
    }

    #[tokio::test]
    async fn a_restore_still_creating_at_its_deadline_keeps_its_group() {
        let ev = failing(false, "CheckGroup", "RestoreTimeout");
        let d = with_own_group(&ev, "creating").await;
        let run = function_handler(ev, &d).await.unwrap();
        assert_eq!(run.cleanup.unwrap().restored_group, GroupCleanup::Kept);
        assert!(d.snapshots.calls_of("DeleteReplicationGroup").is_empty());
    }

    #[tokio::test]
    async fn a_restore_deletes_a_group_elasticache_reports_create_failed() {
        let ev = failing(false, "CheckGroup", "RestoreFailed");
        let d = with_own_group(&ev, "create-failed").await;
        let run = function_handler(ev, &d).await.unwrap();
        assert_eq!(run.cleanup.unwrap().restored_group, GroupCleanup::Deleted);
        assert_eq!(d.snapshots.calls_of("DeleteReplicationGroup").len(), 1);
        assert_eq!(verdict_tag(&d), None);
    }

    #[tokio::test]
    async fn never_deletes_a_group_it_did_not_create() {
        // A group of the same id, not tagged by this execution (e.g. TargetExists was raised).
        let d = deps(FakeSnapshots::cluster_mode_disabled(
            "sessions-restored",
            &[("x-001", "primary", "available")],
        ));
        let run = function_handler(failing(true, "CreateGroup", "TargetExists"), &d)
            .await
            .unwrap();
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
        assert!(d.snapshots.calls_of("AddTagsToResource").is_empty());
    }

    #[tokio::test]
    async fn a_kept_group_whose_tag_is_refused_is_still_kept_and_said_so() {
        let ev = failing(false, "CheckGroup", "RestoreTimeout");
        let d = with_own_group(&ev, "creating").await;
        d.snapshots.fail_next(
            "AddTagsToResource",
            BackupError::AwsRejected {
                message: "InvalidReplicationGroupState".into(),
                source: None,
            },
        );
        let run = function_handler(ev, &d).await.unwrap();
        let cleanup = run.cleanup.unwrap();
        assert_eq!(cleanup.restored_group, GroupCleanup::Kept);
        assert_eq!(cleanup.verdict, None);
        assert!(
            cleanup.note.contains("is KEPT") && cleanup.note.contains("could not be tagged"),
            "{}",
            cleanup.note
        );
        assert!(d.snapshots.calls_of("DeleteReplicationGroup").is_empty());
    }

    #[tokio::test]
    async fn a_group_created_but_not_recorded_is_found_by_its_tag() {
        // CreateReplicationGroup was accepted, then the step failed before recording `restore`.
        let ev = failing(false, "CreateGroup", "AwsError");
        let d = with_own_group(&ev, "creating").await;
        let mut ev = ev;
        ev.payload.restore = None;
        let run = function_handler(ev, &d).await.unwrap();
        assert_eq!(run.cleanup.unwrap().restored_group, GroupCleanup::Kept);
        // A drill's is deleted; and with no group at all there is nothing to do.
        let mut drill = failing(true, "CreateGroup", "AwsError");
        drill.payload.restore = None;
        let d = with_own_group(&drill, "create-failed").await;
        assert_eq!(
            function_handler(drill, &d)
                .await
                .unwrap()
                .cleanup
                .unwrap()
                .restored_group,
            GroupCleanup::Deleted
        );
        let mut nothing = failing(false, "CreateGroup", "RestoreRejected");
        nothing.payload.restore = None;
        let run = function_handler(nothing, &deps(FakeSnapshots::default()))
            .await
            .unwrap();
        assert_eq!(
            run.cleanup.unwrap().restored_group,
            GroupCleanup::NothingToDelete
        );
    }

    /// The serverless restore of the sample event, its cache created by this execution, then `status`.
    async fn with_own_serverless_cache(
        drill: bool,
        failed: Option<(&str, &str)>,
        status: &str,
    ) -> (
        Deps<FakeSnapshots, (), (), FixedClock>,
        LambdaEvent<RestoreRun>,
    ) {
        let mut run: RestoreRun = serde_json::from_str(include_str!(
            "../../../events/create-group/resolved-serverless.json"
        ))
        .unwrap();
        if let Some(r) = run.request.as_mut() {
            r.drill = drill;
        }
        if let Some((step, error)) = failed {
            run.failed = Some(json!({"step": step, "failure": {"Error": error, "Cause": "…"}}));
        }
        let (cache, _) = backup_core::restore::new_serverless_cache(
            run.request().unwrap(),
            run.backup().unwrap(),
            run.execution_id(),
        );
        let d = deps(FakeSnapshots::default());
        d.snapshots.create_serverless_cache(&cache).await.unwrap();
        d.snapshots.set_serverless_status("sessions-sl", status);
        run.restore = Some(RestoreProgress {
            replication_group_id: String::new(),
            serverless_cache_name: Some("sessions-sl".into()),
            endpoint: None,
            status: GroupStatus::Available,
            created: true,
            from: SeedFrom::SnapshotArns,
            requested_at: datetime!(2026-11-22 05:00 UTC),
            deadline: datetime!(2026-11-22 06:00 UTC),
            available_at: None,
            rto_seconds: None,
        });
        (d, LambdaEvent::new(run, Context::default()))
    }

    #[tokio::test]
    async fn a_serverless_drill_deletes_its_cache_and_a_failed_restore_keeps_it_tagged() {
        let (d, ev) = with_own_serverless_cache(true, None, "AVAILABLE").await;
        let run = function_handler(ev, &d).await.unwrap();
        let cleanup = run.cleanup.unwrap();
        assert_eq!(cleanup.restored_group, GroupCleanup::Deleted);
        assert_eq!(
            d.snapshots.calls_of("DeleteServerlessCache"),
            ["DeleteServerlessCache sessions-sl"]
        );
        assert!(
            cleanup.note.contains("serverless cache sessions-sl"),
            "{}",
            cleanup.note
        );
        assert!(d.snapshots.calls_of("DeleteReplicationGroup").is_empty());

        let (d, ev) = with_own_serverless_cache(
            false,
            Some(("VerifyRestore", "RestoreMismatch")),
            "AVAILABLE",
        )
        .await;
        let run = function_handler(ev, &d).await.unwrap();
        let cleanup = run.cleanup.unwrap();
        assert_eq!(
            (cleanup.restored_group, cleanup.verdict),
            (GroupCleanup::Kept, Some(RestoreVerdict::Mismatch))
        );
        assert!(d.snapshots.calls_of("DeleteServerlessCache").is_empty());
        let tagged = d.snapshots.calls_of("AddTagsToResource");
        assert!(
            tagged.len() == 1
                && tagged[0].contains(":serverlesscache:sessions-sl")
                && tagged[0].contains("mismatch"),
            "{tagged:?}"
        );
    }

    #[tokio::test]
    async fn a_create_failed_serverless_cache_is_deleted_and_anothers_never() {
        let (d, ev) = with_own_serverless_cache(
            false,
            Some(("CheckGroup", "RestoreFailed")),
            "CREATE-FAILED",
        )
        .await;
        let run = function_handler(ev, &d).await.unwrap();
        assert_eq!(run.cleanup.unwrap().restored_group, GroupCleanup::Deleted);
        assert_eq!(d.snapshots.calls_of("DeleteServerlessCache").len(), 1);

        // A cache of the same name that this execution did not tag (TargetExists was raised).
        let (_, ev) =
            with_own_serverless_cache(true, Some(("CreateGroup", "TargetExists")), "AVAILABLE")
                .await;
        // Tagged by another restore execution: still not this one's.
        let other = deps(FakeSnapshots::serverless("sessions-sl", "valkey"));
        other.snapshots.0.lock().unwrap().tags.insert(
            "sessions-sl".into(),
            vec![(
                backup_core::restore::RESTORE_TAG.to_string(),
                "arn:aws:states:eu-west-1:123456789012:execution:elasticache-backup-restore:other"
                    .into(),
            )],
        );
        let run = function_handler(ev, &other).await.unwrap();
        assert_eq!(
            run.cleanup.unwrap().restored_group,
            GroupCleanup::NothingToDelete
        );
        assert!(other.snapshots.calls_of("DeleteServerlessCache").is_empty());
        assert!(other.snapshots.calls_of("AddTagsToResource").is_empty());
    }
}
