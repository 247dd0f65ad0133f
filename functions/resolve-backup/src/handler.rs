//! ResolveBackup step (restore): validate the input → find the manifest (by location, or the newest verified backup
//! of a source) → check every object it lists is in S3 with its size (and, when asked, its SHA-256) → refuse a
//! target id that exists. Nothing is created here: every refusal ends the restore before CreateReplicationGroup.
//! The judging is in `backup_core::restore::resolve`; this step reads, copies the seed objects, and records.

use backup_core::backup::manifest::Manifest;
use backup_core::model::SnapshotStatus;
use backup_core::naming::export_prefix;
use backup_core::ports::{ExportStore, ObjectReader, SeedCopier, Snapshots, Verifier};
use backup_core::restore::resolve::{
    NewestBackup, Seeding, check_auth_token, check_listed, check_node_groups,
    check_serverless_restore, check_sha256, check_target_absent, is_manifest_key, read_manifest,
    seeding,
};
use backup_core::restore::{
    BackupInfo, BackupSelector, RestoreRun, RestoreTarget, validate_restore,
};
use backup_core::{BackupError, Clock, Deps};
use lambda_runtime::LambdaEvent;

/// The state name this handler serves, used for timings.
pub const STEP: &str = "ResolveBackup";

/// Handles one ResolveBackup invocation: sets `request` and `backup`.
///
/// # Errors
/// `InvalidInput`, `BackupNotFound`, `BackupCorrupt` (size or SHA-256 differs from the manifest), `TargetExists`,
/// `NotSupported` (node groups CreateReplicationGroup cannot be given), `Throttled`, `AwsError`, `AwsRejected`
/// (a seed copy refused).
#[tracing::instrument(skip_all, fields(execution = %event.payload.execution.name))]
pub async fn function_handler<
    S: Snapshots,
    E: ExportStore + ObjectReader + SeedCopier,
    V: Verifier,
    C: Clock,
>(
    event: LambdaEvent<RestoreRun>,
    deps: &Deps<S, E, V, C>,
) -> Result<RestoreRun, BackupError> {
    let mut run = event.payload;
    let started = deps.clock.now();
    let request = validate_restore(
        &run.input,
        deps.config.default_bucket.as_deref(),
        run.execution_id(),
    )?;
    let (manifest, bucket, key) =
        find_manifest(&request.backup, &deps.exports, &mut run.warnings).await?;
    let mut backup = BackupInfo::from_manifest(&manifest, &bucket, &key)?;

    for shard in &backup.shards {
        let listed = deps.exports.list(&bucket, &shard.key).await?;
        check_listed(&bucket, shard, &listed)?;
        if request.verify_before_restore {
            let verified = deps.verifier.verify_object(&bucket, &shard.key).await;
            check_sha256(&bucket, shard, verified)?;
        }
    }
    let target = request.target();
    if let Some(name) = &manifest.snapshot_name {
        // A serverless backup kept a serverless snapshot; a node-based one, a node-based snapshot.
        let kept = if backup.source_serverless {
            deps.snapshots.serverless_snapshot(name).await?
        } else {
            deps.snapshots.snapshot(name).await?
        };
        if let Some(snap) = kept
            && snap.status == SnapshotStatus::Available
        {
            backup.kept_snapshot = Some(name.clone());
            backup.kept_snapshot_arn = snap.arn;
        }
    }
    match target {
        RestoreTarget::ReplicationGroup(id) => {
            if let Some(warning) = check_auth_token(&request, &backup)? {
                run.warnings.push(warning);
            }
            check_target_absent(target, deps.snapshots.replication_group(id).await)?;
            check_node_groups(&backup)?;
        }
        RestoreTarget::Serverless(name) => {
            run.warnings
                .extend(check_serverless_restore(&request, &backup)?);
            check_target_absent(target, deps.snapshots.serverless_cache(name).await)?;
        }
    }
    // CreateServerlessCache is given the kept snapshot by its ARN: without one, the S3 objects.
    let needs_seed = match target {
        RestoreTarget::ReplicationGroup(_) => backup.kept_snapshot.is_none(),
        RestoreTarget::Serverless(_) => backup.kept_snapshot_arn.is_none(),
    };
    if needs_seed {
        backup.snapshot_arns = seed(&backup, run.execution.name.as_str(), deps).await?;
    }
    tracing::info!(manifest = %key, source = %backup.source_id, shards = backup.shards.len(), target = %target.id(), kind = target.kind(), "backup resolved");
    run.request = Some(request);
    run.backup = Some(backup);
    run.record_timing(STEP, started, deps.clock.now());
    Ok(run)
}

