//! CreateSnapshot step: validate the input → resolve the target → CreateSnapshot of the node chosen now, or resume
//! this run's own snapshot (a retried step or a duplicated start of the execution finds it by its deterministic
//! name). Which node, and what cannot be backed up, is decided by [`backup_core::target`].

use backup_core::backup::export;
use backup_core::backup::history;
use backup_core::backup::ownership::{snapshot_of_run, tagged_by_execution};
use backup_core::backup::run::Source;
use backup_core::backup::start::{self, Started, account_of};
use backup_core::backup::target::{self, Resolved};
use backup_core::ports::{ExportBucket, ExportStore, Groups, ObjectReader, Snapshots};
use backup_core::resources::{CreateOutcome, SnapshotInfo};
use backup_core::{BackupError, BackupRun, Clock, Deps, backup::input};
use lambda_runtime::LambdaEvent;

/// The state name this handler serves, used for timings.
pub const STEP: &str = "CreateSnapshot";

/// Handles one CreateSnapshot invocation: returns the run document with `request`, `snapshotName`, `exportName`,
/// `source`, `snapshot` (status `creating`, deadline) and `poll.waitSeconds` set.
///
/// # Errors
/// `InvalidInput` (also: the bucket does not exist or is in another region), `ExportRejected` (the bucket is another
/// account's, or does not let ElastiCache write: checked before anything is created), `TargetNotFound`,
/// `NotSupported`, `ClusterBusy`, `SnapshotQuotaExceeded`, `SnapshotFailed` (a
/// snapshot of this run's name belongs to another target), `Throttled`, `AwsError`.
#[tracing::instrument(skip_all, fields(execution = %event.payload.execution.name))]
pub async fn function_handler<
    S: Snapshots + Groups,
    E: ExportBucket + ExportStore + ObjectReader,
    C: Clock,
>(
    event: LambdaEvent<BackupRun>,
    deps: &Deps<S, E, (), C>,
) -> Result<BackupRun, BackupError> {
    let account = account_of(&event.context.invoked_function_arn);
    let mut run = event.payload;
    let started = deps.clock.now();
    let req = input::validate(&run.input, &deps.config)?;
    let (execution_id, snapshot_name) = start::run_names(&run, &req)?;
    let resolution = target::resolve(&req.target, &deps.snapshots).await?;
    let mut warnings = resolution.warnings;
    // Preflight, before anything is created: a bucket ElastiCache cannot export to would otherwise be found only
    // after a snapshot was taken (kept, and one of the node's 20 manual snapshots a day spent, every night).
    let facts = deps
        .exports
        .bucket_facts(&req.bucket, account.as_deref())
        .await?;
    if let Some(region) = &deps.config.region {
        warnings.extend(export::preflight(&req.bucket, &facts, region)?);
    }
    let snapshots = &deps.snapshots;
    let resolved = &resolution.resolved;
    let start = start_or_resume(
        &snapshot_name,
        &execution_id,
        resolved,
        snapshots,
        &mut warnings,
    )
    .await?;
    let (source, resumed) = (&start.source, start.resumed);
    tracing::info!(snapshot_name = %snapshot_name, source = source.name(), role = %source.role, resumed,
        "snapshot {}", if resumed { "resumed" } else { "started" });
    for w in &warnings {
        tracing::warn!(snapshot_name = %snapshot_name, "{w}");
    }
    let now = deps.clock.now();
    let target_id = source.target_id();
    if !resumed {
        // Per-target staleness alarms count started runs (embedded metric format: one line on stdout).
        println!("{}", backup_core::metrics::run_started(&target_id, now));
    }
    // The target's previous verified backup says how long its snapshot and export took: plan the checks around it.
    let requested_id = req.target.kind_and_id().1;
    let history = history::previous(&deps.exports, &req.bucket, requested_id, &target_id).await;
    start::record_start(&mut run, req, snapshot_name, start, history, warnings, now);
    run.record_timing(STEP, started, deps.clock.now());
    Ok(run)
}

