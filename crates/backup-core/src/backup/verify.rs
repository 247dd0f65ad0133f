//! Verifying an export (the VerifyExport step): what one invocation is asked ([`VerifyRequest`]: one shard object,
//! or the run document for `WriteManifest`), and the judgements between the reads — an object read at the size
//! listed, every listed object verified ([`verified_objects`]), the Object Lock retention to set ([`lock_until`])
//! and what a failed lock says ([`lock_error`]).

use serde::{Deserialize, Serialize};

use crate::BackupRun;
use crate::backup::export::{ExportAssessment, is_serverless_export_key};
use crate::backup::run::{ExportedObject, VerifiedShard, record_timing};
use crate::config::{ObjectLock, ObjectLockMode};
use crate::error::BackupError;
use crate::model::{Timestamp, VerifiedObject};
pub use crate::ports::ShardCheckpoint;

/// One object to verify, as the `VerifyExport` Map state's `ItemSelector` builds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ShardRequest {
    /// The export bucket (`request.bucket`).
    pub bucket: String,
    /// The export's name (`exportName`): the object must be one of its `<exportName>-<id>.rdb` (a serverless
    /// export's also `<exportName>.rdb` or `<exportName>/….rdb`).
    pub export_name: String,
    /// The object as CheckExport listed it.
    pub object: ExportedObject,
    /// Seconds this invocation checks before it pauses (`request.verifyBudgetSeconds`); the default
    /// (`VERIFY_BUDGET_SECONDS`) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify_budget_seconds: Option<u64>,
    /// Where the previous invocation paused; absent on the first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<ShardCheckpoint>,
}

/// Most VerifyShard invocations of one object: each adds about seven events to the execution's history (25,000
/// events at most), and 100 invocations of the default 720 s budget are 20 hours.
pub const MAX_SHARD_INVOCATIONS: u32 = 100;

/// What a VerifyShard invocation returns: the object verified, or the request for the next invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShardOutcome {
    /// Verified (`{"object", "millis"}`).
    Verified(VerifiedShard),
    /// Paused: the same request with the checkpoint to go on from.
    Paused(ShardRequest),
}

impl ShardRequest {
    /// What one invocation may spend checking: the request's budget (else `default_seconds`), cut to 80 % of the
    /// time the invocation has left (`left`, when known) so that the checkpoint is returned before Lambda stops it.
    #[must_use]
    pub fn budget(
        &self,
        default_seconds: u64,
        left: Option<std::time::Duration>,
    ) -> std::time::Duration {
        let asked =
            std::time::Duration::from_secs(self.verify_budget_seconds.unwrap_or(default_seconds));
        match left {
            Some(left) => asked.min(left.mul_f64(0.8)),
            None => asked,
        }
    }

    /// The outcome of an invocation that began `millis` ago and got `step` (the object as listed in `self`).
    ///
    /// # Errors
    /// `ExportCorrupt` when the object read is not at its listed size; `InvalidInput` (`checkpoint`) when a resumed
    /// invocation paused no further than the checkpoint it was given (no progress: the loop would not end);
    /// `ExportTimeout` after [`MAX_SHARD_INVOCATIONS`] invocations.
    pub fn outcome(
        self,
        step: crate::ports::ShardStep,
        millis: u64,
    ) -> Result<ShardOutcome, BackupError> {
        use crate::ports::ShardProgress;
        let before = if step.restarted.is_some() {
            None
        } else {
            self.checkpoint.as_ref()
        };
        let invocations = before.map_or(0, |c| c.invocations) + 1;
        let millis = before.map_or(0, |c| c.millis).saturating_add(millis);
        match step.progress {
            ShardProgress::Done(object) => Ok(ShardOutcome::Verified(VerifiedShard {
                object: at_listed_size(object, &self.object)?,
                millis,
            })),
            ShardProgress::Paused(next) => {
                if let Some(before) = before
                    && next.offset <= before.offset
                {
                    return Err(BackupError::invalid_input(
                        "checkpoint",
                        format!(
                            "{}: the verification paused at byte {} after resuming at byte {}: no progress (the \
                             checkpoint was replayed or altered)",
                            self.object.key, next.offset, before.offset
                        ),
                    ));
                }
                if invocations >= MAX_SHARD_INVOCATIONS {
                    return Err(BackupError::ExportTimeout {
                        message: format!(
                            "{}: {invocations} VerifyShard invocations verified {} of {} bytes; raise \
                             verifyBudgetSeconds (now {}) so that it ends within {MAX_SHARD_INVOCATIONS}",
                            self.object.key,
                            next.offset,
                            self.object.size_bytes,
                            self.verify_budget_seconds
                                .map_or_else(|| "the default".to_string(), |s| s.to_string())
                        ),
                    });
                }
                Ok(ShardOutcome::Paused(ShardRequest {
                    checkpoint: Some(ShardCheckpoint {
                        invocations,
                        millis,
                        ..next
                    }),
                    ..self
                }))
            }
        }
    }
}

