//! VerifyRestore step: connects to every shard of the restored group over the Redis protocol and compares what it
//! holds with the manifest — keys per shard and database (allowing only for keys that had a TTL and may have expired
//! since; both figures are reported), and every sampled key present with its type — then writes the report
//! `<exportName>.restore-<executionName>.json` next to the manifest, with the measured RTO (CreateReplicationGroup to
//! verified data). A mismatch is `RestoreMismatch`, after the report is written.
//!
//! A serverless cache is one logical cluster behind one endpoint: the backup is compared as one keyspace (keys,
//! keys with an expiry and samples of every shard together) with what the endpoint reports, read over TLS (a
//! serverless cache accepts nothing else; `backup_core::restore::verify::serverless_tls`).

use backup_core::ports::{DataProbe, ExportStore, Secrets, Snapshots};
use backup_core::resources::NodeAccess;
use backup_core::restore::report::restore_report;
use backup_core::restore::verify::{SampleBatch, node_access, serverless_access, shard_member};
use backup_core::restore::{
    RestoreRun, RestoreTarget, ShardFound, auth_token, compare, rto_metric,
};
use backup_core::{BackupError, Clock, Deps};
use lambda_runtime::LambdaEvent;

/// The state name this handler serves, used for timings.
pub const STEP: &str = "VerifyRestore";

/// Handles one VerifyRestore invocation: sets `verification`, `restore.rtoSeconds` and `report`.
///
/// # Errors
/// `RestoreMismatch` (the data differs), `RestoreUnreachable` (a node could not be reached or answered no data:
/// nothing checked), `AwsError` (the AUTH token's secret not read), `Throttled`, `InvalidInput`.
#[tracing::instrument(skip_all, fields(execution = %event.payload.execution.name))]
pub async fn function_handler<S: Snapshots, E: ExportStore, P: DataProbe, C: Clock, K: Secrets>(
    event: LambdaEvent<RestoreRun>,
    deps: &Deps<S, E, (), C, P, K>,
) -> Result<RestoreRun, BackupError> {
    let mut run = event.payload;
    let started = deps.clock.now();
    let backup = run.backup()?.clone();
    let progress = run.restore()?.clone();
    let target = progress.target();
    let verification = match target {
        RestoreTarget::ReplicationGroup(id) => {
            let group = deps.snapshots.replication_group(id).await?;
            // The group's own settings decide how to connect: TLS when it has in-transit encryption, the restore's
            // AUTH token when it has one (CreateGroup gave it that token).
            let auth = if group.auth_token_enabled {
                auth_token(run.request()?, &deps.secrets).await?
            } else {
                None
            };
            let mut found = Vec::new();
            for (i, shard) in backup.shards.iter().enumerate() {
                let member = shard_member(&group, i, shard)?;
                let node = deps.snapshots.cache_cluster(member).await?;
                let access = node_access(node, group.transit_encryption, auth.clone())?;
                found.push(read_shard(&deps.probe, &access, shard).await?);
            }
            compare(&backup, &found, deps.clock.now())
        }
        RestoreTarget::Serverless(name) => {
            let cache = deps.snapshots.serverless_cache(name).await?;
            let access = serverless_access(&cache)?;
            let whole = backup.as_one_keyspace();
            let mut found = Vec::new();
            for shard in &whole.shards {
                found.push(read_shard(&deps.probe, &access, shard).await?);
            }
            if let Some(r) = run.restore.as_mut()
                && r.endpoint.is_none()
            {
                r.endpoint = Some(access.endpoint.clone());
            }
            compare(&whole, &found, deps.clock.now())
        }
    };
    let now = verification.verified_at;
    let report = restore_report(&run, &verification, now)?;
    let rto = report.rto_seconds;
    // Next to the manifest; a backup restored from the vault (another account's bucket, which admits only the
    // replication role) leaves its report in the deployment's bucket (`BACKUP_BUCKET`), under the same key.
    let from_vault = deps
        .config
        .vault
        .as_ref()
        .is_some_and(|v| v.bucket == backup.bucket);
    let report_bucket = match (&deps.config.default_bucket, from_vault) {
        (Some(home), true) => home.clone(),
        _ => backup.bucket.clone(),
    };
    deps.exports
        .put_json(&report_bucket, &report.key, report.body)
        .await?;
    // The RTO per source as a CloudWatch metric (embedded metric format: one line on stdout, no API call).
    println!(
        "{}",
        rto_metric(
            &backup.source_id,
            run.request()?.drill,
            rto,
            verification.matches,
            now
        )
    );
    tracing::info!(report = %report.key, rto_seconds = rto, keys_expected = verification.keys_expected,
                   keys_found = verification.keys_found, matches = verification.matches, "restore verified");
    let report_uri = format!("s3://{report_bucket}/{}", report.key);
    let verdict = verification.verdict(target.id(), &report_uri);
    if let Some(r) = run.restore.as_mut() {
        r.rto_seconds = Some(rto);
    }
    run.verification = Some(verification);
    run.report = Some(report.key);
    run.record_timing(STEP, started, deps.clock.now());
    verdict?;
    Ok(run)
}

