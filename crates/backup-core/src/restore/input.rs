//! The restore input ([`RestoreInput`]) and its validation into a [`RestoreRequest`], before anything is read or
//! created.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::backup::input::check_bucket_name;
use crate::error::BackupError;
use crate::naming::check_elasticache_id;

/// Smallest accepted restore deadline, seconds.
pub const MIN_RESTORE_TIMEOUT_SECONDS: u64 = 300;
/// Largest accepted restore deadline (the state machine gives up after 48 h), seconds.
pub const MAX_RESTORE_TIMEOUT_SECONDS: u64 = 86_400;
/// Default restore deadline, seconds.
pub const DEFAULT_RESTORE_TIMEOUT_SECONDS: u64 = 3600;

/// The restore input, as a schedule (drills) or a person gives it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RestoreInput {
    /// `s3://<bucket>/<exportName>.manifest.json`.
    pub manifest: Option<String>,
    /// With `latest`: the source whose newest verified backup is restored.
    pub replication_group_id: Option<String>,
    /// Pick the newest verified backup of `replicationGroupId` from the manifests in `bucket`.
    pub latest: Option<bool>,
    /// With `latest`: the bucket to search (default the functions' `BACKUP_BUCKET`).
    pub bucket: Option<String>,
    /// The new group's id; must not exist. Required unless `drill`, which then names it `ecbr-…`.
    pub target_replication_group_id: Option<String>,
    /// Verify, report, then delete the restored group.
    pub drill: Option<bool>,
    /// `CacheNodeType` (default: the source's).
    pub node_type: Option<String>,
    /// `EngineVersion` (default: the source's).
    pub engine_version: Option<String>,
    /// `CacheSubnetGroupName` (default: the source's).
    pub cache_subnet_group_name: Option<String>,
    /// `SecurityGroupIds` (default: the source's).
    pub security_group_ids: Option<Vec<String>>,
    /// `CacheParameterGroupName` (default: the source's).
    pub cache_parameter_group_name: Option<String>,
    /// `ReplicasPerNodeGroup` 0–5 (default: the source's).
    pub replicas_per_shard: Option<u32>,
    /// Deadline for the group to become `available`, seconds.
    pub restore_timeout_seconds: Option<u64>,
    /// Re-read every object and compare its SHA-256 with the manifest before creating anything.
    pub verify_before_restore: Option<bool>,
    /// Secrets Manager secret (ARN) holding the AUTH token the new group gets (and the verification uses). Required
    /// to restore a source that used AUTH, except for a drill (whose group then has none).
    pub auth_token_secret_arn: Option<String>,
}

/// Where the backup is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum BackupSelector {
    /// A manifest by location.
    Manifest {
        /// Bucket.
        bucket: String,
        /// Key.
        key: String,
    },
    /// The newest verified backup of a source.
    Latest {
        /// Bucket searched.
        bucket: String,
        /// `ReplicationGroupId` (or standalone `CacheClusterId`) of the source, lower-case.
        source: String,
    },
}

/// Overrides of the source's settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Overrides {
    /// `CacheNodeType`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_type: Option<String>,
    /// `EngineVersion`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine_version: Option<String>,
    /// `CacheSubnetGroupName`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_subnet_group_name: Option<String>,
    /// `SecurityGroupIds`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_group_ids: Option<Vec<String>>,
    /// `CacheParameterGroupName`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_parameter_group_name: Option<String>,
    /// `ReplicasPerNodeGroup`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas_per_shard: Option<u32>,
}

/// The validated restore request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreRequest {
    /// Which backup.
    pub backup: BackupSelector,
    /// The new group's id (lower-case).
    pub target_replication_group_id: String,
    /// Drill: verify, report, delete.
    pub drill: bool,
    /// Seconds for the group to become `available`.
    pub restore_timeout_seconds: u64,
    /// Compare every object's SHA-256 with the manifest before creating anything.
    pub verify_before_restore: bool,
    /// Settings that replace the source's.
    pub overrides: Overrides,
    /// Secret holding the new group's AUTH token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_token_secret_arn: Option<String>,
}

/// `(bucket, key)` of `s3://bucket/key`.
///
/// # Errors
/// The rule broken, as a phrase to follow the field name.
pub fn parse_s3_uri(uri: &str) -> Result<(String, String), String> {
    let rest = uri
        .strip_prefix("s3://")
        .ok_or("must be an s3://<bucket>/<key> URI")?;
    let (bucket, key) = rest
        .split_once('/')
        .filter(|(_, k)| !k.is_empty())
        .ok_or("must be an s3://<bucket>/<key> URI")?;
    check_bucket_name(bucket)?;
    if !key.ends_with(".manifest.json") {
        return Err("must name a manifest (<exportName>.manifest.json)".into());
    }
    Ok((bucket.to_string(), key.to_string()))
}

