//! VerifyExport step: every shard object of the export is read from S3 end to end (bounded memory), parsed and
//! checksummed by `rdb-check`, hashed (SHA-256) and counted; then a manifest recording what the backup holds is
//! written next to the export as `<exportName>.manifest.json`. Runs between CheckExport and DeleteSnapshot: a corrupt
//! export ends the run with the source snapshot kept.

use backup_core::export::inspect;
use backup_core::ports::ExportStore;
use backup_core::run::{Verification, VerifiedSummary};
use backup_core::{BackupError, BackupRun, Clock};
use lambda_runtime::LambdaEvent;
use serde_json::json;

/// The state name this handler serves, used for timings.
pub const STEP: &str = "VerifyExport";

/// What the handler needs.
pub struct Deps<E, C> {
    /// The export bucket.
    pub exports: E,
    /// Wall clock.
    pub clock: C,
}

/// The manifest key for an export.
pub fn manifest_key(export_name: &str) -> String {
    format!("{export_name}.manifest.json")
}

/// Handles one VerifyExport invocation: sets `verification` and writes the manifest.
///
/// # Errors
/// `ExportCorrupt` (an object is not a sound RDB, or changed size; the message names it and the offset),
/// `ExportIncomplete` (objects missing), `ExportRejected` (bucket gone), `Throttled`, `AwsError`, `InvalidInput`.
#[tracing::instrument(skip_all, fields(export_name = event.payload.export_name.as_deref().unwrap_or("-")))]
pub async fn function_handler<E: ExportStore, C: Clock>(
    event: LambdaEvent<BackupRun>,
    deps: &Deps<E, C>,
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
        let v = deps.exports.verify_object(&bucket, &listed.key).await?;
        if v.size_bytes != listed.size_bytes {
            return Err(BackupError::ExportCorrupt {
                message: format!(
                    "{}: read {} bytes but S3 lists {}",
                    listed.key, v.size_bytes, listed.size_bytes
                ),
            });
        }
        tracing::info!(key = %v.key, keys = v.report.keys, bytes = v.size_bytes, "object verified");
        objects.push(v);
    }

    let now = deps.clock.now();
    let summaries: Vec<VerifiedSummary> = objects
        .iter()
        .map(|v| VerifiedSummary {
            key: v.key.clone(),
            size_bytes: v.size_bytes,
            rdb_version: v.report.version,
            crc64: v.report.checksum.clone(),
            sha256: v.sha256.clone(),
            keys: v.report.keys,
            keys_with_expiry: v.report.keys_with_expiry,
            types: v.report.types.clone(),
        })
        .collect();
    let keys = summaries.iter().map(|s| s.keys).sum();
    let keys_with_expiry = summaries.iter().map(|s| s.keys_with_expiry).sum();
    let key = manifest_key(&export_name);
    let manifest = json!({
        "manifestVersion": 1,
        "tool": "elasticache-backup",
        "snapshotName": run.snapshot_name,
        "exportName": export_name,
        "bucket": bucket,
        "source": run.source,
        "execution": run.execution,
        "snapshot": run.snapshot,
        "export": run.export.as_ref().map(|e| json!({"startedAt": e.started_at.to_string(), "completedAt": e.completed_at.map(|t| t.to_string())})),
        "verifiedAt": now.to_string(),
        "totals": {"objects": summaries.len(), "keys": keys, "keysWithExpiry": keys_with_expiry,
                   "bytes": summaries.iter().map(|s| s.size_bytes).sum::<u64>()},
        "objects": objects.iter().map(|v| json!({
            "key": v.key, "sizeBytes": v.size_bytes, "sha256": v.sha256,
            "rdb": {"magic": v.report.magic, "version": v.report.version, "crc64": v.report.checksum,
                    "redisVersion": v.report.aux.get("redis-ver"), "databases": v.report.databases,
                    "keys": v.report.keys, "keysWithExpiry": v.report.keys_with_expiry,
                    "types": v.report.types, "encodings": v.report.encodings, "functions": v.report.functions},
        })).collect::<Vec<_>>(),
        "timings": run.timings,
    });
    let body = serde_json::to_string_pretty(&manifest).map_err(|e| BackupError::AwsError {
        message: format!("manifest {key}: {e}"),
        source: None,
    })?;
    deps.exports.put_json(&bucket, &key, body).await?;
    run.verification = Some(Verification {
        manifest_key: key,
        verified_at: now,
        keys,
        keys_with_expiry,
        objects: summaries,
    });
    run.record_timing(STEP, started, deps.clock.now());
    Ok(run)
}

#[cfg(test)]
mod tests {
    use super::*;
    use backup_core::testing::{FakeExportStore, FixedClock};
    use lambda_runtime::Context;
    use time::macros::datetime;

    const COMPLETE: &str = include_str!("../../../events/verify-export/complete.json");
    const NAME: &str = "ecb-orders-5f1d2a9c";
    const BUCKET: &str = "acme-cache-backups";

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/../rdb-check/tests/fixtures/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    fn deps(objects: &[(&str, Vec<u8>)]) -> Deps<FakeExportStore, FixedClock> {
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
            exports,
            clock: FixedClock::at(datetime!(2026-11-22 03:06:05 UTC)),
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
