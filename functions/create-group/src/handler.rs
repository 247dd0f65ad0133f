//! CreateGroup step (restore): `CreateReplicationGroup` seeded from the backup's S3 objects (`SnapshotArns`, one per
//! shard; `NodeGroupConfiguration` with `Slots` for cluster mode enabled) or from its kept ElastiCache snapshot
//! (`SnapshotName`), tagged with this execution's id. A retried step finds its own group by that tag and resumes; a
//! group of that id that is not its own is `TargetExists` and is never touched.
//!
//! A serverless target (`targetServerlessCacheName`): `CreateServerlessCache` with `SnapshotArnsToRestore` = the
//! kept snapshot's ARN, else the S3 object ARNs of the shard objects (whether S3 object ARNs are accepted there is
//! undocumented: see `backup_core::restore::new_serverless_cache`), tagged the same way and resumed the same way.

use backup_core::poll::next_wait_seconds;
use backup_core::ports::{Groups, Secrets, Snapshots};
use backup_core::resources::GroupCreateOutcome;
use backup_core::restore::{
    GroupStatus, RESTORE_TAG, RestoreProgress, RestoreRun, RestoreTarget, SeedFrom, auth_token,
    new_group, new_serverless_cache,
};
use backup_core::{BackupError, Clock, Deps};
use lambda_runtime::LambdaEvent;
use time::Duration;

/// The state name this handler serves, used for timings.
pub const STEP: &str = "CreateGroup";

/// Handles one CreateGroup invocation: sets `restore` (status `creating`, `created`, deadline) and `poll`.
///
/// # Errors
/// `RestoreRejected` (AWS refused the request; its message kept), `TargetExists`, `Throttled`, `AwsError`,
/// `InvalidInput` (document not from ResolveBackup).
#[tracing::instrument(skip_all, fields(execution = %event.payload.execution.name))]
pub async fn function_handler<S: Snapshots + Groups, C: Clock, K: Secrets>(
    event: LambdaEvent<RestoreRun>,
    deps: &Deps<S, (), (), C, (), K>,
) -> Result<RestoreRun, BackupError> {
    let mut run = event.payload;
    let started = deps.clock.now();
    let request = run.request()?.clone();
    let backup = run.backup()?.clone();
    let (from, resumed, shards) = match request.target() {
        RestoreTarget::ReplicationGroup(_) => {
            let token = auth_token(&request, &deps.secrets).await?;
            let group = new_group(
                &request,
                &backup,
                run.execution_id(),
                backup.kept_snapshot.clone(),
                token,
            );
            let from = if group.snapshot_name.is_some() {
                SeedFrom::SnapshotName
            } else {
                SeedFrom::SnapshotArns
            };
            let resumed = match deps.snapshots.create_replication_group(&group).await? {
                GroupCreateOutcome::Created => false,
                GroupCreateOutcome::AlreadyExists => {
                    let existing = deps.snapshots.replication_group(&group.id).await?;
                    let target = request.target();
                    resume_own(target, existing.arn.as_deref(), run.execution_id(), deps).await?
                }
            };
            (from, resumed, group.shards.len())
        }
        RestoreTarget::Serverless(_) => {
            let (cache, from) = new_serverless_cache(&request, &backup, run.execution_id());
            let resumed = match deps.snapshots.create_serverless_cache(&cache).await? {
                GroupCreateOutcome::Created => false,
                GroupCreateOutcome::AlreadyExists => {
                    let existing = deps.snapshots.serverless_cache(&cache.name).await?;
                    let target = request.target();
                    resume_own(target, existing.arn.as_deref(), run.execution_id(), deps).await?
                }
            };
            (from, resumed, cache.snapshot_arns_to_restore.len())
        }
    };
    let target = request.target();
    let now = deps.clock.now();
    let timeout = request.restore_timeout_seconds;
    let (replication_group_id, serverless_cache_name) = match target {
        RestoreTarget::ReplicationGroup(id) => (id.to_string(), None),
        RestoreTarget::Serverless(name) => (String::new(), Some(name.to_string())),
    };
    run.restore = Some(RestoreProgress {
        replication_group_id,
        serverless_cache_name,
        endpoint: None,
        status: GroupStatus::Creating,
        created: true,
        from,
        requested_at: run.restore.as_ref().map_or(now, |r| r.requested_at),
        deadline: now + Duration::seconds(i64::try_from(timeout).unwrap_or(i64::MAX)),
        available_at: None,
        rto_seconds: None,
    });
    run.poll.wait_seconds = next_wait_seconds(0, timeout);
    run.poll.checks = 0;
    tracing::info!(target = %target.id(), kind = target.kind(), ?from, resumed, shards, "restore target requested");
    run.record_timing(STEP, started, deps.clock.now());
    Ok(run)
}

