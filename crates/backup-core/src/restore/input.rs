//! The restore input ([`RestoreInput`]) and its validation into a [`RestoreRequest`], before anything is read or
//! created.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::backup::input::check_bucket_name;
use crate::error::BackupError;
use crate::naming::{check_elasticache_id, check_serverless_cache_name};

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
    /// With `latest` (instead of `replicationGroupId`): the ElastiCache Serverless cache whose newest verified
    /// backup is restored.
    pub serverless_cache_name: Option<String>,
    /// Pick the newest verified backup of `replicationGroupId` from the manifests in `bucket`.
    pub latest: Option<bool>,
    /// With `latest`: the bucket to search (default the functions' `BACKUP_BUCKET`).
    pub bucket: Option<String>,
    /// The new group's id; must not exist. Required unless `drill`, which then names it `ecbr-…`.
    pub target_replication_group_id: Option<String>,
    /// The new ElastiCache Serverless cache's name (instead of `targetReplicationGroupId`); must not exist.
    pub target_serverless_cache_name: Option<String>,
    /// With `drill` and no target named: the drill restores into a new serverless cache (`ecbr-…`) instead of a
    /// replication group. Implied by `targetServerlessCacheName`.
    pub serverless: Option<bool>,
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
    /// Serverless target: `SubnetIds` (default: ElastiCache's choice in the default VPC).
    pub subnet_ids: Option<Vec<String>>,
    /// Serverless target: `UserGroupId` (access control). Required to restore a source that used AUTH into
    /// serverless, except for a drill.
    pub user_group_id: Option<String>,
    /// Serverless target: `KmsKeyId` (default: ElastiCache's own key).
    pub kms_key_id: Option<String>,
    /// Serverless target: `MajorEngineVersion` (default: the major of the source's engine version).
    pub major_engine_version: Option<String>,
    /// Serverless target: `CacheUsageLimits.DataStorage.Maximum`, GB.
    pub data_storage_max_gb: Option<u32>,
    /// Serverless target: `CacheUsageLimits.ECPUPerSecond.Maximum`.
    pub ecpu_per_second_max: Option<u32>,
}

/// The inputs that only a replication group target takes (a serverless cache has no nodes, shards, parameter or
/// subnet groups, and no AUTH token).
const GROUP_ONLY_FIELDS: [&str; 6] = [
    "nodeType",
    "engineVersion",
    "cacheSubnetGroupName",
    "cacheParameterGroupName",
    "replicasPerShard",
    "authTokenSecretArn",
];

/// The inputs that only a serverless target takes.
const SERVERLESS_ONLY_FIELDS: [&str; 6] = [
    "subnetIds",
    "userGroupId",
    "kmsKeyId",
    "majorEngineVersion",
    "dataStorageMaxGb",
    "ecpuPerSecondMax",
];

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
        /// `ReplicationGroupId` (or standalone `CacheClusterId`, or with `serverless` the `ServerlessCacheName`)
        /// of the source, lower-case.
        source: String,
        /// The source is an ElastiCache Serverless cache (`serverlessCacheName` with `latest`).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        serverless: bool,
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
    /// Serverless: `SubnetIds`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet_ids: Option<Vec<String>>,
    /// Serverless: `UserGroupId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_group_id: Option<String>,
    /// Serverless: `KmsKeyId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    /// Serverless: `MajorEngineVersion`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub major_engine_version: Option<String>,
    /// Serverless: `CacheUsageLimits.DataStorage.Maximum` (GB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_storage_max_gb: Option<u32>,
    /// Serverless: `CacheUsageLimits.ECPUPerSecond.Maximum`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecpu_per_second_max: Option<u32>,
}

/// The validated restore request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreRequest {
    /// Which backup.
    pub backup: BackupSelector,
    /// The new group's id (lower-case); empty when the target is a serverless cache.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub target_replication_group_id: String,
    /// The new serverless cache's name (lower-case), when the target is an ElastiCache Serverless cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_serverless_cache_name: Option<String>,
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

