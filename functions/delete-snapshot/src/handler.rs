//! DeleteSnapshot step: the source snapshot is deleted only after S3 is seen, again, to hold every shard's object,
//! and only when it is this execution's own: its name is the one the verified export was made from, and it carries
//! the tag `elasticache-backup:execution` = this execution (the IAM grant is conditioned on that tag too). A
//! snapshot of this name that is not so tagged is kept, with a warning.
//!
//! Runs only on the success path of the state machine, after VerifyExport (an unverified export is refused). `keepSourceSnapshot` keeps it. A snapshot already gone
//! (`SnapshotNotFoundFault`, e.g. deleted by a duplicate of this execution) is not an error. DeleteSnapshot cannot be
//! undone (Amazon ElastiCache API Reference, DeleteSnapshot). A serverless cache's snapshot is deleted with
//! DeleteServerlessCacheSnapshot under the same rules.

use backup_core::backup::cleanup;
use backup_core::backup::export::inspect;
use backup_core::backup::ownership::{snapshot_of_run, tagged_by_execution};
use backup_core::backup::run::Cleanup;
use backup_core::model::CleanupOutcome;
use backup_core::ports::{ExportStore, Groups, Snapshots};
use backup_core::resources::DeleteOutcome;
use backup_core::{BackupError, BackupRun, Clock, Deps};
use lambda_runtime::LambdaEvent;

/// The state name this handler serves, used for timings.
pub const STEP: &str = "DeleteSnapshot";

/// Handles one DeleteSnapshot invocation: sets `cleanup.sourceSnapshot` to `deleted`, `already-deleted` or `kept`,
/// and refreshes `export.objects` from S3.
///
/// # Errors
/// `ExportIncomplete` (the export is not all in S3, or the verified export is not this snapshot's: nothing is
/// deleted), `ClusterBusy` (`InvalidSnapshotState`; retried), `ExportRejected` (bucket gone), `Throttled`,
/// `AwsError`, `InvalidInput`.
#[tracing::instrument(skip_all, fields(snapshot_name = event.payload.snapshot_name.as_deref().unwrap_or("-")))]
pub async fn function_handler<S: Snapshots + Groups, E: ExportStore, C: Clock>(
    event: LambdaEvent<BackupRun>,
    deps: &Deps<S, E, (), C>,
) -> Result<BackupRun, BackupError> {
    let mut run = event.payload;
    let started = deps.clock.now();
    let name = run.snapshot_name()?.to_string();
    let keep = run.request()?.keep_source_snapshot;
    let serverless = run.is_serverless();
    let verification = cleanup::verified_export(&run, &name)?;
    let assessment = inspect(&deps.exports, &run).await?;
    let objects = cleanup::objects_as_verified(&name, assessment, verification)?;
    if let Some(export) = run.export.as_mut() {
        export.objects = objects;
    }

    let outcome = if keep {
        tracing::info!("keepSourceSnapshot: source snapshot kept");
        CleanupOutcome::Kept
    } else if let Some(info) = snapshot_of_run(&deps.snapshots, serverless, &name).await?
        && !tagged_by_execution(&deps.snapshots, &info, run.execution_id()).await?
    {
        let warning = cleanup::not_ours_warning(&name);
        tracing::warn!("{warning}");
        run.warnings.push(warning);
        CleanupOutcome::Kept
    } else {
        let deleted = if serverless {
            deps.snapshots.delete_serverless_snapshot(&name).await?
        } else {
            deps.snapshots.delete_snapshot(&name).await?
        };
        match deleted {
            DeleteOutcome::Deleted => CleanupOutcome::Deleted,
            DeleteOutcome::NotFound => {
                run.warnings.push(cleanup::already_deleted_warning(&name));
                CleanupOutcome::AlreadyDeleted
            }
        }
    };
    tracing::info!(outcome = %outcome, "source snapshot");
    run.cleanup = Some(Cleanup {
        source_snapshot: outcome,
        at: deps.clock.now(),
    });
    run.record_timing(STEP, started, deps.clock.now());
    // The backup is verified and complete: the per-target staleness alarm and the dashboard count this line.
    if let Some(target) = backup_core::metrics::target_of(&run) {
        println!(
            "{}",
            backup_core::metrics::verified_backup(&run, &target, deps.clock.now())
        );
    }
    Ok(run)
}

#[cfg(test)]
mod tests {
    use super::*;
    use backup_core::naming::SNAPSHOT_TAG;
    use backup_core::testing::{FakeExportStore, FakeSnapshots, FixedClock};
    use lambda_runtime::Context;
    use time::macros::datetime;

    const COMPLETE: &str = include_str!("../../../events/delete-snapshot/complete.json");
    const NAME: &str = "ecb-orders-5f1d2a9c";
    const BUCKET: &str = "acme-cache-backups";

    const EXECUTION: &str =
        "arn:aws:states:eu-west-1:123456789012:execution:elasticache-backup:nightly-2026-11-22";

