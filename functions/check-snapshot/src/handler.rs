//! CheckSnapshot step: reads the snapshot's status (DescribeSnapshots; for a serverless cache
//! DescribeServerlessCacheSnapshots, whose status values AWS does not document: `available` and `failed` are read as
//! for node-based snapshots, anything else is in progress) and sets the next wait.
//!
//! `available` → done (the Choice state moves on to the export); `failed` → `SnapshotFailed` (status documented in
//! the ElastiCache User Guide, "Event notifications and Amazon SNS", `ElastiCache:SnapshotFailed`); any other status,
//! known or not, counts as in progress until the deadline, then `SnapshotTimeout`.
//!
//! A snapshot that no longer exists is `SnapshotFailed`, unless S3 already holds this run's complete export: then a
//! duplicate of this execution exported and deleted it, and this run goes on to confirm the export.

use backup_core::backup::export::inspect;
use backup_core::model::SnapshotStatus;
use backup_core::poll::next_wait_for;
use backup_core::ports::{ExportStore, Snapshots};
use backup_core::{BackupError, BackupRun, Clock, Deps};
use lambda_runtime::LambdaEvent;

/// The state name this handler serves, used for timings.
pub const STEP: &str = "CheckSnapshot";

/// Handles one CheckSnapshot invocation: updates `snapshot.status`, `source.shardCount` (from `NumNodeGroups` once
/// available) and `poll`.
///
/// # Errors
/// `SnapshotFailed` (status `failed`, or the snapshot vanished), `SnapshotTimeout`, `InvalidInput` (document not
/// from CreateSnapshot), `Throttled`, `AwsError`.
#[tracing::instrument(skip_all, fields(snapshot_name = event.payload.snapshot_name.as_deref().unwrap_or("-")))]
pub async fn function_handler<S: Snapshots, E: ExportStore, C: Clock>(
    event: LambdaEvent<BackupRun>,
    deps: &Deps<S, E, (), C>,
) -> Result<BackupRun, BackupError> {
    let mut run = event.payload;
    let started = deps.clock.now();
    let name = run.snapshot_name()?.to_string();
    let source = run.source()?.clone();
    let serverless = run.is_serverless();
    let progress = run.snapshot.as_mut().ok_or_else(|| {
        BackupError::invalid_input(
            "snapshot",
            "is missing: the run document must come from CreateSnapshot",
        )
    })?;
    let of = source.name().to_string();

    let described = if serverless {
        deps.snapshots.serverless_snapshot(&name).await?
    } else {
        deps.snapshots.snapshot(&name).await?
    };
    let Some(info) = described else {
        let export = inspect(&deps.exports, &run).await?;
        // A serverless export's object count is known only once it is complete: any sound object of this run is a
        // duplicate's export (CheckExport then waits for it to settle).
        let exported = export.is_complete() || (serverless && export.has_only_sound_objects());
        if !exported {
            return Err(BackupError::SnapshotFailed {
                message: format!(
                    "snapshot {name} of {of} no longer exists: it was deleted outside this run"
                ),
            });
        }
        let now = deps.clock.now();
        if let Some(progress) = run.snapshot.as_mut() {
            progress.status = SnapshotStatus::Available;
            progress.available_at = Some(now);
        }
        run.poll.checks = 0;
        run.warnings.push(format!(
            "snapshot {name} was exported and deleted by a duplicate of this execution; confirming its export"
        ));
        tracing::warn!(
            "snapshot gone but this run's export is complete in S3: a duplicate finished it"
        );
        run.record_timing(STEP, started, deps.clock.now());
        return Ok(run);
    };
    progress.status = info.status.clone();
    let now = deps.clock.now();
    match &info.status {
        SnapshotStatus::Available => {
            progress.available_at = Some(now);
            if !info.node_groups.is_empty() {
                progress.node_groups = info.node_groups.clone();
            }
            if let (Some(n), Some(src)) =
                (info.num_node_groups.filter(|n| *n > 0), run.source.as_mut())
            {
                src.shard_count = n;
            }
            run.poll.checks = 0;
            tracing::info!(status = %SnapshotStatus::Available, "snapshot ready");
        }
        SnapshotStatus::Failed => {
            return Err(BackupError::SnapshotFailed {
                message: format!(
                    "snapshot {name} of {of} failed (status `failed`); DescribeEvents for {of} gives the cause, \
                     commonly too little reserved memory for BGSAVE"
                ),
            });
        }
        // Unknown statuses count as in progress until the deadline.
        status => {
            if now >= progress.deadline {
                return Err(BackupError::SnapshotTimeout {
                    message: format!(
                        "snapshot {name} of {of} still `{status}` at its deadline {} (started {}); it is kept",
                        progress.deadline, progress.started_at
                    ),
                });
            }
            run.poll.checks += 1;
            let expected = run.history.as_ref().and_then(|h| h.snapshot_seconds);
            run.poll.wait_seconds =
                next_wait_for(progress.started_at, progress.deadline, now, expected);
            tracing::info!(
                status = %status,
                wait_seconds = run.poll.wait_seconds,
                "snapshot in progress"
            );
        }
    }
    run.record_timing(STEP, started, deps.clock.now());
    Ok(run)
}

