//! Exports to S3, shared by CopySnapshot with `TargetBucket` ([`crate::api`]) and ExportServerlessCacheSnapshot
//! ([`crate::serverless`]): the refusals before anything is written, and the upload of each shard's RDB with the
//! injected damage of [`Damage`].

use serde_json::{Value, json};

use crate::app::App;
use crate::state::{ApiError, Damage, ExportRecord};

/// Which objects of `exports` S3 holds now, non-empty (`HeadObject` of each), as the journal records them at a
/// snapshot's deletion: `[{"bucket", "key", "present"}]` (the tests' invariant: nothing deleted before its export
/// was in S3).
pub async fn objects_present(app: &App, exports: &[ExportRecord]) -> Vec<Value> {
    let mut verified = Vec::new();
    for e in exports {
        for key in &e.keys {
            let present = app
                .s3
                .head_object()
                .bucket(&e.bucket)
                .key(key)
                .send()
                .await
                .is_ok_and(|o| o.content_length().unwrap_or(0) > 0);
            verified.push(json!({ "bucket": e.bucket, "key": key, "present": present }));
        }
    }
    verified
}

/// The refusals of an export to S3 before anything is written (CopySnapshot with `TargetBucket`,
/// ExportServerlessCacheSnapshot): the documented messages of CopySnapshot (botocore `elasticache/2015-02-02`,
/// CopySnapshot: "The S3 bucket %s does not exist.", "The S3 bucket %s already contains an object with key %s.";
/// User Guide "Exporting a backup": "Elasticache was unable to validate the authenticated user has access on the S3
/// bucket."), as `InvalidParameterValue`.
///
/// # Errors
/// `InvalidParameterValue`, with one of those messages.
pub async fn check_export_bucket(app: &App, bucket: &str, keys: &[String]) -> Result<(), ApiError> {
    if let Err(e) = app.s3.head_bucket().bucket(bucket).send().await {
        let missing = e.raw_response().is_some_and(|r| r.status().as_u16() == 404);
        return Err(ApiError::new(
            "InvalidParameterValue",
            if missing {
                format!("The S3 bucket {bucket} does not exist.")
            } else {
                "Elasticache was unable to validate the authenticated user has access on the S3 bucket.".into()
            },
        ));
    }
    for key in keys {
        if app
            .s3
            .head_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .is_ok()
        {
            return Err(ApiError::new(
                "InvalidParameterValue",
                format!("The S3 bucket {bucket} already contains an object with key {key}."),
            ));
        }
    }
    Ok(())
}

/// One object of an export: a shard's kept RDB (`None`: none was kept), named by `label` in errors.
pub struct ExportPart {
    /// Names the part in an error (a node id, a shard number).
    pub label: String,
    /// The RDB file.
    pub rdb: Option<std::path::PathBuf>,
}

/// Uploads `parts[i]` to `bucket` as `keys[i]`, with the injected `damage` (see [`Damage`]; `Misnumbered` names
/// the parts after the first by `misnumbered(i)`); stops at the first failure. Returns the keys written and the
/// error, if any.
pub async fn upload_parts(
    app: &App,
    bucket: &str,
    parts: &[ExportPart],
    keys: &[String],
    misnumbered: &(dyn Fn(usize) -> String + Sync),
    damage: Option<Damage>,
) -> (Vec<String>, Option<String>) {
    let mut error = None;
    let count = parts.len();
    let mut written: Vec<String> = Vec::new();
    for (i, (n, key)) in parts.iter().zip(keys).enumerate() {
        let renamed;
        let key = if damage == Some(Damage::Misnumbered) && i > 0 {
            renamed = misnumbered(i);
            &renamed
        } else if damage == Some(Damage::Reversed) {
            &keys[count - 1 - i]
        } else {
            key
        };
        let n = if damage == Some(Damage::Duplicated) && i == 1 {
            &parts[0]
        } else {
            n
        };
        let Some(path) = &n.rdb else {
            error = Some(format!("no RDB kept for {}", n.label));
            break;
        };
        let damaged = damage.filter(|d| {
            !matches!(
                d,
                Damage::Misnumbered | Damage::Reversed | Damage::Duplicated
            ) && key == &keys[0]
        });
        if damaged == Some(Damage::Missing) {
            continue;
        }
        let body = if let Some(damage) = damaged {
            // Injected damage to the first object.
            match std::fs::read(path) {
                Ok(mut bytes) => {
                    let mid = bytes.len() / 2;
                    match damage {
                        Damage::Flipped => bytes[mid] ^= 0x5a,
                        Damage::Empty => bytes.clear(),
                        Damage::Truncated
                        | Damage::Missing
                        | Damage::Misnumbered
                        | Damage::Reversed
                        | Damage::Duplicated => {
                            bytes.truncate(mid);
                        }
                    }
                    aws_sdk_s3::primitives::ByteStream::from(bytes)
                }
                Err(e) => {
                    error = Some(format!("read {}: {e}", path.display()));
                    break;
                }
            }
        } else {
            match aws_sdk_s3::primitives::ByteStream::from_path(path).await {
                Ok(b) => b,
                Err(e) => {
                    error = Some(format!("read {}: {e}", path.display()));
                    break;
                }
            }
        };
        if let Err(e) = app
            .s3
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(body)
            .send()
            .await
        {
            error = Some(format!(
                "PutObject {key}: {}",
                aws_sdk_s3::error::DisplayErrorContext(&e)
            ));
            break;
        }
        written.push(key.clone());
    }
    (written, error)
}