/// Validates the restore input into a [`RestoreRequest`], before anything is read or created.
/// `default_bucket` is `BACKUP_BUCKET`; `execution_id` names a drill's group when the input names none.
///
/// # Errors
/// `InvalidInput` naming the field and the rule.
pub fn validate_restore(
    input: &Value,
    default_bucket: Option<&str>,
    execution_id: &str,
) -> Result<RestoreRequest, BackupError> {
    if !input.is_object() {
        return Err(BackupError::invalid_input(
            "(input)",
            "must be a JSON object",
        ));
    }
    let i: RestoreInput = crate::backup::input::parse_typed(input, |field| match field {
        "drill" | "latest" | "verifyBeforeRestore" => "must be true or false".into(),
        "replicasPerShard" => "must be a whole number from 0 to 5".into(),
        "restoreTimeoutSeconds" => restore_timeout_rule(),
        "securityGroupIds" => "must be a list of strings".into(),
        "authTokenSecretArn" => "must be a Secrets Manager secret ARN".into(),
        _ => "must be a string".into(),
    })?;
    let drill = i.drill.unwrap_or(false);
    let backup = match (&i.manifest, i.latest.unwrap_or(false)) {
        (Some(_), true) => {
            return Err(BackupError::invalid_input(
                "manifest",
                "and `latest` are both set; give one",
            ));
        }
        (Some(uri), false) => {
            if i.replication_group_id.is_some() || i.bucket.is_some() {
                return Err(BackupError::invalid_input(
                    "manifest",
                    "names the backup already; `replicationGroupId` and `bucket` go with `latest`",
                ));
            }
            let (bucket, key) =
                parse_s3_uri(uri).map_err(|rule| BackupError::invalid_input("manifest", rule))?;
            BackupSelector::Manifest { bucket, key }
        }
        (None, true) => {
            let source = i.replication_group_id.clone().ok_or_else(|| {
                BackupError::invalid_input("replicationGroupId", "is required with `latest`")
            })?;
            check_elasticache_id(&source)
                .map_err(|rule| BackupError::invalid_input("replicationGroupId", rule))?;
            let bucket = i
                .bucket
                .clone()
                .or_else(|| default_bucket.map(str::to_string))
                .ok_or_else(|| {
                    BackupError::invalid_input(
                        "bucket",
                        "is required when the functions have no BACKUP_BUCKET configured",
                    )
                })?;
            check_bucket_name(&bucket)
                .map_err(|rule| BackupError::invalid_input("bucket", rule))?;
            BackupSelector::Latest {
                bucket,
                source: source.to_ascii_lowercase(),
            }
        }
        (None, false) => {
            return Err(BackupError::invalid_input(
                "manifest",
                "is required (or `replicationGroupId` with `latest: true`)",
            ));
        }
    };
    let target = match (&i.target_replication_group_id, drill) {
        (Some(t), _) => {
            check_elasticache_id(t)
                .map_err(|rule| BackupError::invalid_input("targetReplicationGroupId", rule))?;
            t.to_ascii_lowercase()
        }
        (None, true) => crate::naming::drill_group_id(execution_id),
        (None, false) => {
            return Err(BackupError::invalid_input(
                "targetReplicationGroupId",
                "is required (a new replication group id); only a drill names its own",
            ));
        }
    };
    if let Some(n) = i.replicas_per_shard
        && n > 5
    {
        return Err(BackupError::invalid_input(
            "replicasPerShard",
            "must be a whole number from 0 to 5",
        ));
    }
    let timeout = i
        .restore_timeout_seconds
        .unwrap_or(DEFAULT_RESTORE_TIMEOUT_SECONDS);
    if !(MIN_RESTORE_TIMEOUT_SECONDS..=MAX_RESTORE_TIMEOUT_SECONDS).contains(&timeout) {
        return Err(BackupError::invalid_input(
            "restoreTimeoutSeconds",
            restore_timeout_rule(),
        ));
    }
    for (field, value) in [
        ("nodeType", &i.node_type),
        ("engineVersion", &i.engine_version),
        ("cacheSubnetGroupName", &i.cache_subnet_group_name),
        ("cacheParameterGroupName", &i.cache_parameter_group_name),
    ] {
        if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
            return Err(BackupError::invalid_input(field, "must not be empty"));
        }
    }
    if let Some(arn) = &i.auth_token_secret_arn
        && !(arn.starts_with("arn:") && arn.contains(":secretsmanager:"))
    {
        return Err(BackupError::invalid_input(
            "authTokenSecretArn",
            "must be a Secrets Manager secret ARN (arn:aws:secretsmanager:…)",
        ));
    }
    Ok(RestoreRequest {
        auth_token_secret_arn: i.auth_token_secret_arn,
        backup,
        target_replication_group_id: target,
        drill,
        restore_timeout_seconds: timeout,
        verify_before_restore: i.verify_before_restore.unwrap_or(false),
        overrides: Overrides {
            node_type: i.node_type,
            engine_version: i.engine_version,
            cache_subnet_group_name: i.cache_subnet_group_name,
            security_group_ids: i.security_group_ids,
            cache_parameter_group_name: i.cache_parameter_group_name,
            replicas_per_shard: i.replicas_per_shard,
        },
    })
}

