//! VerifyExport step: every shard object of the export is read from S3 end to end (bounded memory), parsed and
//! checksummed by `rdb-check`, hashed (SHA-256) and counted (the [`Verifier`] port); then the [`Manifest`]
//! recording what the backup holds is written next to the export as `<exportName>.manifest.json`. Runs between
//! CheckExport and DeleteSnapshot: a corrupt export ends the run with the source snapshot kept.
//!
//! In the state machine the work is split so that the limit is one shard per invocation (900 s), not the whole
//! backup: the `VerifyExport` Map state invokes this function once per object of `export.objects` with a
//! [`ShardRequest`] (`{"bucket", "exportName", "object": {"key", "sizeBytes"}}`) and collects the
//! [`VerifiedShard`]s into the run document's `verifiedObjects`; then `WriteManifest` invokes it with that run
//! document, which lists the export again, requires every object listed to be verified at its size, writes the
//! manifest and removes `verifiedObjects`. A run document without `verifiedObjects` is verified whole, in one
//! invocation (the same manifest).

use backup_core::backup::export::inspect;
use backup_core::backup::manifest::Manifest;
use backup_core::backup::run::ExportedObject;
#[cfg(test)]
use backup_core::backup::run::VerifiedShard;
use backup_core::backup::verify::{self, at_listed_size, lock_error, millis_between};
pub use backup_core::backup::verify::{ShardOutcome, ShardRequest, VerifyRequest, VerifyResponse};
use backup_core::model::VerifiedObject;
use backup_core::naming::{manifest_key, verified_tags};
use backup_core::ports::{
    BatchReplicator, ExportStore, ObjectLocker, ReportPublisher, VerifiedTagger, Verifier,
};
use backup_core::{BackupError, BackupRun, Clock, Deps};
use lambda_runtime::LambdaEvent;

/// The state name this handler serves, used for timings.
pub const STEP: &str = "VerifyExport";

/// Handles one VerifyExport invocation (see the module documentation for the two shapes).
///
/// # Errors
/// `ExportCorrupt` (an object is not a sound RDB, or changed size, or was not verified; the message names it and
/// the offset), `ExportIncomplete` (objects missing), `ExportRejected` (bucket gone), `Throttled`, `AwsError`,
/// `InvalidInput` (an object that is not one of the export's); after verification, `AwsRejected` when S3 refuses
/// a lock, the verified tag or the vault's replication job (the message says the backup itself is verified).
#[tracing::instrument(skip_all)]
pub async fn function_handler<E: Store, V: Verifier, C: Clock>(
    event: LambdaEvent<VerifyRequest>,
    deps: &Deps<(), E, V, C>,
) -> Result<VerifyResponse, BackupError> {
    handle(event.payload, time_left(event.context.deadline), deps).await
}

/// What VerifyExport needs of the export bucket: list and write, lock, tag (and write tagged), and start the vault's
/// replication.
pub trait Store:
    ExportStore + ObjectLocker + VerifiedTagger + ReportPublisher + BatchReplicator
{
}
impl<T: ExportStore + ObjectLocker + VerifiedTagger + ReportPublisher + BatchReplicator> Store
    for T
{
}

/// [`function_handler`] with the time the invocation has left (`None` when unknown).
async fn handle<E: Store, V: Verifier, C: Clock>(
    payload: VerifyRequest,
    left: Option<std::time::Duration>,
    deps: &Deps<(), E, V, C>,
) -> Result<VerifyResponse, BackupError> {
    match payload {
        VerifyRequest::Shard(shard) => match verify_shard(*shard, left, deps).await? {
            ShardOutcome::Verified(shard) => Ok(VerifyResponse::Shard(Box::new(shard))),
            ShardOutcome::Paused(next) => Ok(VerifyResponse::Paused(Box::new(next))),
        },
        VerifyRequest::Run(run) => write_manifest(*run, deps)
            .await
            .map(|run| VerifyResponse::Run(Box::new(run))),
    }
}

/// Reads one object end to end and checks that its size is the one listed.
async fn verify_object<V: Verifier>(
    verifier: &V,
    bucket: &str,
    listed: &ExportedObject,
) -> Result<VerifiedObject, BackupError> {
    let v = at_listed_size(verifier.verify_object(bucket, &listed.key).await?, listed)?;
    tracing::info!(key = %v.key, keys = v.rdb.keys, bytes = v.size_bytes, "object verified");
    Ok(v)
}