/// What one shard (or a serverless cache's whole keyspace) holds: keys per database, and the type of each of its
/// sampled keys.
///
/// # Errors
/// The probe's (`RestoreUnreachable`).
async fn read_shard<P: DataProbe>(
    probe: &P,
    access: &NodeAccess,
    shard: &backup_core::restore::BackupShard,
) -> Result<ShardFound, BackupError> {
    let counts = probe.counts(access).await?;
    let mut samples = Vec::new();
    for batch in SampleBatch::of(shard) {
        let types = probe.key_types(access, batch.db, &batch.keys).await?;
        samples.extend(batch.checks(types));
    }
    Ok(ShardFound {
        node_group_id: shard.node_group_id.clone(),
        databases: counts.databases,
        samples,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const TOKEN_ARN: &str =
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:orders-auth-AbCdEf";
    use backup_core::Config;
    use backup_core::ports::Groups;
    use backup_core::resources::{GroupCreateOutcome, NodeCounts, Secret};
    use backup_core::restore::{GroupStatus, RestoreProgress, SeedFrom, new_group};
    use backup_core::testing::{
        FakeExportStore, FakeProbe, FakeSecrets, FakeSnapshots, FixedClock,
    };
    use lambda_runtime::Context;
    use std::collections::BTreeMap;
    use time::macros::datetime;

    const RESOLVED: &str = include_str!("../../../events/create-group/resolved.json");

    async fn setup(
        keys: [u64; 3],
        session_type: &str,
    ) -> (
        Deps<FakeSnapshots, FakeExportStore, (), FixedClock, FakeProbe, FakeSecrets>,
        LambdaEvent<RestoreRun>,
    ) {
        let mut run: RestoreRun = serde_json::from_str(RESOLVED).unwrap();
        let snapshots = FakeSnapshots::default();
        let group = new_group(
            run.request().unwrap(),
            run.backup().unwrap(),
            run.execution_id(),
            None,
            None,
        );
        assert_eq!(
            snapshots.create_replication_group(&group).await.unwrap(),
            GroupCreateOutcome::Created
        );
        snapshots.set_group_status("sessions-restored", "available", "available");
        let probe = FakeProbe::default();
        let ports: Vec<u16> = {
            let s = snapshots.0.lock().unwrap();
            let mut p: Vec<(String, u16)> = s
                .cache_clusters
                .values()
                .map(|c| (c.id.clone(), c.endpoint.as_ref().unwrap().port))
                .collect();
            p.sort();
            p.into_iter().map(|(_, port)| port).collect()
        };
        for (port, n) in ports.iter().zip(keys) {
            probe.counts.lock().unwrap().insert(
                *port,
                NodeCounts {
                    databases: BTreeMap::from([(0, n)]),
                },
            );
        }
        probe
            .types
            .lock()
            .unwrap()
            .entry(ports[0])
            .or_default()
            .insert((0, "session:1".into()), session_type.into());
        run.restore = Some(RestoreProgress {
            replication_group_id: "sessions-restored".into(),
            serverless_cache_name: None,
            endpoint: None,
            status: GroupStatus::Available,
            created: true,
            from: SeedFrom::SnapshotArns,
            requested_at: datetime!(2026-11-22 05:00 UTC),
            deadline: datetime!(2026-11-22 06:00 UTC),
            available_at: Some(datetime!(2026-11-22 05:04 UTC)),
            rto_seconds: None,
        });
        let deps = Deps {
            snapshots,
            exports: FakeExportStore::with_bucket("acme-cache-backups"),
            verifier: (),
            clock: FixedClock::at(datetime!(2026-11-22 05:05 UTC)),
            probe,
            secrets: FakeSecrets(HashMap::from([(
                TOKEN_ARN.to_string(),
                "s3cr3t-t0ken-0123456789".to_string(),
            )])),
            config: Config::default(),
        };
        (deps, LambdaEvent::new(run, Context::default()))
    }

    #[tokio::test]
    async fn a_faithful_restore_is_verified_and_reported_with_its_rto() {
        // Shard 1 had one key with a TTL, which expired since.
        let (d, ev) = setup([9, 12, 8], "hash").await;
        let run = function_handler(ev, &d).await.unwrap();
        let v = run.verification.unwrap();
        assert!(v.matches);
        assert_eq!(
            (
                v.keys_expected,
                v.keys_found,
                v.keys_expired,
                v.samples_checked
            ),
            (30, 29, 1, 1)
        );
        assert_eq!(run.restore.unwrap().rto_seconds, Some(300));
        let key = run.report.unwrap();
        assert_eq!(key, "ecb-sessions-5f1d2a9c.restore-restore-2026-11-22.json");
        let report: serde_json::Value =
            serde_json::from_slice(&d.exports.get("acme-cache-backups", &key).unwrap()).unwrap();
        assert_eq!(
            (report["verdict"].as_str(), report["rtoSeconds"].as_u64()),
            (Some("verified"), Some(300))
        );
    }

    #[tokio::test]
    async fn a_restore_from_the_vault_leaves_its_report_in_the_deployment_s_bucket() {
        let (mut d, mut ev) = setup([9, 12, 8], "hash").await;
        ev.payload.backup.as_mut().unwrap().bucket = "acme-vault".into();
        d.config.default_bucket = Some("acme-cache-backups".into());
        d.config.vault = Some(backup_core::config::Vault {
            bucket: "acme-vault".into(),
            replication_role_arn: None,
            account_id: None,
        });
        let run = function_handler(ev, &d).await.unwrap();
        let key = run.report.unwrap();
        assert!(d.exports.get("acme-cache-backups", &key).is_some());
        assert!(d.exports.get("acme-vault", &key).is_none());
        // Without a vault, the report stays next to the manifest in the backup's own bucket.
        let (mut d, mut ev) = setup([9, 12, 8], "hash").await;
        ev.payload.backup.as_mut().unwrap().bucket = "other-backups".into();
        d.config.default_bucket = Some("acme-cache-backups".into());
        let key = function_handler(ev, &d).await.unwrap().report.unwrap();
        assert!(d.exports.get("other-backups", &key).is_some());
    }

    #[tokio::test]
    async fn a_group_with_tls_and_auth_is_read_over_tls_with_the_restore_token() {
        let (d, mut ev) = setup([10, 12, 8], "hash").await;
        {
            let mut s = d.snapshots.0.lock().unwrap();
            let g = s.replication_groups.get_mut("sessions-restored").unwrap();
            g.transit_encryption = true;
            g.auth_token_enabled = true;
        }
        ev.payload.request.as_mut().unwrap().auth_token_secret_arn = Some(TOKEN_ARN.into());
        function_handler(ev, &d).await.unwrap();
        let seen = d.probe.seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 3);
        assert!(
            seen.iter()
                .all(|n| n.tls && n.auth == Some(Secret("s3cr3t-t0ken-0123456789".into())))
        );

        // A group without AUTH (a drill of an AUTH source) is read without a token.
        let (d, ev) = setup([10, 12, 8], "hash").await;
        function_handler(ev, &d).await.unwrap();
        assert!(
            d.probe
                .seen
                .lock()
                .unwrap()
                .iter()
                .all(|n| !n.tls && n.auth.is_none())
        );
    }

    #[tokio::test]
    async fn missing_keys_or_a_wrong_sample_is_a_mismatch_with_a_report() {
        let (d, ev) = setup([8, 12, 8], "hash").await;
        let err = function_handler(ev, &d).await.unwrap_err();
        assert_eq!(err.error_type(), "RestoreMismatch");
        assert!(
            d.exports
                .get(
                    "acme-cache-backups",
                    "ecb-sessions-5f1d2a9c.restore-restore-2026-11-22.json"
                )
                .is_some()
        );
        let (d, ev) = setup([10, 12, 8], "string").await;
        let err = function_handler(ev, &d).await.unwrap_err();
        assert!(
            err.to_string().contains("expected hash, found string"),
            "{err}"
        );
    }

    type TestDeps = Deps<FakeSnapshots, FakeExportStore, (), FixedClock, FakeProbe, FakeSecrets>;

    /// The resolved serverless restore of the sample event, its cache `available` at `address`:6379, the probe
    /// answering `keys` keys there and `session:1` of `session_type`.
    fn serverless_setup(
        keys: u64,
        session_type: &str,
        address: &str,
    ) -> (TestDeps, LambdaEvent<RestoreRun>) {
        let mut run: RestoreRun = serde_json::from_str(include_str!(
            "../../../events/create-group/resolved-serverless.json"
        ))
        .unwrap();
        let snapshots = FakeSnapshots::serverless("sessions-sl", "valkey");
        if let Some(c) = snapshots
            .0
            .lock()
            .unwrap()
            .serverless_caches
            .get_mut("sessions-sl")
        {
            c.endpoint = Some(backup_core::resources::Endpoint {
                address: address.into(),
                port: 6379,
            });
        }
        let probe = FakeProbe::default();
        probe.counts.lock().unwrap().insert(
            6379,
            NodeCounts {
                databases: BTreeMap::from([(0, keys)]),
            },
        );
        probe
            .types
            .lock()
            .unwrap()
            .entry(6379)
            .or_default()
            .insert((0, "session:1".into()), session_type.into());
        run.restore = Some(RestoreProgress {
            replication_group_id: String::new(),
            serverless_cache_name: Some("sessions-sl".into()),
            endpoint: None,
            status: GroupStatus::Available,
            created: true,
            from: SeedFrom::SnapshotArns,
            requested_at: datetime!(2026-11-22 05:00 UTC),
            deadline: datetime!(2026-11-22 06:00 UTC),
            available_at: Some(datetime!(2026-11-22 05:04 UTC)),
            rto_seconds: None,
        });
        let deps = Deps {
            snapshots,
            exports: FakeExportStore::with_bucket("acme-cache-backups"),
            verifier: (),
            clock: FixedClock::at(datetime!(2026-11-22 05:05 UTC)),
            probe,
            secrets: FakeSecrets(HashMap::new()),
            config: Config::default(),
        };
        (deps, LambdaEvent::new(run, Context::default()))
    }

    #[tokio::test]
    async fn a_serverless_cache_is_compared_with_the_backup_as_one_keyspace() {
        // 30 keys in three objects, one with a TTL that expired since: the endpoint answers 29.
        let (d, ev) = serverless_setup(29, "hash", "127.0.0.1");
        let run = function_handler(ev, &d).await.unwrap();
        let v = run.verification.unwrap();
        assert!(v.matches);
        assert_eq!(
            (
                v.keys_expected,
                v.keys_found,
                v.keys_expired,
                v.samples_checked
            ),
            (30, 29, 1, 1)
        );
        assert_eq!(v.shards.len(), 1);
        let seen = d.probe.seen.lock().unwrap().clone();
        assert!(
            !seen.is_empty()
                && seen
                    .iter()
                    .all(|n| n.endpoint.port == 6379 && !n.tls && n.auth.is_none())
        );
        assert!(d.snapshots.calls_of("DescribeReplicationGroups").is_empty());
        let r = run.restore.unwrap();
        assert_eq!(r.endpoint.map(|e| e.address), Some("127.0.0.1".into()));
        let report: serde_json::Value = serde_json::from_slice(
            &d.exports
                .get("acme-cache-backups", &run.report.unwrap())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(report["serverlessCacheName"], "sessions-sl");
        assert_eq!(report["verdict"], "verified");
    }

    #[tokio::test]
    async fn a_serverless_endpoint_in_aws_is_read_over_tls() {
        let (d, ev) = serverless_setup(
            30,
            "hash",
            "sessions-sl-x1y2z3.serverless.euw1.cache.amazonaws.com",
        );
        function_handler(ev, &d).await.unwrap();
        assert!(d.probe.seen.lock().unwrap().iter().all(|n| n.tls));
    }

    #[tokio::test]
    async fn a_serverless_cache_missing_keys_or_with_a_wrong_sample_is_a_mismatch_with_a_report() {
        let (d, ev) = serverless_setup(28, "hash", "127.0.0.1");
        let err = function_handler(ev, &d).await.unwrap_err();
        assert_eq!(err.error_type(), "RestoreMismatch");
        assert!(
            err.to_string().contains("sessions-sl holds 28 keys"),
            "{err}"
        );
        assert!(
            d.exports
                .get(
                    "acme-cache-backups",
                    "ecb-sessions-5f1d2a9c.restore-restore-2026-11-22.json"
                )
                .is_some()
        );
        let (d, ev) = serverless_setup(31, "hash", "127.0.0.1");
        assert_eq!(
            function_handler(ev, &d).await.unwrap_err().error_type(),
            "RestoreMismatch"
        );
        let (d, ev) = serverless_setup(30, "string", "127.0.0.1");
        let err = function_handler(ev, &d).await.unwrap_err();
        assert!(
            err.to_string().contains("expected hash, found string"),
            "{err}"
        );
    }
}