fn restore_timeout_rule() -> String {
    format!(
        "must be a whole number of seconds from {MIN_RESTORE_TIMEOUT_SECONDS} to {MAX_RESTORE_TIMEOUT_SECONDS}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field_of(err: BackupError) -> String {
        match err {
            BackupError::InvalidInput { field, .. } => field,
            other => panic!("expected InvalidInput, got {other:?}"),
        }
    }

    #[test]
    fn a_manifest_restore_is_validated() {
        let r = validate_restore(
            &json!({"manifest": "s3://acme-cache-backups/ecb-orders-1.manifest.json",
                    "targetReplicationGroupId": "Orders-Restored", "nodeType": "cache.t4g.small"}),
            None,
            "exec",
        )
        .unwrap();
        assert_eq!(
            r.backup,
            BackupSelector::Manifest {
                bucket: "acme-cache-backups".into(),
                key: "ecb-orders-1.manifest.json".into()
            }
        );
        assert_eq!(r.target_replication_group_id, "orders-restored");
        assert_eq!(r.overrides.node_type.as_deref(), Some("cache.t4g.small"));
        assert_eq!(r.restore_timeout_seconds, DEFAULT_RESTORE_TIMEOUT_SECONDS);
        assert!(!r.drill);
    }

    #[test]
    fn latest_takes_the_default_bucket_and_a_drill_names_its_group() {
        let r = validate_restore(
            &json!({"replicationGroupId": "Orders", "latest": true, "drill": true}),
            Some("acme-cache-backups"),
            "arn:aws:states:us-east-1:1:execution:restore:drill-1",
        )
        .unwrap();
        assert_eq!(
            r.backup,
            BackupSelector::Latest {
                bucket: "acme-cache-backups".into(),
                source: "orders".into()
            }
        );
        assert!(r.target_replication_group_id.starts_with("ecbr-"));
        assert!(check_elasticache_id(&r.target_replication_group_id).is_ok());
    }

    #[test]
    fn each_bad_field_is_named() {
        let m = "s3://acme-cache-backups/e.manifest.json";
        let cases = [
            (json!("x"), "(input)"),
            (json!({}), "manifest"),
            (json!({"manifest": m}), "targetReplicationGroupId"),
            (
                json!({"manifest": "acme/e.manifest.json", "targetReplicationGroupId": "a"}),
                "manifest",
            ),
            (
                json!({"manifest": "s3://acme-cache-backups/e-0001.rdb", "targetReplicationGroupId": "a"}),
                "manifest",
            ),
            (
                json!({"manifest": m, "latest": true, "targetReplicationGroupId": "a"}),
                "manifest",
            ),
            (
                json!({"latest": true, "targetReplicationGroupId": "a"}),
                "replicationGroupId",
            ),
            (
                json!({"latest": true, "replicationGroupId": "orders", "targetReplicationGroupId": "a"}),
                "bucket",
            ),
            (
                json!({"manifest": m, "targetReplicationGroupId": "9a"}),
                "targetReplicationGroupId",
            ),
            (
                json!({"manifest": m, "targetReplicationGroupId": "a", "replicasPerShard": 6}),
                "replicasPerShard",
            ),
            (
                json!({"manifest": m, "targetReplicationGroupId": "a", "restoreTimeoutSeconds": 10}),
                "restoreTimeoutSeconds",
            ),
            (
                json!({"manifest": m, "targetReplicationGroupId": "a", "drill": "yes"}),
                "drill",
            ),
            (
                json!({"manifest": m, "targetReplicationGroupId": "a", "nodeType": ""}),
                "nodeType",
            ),
            (
                json!({"manifest": m, "targetReplicationGroupId": "a", "securityGroupIds": "sg-1"}),
                "securityGroupIds",
            ),
            (
                json!({"manifest": m, "targetReplicationGroupId": "a", "targetGroup": "b"}),
                "targetGroup",
            ),
        ];
        for (input, field) in cases {
            assert_eq!(
                field_of(validate_restore(&input, None, "e").unwrap_err()),
                field,
                "input {input}"
            );
        }
    }
}