#[cfg(test)]
mod tests {
    use super::*;
    use backup_core::resources::SnapshotInfo;
    use backup_core::testing::{FakeExportStore, FakeSnapshots, FixedClock};
    use lambda_runtime::Context;
    use time::macros::datetime;

    const CREATING: &str = include_str!("../../../events/check-snapshot/creating.json");
    const NAME: &str = "ecb-orders-5f1d2a9c";

    fn deps_with(
        status: Option<&str>,
        num_node_groups: Option<u32>,
    ) -> Deps<FakeSnapshots, FakeExportStore, (), FixedClock> {
        let snapshots = FakeSnapshots::default();
        if let Some(status) = status {
            snapshots.insert_snapshot(SnapshotInfo {
                name: NAME.into(),
                status: status.into(),
                num_node_groups,
                ..Default::default()
            });
        }
        Deps {
            snapshots,
            exports: FakeExportStore::with_bucket("acme-cache-backups"),
            verifier: (),
            config: backup_core::Config::default(),
            clock: FixedClock::at(datetime!(2026-11-22 03:01:05 UTC)),
            probe: (),
            secrets: (),
        }
    }

    fn event() -> LambdaEvent<BackupRun> {
        LambdaEvent::new(serde_json::from_str(CREATING).unwrap(), Context::default())
    }

    #[tokio::test]
    async fn returns_creating_with_a_grown_wait_while_in_progress() {
        let d = deps_with(Some("creating"), None);
        let run = function_handler(event(), &d).await.unwrap();
        assert_eq!(
            run.snapshot.as_ref().unwrap().status,
            SnapshotStatus::Creating
        );
        assert_eq!(run.poll.checks, 1);
        assert_eq!(run.poll.wait_seconds, 15); // 60 s elapsed / 4
        assert_eq!(run.timings[STEP].invocations, 1);
    }

    #[tokio::test]
    async fn available_moves_on_and_records_shard_count() {
        let d = deps_with(Some("available"), Some(1));
        let run = function_handler(event(), &d).await.unwrap();
        let snap = run.snapshot.unwrap();
        assert_eq!(snap.status, SnapshotStatus::Available);
        assert_eq!(snap.available_at, Some(datetime!(2026-11-22 03:01:05 UTC)));
        assert_eq!(run.poll.checks, 0);
    }

