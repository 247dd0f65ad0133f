//! ElastiCache Serverless shapes and errors for [`crate::elasticache::ElastiCacheSnapshots`]: `ServerlessCache` and
//! `ServerlessCacheSnapshot` as the core reads them, and each operation's modeled errors mapped to the core's error
//! names (Amazon ElastiCache API Reference, API version 2015-02-02: `DescribeServerlessCaches`,
//! `CreateServerlessCacheSnapshot`, `DescribeServerlessCacheSnapshots`, `ExportServerlessCacheSnapshot`,
//! `DeleteServerlessCacheSnapshot`; the botocore model's error shapes and HTTP statuses).

use aws_sdk_elasticache::operation::create_serverless_cache::CreateServerlessCacheError;
use aws_sdk_elasticache::operation::create_serverless_cache_snapshot::CreateServerlessCacheSnapshotError;
use aws_sdk_elasticache::operation::delete_serverless_cache::DeleteServerlessCacheError;
use aws_sdk_elasticache::operation::delete_serverless_cache_snapshot::DeleteServerlessCacheSnapshotError;
use aws_sdk_elasticache::operation::describe_serverless_cache_snapshots::DescribeServerlessCacheSnapshotsError;
use aws_sdk_elasticache::operation::describe_serverless_caches::DescribeServerlessCachesError;
use aws_sdk_elasticache::operation::export_serverless_cache_snapshot::ExportServerlessCacheSnapshotError;
use aws_sdk_elasticache::types::{
    CacheUsageLimits, DataStorage, DataStorageUnit, EcpuPerSecond, ServerlessCache,
    ServerlessCacheSnapshot,
};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::sdk::{aws_message, boxed, fallback, is_throttling_code, timestamp};
use backup_core::error::BackupError;
use backup_core::model::SnapshotStatus;
use backup_core::resources::{
    CreateOutcome, DeleteOutcome, Endpoint, GroupCreateOutcome, NewServerlessCache,
    ServerlessCacheInfo, SnapshotInfo,
};

/// A `ServerlessCache` as the core reads it.
pub fn cache_info(c: &ServerlessCache) -> ServerlessCacheInfo {
    let limits = c.cache_usage_limits();
    ServerlessCacheInfo {
        name: c.serverless_cache_name().unwrap_or_default().to_string(),
        status: c.status().unwrap_or_default().to_string(),
        engine: c.engine().map(str::to_string),
        major_engine_version: c.major_engine_version().map(str::to_string),
        full_engine_version: c.full_engine_version().map(str::to_string),
        arn: c.arn().map(str::to_string),
        created: c.create_time().and_then(timestamp),
        endpoint: c.endpoint().and_then(|e| {
            Some(Endpoint {
                address: e.address()?.to_string(),
                port: u16::try_from(e.port()?).ok()?,
            })
        }),
        security_group_ids: c.security_group_ids().to_vec(),
        subnet_ids: c.subnet_ids().to_vec(),
        user_group_id: c.user_group_id().map(str::to_string),
        kms_key_id: c.kms_key_id().map(str::to_string),
        data_storage_max_gb: limits
            .and_then(|l| l.data_storage())
            .and_then(|d| d.maximum()),
        ecpu_per_second_max: limits
            .and_then(|l| l.ecpu_per_second())
            .and_then(|e| e.maximum()),
    }
}

/// A `ServerlessCacheSnapshot` as a [`SnapshotInfo`]: its `Status` (values undocumented: "The current status of
/// the serverless cache"; kept verbatim, an unknown one counting as in progress), the cache it is of
/// (`ServerlessCacheConfiguration.ServerlessCacheName`), `CreateTime`, `ARN`.
pub fn snapshot_info(s: &ServerlessCacheSnapshot) -> SnapshotInfo {
    SnapshotInfo {
        name: s
            .serverless_cache_snapshot_name()
            .unwrap_or_default()
            .to_string(),
        status: s
            .status()
            .filter(|st| !st.is_empty())
            .map_or(SnapshotStatus::Creating, |st| {
                SnapshotStatus::from(st.to_ascii_lowercase().as_str())
            }),
        serverless_cache_name: s
            .serverless_cache_configuration()
            .and_then(|c| c.serverless_cache_name())
            .map(str::to_string),
        created: s.create_time().and_then(timestamp),
        arn: s.arn().map(str::to_string),
        ..Default::default()
    }
}

