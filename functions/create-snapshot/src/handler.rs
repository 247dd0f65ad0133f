//! CreateSnapshot step: validate → resolve the node → CreateSnapshot (or resume this run's own snapshot).
//!
//! Node choice (ElastiCache User Guide, "Making manual backups" and "Improving backup performance"):
//! - cluster mode **disabled**: a member with `CurrentRole = replica` whose cluster status is `available`, read now
//!   (failovers move roles); none → the primary, with a warning. Snapshot by `CacheClusterId` of that node.
//! - cluster mode **enabled**: by `ReplicationGroupId` (no shard-level backups exist).
//! - a standalone cluster: by its `CacheClusterId` (its only node), with a warning.
//!
//! Memcached and data tiering cannot be exported to S3 (ElastiCache User Guide, "Exporting a backup"): refused as
//! `NotSupported` before anything is created.

use backup_core::naming::{self, TargetKind};
use backup_core::poll::next_wait_seconds;
use backup_core::ports::{
    CacheClusterInfo, CreateOutcome, ReplicationGroupInfo, SnapshotInfo, SnapshotTarget, Snapshots,
};
use backup_core::run::{Poll, SnapshotProgress, Source, TargetRef};
use backup_core::{BackupError, BackupRun, Clock, Config, request};
use lambda_runtime::LambdaEvent;
use time::Duration;

/// The state name this handler serves, used for timings.
pub const STEP: &str = "CreateSnapshot";

/// What the handler needs: the ElastiCache port, a clock and the function configuration.
pub struct Deps<S, C> {
    /// ElastiCache.
    pub snapshots: S,
    /// Wall clock.
    pub clock: C,
    /// Defaults for the request.
    pub config: Config,
}

/// Handles one CreateSnapshot invocation: returns the run document with `request`, `snapshotName`, `exportName`,
/// `source`, `snapshot` (status `creating`, deadline) and `poll.waitSeconds` set.
///
/// # Errors
/// `InvalidInput`, `TargetNotFound`, `NotSupported`, `ClusterBusy`, `SnapshotQuotaExceeded`, `SnapshotFailed` (a
/// snapshot of this run's name belongs to another target), `Throttled`, `AwsError`.
#[tracing::instrument(skip_all, fields(execution = %event.payload.execution.name))]
pub async fn function_handler<S: Snapshots, C: Clock>(
    event: LambdaEvent<BackupRun>,
    deps: &Deps<S, C>,
) -> Result<BackupRun, BackupError> {
    let mut run = event.payload;
    let started = deps.clock.now();

    let req = request::validate(&run.input, &deps.config)?;
    if run.execution.name.trim().is_empty() {
        return Err(BackupError::invalid_input(
            "execution.name",
            "is missing: the state machine's first state must pass $$.Execution.Name",
        ));
    }
    let execution_id = run
        .execution
        .id
        .clone()
        .unwrap_or_else(|| run.execution.name.clone());
    let (kind, requested_id) = match &req.target {
        TargetRef::ReplicationGroupId(id) => (TargetKind::ReplicationGroup, id.as_str()),
        TargetRef::CacheClusterId(id) => (TargetKind::CacheCluster, id.as_str()),
    };
    let snapshot_name = naming::snapshot_name(kind, requested_id, &execution_id);
    let mut warnings = Vec::new();
    let resolved = lookup(&req.target, &deps.snapshots, &mut warnings).await?;
    refuse_unsupported(&resolved)?;

    let (status, resumed, source) = match deps.snapshots.snapshot(&snapshot_name).await? {
        Some(existing) => resume(&snapshot_name, existing, &resolved, &deps.snapshots).await?,
        None => {
            let (target, source) = choose(&resolved, &deps.snapshots, &mut warnings).await?;
            match deps
                .snapshots
                .create_snapshot(&snapshot_name, &target)
                .await?
            {
                CreateOutcome::Created(info) => (non_empty(info.status, "creating"), false, source),
                CreateOutcome::AlreadyExists => {
                    // Lost a race with a duplicate of this execution: find and resume that snapshot.
                    let existing = deps.snapshots.snapshot(&snapshot_name).await?.ok_or_else(|| {
                        BackupError::SnapshotFailed {
                            message: format!("CreateSnapshot {snapshot_name}: exists, but DescribeSnapshots cannot find it"),
                        }
                    })?;
                    resume(&snapshot_name, existing, &resolved, &deps.snapshots).await?
                }
            }
        }
    };

    tracing::info!(
        snapshot_name = %snapshot_name,
        replication_group_id = source.replication_group_id.as_deref().unwrap_or("-"),
        cache_cluster_id = source.cache_cluster_id.as_deref().unwrap_or("-"),
        role = %source.role,
        resumed,
        "snapshot {}", if resumed { "resumed" } else { "started" }
    );
    for w in &warnings {
        tracing::warn!(snapshot_name = %snapshot_name, "{w}");
    }

    let now = deps.clock.now();
    let timeout = req.snapshot_timeout_seconds;
    run.snapshot = Some(SnapshotProgress {
        status,
        resumed,
        started_at: now,
        deadline: now + Duration::seconds(i64::try_from(timeout).unwrap_or(i64::MAX)),
        available_at: None,
    });
    run.export_name = Some(naming::export_name(&snapshot_name));
    run.snapshot_name = Some(snapshot_name);
    run.source = Some(source);
    run.poll = Poll {
        wait_seconds: next_wait_seconds(0, timeout),
        checks: 0,
    };
    run.warnings.extend(warnings);
    run.request = Some(req);
    run.record_timing(STEP, started, deps.clock.now());
    Ok(run)
}

