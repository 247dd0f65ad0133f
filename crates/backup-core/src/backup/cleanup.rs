//! Deleting the source snapshot (the DeleteSnapshot step): only once its export is verified ([`verified_export`]),
//! is this snapshot's, and S3 still holds exactly the objects verified ([`objects_as_verified`]).

use crate::BackupRun;
use crate::backup::export::{ExportAssessment, is_export_key};
use crate::backup::run::{ExportedObject, Verification};
use crate::error::BackupError;
use crate::naming::{export_name, manifest_key};

/// The verification of `run`'s export, when it is that of snapshot `name`: its export name, its manifest, its
/// objects (every one `<exportName>-…`, at least one).
///
/// # Errors
/// `ExportIncomplete` (the snapshot is kept) when the export was not verified or the verified export is not the one
/// made from the snapshot; `InvalidInput` when the run has no `exportName`.
pub fn verified_export<'a>(
    run: &'a BackupRun,
    name: &str,
) -> Result<&'a Verification, BackupError> {
    let Some(verification) = run.verification.as_ref() else {
        return Err(BackupError::ExportIncomplete {
            message: format!(
                "not deleting snapshot {name}: its export was not verified (no VerifyExport result); the snapshot is kept"
            ),
        });
    };
    let expected_export = export_name(name);
    let verified_elsewhere = run.export_name()? != expected_export
        || verification.manifest_key != manifest_key(&expected_export)
        || verification.objects.is_empty()
        || verification
            .objects
            .iter()
            .any(|o| !is_export_key(&expected_export, &o.key, run.is_serverless()));
    if verified_elsewhere {
        return Err(BackupError::ExportIncomplete {
            message: format!(
                "not deleting snapshot {name}: the verified export ({}) is not the one made from it ({expected_export}); the snapshot is kept",
                verification.manifest_key
            ),
        });
    }
    Ok(verification)
}

/// The objects S3 holds now (`assessment`), when they are the whole export and exactly the ones verified (key and
/// size: with any instance identifier accepted as a shard object's name, a count alone is not evidence).
///
/// # Errors
/// `ExportIncomplete` (snapshot `name` is kept) naming what is missing, or both lists.
pub fn objects_as_verified(
    name: &str,
    assessment: ExportAssessment,
    verification: &Verification,
) -> Result<Vec<ExportedObject>, BackupError> {
    if !assessment.is_complete() {
        return Err(BackupError::ExportIncomplete {
            message: format!(
                "not deleting snapshot {name}: its export is not all in S3 ({}); the snapshot is kept",
                assessment.describe()
            ),
        });
    }
    let mut now: Vec<(&str, u64)> = assessment
        .objects
        .iter()
        .map(|o| (o.key.as_str(), o.size_bytes))
        .collect();
    let mut verified: Vec<(&str, u64)> = verification
        .objects
        .iter()
        .map(|o| (o.key.as_str(), o.size_bytes))
        .collect();
    now.sort_unstable();
    verified.sort_unstable();
    if now != verified {
        let list = |l: &[(&str, u64)]| {
            l.iter()
                .map(|(k, b)| format!("{k} {b} B"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(BackupError::ExportIncomplete {
            message: format!(
                "not deleting snapshot {name}: the objects in S3 ({}) are not the ones verified ({}); the snapshot is \
                 kept",
                list(&now),
                list(&verified)
            ),
        });
    }
    Ok(assessment.objects)
}

/// The warning when snapshot `name` is not this execution's: it is kept.
pub fn not_ours_warning(name: &str) -> String {
    format!(
        "snapshot {name} is not tagged elasticache-backup:execution = this execution: not deleted (it is kept; \
         delete it by hand once you know whose it is)"
    )
}

/// The warning when snapshot `name` was gone when the run came to delete it.
pub fn already_deleted_warning(name: &str) -> String {
    format!("snapshot {name} was already deleted when this run came to delete it")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NAME: &str = "ecb-orders-1";

    fn verification(objects: &[(&str, u64)]) -> Verification {
        let objects: Vec<_> = objects
            .iter()
            .map(|(key, size)| {
                json!({"key": key, "sizeBytes": size, "rdbVersion": 11, "sha256": "00",
                                      "keys": 1, "keysWithExpiry": 0, "types": {}})
            })
            .collect();
        serde_json::from_value(json!({"manifestKey": manifest_key(&export_name(NAME)),
            "verifiedAt": "2026-12-01T03:00:00Z", "keys": 1, "keysWithExpiry": 0, "objects": objects}))
        .unwrap()
    }

    fn assessment(objects: &[(&str, u64)], expected: u32) -> ExportAssessment {
        ExportAssessment {
            objects: objects
                .iter()
                .map(|(key, size_bytes)| ExportedObject {
                    key: (*key).to_string(),
                    size_bytes: *size_bytes,
                })
                .collect(),
            empty: Vec::new(),
            stale: Vec::new(),
            extra: Vec::new(),
            expected,
        }
    }

    #[test]
    fn an_unverified_export_keeps_the_snapshot() {
        let err = verified_export(&BackupRun::default(), NAME).unwrap_err();
        assert_eq!(err.error_type(), "ExportIncomplete");
        assert!(
            err.to_string().contains("its export was not verified"),
            "{err}"
        );
        let mut run = BackupRun {
            verification: Some(verification(&[("elsewhere-0001.rdb", 5)])),
            export_name: Some(export_name(NAME)),
            ..BackupRun::default()
        };
        let err = verified_export(&run, NAME).unwrap_err();
        assert!(
            err.to_string().contains("is not the one made from it"),
            "{err}"
        );
        let shard = format!("{}-0001.rdb", export_name(NAME));
        run.verification = Some(verification(&[(&shard, 5)]));
        assert!(verified_export(&run, NAME).is_ok());
    }

    #[test]
    fn the_objects_in_s3_must_be_the_whole_export_and_exactly_those_verified() {
        let shard = format!("{}-0001.rdb", export_name(NAME));
        let verified = verification(&[(&shard, 5)]);
        let objects = objects_as_verified(NAME, assessment(&[(&shard, 5)], 1), &verified).unwrap();
        assert_eq!(objects.len(), 1);
        let missing = objects_as_verified(NAME, assessment(&[], 1), &verified).unwrap_err();
        assert!(
            missing
                .to_string()
                .contains("its export is not all in S3 (0 of 1"),
            "{missing}"
        );
        let changed =
            objects_as_verified(NAME, assessment(&[(&shard, 6)], 1), &verified).unwrap_err();
        assert!(
            changed.to_string().contains(&format!(
                "the objects in S3 ({shard} 6 B) are not the ones verified ({shard} 5 B)"
            )),
            "{changed}"
        );
        assert!(not_ours_warning(NAME).contains("not deleted"));
        assert!(already_deleted_warning(NAME).contains("already deleted"));
    }
}
