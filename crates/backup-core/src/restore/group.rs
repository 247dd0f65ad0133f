//! The group a restore creates: the CreateReplicationGroup request ([`new_group`]), the tag that marks it as the
//! execution's own ([`RESTORE_TAG`]) and the AUTH token it gets ([`auth_token`]).

use super::backup::BackupInfo;
use super::input::RestoreRequest;
use crate::error::BackupError;
use crate::model::ClusterMode;
use crate::partition::Partition;
use crate::resources::{NewGroup, NewServerlessCache, NewShard, Secret};

use super::progress::SeedFrom;

/// Tag key on every group a restore creates; its value is the restore execution's id. Only a group carrying the
/// execution's own id is ever deleted by it.
pub const RESTORE_TAG: &str = "elasticache-backup:restore-execution";

/// The CreateReplicationGroup request for `backup` into `request.target_replication_group_id`, tagged with
/// [`RESTORE_TAG`] = `execution_id`. Seeded from the S3 objects (`SnapshotArns`, one ARN per shard, with
/// `NodeGroupConfiguration.Slots` for cluster mode enabled), or from `snapshot_name` when given.
/// With `auth_token` the group gets that AUTH token and, as ElastiCache requires for one, TLS in transit.
pub fn new_group(
    request: &RestoreRequest,
    backup: &BackupInfo,
    execution_id: &str,
    snapshot_name: Option<String>,
    auth_token: Option<Secret>,
) -> NewGroup {
    let o = &request.overrides;
    let s = &backup.settings;
    let cme = backup.cluster_mode == ClusterMode::Enabled;
    NewGroup {
        id: request.target_replication_group_id.clone(),
        description: format!(
            "elasticache-backup {} of {} from {}",
            if request.drill { "drill" } else { "restore" },
            backup.source_id,
            backup.export_name
        ),
        engine: backup.engine.clone(),
        engine_version: o
            .engine_version
            .clone()
            .or_else(|| backup.engine_version.clone()),
        node_type: o.node_type.clone().or_else(|| s.node_type.clone()),
        cluster_mode_enabled: cme,
        shards: backup
            .shards
            .iter()
            .map(|sh| NewShard {
                node_group_id: sh.node_group_id.clone(),
                // Several ranges cannot be given (`NodeGroupConfiguration.Slots` is one "startkey-endkey"); only
                // a restore from the kept snapshot gets here with them, and ElastiCache takes its own layout then.
                slots: if cme {
                    sh.slots.clone().filter(|s| !s.contains(','))
                } else {
                    None
                },
            })
            .collect(),
        replicas_per_shard: o.replicas_per_shard.or(s.replicas_per_shard),
        snapshot_arns: if snapshot_name.is_some() {
            Vec::new()
        } else {
            if backup.snapshot_arns.len() == backup.shards.len() {
                backup.snapshot_arns.clone()
            } else {
                backup
                    .shards
                    .iter()
                    .map(|sh| Partition::Aws.s3_object_arn(&backup.bucket, &sh.key))
                    .collect()
            }
        },
        snapshot_name,
        parameter_group: o
            .cache_parameter_group_name
            .clone()
            .or_else(|| s.cache_parameter_group_name.clone()),
        subnet_group: o
            .cache_subnet_group_name
            .clone()
            .or_else(|| s.cache_subnet_group_name.clone()),
        security_group_ids: o
            .security_group_ids
            .clone()
            .unwrap_or_else(|| s.security_group_ids.clone()),
        transit_encryption: s.transit_encryption || auth_token.is_some(),
        auth_token,
        tags: vec![
            (RESTORE_TAG.to_string(), execution_id.to_string()),
            (
                "elasticache-backup:source".to_string(),
                backup.source_id.clone(),
            ),
        ],
    }
}