impl ShardRequest {
    /// Checks that the object is one of the export's: named after it as a node-based or serverless export's
    /// objects are ([`is_serverless_export_key`], which accepts every shape [`crate::backup::export::is_shard_key`]
    /// does; the item does not say which kind of export it is, and CheckExport listed it by the run's own kind).
    ///
    /// # Errors
    /// `InvalidInput` (`object.key`) naming the object and the export.
    pub fn check(&self) -> Result<(), BackupError> {
        if self.export_name.is_empty()
            || !is_serverless_export_key(&self.export_name, &self.object.key)
        {
            return Err(BackupError::invalid_input(
                "object.key",
                format!(
                    "{:?} is not an object of export {:?} (<exportName>-<id>.rdb, <exportName>.rdb or \
                     <exportName>/….rdb)",
                    self.object.key, self.export_name
                ),
            ));
        }
        Ok(())
    }
}

/// What an invocation is given: one shard object (a document with `object`), or the run document.
#[derive(Debug, Clone)]
pub enum VerifyRequest {
    /// A `VerifyShard` item of the Map state.
    Shard(Box<ShardRequest>),
    /// `WriteManifest` (with `verifiedObjects`), or the whole verification in one invocation (without).
    Run(Box<BackupRun>),
}

// Not `#[serde(untagged)]`: its buffering cannot read the run document's integer-keyed maps (the manifest's
// `databases`); the JSON value is read once and handed to the type its shape names.
impl<'de> Deserialize<'de> for VerifyRequest {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        let request = if value.get("object").is_some() {
            serde_json::from_value(value).map(|s| VerifyRequest::Shard(Box::new(s)))
        } else {
            serde_json::from_value(value).map(|run| VerifyRequest::Run(Box::new(run)))
        };
        request.map_err(serde::de::Error::custom)
    }
}

/// What an invocation returns: the verified shard, or the run document with `verification` set.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum VerifyResponse {
    /// The result of a [`VerifyRequest::Shard`] that verified the object.
    Shard(Box<VerifiedShard>),
    /// The result of a [`VerifyRequest::Shard`] that paused: the request for the next invocation (with
    /// `checkpoint`), which the Map's `IsShardVerified` Choice sends back to VerifyShard.
    Paused(Box<ShardRequest>),
    /// The result of a [`VerifyRequest::Run`].
    Run(Box<BackupRun>),
}

/// The objects of export `export_name` to verify, when S3 holds the whole export.
///
/// # Errors
/// `ExportIncomplete` saying what is missing ([`ExportAssessment::describe`]).
pub fn objects_to_verify(
    assessment: ExportAssessment,
    export_name: &str,
) -> Result<Vec<ExportedObject>, BackupError> {
    if !assessment.is_complete() {
        return Err(BackupError::ExportIncomplete {
            message: format!(
                "cannot verify export {export_name}: {}",
                assessment.describe()
            ),
        });
    }
    Ok(assessment.objects)
}

/// The object read end to end, if read at the size `listed` says.
///
/// # Errors
/// `ExportCorrupt` naming both sizes.
pub fn at_listed_size(
    read: VerifiedObject,
    listed: &ExportedObject,
) -> Result<VerifiedObject, BackupError> {
    if read.size_bytes != listed.size_bytes {
        return Err(BackupError::ExportCorrupt {
            message: format!(
                "{}: read {} bytes but S3 lists {}",
                listed.key, read.size_bytes, listed.size_bytes
            ),
        });
    }
    Ok(read)
}

/// Milliseconds from `started` to `finished` (0 when the clock went back).
pub fn millis_between(started: Timestamp, finished: Timestamp) -> u64 {
    u64::try_from((finished - started).whole_milliseconds().max(0)).unwrap_or(u64::MAX)
}

