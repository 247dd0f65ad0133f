//! What ResolveBackup decides before anything is created: which manifest (by location, or the newest verified backup
//! of a source, [`NewestBackup`]), whether every object it lists is in S3 as recorded ([`check_listed`],
//! [`check_sha256`]), whether the restore can go ahead ([`check_auth_token`], [`check_target_absent`],
//! [`check_node_groups`]) and where ElastiCache reads the objects from ([`seeding`]). The step reads and copies; these
//! functions judge what it read.

use super::backup::{BackupInfo, BackupShard};
use super::input::{RestoreRequest, RestoreTarget};
use crate::backup::manifest::Manifest;
use crate::error::BackupError;
use crate::model::VerifiedObject;
use crate::partition::{Partition, SeedingMode};
use crate::resources::StoredObject;

/// Whether an object `key` listed under a source's export prefix is a manifest (`<exportName>.manifest.json`).
pub fn is_manifest_key(key: &str) -> bool {
    key.ends_with(".manifest.json")
}

/// The manifest `s3://bucket/key` named by the request, from what GetObject returned (`None`: no such object).
///
/// # Errors
/// `BackupNotFound` when the object does not exist or is not a readable manifest.
pub fn read_manifest(
    bucket: &str,
    key: &str,
    bytes: Option<Vec<u8>>,
) -> Result<Manifest, BackupError> {
    let bytes = bytes.ok_or_else(|| BackupError::BackupNotFound {
        message: format!("manifest s3://{bucket}/{key} does not exist"),
    })?;
    Manifest::from_json(&bytes).map_err(|e| BackupError::BackupNotFound {
        message: format!("s3://{bucket}/{key} is not a readable manifest: {e}"),
    })
}

/// The newest verified backup of `source` among the manifests in `bucket`, fed one manifest at a time in listing
/// order ([`NewestBackup::consider`]). Ranked by when the data was taken (the manifest's data time, then its export
/// name), never by `verifiedAt`. A replication group and a standalone cluster of the same id are two targets: the
/// group's backups are chosen when there are any, a standalone cluster's only otherwise.
#[derive(Debug)]
pub struct NewestBackup<'a> {
    bucket: &'a str,
    source: &'a str,
    serverless: bool,
    newest: Option<(Manifest, String)>,
    newest_standalone: Option<(Manifest, String)>,
}

impl<'a> NewestBackup<'a> {
    /// No manifest considered yet; `source` is the lower-case id of the source, `bucket` the bucket searched.
    pub fn new(bucket: &'a str, source: &'a str) -> Self {
        Self {
            bucket,
            source,
            serverless: false,
            newest: None,
            newest_standalone: None,
        }
    }

    /// Looks for the backups of the ElastiCache Serverless cache named `source` instead (a serverless cache is a
    /// target of its own: a group or cluster of the same name is another).
    pub fn of_serverless(mut self) -> Self {
        self.serverless = true;
        self
    }

    /// Considers the manifest at `key`, from what GetObject returned (`None`: deleted since the listing). A manifest
    /// that cannot be read (deleted, or not a manifest) is skipped and named in `warnings`; one of another source is
    /// passed over.
    ///
    /// # Errors
    /// `BackupNotFound` for a `manifestVersion` this version cannot read: a backup written by a newer version of
    /// the tool may be the newest, so it is never skipped past.
    pub fn consider(
        &mut self,
        key: &str,
        bytes: Option<Vec<u8>>,
        warnings: &mut Vec<String>,
    ) -> Result<(), BackupError> {
        let bucket = self.bucket;
        let Some(bytes) = bytes else {
            warnings.push(format!(
                "manifest s3://{bucket}/{key} was deleted while the backups were listed: skipped"
            ));
            return Ok(());
        };
        let manifest = match Manifest::from_json(&bytes) {
            Ok(m) => m,
            Err(e) if e.starts_with("manifestVersion") => {
                return Err(BackupError::BackupNotFound {
                    message: format!(
                        "s3://{bucket}/{key}: {e}; upgrade elasticache-backup, or name an older manifest"
                    ),
                });
            }
            Err(e) => {
                let warning =
                    format!("s3://{bucket}/{key} is not a readable manifest ({e}): skipped");
                tracing::warn!("{warning}");
                warnings.push(warning);
                return Ok(());
            }
        };
        let Some(src) = manifest.source.as_ref() else {
            return Ok(());
        };
        let slot = if self.serverless {
            if src.serverless_cache_name.as_deref() != Some(self.source) {
                return Ok(());
            }
            &mut self.newest
        } else if src.serverless_cache_name.is_some() {
            return Ok(());
        } else if src.replication_group_id.as_deref() == Some(self.source) {
            &mut self.newest
        } else if src.replication_group_id.is_none()
            && src.cache_cluster_id.as_deref() == Some(self.source)
        {
            &mut self.newest_standalone
        } else {
            return Ok(());
        };
        let newer = slot.as_ref().is_none_or(|(n, _)| {
            (manifest.data_time(), &manifest.export_name) > (n.data_time(), &n.export_name)
        });
        if newer {
            *slot = Some((manifest, key.to_string()));
        }
        Ok(())
    }

