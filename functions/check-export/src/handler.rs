//! CheckExport step: the export is done only when S3 holds one non-empty `<exportName>-<id>.rdb` per shard, written
//! after this run's snapshot began. The source snapshot's status is not evidence (no documented export status
//! exists; ElastiCache User Guide, "Exporting a backup").
//!
//! While the export is incomplete, the source's ElastiCache events since the export started (`DescribeEvents`) are
//! read too: an event naming this export that reports a failure ends the run at once with `ExportRejected`, instead
//! of waiting for the deadline (an hour by default). Neither the wording of export-failure events nor the source they
//! are recorded on (the node, a member node of a group snapshot, the group) is documented: any event dated after the
//! export began whose message names the export (`TargetSnapshotName`, unique per run; case-insensitive) and says
//! "fail" counts, whatever its source. The events are an accelerator: when they cannot
//! be read the check goes on by S3 alone, with a warning.

use backup_core::backup::export::inspect;
use backup_core::model::ExportStatus;
use backup_core::poll::next_wait_for;
use backup_core::ports::{EventLog, ExportStore};
use backup_core::resources::SourceEvent;
use backup_core::{BackupError, BackupRun, Clock, Deps};
use lambda_runtime::LambdaEvent;

/// The state name this handler serves, used for timings.
pub const STEP: &str = "CheckExport";

/// Handles one CheckExport invocation: sets `export.status` (`complete` with `export.objects`, or still
/// `exporting`) and `poll`.
///
/// # Errors
/// `ExportRejected` (an ElastiCache event says the export failed; the event's message kept), `ExportTimeout`
/// (objects missing or empty at the deadline; the message says which), `ExportIncomplete` (shard
/// objects beyond the source's shard count: the export does not match the source), `ExportRejected` (bucket
/// gone), `Throttled`, `AwsError`, `InvalidInput` (document not from the earlier steps).
#[tracing::instrument(skip_all, fields(export_name = event.payload.export_name.as_deref().unwrap_or("-")))]
pub async fn function_handler<S: EventLog, E: ExportStore, C: Clock>(
    event: LambdaEvent<BackupRun>,
    deps: &Deps<S, E, (), C>,
) -> Result<BackupRun, BackupError> {
    let mut run = event.payload;
    let started = deps.clock.now();
    let assessment = inspect(&deps.exports, &run).await?;
    let snapshot_name = run.snapshot_name()?.to_string();
    let failure = if assessment.is_complete() || !assessment.extra.is_empty() {
        None
    } else {
        export_failure(deps, &run, &snapshot_name).await
    };
    let progress = run.export.as_mut().ok_or_else(|| {
        BackupError::invalid_input(
            "export",
            "is missing: the run document must come from ExportSnapshot",
        )
    })?;
    let now = deps.clock.now();

    if !assessment.extra.is_empty() {
        // More shard objects than the source has shards: they will not go away by waiting, and which of them is
        // which shard cannot be told. Stop now; the snapshot is kept.
        return Err(BackupError::ExportIncomplete {
            message: format!(
                "export of snapshot {snapshot_name} to s3://{}/ does not match the source: {}; the source snapshot \
                 {snapshot_name} is kept",
                progress.bucket,
                assessment.describe()
            ),
        });
    }
    if assessment.is_complete() {
        progress.status = ExportStatus::Complete;
        progress.completed_at = Some(now);
        progress.objects = assessment.objects;
        run.poll.checks = 0;
        tracing::info!(objects = progress.objects.len(), "export complete");
    } else if let Some(event) = failure {
        return Err(BackupError::ExportRejected {
            message: format!(
                "ElastiCache reported the export of snapshot {snapshot_name} to s3://{}/ failed: \"{}\" (event \
                 of {}{}); {}; the source snapshot {snapshot_name} is kept",
                progress.bucket,
                backup_core::text::clip(&event.message, 600),
                event.source_id,
                event
                    .date
                    .map(|d| format!(" at {}", backup_core::model::rfc3339(d)))
                    .unwrap_or_default(),
                assessment.describe()
            ),
            source: None,
        });
    } else if now >= progress.deadline {
        return Err(BackupError::ExportTimeout {
            message: format!(
                "export of snapshot {snapshot_name} to s3://{}/ incomplete at its deadline {}: {}; the source \
                 snapshot {snapshot_name} is kept",
                progress.bucket,
                progress.deadline,
                assessment.describe()
            ),
        });
    } else {
        progress.status = ExportStatus::Exporting;
        run.poll.checks += 1;
        let expected = run.history.as_ref().and_then(|h| h.export_seconds);
        run.poll.wait_seconds =
            next_wait_for(progress.started_at, progress.deadline, now, expected);
        tracing::info!(progress = %assessment.describe(), wait_seconds = run.poll.wait_seconds, "export in progress");
    }
    run.record_timing(STEP, started, deps.clock.now());
    Ok(run)
}