type Failed<E> = SdkError<E, HttpResponse>;

/// `DescribeServerlessCaches`' error: `ServerlessCacheNotFoundFault` → `TargetNotFound`.
pub fn describe_cache_error(name: &str, err: Failed<DescribeServerlessCachesError>) -> BackupError {
    match err.as_service_error() {
        Some(DescribeServerlessCachesError::ServerlessCacheNotFoundFault(_)) => {
            BackupError::TargetNotFound {
                message: aws_message("DescribeServerlessCaches", name, &err),
                source: boxed(err),
            }
        }
        _ => fallback("DescribeServerlessCaches", name, err),
    }
}

/// `DescribeServerlessCacheSnapshots`' error: `ServerlessCacheSnapshotNotFoundFault` is `None` (no such snapshot).
///
/// # Errors
/// Any other error, mapped by [`fallback`].
pub fn describe_snapshot_error(
    name: &str,
    err: Failed<DescribeServerlessCacheSnapshotsError>,
) -> Result<Option<SnapshotInfo>, BackupError> {
    match err.as_service_error() {
        Some(DescribeServerlessCacheSnapshotsError::ServerlessCacheSnapshotNotFoundFault(_)) => {
            Ok(None)
        }
        _ => Err(fallback("DescribeServerlessCacheSnapshots", name, err)),
    }
}

/// `CreateServerlessCacheSnapshot`'s error mapped as `CreateSnapshot`'s are: an existing name is
/// [`CreateOutcome::AlreadyExists`] (resume); `InvalidServerlessCacheStateFault` → `ClusterBusy`;
/// `ServerlessCacheNotFoundFault` → `TargetNotFound`; `ServerlessCacheSnapshotQuotaExceededFault` (24 manual
/// snapshots per serverless cache per day) → `SnapshotQuotaExceeded`; `ServiceLinkedRoleNotFoundFault` →
/// `NotSupported` (the account lacks ElastiCache's service-linked role).
///
/// # Errors
/// As above; the rest by [`fallback`].
pub fn create_outcome(
    name: &str,
    cache: &str,
    err: Failed<CreateServerlessCacheSnapshotError>,
) -> Result<CreateOutcome, BackupError> {
    let subject = format!("{name} of serverless cache {cache}");
    let message = aws_message("CreateServerlessCacheSnapshot", &subject, &err);
    match err.as_service_error() {
        Some(CreateServerlessCacheSnapshotError::ServerlessCacheSnapshotAlreadyExistsFault(_)) => {
            Ok(CreateOutcome::AlreadyExists)
        }
        Some(CreateServerlessCacheSnapshotError::InvalidServerlessCacheStateFault(_)) => {
            Err(BackupError::ClusterBusy {
                message,
                source: boxed(err),
            })
        }
        Some(CreateServerlessCacheSnapshotError::ServerlessCacheNotFoundFault(_)) => {
            Err(BackupError::TargetNotFound {
                message,
                source: boxed(err),
            })
        }
        Some(CreateServerlessCacheSnapshotError::ServerlessCacheSnapshotQuotaExceededFault(_)) => {
            Err(BackupError::SnapshotQuotaExceeded {
                message,
                source: boxed(err),
            })
        }
        Some(CreateServerlessCacheSnapshotError::ServiceLinkedRoleNotFoundFault(_)) => {
            Err(BackupError::NotSupported {
                message,
                source: boxed(err),
            })
        }
        _ => Err(fallback("CreateServerlessCacheSnapshot", &subject, err)),
    }
}

