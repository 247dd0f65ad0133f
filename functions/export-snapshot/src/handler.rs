//! ExportSnapshot step: `CopySnapshot(SourceSnapshotName, TargetSnapshotName, TargetBucket)` (Amazon ElastiCache API
//! Reference, CopySnapshot; User Guide, "Exporting a backup"); for a serverless cache
//! `ExportServerlessCacheSnapshot(ServerlessCacheSnapshotName, S3BucketName)`, where ElastiCache names the objects.
//!
//! Idempotent: if S3 already holds this run's complete export (a retried step, or a duplicate of this execution got
//! there first), no second CopySnapshot is made. A refused CopySnapshot whose objects are nonetheless (being) written
//! by this run is resumed rather than failed; otherwise the refusal is `ExportRejected` with the AWS message kept.

use backup_core::backup::export::{ExportAssessment, inspect};
use backup_core::backup::run::ExportProgress;
use backup_core::model::ExportStatus;
use backup_core::poll::planned_wait_seconds;
use backup_core::ports::{ExportStore, Snapshots};
use backup_core::{BackupError, BackupRun, Clock, Deps};
use lambda_runtime::LambdaEvent;
use time::Duration;

/// The state name this handler serves, used for timings.
pub const STEP: &str = "ExportSnapshot";

/// Handles one ExportSnapshot invocation: sets `export` (status `exporting`, deadline) and `poll.waitSeconds`.
///
/// # Errors
/// `ExportRejected` (bucket missing, wrong region, not owned, permissions, key exists), `ClusterBusy` (snapshot in
/// another operation; retried), `SnapshotFailed` (source snapshot gone), `SnapshotQuotaExceeded`, `Throttled`,
/// `AwsError`, `InvalidInput` (document not from the earlier steps).
#[tracing::instrument(skip_all, fields(snapshot_name = event.payload.snapshot_name.as_deref().unwrap_or("-")))]
pub async fn function_handler<S: Snapshots, E: ExportStore, C: Clock>(
    event: LambdaEvent<BackupRun>,
    deps: &Deps<S, E, (), C>,
) -> Result<BackupRun, BackupError> {
    let mut run = event.payload;
    let started = deps.clock.now();
    let name = run.snapshot_name()?.to_string();
    let export_name = run.export_name()?.to_string();
    let request = run.request()?.clone();

    let serverless = run.is_serverless();
    let before = inspect(&deps.exports, &run).await?;
    // A serverless export writes objects ElastiCache names itself and does not say how many: any fresh one of this
    // run means an export of this snapshot is under way or done, and a second one would only add objects.
    let resumed = if before.is_complete() || (serverless && in_flight_or_done(&before)) {
        tracing::info!(export_name = %export_name, "export already in S3; not exporting again");
        true
    } else {
        let result = if serverless {
            deps.snapshots
                .export_serverless_snapshot(&name, &request.bucket)
                .await
        } else {
            deps.snapshots
                .export_snapshot(&name, &export_name, &request.bucket)
                .await
        };
        match result {
            Ok(()) => false,
            // A serverless snapshot of this run's name already exporting was exported by an earlier attempt of
            // this step (or a duplicate of this execution): resume it.
            Err(err) if serverless && exporting(deps, &name).await => {
                tracing::warn!(error = %err, "ExportServerlessCacheSnapshot refused, but the snapshot is exporting; resuming");
                true
            }
            // Whatever the refusal (key exists, snapshot busy copying, snapshot already deleted), a duplicate of
            // this execution may be the cause: if this run's objects are (being) written, resume.
            Err(err) => match inspect(&deps.exports, &run).await {
                Ok(after) if in_flight_or_done(&after) => {
                    tracing::warn!(error = %err, "export refused, but this run's export is in S3; resuming");
                    true
                }
                Ok(after) => return Err(with_stale_hint(err, &after)),
                Err(_) => return Err(err),
            },
        }
    };

    let now = deps.clock.now();
    let timeout = request.export_timeout_seconds;
    run.export = Some(ExportProgress {
        bucket: request.bucket.clone(),
        status: ExportStatus::Exporting,
        resumed,
        started_at: now,
        deadline: now + Duration::seconds(i64::try_from(timeout).unwrap_or(i64::MAX)),
        completed_at: None,
        objects: Vec::new(),
        seen: Vec::new(),
    });
    run.poll.checks = 0;
    run.poll.wait_seconds = if resumed {
        1
    } else {
        planned_wait_seconds(
            0,
            timeout,
            run.history.as_ref().and_then(|h| h.export_seconds),
        )
    };
    tracing::info!(bucket = %request.bucket, export_name = %export_name, resumed, "export started");
    run.record_timing(STEP, started, deps.clock.now());
    Ok(run)
}