/// The time this invocation has left before Lambda stops it, from the context's deadline (Unix milliseconds).
/// `None` when it is not known: no deadline (0), or one less than a second away as the invocation starts, which no
/// Lambda function has (its timeout is at least 1 s) but a local runtime may give (`cargo lambda watch`).
fn time_left(deadline_ms: u64) -> Option<std::time::Duration> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    let left = std::time::Duration::from_millis(deadline_ms).checked_sub(now)?;
    (left >= std::time::Duration::from_secs(1)).then_some(left)
}

/// One VerifyShard invocation: checks the object from the start or from the request's checkpoint for the budget,
/// then returns it verified or the request for the next invocation.
async fn verify_shard<E: ExportStore, V: Verifier, C: Clock>(
    shard: ShardRequest,
    left: Option<std::time::Duration>,
    deps: &Deps<(), E, V, C>,
) -> Result<ShardOutcome, BackupError> {
    shard.check()?;
    let budget = shard.budget(deps.config.verify_budget_seconds, left);
    let started = deps.clock.now();
    let step = deps
        .verifier
        .verify_object_from(
            &shard.bucket,
            &shard.object.key,
            shard.checkpoint.as_ref(),
            budget,
        )
        .await?;
    if let Some(reason) = &step.restarted {
        tracing::warn!(%reason, "checkpoint not used: the object is verified from its first byte");
    }
    let millis = millis_between(started, deps.clock.now());
    let outcome = shard.outcome(step, millis)?;
    match &outcome {
        ShardOutcome::Verified(v) => {
            tracing::info!(key = %v.object.key, keys = v.object.rdb.keys, bytes = v.object.size_bytes, "object verified");
        }
        ShardOutcome::Paused(next) => {
            if let Some(c) = &next.checkpoint {
                tracing::info!(key = %next.object.key, offset = c.offset, size = c.size_bytes, invocations = c.invocations, "verification paused");
            }
        }
    }
    Ok(outcome)
}