/// What the requested id turned out to be.
#[derive(Debug)]
enum Resolved {
    Group(ReplicationGroupInfo),
    Standalone(CacheClusterInfo),
}

async fn lookup<S: Snapshots>(
    target: &TargetRef,
    snapshots: &S,
    warnings: &mut Vec<String>,
) -> Result<Resolved, BackupError> {
    match target {
        TargetRef::ReplicationGroupId(id) => {
            Ok(Resolved::Group(snapshots.replication_group(id).await?))
        }
        TargetRef::CacheClusterId(id) => {
            let cc = snapshots.cache_cluster(id).await?;
            match cc.replication_group_id.clone() {
                None => Ok(Resolved::Standalone(cc)),
                Some(rg) => {
                    warnings.push(format!(
                        "cacheClusterId {id} is a member of replication group {rg}: backing up the group, with the \
                         node chosen at run time (roles move on failover); pass replicationGroupId {rg} instead"
                    ));
                    Ok(Resolved::Group(snapshots.replication_group(&rg).await?))
                }
            }
        }
    }
}

fn refuse_unsupported(resolved: &Resolved) -> Result<(), BackupError> {
    let (id, engine, data_tiering) = match resolved {
        Resolved::Group(rg) => (&rg.id, rg.engine.as_deref(), rg.data_tiering),
        Resolved::Standalone(cc) => (&cc.id, cc.engine.as_deref(), false),
    };
    if engine.is_some_and(|e| e.eq_ignore_ascii_case("memcached")) {
        return Err(BackupError::NotSupported {
            message: format!(
                "{id} runs Memcached: node-based Memcached backups cannot be exported to S3"
            ),
            source: None,
        });
    }
    if data_tiering {
        return Err(BackupError::NotSupported {
            message: format!("{id} uses data tiering: ElastiCache cannot export its backups to S3"),
            source: None,
        });
    }
    Ok(())
}

fn busy(what: &str, id: &str, status: &str) -> BackupError {
    BackupError::ClusterBusy {
        message: format!("{what} {id} is {status}, not available"),
        source: None,
    }
}

