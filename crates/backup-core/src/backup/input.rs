//! The execution input ([`ExecutionInput`], a typed struct) and its validation into a [`Request`], before any AWS
//! resource is created.
//!
//! Accepted input (docs/design.md §3); every other field is refused by name:
//!
//! | field | type | rule |
//! |---|---|---|
//! | `replicationGroupId` | string | exactly one of this, `cacheClusterId` and `serverlessCacheName`; ElastiCache id rules |
//! | `cacheClusterId` | string | see above, up to 50 characters |
//! | `serverlessCacheName` | string | see above (an ElastiCache Serverless cache), 1–40 characters |
//! | `bucket` | string | S3 bucket name rules (3–63, lower-case, DNS-compliant); default `BACKUP_BUCKET` |
//! | `snapshotTimeoutSeconds` | integer | 60–79200; default `SNAPSHOT_TIMEOUT_SECONDS` |
//! | `exportTimeoutSeconds` | integer | 60–79200; default `EXPORT_TIMEOUT_SECONDS` |
//! | `keepSourceSnapshot` | boolean | default false |
//! | `verifyBudgetSeconds` | integer | 1–840; default `VERIFY_BUDGET_SECONDS` (720): how long one VerifyShard invocation checks before it hands a checkpoint to the next one |

use serde::Deserialize;
use serde_json::Value;

use crate::Config;
use crate::backup::run::{Request, TargetRef};
pub use crate::config::{MAX_VERIFY_BUDGET_SECONDS, MIN_VERIFY_BUDGET_SECONDS};
use crate::error::BackupError;
use crate::naming::{check_cache_cluster_id, check_elasticache_id, check_serverless_cache_name};

/// Smallest accepted deadline, seconds.
pub const MIN_TIMEOUT_SECONDS: u64 = 60;
/// Largest accepted deadline (22 h), seconds: both deadlines, the retries of a busy cluster (≈ 1 h) and the
/// verification must fit in the backup execution's 48 h (`TimeoutSeconds` of `terraform/backup.asl.json`).
pub const MAX_TIMEOUT_SECONDS: u64 = 79_200;

/// The execution input, as a schedule or a person gives it (camelCase JSON; `null` counts as absent).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExecutionInput {
    /// `ReplicationGroupId` to back up.
    pub replication_group_id: Option<String>,
    /// `CacheClusterId` to back up (a standalone cluster, or a member node whose group is then backed up).
    pub cache_cluster_id: Option<String>,
    /// `ServerlessCacheName` to back up (an ElastiCache Serverless cache).
    pub serverless_cache_name: Option<String>,
    /// Export bucket.
    pub bucket: Option<String>,
    /// Snapshot deadline, seconds.
    pub snapshot_timeout_seconds: Option<u64>,
    /// Export deadline, seconds.
    pub export_timeout_seconds: Option<u64>,
    /// Keep the ElastiCache snapshot after a verified export.
    pub keep_source_snapshot: Option<bool>,
    /// Seconds one VerifyShard invocation checks before it pauses with a checkpoint.
    pub verify_budget_seconds: Option<u64>,
}

impl ExecutionInput {
    /// Parses the input; a wrong type or an unknown field is `InvalidInput` naming the field.
    ///
    /// # Errors
    /// [`BackupError::InvalidInput`] naming the field and its rule.
    pub fn parse(input: &Value) -> Result<Self, BackupError> {
        if !input.is_object() {
            return Err(BackupError::invalid_input(
                "(input)",
                "must be a JSON object",
            ));
        }
        parse_typed(input, rule_of)
    }
}

/// Deserializes a JSON object into `T` (a `deny_unknown_fields` struct): an unknown field, or a value of the wrong
/// type, is `InvalidInput` naming the field; `rule_of(field)` gives the rule of a field with a value of the wrong
/// type.
///
/// # Errors
/// [`BackupError::InvalidInput`].
pub fn parse_typed<T: serde::de::DeserializeOwned>(
    input: &Value,
    rule_of: impl Fn(&str) -> String,
) -> Result<T, BackupError> {
    serde_path_to_error::deserialize(input).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        match unknown_field(&inner) {
            Some((field, expected)) => BackupError::invalid_input(
                // The path names a nested unknown field whole (`selector.tag`).
                if path.ends_with(&field) { path } else { field },
                format!("is not a known field; expected one of {expected}"),
            ),
            None => {
                // A list element's path is `field[N]`: name the field.
                let field = path.split('[').next().unwrap_or(&path).to_string();
                let rule = rule_of(&field);
                BackupError::invalid_input(field, rule)
            }
        }
    })
}