/// The event that says this run's export failed, if the source's event log has one (see the module doc). `None`
/// when there is none, or when the log cannot be read (logged).
async fn export_failure<S: EventLog, E, C: Clock>(
    deps: &Deps<S, E, (), C>,
    run: &BackupRun,
    snapshot_name: &str,
) -> Option<SourceEvent> {
    let export_name = run.export_name.as_deref()?.to_ascii_lowercase();
    let started = run.export.as_ref()?.started_at;
    let since = started - backup_core::backup::export::clock_slack();
    match deps.snapshots.events_since(since).await {
        Ok(events) => events.into_iter().find(|e| {
            let m = e.message.to_ascii_lowercase();
            m.contains(&export_name) && m.contains("fail") && e.date.is_none_or(|d| d >= since)
        }),
        Err(err) => {
            tracing::warn!(error = %err, snapshot = snapshot_name, "DescribeEvents failed; checking S3 only");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use backup_core::testing::{FakeExportStore, FakeSnapshots, FixedClock};
    use lambda_runtime::Context;
    use time::macros::datetime;

    const EXPORTING: &str = include_str!("../../../events/check-export/exporting.json");
    const NAME: &str = "ecb-orders-5f1d2a9c";
    const BUCKET: &str = "acme-cache-backups";

    type TestDeps = Deps<FakeSnapshots, FakeExportStore, (), FixedClock>;

    fn deps() -> TestDeps {
        Deps {
            snapshots: FakeSnapshots::default(),
            exports: FakeExportStore::with_bucket(BUCKET),
            verifier: (),
            config: backup_core::Config::default(),
            clock: FixedClock::at(datetime!(2026-11-22 03:05:20 UTC)),
            probe: (),
            secrets: (),
        }
    }

    fn event(shards: u32) -> LambdaEvent<BackupRun> {
        let mut run: BackupRun = serde_json::from_str(EXPORTING).unwrap();
        run.source.as_mut().unwrap().shard_count = shards;
        LambdaEvent::new(run, Context::default())
    }

    fn put(d: &TestDeps, shard: u32, size: u64) {
        d.exports.put(
            BUCKET,
            &format!("{NAME}-{shard:04}.rdb"),
            size,
            datetime!(2026-11-22 03:05 UTC),
        );
    }

    #[tokio::test]
    async fn complete_when_every_shard_object_is_there() {
        let d = deps();
        for shard in 1..=3 {
            put(&d, shard, 1000 + u64::from(shard));
        }
        let run = function_handler(event(3), &d).await.unwrap();
        let export = run.export.unwrap();
        assert_eq!(export.status, ExportStatus::Complete);
        assert_eq!(export.objects.len(), 3);
        assert_eq!(export.objects[2].size_bytes, 1003);
        assert_eq!(
            export.completed_at,
            Some(datetime!(2026-11-22 03:05:20 UTC))
        );
    }

    #[tokio::test]
    async fn keeps_waiting_while_a_shard_is_missing() {
        let d = deps();
        put(&d, 1, 10);
        let run = function_handler(event(2), &d).await.unwrap();
        assert_eq!(run.export.unwrap().status, ExportStatus::Exporting);
        assert_eq!((run.poll.checks, run.poll.wait_seconds), (1, 15));
    }

    fn event_of(source: &str, message: &str, at: time::OffsetDateTime) -> SourceEvent {
        SourceEvent {
            source_id: source.into(),
            message: message.into(),
            date: Some(at),
        }
    }

    #[tokio::test]
    async fn an_export_failure_event_fails_the_check_at_once_and_keeps_the_snapshot() {
        let d = deps();
        put(&d, 1, 10);
        {
            let mut fake = d.snapshots.0.lock().unwrap();
            // Before this export began, or about another export, or not a failure: not this run's.
            fake.events = vec![
                event_of(
                    "orders-002",
                    &format!("Export of {NAME} failed"),
                    datetime!(2026-11-21 03:00 UTC),
                ),
                event_of(
                    "orders-002",
                    "Failed to export snapshot ecb-orders-99999999 to S3",
                    datetime!(2026-11-22 03:05 UTC),
                ),
                event_of(
                    "orders-002",
                    &format!("Snapshot succeeded for snapshot with ID '{NAME}'"),
                    datetime!(2026-11-22 03:05 UTC),
                ),
            ];
        }
        let run = function_handler(event(2), &d).await.unwrap();
        assert_eq!(run.export.unwrap().status, ExportStatus::Exporting);
        d.snapshots.0.lock().unwrap().events.push(event_of(
            "orders-002",
            &format!("Failed to export snapshot {} to S3 bucket {BUCKET}: ElastiCache has not been granted WRITE permissions", NAME.to_ascii_uppercase()),
            datetime!(2026-11-22 03:05:10 UTC),
        ));
        let err = function_handler(event(2), &d).await.unwrap_err();
        assert_eq!(err.error_type(), "ExportRejected");
        let text = err.to_string();
        assert!(
            text.contains("has not been granted WRITE permissions"),
            "{text}"
        );
        assert!(
            text.contains(&format!("the source snapshot {NAME} is kept")),
            "{text}"
        );
        assert!(text.contains("1 of 2 shard objects present"), "{text}");
        assert!(
            text.contains("(event of orders-002 at 2026-11-22T03:05:10Z)"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn an_unreadable_event_log_does_not_fail_the_check() {
        let d = deps();
        d.snapshots
            .0
            .lock()
            .unwrap()
            .fail_events
            .push_back(BackupError::AwsRejected {
                message: "AccessDenied".into(),
                source: None,
            });
        let run = function_handler(event(1), &d).await.unwrap();
        assert_eq!(run.export.unwrap().status, ExportStatus::Exporting);
    }

    #[tokio::test]
    async fn an_empty_object_is_not_a_backup() {
        let d = deps();
        put(&d, 1, 0);
        assert_eq!(
            function_handler(event(1), &d)
                .await
                .unwrap()
                .export
                .unwrap()
                .status,
            ExportStatus::Exporting
        );
    }

    #[tokio::test]
    async fn times_out_at_the_deadline_naming_what_is_missing() {
        let d = deps();
        put(&d, 1, 10);
        d.clock.advance(3600);
        let err = function_handler(event(2), &d).await.unwrap_err();
        assert_eq!(err.error_type(), "ExportTimeout");
        let msg = err.to_string();
        assert!(msg.contains("1 of 2 shard objects present"), "{msg}");
        assert!(msg.contains("is kept"), "{msg}");
    }

    #[tokio::test]
    async fn missing_bucket_is_export_rejected() {
        let d = deps();
        d.exports.buckets.lock().unwrap().clear();
        assert_eq!(
            function_handler(event(1), &d)
                .await
                .unwrap_err()
                .error_type(),
            "ExportRejected"
        );
    }

    #[tokio::test]
    async fn more_shard_objects_than_node_groups_are_export_incomplete_at_once() {
        // Which instance identifier each object gets is not documented: 0001, 0003, 0004 is three shards…
        let d = deps();
        for shard in [1, 3, 4] {
            put(&d, shard, 1000);
        }
        let run = function_handler(event(3), &d).await.unwrap();
        assert_eq!(run.export.unwrap().status, ExportStatus::Complete);
        // … but four objects for three node groups is not an export of this source.
        put(&d, 2, 1000);
        let err = function_handler(event(3), &d).await.unwrap_err();
        assert_eq!(err.error_type(), "ExportIncomplete", "{err}");
        assert!(
            err.to_string()
                .contains("4 shard objects for 3 node groups"),
            "{err}"
        );
        assert!(err.to_string().contains("is kept"), "{err}");
    }
}