/// Chooses what to snapshot now, reading roles and statuses at run time.
async fn choose<S: Snapshots>(
    resolved: &Resolved,
    snapshots: &S,
    warnings: &mut Vec<String>,
) -> Result<(SnapshotTarget, Source), BackupError> {
    match resolved {
        Resolved::Standalone(cc) => {
            if cc.status != "available" {
                return Err(busy("cache cluster", &cc.id, &cc.status));
            }
            warnings.push(format!(
                "cache cluster {} has no replica: snapshot taken from its only node",
                cc.id
            ));
            Ok((
                SnapshotTarget::CacheCluster(cc.id.clone()),
                Source {
                    replication_group_id: None,
                    cache_cluster_id: Some(cc.id.clone()),
                    role: "primary".into(),
                    cluster_mode: "disabled".into(),
                    engine: cc.engine.clone(),
                    engine_version: cc.engine_version.clone(),
                    shard_count: 1,
                },
            ))
        }
        Resolved::Group(rg) => {
            if rg.status != "available" {
                return Err(busy("replication group", &rg.id, &rg.status));
            }
            if rg.cluster_enabled {
                let first_node = rg.node_groups.iter().flat_map(|ng| &ng.members).next();
                let engine_version = match first_node {
                    Some(m) => {
                        snapshots
                            .cache_cluster(&m.cache_cluster_id)
                            .await?
                            .engine_version
                    }
                    None => None,
                };
                let shard_count = u32::try_from(rg.node_groups.len()).unwrap_or(u32::MAX);
                return Ok((
                    SnapshotTarget::ReplicationGroup(rg.id.clone()),
                    Source {
                        replication_group_id: Some(rg.id.clone()),
                        cache_cluster_id: None,
                        role: "group".into(),
                        cluster_mode: "enabled".into(),
                        engine: rg.engine.clone(),
                        engine_version,
                        shard_count,
                    },
                ));
            }
            let members = rg
                .node_groups
                .first()
                .map(|ng| ng.members.as_slice())
                .unwrap_or_default();
            let mut replicas: Vec<_> = members
                .iter()
                .filter(|m| m.current_role.as_deref() == Some("replica"))
                .collect();
            replicas.sort_by(|a, b| a.cache_cluster_id.cmp(&b.cache_cluster_id));
            let mut chosen: Option<(CacheClusterInfo, &str)> = None;
            let mut skipped = Vec::new();
            for r in replicas {
                let cc = snapshots.cache_cluster(&r.cache_cluster_id).await?;
                if cc.status == "available" {
                    chosen = Some((cc, "replica"));
                    break;
                }
                skipped.push(format!("{} ({})", cc.id, cc.status));
            }
            if chosen.is_none() {
                let primary = members
                    .iter()
                    .find(|m| m.current_role.as_deref() == Some("primary"))
                    .or_else(|| members.first())
                    .ok_or_else(|| BackupError::NotSupported {
                        message: format!("replication group {} reports no member nodes", rg.id),
                        source: None,
                    })?;
                let cc = snapshots.cache_cluster(&primary.cache_cluster_id).await?;
                if cc.status != "available" {
                    return Err(busy("primary node", &cc.id, &cc.status));
                }
                warnings.push(if skipped.is_empty() {
                    format!("replication group {} has no replica: snapshot taken from primary {}", rg.id, cc.id)
                } else {
                    format!(
                        "no available replica in replication group {} (skipped {}): snapshot taken from primary {}",
                        rg.id,
                        skipped.join(", "),
                        cc.id
                    )
                });
                chosen = Some((cc, "primary"));
            }
            let (cc, role) = chosen
                .ok_or_else(|| busy("replication group", &rg.id, "without an available node"))?;
            Ok((
                SnapshotTarget::CacheCluster(cc.id.clone()),
                Source {
                    replication_group_id: Some(rg.id.clone()),
                    cache_cluster_id: Some(cc.id.clone()),
                    role: role.into(),
                    cluster_mode: "disabled".into(),
                    engine: rg.engine.clone().or(cc.engine.clone()),
                    engine_version: cc.engine_version.clone(),
                    shard_count: 1,
                },
            ))
        }
    }
}

/// Adopts an existing snapshot of this run's name, after checking it is of this target.
async fn resume<S: Snapshots>(
    name: &str,
    existing: SnapshotInfo,
    resolved: &Resolved,
    snapshots: &S,
) -> Result<(String, bool, Source), BackupError> {
    let (group_id, standalone_id) = match resolved {
        Resolved::Group(rg) => (Some(rg.id.as_str()), None),
        Resolved::Standalone(cc) => (None, Some(cc.id.as_str())),
    };
    let same = |a: Option<&str>, b: Option<&str>| matches!((a, b), (Some(a), Some(b)) if a.eq_ignore_ascii_case(b));
    let ours = same(existing.replication_group_id.as_deref(), group_id)
        || same(existing.cache_cluster_id.as_deref(), standalone_id);
    if !ours {
        return Err(BackupError::SnapshotFailed {
            message: format!(
                "snapshot {name} already exists but is of {} — not this run's target; refusing to touch it",
                existing
                    .replication_group_id
                    .or(existing.cache_cluster_id)
                    .unwrap_or_else(|| "another source".into())
            ),
        });
    }
    let source = match resolved {
        Resolved::Standalone(cc) => Source {
            replication_group_id: None,
            cache_cluster_id: Some(cc.id.clone()),
            role: "primary".into(),
            cluster_mode: "disabled".into(),
            engine: cc.engine.clone(),
            engine_version: cc.engine_version.clone(),
            shard_count: 1,
        },
        Resolved::Group(rg) => {
            let node = existing.cache_cluster_id.clone();
            let role = match &node {
                None => "group".to_string(),
                Some(n) => rg
                    .node_groups
                    .iter()
                    .flat_map(|ng| &ng.members)
                    .find(|m| m.cache_cluster_id.eq_ignore_ascii_case(n))
                    .and_then(|m| m.current_role.clone())
                    .unwrap_or_else(|| "unknown".into()),
            };
            let engine_version = match &node {
                Some(n) => snapshots
                    .cache_cluster(n)
                    .await
                    .ok()
                    .and_then(|c| c.engine_version),
                None => None,
            };
            Source {
                replication_group_id: Some(rg.id.clone()),
                cache_cluster_id: node,
                role,
                cluster_mode: if rg.cluster_enabled {
                    "enabled"
                } else {
                    "disabled"
                }
                .into(),
                engine: rg.engine.clone(),
                engine_version,
                shard_count: existing
                    .num_node_groups
                    .unwrap_or_else(|| u32::try_from(rg.node_groups.len()).unwrap_or(1)),
            }
        }
    };
    Ok((non_empty(existing.status, "creating"), true, source))
}