/// The field and the struct's own field list from serde's "unknown field `x`, expected one of `a`, `b`" (the
/// message `deny_unknown_fields` produces; its path is the enclosing object, so the field comes from here).
fn unknown_field(message: &str) -> Option<(String, String)> {
    let rest = message.strip_prefix("unknown field `")?;
    let (field, rest) = rest.split_once('`')?;
    let expected = rest
        .split_once("expected one of ")
        .or_else(|| rest.split_once("expected "))
        .map_or("", |(_, list)| list)
        .replace('`', "");
    Some((field.to_string(), expected))
}

/// The rule of a field, for a value of the wrong type.
pub(crate) fn rule_of(field: &str) -> String {
    match field {
        "snapshotTimeoutSeconds" | "exportTimeoutSeconds" => timeout_rule(),
        "keepSourceSnapshot" => "must be true or false".into(),
        "verifyBudgetSeconds" => verify_budget_rule(),
        _ => "must be a string".into(),
    }
}

fn verify_budget_rule() -> String {
    format!(
        "must be a whole number of seconds from {MIN_VERIFY_BUDGET_SECONDS} to {MAX_VERIFY_BUDGET_SECONDS} (VerifyShard \
         stops at 900 s)"
    )
}

fn timeout_rule() -> String {
    format!("must be a whole number of seconds from {MIN_TIMEOUT_SECONDS} to {MAX_TIMEOUT_SECONDS}")
}

/// Validates the execution input against the table in the module doc, filling defaults from `config`.
///
/// # Errors
/// [`BackupError::InvalidInput`] naming the first field at fault and the rule it breaks.
pub fn validate(input: &Value, config: &Config) -> Result<Request, BackupError> {
    let input = ExecutionInput::parse(input)?;
    let rg = non_empty(input.replication_group_id, "replicationGroupId")?;
    let cc = non_empty(input.cache_cluster_id, "cacheClusterId")?;
    let sc = non_empty(input.serverless_cache_name, "serverlessCacheName")?;
    let target = target_of(rg, cc, sc)?;

    let bucket = match non_empty(input.bucket, "bucket")? {
        Some(b) => b,
        None => config.default_bucket.clone().ok_or_else(|| {
            BackupError::invalid_input(
                "bucket",
                "is required when the functions have no BACKUP_BUCKET configured",
            )
        })?,
    };
    check_bucket_name(&bucket).map_err(|rule| BackupError::invalid_input("bucket", rule))?;

    Ok(Request {
        target,
        bucket,
        snapshot_timeout_seconds: timeout(
            input.snapshot_timeout_seconds,
            "snapshotTimeoutSeconds",
        )?
        .unwrap_or(config.snapshot_timeout_seconds),
        export_timeout_seconds: timeout(input.export_timeout_seconds, "exportTimeoutSeconds")?
            .unwrap_or(config.export_timeout_seconds),
        keep_source_snapshot: input.keep_source_snapshot.unwrap_or(false),
        verify_budget_seconds: match input.verify_budget_seconds {
            Some(s) if !(MIN_VERIFY_BUDGET_SECONDS..=MAX_VERIFY_BUDGET_SECONDS).contains(&s) => {
                return Err(BackupError::invalid_input(
                    "verifyBudgetSeconds",
                    verify_budget_rule(),
                ));
            }
            Some(s) => s,
            None => config.verify_budget_seconds,
        },
    })
}

/// The one target of `replicationGroupId`, `cacheClusterId` and `serverlessCacheName`, checked by its rules and
/// lower-cased (ElastiCache stores ids lower-cased).
///
/// # Errors
/// [`BackupError::InvalidInput`] naming the field: none or several given, or an id breaking its rules.
fn target_of(
    rg: Option<String>,
    cc: Option<String>,
    sc: Option<String>,
) -> Result<TargetRef, BackupError> {
    let given = [
        ("replicationGroupId", rg.is_some()),
        ("cacheClusterId", cc.is_some()),
        ("serverlessCacheName", sc.is_some()),
    ];
    let set: Vec<&str> = given.iter().filter(|(_, s)| *s).map(|(f, _)| *f).collect();
    match set.as_slice() {
        [] => {
            return Err(BackupError::invalid_input(
                "replicationGroupId",
                "is required (or `cacheClusterId`, or `serverlessCacheName`); give exactly one",
            ));
        }
        [first, rest @ ..] if !rest.is_empty() => {
            let others: Vec<String> = rest.iter().map(|f| format!("`{f}`")).collect();
            return Err(BackupError::invalid_input(
                *first,
                format!(
                    "and {} are both set; give exactly one",
                    others.join(" and ")
                ),
            ));
        }
        _ => {}
    }
    let check = |field: &str, id: String, rule: fn(&str) -> Result<(), String>| {
        rule(&id)
            .map(|()| id.to_ascii_lowercase())
            .map_err(|r| BackupError::invalid_input(field, r))
    };
    if let Some(id) = rg {
        return Ok(TargetRef::ReplicationGroupId(check(
            "replicationGroupId",
            id,
            check_elasticache_id,
        )?));
    }
    if let Some(id) = cc {
        return Ok(TargetRef::CacheClusterId(check(
            "cacheClusterId",
            id,
            check_cache_cluster_id,
        )?));
    }
    let name = sc.unwrap_or_default();
    Ok(TargetRef::ServerlessCacheName(check(
        "serverlessCacheName",
        name,
        check_serverless_cache_name,
    )?))
}

