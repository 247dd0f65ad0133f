//! Validation of the execution input into a [`Request`], before any AWS resource is created.
//!
//! Accepted input (DESIGN.md §3), every other field is refused by name:
//!
//! | field | type | rule |
//! |---|---|---|
//! | `replicationGroupId` | string | exactly one of this and `cacheClusterId`; ElastiCache id rules |
//! | `cacheClusterId` | string | see above |
//! | `bucket` | string | S3 bucket name rules (3–63, lower-case, DNS-compliant); default `BACKUP_BUCKET` |
//! | `snapshotTimeoutSeconds` | integer | 60–604800; default `SNAPSHOT_TIMEOUT_SECONDS` |
//! | `exportTimeoutSeconds` | integer | 60–604800; default `EXPORT_TIMEOUT_SECONDS` |
//! | `keepSourceSnapshot` | boolean | default false |

use serde_json::Value;

use crate::Config;
use crate::error::BackupError;
use crate::naming::check_elasticache_id;
use crate::run::{Request, TargetRef};

/// The input fields this tool understands.
pub const INPUT_FIELDS: &[&str] = &[
    "replicationGroupId",
    "cacheClusterId",
    "bucket",
    "snapshotTimeoutSeconds",
    "exportTimeoutSeconds",
    "keepSourceSnapshot",
];

/// Smallest accepted deadline, seconds.
pub const MIN_TIMEOUT_SECONDS: u64 = 60;
/// Largest accepted deadline (7 days), seconds.
pub const MAX_TIMEOUT_SECONDS: u64 = 604_800;

/// Validates the execution input against the table in the module doc, filling defaults from `config`.
///
/// # Errors
/// [`BackupError::InvalidInput`] naming the first field at fault and the rule it breaks.
pub fn validate(input: &Value, config: &Config) -> Result<Request, BackupError> {
    let obj = input
        .as_object()
        .ok_or_else(|| BackupError::invalid_input("(input)", "must be a JSON object"))?;
    if let Some(unknown) = obj.keys().find(|k| !INPUT_FIELDS.contains(&k.as_str())) {
        return Err(BackupError::invalid_input(
            unknown,
            format!(
                "is not a known field; expected one of {}",
                INPUT_FIELDS.join(", ")
            ),
        ));
    }

    let rg = opt_string(obj.get("replicationGroupId"), "replicationGroupId")?;
    let cc = opt_string(obj.get("cacheClusterId"), "cacheClusterId")?;
    let target = match (rg, cc) {
        (Some(_), Some(_)) => {
            return Err(BackupError::invalid_input(
                "replicationGroupId",
                "and `cacheClusterId` are both set; give exactly one",
            ));
        }
        (None, None) => {
            return Err(BackupError::invalid_input(
                "replicationGroupId",
                "is required (or `cacheClusterId`); give exactly one",
            ));
        }
        (Some(id), None) => {
            check_elasticache_id(&id)
                .map_err(|rule| BackupError::invalid_input("replicationGroupId", rule))?;
            TargetRef::ReplicationGroupId(id.to_ascii_lowercase())
        }
        (None, Some(id)) => {
            check_elasticache_id(&id)
                .map_err(|rule| BackupError::invalid_input("cacheClusterId", rule))?;
            TargetRef::CacheClusterId(id.to_ascii_lowercase())
        }
    };

    let bucket = match opt_string(obj.get("bucket"), "bucket")? {
        Some(b) => b,
        None => config.default_bucket.clone().ok_or_else(|| {
            BackupError::invalid_input(
                "bucket",
                "is required when the functions have no BACKUP_BUCKET configured",
            )
        })?,
    };
    check_bucket_name(&bucket).map_err(|rule| BackupError::invalid_input("bucket", rule))?;

    let snapshot_timeout_seconds =
        opt_timeout(obj.get("snapshotTimeoutSeconds"), "snapshotTimeoutSeconds")?
            .unwrap_or(config.snapshot_timeout_seconds);
    let export_timeout_seconds =
        opt_timeout(obj.get("exportTimeoutSeconds"), "exportTimeoutSeconds")?
            .unwrap_or(config.export_timeout_seconds);
    let keep_source_snapshot = match obj.get("keepSourceSnapshot") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(BackupError::invalid_input(
                "keepSourceSnapshot",
                "must be true or false",
            ));
        }
    };

    Ok(Request {
        target,
        bucket,
        snapshot_timeout_seconds,
        export_timeout_seconds,
        keep_source_snapshot,
    })
}

fn opt_string(v: Option<&Value>, field: &str) -> Result<Option<String>, BackupError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => {
            Err(BackupError::invalid_input(field, "must not be empty"))
        }
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(_) => Err(BackupError::invalid_input(field, "must be a string")),
    }
}

