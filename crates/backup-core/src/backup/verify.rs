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
    Shard(ShardRequest),
    /// `WriteManifest` (with `verifiedObjects`), or the whole verification in one invocation (without).
    Run(Box<BackupRun>),
}

// Not `#[serde(untagged)]`: its buffering cannot read the run document's integer-keyed maps (the manifest's
// `databases`); the JSON value is read once and handed to the type its shape names.
impl<'de> Deserialize<'de> for VerifyRequest {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        let request = if value.get("object").is_some() {
            serde_json::from_value(value).map(VerifyRequest::Shard)
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
    /// The result of a [`VerifyRequest::Shard`].
    Shard(Box<VerifiedShard>),
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

    #[test]
    fn an_object_must_be_one_of_the_export_and_read_at_its_listed_size() {
        let shard = |export: &str, key: &str| ShardRequest {
            bucket: "b".into(),
            export_name: export.into(),
            object: listed(key, 1),
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