async fn write_manifest<E: Store, V: Verifier, C: Clock>(
    mut run: BackupRun,
    deps: &Deps<(), E, V, C>,
) -> Result<BackupRun, BackupError> {
    let started = deps.clock.now();
    let bucket = run.request()?.bucket.clone();
    let export_name = run.export_name()?.to_string();
    let listed = verify::objects_to_verify(inspect(&deps.exports, &run).await?, &export_name)?;
    let shards = std::mem::take(&mut run.verified_objects);
    let objects = if shards.is_empty() {
        let mut objects = Vec::with_capacity(listed.len());
        for listed in &listed {
            objects.push(verify_object(&deps.verifier, &bucket, listed).await?);
        }
        objects
    } else {
        verify::verified_objects(&listed, &shards)?
    };

    let manifest = Manifest::of_run(&run, &objects, deps.clock.now())?;
    let key = manifest_key(&export_name);
    // A backup is locked exactly when it is proven good (docs/design.md §7c): per-object retention on every shard
    // object, then the manifest is written, then locked too — never a bucket default on ElastiCache's own uploads
    // (which would need an integrity header on each of them; S3 User Guide, "Object Lock considerations"). A lock that
    // fails keeps its error's kind (Throttled and AwsError are retried) and, before the manifest, leaves no
    // manifest of an unlocked backup.
    let lock = verify::lock_until(deps.config.object_lock, deps.clock.now());
    if let Some((mode, until)) = lock {
        for object in &manifest.objects {
            let locked = deps
                .exports
                .lock_object(&bucket, &object.key, mode, until)
                .await;
            locked.map_err(|e| lock_error(e, &object.key, mode, until))?;
        }
    }
    // With a vault, proven objects are tagged verified (its replication rule filters on the tag: docs/design.md,
    // "The vault"), after their lock and before the manifest; the manifest carries the tag from its first byte.
    // Nothing is tagged before every object is verified, so an export that failed verification never reaches the
    // vault. Without one nothing reads the tag, and nothing is tagged.
    if deps.config.vault.is_some() {
        let tags = verified_tags();
        for object in &manifest.objects {
            let tagged = deps.exports.tag_object(&bucket, &object.key, &tags).await;
            tagged.map_err(|e| verify::tag_error(e, &object.key))?;
        }
        deps.exports
            .put_tagged(
                &bucket,
                &key,
                manifest.to_json()?.into_bytes(),
                "application/json",
                &tags,
            )
            .await?;
    } else {
        deps.exports
            .put_json(&bucket, &key, manifest.to_json()?)
            .await?;
    }
    if let Some((mode, until)) = lock {
        let locked = deps.exports.lock_object(&bucket, &key, mode, until).await;
        locked.map_err(|e| lock_error(e, &key, mode, until))?;
        tracing::info!(%mode, %until, objects = manifest.objects.len() + 1, "backup locked");
    }
    let mut verification = manifest.verification(key);
    // Tagging writes no new version, and live replication evaluates an object when it is written: the shard
    // objects, written by ElastiCache before they were proven, reach the vault through a Batch Replication job
    // over this export's keys (S3 User Guide, "Replicating existing objects with Batch Replication").
    if let Some(vault) = &deps.config.vault
        && let (Some(role), Some(account)) = (&vault.replication_role_arn, &vault.account_id)
    {
        let token = verify::replication_token(&export_name);
        let job = deps
            .exports
            .replicate_prefix(account, &bucket, &export_name, role, &token)
            .await
            .map_err(|e| verify::replication_error(e, &vault.bucket))?;
        tracing::info!(job = %job, vault = %vault.bucket, "vault replication started");
        verification.vault_replication_job = Some(job);
    }
    run.verification = Some(verification);
    // After the manifest, as in one invocation: the manifest records the steps before verification.
    verify::record_verify_timings(&mut run, STEP, &shards, started, deps.clock.now());
    Ok(run)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_adapters::verify::FakeStoreVerifier;
    use backup_core::Config;
    use backup_core::testing::{FakeExportStore, FixedClock};
    use lambda_runtime::Context;
    use time::macros::datetime;

    const COMPLETE: &str = include_str!("../../../events/verify-export/complete.json");
    const NAME: &str = "ecb-orders-5f1d2a9c";
    const BUCKET: &str = "acme-cache-backups";

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/../../crates/rdb-check/tests/fixtures/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    fn deps(
        objects: &[(&str, Vec<u8>)],
    ) -> Deps<(), FakeExportStore, FakeStoreVerifier, FixedClock> {
        let exports = FakeExportStore::with_bucket(BUCKET);
        for (shard, bytes) in objects {
            exports.put_bytes(
                BUCKET,
                &format!("{NAME}-{shard}.rdb"),
                bytes.clone(),
                datetime!(2026-11-22 03:05 UTC),
            );
        }
        Deps {
            snapshots: (),
            verifier: FakeStoreVerifier(exports.clone()),
            exports,
            clock: FixedClock::at(datetime!(2026-11-22 03:06:05 UTC)),
            probe: (),
            secrets: (),
            config: Config::default(),
        }
    }

    fn run_doc(shards: u32) -> BackupRun {
        let mut run: BackupRun = serde_json::from_str(COMPLETE).unwrap();
        run.source.as_mut().unwrap().shard_count = shards;
        run
    }

    fn event(shards: u32) -> LambdaEvent<VerifyRequest> {
        LambdaEvent::new(
            VerifyRequest::Run(Box::new(run_doc(shards))),
            Context::default(),
        )
    }

    fn whole(r: Result<VerifyResponse, BackupError>) -> Result<BackupRun, BackupError> {
        r.map(|v| match v {
            VerifyResponse::Run(run) => *run,
            VerifyResponse::Shard(s) => panic!("a run document was expected, got {s:?}"),
            VerifyResponse::Paused(s) => panic!("a run document was expected, got {s:?}"),
        })
    }

    #[tokio::test]
    async fn verifies_every_shard_and_writes_the_manifest() {
        let d = deps(&[
            ("0001", fixture("zset-ziplist.rdb")),
            ("0002", fixture("list-quicklist.rdb")),
        ]);
        let run = whole(function_handler(event(2), &d).await).unwrap();

        let v = run.verification.unwrap();
        assert_eq!(v.manifest_key, format!("{NAME}.manifest.json"));
        assert_eq!((v.keys, v.objects.len()), (3, 2));
        assert_eq!(v.objects[0].rdb_version, 10);
        assert_eq!(v.objects[1].keys, 2);
        assert_eq!(v.objects[1].types.get("list"), Some(&1));
        let manifest: serde_json::Value =
            serde_json::from_slice(&d.exports.get(BUCKET, &v.manifest_key).unwrap()).unwrap();
        assert_eq!(manifest["totals"]["keys"], 3);
        let typed = Manifest::from_json(&d.exports.get(BUCKET, &v.manifest_key).unwrap()).unwrap();
        assert_eq!(
            typed.manifest_version,
            backup_core::backup::manifest::MANIFEST_VERSION
        );
        assert_eq!(typed.objects[1].rdb.types.get("list"), Some(&1));
        assert_eq!(manifest["objects"][0]["sha256"], v.objects[0].sha256);
        assert_eq!(manifest["source"]["cacheClusterId"], "orders-002");
        assert_eq!(manifest["execution"]["name"], "nightly-2026-11-22");
        assert_eq!(run.timings[STEP].invocations, 1);
    }

    #[tokio::test]
    async fn a_verified_backup_is_locked_object_by_object_and_only_when_configured() {
        let plain = deps(&[("0001", fixture("zset-ziplist.rdb"))]);
        whole(function_handler(event(1), &plain).await).unwrap();
        assert!(plain.exports.locks.lock().unwrap().is_empty());

        let mut d = deps(&[
            ("0001", fixture("zset-ziplist.rdb")),
            ("0002", fixture("list-quicklist.rdb")),
        ]);
        d.config.object_lock = Some(backup_core::config::ObjectLock {
            mode: backup_core::config::ObjectLockMode::Governance,
            days: 30,
        });
        whole(function_handler(event(2), &d).await).unwrap();
        let locks = d.exports.locks.lock().unwrap().clone();
        let keys: Vec<&str> = locks.iter().map(|(_, k, _, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                format!("{NAME}-0001.rdb"),
                format!("{NAME}-0002.rdb"),
                format!("{NAME}.manifest.json")
            ]
        );
        assert!(locks.iter().all(|(b, _, mode, until)| b == BUCKET
            && mode == "GOVERNANCE"
            && *until == datetime!(2026-12-22 03:06:05 UTC)));

        // A lock S3 refuses fails the run (the snapshot is kept) and says the backup itself is verified.
        let mut d = deps(&[("0001", fixture("zset-ziplist.rdb"))]);
        d.config.object_lock = Some(backup_core::config::ObjectLock {
            mode: backup_core::config::ObjectLockMode::Compliance,
            days: 1,
        });
        d.exports
            .fail_locks
            .lock()
            .unwrap()
            .push_back(BackupError::AwsRejected {
                message: "InvalidRequest: Bucket is missing Object Lock Configuration".into(),
                source: None,
            });
        let err = whole(function_handler(event(1), &d).await).unwrap_err();
        assert_eq!(err.error_type(), "AwsRejected");
        let text = err.to_string();
        assert!(
            text.contains("the backup is verified, but Object Lock retention"),
            "{text}"
        );
        // Before the manifest: no manifest of an unlocked backup.
        assert!(
            d.exports
                .get(BUCKET, &format!("{NAME}.manifest.json"))
                .is_none()
        );
        // A throttled lock stays Throttled (the state machine retries it).
        d.exports
            .fail_locks
            .lock()
            .unwrap()
            .push_back(BackupError::Throttled {
                message: "SlowDown".into(),
                source: None,
            });
        let err = whole(function_handler(event(1), &d).await).unwrap_err();
        assert_eq!(err.error_type(), "Throttled", "{err}");
        assert!(
            text.contains("Bucket is missing Object Lock Configuration"),
            "{text}"
        );
        assert!(text.contains("the source snapshot is kept"), "{text}");
    }

    #[tokio::test]
    async fn a_corrupt_object_is_export_corrupt_naming_it_and_no_manifest_is_written() {
        let mut d = deps(&[("0001", fixture("corrupt_ziplist.rdb"))]);
        d.config.vault = Some(backup_core::config::Vault {
            bucket: "acme-vault".into(),
            replication_role_arn: Some("arn:aws:iam::111122223333:role/batch".into()),
            account_id: Some("111122223333".into()),
        });
        let err = whole(function_handler(event(1), &d).await).unwrap_err();
        assert_eq!(err.error_type(), "ExportCorrupt");
        let msg = err.to_string();
        assert!(
            msg.starts_with(&format!("{NAME}-0001.rdb: corrupt at offset")),
            "{msg}"
        );
        assert!(d.exports.get(BUCKET, &manifest_key(NAME)).is_none());
        // Nothing of a backup that failed verification is tagged, so none of it reaches the vault.
        assert!(d.exports.tags.lock().unwrap().is_empty());
        assert!(d.exports.replications.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_verified_backup_is_tagged_then_replicated_to_the_vault() {
        let tag = vec![(
            "elasticache-backup:verified".to_string(),
            "true".to_string(),
        )];
        let keys = [
            format!("{NAME}-0001.rdb"),
            format!("{NAME}-0002.rdb"),
            manifest_key(NAME),
        ];
        // Without a vault nothing reads the tag: nothing tagged, no replication job.
        let plain = deps(&[
            ("0001", fixture("zset-ziplist.rdb")),
            ("0002", fixture("list-quicklist.rdb")),
        ]);
        let run = whole(function_handler(event(2), &plain).await).unwrap();
        assert!(plain.exports.tags.lock().unwrap().is_empty());
        assert!(plain.exports.replications.lock().unwrap().is_empty());
        assert_eq!(run.verification.unwrap().vault_replication_job, None);

        // With a vault: one Batch Replication job over this export's keys, by the configured role.
        let mut d = deps(&[
            ("0001", fixture("zset-ziplist.rdb")),
            ("0002", fixture("list-quicklist.rdb")),
        ]);
        d.config.vault = Some(backup_core::config::Vault {
            bucket: "acme-vault".into(),
            replication_role_arn: Some("arn:aws:iam::111122223333:role/batch".into()),
            account_id: Some("111122223333".into()),
        });
        let run = whole(function_handler(event(2), &d).await).unwrap();
        for key in &keys {
            assert_eq!(d.exports.tags_of(BUCKET, key), tag, "{key}");
        }
        assert_eq!(
            d.exports.replications.lock().unwrap().clone(),
            vec![(
                "111122223333".to_string(),
                BUCKET.to_string(),
                NAME.to_string(),
                "arn:aws:iam::111122223333:role/batch".to_string(),
                NAME.to_string(),
            )]
        );
        assert_eq!(
            run.verification.unwrap().vault_replication_job.as_deref(),
            Some("job-1")
        );
        // A vault without a Batch Operations role (the local stack: its replication step stands in): tagged, no job.
        let mut read_only = deps(&[("0001", fixture("zset-ziplist.rdb"))]);
        read_only.config.vault = Some(backup_core::config::Vault {
            bucket: "acme-vault".into(),
            replication_role_arn: None,
            account_id: None,
        });
        whole(function_handler(event(1), &read_only).await).unwrap();
        assert_eq!(read_only.exports.tags_of(BUCKET, &manifest_key(NAME)), tag);
        assert!(read_only.exports.replications.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_refused_tag_fails_the_run_before_the_manifest_and_a_refused_job_after_it() {
        let mut d = deps(&[("0001", fixture("zset-ziplist.rdb"))]);
        d.config.vault = Some(backup_core::config::Vault {
            bucket: "acme-vault".into(),
            replication_role_arn: None,
            account_id: None,
        });
        d.exports
            .fail_tags
            .lock()
            .unwrap()
            .push_back(BackupError::AwsRejected {
                message: "AccessDenied".into(),
                source: None,
            });
        let err = whole(function_handler(event(1), &d).await).unwrap_err();
        assert_eq!(err.error_type(), "AwsRejected");
        assert!(
            err.to_string().contains("does not reach the vault"),
            "{err}"
        );
        assert!(d.exports.get(BUCKET, &manifest_key(NAME)).is_none());

        let mut d = deps(&[("0001", fixture("zset-ziplist.rdb"))]);
        d.config.vault = Some(backup_core::config::Vault {
            bucket: "acme-vault".into(),
            replication_role_arn: Some("arn:aws:iam::111122223333:role/batch".into()),
            account_id: Some("111122223333".into()),
        });
        d.exports
            .fail_replications
            .lock()
            .unwrap()
            .push_back(BackupError::Throttled {
                message: "TooManyRequests".into(),
                source: None,
            });
        let err = whole(function_handler(event(1), &d).await).unwrap_err();
        assert_eq!(err.error_type(), "Throttled", "{err}");
        assert!(err.to_string().contains("acme-vault"), "{err}");
        // The retry (same token) starts the job.
        whole(function_handler(event(1), &d).await).unwrap();
        assert_eq!(d.exports.replications.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_truncated_object_is_export_corrupt() {
        let mut bytes = fixture("hash-ziplist.rdb");
        bytes.truncate(bytes.len() / 2);
        let d = deps(&[("0001", bytes)]);
        let err = whole(function_handler(event(1), &d).await).unwrap_err();
        assert!(err.to_string().contains("truncated"), "{err}");
    }

    #[tokio::test]
    async fn a_missing_shard_is_export_incomplete() {
        let d = deps(&[("0001", fixture("zset-ziplist.rdb"))]);
        assert_eq!(
            whole(function_handler(event(2), &d).await)
                .unwrap_err()
                .error_type(),
            "ExportIncomplete"
        );
    }

    fn shard_event(key: &str, size: u64) -> LambdaEvent<VerifyRequest> {
        let json = serde_json::json!({
            "bucket": BUCKET, "exportName": NAME, "object": {"key": key, "sizeBytes": size}
        });
        LambdaEvent::new(serde_json::from_value(json).unwrap(), Context::default())
    }

    async fn shard(
        d: &Deps<(), FakeExportStore, FakeStoreVerifier, FixedClock>,
        key: &str,
    ) -> VerifiedShard {
        let size = d.exports.get(BUCKET, key).unwrap().len() as u64;
        match function_handler(shard_event(key, size), d).await.unwrap() {
            VerifyResponse::Shard(s) => *s,
            VerifyResponse::Run(_) | VerifyResponse::Paused(_) => {
                panic!("a shard result was expected")
            }
        }
    }

    /// No time left: the budget is 0 and every invocation pauses after one opcode.
    fn no_time_left() -> Option<std::time::Duration> {
        Some(std::time::Duration::ZERO)
    }

    /// Time left unknown: the request's budget.
    fn time_unknown() -> Option<std::time::Duration> {
        None
    }

    #[test]
    fn the_time_left_comes_from_the_deadline_unless_it_is_less_than_a_second_away() {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        let left = time_left(now + 600_000).unwrap();
        assert!(
            left > std::time::Duration::from_secs(590)
                && left <= std::time::Duration::from_secs(600)
        );
        for unknown in [0, now - 5, now, now + 500] {
            assert_eq!(time_left(unknown), None, "{unknown}");
        }
    }

    /// Invokes VerifyShard on `request` (through its JSON form, as the Map's loop does) until it is verified, with
    /// `ctx` each time; returns the result and the requests it paused with.
    async fn loop_shard(
        d: &Deps<(), FakeExportStore, FakeStoreVerifier, FixedClock>,
        mut request: serde_json::Value,
        left: impl Fn() -> Option<std::time::Duration>,
    ) -> (Result<VerifiedShard, BackupError>, Vec<serde_json::Value>) {
        let mut paused = Vec::new();
        for _ in 0..100_000 {
            let payload = serde_json::from_value(request.clone()).unwrap();
            match handle(payload, left(), d).await {
                Err(e) => return (Err(e), paused),
                Ok(VerifyResponse::Shard(s)) => return (Ok(*s), paused),
                Ok(VerifyResponse::Paused(next)) => {
                    request = serde_json::to_value(&next).unwrap();
                    // The Choice after VerifyShard loops exactly while the output has a checkpoint.
                    assert!(request.get("checkpoint").is_some());
                    paused.push(request.clone());
                }
                Ok(VerifyResponse::Run(_)) => panic!("a shard result was expected"),
            }
        }
        panic!("VerifyShard did not finish");
    }

    #[tokio::test]
    async fn a_shard_verified_across_many_invocations_gives_the_one_invocation_result() {
        let name = "standalone-redis-6.2.rdb";
        let d = deps(&[("0001", fixture(name))]);
        let key = format!("{NAME}-0001.rdb");
        let once = shard(&d, &key).await;
        let size = once.object.size_bytes;
        let first = serde_json::json!({
            "bucket": BUCKET, "exportName": NAME, "object": {"key": key, "sizeBytes": size},
            "verifyBudgetSeconds": 600
        });
        let (got, paused) = loop_shard(&d, first, no_time_left).await;
        let got = got.unwrap();
        assert_eq!(got.object, once.object, "{name}");
        assert!(paused.len() > 10, "{} pauses", paused.len());
        let mut last = 0;
        for (i, p) in paused.iter().enumerate() {
            let c = &p["checkpoint"];
            let offset = c["offset"].as_u64().unwrap();
            assert!(offset > last, "invocation {i} made no progress");
            last = offset;
            assert_eq!(c["invocations"], i + 1);
            assert_eq!(p["verifyBudgetSeconds"], 600);
            assert!(serde_json::to_string(c).unwrap().len() < 4096);
        }
    }

    #[tokio::test]
    async fn a_shard_that_needs_more_than_the_most_invocations_fails_naming_the_budget() {
        let d = deps(&[("0001", fixture("cluster-redis-7.0.rdb"))]);
        let key = format!("{NAME}-0001.rdb");
        let size = d.exports.get(BUCKET, &key).unwrap().len();
        let first = serde_json::json!({
            "bucket": BUCKET, "exportName": NAME, "object": {"key": key, "sizeBytes": size},
            "verifyBudgetSeconds": 5
        });
        let (got, paused) = loop_shard(&d, first, no_time_left).await;
        let err = got.unwrap_err();
        assert_eq!(err.error_type(), "ExportTimeout");
        assert!(
            err.to_string().contains("verifyBudgetSeconds (now 5)"),
            "{err}"
        );
        assert_eq!(paused.len(), 99);
    }

    /// A store holding one object (`standalone-redis-6.2.rdb`), what one invocation finds in it, and the requests a
    /// verification with no time left pauses with.
    async fn paused_requests() -> (
        Deps<(), FakeExportStore, FakeStoreVerifier, FixedClock>,
        VerifiedShard,
        Vec<serde_json::Value>,
    ) {
        let d = deps(&[("0001", fixture("standalone-redis-6.2.rdb"))]);
        let key = format!("{NAME}-0001.rdb");
        let once = shard(&d, &key).await;
        let first = serde_json::json!({
            "bucket": BUCKET, "exportName": NAME,
            "object": {"key": key, "sizeBytes": once.object.size_bytes}
        });
        let (_, paused) = loop_shard(&d, first, no_time_left).await;
        (d, once, paused)
    }

    #[tokio::test]
    async fn a_checkpoint_of_another_format_restarts_the_shard_from_its_first_byte() {
        let (d, once, paused) = paused_requests().await;
        let mut old = paused[paused.len() / 2].clone();
        old["checkpoint"]["rdb"]["format"] = serde_json::json!(0);
        // With time to finish, the invocation verifies the whole object again, and counts one invocation.
        let (got, more) = loop_shard(&d, old, time_unknown).await;
        assert!(more.is_empty());
        assert_eq!(got.unwrap().object, once.object);
    }

    #[tokio::test]
    async fn an_object_that_changes_between_invocations_is_export_corrupt() {
        let (d, _, paused) = paused_requests().await;
        let key = format!("{NAME}-0001.rdb");
        let mut other = fixture("standalone-redis-6.2.rdb");
        let at = other.len() - 20;
        other[at] ^= 1;
        d.exports
            .put_bytes(BUCKET, &key, other, datetime!(2026-11-22 03:05 UTC));
        let (got, _) = loop_shard(&d, paused[0].clone(), time_unknown).await;
        let err = got.unwrap_err();
        assert_eq!(err.error_type(), "ExportCorrupt");
        assert!(
            err.to_string().contains("changed while it was verified"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn shards_verified_one_per_invocation_give_the_manifest_of_one_invocation() {
        let objects = [
            ("0001", fixture("zset-ziplist.rdb")),
            ("0002", fixture("list-quicklist.rdb")),
            ("0003", fixture("hash-ziplist.rdb")),
        ];
        let whole_deps = deps(&objects);
        let once = whole(function_handler(event(3), &whole_deps).await).unwrap();

        let d = deps(&objects);
        let mut run = run_doc(3);
        for (n, _) in objects.iter().rev() {
            // The Map state's results, in any order, through their JSON form.
            let s = shard(&d, &format!("{NAME}-{n}.rdb")).await;
            let json = serde_json::to_value(&s).unwrap();
            assert_eq!(json["object"]["key"], format!("{NAME}-{n}.rdb"));
            run.verified_objects
                .push(serde_json::from_value(json).unwrap());
        }
        let doc = serde_json::to_value(&run).unwrap();
        assert_eq!(doc["verifiedObjects"].as_array().unwrap().len(), 3);
        let request: VerifyRequest = serde_json::from_value(doc).unwrap();
        assert!(matches!(request, VerifyRequest::Run(_)));
        let split =
            whole(function_handler(LambdaEvent::new(request, Context::default()), &d).await)
                .unwrap();

        let key = manifest_key(NAME);
        let manifest = |d: &Deps<(), FakeExportStore, FakeStoreVerifier, FixedClock>| {
            serde_json::from_slice::<serde_json::Value>(&d.exports.get(BUCKET, &key).unwrap())
                .unwrap()
        };
        let (split_manifest, once_manifest) = (manifest(&d), manifest(&whole_deps));
        assert!(
            split_manifest == once_manifest,
            "manifests differ:\n{split_manifest:#}\n{once_manifest:#}"
        );
        assert_eq!(split.verification, once.verification);
        assert!(
            split.verified_objects.is_empty(),
            "verifiedObjects is consumed"
        );
        assert!(
            !serde_json::to_string(&split)
                .unwrap()
                .contains("verifiedObjects")
        );
        assert_eq!(
            split.timings[STEP].invocations, 4,
            "three shards and the manifest"
        );
    }

    #[tokio::test]
    async fn an_object_listed_but_not_verified_fails_the_manifest() {
        let d = deps(&[
            ("0001", fixture("zset-ziplist.rdb")),
            ("0002", fixture("list-quicklist.rdb")),
        ]);
        let mut run = run_doc(2);
        run.verified_objects
            .push(shard(&d, &format!("{NAME}-0001.rdb")).await);
        let err = whole(
            function_handler(
                LambdaEvent::new(VerifyRequest::Run(Box::new(run)), Context::default()),
                &d,
            )
            .await,
        )
        .unwrap_err();
        assert_eq!(err.error_type(), "ExportCorrupt");
        assert!(
            err.to_string().contains("0002.rdb: in S3 but not verified"),
            "{err}"
        );
        assert!(d.exports.get(BUCKET, &manifest_key(NAME)).is_none());
    }

    #[tokio::test]
    async fn a_corrupt_shard_fails_its_own_invocation_naming_it() {
        let d = deps(&[("0001", fixture("corrupt_ziplist.rdb"))]);
        let key = format!("{NAME}-0001.rdb");
        let size = d.exports.get(BUCKET, &key).unwrap().len() as u64;
        let err = function_handler(shard_event(&key, size), &d)
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "ExportCorrupt");
        assert!(
            err.to_string()
                .starts_with(&format!("{key}: corrupt at offset")),
            "{err}"
        );
        let err = function_handler(shard_event(&key, size + 1), &d)
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "ExportCorrupt");
    }

    #[tokio::test]
    async fn a_shard_of_another_export_is_refused() {
        let d = deps(&[("0001", fixture("zset-ziplist.rdb"))]);
        let err = function_handler(shard_event("other-backup-0001.rdb", 10), &d)
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "InvalidInput");
        assert!(err.to_string().contains("object.key"), "{err}");
    }

    #[test]
    fn the_sample_events_parse_as_the_shape_they_show() {
        let shard: VerifyRequest =
            serde_json::from_str(include_str!("../../../events/verify-export/shard.json")).unwrap();
        assert!(
            matches!(shard, VerifyRequest::Shard(s) if s.object.key == format!("{NAME}-0001.rdb"))
        );
        let run: VerifyRequest = serde_json::from_str(COMPLETE).unwrap();
        assert!(matches!(run, VerifyRequest::Run(r) if r.export_name.as_deref() == Some(NAME)));
    }
}