    /// `(manifest, bucket, key)` of the newest backup considered.
    ///
    /// # Errors
    /// `BackupNotFound` when no manifest of the source was found.
    pub fn newest(self) -> Result<(Manifest, String, String), BackupError> {
        let (bucket, source) = (self.bucket, self.source);
        self.newest
            .or(self.newest_standalone)
            .map(|(manifest, key)| (manifest, bucket.to_string(), key))
            .ok_or_else(|| BackupError::BackupNotFound {
                message: format!("no verified backup of {source} in s3://{bucket}/"),
            })
    }
}

/// Checks that `shard`'s object is among `listed` (ListObjectsV2 under its key) with the size the manifest records.
///
/// # Errors
/// `BackupNotFound` when it is missing, `BackupCorrupt` when its size differs.
pub fn check_listed(
    bucket: &str,
    shard: &BackupShard,
    listed: &[StoredObject],
) -> Result<(), BackupError> {
    let object =
        listed
            .iter()
            .find(|o| o.key == shard.key)
            .ok_or_else(|| BackupError::BackupNotFound {
                message: format!(
                    "s3://{bucket}/{} listed by the manifest is missing",
                    shard.key
                ),
            })?;
    if object.size_bytes != shard.size_bytes {
        return Err(BackupError::BackupCorrupt {
            message: format!(
                "s3://{bucket}/{} is {} bytes; the manifest says {}",
                shard.key, object.size_bytes, shard.size_bytes
            ),
        });
    }
    Ok(())
}

/// Checks what re-reading `shard`'s object found (`verify_before_restore`) against the manifest's SHA-256.
///
/// # Errors
/// `BackupCorrupt` when the object is not a sound RDB file (the checker's `ExportCorrupt`, message kept) or its
/// SHA-256 differs; any other error of the read, unchanged.
pub fn check_sha256(
    bucket: &str,
    shard: &BackupShard,
    verified: Result<VerifiedObject, BackupError>,
) -> Result<(), BackupError> {
    let v = verified.map_err(|e| match e {
        BackupError::ExportCorrupt { message } => BackupError::BackupCorrupt { message },
        other => other,
    })?;
    if v.sha256 != shard.sha256 {
        return Err(BackupError::BackupCorrupt {
            message: format!(
                "s3://{bucket}/{}: SHA-256 {} differs from the manifest's {}",
                shard.key, v.sha256, shard.sha256
            ),
        });
    }
    Ok(())
}

/// Whether a source that used AUTH can be restored as requested: a restore needs `authTokenSecretArn` (else the new
/// group would be open); a drill goes on without one, and the warning it returns says so.
///
/// # Errors
/// `InvalidInput` naming `authTokenSecretArn`.
pub fn check_auth_token(
    request: &RestoreRequest,
    backup: &BackupInfo,
) -> Result<Option<String>, BackupError> {
    if !backup.settings.auth_token_enabled || request.auth_token_secret_arn.is_some() {
        return Ok(None);
    }
    if !request.drill {
        return Err(BackupError::invalid_input(
            "authTokenSecretArn",
            format!(
                "is required: {} used an AUTH token, and a restore without one would leave the new group open; \
                 name the Secrets Manager secret holding the token it should get",
                backup.source_id
            ),
        ));
    }
    Ok(Some(format!(
        "{} used an AUTH token; this drill's group has none (no authTokenSecretArn) and is deleted after the check",
        backup.source_id
    )))
}