/// After an "already exists" answer: `true` (resume) when the group or cache at `arn` carries this execution's
/// [`RESTORE_TAG`], as a retried step finds its own.
///
/// # Errors
/// `TargetExists` when it is not this execution's (it is never touched); ListTagsForResource's errors.
async fn resume_own<S: Snapshots + Groups, C: Clock, K: Secrets>(
    target: RestoreTarget<'_>,
    arn: Option<&str>,
    execution_id: &str,
    deps: &Deps<S, (), (), C, (), K>,
) -> Result<bool, BackupError> {
    let tags = match arn {
        Some(arn) => deps.snapshots.tags(arn).await?,
        None => Vec::new(),
    };
    if tags
        .iter()
        .any(|(k, v)| k == RESTORE_TAG && v == execution_id)
    {
        return Ok(true);
    }
    Err(BackupError::TargetExists {
        message: format!(
            "{} {} already exists and was not created by this restore; it is not touched",
            target.kind(),
            target.id()
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const TOKEN_ARN: &str =
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:orders-auth-AbCdEf";
    use backup_core::Config;
    use backup_core::restore::{BackupInfo, RestoreRequest, validate_restore};
    use backup_core::testing::{FakeSecrets, FakeSnapshots, FixedClock};
    use lambda_runtime::Context;
    use time::macros::datetime;

    const RESOLVED: &str = include_str!("../../../events/create-group/resolved.json");
    const SERVERLESS: &str = include_str!("../../../events/create-group/resolved-serverless.json");

    fn serverless_event() -> LambdaEvent<RestoreRun> {
        LambdaEvent::new(
            serde_json::from_str(SERVERLESS).unwrap(),
            Context::default(),
        )
    }

    fn deps(snapshots: FakeSnapshots) -> Deps<FakeSnapshots, (), (), FixedClock, (), FakeSecrets> {
        Deps {
            snapshots,
            exports: (),
            verifier: (),
            clock: FixedClock::at(datetime!(2026-11-22 05:00 UTC)),
            probe: (),
            secrets: FakeSecrets(HashMap::from([(
                TOKEN_ARN.to_string(),
                "s3cr3t-t0ken-0123456789".to_string(),
            )])),
            config: Config::default(),
        }
    }

    fn event() -> LambdaEvent<RestoreRun> {
        LambdaEvent::new(serde_json::from_str(RESOLVED).unwrap(), Context::default())
    }

    #[tokio::test]
    async fn creates_the_group_from_the_s3_objects_with_slots_and_its_tag() {
        let d = deps(FakeSnapshots::default());
        let run = function_handler(event(), &d).await.unwrap();
        let calls = d.snapshots.calls_of("CreateReplicationGroup");
        assert_eq!(calls.len(), 1);
        assert!(
            calls[0].contains("arn:aws:s3:::acme-cache-backups/ecb-sessions-5f1d2a9c-0002.rdb"),
            "{calls:?}"
        );
        assert!(calls[0].contains("Some(\"5461-10922\")"), "{calls:?}");
        let r = run.restore.unwrap();
        assert_eq!(
            (r.status, r.created, r.from),
            (GroupStatus::Creating, true, SeedFrom::SnapshotArns)
        );
        assert_eq!(r.deadline, datetime!(2026-11-22 06:00 UTC));
    }

    #[tokio::test]
    async fn a_named_auth_token_is_given_to_the_group_with_tls_and_never_logged() {
        let d = deps(FakeSnapshots::default());
        let mut ev = event();
        ev.payload.request.as_mut().unwrap().auth_token_secret_arn = Some(TOKEN_ARN.into());
        function_handler(ev, &d).await.unwrap();
        let call = &d.snapshots.calls_of("CreateReplicationGroup")[0];
        assert!(
            call.contains("auth_token: Some(Secret([redacted]))"),
            "{call}"
        );
        assert!(call.contains("transit_encryption: true"), "{call}");
        assert!(!call.contains("s3cr3t"), "{call}");

        let mut ev = event();
        ev.payload.request.as_mut().unwrap().auth_token_secret_arn =
            Some("arn:aws:secretsmanager:eu-west-1:123456789012:secret:missing".into());
        let err = function_handler(ev, &deps(FakeSnapshots::default()))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("secret:missing"), "{err}");
    }

    #[tokio::test]
    async fn a_retry_resumes_its_own_group_but_never_adopts_another() {
        let d = deps(FakeSnapshots::default());
        let first = function_handler(event(), &d).await.unwrap();
        let again = function_handler(event(), &d).await.unwrap();
        assert_eq!(
            first.restore.unwrap().replication_group_id,
            again.restore.unwrap().replication_group_id
        );

        let other = deps(FakeSnapshots::cluster_mode_disabled(
            "sessions-restored",
            &[("x-001", "primary", "available")],
        ));
        let err = function_handler(event(), &other).await.unwrap_err();
        assert_eq!(err.error_type(), "TargetExists");
        assert!(
            other
                .snapshots
                .calls_of("DeleteReplicationGroup")
                .is_empty()
        );
    }

    #[test]
    fn the_sample_event_is_a_resolved_restore() {
        let run: RestoreRun = serde_json::from_str(RESOLVED).unwrap();
        let _: &RestoreRequest = run.request().unwrap();
        let b: &BackupInfo = run.backup().unwrap();
        assert_eq!(b.shards.len(), 3);
        assert!(validate_restore(&run.input, None, "e").is_ok());
    }

    #[tokio::test]
    async fn a_serverless_target_is_created_from_the_s3_objects_with_engine_major_and_tag() {
        let d = deps(FakeSnapshots::default());
        let run = function_handler(serverless_event(), &d).await.unwrap();
        assert!(d.snapshots.calls_of("CreateReplicationGroup").is_empty());
        let calls = d.snapshots.calls_of("CreateServerlessCache");
        assert_eq!(calls.len(), 1);
        let call = &calls[0];
        for part in [
            "name: \"sessions-sl\"",
            "engine: \"valkey\"",
            "major_engine_version: Some(\"7\")",
            "arn:aws:s3:::acme-cache-backups/ecb-sessions-5f1d2a9c-0003.rdb",
            "subnet-0b2",
            "elasticache-backup:restore-execution",
        ] {
            assert!(call.contains(part), "{part} missing from {call}");
        }
        let r = run.restore.unwrap();
        assert_eq!(r.serverless_cache_name.as_deref(), Some("sessions-sl"));
        assert!(r.replication_group_id.is_empty());
        assert_eq!(
            (r.status, r.created, r.from),
            (GroupStatus::Creating, true, SeedFrom::SnapshotArns)
        );
        let doc = serde_json::to_value(run.request.unwrap()).unwrap();
        assert!(doc.get("targetReplicationGroupId").is_none());
    }

    #[tokio::test]
    async fn a_kept_snapshot_seeds_the_serverless_cache_by_its_arn() {
        let d = deps(FakeSnapshots::default());
        let mut ev = serverless_event();
        let arn = "arn:aws:elasticache:eu-west-1:123456789012:snapshot:ecb-sessions-5f1d2a9c";
        if let Some(b) = ev.payload.backup.as_mut() {
            b.kept_snapshot = Some("ecb-sessions-5f1d2a9c".into());
            b.kept_snapshot_arn = Some(arn.into());
            b.snapshot_arns.clear();
        }
        let run = function_handler(ev, &d).await.unwrap();
        let call = &d.snapshots.calls_of("CreateServerlessCache")[0];
        assert!(
            call.contains(&format!("snapshot_arns_to_restore: [\"{arn}\"]")),
            "{call}"
        );
        assert_eq!(run.restore.unwrap().from, SeedFrom::SnapshotName);
    }

    #[tokio::test]
    async fn a_retried_serverless_create_resumes_its_own_cache_but_never_adopts_another() {
        let d = deps(FakeSnapshots::default());
        function_handler(serverless_event(), &d).await.unwrap();
        let again = function_handler(serverless_event(), &d).await.unwrap();
        assert_eq!(
            again.restore.unwrap().serverless_cache_name.as_deref(),
            Some("sessions-sl")
        );
        let other = deps(FakeSnapshots::serverless("sessions-sl", "valkey"));
        let err = function_handler(serverless_event(), &other)
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "TargetExists");
        // Nor one another restore execution created.
        other.snapshots.0.lock().unwrap().tags.insert(
            "sessions-sl".into(),
            vec![(
                RESTORE_TAG.to_string(),
                "arn:aws:states:eu-west-1:123456789012:execution:elasticache-backup-restore:other"
                    .into(),
            )],
        );
        let err = function_handler(serverless_event(), &other)
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "TargetExists");
        assert!(
            err.to_string().contains("serverless cache sessions-sl"),
            "{err}"
        );
        assert!(other.snapshots.calls_of("DeleteServerlessCache").is_empty());
    }

    #[tokio::test]
    async fn a_refused_serverless_create_is_restore_rejected_with_the_aws_message() {
        let d = deps(FakeSnapshots::default());
        d.snapshots.fail_next(
            "CreateServerlessCache",
            BackupError::RestoreRejected {
                message: "CreateServerlessCache sessions-sl: ServerlessCacheQuotaForCustomerExceededFault: quota"
                    .into(),
                source: None,
            },
        );
        let err = function_handler(serverless_event(), &d).await.unwrap_err();
        assert_eq!(err.error_type(), "RestoreRejected");
        assert!(
            err.to_string()
                .contains("ServerlessCacheQuotaForCustomerExceededFault"),
            "{err}"
        );
    }

    #[test]
    fn the_serverless_sample_event_is_a_resolved_serverless_restore() {
        let run: RestoreRun = serde_json::from_str(SERVERLESS).unwrap();
        assert!(run.request().unwrap().target().is_serverless());
        let validated = validate_restore(&run.input, None, "e").unwrap();
        assert_eq!(&validated, run.request().unwrap());
    }
}