/// Where ElastiCache reads the shard objects from (`SnapshotArns`, one per shard, in the partition of the function's
/// region), after giving it read access by the route the deployment uses ([`seeding`]): the export's objects
/// themselves (`bucket-policy`), or their copies in the seed bucket (`object-acl`), made here with the partition's
/// ElastiCache canonical user granted `READ` and `READ_ACP`. Runs after every check, so a refused restore copies
/// nothing.
///
/// # Errors
/// `InvalidInput` (`SEED_BUCKET` unset in `object-acl` mode: a deployment error, named), the copy's errors.
async fn seed<S: Snapshots, E: SeedCopier, V: Verifier, C: Clock>(
    backup: &BackupInfo,
    execution_name: &str,
    deps: &Deps<S, E, V, C>,
) -> Result<Vec<String>, BackupError> {
    let partition = deps.config.partition();
    let mode = deps.config.seeding_mode();
    let seed_bucket = deps.config.seed_bucket.as_deref();
    // A backup in the vault (another account's bucket) is copied into the deployment's bucket to be seeded.
    let from_vault = deps
        .config
        .vault
        .as_ref()
        .is_some_and(|v| v.bucket == backup.bucket);
    let home = deps.config.default_bucket.as_deref().filter(|_| from_vault);
    match seeding(backup, execution_name, mode, partition, seed_bucket, home)? {
        Seeding::InPlace(arns) => Ok(arns),
        Seeding::Copies {
            seed_bucket,
            copies,
            grant,
        } => {
            let grantee = grant.then(|| partition.elasticache_canonical_id());
            for copy in &copies {
                deps.exports
                    .copy_for_seeding(
                        &backup.bucket,
                        &copy.key,
                        copy.size_bytes,
                        &seed_bucket,
                        &copy.seed_key,
                        grantee,
                    )
                    .await?;
            }
            tracing::info!(from = %backup.bucket, seed_bucket = %seed_bucket, objects = copies.len(), acl = grant, "seed objects copied (SSE-S3) where ElastiCache may read them");
            Ok(copies.into_iter().map(|c| c.arn).collect())
        }
    }
}