/// Resumes this run's snapshot if it exists (also when a duplicate wins the race to create it), else creates one of the
/// node chosen now, tagged [`SNAPSHOT_TAG`](backup_core::naming::SNAPSHOT_TAG) = the execution (the sweeper deletes
/// only snapshots so tagged).
async fn start_or_resume<S: Snapshots + Groups>(
    name: &str,
    execution_id: &str,
    resolved: &Resolved,
    snapshots: &S,
    warnings: &mut Vec<String>,
) -> Result<Started, BackupError> {
    let serverless = matches!(resolved, Resolved::Serverless(_));
    if let Some(existing) = snapshot_of_run(snapshots, serverless, name).await? {
        return resume(name, execution_id, existing, resolved, snapshots).await;
    }
    let choice = resolved.choose_node(snapshots).await?;
    warnings.extend(choice.warnings);
    let tags = start::snapshot_tags(execution_id, resolved);
    match snapshots
        .create_snapshot(name, &choice.target, &tags)
        .await?
    {
        CreateOutcome::Created(info) => Ok(Started {
            status: info.status,
            resumed: false,
            source: choice.source,
            taken: None,
        }),
        CreateOutcome::AlreadyExists => {
            // Lost a race with a duplicate of this execution: find and resume that snapshot.
            let existing = snapshot_of_run(snapshots, serverless, name)
                .await?
                .ok_or_else(|| start::vanished(name))?;
            resume(name, execution_id, existing, resolved, snapshots).await
        }
    }
}