/// `ExportServerlessCacheSnapshot`'s error: `InvalidServerlessCacheSnapshotStateFault` → `ClusterBusy` (retried);
/// `ServerlessCacheSnapshotNotFoundFault` → `SnapshotFailed`; `InvalidParameterValueException` (bucket refused,
/// a Memcached cache) and `ServiceLinkedRoleNotFoundFault` → `ExportRejected` with the AWS message; any other
/// 4xx is a refused export too.
pub fn export_error(
    name: &str,
    bucket: &str,
    err: Failed<ExportServerlessCacheSnapshotError>,
) -> BackupError {
    let subject = format!("{name} to s3://{bucket}/");
    let message = aws_message("ExportServerlessCacheSnapshot", &subject, &err);
    match err.as_service_error() {
        Some(ExportServerlessCacheSnapshotError::InvalidServerlessCacheSnapshotStateFault(_)) => {
            BackupError::ClusterBusy {
                message,
                source: boxed(err),
            }
        }
        Some(ExportServerlessCacheSnapshotError::ServerlessCacheSnapshotNotFoundFault(_)) => {
            BackupError::SnapshotFailed { message }
        }
        Some(
            ExportServerlessCacheSnapshotError::InvalidParameterValueException(_)
            | ExportServerlessCacheSnapshotError::ServiceLinkedRoleNotFoundFault(_),
        ) => BackupError::ExportRejected {
            message,
            source: boxed(err),
        },
        _ => match fallback("ExportServerlessCacheSnapshot", &subject, err) {
            BackupError::AwsRejected { message, source } => {
                BackupError::ExportRejected { message, source }
            }
            other => other,
        },
    }
}

/// `DeleteServerlessCacheSnapshot`'s error: `ServerlessCacheSnapshotNotFoundFault` is
/// [`DeleteOutcome::NotFound`]; `InvalidServerlessCacheSnapshotStateFault` → `ClusterBusy` (retried).
///
/// # Errors
/// As above; the rest by [`fallback`].
pub fn delete_outcome(
    name: &str,
    err: Failed<DeleteServerlessCacheSnapshotError>,
) -> Result<DeleteOutcome, BackupError> {
    match err.as_service_error() {
        Some(DeleteServerlessCacheSnapshotError::ServerlessCacheSnapshotNotFoundFault(_)) => {
            Ok(DeleteOutcome::NotFound)
        }
        Some(DeleteServerlessCacheSnapshotError::InvalidServerlessCacheSnapshotStateFault(_)) => {
            Err(BackupError::ClusterBusy {
                message: aws_message("DeleteServerlessCacheSnapshot", name, &err),
                source: boxed(err),
            })
        }
        _ => Err(fallback("DeleteServerlessCacheSnapshot", name, err)),
    }
}

/// `CacheUsageLimits` of a new cache: `DataStorage` (`Maximum`, `Unit` GB) and `ECPUPerSecond.Maximum`, when the
/// restore sets either; `None` leaves ElastiCache's defaults.
pub fn usage_limits(cache: &NewServerlessCache) -> Option<CacheUsageLimits> {
    if cache.data_storage_max_gb.is_none() && cache.ecpu_per_second_max.is_none() {
        return None;
    }
    let to_i32 = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
    Some(
        CacheUsageLimits::builder()
            .set_data_storage(cache.data_storage_max_gb.map(|gb| {
                DataStorage::builder()
                    .maximum(to_i32(gb))
                    .unit(DataStorageUnit::Gb)
                    .build()
            }))
            .set_ecpu_per_second(
                cache
                    .ecpu_per_second_max
                    .map(|n| EcpuPerSecond::builder().maximum(to_i32(n)).build()),
            )
            .build(),
    )
}

