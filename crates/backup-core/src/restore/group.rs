//! The group a restore creates: the CreateReplicationGroup request ([`new_group`]), the tag that marks it as the
//! execution's own ([`RESTORE_TAG`]) and the AUTH token it gets ([`auth_token`]).

use super::backup::BackupInfo;
use super::input::RestoreRequest;
use crate::error::BackupError;
use crate::model::ClusterMode;
use crate::partition::Partition;
use crate::resources::{NewGroup, NewShard, Secret};

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
}