/// Which of two exclusive fields was given.
pub(crate) enum OneOf<A, B> {
    /// The first.
    First(A),
    /// The second.
    Second(B),
}

/// Exactly one of two exclusive fields; the error names the first field.
///
/// # Errors
/// [`BackupError::InvalidInput`] when both or neither are given.
pub(crate) fn exactly_one<A, B>(
    first: Option<A>,
    second: Option<B>,
    first_field: &str,
    second_field: &str,
) -> Result<OneOf<A, B>, BackupError> {
    match (first, second) {
        (Some(a), None) => Ok(OneOf::First(a)),
        (None, Some(b)) => Ok(OneOf::Second(b)),
        (Some(_), Some(_)) => Err(BackupError::invalid_input(
            first_field,
            format!("and `{second_field}` are both set; give exactly one"),
        )),
        (None, None) => Err(BackupError::invalid_input(
            first_field,
            format!("is required (or `{second_field}`); give exactly one"),
        )),
    }
}

fn non_empty(v: Option<String>, field: &str) -> Result<Option<String>, BackupError> {
    match v {
        Some(s) if s.trim().is_empty() => {
            Err(BackupError::invalid_input(field, "must not be empty"))
        }
        Some(s) => Ok(Some(s.trim().to_string())),
        None => Ok(None),
    }
}

fn timeout(v: Option<u64>, field: &str) -> Result<Option<u64>, BackupError> {
    match v {
        Some(s) if !(MIN_TIMEOUT_SECONDS..=MAX_TIMEOUT_SECONDS).contains(&s) => {
            Err(BackupError::invalid_input(field, timeout_rule()))
        }
        other => Ok(other),
    }
}