/// Judges DescribeReplicationGroups (or DescribeServerlessCaches) of the `target`: a restore creates a new group or
/// cache, so only `TargetNotFound` lets it go on.
///
/// # Errors
/// `TargetExists` when it exists; the describe's own error otherwise.
pub fn check_target_absent<T>(
    target: RestoreTarget<'_>,
    described: Result<T, BackupError>,
) -> Result<(), BackupError> {
    match described {
        Ok(_) => Err(BackupError::TargetExists {
            message: format!(
                "{} {} already exists; a restore creates a new one",
                target.kind(),
                target.id()
            ),
        }),
        Err(BackupError::TargetNotFound { .. }) => Ok(()),
        Err(other) => Err(other),
    }
}

/// Whether `backup` can be restored into a new serverless cache as `request` asks; returns the warnings a person
/// should read.
///
/// - A serverless cache is always cluster mode enabled, and a cluster mode enabled cache loads database 0 only
///   (User Guide, "Restoring from a backup into a new cache": the restore "fails if the .rdb file references more
///   than one database"): a backup whose manifest counts keys in another database is refused. A manifest that
///   records no per-database counts cannot be checked: the restore goes on with a warning (an RDB that cannot load
///   ends `create-failed`, and that cache is deleted).
/// - Only a Valkey or Redis OSS backup has RDB files to load.
/// - A source that used AUTH: a serverless cache controls access with a user group (`userGroupId`); a restore
///   without one would leave the new cache open to anyone who can reach it, so it is refused unless a drill.
///
/// # Errors
/// `NotSupported` (databases other than 0, an engine other than Valkey / Redis OSS), `InvalidInput` naming
/// `userGroupId`; nothing is created before.
pub fn check_serverless_restore(
    request: &RestoreRequest,
    backup: &BackupInfo,
) -> Result<Vec<String>, BackupError> {
    let mut warnings = Vec::new();
    let refuse = |problem: String| BackupError::NotSupported {
        message: format!(
            "backup s3://{}/{} cannot be restored into a serverless cache: {problem}; nothing was created",
            backup.bucket, backup.manifest_key
        ),
        source: None,
    };
    if let Some(engine) = backup.engine.as_deref()
        && !["redis", "valkey"].contains(&engine.to_ascii_lowercase().as_str())
    {
        return Err(refuse(format!(
            "its engine is {engine}; only Valkey and Redis OSS backups are restored"
        )));
    }
    match backup.databases_beyond_zero() {
        Some(dbs) if !dbs.is_empty() => {
            let list = dbs
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            return Err(refuse(format!(
                "it holds keys in database(s) {list}, and a serverless cache (always cluster mode enabled) loads \
                 database 0 only; restore it into a cluster mode disabled replication group instead"
            )));
        }
        Some(_) => {}
        None => warnings.push(format!(
            "manifest s3://{}/{} records no per-database key counts: whether the backup holds keys outside \
             database 0 (which a serverless cache cannot load) was not checked",
            backup.bucket, backup.manifest_key
        )),
    }
    if backup.settings.auth_token_enabled && request.overrides.user_group_id.is_none() {
        if !request.drill {
            return Err(BackupError::invalid_input(
                "userGroupId",
                format!(
                    "is required: {} used an AUTH token, and a serverless cache without a user group would be \
                     open to anyone who can reach it; name the user group it should get",
                    backup.source_id
                ),
            ));
        }
        warnings.push(format!(
            "{} used an AUTH token; this drill's serverless cache has no user group (no userGroupId) and is \
             deleted after the check",
            backup.source_id
        ));
    }
    Ok(warnings)
}

/// Checks that CreateReplicationGroup can be given the backup's node groups ([`BackupInfo::node_group_problem`]).
///
/// # Errors
/// `NotSupported` naming the manifest and the problem.
pub fn check_node_groups(backup: &BackupInfo) -> Result<(), BackupError> {
    match backup.node_group_problem() {
        None => Ok(()),
        Some(problem) => Err(BackupError::NotSupported {
            message: format!(
                "backup s3://{}/{} cannot be restored into a new group: {problem}; nothing was created",
                backup.bucket, backup.manifest_key
            ),
            source: None,
        }),
    }
}