/// What a restore creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestoreTarget<'a> {
    /// A replication group (`CreateReplicationGroup`).
    ReplicationGroup(&'a str),
    /// An ElastiCache Serverless cache (`CreateServerlessCache`).
    Serverless(&'a str),
}

impl<'a> RestoreTarget<'a> {
    /// The id or name.
    pub fn id(self) -> &'a str {
        match self {
            Self::ReplicationGroup(id) | Self::Serverless(id) => id,
        }
    }

    /// `replication group` or `serverless cache`, for messages.
    pub fn kind(self) -> &'static str {
        match self {
            Self::ReplicationGroup(_) => "replication group",
            Self::Serverless(_) => "serverless cache",
        }
    }

    /// Whether it is a serverless cache.
    pub fn is_serverless(self) -> bool {
        matches!(self, Self::Serverless(_))
    }
}

impl RestoreRequest {
    /// What the restore creates.
    pub fn target(&self) -> RestoreTarget<'_> {
        match &self.target_serverless_cache_name {
            Some(name) => RestoreTarget::Serverless(name),
            None => RestoreTarget::ReplicationGroup(&self.target_replication_group_id),
        }
    }
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
        "serverless" => "must be true or false".into(),
        "subnetIds" => "must be a list of strings".into(),
        "dataStorageMaxGb" | "ecpuPerSecondMax" => "must be a positive whole number".into(),
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
            if i.replication_group_id.is_some()
                || i.serverless_cache_name.is_some()
                || i.bucket.is_some()
            {
                return Err(BackupError::invalid_input(
                    "manifest",
                    "names the backup already; `replicationGroupId` (or `serverlessCacheName`) and `bucket` go \
                     with `latest`",
                ));
            }
            let (bucket, key) =
                parse_s3_uri(uri).map_err(|rule| BackupError::invalid_input("manifest", rule))?;
            BackupSelector::Manifest { bucket, key }
        }
        (None, true) => {
            let (source, serverless) = match (&i.replication_group_id, &i.serverless_cache_name) {
                (Some(_), Some(_)) => {
                    return Err(BackupError::invalid_input(
                        "serverlessCacheName",
                        "and `replicationGroupId` are both set; give one source",
                    ));
                }
                (Some(id), None) => {
                    check_elasticache_id(id)
                        .map_err(|rule| BackupError::invalid_input("replicationGroupId", rule))?;
                    (id.clone(), false)
                }
                (None, Some(name)) => {
                    check_serverless_cache_name(name)
                        .map_err(|rule| BackupError::invalid_input("serverlessCacheName", rule))?;
                    (name.clone(), true)
                }
                (None, None) => {
                    return Err(BackupError::invalid_input(
                        "replicationGroupId",
                        "is required with `latest` (or `serverlessCacheName` for a serverless source)",
                    ));
                }
            };
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
                serverless,
            }
        }
        (None, false) => {
            return Err(BackupError::invalid_input(
                "manifest",
                "is required (or `replicationGroupId` with `latest: true`)",
            ));
        }
    };
    let serverless = check_target_kind(&i, input)?;
    let (target, target_serverless) = if serverless {
        let name = match &i.target_serverless_cache_name {
            Some(name) => {
                check_serverless_cache_name(name).map_err(|rule| {
                    BackupError::invalid_input("targetServerlessCacheName", rule)
                })?;
                name.to_ascii_lowercase()
            }
            None if drill => crate::naming::drill_group_id(execution_id),
            None => {
                return Err(BackupError::invalid_input(
                    "targetServerlessCacheName",
                    "is required (a new serverless cache name); only a drill names its own",
                ));
            }
        };
        (String::new(), Some(name))
    } else {
        let id = match (&i.target_replication_group_id, drill) {
            (Some(t), _) => {
                check_elasticache_id(t)
                    .map_err(|rule| BackupError::invalid_input("targetReplicationGroupId", rule))?;
                t.to_ascii_lowercase()
            }
            (None, true) => crate::naming::drill_group_id(execution_id),
            (None, false) => {
                return Err(BackupError::invalid_input(
                    "targetReplicationGroupId",
                    "is required (a new replication group id, or targetServerlessCacheName for a serverless \
                     cache); only a drill names its own",
                ));
            }
        };
        (id, None)
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
        ("userGroupId", &i.user_group_id),
        ("kmsKeyId", &i.kms_key_id),
        ("majorEngineVersion", &i.major_engine_version),
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
    for (field, value) in [
        ("dataStorageMaxGb", i.data_storage_max_gb),
        ("ecpuPerSecondMax", i.ecpu_per_second_max),
    ] {
        if value == Some(0) {
            return Err(BackupError::invalid_input(
                field,
                "must be a positive whole number",
            ));
        }
    }
    Ok(RestoreRequest {
        auth_token_secret_arn: i.auth_token_secret_arn,
        backup,
        target_replication_group_id: target,
        target_serverless_cache_name: target_serverless,
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
            subnet_ids: i.subnet_ids,
            user_group_id: i.user_group_id,
            kms_key_id: i.kms_key_id,
            major_engine_version: i.major_engine_version,
            data_storage_max_gb: i.data_storage_max_gb,
            ecpu_per_second_max: i.ecpu_per_second_max,
        },
    })
}

