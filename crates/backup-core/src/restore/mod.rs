//! The restore run document ([`RestoreRun`]) and its input: one JSON object that flows through every state of
//! `terraform/restore.asl.json`, as [`crate::BackupRun`] does through the backup.
//!
//! ```json
//! {
//!   "input": { "manifest": "s3://acme-cache-backups/ecb-orders-1a2b3c4d.manifest.json",
//!              "targetReplicationGroupId": "orders-restored", "drill": false },
//!   "execution": { "id": "…", "name": "restore-1", "startTime": "…" },          // added by the first Pass state
//!   "request": { "manifestBucket": "…", "manifestKey": "…", "targetReplicationGroupId": "orders-restored",
//!                "drill": false, "restoreTimeoutSeconds": 3600, "verifyBeforeRestore": false,
//!                "overrides": { "nodeType": "cache.r7g.large" } },             // validated input (ResolveBackup)
//!   "backup": { "bucket": "…", "manifestKey": "…", "exportName": "…", "clusterMode": "enabled",
//!               "engine": "redis", "engineVersion": "7.0.15", "settings": { … }, "snapshotName": "…",
//!               "keptSnapshot": false,
//!               "shards": [ { "key": "…-0001.rdb", "sizeBytes": 1, "sha256": "…", "nodeGroupId": "0001",
//!                             "slots": "0-5460", "keys": 10, "keysWithExpiry": 1,
//!                             "databases": { "0": { "keys": 10, "keysWithExpiry": 1 } }, "sample": [ … ] } ] },
//!   "restore": { "replicationGroupId": "orders-restored", "status": "creating", "created": true,
//!                "from": "snapshotArns", "requestedAt": "…", "deadline": "…", "availableAt": "…",
//!                "rtoSeconds": 312 },
//!   "verification": { "keysExpected": 100000, "keysFound": 100000, "keysExpired": 0, "match": true,
//!                     "samplesChecked": 64, "samplesMissing": [], "shards": [ … ], "verifiedAt": "…" },
//!   "report": "ecb-orders-1a2b3c4d.restore-restore-1.json",
//!   "cleanup": { "restoredGroup": "deleted", "note": "the drill's replication group … is deleted" },
//!   // or, for a restore that failed after creating its group: { "restoredGroup": "kept", "verdict": "unverified",
//!   //   "note": "replication group … (available) is KEPT, tagged elasticache-backup:restore-verdict=unverified …" }
//!   "poll": { "waitSeconds": 5, "checks": 1 }, "timings": { … }, "warnings": [] }
//! ```
//!
//! The Choice states read `restore.status` (`available` → verify) and `request.drill` (true → delete the group).
//!
//! By concern: [`input`] (the input and its validation), [`backup`] (the backup, from its manifest), [`group`] (the
//! CreateReplicationGroup request, the execution tag, the AUTH token), [`progress`] (the group's status), [`verify`]
//! (the comparison with the manifest), [`report`] (the RTO metric), [`cleanup`] (what becomes of the group) and
//! [`run`] (the document that carries them all).

pub mod backup;
pub mod cleanup;
pub mod group;
pub mod input;
pub mod progress;
pub mod report;
pub mod resolve;
pub mod run;
pub mod verify;

pub use backup::{BackupInfo, BackupShard};
pub use cleanup::{
    CleanupAction, FailedStep, FoundTarget, GroupCleanup, RESTORE_VERDICT_TAG, RestoreCleanup,
    RestoreVerdict, StepFailure, cleanup_action,
};
pub use group::{RESTORE_TAG, auth_token, new_group, new_serverless_cache};
pub use input::{
    BackupSelector, DEFAULT_RESTORE_TIMEOUT_SECONDS, MAX_RESTORE_TIMEOUT_SECONDS,
    MIN_RESTORE_TIMEOUT_SECONDS, Overrides, RestoreInput, RestoreRequest, RestoreTarget,
    parse_s3_uri, validate_restore,
};
pub use progress::{GroupStatus, RestoreProgress, SeedFrom};
pub use report::{METRIC_NAMESPACE, rto_metric};
pub use run::RestoreRun;
pub use verify::{RestoreVerification, ShardCheck, ShardFound, compare};