fn opt_timeout(v: Option<&Value>, field: &str) -> Result<Option<u64>, BackupError> {
    let rule = || {
        format!(
            "must be a whole number of seconds from {MIN_TIMEOUT_SECONDS} to {MAX_TIMEOUT_SECONDS}"
        )
    };
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(s) if (MIN_TIMEOUT_SECONDS..=MAX_TIMEOUT_SECONDS).contains(&s) => Ok(Some(s)),
            _ => Err(BackupError::invalid_input(field, rule())),
        },
        Some(_) => Err(BackupError::invalid_input(field, rule())),
    }
}

/// Checks the S3 general purpose bucket naming rules ElastiCache needs ("Step 1: Create an Amazon S3 bucket",
/// ElastiCache User Guide, Exporting a backup: DNS-compliant, or ElastiCache can't access the file).
///
/// # Errors
/// The rule broken, as a phrase to follow the field name.
pub fn check_bucket_name(b: &str) -> Result<(), String> {
    if !(3..=63).contains(&b.len()) {
        return Err(format!("must be 3-63 characters, got {}", b.len()));
    }
    if !b
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
    {
        return Err("may contain only lower-case letters, digits, dots and hyphens".into());
    }
    let first_last_ok =
        |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !first_last_ok(b.chars().next()) || !first_last_ok(b.chars().last()) {
        return Err("must begin and end with a letter or digit".into());
    }
    if b.contains("..") || b.contains(".-") || b.contains("-.") {
        return Err("must not contain `..`, `.-` or `-.`".into());
    }
    if b.split('.').count() == 4 && b.split('.').all(|p| p.parse::<u8>().is_ok()) {
        return Err("must not be formatted as an IP address".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cfg() -> Config {
        Config {
            default_bucket: Some("default-bucket".into()),
            ..Config::default()
        }
    }

    fn field_of(err: BackupError) -> String {
        match err {
            BackupError::InvalidInput { field, .. } => field,
            other => panic!("expected InvalidInput, got {other:?}"),
        }
    }

    #[test]
    fn minimal_input_takes_defaults() {
        let r = validate(&json!({"replicationGroupId": "Orders"}), &cfg()).unwrap();
        assert_eq!(r.target, TargetRef::ReplicationGroupId("orders".into()));
        assert_eq!(r.bucket, "default-bucket");
        assert_eq!(r.snapshot_timeout_seconds, 3600);
        assert!(!r.keep_source_snapshot);
    }

    #[test]
    fn full_input_is_honoured() {
        let r = validate(
            &json!({"cacheClusterId": "c-1", "bucket": "b.example", "snapshotTimeoutSeconds": 120,
                    "exportTimeoutSeconds": 600, "keepSourceSnapshot": true}),
            &cfg(),
        )
        .unwrap();
        assert_eq!(r.target, TargetRef::CacheClusterId("c-1".into()));
        assert_eq!(
            (
                r.bucket.as_str(),
                r.snapshot_timeout_seconds,
                r.export_timeout_seconds
            ),
            ("b.example", 120, 600)
        );
        assert!(r.keep_source_snapshot);
    }

    #[test]
    fn each_bad_field_is_named() {
        let cases = [
            (json!([]), "(input)"),
            (json!({}), "replicationGroupId"),
            (
                json!({"replicationGroupId": "a", "cacheClusterId": "b"}),
                "replicationGroupId",
            ),
            (json!({"replicationGroupID": "a"}), "replicationGroupID"),
            (json!({"replicationGroupId": "9a"}), "replicationGroupId"),
            (json!({"cacheClusterId": 5}), "cacheClusterId"),
            (
                json!({"replicationGroupId": "a", "bucket": "Bad_Bucket"}),
                "bucket",
            ),
            (json!({"replicationGroupId": "a", "bucket": ""}), "bucket"),
            (
                json!({"replicationGroupId": "a", "snapshotTimeoutSeconds": "3600"}),
                "snapshotTimeoutSeconds",
            ),
            (
                json!({"replicationGroupId": "a", "exportTimeoutSeconds": 1.5}),
                "exportTimeoutSeconds",
            ),
            (
                json!({"replicationGroupId": "a", "exportTimeoutSeconds": 10}),
                "exportTimeoutSeconds",
            ),
            (
                json!({"replicationGroupId": "a", "keepSourceSnapshot": "yes"}),
                "keepSourceSnapshot",
            ),
        ];
        for (input, field) in cases {
            assert_eq!(
                field_of(validate(&input, &cfg()).unwrap_err()),
                field,
                "input {input}"
            );
        }
    }

    #[test]
    fn bucket_required_without_default() {
        let err = validate(&json!({"replicationGroupId": "a"}), &Config::default()).unwrap_err();
        assert!(err.to_string().contains("BACKUP_BUCKET"), "{err}");
    }

    #[test]
    fn bucket_rules() {
        assert!(check_bucket_name("acme-cache-backups").is_ok());
        assert!(check_bucket_name("ab").is_err());
        assert!(check_bucket_name("-ab").is_err());
        assert!(check_bucket_name("a..b").is_err());
        assert!(check_bucket_name("192.168.1.1").is_err());
    }
}