/// The CreateServerlessCache request for `backup` into `request.targetServerlessCacheName`, tagged as
/// [`new_group`] tags a group, and how it is seeded.
///
/// - `Engine`: the source's (`redis` | `valkey`; a manifest that records none is taken as `redis`).
/// - `MajorEngineVersion`: `majorEngineVersion` of the input, else the major of the source's engine version
///   (`7.0.15` → `7`). Whether a serverless cache loads an RDB of an older major (a Redis OSS 6 node-based backup) is
///   not documented; ElastiCache refuses the request if it cannot (`RestoreRejected`, its message kept).
/// - `SnapshotArnsToRestore`: the ARN of the backup's kept ElastiCache snapshot when ResolveBackup found one
///   ([`BackupInfo::kept_snapshot_arn`]: a serverless snapshot for a serverless backup, a node-based snapshot for a
///   node-based one — the API Reference says only "The ARN(s) of the snapshot that the new serverless cache will be
///   created from"), else the S3 object ARNs of the shard objects, at the seeding location ResolveBackup chose
///   ([`BackupInfo::snapshot_arns`]: the export's objects, or their SSE-S3 copies in the seed bucket). **That
///   `SnapshotArnsToRestore` takes S3 object ARNs is undocumented** (the Service Authorization Reference lists
///   `s3:GetObject` among CreateServerlessCache's dependent actions, which only an S3 seed needs; public Terraform
///   examples pass `arn:aws:s3:::bucket/key.rdb`): the kept snapshot is preferred whenever there is one, and a refusal
///   of the S3 ARNs surfaces as `RestoreRejected` with AWS's message before anything is created.
/// - `SecurityGroupIds`: the input's, else the source's; `SubnetIds`, `UserGroupId`, `KmsKeyId`, `CacheUsageLimits`:
///   the input's (a manifest records no subnets for a serverless source), else ElastiCache's defaults.
pub fn new_serverless_cache(
    request: &RestoreRequest,
    backup: &BackupInfo,
    execution_id: &str,
) -> (NewServerlessCache, SeedFrom) {
    let o = &request.overrides;
    let (seeds, from) = match &backup.kept_snapshot_arn {
        Some(arn) => (vec![arn.clone()], SeedFrom::SnapshotName),
        None if backup.snapshot_arns.len() == backup.shards.len() => {
            (backup.snapshot_arns.clone(), SeedFrom::SnapshotArns)
        }
        None => (
            backup
                .shards
                .iter()
                .map(|sh| Partition::Aws.s3_object_arn(&backup.bucket, &sh.key))
                .collect(),
            SeedFrom::SnapshotArns,
        ),
    };
    let cache = NewServerlessCache {
        name: request
            .target_serverless_cache_name
            .clone()
            .unwrap_or_default(),
        description: format!(
            "elasticache-backup {} of {} from {}",
            if request.drill { "drill" } else { "restore" },
            backup.source_id,
            backup.export_name
        ),
        engine: backup
            .engine
            .as_deref()
            .unwrap_or("redis")
            .to_ascii_lowercase(),
        major_engine_version: o.major_engine_version.clone().or_else(|| {
            backup
                .engine_version
                .as_deref()
                .and_then(|v| v.split('.').next())
                .filter(|major| !major.is_empty())
                .map(str::to_string)
        }),
        snapshot_arns_to_restore: seeds,
        security_group_ids: o
            .security_group_ids
            .clone()
            .unwrap_or_else(|| backup.settings.security_group_ids.clone()),
        subnet_ids: o.subnet_ids.clone().unwrap_or_default(),
        user_group_id: o.user_group_id.clone(),
        kms_key_id: o.kms_key_id.clone(),
        data_storage_max_gb: o.data_storage_max_gb,
        ecpu_per_second_max: o.ecpu_per_second_max,
        tags: vec![
            (RESTORE_TAG.to_string(), execution_id.to_string()),
            (
                "elasticache-backup:source".to_string(),
                backup.source_id.clone(),
            ),
        ],
    };
    (cache, from)
}