/// The verified objects of the manifest, in listing order: every object S3 lists now (`listed`) must be one of
/// `shards` (the Map's results), at the size it has now.
///
/// # Errors
/// `ExportCorrupt`: an object in S3 but not verified, or verified at another size.
pub fn verified_objects(
    listed: &[ExportedObject],
    shards: &[VerifiedShard],
) -> Result<Vec<VerifiedObject>, BackupError> {
    let mut objects = Vec::with_capacity(listed.len());
    for listed in listed {
        let Some(shard) = shards.iter().find(|s| s.object.key == listed.key) else {
            return Err(BackupError::ExportCorrupt {
                message: format!("{}: in S3 but not verified", listed.key),
            });
        };
        if shard.object.size_bytes != listed.size_bytes {
            return Err(BackupError::ExportCorrupt {
                message: format!(
                    "{}: verified at {} bytes but S3 now lists {}",
                    listed.key, shard.object.size_bytes, listed.size_bytes
                ),
            });
        }
        objects.push(shard.object.clone());
    }
    Ok(objects)
}

/// The Object Lock retention to set when the backup is verified at `now`: its mode and until when (`days` from now,
/// at most 36,500); `None` without Object Lock.
pub fn lock_until(lock: Option<ObjectLock>, now: Timestamp) -> Option<(ObjectLockMode, Timestamp)> {
    lock.map(|lock| {
        let days = i64::try_from(lock.days.min(36_500)).unwrap_or(36_500);
        (lock.mode, now + time::Duration::days(days))
    })
}

/// A failed `PutObjectRetention` on `key`: the error keeps its kind when retried (`Throttled`, `AwsError`; any other
/// becomes `AwsRejected`), its message says the backup is verified and the snapshot kept.
pub fn lock_error(
    e: BackupError,
    key: &str,
    mode: ObjectLockMode,
    until: Timestamp,
) -> BackupError {
    let note = format!(
        "the backup is verified, but Object Lock retention ({mode} until {until}) could not be set on {key} \
         (the source snapshot is kept)"
    );
    after_verification(e, &note)
}

/// A failed `PutObjectTagging` of the verified tag on `key`: kinds as [`lock_error`]'s; the message says the backup
/// is verified and will not reach the vault until tagged.
pub fn tag_error(e: BackupError, key: &str) -> BackupError {
    let note = format!(
        "the backup is verified, but the tag {} could not be set on {key}, so it does not reach the vault \
         (the source snapshot is kept)",
        crate::naming::VERIFIED_TAG_KEY
    );
    after_verification(e, &note)
}

/// A refused `CreateJob` of the vault's Batch Replication: kinds as [`lock_error`]'s.
pub fn replication_error(e: BackupError, vault_bucket: &str) -> BackupError {
    let note = format!(
        "the backup is verified and tagged, but its Batch Replication job to the vault {vault_bucket} could not \
         be created (the source snapshot is kept)"
    );
    after_verification(e, &note)
}

/// The `ClientRequestToken` of an export's replication job (1–64 characters, S3 Control API Reference, CreateJob):
/// the export's name, or its last 64 characters (where its unique suffix is), so a retried WriteManifest starts no
/// second job.
pub fn replication_token(export_name: &str) -> String {
    let chars: Vec<char> = export_name.chars().collect();
    let start = chars.len().saturating_sub(64);
    let token: String = chars[start..].iter().collect();
    if token.is_empty() {
        "elasticache-backup".to_string()
    } else {
        token
    }
}

/// An error after verification: `Throttled` and `AwsError` keep their kind (the state machine retries them), any
/// other becomes `AwsRejected`; `note` is appended to the message.
fn after_verification(e: BackupError, note: &str) -> BackupError {
    match e {
        BackupError::Throttled { message, source } => BackupError::Throttled {
            message: format!("{message}; {note}"),
            source,
        },
        BackupError::AwsError { message, source } => BackupError::AwsError {
            message: format!("{message}; {note}"),
            source,
        },
        other => BackupError::AwsRejected {
            message: format!("{other}; {note}"),
            source: None,
        },
    }
}