/// `CreateServerlessCache`'s error: `ServerlessCacheAlreadyExistsFault` is [`GroupCreateOutcome::AlreadyExists`]
/// (the caller decides by the restore tag whether it is its own); every other modeled refusal
/// (`ServerlessCacheQuotaForCustomerExceededFault`, `InvalidParameterValue`, `InvalidParameterCombination`,
/// `InvalidUserGroupStateFault`, `UserGroupNotFoundFault`, `ServiceLinkedRoleNotFoundFault`,
/// `TagQuotaPerResourceExceeded`, …) → `RestoreRejected` with the AWS message, as CreateReplicationGroup's.
///
/// # Errors
/// As above; throttling and anything unmodeled by [`fallback`].
pub fn create_cache_outcome(
    name: &str,
    err: Failed<CreateServerlessCacheError>,
) -> Result<GroupCreateOutcome, BackupError> {
    match err.as_service_error() {
        Some(CreateServerlessCacheError::ServerlessCacheAlreadyExistsFault(_)) => {
            Ok(GroupCreateOutcome::AlreadyExists)
        }
        Some(
            CreateServerlessCacheError::ServerlessCacheQuotaForCustomerExceededFault(_)
            | CreateServerlessCacheError::InvalidParameterValueException(_)
            | CreateServerlessCacheError::InvalidParameterCombinationException(_)
            | CreateServerlessCacheError::InvalidUserGroupStateFault(_)
            | CreateServerlessCacheError::UserGroupNotFoundFault(_)
            | CreateServerlessCacheError::ServiceLinkedRoleNotFoundFault(_)
            | CreateServerlessCacheError::TagQuotaPerResourceExceeded(_)
            | CreateServerlessCacheError::InvalidCredentialsException(_),
        ) => Err(BackupError::RestoreRejected {
            message: aws_message("CreateServerlessCache", name, &err),
            source: boxed(err),
        }),
        // Unmodeled answers with a code that is not throttling: a refusal too, as CreateReplicationGroup's.
        Some(e) if e.code().is_some_and(|c| !is_throttling_code(c)) => {
            Err(BackupError::RestoreRejected {
                message: aws_message("CreateServerlessCache", name, &err),
                source: boxed(err),
            })
        }
        _ => Err(fallback("CreateServerlessCache", name, err)),
    }
}

/// `DeleteServerlessCache`'s error: `ServerlessCacheNotFoundFault` is [`DeleteOutcome::NotFound`];
/// `InvalidServerlessCacheStateFault` (still `creating`, or a snapshot being taken) → `ClusterBusy` (retried).
///
/// # Errors
/// As above; the rest by [`fallback`].
pub fn delete_cache_outcome(
    name: &str,
    err: Failed<DeleteServerlessCacheError>,
) -> Result<DeleteOutcome, BackupError> {
    match err.as_service_error() {
        Some(DeleteServerlessCacheError::ServerlessCacheNotFoundFault(_)) => {
            Ok(DeleteOutcome::NotFound)
        }
        Some(DeleteServerlessCacheError::InvalidServerlessCacheStateFault(_)) => {
            Err(BackupError::ClusterBusy {
                message: aws_message("DeleteServerlessCache", name, &err),
                source: boxed(err),
            })
        }
        _ => Err(fallback("DeleteServerlessCache", name, err)),
    }
}

#[cfg(test)]
mod tests {
    use crate::elasticache::ElastiCacheSnapshots;
    use aws_sdk_elasticache::Client;
    use aws_sdk_elasticache::operation::create_serverless_cache_snapshot::{
        CreateServerlessCacheSnapshotError, CreateServerlessCacheSnapshotOutput,
    };
    use aws_sdk_elasticache::operation::delete_serverless_cache_snapshot::{
        DeleteServerlessCacheSnapshotError, DeleteServerlessCacheSnapshotOutput,
    };
    use aws_sdk_elasticache::operation::describe_serverless_cache_snapshots::{
        DescribeServerlessCacheSnapshotsError, DescribeServerlessCacheSnapshotsOutput,
    };
    use aws_sdk_elasticache::operation::describe_serverless_caches::{
        DescribeServerlessCachesError, DescribeServerlessCachesOutput,
    };
    use aws_sdk_elasticache::operation::export_serverless_cache_snapshot::ExportServerlessCacheSnapshotError;
    use aws_sdk_elasticache::types::error::*;
    use aws_sdk_elasticache::types::{
        ServerlessCache, ServerlessCacheConfiguration, ServerlessCacheSnapshot,
    };
    use aws_smithy_mocks::{RuleMode, mock, mock_client};
    use backup_core::model::SnapshotStatus;
    use backup_core::ports::Snapshots;
    use backup_core::resources::{CreateOutcome, DeleteOutcome, SnapshotTarget};