/// Where ElastiCache reads the shard objects from, by the deployment's seeding route (`SEEDING_MODE`; ElastiCache
/// User Guide, "Seeding a new self-designed cluster with an externally created backup").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seeding {
    /// `bucket-policy` (documented for opt-in regions): the export's objects themselves, whose bucket policy grants
    /// the regional `elasticache-snapshot` principal read access: `SnapshotArns`, one per shard.
    InPlace(Vec<String>),
    /// `object-acl` (documented for default regions): each object is copied (server side, SSE-S3) into the seed
    /// bucket with an object ACL granting the partition's ElastiCache canonical user `READ` and `READ_ACP`; the seed
    /// bucket's lifecycle removes the copies after a day.
    ///
    /// A backup in another bucket than the deployment's (the vault, in another account: ElastiCache cannot read it,
    /// and its replicas may be SSE-KMS) is copied in `bucket-policy` mode too: into the deployment's own bucket,
    /// under [`RESTORE_SEEDS_PREFIX`], SSE-S3, with no ACL (that bucket's policy grants ElastiCache read access;
    /// its lifecycle removes the copies after a day).
    Copies {
        /// `SEED_BUCKET`, or the deployment's bucket for a backup from elsewhere in `bucket-policy` mode.
        seed_bucket: String,
        /// One per shard, in shard order.
        copies: Vec<SeedCopy>,
        /// Whether each copy carries the object ACL for ElastiCache's canonical user (`object-acl`).
        grant: bool,
    },
}

/// Where a restore from another bucket (the vault) copies its shard objects in the deployment's own bucket
/// (`bucket-policy` mode): `restore-seeds/<execution name>/<key>`.
pub const RESTORE_SEEDS_PREFIX: &str = "restore-seeds/";

/// One object to copy into the seed bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedCopy {
    /// The export's object key (in the backup's bucket).
    pub key: String,
    /// Its size, bytes.
    pub size_bytes: u64,
    /// The copy's key: `<execution name>/<key>`.
    pub seed_key: String,
    /// The copy's ARN in `partition`, for `SnapshotArns`.
    pub arn: String,
}

