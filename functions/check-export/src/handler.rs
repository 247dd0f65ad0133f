//! CheckExport step: the export is done only when S3 holds one non-empty `<exportName>-NNNN.rdb` per shard, written
//! after this run's snapshot began. The source snapshot's status is not evidence (no documented export status
//! exists; ElastiCache User Guide, "Exporting a backup").

use backup_core::export::inspect;
use backup_core::poll::next_wait_for;
use backup_core::ports::ExportStore;
use backup_core::run::ExportStatus;
use backup_core::{BackupError, BackupRun, Clock, Deps};
use lambda_runtime::LambdaEvent;

/// The state name this handler serves, used for timings.
pub const STEP: &str = "CheckExport";

/// Handles one CheckExport invocation: sets `export.status` (`complete` with `export.objects`, or still
/// `exporting`) and `poll`.
///
/// # Errors
/// `ExportTimeout` (objects missing or empty at the deadline; the message says which), `ExportIncomplete` (shard
/// objects beyond the source's shard count: the export does not match the source), `ExportRejected` (bucket
/// gone), `Throttled`, `AwsError`, `InvalidInput` (document not from the earlier steps).
#[tracing::instrument(skip_all, fields(export_name = event.payload.export_name.as_deref().unwrap_or("-")))]
pub async fn function_handler<E: ExportStore, C: Clock>(
    event: LambdaEvent<BackupRun>,
    deps: &Deps<(), E, (), C>,
) -> Result<BackupRun, BackupError> {
    let mut run = event.payload;
    let started = deps.clock.now();
    let assessment = inspect(&deps.exports, &run).await?;
    let snapshot_name = run.snapshot_name()?.to_string();
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

#[cfg(test)]
mod tests {
    use super::*;
    use backup_core::testing::{FakeExportStore, FixedClock};
    use lambda_runtime::Context;
    use time::macros::datetime;

    const EXPORTING: &str = include_str!("../../../events/check-export/exporting.json");
    const NAME: &str = "ecb-orders-5f1d2a9c";
    const BUCKET: &str = "acme-cache-backups";

    fn deps() -> Deps<(), FakeExportStore, (), FixedClock> {
        Deps {
            snapshots: (),
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

    fn put(d: &Deps<(), FakeExportStore, (), FixedClock>, shard: u32, size: u64) {
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
        assert!(msg.contains(&format!("missing {NAME}-0002.rdb")), "{msg}");
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
    async fn keys_1_3_4_for_three_shards_are_not_complete() {
        let d = deps();
        for shard in [1, 3, 4] {
            put(&d, shard, 1000);
        }
        let err = function_handler(event(3), &d).await.unwrap_err();
        assert_eq!(err.error_type(), "ExportIncomplete", "{err}");
        assert!(
            err.to_string()
                .contains("missing ecb-orders-5f1d2a9c-0002.rdb"),
            "{err}"
        );
        assert!(err.to_string().contains("is kept"), "{err}");
    }
}