fn non_empty(s: String, default: &str) -> String {
    if s.is_empty() { default.to_string() } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;
    use backup_core::testing::{FakeSnapshots, FixedClock};
    use lambda_runtime::Context;
    use time::macros::datetime;

    const CMD_EVENT: &str =
        include_str!("../../../events/create-snapshot/cluster-mode-disabled.json");
    const CME_EVENT: &str =
        include_str!("../../../events/create-snapshot/cluster-mode-enabled.json");
    const INVALID_EVENT: &str = include_str!("../../../events/create-snapshot/invalid-input.json");

    fn deps(snapshots: FakeSnapshots) -> Deps<FakeSnapshots, FixedClock> {
        Deps {
            snapshots,
            clock: FixedClock::at(datetime!(2026-11-22 03:00:05 UTC)),
            config: Config::default(),
        }
    }

    fn event(json: &str) -> LambdaEvent<BackupRun> {
        LambdaEvent::new(serde_json::from_str(json).unwrap(), Context::default())
    }

    fn orders(members: &[(&str, &str, &str)]) -> Deps<FakeSnapshots, FixedClock> {
        deps(FakeSnapshots::cluster_mode_disabled("orders", members))
    }

    #[tokio::test]
    async fn snapshots_the_available_replica_of_a_cluster_mode_disabled_group() {
        let d = orders(&[
            ("orders-001", "primary", "available"),
            ("orders-002", "replica", "available"),
        ]);
        let run = function_handler(event(CMD_EVENT), &d).await.unwrap();

        let source = run.source.as_ref().unwrap();
        assert_eq!(source.cache_cluster_id.as_deref(), Some("orders-002"));
        assert_eq!(source.role, "replica");
        assert_eq!(source.shard_count, 1);
        let creates = d.snapshots.calls_of("CreateSnapshot");
        assert_eq!(creates.len(), 1);
        assert!(
            creates[0].contains("CacheCluster(\"orders-002\")"),
            "{creates:?}"
        );
        let snap = run.snapshot.as_ref().unwrap();
        assert_eq!(snap.status, "creating");
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
            (source.cache_cluster_id.as_deref(), source.role.as_str()),
            (Some("orders-001"), "primary")
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
            (source.cluster_mode.as_str(), source.role.as_str()),
            ("enabled", "group")
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
        let d = orders(&[
            ("orders-001", "primary", "available"),
            ("orders-002", "replica", "available"),
        ]);
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
            let d = orders(&[
                ("orders-001", "primary", "available"),
                ("orders-002", "replica", "available"),
            ]);
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

        let d = orders(&[
            ("orders-001", "primary", "available"),
            ("orders-002", "replica", "available"),
        ]);
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
        let d = orders(&[
            ("orders-001", "primary", "available"),
            ("orders-002", "replica", "available"),
        ]);
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
        assert_eq!(second.source.as_ref().unwrap().role, "replica");
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
        let d = orders(&[
            ("orders-001", "primary", "available"),
            ("orders-002", "replica", "available"),
        ]);
        // A duplicate of this execution creates the snapshot between our DescribeSnapshots and our CreateSnapshot.
        d.snapshots.insert_snapshot(SnapshotInfo {
            name: our_snapshot_name(),
            status: "creating".into(),
            replication_group_id: Some("orders".into()),
            cache_cluster_id: Some("orders-002".into()),
            num_node_groups: Some(1),
            node_snapshot_count: 1,
        });
        d.snapshots.0.lock().unwrap().describe_misses = 1;

        let run = function_handler(event(CMD_EVENT), &d).await.unwrap();

        assert_eq!(d.snapshots.calls_of("CreateSnapshot").len(), 1);
        assert_eq!(d.snapshots.0.lock().unwrap().snapshots.len(), 1);
        let snap = run.snapshot.unwrap();
        assert!(snap.resumed);
        assert_eq!(snap.status, "creating");
        assert_eq!(run.source.unwrap().role, "replica");
    }

    #[tokio::test]
    async fn a_snapshot_of_the_same_name_from_another_target_is_not_adopted() {
        let d = orders(&[
            ("orders-001", "primary", "available"),
            ("orders-002", "replica", "available"),
        ]);
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
    async fn a_member_cache_cluster_id_backs_up_its_group_from_a_replica() {
        let d = orders(&[
            ("orders-001", "primary", "available"),
            ("orders-002", "replica", "available"),
        ]);
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