/// Resumes `existing` (a snapshot of this run's name) only when it is this execution's: tagged
/// [`SNAPSHOT_TAG`](backup_core::naming::SNAPSHOT_TAG) = `execution_id` and of this run's target. Anything else is
/// `SnapshotFailed`, and the snapshot is not touched.
async fn resume<S: Snapshots + Groups>(
    name: &str,
    execution_id: &str,
    existing: SnapshotInfo,
    resolved: &Resolved,
    snapshots: &S,
) -> Result<Started, BackupError> {
    if !tagged_by_execution(snapshots, &existing, execution_id).await? {
        return Err(start::not_this_runs(name));
    }
    let source: Source = resolved.adopt(&existing, snapshots).await?;
    Ok(Started {
        status: existing.status,
        resumed: true,
        source,
        taken: existing.created,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use backup_core::Config;
    use backup_core::model::SnapshotStatus;
    use backup_core::model::{ClusterMode, NodeRole};
    use backup_core::naming::TargetKind;
    use backup_core::naming::{self, SNAPSHOT_TAG, SOURCE_CREATED_TAG};
    use backup_core::resources::SnapshotInfo;
    use backup_core::testing::{FakeExportStore, FakeSnapshots, FixedClock};
    use lambda_runtime::Context;
    use time::macros::datetime;

    const CMD_EVENT: &str =
        include_str!("../../../events/create-snapshot/cluster-mode-disabled.json");
    const CME_EVENT: &str =
        include_str!("../../../events/create-snapshot/cluster-mode-enabled.json");
    const INVALID_EVENT: &str = include_str!("../../../events/create-snapshot/invalid-input.json");
    const SERVERLESS_EVENT: &str = include_str!("../../../events/create-snapshot/serverless.json");

    fn deps(snapshots: FakeSnapshots) -> Deps<FakeSnapshots, FakeExportStore, (), FixedClock> {
        Deps {
            snapshots,
            exports: FakeExportStore::with_bucket("acme-cache-backups"),
            verifier: (),
            clock: FixedClock::at(datetime!(2026-11-22 03:00:05 UTC)),
            probe: (),
            secrets: (),
            config: Config::default(),
        }
    }

    fn event(json: &str) -> LambdaEvent<BackupRun> {
        LambdaEvent::new(serde_json::from_str(json).unwrap(), Context::default())
    }

    /// `orders` with an available primary and replica.
    fn healthy_orders() -> Deps<FakeSnapshots, FakeExportStore, (), FixedClock> {
        orders(&[
            ("orders-001", "primary", "available"),
            ("orders-002", "replica", "available"),
        ])
    }

    fn orders(
        members: &[(&str, &str, &str)],
    ) -> Deps<FakeSnapshots, FakeExportStore, (), FixedClock> {
        deps(FakeSnapshots::cluster_mode_disabled("orders", members))
    }

    #[tokio::test]
    async fn snapshots_the_available_replica_of_a_cluster_mode_disabled_group() {
        let d = healthy_orders();
        let run = function_handler(event(CMD_EVENT), &d).await.unwrap();

        let source = run.source.as_ref().unwrap();
        assert_eq!(source.cache_cluster_id.as_deref(), Some("orders-002"));
        assert_eq!(source.role, NodeRole::Replica);
        assert_eq!(source.shard_count, 1);
        let creates = d.snapshots.calls_of("CreateSnapshot");
        assert_eq!(creates.len(), 1);
        assert!(
            creates[0].contains("CacheCluster(\"orders-002\")"),
            "{creates:?}"
        );
        // Tagged as this execution's: the sweeper deletes only snapshots so tagged.
        let name = run.snapshot_name.clone().unwrap();
        // And with the source's creation time: the sweeper's identity of the target.
        assert_eq!(
            d.snapshots.0.lock().unwrap().tags[&name],
            [
                (SNAPSHOT_TAG.to_string(), run.execution.id.clone().unwrap()),
                (
                    SOURCE_CREATED_TAG.to_string(),
                    "2026-01-05T10:00:00Z".to_string()
                )
            ]
        );
        assert_eq!(
            run.source.as_ref().unwrap().created_at,
            Some(backup_core::testing::FAKE_CREATED)
        );
        let snap = run.snapshot.as_ref().unwrap();
        assert_eq!(snap.status, SnapshotStatus::Creating);
        assert_eq!(snap.deadline, datetime!(2026-11-22 04:00:05 UTC));
        assert!(!snap.resumed);
        assert_eq!(run.poll.wait_seconds, backup_core::poll::MIN_WAIT_SECONDS);
        assert!(
            run.snapshot_name
                .as_deref()
                .unwrap()
                .starts_with("ecb-orders-")
        );
        assert_eq!(run.export_name, run.snapshot_name);
        assert!(run.warnings.is_empty(), "{:?}", run.warnings);
        assert_eq!(run.timings[STEP].invocations, 1);
    }

    #[tokio::test]
    async fn a_serverless_cache_gets_a_serverless_snapshot_tagged_as_this_executions() {
        let d = deps(FakeSnapshots::serverless("sessions", "valkey"));
        let run = function_handler(event(SERVERLESS_EVENT), &d).await.unwrap();

        let source = run.source.as_ref().unwrap();
        assert_eq!(source.serverless_cache_name.as_deref(), Some("sessions"));
        assert!(source.replication_group_id.is_none() && source.cache_cluster_id.is_none());
        assert_eq!(
            (source.role, source.cluster_mode),
            (NodeRole::Group, ClusterMode::Enabled)
        );
        // How many objects the export writes is learnt from S3.
        assert_eq!(source.shard_count, 0);
        assert_eq!(source.target_id(), "sessions");
        assert!(d.snapshots.calls_of("CreateSnapshot").is_empty());
        let creates = d.snapshots.calls_of("CreateServerlessCacheSnapshot");
        let name = run.snapshot_name.clone().unwrap();
        assert_eq!(
            creates,
            [format!("CreateServerlessCacheSnapshot {name} sessions")]
        );
        assert_eq!(
            name,
            naming::snapshot_name(
                TargetKind::ServerlessCache,
                "sessions",
                run.execution.id.as_deref().unwrap()
            )
        );
        assert_eq!(
            d.snapshots.0.lock().unwrap().tags[&name][0],
            (SNAPSHOT_TAG.to_string(), run.execution.id.clone().unwrap())
        );
        assert_eq!(
            serde_json::to_value(&run.request.as_ref().unwrap().target).unwrap(),
            serde_json::json!({"serverlessCacheName": "sessions"})
        );
        assert_eq!(
            run.snapshot.as_ref().unwrap().status,
            SnapshotStatus::Creating
        );
    }

    #[tokio::test]
    async fn a_duplicate_start_resumes_the_serverless_snapshot_of_its_name() {
        let d = deps(FakeSnapshots::serverless("sessions", "redis"));
        let first = function_handler(event(SERVERLESS_EVENT), &d).await.unwrap();
        let name = first.snapshot_name.clone().unwrap();
        d.snapshots
            .set_serverless_snapshot_status(&name, "available");
        let again = function_handler(event(SERVERLESS_EVENT), &d).await.unwrap();
        assert!(again.snapshot.as_ref().unwrap().resumed);
        assert_eq!(
            again.snapshot.as_ref().unwrap().status,
            SnapshotStatus::Available
        );
        assert_eq!(
            d.snapshots.calls_of("CreateServerlessCacheSnapshot").len(),
            1
        );
        // A race lost to a duplicate: the create call says it exists, the snapshot is found and resumed.
        let d = deps(FakeSnapshots::serverless("sessions", "redis"));
        d.snapshots.0.lock().unwrap().describe_misses = 1;
        d.snapshots.insert_serverless_snapshot(SnapshotInfo {
            name: name.clone(),
            status: "creating".into(),
            serverless_cache_name: Some("sessions".into()),
            ..Default::default()
        });
        d.snapshots.tag(
            &name,
            &[(SNAPSHOT_TAG, first.execution.id.as_deref().unwrap())],
        );
        let raced = function_handler(event(SERVERLESS_EVENT), &d).await.unwrap();
        assert!(raced.snapshot.as_ref().unwrap().resumed);
    }

    #[tokio::test]
    async fn a_serverless_snapshot_of_this_name_but_another_cache_or_execution_is_not_touched() {
        let d = deps(FakeSnapshots::serverless("sessions", "redis"));
        let name = naming::snapshot_name(
            TargetKind::ServerlessCache,
            "sessions",
            "arn:aws:states:eu-west-1:123456789012:execution:elasticache-backup:nightly-2026-11-22",
        );
        d.snapshots.insert_serverless_snapshot(SnapshotInfo {
            name: name.clone(),
            status: "available".into(),
            serverless_cache_name: Some("sessions".into()),
            ..Default::default()
        });
        // Not tagged as this execution's.
        let err = function_handler(event(SERVERLESS_EVENT), &d)
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "SnapshotFailed", "{err}");
        d.snapshots.tag(
            &name,
            &[(SNAPSHOT_TAG, "arn:aws:states:eu-west-1:123456789012:execution:elasticache-backup:nightly-2026-11-22")],
        );
        d.snapshots
            .0
            .lock()
            .unwrap()
            .serverless_snapshots
            .get_mut(&name)
            .unwrap()
            .serverless_cache_name = Some("other".into());
        let err = function_handler(event(SERVERLESS_EVENT), &d)
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "SnapshotFailed", "{err}");
        assert!(err.to_string().contains("other"), "{err}");
        assert!(
            d.snapshots
                .calls_of("CreateServerlessCacheSnapshot")
                .is_empty()
        );
    }

    #[tokio::test]
    async fn serverless_refusals_are_named_before_anything_is_created() {
        // Memcached: its snapshots cannot be exported.
        let d = deps(FakeSnapshots::serverless("sessions", "memcached"));
        let err = function_handler(event(SERVERLESS_EVENT), &d)
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "NotSupported", "{err}");
        assert!(err.to_string().contains("Memcached"), "{err}");
        // Not available (e.g. modifying): busy, retried by the state machine.
        let d = deps(FakeSnapshots::serverless("sessions", "redis"));
        d.snapshots.set_serverless_status("sessions", "MODIFYING");
        let err = function_handler(event(SERVERLESS_EVENT), &d)
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "ClusterBusy", "{err}");
        // No such cache.
        let d = deps(FakeSnapshots::default());
        let err = function_handler(event(SERVERLESS_EVENT), &d)
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "TargetNotFound", "{err}");
        assert!(
            d.snapshots
                .calls_of("CreateServerlessCacheSnapshot")
                .is_empty()
        );
        // ElastiCache's answers keep their names: busy and the 24-a-day quota.
        let d = deps(FakeSnapshots::serverless("sessions", "redis"));
        d.snapshots.fail_next(
            "CreateServerlessCacheSnapshot",
            BackupError::SnapshotQuotaExceeded {
                message: "ServerlessCacheSnapshotQuotaExceededFault".into(),
                source: None,
            },
        );
        let err = function_handler(event(SERVERLESS_EVENT), &d)
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "SnapshotQuotaExceeded", "{err}");
        // A bad name is refused by the input check, before any call.
        let mut bad = event(SERVERLESS_EVENT);
        bad.payload.input = serde_json::json!({"serverlessCacheName": "-sessions"});
        let d = deps(FakeSnapshots::serverless("sessions", "redis"));
        let err = function_handler(bad, &d).await.unwrap_err();
        assert_eq!(err.error_type(), "InvalidInput", "{err}");
        assert!(err.to_string().contains("serverlessCacheName"), "{err}");
        assert!(d.snapshots.calls().is_empty(), "{:?}", d.snapshots.calls());
    }

    #[tokio::test]
    async fn a_bucket_elasticache_cannot_export_to_is_refused_before_any_snapshot() {
        use backup_core::resources::BucketFacts;
        // Missing bucket: InvalidInput naming the field.
        let mut d = healthy_orders();
        d.exports = FakeExportStore::default();
        let err = function_handler(event(CMD_EVENT), &d).await.unwrap_err();
        assert_eq!(err.error_type(), "InvalidInput");
        assert!(err.to_string().contains("bucket"), "{err}");
        assert!(d.snapshots.calls_of("CreateSnapshot").is_empty());

        // Present, in the region, but no grant for ElastiCache: ExportRejected.
        let mut d = healthy_orders();
        d.config.region = Some("us-east-1".into());
        d.exports.facts.lock().unwrap().insert(
            "acme-cache-backups".into(),
            BucketFacts {
                region: "us-east-1".into(),
                ..BucketFacts::default()
            },
        );
        let err = function_handler(event(CMD_EVENT), &d).await.unwrap_err();
        assert_eq!(err.error_type(), "ExportRejected", "{err}");
        assert!(d.snapshots.calls_of("CreateSnapshot").is_empty());

        // In another region: InvalidInput.
        let mut d = healthy_orders();
        d.config.region = Some("eu-west-1".into());
        let err = function_handler(event(CMD_EVENT), &d).await.unwrap_err();
        assert_eq!(err.error_type(), "InvalidInput", "{err}");
        assert!(d.snapshots.calls_of("CreateSnapshot").is_empty());
    }

    #[tokio::test]
    async fn the_previous_verified_backup_plans_the_first_check() {
        let d = healthy_orders();
        let run = function_handler(event(CMD_EVENT), &d).await.unwrap();
        assert_eq!(run.history, None, "no earlier backup");
        assert_eq!(run.poll.wait_seconds, backup_core::poll::MIN_WAIT_SECONDS);

        let manifest = serde_json::json!({
            "manifestVersion": 3, "tool": "elasticache-backup", "snapshotName": "ecb-orders-1", "exportName": "ecb-orders-1",
            "bucket": "acme-cache-backups",
            "source": {"replicationGroupId": "orders", "role": "replica", "clusterMode": "disabled", "shardCount": 1},
            "execution": {"name": "x"},
            "snapshot": {"status": "available", "resumed": false, "startedAt": "2026-11-21T03:00:00Z",
                         "deadline": "2026-11-21T04:00:00Z", "availableAt": "2026-11-21T03:10:00Z"},
            "export": {"startedAt": "2026-11-21T03:10:05Z", "completedAt": "2026-11-21T03:13:05Z"},
            "verifiedAt": "2026-11-21T03:14:00Z",
            "totals": {"objects": 0, "keys": 0, "keysWithExpiry": 0, "bytes": 0}, "objects": [], "timings": {}
        });
        let d = healthy_orders();
        d.exports.put_bytes(
            "acme-cache-backups",
            "ecb-orders-1.manifest.json",
            manifest.to_string().into_bytes(),
            datetime!(2026-11-21 03:14 UTC),
        );
        let run = function_handler(event(CMD_EVENT), &d).await.unwrap();
        let history = run.history.as_ref().unwrap();
        assert_eq!(
            (history.snapshot_seconds, history.export_seconds),
            (Some(600), Some(180))
        );
        assert_eq!(
            run.poll.wait_seconds, 300,
            "first check at half the expected 600 s"
        );
    }

    #[tokio::test]
    async fn picks_the_replica_by_current_role_not_by_name() {
        // After a failover -001 is the replica and -002 the primary.
        let d = orders(&[
            ("orders-001", "replica", "available"),
            ("orders-002", "primary", "available"),
        ]);
        let run = function_handler(event(CMD_EVENT), &d).await.unwrap();
        assert_eq!(
            run.source.unwrap().cache_cluster_id.as_deref(),
            Some("orders-001")
        );
    }

    #[tokio::test]
    async fn skips_a_replica_that_is_not_available() {
        let d = orders(&[
            ("orders-001", "primary", "available"),
            ("orders-002", "replica", "modifying"),
            ("orders-003", "replica", "available"),
        ]);
        let run = function_handler(event(CMD_EVENT), &d).await.unwrap();
        assert_eq!(
            run.source.unwrap().cache_cluster_id.as_deref(),
            Some("orders-003")
        );
    }

    #[tokio::test]
    async fn falls_back_to_the_primary_with_a_warning_when_no_replica() {
        let d = orders(&[("orders-001", "primary", "available")]);
        let run = function_handler(event(CMD_EVENT), &d).await.unwrap();
        let source = run.source.unwrap();
        assert_eq!(
            (source.cache_cluster_id.as_deref(), source.role),
            (Some("orders-001"), NodeRole::Primary)
        );
        assert_eq!(run.warnings.len(), 1);
        assert!(
            run.warnings[0].contains("primary orders-001"),
            "{:?}",
            run.warnings
        );
    }

    #[tokio::test]
    async fn cluster_mode_enabled_snapshots_the_group() {
        let d = deps(FakeSnapshots::cluster_mode_enabled("sessions", 3));
        let run = function_handler(event(CME_EVENT), &d).await.unwrap();
        let source = run.source.as_ref().unwrap();
        assert_eq!(
            (source.cluster_mode, source.role),
            (ClusterMode::Enabled, NodeRole::Group)
        );
        assert_eq!(source.shard_count, 3);
        assert_eq!(source.cache_cluster_id, None);
        assert!(
            d.snapshots.calls_of("CreateSnapshot")[0].contains("ReplicationGroup(\"sessions\")")
        );
        assert_eq!(
            run.snapshot.unwrap().deadline,
            datetime!(2026-11-22 05:00:05 UTC)
        );
    }

    #[tokio::test]
    async fn invalid_input_fails_before_any_aws_call() {
        let d = orders(&[("orders-001", "primary", "available")]);
        let err = function_handler(event(INVALID_EVENT), &d)
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "InvalidInput");
        assert!(err.to_string().contains("replicationGroupID"), "{err}");
        assert!(d.snapshots.calls().is_empty());
    }

    #[tokio::test]
    async fn missing_execution_name_is_invalid_input() {
        let d = orders(&[("orders-001", "primary", "available")]);
        let mut ev = event(CMD_EVENT);
        ev.payload.execution.name.clear();
        let err = function_handler(ev, &d).await.unwrap_err();
        assert!(err.to_string().contains("execution.name"), "{err}");
    }

    #[tokio::test]
    async fn busy_group_maps_to_cluster_busy_without_creating() {
        let d = healthy_orders();
        d.snapshots
            .0
            .lock()
            .unwrap()
            .replication_groups
            .get_mut("orders")
            .unwrap()
            .status = "snapshotting".into();
        let err = function_handler(event(CMD_EVENT), &d).await.unwrap_err();
        assert_eq!(err.error_type(), "ClusterBusy");
        assert!(d.snapshots.calls_of("CreateSnapshot").is_empty());
    }

    #[tokio::test]
    async fn busy_primary_without_replica_maps_to_cluster_busy() {
        let d = orders(&[("orders-001", "primary", "snapshotting")]);
        assert_eq!(
            function_handler(event(CMD_EVENT), &d)
                .await
                .unwrap_err()
                .error_type(),
            "ClusterBusy"
        );
    }

    #[tokio::test]
    async fn create_errors_pass_through_with_their_names() {
        for err in [
            BackupError::ClusterBusy {
                message: "InvalidCacheClusterState".into(),
                source: None,
            },
            BackupError::SnapshotQuotaExceeded {
                message: "quota".into(),
                source: None,
            },
            BackupError::Throttled {
                message: "Rate exceeded".into(),
                source: None,
            },
        ] {
            let name = err.error_type();
            let d = healthy_orders();
            d.snapshots.fail_next("CreateSnapshot", err);
            assert_eq!(
                function_handler(event(CMD_EVENT), &d)
                    .await
                    .unwrap_err()
                    .error_type(),
                name
            );
        }
    }

    #[tokio::test]
    async fn unknown_group_is_target_not_found() {
        let d = deps(FakeSnapshots::default());
        assert_eq!(
            function_handler(event(CMD_EVENT), &d)
                .await
                .unwrap_err()
                .error_type(),
            "TargetNotFound"
        );
    }

    #[tokio::test]
    async fn memcached_and_data_tiering_are_refused_before_create() {
        let d = deps(FakeSnapshots::standalone("memo", "memcached"));
        let mut ev = event(CMD_EVENT);
        ev.payload.input =
            serde_json::json!({"cacheClusterId": "memo", "bucket": "acme-cache-backups"});
        assert_eq!(
            function_handler(ev, &d).await.unwrap_err().error_type(),
            "NotSupported"
        );

        let d = healthy_orders();
        d.snapshots
            .0
            .lock()
            .unwrap()
            .replication_groups
            .get_mut("orders")
            .unwrap()
            .data_tiering = true;
        let err = function_handler(event(CMD_EVENT), &d).await.unwrap_err();
        assert_eq!(err.error_type(), "NotSupported");
        assert!(err.to_string().contains("data tiering"), "{err}");
        assert!(d.snapshots.calls_of("CreateSnapshot").is_empty());
    }

    #[tokio::test]
    async fn a_repeated_create_resumes_its_own_snapshot() {
        let d = healthy_orders();
        let first = function_handler(event(CMD_EVENT), &d).await.unwrap();
        // The group now reads `snapshotting` because of our own snapshot.
        d.snapshots
            .0
            .lock()
            .unwrap()
            .replication_groups
            .get_mut("orders")
            .unwrap()
            .status = "snapshotting".into();
        let second = function_handler(event(CMD_EVENT), &d).await.unwrap();

        assert_eq!(first.snapshot_name, second.snapshot_name);
        assert!(second.snapshot.as_ref().unwrap().resumed);
        assert_eq!(
            second.source.as_ref().unwrap().cache_cluster_id.as_deref(),
            Some("orders-002")
        );
        assert_eq!(second.source.as_ref().unwrap().role, NodeRole::Replica);
        assert_eq!(d.snapshots.calls_of("CreateSnapshot").len(), 1);
    }

    /// The snapshot name this run's event leads to.
    fn our_snapshot_name() -> String {
        naming::snapshot_name(
            TargetKind::ReplicationGroup,
            "orders",
            "arn:aws:states:eu-west-1:123456789012:execution:elasticache-backup:nightly-2026-11-22",
        )
    }

    #[tokio::test]
    async fn losing_a_create_race_resumes() {
        let d = healthy_orders();
        // A duplicate of this execution creates the snapshot between our DescribeSnapshots and our CreateSnapshot.
        d.snapshots.insert_snapshot(SnapshotInfo {
            name: our_snapshot_name(),
            status: "creating".into(),
            replication_group_id: Some("orders".into()),
            cache_cluster_id: Some("orders-002".into()),
            num_node_groups: Some(1),
            node_snapshot_count: 1,
            ..Default::default()
        });
        d.snapshots.tag(
            &our_snapshot_name(),
            &[(SNAPSHOT_TAG, "arn:aws:states:eu-west-1:123456789012:execution:elasticache-backup:nightly-2026-11-22")],
        );
        d.snapshots.0.lock().unwrap().describe_misses = 1;

        let run = function_handler(event(CMD_EVENT), &d).await.unwrap();

        assert_eq!(d.snapshots.calls_of("CreateSnapshot").len(), 1);
        assert_eq!(d.snapshots.0.lock().unwrap().snapshots.len(), 1);
        let snap = run.snapshot.unwrap();
        assert!(snap.resumed);
        assert_eq!(snap.status, SnapshotStatus::Creating);
        assert_eq!(run.source.unwrap().role, NodeRole::Replica);
    }

    #[tokio::test]
    async fn a_resumed_snapshot_keeps_its_own_creation_time_as_the_data_time() {
        let d = healthy_orders();
        let taken = datetime!(2026-11-22 03:00:01 UTC);
        d.snapshots.insert_snapshot(SnapshotInfo {
            name: our_snapshot_name(),
            status: "creating".into(),
            replication_group_id: Some("orders".into()),
            cache_cluster_id: Some("orders-002".into()),
            created: Some(taken),
            ..Default::default()
        });
        d.snapshots.tag(
            &our_snapshot_name(),
            &[(SNAPSHOT_TAG, "arn:aws:states:eu-west-1:123456789012:execution:elasticache-backup:nightly-2026-11-22")],
        );
        let run = function_handler(event(CMD_EVENT), &d).await.unwrap();
        let snap = run.snapshot.unwrap();
        assert!(snap.resumed);
        assert_eq!(snap.started_at, taken);
    }

    #[tokio::test]
    async fn a_snapshot_of_the_same_name_from_another_target_is_not_adopted() {
        let d = healthy_orders();
        d.snapshots.insert_snapshot(SnapshotInfo {
            name: our_snapshot_name(),
            status: "available".into(),
            cache_cluster_id: Some("other".into()),
            ..Default::default()
        });
        let err = function_handler(event(CMD_EVENT), &d).await.unwrap_err();
        assert_eq!(err.error_type(), "SnapshotFailed");
        assert!(d.snapshots.calls_of("CreateSnapshot").is_empty());
    }

    #[tokio::test]
    async fn a_snapshot_of_our_name_not_tagged_by_this_execution_is_not_adopted() {
        // Same name and same target, but not this execution's tag (none, or another execution's).
        for tags in [
            vec![],
            vec![(
                SNAPSHOT_TAG,
                "arn:aws:states:eu-west-1:123456789012:execution:elasticache-backup:other",
            )],
        ] {
            let d = healthy_orders();
            d.snapshots.insert_snapshot(SnapshotInfo {
                name: our_snapshot_name(),
                status: "available".into(),
                replication_group_id: Some("orders".into()),
                cache_cluster_id: Some("orders-002".into()),
                ..Default::default()
            });
            d.snapshots.tag(&our_snapshot_name(), &tags);
            let err = function_handler(event(CMD_EVENT), &d).await.unwrap_err();
            assert_eq!(err.error_type(), "SnapshotFailed", "{err}");
            assert!(err.to_string().contains("not tagged"), "{err}");
            assert!(d.snapshots.calls_of("CreateSnapshot").is_empty());
        }
    }

    #[tokio::test]
    async fn a_member_cache_cluster_id_backs_up_its_group_from_a_replica() {
        let d = healthy_orders();
        let mut ev = event(CMD_EVENT);
        ev.payload.input =
            serde_json::json!({"cacheClusterId": "orders-001", "bucket": "acme-cache-backups"});
        let run = function_handler(ev, &d).await.unwrap();
        assert_eq!(
            run.source.unwrap().cache_cluster_id.as_deref(),
            Some("orders-002")
        );
        assert!(
            run.warnings[0].contains("member of replication group orders"),
            "{:?}",
            run.warnings
        );
    }
}