/// The manifest named, or the newest verified backup of the source among the manifests in the bucket ([`NewestBackup`]).
/// Only a manifest that cannot be read (missing since the listing, or not a manifest) is skipped, named in
/// `warnings`; any other error (throttling, a 5xx, access) fails the step: restoring an older backup because the
/// newest could not be read once would be silent data loss.
async fn find_manifest<E: ExportStore + ObjectReader>(
    selector: &BackupSelector,
    exports: &E,
    warnings: &mut Vec<String>,
) -> Result<(Manifest, String, String), BackupError> {
    match selector {
        BackupSelector::Manifest { bucket, key } => {
            let bytes = exports.get_object(bucket, key).await?;
            Ok((
                read_manifest(bucket, key, bytes)?,
                bucket.clone(),
                key.clone(),
            ))
        }
        BackupSelector::Latest {
            bucket,
            source,
            serverless,
        } => {
            let mut newest = NewestBackup::new(bucket, source);
            if *serverless {
                newest = newest.of_serverless();
            }
            for object in exports.list(bucket, &export_prefix(source)).await? {
                if is_manifest_key(&object.key) {
                    let bytes = exports.get_object(bucket, &object.key).await?;
                    newest.consider(&object.key, bytes, warnings)?;
                }
            }
            newest.newest()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_adapters::verify::FakeStoreVerifier;
    use backup_core::Config;
    use backup_core::partition::SeedingMode;
    use backup_core::testing::{FakeExportStore, FakeSnapshots, FixedClock};
    use lambda_runtime::Context;
    use time::macros::datetime;

    const BUCKET: &str = "acme-cache-backups";

    fn manifest(export: &str, verified: &str, object: &[u8]) -> String {
        serde_json::json!({
            "manifestVersion": 3, "tool": "elasticache-backup", "exportName": export, "bucket": BUCKET,
            "snapshotName": export,
            "source": {"replicationGroupId": "orders", "role": "replica", "clusterMode": "disabled", "shardCount": 1},
            "verifiedAt": verified,
            "totals": {"objects": 1, "keys": 1, "keysWithExpiry": 0, "bytes": object.len()},
            "objects": [{"key": format!("{export}-0001.rdb"), "sizeBytes": object.len(),
                         "sha256": "0000", "rdb": {"magic": "REDIS", "version": 10, "keys": 1, "keysWithExpiry": 0}}]
        })
        .to_string()
    }

    fn deps() -> Deps<FakeSnapshots, FakeExportStore, FakeStoreVerifier, FixedClock> {
        let exports = FakeExportStore::with_bucket(BUCKET);
        let at = datetime!(2026-11-22 03:00 UTC);
        for (export, verified) in [
            ("ecb-orders-aaaa0001", "2026-11-21T03:00:00Z"),
            ("ecb-orders-bbbb0002", "2026-11-22T03:00:00Z"),
        ] {
            exports.put_bytes(BUCKET, &format!("{export}-0001.rdb"), b"RDB".to_vec(), at);
            exports.put_bytes(
                BUCKET,
                &format!("{export}.manifest.json"),
                manifest(export, verified, b"RDB").into_bytes(),
                at,
            );
        }
        Deps {
            snapshots: FakeSnapshots::cluster_mode_disabled(
                "orders",
                &[("orders-001", "primary", "available")],
            ),
            verifier: FakeStoreVerifier(exports.clone()),
            exports,
            clock: FixedClock::at(at),
            probe: (),
            secrets: (),
            config: Config {
                default_bucket: Some(BUCKET.into()),
                seed_bucket: Some("seeds".into()),
                ..Config::default()
            },
        }
    }

    fn event(input: serde_json::Value) -> LambdaEvent<RestoreRun> {
        let mut run = RestoreRun {
            input,
            ..RestoreRun::default()
        };
        run.execution.name = "restore-1".into();
        LambdaEvent::new(run, Context::default())
    }

    #[tokio::test]
    async fn latest_picks_the_newest_verified_backup_of_the_source() {
        let d = deps();
        let run = function_handler(event(serde_json::json!({"replicationGroupId": "orders", "latest": true, "targetReplicationGroupId": "orders-r"})), &d)
            .await
            .unwrap();
        let b = run.backup.unwrap();
        assert_eq!(b.export_name, "ecb-orders-bbbb0002");
        assert_eq!(b.shards[0].key, "ecb-orders-bbbb0002-0001.rdb");
        assert!(d.snapshots.calls_of("CreateReplicationGroup").is_empty());
    }

    #[tokio::test]
    async fn latest_ranks_by_data_time_not_by_verification() {
        let d = deps();
        // bbbb0002 was verified last, but aaaa0001's snapshot was taken later: its data is the newest.
        for (export, started) in [
            ("ecb-orders-aaaa0001", "2026-11-21T23:00:00Z"),
            ("ecb-orders-bbbb0002", "2026-11-21T22:00:00Z"),
        ] {
            let key = format!("{export}.manifest.json");
            let mut m: serde_json::Value =
                serde_json::from_slice(&d.exports.get(BUCKET, &key).unwrap()).unwrap();
            m["snapshot"] = serde_json::json!({"status": "available", "startedAt": started, "deadline": started});
            d.exports.put_bytes(
                BUCKET,
                &key,
                serde_json::to_vec(&m).unwrap(),
                datetime!(2026-11-22 03:00 UTC),
            );
        }
        let run = function_handler(event(serde_json::json!({"replicationGroupId": "orders", "latest": true, "targetReplicationGroupId": "orders-r"})), &d)
            .await
            .unwrap();
        assert_eq!(run.backup.unwrap().export_name, "ecb-orders-aaaa0001");
    }

    #[tokio::test]
    async fn latest_fails_when_the_newest_manifest_cannot_be_read_instead_of_restoring_an_older_one()
     {
        let d = deps();
        d.exports.fail_get.lock().unwrap().insert(
            "ecb-orders-bbbb0002.manifest.json".into(),
            [BackupError::Throttled {
                message: "GetObject: SlowDown".into(),
                source: None,
            }]
            .into(),
        );
        let err = function_handler(event(serde_json::json!({"replicationGroupId": "orders", "latest": true, "targetReplicationGroupId": "orders-r"})), &d)
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "Throttled", "{err}");
        assert!(d.snapshots.calls_of("CreateReplicationGroup").is_empty());
    }

    #[tokio::test]
    async fn latest_skips_a_manifest_that_is_not_one() {
        let d = deps();
        d.exports.put_bytes(
            BUCKET,
            "ecb-orders-bbbb0002.manifest.json",
            b"not json".to_vec(),
            datetime!(2026-11-22 03:00 UTC),
        );
        let run = function_handler(event(serde_json::json!({"replicationGroupId": "orders", "latest": true, "targetReplicationGroupId": "orders-r"})), &d)
            .await
            .unwrap();
        assert!(
            run.warnings.iter().any(|w| w.contains("ecb-orders-bbbb0002.manifest.json is not a readable manifest")),
            "{:?}",
            run.warnings
        );
        assert_eq!(run.backup.unwrap().export_name, "ecb-orders-aaaa0001");
    }

    #[tokio::test]
    async fn latest_stops_at_a_newer_manifest_version_rather_than_restore_an_older_backup() {
        let d = deps();
        let key = "ecb-orders-bbbb0002.manifest.json";
        let mut m: serde_json::Value =
            serde_json::from_slice(&d.exports.get(BUCKET, key).unwrap()).unwrap();
        m["manifestVersion"] = serde_json::json!(99);
        d.exports.put_bytes(
            BUCKET,
            key,
            serde_json::to_vec(&m).unwrap(),
            datetime!(2026-11-22 03:00 UTC),
        );
        let err = function_handler(event(serde_json::json!({"replicationGroupId": "orders", "latest": true, "targetReplicationGroupId": "orders-r"})), &d)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("manifestVersion 99"), "{err}");
    }

    #[tokio::test]
    async fn an_auth_source_needs_its_token_secret_unless_a_drill() {
        let d = deps();
        let manifest = String::from_utf8(
            d.exports
                .get(BUCKET, "ecb-orders-aaaa0001.manifest.json")
                .unwrap(),
        )
        .unwrap()
        .replace(
            "\"shardCount\": 1",
            "\"shardCount\": 1, \"settings\": {\"authTokenEnabled\": true}",
        )
        .replace(
            "\"shardCount\":1",
            "\"shardCount\":1,\"settings\":{\"authTokenEnabled\":true}",
        );
        d.exports.put_bytes(
            BUCKET,
            "ecb-orders-aaaa0001.manifest.json",
            manifest.into_bytes(),
            datetime!(2026-11-22 03:00 UTC),
        );
        let m = format!("s3://{BUCKET}/ecb-orders-aaaa0001.manifest.json");
        let err = function_handler(
            event(serde_json::json!({"manifest": m, "targetReplicationGroupId": "new"})),
            &d,
        )
        .await
        .unwrap_err();
        assert!(err.to_string().contains("authTokenSecretArn"), "{err}");
        let drill = function_handler(event(serde_json::json!({"manifest": m, "drill": true})), &d)
            .await
            .unwrap();
        assert!(
            drill.warnings[0].contains("AUTH token"),
            "{:?}",
            drill.warnings
        );
    }

    #[tokio::test]
    async fn object_acl_seeding_copies_each_object_with_the_partitions_grant() {
        let mut d = deps();
        d.config.region = Some("cn-north-1".into());
        let run = function_handler(
            event(serde_json::json!({"replicationGroupId": "orders", "latest": true, "targetReplicationGroupId": "new-orders"})),
            &d,
        )
        .await
        .unwrap();
        let copies = d.exports.seed_copies.lock().unwrap().clone();
        assert_eq!(
            copies,
            [(
                BUCKET.to_string(),
                "ecb-orders-bbbb0002-0001.rdb".to_string(),
                "seeds".to_string(),
                "restore-1/ecb-orders-bbbb0002-0001.rdb".to_string(),
                backup_core::partition::Partition::AwsCn
                    .elasticache_canonical_id()
                    .to_string()
            )]
        );
        assert_eq!(
            run.backup.unwrap().snapshot_arns,
            ["arn:aws-cn:s3:::seeds/restore-1/ecb-orders-bbbb0002-0001.rdb"]
        );
    }

    #[tokio::test]
    async fn bucket_policy_seeding_reads_the_export_itself_and_copies_nothing() {
        let mut d = deps();
        d.config.region = Some("us-gov-west-1".into());
        d.config.seeding_mode = Some(SeedingMode::BucketPolicy);
        let run = function_handler(
            event(serde_json::json!({"replicationGroupId": "orders", "latest": true, "targetReplicationGroupId": "new-orders"})),
            &d,
        )
        .await
        .unwrap();
        assert!(d.exports.seed_copies.lock().unwrap().is_empty());
        assert_eq!(
            run.backup.unwrap().snapshot_arns,
            [format!(
                "arn:aws-us-gov:s3:::{BUCKET}/ecb-orders-bbbb0002-0001.rdb"
            )]
        );
        // object-acl without a seed bucket: a deployment error, named, and nothing copied.
        let mut d = deps();
        d.config.seed_bucket = None;
        let err = function_handler(
            event(serde_json::json!({"replicationGroupId": "orders", "latest": true, "targetReplicationGroupId": "new-orders"})),
            &d,
        )
        .await
        .unwrap_err();
        assert!(err.to_string().contains("SEED_BUCKET"), "{err}");
        assert!(d.exports.seed_copies.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_backup_from_the_vault_is_copied_into_the_deployment_s_bucket_to_be_seeded() {
        const VAULT: &str = "acme-vault";
        let mut d = deps();
        d.config.region = Some("us-gov-west-1".into());
        d.config.seeding_mode = Some(SeedingMode::BucketPolicy);
        d.config.vault = Some(backup_core::config::Vault {
            bucket: VAULT.into(),
            replication_role_arn: None,
            account_id: None,
        });
        let at = datetime!(2026-11-22 03:00 UTC);
        let export = "ecb-orders-cccc0003";
        d.exports
            .put_bytes(VAULT, &format!("{export}-0001.rdb"), b"RDB".to_vec(), at);
        d.exports.put_bytes(
            VAULT,
            &format!("{export}.manifest.json"),
            manifest(export, "2026-11-23T03:00:00Z", b"RDB").into_bytes(),
            at,
        );
        let run = function_handler(
            event(
                serde_json::json!({"replicationGroupId": "orders", "latest": true, "bucket": VAULT,
                                     "targetReplicationGroupId": "new-orders"}),
            ),
            &d,
        )
        .await
        .unwrap();
        assert_eq!(
            d.exports.seed_copies.lock().unwrap().clone(),
            [(
                VAULT.to_string(),
                format!("{export}-0001.rdb"),
                BUCKET.to_string(),
                format!("restore-seeds/restore-1/{export}-0001.rdb"),
                String::new(),
            )]
        );
        let backup = run.backup.unwrap();
        assert_eq!(backup.bucket, VAULT);
        assert_eq!(
            backup.snapshot_arns,
            [format!(
                "arn:aws-us-gov:s3:::{BUCKET}/restore-seeds/restore-1/{export}-0001.rdb"
            )]
        );
    }

    #[tokio::test]
    async fn a_node_group_with_several_slot_ranges_is_refused_before_anything_is_copied() {
        let d = deps();
        let export = "ecb-big-cccc0003";
        let object = |n: u32, slots: &str| {
            serde_json::json!({"key": format!("{export}-000{n}.rdb"), "sizeBytes": 3, "sha256": "0000",
                               "nodeGroupId": format!("000{n}"), "slots": slots,
                               "rdb": {"magic": "REDIS", "version": 10, "keys": 1, "keysWithExpiry": 0}})
        };
        let manifest = serde_json::json!({
            "manifestVersion": 4, "tool": "elasticache-backup", "exportName": export, "bucket": BUCKET,
            "source": {"replicationGroupId": "big", "role": "group", "clusterMode": "enabled", "shardCount": 2},
            "verifiedAt": "2026-11-22T03:00:00Z",
            "totals": {"objects": 2, "keys": 2, "keysWithExpiry": 0, "bytes": 6},
            "objects": [object(1, "0-100,8000-16383"), object(2, "101-7999")]
        });
        let at = datetime!(2026-11-22 03:00 UTC);
        for n in 1..=2 {
            d.exports
                .put_bytes(BUCKET, &format!("{export}-000{n}.rdb"), b"RDB".to_vec(), at);
        }
        d.exports.put_bytes(
            BUCKET,
            &format!("{export}.manifest.json"),
            manifest.to_string().into_bytes(),
            at,
        );
        let err = function_handler(
            event(
                serde_json::json!({"manifest": format!("s3://{BUCKET}/{export}.manifest.json"),
                                     "targetReplicationGroupId": "new-big"}),
            ),
            &d,
        )
        .await
        .unwrap_err();
        assert_eq!(err.error_type(), "NotSupported");
        assert!(
            err.to_string()
                .contains("node group 0001 owns several slot ranges (0-100,8000-16383)"),
            "{err}"
        );
        assert!(d.exports.seed_copies.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn an_existing_target_is_target_exists() {
        let err = function_handler(event(serde_json::json!({"manifest": format!("s3://{BUCKET}/ecb-orders-aaaa0001.manifest.json"), "targetReplicationGroupId": "orders"})), &deps())
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "TargetExists");
    }

    #[tokio::test]
    async fn a_changed_object_is_backup_corrupt_and_a_missing_manifest_backup_not_found() {
        let d = deps();
        d.exports.put_bytes(
            BUCKET,
            "ecb-orders-aaaa0001-0001.rdb",
            b"RDB+".to_vec(),
            datetime!(2026-11-22 04:00 UTC),
        );
        let input = serde_json::json!({"manifest": format!("s3://{BUCKET}/ecb-orders-aaaa0001.manifest.json"), "targetReplicationGroupId": "new"});
        assert_eq!(
            function_handler(event(input), &d)
                .await
                .unwrap_err()
                .error_type(),
            "BackupCorrupt"
        );
        let input = serde_json::json!({"manifest": format!("s3://{BUCKET}/nope.manifest.json"), "targetReplicationGroupId": "new"});
        assert_eq!(
            function_handler(event(input), &d)
                .await
                .unwrap_err()
                .error_type(),
            "BackupNotFound"
        );
    }

    #[tokio::test]
    async fn verify_before_restore_compares_the_sha256() {
        let input = serde_json::json!({"manifest": format!("s3://{BUCKET}/ecb-orders-aaaa0001.manifest.json"), "targetReplicationGroupId": "new", "verifyBeforeRestore": true});
        // b"RDB" is no RDB file: the checker refuses it before any hash comparison.
        assert_eq!(
            function_handler(event(input), &deps())
                .await
                .unwrap_err()
                .error_type(),
            "BackupCorrupt"
        );
    }

    fn manifest_uri(export: &str) -> String {
        format!("s3://{BUCKET}/{export}.manifest.json")
    }

    /// Rewrites manifest `export`'s objects' per-database counts to `databases`.
    fn set_databases(
        d: &Deps<FakeSnapshots, FakeExportStore, FakeStoreVerifier, FixedClock>,
        export: &str,
        databases: serde_json::Value,
    ) {
        let key = format!("{export}.manifest.json");
        let mut m: serde_json::Value =
            serde_json::from_slice(&d.exports.get(BUCKET, &key).unwrap()).unwrap();
        m["objects"][0]["rdb"]["databases"] = databases;
        d.exports.put_bytes(
            BUCKET,
            &key,
            serde_json::to_vec(&m).unwrap(),
            datetime!(2026-11-22 03:00 UTC),
        );
    }

    #[tokio::test]
    async fn a_node_based_backup_restores_into_serverless_from_its_seed_copies() {
        let d = deps();
        set_databases(
            &d,
            "ecb-orders-aaaa0001",
            serde_json::json!({"0": {"keys": 1, "keysWithExpiry": 0}}),
        );
        let run = function_handler(
            event(
                serde_json::json!({"manifest": manifest_uri("ecb-orders-aaaa0001"),
                                     "targetServerlessCacheName": "orders-sl"}),
            ),
            &d,
        )
        .await
        .unwrap();
        assert_eq!(
            d.snapshots.calls_of("DescribeServerlessCaches"),
            ["DescribeServerlessCaches orders-sl"]
        );
        assert!(d.snapshots.calls_of("DescribeReplicationGroups").is_empty());
        let b = run.backup.unwrap();
        assert_eq!(
            b.snapshot_arns,
            ["arn:aws:s3:::seeds/restore-1/ecb-orders-aaaa0001-0001.rdb"]
        );
        assert!(run.warnings.is_empty(), "{:?}", run.warnings);
        assert_eq!(
            run.request.unwrap().target_serverless_cache_name.as_deref(),
            Some("orders-sl")
        );
    }

    #[tokio::test]
    async fn a_kept_snapshot_seeds_a_serverless_cache_by_its_arn_and_nothing_is_copied() {
        let d = deps();
        d.snapshots
            .insert_snapshot(backup_core::resources::SnapshotInfo {
                name: "ecb-orders-aaaa0001".into(),
                status: "available".into(),
                ..Default::default()
            });
        let run = function_handler(
            event(
                serde_json::json!({"manifest": manifest_uri("ecb-orders-aaaa0001"),
                                     "targetServerlessCacheName": "orders-sl"}),
            ),
            &d,
        )
        .await
        .unwrap();
        let b = run.backup.unwrap();
        assert_eq!(
            b.kept_snapshot_arn.as_deref(),
            Some("arn:aws:elasticache:eu-west-1:123456789012:snapshot:ecb-orders-aaaa0001")
        );
        assert!(b.snapshot_arns.is_empty());
        assert!(d.exports.seed_copies.lock().unwrap().is_empty());
        // The manifest records no per-database counts: said, not refused.
        assert!(
            run.warnings.iter().any(|w| w.contains("per-database")),
            "{:?}",
            run.warnings
        );
    }

    #[tokio::test]
    async fn a_serverless_backup_looks_for_its_kept_serverless_snapshot() {
        let d = deps();
        let key = "ecb-orders-aaaa0001.manifest.json";
        let mut m: serde_json::Value =
            serde_json::from_slice(&d.exports.get(BUCKET, key).unwrap()).unwrap();
        m["source"] = serde_json::json!({"serverlessCacheName": "sessions", "role": "group",
                                         "clusterMode": "enabled", "shardCount": 1, "engine": "valkey",
                                         "engineVersion": "8.0"});
        d.exports.put_bytes(
            BUCKET,
            key,
            serde_json::to_vec(&m).unwrap(),
            datetime!(2026-11-22 03:00 UTC),
        );
        d.snapshots
            .insert_serverless_snapshot(backup_core::resources::SnapshotInfo {
                name: "ecb-orders-aaaa0001".into(),
                status: "available".into(),
                ..Default::default()
            });
        let run = function_handler(
            event(serde_json::json!({"manifest": manifest_uri("ecb-orders-aaaa0001"), "drill": true, "serverless": true})),
            &d,
        )
        .await
        .unwrap();
        let b = run.backup.unwrap();
        assert!(b.source_serverless);
        assert_eq!(b.source_id, "sessions");
        assert_eq!(
            b.kept_snapshot_arn.as_deref(),
            Some(
                "arn:aws:elasticache:eu-west-1:123456789012:serverlesscachesnapshot:ecb-orders-aaaa0001"
            )
        );
        assert!(d.snapshots.calls_of("DescribeSnapshots").is_empty());
    }

    #[tokio::test]
    async fn keys_outside_database_0_or_an_existing_cache_refuse_a_serverless_restore_before_any_copy()
     {
        let d = deps();
        set_databases(
            &d,
            "ecb-orders-aaaa0001",
            serde_json::json!({"0": {"keys": 1, "keysWithExpiry": 0}, "3": {"keys": 2, "keysWithExpiry": 0}}),
        );
        let input = serde_json::json!({"manifest": manifest_uri("ecb-orders-aaaa0001"),
                                       "targetServerlessCacheName": "orders-sl"});
        let err = function_handler(event(input.clone()), &d)
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "NotSupported");
        assert!(err.to_string().contains("database(s) 3"), "{err}");
        assert!(d.exports.seed_copies.lock().unwrap().is_empty());

        let d = deps();
        d.snapshots.0.lock().unwrap().serverless_caches.extend(
            FakeSnapshots::serverless("orders-sl", "redis")
                .0
                .into_inner()
                .unwrap()
                .serverless_caches,
        );
        let err = function_handler(event(input), &d).await.unwrap_err();
        assert_eq!(err.error_type(), "TargetExists");
        assert!(
            err.to_string().contains("serverless cache orders-sl"),
            "{err}"
        );
        assert!(d.exports.seed_copies.lock().unwrap().is_empty());
    }
}