/// Whether the restore creates a serverless cache (`targetServerlessCacheName`, or `serverless: true` for a drill
/// that names its own), after checking that the input does not mix the two kinds of target or give one kind's
/// options to the other (the field is named).
///
/// # Errors
/// `InvalidInput` naming the field.
fn check_target_kind(i: &RestoreInput, input: &Value) -> Result<bool, BackupError> {
    if i.target_replication_group_id.is_some() && i.target_serverless_cache_name.is_some() {
        return Err(BackupError::invalid_input(
            "targetServerlessCacheName",
            "and `targetReplicationGroupId` are both set; give one",
        ));
    }
    let serverless = match (i.serverless, &i.target_serverless_cache_name) {
        (Some(false), Some(_)) => {
            return Err(BackupError::invalid_input(
                "serverless",
                "is false, but `targetServerlessCacheName` names a serverless cache",
            ));
        }
        (Some(true), None) if i.target_replication_group_id.is_some() => {
            return Err(BackupError::invalid_input(
                "serverless",
                "is true, but `targetReplicationGroupId` names a replication group",
            ));
        }
        (flag, name) => flag.unwrap_or(false) || name.is_some(),
    };
    let (refused, target) = if serverless {
        (&GROUP_ONLY_FIELDS, "a serverless cache")
    } else {
        (&SERVERLESS_ONLY_FIELDS, "a replication group")
    };
    if let Some(field) = refused
        .iter()
        .find(|f| input.get(**f).is_some_and(|v| !v.is_null()))
    {
        return Err(BackupError::invalid_input(
            *field,
            format!("does not apply to {target} (the restore's target)"),
        ));
    }
    Ok(serverless)
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
    fn a_serverless_drill_as_terraform_schedules_it_is_valid() {
        // terraform/schedule.tf's input for drills = { x = { serverless_cache_name = "Sessions", subnet_ids = [...],
        // security_group_ids = [...] } } (jsonencode sorts the keys).
        let r = validate_restore(
            &json!({"drill": true, "latest": true, "securityGroupIds": ["sg-1"], "serverless": true,
                    "serverlessCacheName": "Sessions", "subnetIds": ["subnet-1", "subnet-2"]}),
            Some("acme-cache-backups"),
            "arn:aws:states:us-east-1:1:execution:restore:drill-1",
        )
        .unwrap();
        assert!(r.drill);
        assert!(r.target_replication_group_id.is_empty());
        assert!(
            r.target_serverless_cache_name
                .as_deref()
                .is_some_and(|n| n.starts_with("ecbr-")),
            "{r:?}"
        );
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
                source: "orders".into(),
                serverless: false,
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

    #[test]
    fn a_serverless_target_is_validated_and_a_serverless_drill_names_its_cache() {
        let m = "s3://acme-cache-backups/e.manifest.json";
        let r = validate_restore(
            &json!({"manifest": m, "targetServerlessCacheName": "Orders-SL",
                    "securityGroupIds": ["sg-1"], "subnetIds": ["subnet-1"], "dataStorageMaxGb": 10}),
            None,
            "exec",
        )
        .unwrap();
        assert_eq!(r.target(), RestoreTarget::Serverless("orders-sl"));
        assert!(r.target_replication_group_id.is_empty());
        assert_eq!(r.overrides.subnet_ids, Some(vec!["subnet-1".to_string()]));
        assert_eq!(r.overrides.data_storage_max_gb, Some(10));
        let doc = serde_json::to_value(&r).unwrap();
        assert!(doc.get("targetReplicationGroupId").is_none(), "{doc}");
        assert_eq!(doc["targetServerlessCacheName"], "orders-sl");

        let drill = validate_restore(
            &json!({"manifest": m, "drill": true, "serverless": true}),
            None,
            "arn:aws:states:us-east-1:1:execution:restore:drill-1",
        )
        .unwrap();
        let RestoreTarget::Serverless(name) = drill.target() else {
            panic!("a serverless drill restores into a serverless cache");
        };
        assert!(name.starts_with("ecbr-") && check_serverless_cache_name(name).is_ok());
        let group = validate_restore(&json!({"manifest": m, "drill": true}), None, "e").unwrap();
        assert!(!group.target().is_serverless());

        let latest = validate_restore(
            &json!({"serverlessCacheName": "Sessions", "latest": true, "drill": true, "serverless": true}),
            Some("acme-cache-backups"),
            "e",
        )
        .unwrap();
        assert_eq!(
            latest.backup,
            BackupSelector::Latest {
                bucket: "acme-cache-backups".into(),
                source: "sessions".into(),
                serverless: true,
            }
        );
        for (input, field) in [
            (
                json!({"serverlessCacheName": "s", "replicationGroupId": "o", "latest": true, "drill": true}),
                "serverlessCacheName",
            ),
            (
                json!({"serverlessCacheName": "9s", "latest": true, "drill": true}),
                "serverlessCacheName",
            ),
            (
                json!({"manifest": m, "serverlessCacheName": "s", "drill": true}),
                "manifest",
            ),
        ] {
            assert_eq!(
                field_of(validate_restore(&input, Some("acme-cache-backups"), "e").unwrap_err()),
                field,
                "input {input}"
            );
        }
    }

    #[test]
    fn a_target_of_one_kind_refuses_the_other_kinds_options_by_name() {
        let m = "s3://acme-cache-backups/e.manifest.json";
        let sl = |extra: serde_json::Value| {
            let mut v = json!({"manifest": m, "targetServerlessCacheName": "orders-sl"});
            v.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            v
        };
        let cases = [
            (
                sl(json!({"targetReplicationGroupId": "a"})),
                "targetServerlessCacheName",
            ),
            (sl(json!({"serverless": false})), "serverless"),
            (sl(json!({"nodeType": "cache.r7g.large"})), "nodeType"),
            (sl(json!({"engineVersion": "7.1"})), "engineVersion"),
            (sl(json!({"replicasPerShard": 1})), "replicasPerShard"),
            (
                sl(json!({"cacheSubnetGroupName": "private"})),
                "cacheSubnetGroupName",
            ),
            (
                sl(json!({"cacheParameterGroupName": "p"})),
                "cacheParameterGroupName",
            ),
            (
                sl(json!({"authTokenSecretArn": "arn:aws:secretsmanager:eu-west-1:1:secret:x"})),
                "authTokenSecretArn",
            ),
            (sl(json!({"dataStorageMaxGb": 0})), "dataStorageMaxGb"),
            (sl(json!({"ecpuPerSecondMax": -1})), "ecpuPerSecondMax"),
            (sl(json!({"subnetIds": "subnet-1"})), "subnetIds"),
            (sl(json!({"userGroupId": ""})), "userGroupId"),
            (
                json!({"manifest": m, "targetServerlessCacheName": "9orders"}),
                "targetServerlessCacheName",
            ),
            (
                json!({"manifest": m, "targetServerlessCacheName": "orders--sl"}),
                "targetServerlessCacheName",
            ),
            (
                json!({"manifest": m, "serverless": true}),
                "targetServerlessCacheName",
            ),
            (
                json!({"manifest": m, "serverless": true, "targetReplicationGroupId": "a"}),
                "serverless",
            ),
            (
                json!({"manifest": m, "targetReplicationGroupId": "a", "subnetIds": ["subnet-1"]}),
                "subnetIds",
            ),
            (
                json!({"manifest": m, "targetReplicationGroupId": "a", "kmsKeyId": "k"}),
                "kmsKeyId",
            ),
            (
                json!({"manifest": m, "drill": true, "userGroupId": "g"}),
                "userGroupId",
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