    fn deps(with_object: bool) -> Deps<FakeSnapshots, FakeExportStore, (), FixedClock> {
        let snapshots = FakeSnapshots::with_snapshot(NAME, "available");
        snapshots.tag(NAME, &[(SNAPSHOT_TAG, EXECUTION)]);
        let exports = FakeExportStore::with_bucket(BUCKET);
        if with_object {
            exports.put(
                BUCKET,
                &format!("{NAME}-0001.rdb"),
                7_340_032,
                datetime!(2026-11-22 03:05 UTC),
            );
        }
        Deps {
            snapshots,
            exports,
            verifier: (),
            config: backup_core::Config::default(),
            clock: FixedClock::at(datetime!(2026-11-22 03:06:10 UTC)),
            probe: (),
            secrets: (),
        }
    }

    fn event() -> LambdaEvent<BackupRun> {
        LambdaEvent::new(serde_json::from_str(COMPLETE).unwrap(), Context::default())
    }

    #[tokio::test]
    async fn deletes_the_source_after_seeing_the_export() {
        let d = deps(true);
        let run = function_handler(event(), &d).await.unwrap();
        assert_eq!(
            run.cleanup.unwrap().source_snapshot,
            CleanupOutcome::Deleted
        );
        assert_eq!(
            d.snapshots.calls_of("DeleteSnapshot"),
            vec![format!("DeleteSnapshot {NAME}")]
        );
        assert!(!d.snapshots.0.lock().unwrap().snapshots.contains_key(NAME));
    }

    /// The complete run document of a serverless cache whose export wrote one object, `<name>.rdb`.
    fn serverless_event() -> LambdaEvent<BackupRun> {
        let text = COMPLETE
            .replace("ecb-orders-5f1d2a9c-0001.rdb", "ecb-sessions-5f1d2a9c.rdb")
            .replace("ecb-orders-5f1d2a9c", "ecb-sessions-5f1d2a9c");
        let mut run: BackupRun = serde_json::from_str(&text).unwrap();
        run.input = serde_json::json!({"serverlessCacheName": "sessions"});
        run.request.as_mut().unwrap().target =
            backup_core::backup::run::TargetRef::ServerlessCacheName("sessions".into());
        let source = run.source.as_mut().unwrap();
        source.replication_group_id = None;
        source.cache_cluster_id = None;
        source.serverless_cache_name = Some("sessions".into());
        LambdaEvent::new(run, Context::default())
    }

    #[tokio::test]
    async fn a_serverless_snapshot_is_deleted_with_its_own_call_once_its_export_is_seen() {
        const SERVERLESS: &str = "ecb-sessions-5f1d2a9c";
        let d = deps(false);
        d.snapshots
            .insert_serverless_snapshot(backup_core::resources::SnapshotInfo {
                name: SERVERLESS.into(),
                status: "available".into(),
                serverless_cache_name: Some("sessions".into()),
                ..Default::default()
            });
        // Not in S3 yet: kept.
        let err = function_handler(serverless_event(), &d).await.unwrap_err();
        assert_eq!(err.error_type(), "ExportIncomplete", "{err}");
        // In S3, but the snapshot is not tagged as this execution's: kept, with a warning.
        d.exports.put(
            BUCKET,
            &format!("{SERVERLESS}.rdb"),
            7_340_032,
            datetime!(2026-11-22 03:05 UTC),
        );
        let run = function_handler(serverless_event(), &d).await.unwrap();
        assert_eq!(run.cleanup.unwrap().source_snapshot, CleanupOutcome::Kept);
        assert!(
            d.snapshots
                .calls_of("DeleteServerlessCacheSnapshot")
                .is_empty()
        );
        // Tagged: deleted with DeleteServerlessCacheSnapshot, never DeleteSnapshot.
        d.snapshots.tag(SERVERLESS, &[(SNAPSHOT_TAG, EXECUTION)]);
        let run = function_handler(serverless_event(), &d).await.unwrap();
        assert_eq!(
            run.cleanup.unwrap().source_snapshot,
            CleanupOutcome::Deleted
        );
        assert_eq!(
            d.snapshots.calls_of("DeleteServerlessCacheSnapshot"),
            [format!("DeleteServerlessCacheSnapshot {SERVERLESS}")]
        );
        assert!(d.snapshots.calls_of("DeleteSnapshot").is_empty());
        assert!(
            d.snapshots
                .0
                .lock()
                .unwrap()
                .serverless_snapshots
                .is_empty()
        );
    }