    #[tokio::test]
    async fn failed_status_is_snapshot_failed() {
        let err = function_handler(event(), &deps_with(Some("failed"), None))
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "SnapshotFailed");
        assert!(err.to_string().contains(NAME), "{err}");
    }

    #[tokio::test]
    async fn vanished_snapshot_is_snapshot_failed() {
        let err = function_handler(event(), &deps_with(None, None))
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "SnapshotFailed");
    }

    #[tokio::test]
    async fn vanished_snapshot_whose_export_is_in_s3_was_finished_by_a_duplicate() {
        let d = deps_with(None, None);
        d.exports.put(
            "acme-cache-backups",
            &format!("{NAME}-0001.rdb"),
            4096,
            datetime!(2026-11-22 03:01 UTC),
        );
        let run = function_handler(event(), &d).await.unwrap();
        assert_eq!(run.snapshot.unwrap().status, SnapshotStatus::Available);
        assert!(run.warnings[0].contains("duplicate"), "{:?}", run.warnings);
    }

    #[tokio::test]
    async fn a_vanished_serverless_snapshot_with_objects_of_this_run_in_s3_was_finished_by_a_duplicate()
     {
        let serverless_event = || {
            let mut ev = event();
            ev.payload.request.as_mut().unwrap().target =
                backup_core::backup::run::TargetRef::ServerlessCacheName("orders".into());
            let source = ev.payload.source.as_mut().unwrap();
            source.serverless_cache_name = Some("orders".into());
            source.replication_group_id = None;
            source.cache_cluster_id = None;
            source.shard_count = 0;
            ev
        };
        // Nothing in S3: deleted outside this run.
        let d = deps_with(None, None);
        let err = function_handler(serverless_event(), &d).await.unwrap_err();
        assert_eq!(err.error_type(), "SnapshotFailed");
        // An object of this run, whatever its name: a duplicate exported it; CheckExport confirms it.
        d.exports.put(
            "acme-cache-backups",
            &format!("{NAME}.rdb"),
            4096,
            datetime!(2026-11-22 03:01 UTC),
        );
        let run = function_handler(serverless_event(), &d).await.unwrap();
        assert_eq!(run.snapshot.unwrap().status, SnapshotStatus::Available);
        assert!(d.snapshots.calls_of("DescribeSnapshots").is_empty());
        assert_eq!(
            d.snapshots
                .calls_of("DescribeServerlessCacheSnapshots")
                .len(),
            2
        );
    }

    #[tokio::test]
    async fn unknown_status_waits_until_the_deadline_then_times_out() {
        let d = deps_with(Some("exporting"), None);
        assert_eq!(
            function_handler(event(), &d)
                .await
                .unwrap()
                .snapshot
                .unwrap()
                .status,
            SnapshotStatus::Other("exporting".into())
        );
        d.clock.advance(3600);
        let err = function_handler(event(), &d).await.unwrap_err();
        assert_eq!(err.error_type(), "SnapshotTimeout");
        assert!(err.to_string().contains("kept"), "{err}");
        // Timing out never deletes anything.
        assert!(d.snapshots.snapshot(NAME).await.unwrap().is_some());
        assert!(d.snapshots.calls_of("DeleteSnapshot").is_empty());
    }

    #[tokio::test]
    async fn wait_never_overshoots_the_deadline() {
        let d = deps_with(Some("creating"), None);
        d.clock.advance(3537); // 3 s before the deadline
        let run = function_handler(event(), &d).await.unwrap();
        assert_eq!(run.poll.wait_seconds, 4);
    }

    #[tokio::test]
    async fn throttling_passes_through() {
        let d = deps_with(Some("creating"), None);
        d.snapshots.fail_next(
            "DescribeSnapshots",
            BackupError::Throttled {
                message: "x".into(),
                source: None,
            },
        );
        assert_eq!(
            function_handler(event(), &d)
                .await
                .unwrap_err()
                .error_type(),
            "Throttled"
        );
    }

    #[tokio::test]
    async fn a_document_without_snapshot_is_invalid_input() {
        let mut ev = event();
        ev.payload.snapshot = None;
        let err = function_handler(ev, &deps_with(Some("creating"), None))
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "InvalidInput");
    }
}