    fn client(rules: &[&aws_smithy_mocks::Rule]) -> ElastiCacheSnapshots {
        ElastiCacheSnapshots::new(mock_client!(
            aws_sdk_elasticache,
            RuleMode::MatchAny,
            rules.iter().copied(),
            |c| c.retry_config(aws_sdk_elasticache::config::retry::RetryConfig::disabled())
        ))
    }

    fn target() -> SnapshotTarget {
        SnapshotTarget::ServerlessCache("sessions".into())
    }

    #[tokio::test]
    async fn create_maps_each_modeled_error_to_its_name() {
        let ok = mock!(Client::create_serverless_cache_snapshot)
            .match_requests(|r| {
                r.serverless_cache_snapshot_name() == Some("a")
                    && r.serverless_cache_name() == Some("sessions")
                    && r.tags()
                        .iter()
                        .any(|t| t.key() == Some("k") && t.value() == Some("v"))
            })
            .then_output(|| {
                CreateServerlessCacheSnapshotOutput::builder()
                    .serverless_cache_snapshot(
                        ServerlessCacheSnapshot::builder()
                            .serverless_cache_snapshot_name("a")
                            .status("CREATING")
                            .build(),
                    )
                    .build()
            });
        let exists = mock!(Client::create_serverless_cache_snapshot)
            .match_requests(|r| r.serverless_cache_snapshot_name() == Some("b"))
            .then_error(|| {
                CreateServerlessCacheSnapshotError::ServerlessCacheSnapshotAlreadyExistsFault(
                    ServerlessCacheSnapshotAlreadyExistsFault::builder().build(),
                )
            });
        let busy = mock!(Client::create_serverless_cache_snapshot)
            .match_requests(|r| r.serverless_cache_snapshot_name() == Some("c"))
            .then_error(|| {
                CreateServerlessCacheSnapshotError::InvalidServerlessCacheStateFault(
                    InvalidServerlessCacheStateFault::builder().build(),
                )
            });
        let quota = mock!(Client::create_serverless_cache_snapshot)
            .match_requests(|r| r.serverless_cache_snapshot_name() == Some("d"))
            .then_error(|| {
                CreateServerlessCacheSnapshotError::ServerlessCacheSnapshotQuotaExceededFault(
                    ServerlessCacheSnapshotQuotaExceededFault::builder()
                        .message("24 a day")
                        .build(),
                )
            });
        let gone = mock!(Client::create_serverless_cache_snapshot)
            .match_requests(|r| r.serverless_cache_snapshot_name() == Some("e"))
            .then_error(|| {
                CreateServerlessCacheSnapshotError::ServerlessCacheNotFoundFault(
                    ServerlessCacheNotFoundFault::builder().build(),
                )
            });
        let c = client(&[&ok, &exists, &busy, &quota, &gone]);
        let tags = [("k".to_string(), "v".to_string())];
        match c.create_snapshot("a", &target(), &tags).await.unwrap() {
            CreateOutcome::Created(info) => {
                // Upper-case statuses are read as the node-based ones.
                assert_eq!(info.status, SnapshotStatus::Creating);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            c.create_snapshot("b", &target(), &tags).await.unwrap(),
            CreateOutcome::AlreadyExists
        );
        let err = |name: &'static str| {
            let c = &c;
            let tags = &tags;
            async move { c.create_snapshot(name, &target(), tags).await.unwrap_err() }
        };
        assert_eq!(err("c").await.error_type(), "ClusterBusy");
        let quota = err("d").await;
        assert_eq!(quota.error_type(), "SnapshotQuotaExceeded");
        assert!(quota.to_string().contains("24 a day"), "{quota}");
        assert_eq!(err("e").await.error_type(), "TargetNotFound");
    }