/// The AUTH token named by `request.authTokenSecretArn`, read from `secrets`; `None` when the request names none.
///
/// # Errors
/// `AwsError` naming the secret (never its value) when it cannot be read, `AwsRejected` when it is empty.
pub async fn auth_token<K: crate::ports::Secrets + ?Sized>(
    request: &RestoreRequest,
    secrets: &K,
) -> Result<Option<Secret>, BackupError> {
    let Some(arn) = &request.auth_token_secret_arn else {
        return Ok(None);
    };
    let value = secrets
        .secret_string(arn)
        .await
        .map_err(|e| BackupError::AwsError {
            message: format!("GetSecretValue {arn}: {e}"),
            source: None,
        })?;
    let value = value.trim().to_string();
    if value.is_empty() {
        return Err(BackupError::AwsRejected {
            message: format!("GetSecretValue {arn}: the secret is empty"),
            source: None,
        });
    }
    Ok(Some(Secret(value)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::restore::backup::test_backup as backup;
    use crate::restore::input::{BackupSelector, Overrides};

    #[test]
    fn the_request_seeds_from_s3_with_slots_and_tags_the_group_as_ours() {
        let request = RestoreRequest {
            backup: BackupSelector::Manifest {
                bucket: "b".into(),
                key: "e.manifest.json".into(),
            },
            target_replication_group_id: "orders-restored".into(),
            target_serverless_cache_name: None,
            drill: false,
            restore_timeout_seconds: 3600,
            verify_before_restore: false,
            overrides: Overrides {
                node_type: Some("cache.t4g.small".into()),
                ..Overrides::default()
            },
            auth_token_secret_arn: None,
        };
        let g = new_group(&request, &backup(1, 0), "exec-1", None, None);
        assert_eq!(g.snapshot_arns, vec!["arn:aws:s3:::b/e-0001.rdb"]);
        assert_eq!(g.shards[0].slots.as_deref(), Some("0-16383"));
        assert_eq!(g.node_type.as_deref(), Some("cache.t4g.small"));
        assert_eq!(g.replicas_per_shard, Some(1));
        assert!(
            g.tags
                .contains(&(RESTORE_TAG.to_string(), "exec-1".to_string()))
        );
        let kept = new_group(
            &request,
            &backup(1, 0),
            "exec-1",
            Some("ecb-orders-1".into()),
            None,
        );
        assert!(kept.snapshot_arns.is_empty());
        let token = Some(Secret("p4ssw0rd-0123456789".into()));
        let with_auth = new_group(&request, &backup(1, 0), "exec-1", None, token);
        assert!(
            with_auth.transit_encryption,
            "an AUTH token needs TLS in transit"
        );
        assert!(
            !format!("{with_auth:?}").contains("p4ssw0rd"),
            "the token never reaches Debug output"
        );
    }

    #[test]
    fn a_serverless_cache_prefers_the_kept_snapshot_and_takes_engine_and_major_from_the_source() {
        let mut request = RestoreRequest {
            backup: BackupSelector::Manifest {
                bucket: "b".into(),
                key: "e.manifest.json".into(),
            },
            target_replication_group_id: String::new(),
            target_serverless_cache_name: Some("orders-sl".into()),
            drill: true,
            restore_timeout_seconds: 3600,
            verify_before_restore: false,
            overrides: Overrides {
                subnet_ids: Some(vec!["subnet-1".into()]),
                ..Overrides::default()
            },
            auth_token_secret_arn: None,
        };
        let mut b = backup(1, 0);
        b.settings.security_group_ids = vec!["sg-source".into()];
        b.snapshot_arns = vec!["arn:aws:s3:::seeds/restore-1/e-0001.rdb".into()];
        let (c, from) = new_serverless_cache(&request, &b, "exec-1");
        assert_eq!(from, SeedFrom::SnapshotArns);
        assert_eq!(c.name, "orders-sl");
        assert_eq!(
            (c.engine.as_str(), c.major_engine_version.as_deref()),
            ("redis", Some("7"))
        );
        assert_eq!(
            c.snapshot_arns_to_restore,
            ["arn:aws:s3:::seeds/restore-1/e-0001.rdb"]
        );
        assert_eq!(
            (c.security_group_ids.as_slice(), c.subnet_ids.as_slice()),
            (
                &["sg-source".to_string()][..],
                &["subnet-1".to_string()][..]
            )
        );
        assert!(
            c.tags
                .contains(&(RESTORE_TAG.to_string(), "exec-1".to_string()))
        );

        b.kept_snapshot = Some("ecb-orders-1".into());
        b.kept_snapshot_arn =
            Some("arn:aws:elasticache:eu-west-1:1:serverlesscachesnapshot:ecb-orders-1".into());
        b.engine = Some("Valkey".into());
        request.overrides.major_engine_version = Some("8".into());
        let (c, from) = new_serverless_cache(&request, &b, "exec-1");
        assert_eq!(from, SeedFrom::SnapshotName);
        assert_eq!(
            c.snapshot_arns_to_restore,
            ["arn:aws:elasticache:eu-west-1:1:serverlesscachesnapshot:ecb-orders-1"]
        );
        assert_eq!(
            (c.engine.as_str(), c.major_engine_version.as_deref()),
            ("valkey", Some("8"))
        );
    }
}
