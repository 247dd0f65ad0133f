//! VerifyExport step: every shard object of the export is read from S3 end to end (bounded memory), parsed and
//! checksummed by `rdb-check`, hashed (SHA-256) and counted (the [`Verifier`] port); then the [`Manifest`]
//! recording what the backup holds is written next to the export as `<exportName>.manifest.json`. Runs between
//! CheckExport and DeleteSnapshot: a corrupt export ends the run with the source snapshot kept.

use backup_core::export::inspect;
use backup_core::manifest::Manifest;
use backup_core::naming::manifest_key;
use backup_core::ports::{ExportStore, Verifier};
use backup_core::{BackupError, BackupRun, Clock, Deps};
use lambda_runtime::LambdaEvent;

/// The state name this handler serves, used for timings.
pub const STEP: &str = "VerifyExport";

/// Handles one VerifyExport invocation: sets `verification` and writes the manifest.
///
/// # Errors
/// `ExportCorrupt` (an object is not a sound RDB, or changed size; the message names it and the offset),
/// `ExportIncomplete` (objects missing), `ExportRejected` (bucket gone), `Throttled`, `AwsError`, `InvalidInput`.
#[tracing::instrument(skip_all, fields(export_name = event.payload.export_name.as_deref().unwrap_or("-")))]
pub async fn function_handler<E: ExportStore, V: Verifier, C: Clock>(
    event: LambdaEvent<BackupRun>,
    deps: &Deps<(), E, V, C>,
) -> Result<BackupRun, BackupError> {
    let mut run = event.payload;
    let started = deps.clock.now();
    let bucket = run.request()?.bucket.clone();
    let export_name = run.export_name()?.to_string();
    let assessment = inspect(&deps.exports, &run).await?;
    if !assessment.is_complete() {
        return Err(BackupError::ExportIncomplete {
            message: format!(
                "cannot verify export {export_name}: {}",
                assessment.describe()
            ),
        });
    }

    let mut objects = Vec::new();
    for listed in &assessment.objects {
        let v = deps.verifier.verify_object(&bucket, &listed.key).await?;
        if v.size_bytes != listed.size_bytes {
            return Err(BackupError::ExportCorrupt {
                message: format!(
                    "{}: read {} bytes but S3 lists {}",
                    listed.key, v.size_bytes, listed.size_bytes
                ),
            });
        }
        tracing::info!(key = %v.key, keys = v.rdb.keys, bytes = v.size_bytes, "object verified");
        objects.push(v);
    }

    let manifest = Manifest::of_run(&run, &objects, deps.clock.now())?;
    let key = manifest_key(&export_name);
    deps.exports
        .put_json(&bucket, &key, manifest.to_json()?)
        .await?;
    run.verification = Some(manifest.verification(key));
    run.record_timing(STEP, started, deps.clock.now());
    Ok(run)
}

#[cfg(test)]
mod tests {
    use super::*;
    use backup_core::Config;
    use backup_core::testing::{FakeExportStore, FixedClock};
    use lambda_runtime::Context;
    use rdb_verify::FakeStoreVerifier;
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

    fn event(shards: u32) -> LambdaEvent<BackupRun> {
        let mut run: BackupRun = serde_json::from_str(COMPLETE).unwrap();
        run.source.as_mut().unwrap().shard_count = shards;
        LambdaEvent::new(run, Context::default())
    }

    #[tokio::test]
    async fn verifies_every_shard_and_writes_the_manifest() {
        let d = deps(&[
            ("0001", fixture("zset-ziplist.rdb")),
            ("0002", fixture("list-quicklist.rdb")),
        ]);
        let run = function_handler(event(2), &d).await.unwrap();

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
            backup_core::manifest::MANIFEST_VERSION
        );
        assert_eq!(typed.objects[1].rdb.types.get("list"), Some(&1));
        assert_eq!(manifest["objects"][0]["sha256"], v.objects[0].sha256);
        assert_eq!(manifest["source"]["cacheClusterId"], "orders-002");
        assert_eq!(manifest["execution"]["name"], "nightly-2026-11-22");
        assert_eq!(run.timings[STEP].invocations, 1);
    }

    #[tokio::test]
    async fn a_corrupt_object_is_export_corrupt_naming_it_and_no_manifest_is_written() {
        let d = deps(&[("0001", fixture("corrupt_ziplist.rdb"))]);
        let err = function_handler(event(1), &d).await.unwrap_err();
        assert_eq!(err.error_type(), "ExportCorrupt");
        let msg = err.to_string();
        assert!(
            msg.starts_with(&format!("{NAME}-0001.rdb: corrupt at offset")),
            "{msg}"
        );
        assert!(d.exports.get(BUCKET, &manifest_key(NAME)).is_none());
    }

    #[tokio::test]
    async fn a_truncated_object_is_export_corrupt() {
        let mut bytes = fixture("hash-ziplist.rdb");
        bytes.truncate(bytes.len() / 2);
        let d = deps(&[("0001", bytes)]);
        let err = function_handler(event(1), &d).await.unwrap_err();
        assert!(err.to_string().contains("truncated"), "{err}");
    }

    #[tokio::test]
    async fn a_missing_shard_is_export_incomplete() {
        let d = deps(&[("0001", fixture("zset-ziplist.rdb"))]);
        assert_eq!(
            function_handler(event(2), &d)
                .await
                .unwrap_err()
                .error_type(),
            "ExportIncomplete"
        );
    }
}