pub use crate::naming::check_bucket_name;

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

    fn invalid(err: BackupError) -> (String, String) {
        match err {
            BackupError::InvalidInput { field, rule } => (field, rule),
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
    fn full_input_is_honoured_and_null_is_absent() {
        let r = validate(
            &json!({"cacheClusterId": "c-1", "bucket": "b.example", "snapshotTimeoutSeconds": 120,
                    "exportTimeoutSeconds": 600, "keepSourceSnapshot": true, "replicationGroupId": null}),
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
    fn a_serverless_cache_is_a_third_kind_of_target() {
        let r = validate(&json!({"serverlessCacheName": " Sessions "}), &cfg()).unwrap();
        assert_eq!(r.target, TargetRef::ServerlessCacheName("sessions".into()));
        for (input, field, rule) in [
            (
                json!({"serverlessCacheName": "a", "replicationGroupId": "b"}),
                "replicationGroupId",
                "and `serverlessCacheName` are both set; give exactly one",
            ),
            (
                json!({"serverlessCacheName": "a", "cacheClusterId": "b", "replicationGroupId": "c"}),
                "replicationGroupId",
                "and `cacheClusterId` and `serverlessCacheName` are both set; give exactly one",
            ),
            (
                json!({"serverlessCacheName": "a", "cacheClusterId": "b"}),
                "cacheClusterId",
                "and `serverlessCacheName` are both set; give exactly one",
            ),
            (
                json!({"serverlessCacheName": "1abc"}),
                "serverlessCacheName",
                "must start with a letter",
            ),
            (
                json!({"serverlessCacheName": "a--b"}),
                "serverlessCacheName",
                "must not contain two consecutive hyphens",
            ),
            (
                json!({"serverlessCacheName": "ab-"}),
                "serverlessCacheName",
                "must not end with a hyphen",
            ),
            (
                json!({"serverlessCacheName": "a_b"}),
                "serverlessCacheName",
                "may contain only ASCII letters, digits and hyphens",
            ),
            (
                json!({"serverlessCacheName": "a".repeat(41)}),
                "serverlessCacheName",
                "must be 1-40 characters, got 41",
            ),
            (
                json!({"serverlessCacheName": ""}),
                "serverlessCacheName",
                "must not be empty",
            ),
            (
                json!({"serverlessCacheName": 7}),
                "serverlessCacheName",
                "must be a string",
            ),
        ] {
            assert_eq!(
                invalid(validate(&input, &cfg()).unwrap_err()),
                (field.to_string(), rule.to_string()),
                "{input}"
            );
        }
    }

    #[test]
    fn each_bad_field_is_named_with_its_rule() {
        let timeout = "must be a whole number of seconds from 60 to 79200";
        let budget = "must be a whole number of seconds from 1 to 840 (VerifyShard stops at 900 s)";
        let cases = [
            (json!([]), "(input)", "must be a JSON object"),
            (
                json!({}),
                "replicationGroupId",
                "is required (or `cacheClusterId`, or `serverlessCacheName`); give exactly one",
            ),
            (
                json!({"replicationGroupId": "a", "cacheClusterId": "b"}),
                "replicationGroupId",
                "and `cacheClusterId` are both set; give exactly one",
            ),
            (
                json!({"replicationGroupID": "a"}),
                "replicationGroupID",
                "is not a known field; expected one of replicationGroupId, cacheClusterId, \
                 serverlessCacheName, bucket, snapshotTimeoutSeconds, exportTimeoutSeconds, keepSourceSnapshot, \
                 verifyBudgetSeconds",
            ),
            (
                json!({"replicationGroupId": "9a"}),
                "replicationGroupId",
                "must start with a letter",
            ),
            (
                json!({"cacheClusterId": 5}),
                "cacheClusterId",
                "must be a string",
            ),
            (
                json!({"replicationGroupId": "a", "bucket": "Bad_Bucket"}),
                "bucket",
                "may contain only lower-case letters, digits, dots and hyphens",
            ),
            (
                json!({"replicationGroupId": "a", "bucket": ""}),
                "bucket",
                "must not be empty",
            ),
            (
                json!({"replicationGroupId": "a", "snapshotTimeoutSeconds": "3600"}),
                "snapshotTimeoutSeconds",
                timeout,
            ),
            (
                json!({"replicationGroupId": "a", "exportTimeoutSeconds": 1.5}),
                "exportTimeoutSeconds",
                timeout,
            ),
            (
                json!({"replicationGroupId": "a", "exportTimeoutSeconds": -60}),
                "exportTimeoutSeconds",
                timeout,
            ),
            (
                json!({"replicationGroupId": "a", "exportTimeoutSeconds": 10}),
                "exportTimeoutSeconds",
                timeout,
            ),
            (
                json!({"replicationGroupId": "a", "exportTimeoutSeconds": 79201}),
                "exportTimeoutSeconds",
                timeout,
            ),
            (
                json!({"replicationGroupId": "a", "keepSourceSnapshot": "yes"}),
                "keepSourceSnapshot",
                "must be true or false",
            ),
            (
                json!({"replicationGroupId": "a", "verifyBudgetSeconds": 0}),
                "verifyBudgetSeconds",
                budget,
            ),
            (
                json!({"replicationGroupId": "a", "verifyBudgetSeconds": 841}),
                "verifyBudgetSeconds",
                budget,
            ),
            (
                json!({"replicationGroupId": "a", "verifyBudgetSeconds": 60.5}),
                "verifyBudgetSeconds",
                budget,
            ),
            (
                json!({"replicationGroupId": "a", "verifyBudgetSeconds": "720"}),
                "verifyBudgetSeconds",
                budget,
            ),
        ];
        for (input, field, rule) in cases {
            let (f, r) = invalid(validate(&input, &cfg()).unwrap_err());
            assert_eq!((f.as_str(), r.as_str()), (field, rule), "input {input}");
        }
    }

    #[test]
    fn a_long_non_ascii_cache_cluster_id_is_invalid_input_not_a_panic() {
        // 45 bytes with `é` across byte 40.
        let id = format!("{}é{}", "a".repeat(39), "b".repeat(4));
        let (field, rule) = invalid(validate(&json!({"cacheClusterId": id}), &cfg()).unwrap_err());
        assert_eq!(field, "cacheClusterId");
        assert!(rule.contains("ASCII"), "{rule}");
    }

    #[test]
    fn every_field_may_be_null() {
        let all = json!({"replicationGroupId": null, "cacheClusterId": null, "bucket": null,
                         "snapshotTimeoutSeconds": null, "exportTimeoutSeconds": null, "keepSourceSnapshot": null});
        assert_eq!(
            ExecutionInput::parse(&all).unwrap(),
            ExecutionInput::default()
        );
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