/// Whether serverless snapshot `name` reports status `exporting` (a value the API reference does not list; an
/// unreadable snapshot counts as not exporting).
async fn exporting<S: Snapshots, E, C>(deps: &Deps<S, E, (), C>, name: &str) -> bool {
    matches!(
        deps.snapshots.serverless_snapshot(name).await,
        Ok(Some(info)) if info.status.to_string() == "exporting"
    )
}

/// Some fresh object of this run is already there: an export of this snapshot is under way or done.
fn in_flight_or_done(a: &ExportAssessment) -> bool {
    !a.objects.is_empty()
}

fn with_stale_hint(err: BackupError, a: &ExportAssessment) -> BackupError {
    match err {
        BackupError::ExportRejected { message, source } if !a.stale.is_empty() => {
            BackupError::ExportRejected {
                message: format!(
                    "{message} (the bucket holds {} from an earlier run)",
                    a.stale.join(", ")
                ),
                source,
            }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use backup_core::testing::{FakeExportStore, FakeSnapshots, FixedClock};
    use lambda_runtime::Context;
    use time::macros::datetime;

    const AVAILABLE: &str = include_str!("../../../events/export-snapshot/available.json");
    const NAME: &str = "ecb-orders-5f1d2a9c";
    const BUCKET: &str = "acme-cache-backups";

    fn deps() -> Deps<FakeSnapshots, FakeExportStore, (), FixedClock> {
        let snapshots = FakeSnapshots::with_snapshot(NAME, "available");
        Deps {
            snapshots,
            exports: FakeExportStore::with_bucket(BUCKET),
            verifier: (),
            config: backup_core::Config::default(),
            clock: FixedClock::at(datetime!(2026-11-22 03:04:20 UTC)),
            probe: (),
            secrets: (),
        }
    }

    fn event() -> LambdaEvent<BackupRun> {
        LambdaEvent::new(serde_json::from_str(AVAILABLE).unwrap(), Context::default())
    }

    fn rejected(msg: &str) -> BackupError {
        BackupError::ExportRejected {
            message: msg.into(),
            source: None,
        }
    }

    #[tokio::test]
    async fn exports_to_the_requested_bucket_under_the_export_name() {
        let d = deps();
        let run = function_handler(event(), &d).await.unwrap();
        assert_eq!(
            d.snapshots.calls_of("CopySnapshot"),
            vec![format!("CopySnapshot {NAME} {NAME} {BUCKET}")]
        );
        let export = run.export.unwrap();
        assert_eq!(
            (export.status, export.bucket.as_str(), export.resumed),
            (ExportStatus::Exporting, BUCKET, false)
        );
        assert_eq!(export.deadline, datetime!(2026-11-22 04:04:20 UTC));
        assert_eq!(run.poll.wait_seconds, backup_core::poll::MIN_WAIT_SECONDS);
    }

    /// This run as a serverless cache's: its snapshot `NAME` is a serverless snapshot in `status`.
    fn serverless(
        status: &str,
    ) -> (
        Deps<FakeSnapshots, FakeExportStore, (), FixedClock>,
        LambdaEvent<BackupRun>,
    ) {
        let d = deps();
        d.snapshots
            .insert_serverless_snapshot(backup_core::resources::SnapshotInfo {
                name: NAME.into(),
                status: status.into(),
                serverless_cache_name: Some("sessions".into()),
                ..Default::default()
            });
        let mut ev = event();
        ev.payload.request.as_mut().unwrap().target =
            backup_core::backup::run::TargetRef::ServerlessCacheName("sessions".into());
        let source = ev.payload.source.as_mut().unwrap();
        source.serverless_cache_name = Some("sessions".into());
        source.replication_group_id = None;
        source.cache_cluster_id = None;
        source.shard_count = 0;
        (d, ev)
    }

    #[tokio::test]
    async fn a_serverless_snapshot_is_exported_with_its_own_call_once() {
        let (d, ev) = serverless("available");
        let run = function_handler(ev, &d).await.unwrap();
        assert_eq!(
            d.snapshots.calls_of("ExportServerlessCacheSnapshot"),
            [format!("ExportServerlessCacheSnapshot {NAME} {BUCKET}")]
        );
        assert!(d.snapshots.calls_of("CopySnapshot").is_empty());
        assert!(!run.export.unwrap().resumed);

        // A retried step finds the snapshot exporting (refused as busy): resumed, not failed.
        let (d, ev) = serverless("exporting");
        let run = function_handler(ev, &d).await.unwrap();
        assert!(run.export.unwrap().resumed);

        // An object of this run already there, whatever its name: not exported a second time.
        let (d, ev) = serverless("available");
        d.exports.put(
            BUCKET,
            &format!("{NAME}.rdb"),
            100,
            datetime!(2026-11-22 03:05 UTC),
        );
        let run = function_handler(ev, &d).await.unwrap();
        assert!(
            d.snapshots
                .calls_of("ExportServerlessCacheSnapshot")
                .is_empty()
        );
        assert!(run.export.unwrap().resumed);

        // A refusal with nothing under way keeps its name and AWS's message.
        let (d, ev) = serverless("available");
        d.snapshots.fail_next(
            "ExportServerlessCacheSnapshot",
            rejected("InvalidParameterValue: The S3 bucket is not in the same region"),
        );
        let err = function_handler(ev, &d).await.unwrap_err();
        assert_eq!(err.error_type(), "ExportRejected");
        assert!(err.to_string().contains("same region"), "{err}");
    }

    #[tokio::test]
    async fn does_not_export_again_when_this_runs_objects_are_there() {
        let d = deps();
        d.exports.put(
            BUCKET,
            &format!("{NAME}-0001.rdb"),
            100,
            datetime!(2026-11-22 03:05 UTC),
        );
        let run = function_handler(event(), &d).await.unwrap();
        assert!(d.snapshots.calls_of("CopySnapshot").is_empty());
        assert!(run.export.unwrap().resumed);
    }

    #[tokio::test]
    async fn an_older_object_under_the_same_name_is_not_mistaken_for_this_export() {
        let d = deps();
        d.exports.put(
            BUCKET,
            &format!("{NAME}-0001.rdb"),
            100,
            datetime!(2026-08-01 03:05 UTC),
        );
        d.snapshots.fail_next(
            "CopySnapshot",
            rejected("The S3 bucket already contains an object with key"),
        );
        let err = function_handler(event(), &d).await.unwrap_err();
        assert_eq!(err.error_type(), "ExportRejected");
        assert!(err.to_string().contains("earlier run"), "{err}");
    }

    #[tokio::test]
    async fn missing_bucket_is_export_rejected_and_nothing_is_deleted() {
        let d = deps();
        d.exports.buckets.lock().unwrap().clear();
        let err = function_handler(event(), &d).await.unwrap_err();
        assert_eq!(err.error_type(), "ExportRejected");
        assert!(d.snapshots.0.lock().unwrap().snapshots.contains_key(NAME));
        assert!(d.snapshots.calls_of("DeleteSnapshot").is_empty());
    }

    #[tokio::test]
    async fn refused_copy_keeps_the_aws_message() {
        let d = deps();
        d.snapshots.fail_next(
            "CopySnapshot",
            rejected(
                "CopySnapshot: InvalidParameterValue: The S3 bucket x is outside of the region.",
            ),
        );
        let err = function_handler(event(), &d).await.unwrap_err();
        assert!(err.to_string().contains("outside of the region"), "{err}");
    }

    #[tokio::test]
    async fn refused_copy_while_a_duplicate_writes_our_objects_resumes() {
        let d = deps();
        // Two shards; a duplicate of this execution has written the first one already.
        let mut ev = event();
        ev.payload.source.as_mut().unwrap().shard_count = 2;
        d.exports.put(
            BUCKET,
            &format!("{NAME}-0001.rdb"),
            100,
            datetime!(2026-11-22 03:04:30 UTC),
        );
        d.snapshots.fail_next(
            "CopySnapshot",
            rejected("The S3 bucket already contains an object with key"),
        );
        let run = function_handler(ev, &d).await.unwrap();
        assert_eq!(d.snapshots.calls_of("CopySnapshot").len(), 1);
        let export = run.export.unwrap();
        assert!(export.resumed);
        assert_eq!(export.status, ExportStatus::Exporting);
    }

    #[tokio::test]
    async fn snapshot_deleted_by_a_duplicate_after_its_export_resumes() {
        let d = deps();
        // Two shards; the duplicate's first object is in S3 and it has already deleted the snapshot.
        let mut ev = event();
        ev.payload.source.as_mut().unwrap().shard_count = 2;
        d.snapshots.0.lock().unwrap().snapshots.clear();
        d.exports.put(
            BUCKET,
            &format!("{NAME}-0001.rdb"),
            100,
            datetime!(2026-11-22 03:04:30 UTC),
        );
        let run = function_handler(ev, &d).await.unwrap();
        assert!(run.export.unwrap().resumed);
        assert_eq!(d.snapshots.calls_of("CopySnapshot").len(), 1);
    }

    #[tokio::test]
    async fn busy_snapshot_and_vanished_snapshot_pass_through() {
        let d = deps();
        d.snapshots.fail_next(
            "CopySnapshot",
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
        d.snapshots.0.lock().unwrap().snapshots.clear();
        assert_eq!(
            function_handler(event(), &d)
                .await
                .unwrap_err()
                .error_type(),
            "SnapshotFailed"
        );
    }
}