    #[tokio::test]
    async fn describe_reads_the_cache_and_the_snapshot_and_a_missing_snapshot_is_none() {
        let cache = mock!(Client::describe_serverless_caches)
            .match_requests(|r| r.serverless_cache_name() == Some("sessions"))
            .then_output(|| {
                DescribeServerlessCachesOutput::builder()
                    .serverless_caches(
                        ServerlessCache::builder()
                            .serverless_cache_name("sessions")
                            .status("available")
                            .engine("valkey")
                            .full_engine_version("8.0")
                            .arn("arn:aws:elasticache:eu-west-1:1:serverlesscache:sessions")
                            .security_group_ids("sg-1")
                            .build(),
                    )
                    .build()
            });
        let no_cache = mock!(Client::describe_serverless_caches)
            .match_requests(|r| r.serverless_cache_name() == Some("nope"))
            .then_error(|| {
                DescribeServerlessCachesError::ServerlessCacheNotFoundFault(
                    ServerlessCacheNotFoundFault::builder().build(),
                )
            });
        let snap = mock!(Client::describe_serverless_cache_snapshots)
            .match_requests(|r| r.serverless_cache_snapshot_name() == Some("a"))
            .then_output(|| {
                DescribeServerlessCacheSnapshotsOutput::builder()
                    .serverless_cache_snapshots(
                        ServerlessCacheSnapshot::builder()
                            .serverless_cache_snapshot_name("a")
                            .status("available")
                            .arn("arn:aws:elasticache:eu-west-1:1:serverlesscachesnapshot:a")
                            .serverless_cache_configuration(
                                ServerlessCacheConfiguration::builder()
                                    .serverless_cache_name("sessions")
                                    .build(),
                            )
                            .build(),
                    )
                    .build()
            });
        let no_snap = mock!(Client::describe_serverless_cache_snapshots)
            .match_requests(|r| r.serverless_cache_snapshot_name() == Some("b"))
            .then_error(|| {
                DescribeServerlessCacheSnapshotsError::ServerlessCacheSnapshotNotFoundFault(
                    ServerlessCacheSnapshotNotFoundFault::builder().build(),
                )
            });
        let c = client(&[&cache, &no_cache, &snap, &no_snap]);
        let info = c.serverless_cache("sessions").await.unwrap();
        assert!(info.is_available());
        assert_eq!(info.engine.as_deref(), Some("valkey"));
        assert_eq!(info.security_group_ids, ["sg-1"]);
        assert_eq!(
            c.serverless_cache("nope").await.unwrap_err().error_type(),
            "TargetNotFound"
        );
        let s = c.serverless_snapshot("a").await.unwrap().unwrap();
        assert_eq!(s.serverless_cache_name.as_deref(), Some("sessions"));
        assert_eq!(s.status, SnapshotStatus::Available);
        assert!(s.arn.unwrap().ends_with(":serverlesscachesnapshot:a"));
        assert!(c.serverless_snapshot("b").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn export_and_delete_map_their_errors() {
        let busy = mock!(Client::export_serverless_cache_snapshot)
            .match_requests(|r| r.serverless_cache_snapshot_name() == Some("a"))
            .then_error(|| {
                ExportServerlessCacheSnapshotError::InvalidServerlessCacheSnapshotStateFault(
                    InvalidServerlessCacheSnapshotStateFault::builder().build(),
                )
            });
        let refused = mock!(Client::export_serverless_cache_snapshot)
            .match_requests(|r| {
                r.serverless_cache_snapshot_name() == Some("b") && r.s3_bucket_name() == Some("bkt")
            })
            .then_error(|| {
                ExportServerlessCacheSnapshotError::InvalidParameterValueException(
                    InvalidParameterValueException::builder()
                        .message("bucket in another region")
                        .build(),
                )
            });
        let gone = mock!(Client::export_serverless_cache_snapshot)
            .match_requests(|r| r.serverless_cache_snapshot_name() == Some("c"))
            .then_error(|| {
                ExportServerlessCacheSnapshotError::ServerlessCacheSnapshotNotFoundFault(
                    ServerlessCacheSnapshotNotFoundFault::builder().build(),
                )
            });
        let deleted = mock!(Client::delete_serverless_cache_snapshot)
            .match_requests(|r| r.serverless_cache_snapshot_name() == Some("a"))
            .then_output(|| DeleteServerlessCacheSnapshotOutput::builder().build());
        let not_there = mock!(Client::delete_serverless_cache_snapshot)
            .match_requests(|r| r.serverless_cache_snapshot_name() == Some("b"))
            .then_error(|| {
                DeleteServerlessCacheSnapshotError::ServerlessCacheSnapshotNotFoundFault(
                    ServerlessCacheSnapshotNotFoundFault::builder().build(),
                )
            });
        let exporting = mock!(Client::delete_serverless_cache_snapshot)
            .match_requests(|r| r.serverless_cache_snapshot_name() == Some("c"))
            .then_error(|| {
                DeleteServerlessCacheSnapshotError::InvalidServerlessCacheSnapshotStateFault(
                    InvalidServerlessCacheSnapshotStateFault::builder().build(),
                )
            });
        let c = client(&[&busy, &refused, &gone, &deleted, &not_there, &exporting]);
        let e = c.export_serverless_snapshot("a", "bkt").await.unwrap_err();
        assert_eq!(e.error_type(), "ClusterBusy");
        let e = c.export_serverless_snapshot("b", "bkt").await.unwrap_err();
        assert_eq!(e.error_type(), "ExportRejected");
        assert!(e.to_string().contains("another region"), "{e}");
        let e = c.export_serverless_snapshot("c", "bkt").await.unwrap_err();
        assert_eq!(e.error_type(), "SnapshotFailed");
        assert_eq!(
            c.delete_serverless_snapshot("a").await.unwrap(),
            DeleteOutcome::Deleted
        );
        assert_eq!(
            c.delete_serverless_snapshot("b").await.unwrap(),
            DeleteOutcome::NotFound
        );
        assert_eq!(
            c.delete_serverless_snapshot("c")
                .await
                .unwrap_err()
                .error_type(),
            "ClusterBusy"
        );
    }

    #[tokio::test]
    async fn create_serverless_cache_sends_the_seed_and_maps_each_refusal() {
        use aws_sdk_elasticache::operation::create_serverless_cache::{
            CreateServerlessCacheError, CreateServerlessCacheOutput,
        };
        use backup_core::ports::Groups;
        use backup_core::resources::{GroupCreateOutcome, NewServerlessCache};
        let ok = mock!(Client::create_serverless_cache)
            .match_requests(|r| {
                r.serverless_cache_name() == Some("a")
                    && r.engine() == Some("valkey")
                    && r.major_engine_version() == Some("8")
                    && r.snapshot_arns_to_restore() == ["arn:aws:s3:::b/e-0001.rdb"]
                    && r.subnet_ids() == ["subnet-1"]
                    && r.cache_usage_limits()
                        .and_then(|l| l.data_storage())
                        .is_some_and(|d| d.maximum() == Some(10))
                    && r.tags().iter().any(|t| {
                        t.key() == Some("elasticache-backup:restore-execution")
                            && t.value() == Some("exec-1")
                    })
            })
            .then_output(|| CreateServerlessCacheOutput::builder().build());
        let exists = mock!(Client::create_serverless_cache)
            .match_requests(|r| r.serverless_cache_name() == Some("b"))
            .then_error(|| {
                CreateServerlessCacheError::ServerlessCacheAlreadyExistsFault(
                    ServerlessCacheAlreadyExistsFault::builder().build(),
                )
            });
        let quota = mock!(Client::create_serverless_cache)
            .match_requests(|r| r.serverless_cache_name() == Some("c"))
            .then_error(|| {
                CreateServerlessCacheError::ServerlessCacheQuotaForCustomerExceededFault(
                    ServerlessCacheQuotaForCustomerExceededFault::builder()
                        .message("too many serverless caches")
                        .build(),
                )
            });
        let value = mock!(Client::create_serverless_cache)
            .match_requests(|r| r.serverless_cache_name() == Some("d"))
            .then_error(|| {
                CreateServerlessCacheError::InvalidParameterValueException(
                    InvalidParameterValueException::builder()
                        .message("Invalid snapshot ARN")
                        .build(),
                )
            });
        let combination = mock!(Client::create_serverless_cache)
            .match_requests(|r| r.serverless_cache_name() == Some("e"))
            .then_error(|| {
                CreateServerlessCacheError::InvalidParameterCombinationException(
                    InvalidParameterCombinationException::builder()
                        .message("UserGroupId is for Valkey and Redis OSS")
                        .build(),
                )
            });
        let c = client(&[&ok, &exists, &quota, &value, &combination]);
        let cache = |name: &str| NewServerlessCache {
            name: name.into(),
            description: "d".into(),
            engine: "valkey".into(),
            major_engine_version: Some("8".into()),
            snapshot_arns_to_restore: vec!["arn:aws:s3:::b/e-0001.rdb".into()],
            subnet_ids: vec!["subnet-1".into()],
            data_storage_max_gb: Some(10),
            tags: vec![(
                "elasticache-backup:restore-execution".into(),
                "exec-1".into(),
            )],
            ..NewServerlessCache::default()
        };
        assert_eq!(
            c.create_serverless_cache(&cache("a")).await.unwrap(),
            GroupCreateOutcome::Created
        );
        assert_eq!(
            c.create_serverless_cache(&cache("b")).await.unwrap(),
            GroupCreateOutcome::AlreadyExists
        );
        for (name, text) in [
            ("c", "too many serverless caches"),
            ("d", "Invalid snapshot ARN"),
            ("e", "UserGroupId is for Valkey"),
        ] {
            let err = c.create_serverless_cache(&cache(name)).await.unwrap_err();
            assert_eq!(err.error_type(), "RestoreRejected", "{name}: {err}");
            assert!(err.to_string().contains(text), "{err}");
        }
    }

    #[tokio::test]
    async fn delete_serverless_cache_outcomes() {
        use aws_sdk_elasticache::operation::delete_serverless_cache::{
            DeleteServerlessCacheError, DeleteServerlessCacheOutput,
        };
        use backup_core::ports::Groups;
        let deleted = mock!(Client::delete_serverless_cache)
            .match_requests(|r| {
                r.serverless_cache_name() == Some("a") && r.final_snapshot_name().is_none()
            })
            .then_output(|| DeleteServerlessCacheOutput::builder().build());
        let gone = mock!(Client::delete_serverless_cache)
            .match_requests(|r| r.serverless_cache_name() == Some("b"))
            .then_error(|| {
                DeleteServerlessCacheError::ServerlessCacheNotFoundFault(
                    ServerlessCacheNotFoundFault::builder().build(),
                )
            });
        let creating = mock!(Client::delete_serverless_cache)
            .match_requests(|r| r.serverless_cache_name() == Some("c"))
            .then_error(|| {
                DeleteServerlessCacheError::InvalidServerlessCacheStateFault(
                    InvalidServerlessCacheStateFault::builder().build(),
                )
            });
        let c = client(&[&deleted, &gone, &creating]);
        assert_eq!(
            c.delete_serverless_cache("a").await.unwrap(),
            DeleteOutcome::Deleted
        );
        assert_eq!(
            c.delete_serverless_cache("b").await.unwrap(),
            DeleteOutcome::NotFound
        );
        assert_eq!(
            c.delete_serverless_cache("c")
                .await
                .unwrap_err()
                .error_type(),
            "ClusterBusy"
        );
    }
}