/// How `backup`'s objects reach ElastiCache in `partition` with `mode`; `execution_name` prefixes the seed copies.
/// `home_bucket`, given for a backup in the vault, is the deployment's bucket (`BACKUP_BUCKET`): a backup in
/// another bucket than it is always copied (into it in `bucket-policy` mode).
///
/// # Errors
/// `InvalidInput` naming `SEED_BUCKET` when `mode` is `object-acl` and no seed bucket is configured (a deployment
/// error).
pub fn seeding(
    backup: &BackupInfo,
    execution_name: &str,
    mode: SeedingMode,
    partition: Partition,
    seed_bucket: Option<&str>,
    home_bucket: Option<&str>,
) -> Result<Seeding, BackupError> {
    let elsewhere = home_bucket.filter(|home| *home != backup.bucket);
    match (mode, elsewhere) {
        (SeedingMode::BucketPolicy, Some(home)) => Ok(Seeding::Copies {
            seed_bucket: home.to_string(),
            copies: backup
                .shards
                .iter()
                .map(|sh| {
                    let seed_key = format!("{RESTORE_SEEDS_PREFIX}{execution_name}/{}", sh.key);
                    SeedCopy {
                        key: sh.key.clone(),
                        size_bytes: sh.size_bytes,
                        arn: partition.s3_object_arn(home, &seed_key),
                        seed_key,
                    }
                })
                .collect(),
            grant: false,
        }),
        (SeedingMode::BucketPolicy, None) => Ok(Seeding::InPlace(
            backup
                .shards
                .iter()
                .map(|sh| partition.s3_object_arn(&backup.bucket, &sh.key))
                .collect(),
        )),
        (SeedingMode::ObjectAcl, _) => {
            let seed_bucket = seed_bucket.ok_or_else(|| {
                BackupError::invalid_input(
                    "SEED_BUCKET",
                    "must name the seed bucket when SEEDING_MODE is object-acl (the module sets both)",
                )
            })?;
            let copies = backup
                .shards
                .iter()
                .map(|sh| {
                    let seed_key = format!("{execution_name}/{}", sh.key);
                    SeedCopy {
                        key: sh.key.clone(),
                        size_bytes: sh.size_bytes,
                        arn: partition.s3_object_arn(seed_bucket, &seed_key),
                        seed_key,
                    }
                })
                .collect();
            Ok(Seeding::Copies {
                seed_bucket: seed_bucket.to_string(),
                copies,
                grant: true,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::restore::backup::test_backup;
    use crate::restore::input::{BackupSelector, Overrides};

    fn manifest(
        export: &str,
        group: Option<&str>,
        cluster: Option<&str>,
        started: &str,
    ) -> Vec<u8> {
        serde_json::json!({
            "manifestVersion": 3, "tool": "elasticache-backup", "exportName": export, "bucket": "b",
            "source": {"replicationGroupId": group, "cacheClusterId": cluster, "role": "replica",
                       "clusterMode": "disabled", "shardCount": 1},
            "snapshot": {"status": "available", "startedAt": started, "deadline": started},
            "verifiedAt": "2026-11-22T03:00:00Z",
            "totals": {"objects": 1, "keys": 1, "keysWithExpiry": 0, "bytes": 3},
            "objects": [{"key": format!("{export}-0001.rdb"), "sizeBytes": 3, "sha256": "00",
                         "rdb": {"magic": "REDIS", "version": 10, "keys": 1, "keysWithExpiry": 0}}]
        })
        .to_string()
        .into_bytes()
    }

    fn request(drill: bool) -> RestoreRequest {
        RestoreRequest {
            backup: BackupSelector::Latest {
                bucket: "b".into(),
                source: "orders".into(),
                serverless: false,
            },
            target_replication_group_id: "orders-r".into(),
            target_serverless_cache_name: None,
            drill,
            restore_timeout_seconds: 3600,
            verify_before_restore: false,
            overrides: Overrides::default(),
            auth_token_secret_arn: None,
        }
    }

    #[test]
    fn the_newest_backup_is_the_groups_by_data_time_and_a_standalone_clusters_only_without_one() {
        let mut warnings = Vec::new();
        let mut pick = NewestBackup::new("b", "orders");
        for (key, bytes) in [
            (
                "c.manifest.json",
                manifest("c", None, Some("orders"), "2026-11-23T00:00:00Z"),
            ),
            (
                "a.manifest.json",
                manifest("a", Some("orders"), None, "2026-11-21T23:00:00Z"),
            ),
            (
                "b.manifest.json",
                manifest("b", Some("orders"), None, "2026-11-21T22:00:00Z"),
            ),
            (
                "x.manifest.json",
                manifest("x", Some("other"), None, "2026-11-24T00:00:00Z"),
            ),
        ] {
            pick.consider(key, Some(bytes), &mut warnings).unwrap();
        }
        let (m, bucket, key) = pick.newest().unwrap();
        assert_eq!(
            (m.export_name.as_str(), bucket.as_str(), key.as_str()),
            ("a", "b", "a.manifest.json")
        );
        assert!(warnings.is_empty());

        let mut pick = NewestBackup::new("b", "orders");
        pick.consider(
            "c.manifest.json",
            Some(manifest("c", None, Some("orders"), "2026-11-23T00:00:00Z")),
            &mut warnings,
        )
        .unwrap();
        assert_eq!(pick.newest().unwrap().0.export_name, "c");
    }

    #[test]
    fn an_unreadable_manifest_is_skipped_and_named_but_a_newer_version_stops_the_search() {
        let mut warnings = Vec::new();
        let mut pick = NewestBackup::new("b", "orders");
        pick.consider("gone.manifest.json", None, &mut warnings)
            .unwrap();
        pick.consider(
            "junk.manifest.json",
            Some(b"not json".to_vec()),
            &mut warnings,
        )
        .unwrap();
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[1].contains("junk.manifest.json is not a readable manifest"));
        let mut newer: serde_json::Value =
            serde_json::from_slice(&manifest("n", Some("orders"), None, "2026-11-22T00:00:00Z"))
                .unwrap();
        newer["manifestVersion"] = serde_json::json!(99);
        let err = pick
            .consider(
                "n.manifest.json",
                Some(serde_json::to_vec(&newer).unwrap()),
                &mut warnings,
            )
            .unwrap_err();
        assert!(err.to_string().contains("manifestVersion 99"), "{err}");
        assert_eq!(pick.newest().unwrap_err().error_type(), "BackupNotFound");
    }

    #[test]
    fn a_missing_or_resized_object_and_a_different_sha256_are_refused() {
        let b = test_backup(1, 0);
        let shard = &b.shards[0];
        let object = |size| StoredObject {
            key: shard.key.clone(),
            size_bytes: size,
            last_modified: None,
        };
        assert!(check_listed("b", shard, &[object(10)]).is_ok());
        assert_eq!(
            check_listed("b", shard, &[]).unwrap_err().error_type(),
            "BackupNotFound"
        );
        assert_eq!(
            check_listed("b", shard, &[object(11)])
                .unwrap_err()
                .error_type(),
            "BackupCorrupt"
        );
        let corrupt = Err(BackupError::ExportCorrupt {
            message: "bad magic".into(),
        });
        assert_eq!(
            check_sha256("b", shard, corrupt).unwrap_err().to_string(),
            BackupError::BackupCorrupt {
                message: "bad magic".into()
            }
            .to_string()
        );
        let throttled = Err(BackupError::Throttled {
            message: "SlowDown".into(),
            source: None,
        });
        assert_eq!(
            check_sha256("b", shard, throttled)
                .unwrap_err()
                .error_type(),
            "Throttled"
        );
    }

    #[test]
    fn an_auth_source_needs_a_token_secret_unless_a_drill() {
        let mut b = test_backup(1, 0);
        assert_eq!(check_auth_token(&request(false), &b).unwrap(), None);
        b.settings.auth_token_enabled = true;
        assert_eq!(
            check_auth_token(&request(false), &b)
                .unwrap_err()
                .error_type(),
            "InvalidInput"
        );
        assert!(
            check_auth_token(&request(true), &b)
                .unwrap()
                .unwrap()
                .contains("AUTH token")
        );
    }

    #[test]
    fn only_an_absent_target_lets_the_restore_go_on() {
        assert!(
            check_target_absent(
                RestoreTarget::ReplicationGroup("t"),
                Err::<(), _>(BackupError::TargetNotFound {
                    message: "t".into(),
                    source: None,
                })
            )
            .is_ok()
        );
        assert_eq!(
            check_target_absent(RestoreTarget::ReplicationGroup("t"), Ok(()))
                .unwrap_err()
                .error_type(),
            "TargetExists"
        );
        let exists = check_target_absent(RestoreTarget::Serverless("s"), Ok(())).unwrap_err();
        assert!(
            exists
                .to_string()
                .contains("serverless cache s already exists"),
            "{exists}"
        );
        let throttled = Err::<(), _>(BackupError::Throttled {
            message: "x".into(),
            source: None,
        });
        assert_eq!(
            check_target_absent(RestoreTarget::ReplicationGroup("t"), throttled)
                .unwrap_err()
                .error_type(),
            "Throttled"
        );
    }

    #[test]
    fn seeding_reads_the_export_in_place_or_copies_it_under_the_execution_name() {
        let b = test_backup(1, 0);
        assert_eq!(
            seeding(
                &b,
                "restore-1",
                SeedingMode::BucketPolicy,
                Partition::AwsUsGov,
                None,
                Some("b"),
            )
            .unwrap(),
            Seeding::InPlace(vec!["arn:aws-us-gov:s3:::b/e-0001.rdb".into()])
        );
        // A backup in another bucket (the vault) is copied into the deployment's bucket, without an ACL.
        assert_eq!(
            seeding(
                &b,
                "restore-1",
                SeedingMode::BucketPolicy,
                Partition::Aws,
                None,
                Some("home"),
            )
            .unwrap(),
            Seeding::Copies {
                seed_bucket: "home".into(),
                copies: vec![SeedCopy {
                    key: "e-0001.rdb".into(),
                    size_bytes: b.shards[0].size_bytes,
                    seed_key: "restore-seeds/restore-1/e-0001.rdb".into(),
                    arn: "arn:aws:s3:::home/restore-seeds/restore-1/e-0001.rdb".into(),
                }],
                grant: false,
            }
        );
        let Seeding::Copies {
            seed_bucket,
            copies,
            grant,
        } = seeding(
            &b,
            "restore-1",
            SeedingMode::ObjectAcl,
            Partition::AwsCn,
            Some("seeds"),
            Some("home"),
        )
        .unwrap()
        else {
            panic!("expected copies");
        };
        assert_eq!(seed_bucket, "seeds");
        assert!(grant);
        assert_eq!(copies[0].seed_key, "restore-1/e-0001.rdb");
        assert_eq!(copies[0].arn, "arn:aws-cn:s3:::seeds/restore-1/e-0001.rdb");
        let err = seeding(
            &b,
            "restore-1",
            SeedingMode::ObjectAcl,
            Partition::Aws,
            None,
            None,
        )
        .unwrap_err();
        assert!(err.to_string().contains("SEED_BUCKET"), "{err}");
    }

    #[test]
    fn several_slot_ranges_in_one_node_group_are_not_supported() {
        let mut b = test_backup(1, 0);
        assert!(check_node_groups(&b).is_ok());
        b.shards[0].slots = Some("0-100,8000-16383".into());
        assert_eq!(
            check_node_groups(&b).unwrap_err().error_type(),
            "NotSupported"
        );
    }

    #[test]
    fn a_serverless_restore_refuses_other_databases_and_an_open_cache_for_an_auth_source() {
        use crate::model::DbSummary;
        let mut b = test_backup(3, 0);
        let db = |keys| DbSummary {
            keys,
            keys_with_expiry: 0,
        };
        b.shards[0].databases = [(0, db(2)), (2, db(0))].into();
        assert_eq!(
            check_serverless_restore(&request(false), &b).unwrap(),
            Vec::<String>::new()
        );
        b.shards[0].databases.insert(4, db(1));
        let err = check_serverless_restore(&request(false), &b).unwrap_err();
        assert_eq!(err.error_type(), "NotSupported");
        assert!(err.to_string().contains("database(s) 4,"), "{err}");
        b.shards[0].databases.clear();
        let warnings = check_serverless_restore(&request(false), &b).unwrap();
        assert!(
            warnings[0].contains("no per-database key counts"),
            "{warnings:?}"
        );

        b.engine = Some("memcached".into());
        assert_eq!(
            check_serverless_restore(&request(false), &b)
                .unwrap_err()
                .error_type(),
            "NotSupported"
        );
        b.engine = Some("valkey".into());
        b.settings.auth_token_enabled = true;
        let err = check_serverless_restore(&request(false), &b).unwrap_err();
        assert!(err.to_string().contains("userGroupId"), "{err}");
        assert!(
            check_serverless_restore(&request(true), &b)
                .unwrap()
                .iter()
                .any(|w| w.contains("no user group"))
        );
        let mut with_group = request(false);
        with_group.overrides.user_group_id = Some("ug-orders".into());
        assert!(check_serverless_restore(&with_group, &b).is_ok());
    }

    #[test]
    fn a_serverless_source_is_a_target_of_its_own_for_latest() {
        let serverless = |export: &str, name: &str, started: &str| {
            let mut m: serde_json::Value =
                serde_json::from_slice(&manifest(export, None, None, started)).unwrap();
            m["source"]["serverlessCacheName"] = serde_json::json!(name);
            serde_json::to_vec(&m).unwrap()
        };
        let mut warnings = Vec::new();
        let mut pick = NewestBackup::new("b", "orders").of_serverless();
        for (key, bytes) in [
            (
                "g.manifest.json",
                manifest("g", Some("orders"), None, "2026-11-23T00:00:00Z"),
            ),
            (
                "s1.manifest.json",
                serverless("s1", "orders", "2026-11-21T00:00:00Z"),
            ),
            (
                "s2.manifest.json",
                serverless("s2", "orders", "2026-11-22T00:00:00Z"),
            ),
            (
                "x.manifest.json",
                serverless("x", "other", "2026-11-24T00:00:00Z"),
            ),
        ] {
            pick.consider(key, Some(bytes), &mut warnings).unwrap();
        }
        assert_eq!(pick.newest().unwrap().0.export_name, "s2");
        // A group's search never takes the serverless cache of the same name.
        let mut pick = NewestBackup::new("b", "orders");
        pick.consider(
            "s2.manifest.json",
            Some(serverless("s2", "orders", "2026-11-22T00:00:00Z")),
            &mut warnings,
        )
        .unwrap();
        assert_eq!(pick.newest().unwrap_err().error_type(), "BackupNotFound");
    }
}