/// Records each shard's check as a `step` timing ending `now` (each as long as its invocation took), then the whole
/// step from `started`.
pub fn record_verify_timings(
    run: &mut BackupRun,
    step: &str,
    shards: &[VerifiedShard],
    started: Timestamp,
    now: Timestamp,
) {
    for shard in shards {
        let millis = i64::try_from(shard.millis).unwrap_or(i64::MAX);
        record_timing(
            &mut run.timings,
            step,
            now - time::Duration::milliseconds(millis),
            now,
        );
    }
    run.record_timing(step, started, now);
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn listed(key: &str, size_bytes: u64) -> ExportedObject {
        ExportedObject {
            key: key.into(),
            size_bytes,
        }
    }

    fn read(key: &str, size_bytes: u64) -> VerifiedObject {
        VerifiedObject {
            key: key.into(),
            size_bytes,
            sha256: "0".repeat(64),
            rdb: Default::default(),
        }
    }

    fn paused_at(offset: u64) -> crate::ports::ShardStep {
        crate::ports::ShardStep {
            progress: crate::ports::ShardProgress::Paused(ShardCheckpoint {
                offset,
                size_bytes: 100,
                etag: None,
                invocations: 0,
                millis: 0,
                rdb: serde_json::json!({}),
            }),
            restarted: None,
        }
    }

    fn request(checkpoint: Option<ShardCheckpoint>) -> ShardRequest {
        ShardRequest {
            bucket: "b".into(),
            export_name: "ecb-x".into(),
            object: listed("ecb-x-0001.rdb", 100),
            verify_budget_seconds: Some(60),
            checkpoint,
        }
    }

    fn checkpoint_of(outcome: ShardOutcome) -> ShardCheckpoint {
        match outcome {
            ShardOutcome::Paused(next) => next.checkpoint.unwrap(),
            ShardOutcome::Verified(v) => panic!("paused expected, got {v:?}"),
        }
    }

    #[test]
    fn a_paused_shard_counts_its_invocations_and_time_and_must_make_progress() {
        let first = checkpoint_of(request(None).outcome(paused_at(10), 7).unwrap());
        assert_eq!((first.offset, first.invocations, first.millis), (10, 1, 7));
        let second = checkpoint_of(
            request(Some(first.clone()))
                .outcome(paused_at(20), 5)
                .unwrap(),
        );
        assert_eq!(
            (second.offset, second.invocations, second.millis),
            (20, 2, 12)
        );
        // No further than the checkpoint given: the loop would never end.
        for offset in [10, 3] {
            let err = request(Some(first.clone()))
                .outcome(paused_at(offset), 1)
                .unwrap_err();
            assert_eq!(err.error_type(), "InvalidInput");
            assert!(err.to_string().contains("no progress"), "{err}");
        }
        // A refused checkpoint started the object again: the count starts again too, and so does progress.
        let mut restarted = paused_at(3);
        restarted.restarted = Some("format 0".into());
        let again = checkpoint_of(request(Some(second)).outcome(restarted, 1).unwrap());
        assert_eq!((again.offset, again.invocations), (3, 1));
        // At most MAX_SHARD_INVOCATIONS.
        let many = ShardCheckpoint {
            invocations: MAX_SHARD_INVOCATIONS - 1,
            ..first
        };
        let err = request(Some(many)).outcome(paused_at(50), 1).unwrap_err();
        assert_eq!(err.error_type(), "ExportTimeout");
        assert!(
            err.to_string().contains("verifyBudgetSeconds (now 60)"),
            "{err}"
        );
    }

    #[test]
    fn the_budget_is_the_request_s_cut_to_the_time_the_invocation_has_left() {
        use std::time::Duration;
        let r = request(None);
        assert_eq!(r.budget(720, None), Duration::from_secs(60));
        assert_eq!(
            r.budget(720, Some(Duration::from_secs(50))),
            Duration::from_secs(40)
        );
        let default = ShardRequest {
            verify_budget_seconds: None,
            ..r
        };
        assert_eq!(
            default.budget(720, Some(Duration::from_secs(900))),
            Duration::from_secs(720)
        );
        assert_eq!(default.budget(720, Some(Duration::ZERO)), Duration::ZERO);
    }

    #[test]
    fn an_object_must_be_one_of_the_export_and_read_at_its_listed_size() {
        let shard = |export: &str, key: &str| ShardRequest {
            bucket: "b".into(),
            export_name: export.into(),
            object: listed(key, 1),
            verify_budget_seconds: None,
            checkpoint: None,
        };
        assert!(shard("ecb-x", "ecb-x-0001.rdb").check().is_ok());
        // A serverless export's objects, whose names ElastiCache chooses.
        assert!(shard("ecb-x", "ecb-x.rdb").check().is_ok());
        assert!(shard("ecb-x", "ecb-x/part-1.rdb").check().is_ok());
        for bad in [
            shard("ecb-x", "ecb-y-0001.rdb"),
            shard("", "ecb-x-0001.rdb"),
            shard("ecb-x", "ecb-y.rdb"),
            shard("ecb-x", "ecb-x-1a2b-0001.rdb"),
            shard("ecb-x", "ecb-x/../ecb-y.rdb"),
            shard("ecb-x", "ecb-x.manifest.json"),
        ] {
            assert_eq!(bad.check().unwrap_err().error_type(), "InvalidInput");
        }
        assert!(at_listed_size(read("k", 5), &listed("k", 5)).is_ok());
        let err = at_listed_size(read("k", 4), &listed("k", 5)).unwrap_err();
        assert_eq!(err.to_string(), "k: read 4 bytes but S3 lists 5");
        let t = datetime!(2026-12-01 06:00 UTC);
        assert_eq!(
            millis_between(t, t + time::Duration::milliseconds(1500)),
            1500
        );
        assert_eq!(millis_between(t, t - time::Duration::seconds(1)), 0);
    }

    #[test]
    fn every_listed_object_must_have_been_verified_at_its_size() {
        let shard = |key: &str, size: u64| VerifiedShard {
            object: read(key, size),
            millis: 10,
        };
        let objects = verified_objects(
            &[listed("a", 1), listed("b", 2)],
            &[shard("b", 2), shard("a", 1)],
        )
        .unwrap();
        assert_eq!(objects, [read("a", 1), read("b", 2)]);
        let missing =
            verified_objects(&[listed("a", 1), listed("c", 2)], &[shard("a", 1)]).unwrap_err();
        assert_eq!(missing.to_string(), "c: in S3 but not verified");
        let resized = verified_objects(&[listed("a", 3)], &[shard("a", 1)]).unwrap_err();
        assert_eq!(
            resized.to_string(),
            "a: verified at 1 bytes but S3 now lists 3"
        );
        assert_eq!(resized.error_type(), "ExportCorrupt");
    }

    #[test]
    fn the_replication_token_keeps_the_unique_end_of_the_export_name() {
        assert_eq!(
            replication_token("ecb-orders-5f1d2a9c"),
            "ecb-orders-5f1d2a9c"
        );
        let long = format!("ecb-{}-5f1d2a9c", "a".repeat(80));
        let token = replication_token(&long);
        assert_eq!(token.chars().count(), 64);
        assert!(token.ends_with("-5f1d2a9c"));
        assert_eq!(replication_token(&"é".repeat(70)).chars().count(), 64);
        assert_eq!(replication_token(""), "elasticache-backup");
    }

    #[test]
    fn a_refused_tag_or_job_keeps_its_kind_and_says_the_backup_is_verified() {
        let throttled = tag_error(
            BackupError::Throttled {
                message: "SlowDown".into(),
                source: None,
            },
            "e-0001.rdb",
        );
        assert_eq!(throttled.error_type(), "Throttled");
        let denied = replication_error(
            BackupError::AwsError {
                message: "AccessDenied".into(),
                source: None,
            },
            "acme-vault",
        );
        assert_eq!(denied.error_type(), "AwsError");
        let other = tag_error(BackupError::invalid_input("x", "y"), "e-0001.rdb");
        assert_eq!(other.error_type(), "AwsRejected");
        let text = other.to_string();
        assert!(
            text.contains("elasticache-backup:verified") && text.contains("e-0001.rdb"),
            "{text}"
        );
        assert!(denied.to_string().contains("acme-vault"));
    }

    #[test]
    fn a_lock_lasts_its_days_and_a_failed_one_keeps_its_kind_when_retried() {
        let now = datetime!(2026-12-01 06:00 UTC);
        assert_eq!(lock_until(None, now), None);
        let lock = ObjectLock {
            mode: ObjectLockMode::Compliance,
            days: 10,
        };
        assert_eq!(
            lock_until(Some(lock), now),
            Some((ObjectLockMode::Compliance, datetime!(2026-12-11 06:00 UTC)))
        );
        let throttled = lock_error(
            BackupError::Throttled {
                message: "slow".into(),
                source: None,
            },
            "k",
            ObjectLockMode::Governance,
            now,
        );
        assert_eq!(throttled.error_type(), "Throttled");
        assert!(
            throttled
                .to_string()
                .contains("could not be set on k (the source snapshot is kept)")
        );
        let denied = lock_error(
            BackupError::ExportRejected {
                message: "denied".into(),
                source: None,
            },
            "k",
            ObjectLockMode::Governance,
            now,
        );
        assert_eq!(denied.error_type(), "AwsRejected");
    }
}