    #[tokio::test]
    async fn never_deletes_when_s3_holds_other_objects_than_the_ones_verified() {
        // Same count, another name (any instance identifier counts as a shard object): not the verified export.
        let d = deps(false);
        d.exports.put(
            BUCKET,
            &format!("{NAME}-0002.rdb"),
            7_340_032,
            datetime!(2026-11-22 03:05 UTC),
        );
        let err = function_handler(event(), &d).await.unwrap_err();
        assert_eq!(err.error_type(), "ExportIncomplete", "{err}");
        assert!(
            err.to_string().contains("are not the ones verified"),
            "{err}"
        );
        assert!(d.snapshots.calls_of("DeleteSnapshot").is_empty());
        // The verified object, at another size.
        let d = deps(false);
        d.exports.put(
            BUCKET,
            &format!("{NAME}-0001.rdb"),
            7_340_033,
            datetime!(2026-11-22 03:05 UTC),
        );
        assert!(function_handler(event(), &d).await.is_err());
        assert!(d.snapshots.calls_of("DeleteSnapshot").is_empty());
    }

    #[tokio::test]
    async fn never_deletes_when_the_export_is_not_in_s3() {
        let d = deps(false);
        let err = function_handler(event(), &d).await.unwrap_err();
        assert_eq!(err.error_type(), "ExportIncomplete");
        assert!(err.to_string().contains("kept"), "{err}");
        assert!(d.snapshots.calls_of("DeleteSnapshot").is_empty());
    }

    #[tokio::test]
    async fn never_deletes_an_unverified_export() {
        let d = deps(true);
        let mut ev = event();
        ev.payload.verification = None;
        let err = function_handler(ev, &d).await.unwrap_err();
        assert_eq!(err.error_type(), "ExportIncomplete");
        assert!(err.to_string().contains("not verified"), "{err}");
        assert!(d.snapshots.calls_of("DeleteSnapshot").is_empty());
    }

    #[tokio::test]
    async fn never_deletes_when_the_listing_fails() {
        let d = deps(true);
        d.exports
            .fail_next
            .lock()
            .unwrap()
            .push_back(BackupError::Throttled {
                message: "t".into(),
                source: None,
            });
        assert_eq!(
            function_handler(event(), &d)
                .await
                .unwrap_err()
                .error_type(),
            "Throttled"
        );
        assert!(d.snapshots.calls_of("DeleteSnapshot").is_empty());
    }

    #[tokio::test]
    async fn keep_source_snapshot_keeps_it() {
        let d = deps(true);
        let mut ev = event();
        ev.payload.request.as_mut().unwrap().keep_source_snapshot = true;
        let run = function_handler(ev, &d).await.unwrap();
        assert_eq!(run.cleanup.unwrap().source_snapshot, CleanupOutcome::Kept);
        assert!(d.snapshots.calls_of("DeleteSnapshot").is_empty());
    }

    #[tokio::test]
    async fn an_already_deleted_snapshot_is_noted_not_failed() {
        let d = deps(true);
        d.snapshots.0.lock().unwrap().snapshots.clear();
        let run = function_handler(event(), &d).await.unwrap();
        assert_eq!(
            run.cleanup.unwrap().source_snapshot,
            CleanupOutcome::AlreadyDeleted
        );
        assert_eq!(run.warnings.len(), 1);
    }

    #[tokio::test]
    async fn busy_snapshot_is_cluster_busy() {
        let d = deps(true);
        d.snapshots.fail_next(
            "DeleteSnapshot",
            BackupError::ClusterBusy {
                message: "InvalidSnapshotState".into(),
                source: None,
            },
        );
        assert_eq!(
            function_handler(event(), &d)
                .await
                .unwrap_err()
                .error_type(),
            "ClusterBusy"
        );
    }

    #[tokio::test]
    async fn never_deletes_a_snapshot_not_tagged_by_this_execution() {
        for tags in [
            vec![],
            vec![(
                SNAPSHOT_TAG,
                "arn:aws:states:eu-west-1:123456789012:execution:x:other",
            )],
        ] {
            let d = deps(true);
            d.snapshots.0.lock().unwrap().tags.clear();
            d.snapshots.tag(NAME, &tags);
            let run = function_handler(event(), &d).await.unwrap();
            assert_eq!(run.cleanup.unwrap().source_snapshot, CleanupOutcome::Kept);
            assert!(d.snapshots.calls_of("DeleteSnapshot").is_empty());
            assert!(
                run.warnings.iter().any(|w| w.contains("not tagged")),
                "{:?}",
                run.warnings
            );
        }
    }

    #[tokio::test]
    async fn never_deletes_when_the_verified_export_is_another_snapshots() {
        let d = deps(true);
        let mut ev = event();
        ev.payload.verification.as_mut().unwrap().manifest_key =
            "ecb-orders-00000000.manifest.json".into();
        let err = function_handler(ev, &d).await.unwrap_err();
        assert_eq!(err.error_type(), "ExportIncomplete");
        let mut ev = event();
        ev.payload.verification.as_mut().unwrap().objects[0].key =
            "ecb-orders-00000000-0001.rdb".into();
        assert_eq!(
            function_handler(ev, &d).await.unwrap_err().error_type(),
            "ExportIncomplete"
        );
        assert!(d.snapshots.calls_of("DeleteSnapshot").is_empty());
    }
}
