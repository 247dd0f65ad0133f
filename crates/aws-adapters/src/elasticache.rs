//! [`Snapshots`] over `aws_sdk_elasticache`.
//!
//! Operations and errors: Amazon ElastiCache API Reference, `DescribeReplicationGroups`, `DescribeCacheClusters`,
//! `CreateSnapshot`, `DescribeSnapshots`, `CopySnapshot`, `DeleteSnapshot`; for ElastiCache Serverless,
//! `DescribeServerlessCaches`, `CreateServerlessCacheSnapshot`, `DescribeServerlessCacheSnapshots`,
//! `ExportServerlessCacheSnapshot`, `DeleteServerlessCacheSnapshot`, and for restores `CreateServerlessCache`,
//! `DeleteServerlessCache` (API version 2015-02-02; shapes and errors in
//! [`crate::serverless`]).

use async_trait::async_trait;
use aws_sdk_elasticache::Client;
use aws_sdk_elasticache::operation::add_tags_to_resource::AddTagsToResourceError;
use aws_sdk_elasticache::operation::copy_snapshot::CopySnapshotError;
use aws_sdk_elasticache::operation::create_replication_group::CreateReplicationGroupError;
use aws_sdk_elasticache::operation::create_snapshot::CreateSnapshotError;
use aws_sdk_elasticache::operation::delete_replication_group::DeleteReplicationGroupError;
use aws_sdk_elasticache::operation::delete_snapshot::DeleteSnapshotError;
use aws_sdk_elasticache::operation::describe_cache_clusters::DescribeCacheClustersError;
use aws_sdk_elasticache::operation::describe_replication_groups::DescribeReplicationGroupsError;
use aws_sdk_elasticache::operation::describe_snapshots::DescribeSnapshotsError;
use aws_sdk_elasticache::operation::list_tags_for_resource::ListTagsForResourceError;
use aws_sdk_elasticache::types::{
    CacheCluster, ClusterMode, DataTieringStatus, NodeGroupConfiguration, ReplicationGroup,
    Snapshot, Tag,
};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::sdk::{aws_message, boxed, fallback, is_throttling_code, timestamp};
use crate::serverless;
use backup_core::error::BackupError;
use backup_core::model::{NodeRole, SnapshotStatus};
use backup_core::ports::{EventLog, Groups, Inventory, Snapshots};
use backup_core::resources::{
    CacheClusterInfo, CreateOutcome, DeleteOutcome, Endpoint, GroupCreateOutcome, NewGroup,
    NewServerlessCache, NodeGroupInfo, NodeGroupMemberInfo, ReplicationGroupInfo,
    ServerlessCacheInfo, SnapshotInfo, SnapshotTarget, SourceEvent,
};

/// ElastiCache adapter. Build once per cold start from the shared `SdkConfig`.
#[derive(Debug, Clone)]
pub struct ElastiCacheSnapshots {
    client: Client,
}

impl ElastiCacheSnapshots {
    /// Wraps an ElastiCache client.
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

#[async_trait]
impl Snapshots for ElastiCacheSnapshots {
    #[tracing::instrument(skip(self))]
    async fn replication_group(&self, id: &str) -> Result<ReplicationGroupInfo, BackupError> {
        let mut items = self
            .client
            .describe_replication_groups()
            .replication_group_id(id)
            .into_paginator()
            .items()
            .send();
        while let Some(item) = items.next().await {
            let rg = item.map_err(|err| match err.as_service_error() {
                Some(DescribeReplicationGroupsError::ReplicationGroupNotFoundFault(_)) => {
                    BackupError::TargetNotFound {
                        message: aws_message("DescribeReplicationGroups", id, &err),
                        source: boxed(err),
                    }
                }
                _ => fallback("DescribeReplicationGroups", id, err),
            })?;
            if rg
                .replication_group_id()
                .is_some_and(|r| r.eq_ignore_ascii_case(id))
            {
                return Ok(replication_group_info(&rg));
            }
        }
        Err(BackupError::TargetNotFound {
            message: format!("DescribeReplicationGroups {id}: replication group not found"),
            source: None,
        })
    }

    #[tracing::instrument(skip(self))]
    async fn cache_cluster(&self, id: &str) -> Result<CacheClusterInfo, BackupError> {
        let mut items = self
            .client
            .describe_cache_clusters()
            .cache_cluster_id(id)
            .show_cache_node_info(true)
            .into_paginator()
            .items()
            .send();
        while let Some(item) = items.next().await {
            let cc = item.map_err(|err| match err.as_service_error() {
                Some(DescribeCacheClustersError::CacheClusterNotFoundFault(_)) => {
                    BackupError::TargetNotFound {
                        message: aws_message("DescribeCacheClusters", id, &err),
                        source: boxed(err),
                    }
                }
                _ => fallback("DescribeCacheClusters", id, err),
            })?;
            if cc
                .cache_cluster_id()
                .is_some_and(|c| c.eq_ignore_ascii_case(id))
            {
                return Ok(cache_cluster_info(&cc));
            }
        }
        Err(BackupError::TargetNotFound {
            message: format!("DescribeCacheClusters {id}: cache cluster not found"),
            source: None,
        })
    }

    #[tracing::instrument(skip(self))]
    async fn create_snapshot(
        &self,
        name: &str,
        target: &SnapshotTarget,
        tags: &[(String, String)],
    ) -> Result<CreateOutcome, BackupError> {
        let mut req = self.client.create_snapshot().snapshot_name(name);
        for (key, value) in tags {
            req = req.tags(Tag::builder().key(key).value(value).build());
        }
        let (req, subject) = match target {
            SnapshotTarget::ReplicationGroup(id) => {
                (req.replication_group_id(id), format!("{name} of {id}"))
            }
            SnapshotTarget::CacheCluster(id) => {
                (req.cache_cluster_id(id), format!("{name} of {id}"))
            }
            SnapshotTarget::ServerlessCache(cache) => {
                let mut req = self
                    .client
                    .create_serverless_cache_snapshot()
                    .serverless_cache_snapshot_name(name)
                    .serverless_cache_name(cache);
                for (key, value) in tags {
                    req = req.tags(Tag::builder().key(key).value(value).build());
                }
                return match req.send().await {
                    Ok(out) => Ok(CreateOutcome::Created(
                        out.serverless_cache_snapshot()
                            .map(serverless::snapshot_info)
                            .unwrap_or_else(|| SnapshotInfo {
                                name: name.to_string(),
                                status: SnapshotStatus::Creating,
                                serverless_cache_name: Some(cache.clone()),
                                ..Default::default()
                            }),
                    )),
                    Err(err) => serverless::create_outcome(name, cache, err),
                };
            }
        };
        match req.send().await {
            Ok(out) => Ok(CreateOutcome::Created(
                out.snapshot()
                    .map(snapshot_info)
                    .unwrap_or_else(|| SnapshotInfo {
                        name: name.to_string(),
                        status: SnapshotStatus::Creating,
                        ..Default::default()
                    }),
            )),
            Err(err) => {
                let message = aws_message("CreateSnapshot", &subject, &err);
                match err.as_service_error() {
                    Some(CreateSnapshotError::SnapshotAlreadyExistsFault(_)) => {
                        Ok(CreateOutcome::AlreadyExists)
                    }
                    Some(
                        CreateSnapshotError::InvalidCacheClusterStateFault(_)
                        | CreateSnapshotError::InvalidReplicationGroupStateFault(_),
                    ) => Err(BackupError::ClusterBusy {
                        message,
                        source: boxed(err),
                    }),
                    Some(
                        CreateSnapshotError::CacheClusterNotFoundFault(_)
                        | CreateSnapshotError::ReplicationGroupNotFoundFault(_),
                    ) => Err(BackupError::TargetNotFound {
                        message,
                        source: boxed(err),
                    }),
                    Some(CreateSnapshotError::SnapshotQuotaExceededFault(_)) => {
                        Err(BackupError::SnapshotQuotaExceeded {
                            message,
                            source: boxed(err),
                        })
                    }
                    Some(CreateSnapshotError::SnapshotFeatureNotSupportedFault(_)) => {
                        Err(BackupError::NotSupported {
                            message,
                            source: boxed(err),
                        })
                    }
                    _ => Err(fallback("CreateSnapshot", &subject, err)),
                }
            }
        }
    }

    #[tracing::instrument(skip(self))]
    async fn snapshot(&self, name: &str) -> Result<Option<SnapshotInfo>, BackupError> {
        let mut items = self
            .client
            .describe_snapshots()
            .snapshot_name(name)
            .show_node_group_config(true)
            .into_paginator()
            .items()
            .send();
        while let Some(item) = items.next().await {
            match item {
                Ok(s)
                    if s.snapshot_name()
                        .is_some_and(|n| n.eq_ignore_ascii_case(name)) =>
                {
                    return Ok(Some(snapshot_info(&s)));
                }
                Ok(_) => {}
                Err(err) => {
                    return match err.as_service_error() {
                        Some(DescribeSnapshotsError::SnapshotNotFoundFault(_)) => Ok(None),
                        _ => Err(fallback("DescribeSnapshots", name, err)),
                    };
                }
            }
        }
        Ok(None)
    }

    #[tracing::instrument(skip(self))]
    async fn export_snapshot(
        &self,
        source: &str,
        target_name: &str,
        bucket: &str,
    ) -> Result<(), BackupError> {
        let result = self
            .client
            .copy_snapshot()
            .source_snapshot_name(source)
            .target_snapshot_name(target_name)
            .target_bucket(bucket)
            .send()
            .await;
        let Err(err) = result else { return Ok(()) };
        let subject = format!("{source} to s3://{bucket}/{target_name}");
        let message = aws_message("CopySnapshot", &subject, &err);
        Err(match err.as_service_error() {
            Some(CopySnapshotError::InvalidSnapshotStateFault(_)) => BackupError::ClusterBusy {
                message,
                source: boxed(err),
            },
            Some(CopySnapshotError::SnapshotNotFoundFault(_)) => {
                BackupError::SnapshotFailed { message }
            }
            Some(CopySnapshotError::SnapshotQuotaExceededFault(_)) => {
                BackupError::SnapshotQuotaExceeded {
                    message,
                    source: boxed(err),
                }
            }
            Some(
                CopySnapshotError::InvalidParameterValueException(_)
                | CopySnapshotError::InvalidParameterCombinationException(_)
                | CopySnapshotError::SnapshotAlreadyExistsFault(_)
                | CopySnapshotError::TagQuotaPerResourceExceeded(_),
            ) => BackupError::ExportRejected {
                message,
                source: boxed(err),
            },
            _ => match fallback("CopySnapshot", &subject, err) {
                // An unmodeled refusal from the service (4xx, e.g. AccessDenied) is still a refused export; a 5xx
                // stays the transient AwsError.
                BackupError::AwsRejected { message, source } => {
                    BackupError::ExportRejected { message, source }
                }
                other => other,
            },
        })
    }

    #[tracing::instrument(skip(self))]
    async fn delete_snapshot(&self, name: &str) -> Result<DeleteOutcome, BackupError> {
        match self
            .client
            .delete_snapshot()
            .snapshot_name(name)
            .send()
            .await
        {
            Ok(_) => Ok(DeleteOutcome::Deleted),
            Err(err) => match err.as_service_error() {
                Some(DeleteSnapshotError::SnapshotNotFoundFault(_)) => Ok(DeleteOutcome::NotFound),
                Some(DeleteSnapshotError::InvalidSnapshotStateFault(_)) => {
                    Err(BackupError::ClusterBusy {
                        message: aws_message("DeleteSnapshot", name, &err),
                        source: boxed(err),
                    })
                }
                _ => Err(fallback("DeleteSnapshot", name, err)),
            },
        }
    }

    #[tracing::instrument(skip(self))]
    async fn serverless_cache(&self, name: &str) -> Result<ServerlessCacheInfo, BackupError> {
        let mut items = self
            .client
            .describe_serverless_caches()
            .serverless_cache_name(name)
            .into_paginator()
            .items()
            .send();
        while let Some(item) = items.next().await {
            let cache = item.map_err(|err| serverless::describe_cache_error(name, err))?;
            if cache
                .serverless_cache_name()
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
            {
                return Ok(serverless::cache_info(&cache));
            }
        }
        Err(BackupError::TargetNotFound {
            message: format!("DescribeServerlessCaches {name}: serverless cache not found"),
            source: None,
        })
    }

    #[tracing::instrument(skip(self))]
    async fn serverless_snapshot(&self, name: &str) -> Result<Option<SnapshotInfo>, BackupError> {
        let mut items = self
            .client
            .describe_serverless_cache_snapshots()
            .serverless_cache_snapshot_name(name)
            .into_paginator()
            .items()
            .send();
        while let Some(item) = items.next().await {
            match item {
                Ok(s)
                    if s.serverless_cache_snapshot_name()
                        .is_some_and(|n| n.eq_ignore_ascii_case(name)) =>
                {
                    return Ok(Some(serverless::snapshot_info(&s)));
                }
                Ok(_) => {}
                Err(err) => return serverless::describe_snapshot_error(name, err),
            }
        }
        Ok(None)
    }

    #[tracing::instrument(skip(self))]
    async fn export_serverless_snapshot(
        &self,
        name: &str,
        bucket: &str,
    ) -> Result<(), BackupError> {
        let result = self
            .client
            .export_serverless_cache_snapshot()
            .serverless_cache_snapshot_name(name)
            .s3_bucket_name(bucket)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) => Err(serverless::export_error(name, bucket, err)),
        }
    }

    #[tracing::instrument(skip(self))]
    async fn delete_serverless_snapshot(&self, name: &str) -> Result<DeleteOutcome, BackupError> {
        match self
            .client
            .delete_serverless_cache_snapshot()
            .serverless_cache_snapshot_name(name)
            .send()
            .await
        {
            Ok(_) => Ok(DeleteOutcome::Deleted),
            Err(err) => serverless::delete_outcome(name, err),
        }
    }
}

#[async_trait]
impl Groups for ElastiCacheSnapshots {
    #[tracing::instrument(skip(self, group), fields(replication_group_id = %group.id))]
    async fn create_replication_group(
        &self,
        group: &NewGroup,
    ) -> Result<GroupCreateOutcome, BackupError> {
        let mut req = self
            .client
            .create_replication_group()
            .replication_group_id(&group.id)
            .replication_group_description(&group.description)
            .set_engine(group.engine.clone())
            .set_engine_version(group.engine_version.clone())
            .set_cache_node_type(group.node_type.clone())
            .set_cache_parameter_group_name(group.parameter_group.clone())
            .set_cache_subnet_group_name(group.subnet_group.clone())
            .set_snapshot_name(group.snapshot_name.clone());
        if !group.security_group_ids.is_empty() {
            req = req.set_security_group_ids(Some(group.security_group_ids.clone()));
        }
        if !group.snapshot_arns.is_empty() {
            req = req.set_snapshot_arns(Some(group.snapshot_arns.clone()));
        }
        if group.transit_encryption {
            req = req.transit_encryption_enabled(true);
        }
        if let Some(token) = &group.auth_token {
            req = req.auth_token(&token.0);
        }
        if group.cluster_mode_enabled {
            // "AutomaticFailoverEnabled must be enabled for Valkey or Redis OSS (cluster mode enabled) replication
            // groups. Default: false" (botocore elasticache 2015-02-02, CreateReplicationGroupMessage). Multi-AZ
            // needs automatic failover and at least one replica per shard (`MultiAZEnabled`, same model).
            req = req
                .cluster_mode(ClusterMode::Enabled)
                .automatic_failover_enabled(true)
                .num_node_groups(i32::try_from(group.shards.len()).unwrap_or(i32::MAX));
            if group.replicas_per_shard.is_some_and(|r| r > 0) {
                req = req.multi_az_enabled(true);
            }
            for shard in &group.shards {
                let mut ng = NodeGroupConfiguration::builder()
                    .node_group_id(&shard.node_group_id)
                    .set_slots(shard.slots.clone());
                if let Some(r) = group.replicas_per_shard {
                    ng = ng.replica_count(i32::try_from(r).unwrap_or(0));
                }
                req = req.node_group_configuration(ng.build());
            }
        } else if let Some(r) = group.replicas_per_shard {
            req = req.replicas_per_node_group(i32::try_from(r).unwrap_or(0));
        }
        for (k, v) in &group.tags {
            req = req.tags(Tag::builder().key(k).value(v).build());
        }
        match req.send().await {
            Ok(_) => Ok(GroupCreateOutcome::Created),
            Err(err) => match err.as_service_error() {
                Some(CreateReplicationGroupError::ReplicationGroupAlreadyExistsFault(_)) => {
                    Ok(GroupCreateOutcome::AlreadyExists)
                }
                Some(e) if e.code().is_some_and(|c| !is_throttling_code(c)) => {
                    Err(BackupError::RestoreRejected {
                        message: aws_message("CreateReplicationGroup", &group.id, &err),
                        source: boxed(err),
                    })
                }
                _ => Err(fallback("CreateReplicationGroup", &group.id, err)),
            },
        }
    }

    #[tracing::instrument(skip(self, cache), fields(serverless_cache_name = %cache.name))]
    async fn create_serverless_cache(
        &self,
        cache: &NewServerlessCache,
    ) -> Result<GroupCreateOutcome, BackupError> {
        let mut req = self
            .client
            .create_serverless_cache()
            .serverless_cache_name(&cache.name)
            .description(&cache.description)
            .engine(&cache.engine)
            .set_major_engine_version(cache.major_engine_version.clone())
            .set_user_group_id(cache.user_group_id.clone())
            .set_kms_key_id(cache.kms_key_id.clone());
        if !cache.snapshot_arns_to_restore.is_empty() {
            req = req.set_snapshot_arns_to_restore(Some(cache.snapshot_arns_to_restore.clone()));
        }
        if !cache.security_group_ids.is_empty() {
            req = req.set_security_group_ids(Some(cache.security_group_ids.clone()));
        }
        if !cache.subnet_ids.is_empty() {
            req = req.set_subnet_ids(Some(cache.subnet_ids.clone()));
        }
        if let Some(limits) = serverless::usage_limits(cache) {
            req = req.cache_usage_limits(limits);
        }
        for (k, v) in &cache.tags {
            req = req.tags(Tag::builder().key(k).value(v).build());
        }
        match req.send().await {
            Ok(_) => Ok(GroupCreateOutcome::Created),
            Err(err) => serverless::create_cache_outcome(&cache.name, err),
        }
    }

    #[tracing::instrument(skip(self))]
    async fn delete_serverless_cache(&self, name: &str) -> Result<DeleteOutcome, BackupError> {
        match self
            .client
            .delete_serverless_cache()
            .serverless_cache_name(name)
            .send()
            .await
        {
            Ok(_) => Ok(DeleteOutcome::Deleted),
            Err(err) => serverless::delete_cache_outcome(name, err),
        }
    }

    #[tracing::instrument(skip(self))]
    async fn delete_replication_group(&self, id: &str) -> Result<DeleteOutcome, BackupError> {
        match self
            .client
            .delete_replication_group()
            .replication_group_id(id)
            .send()
            .await
        {
            Ok(_) => Ok(DeleteOutcome::Deleted),
            Err(err) => match err.as_service_error() {
                Some(DeleteReplicationGroupError::ReplicationGroupNotFoundFault(_)) => {
                    Ok(DeleteOutcome::NotFound)
                }
                Some(DeleteReplicationGroupError::InvalidReplicationGroupStateFault(_)) => {
                    Err(BackupError::ClusterBusy {
                        message: aws_message("DeleteReplicationGroup", id, &err),
                        source: boxed(err),
                    })
                }
                _ => Err(fallback("DeleteReplicationGroup", id, err)),
            },
        }
    }

    #[tracing::instrument(skip(self))]
    async fn tags(&self, arn: &str) -> Result<Vec<(String, String)>, BackupError> {
        match self
            .client
            .list_tags_for_resource()
            .resource_name(arn)
            .send()
            .await
        {
            Ok(out) => Ok(out
                .tag_list()
                .iter()
                .filter_map(|t| {
                    Some((
                        t.key()?.to_string(),
                        t.value().unwrap_or_default().to_string(),
                    ))
                })
                .collect()),
            Err(err) => match err.as_service_error() {
                Some(
                    ListTagsForResourceError::ReplicationGroupNotFoundFault(_)
                    | ListTagsForResourceError::ServerlessCacheNotFoundFault(_),
                ) => Err(BackupError::TargetNotFound {
                    message: aws_message("ListTagsForResource", arn, &err),
                    source: boxed(err),
                }),
                _ => Err(fallback("ListTagsForResource", arn, err)),
            },
        }
    }
    #[tracing::instrument(skip(self))]
    async fn add_tags(&self, arn: &str, tags: &[(String, String)]) -> Result<(), BackupError> {
        let mut call = self.client.add_tags_to_resource().resource_name(arn);
        for (k, v) in tags {
            call = call.tags(Tag::builder().key(k).value(v).build());
        }
        match call.send().await {
            Ok(_) => Ok(()),
            Err(err) => match err.as_service_error() {
                Some(
                    AddTagsToResourceError::ReplicationGroupNotFoundFault(_)
                    | AddTagsToResourceError::ServerlessCacheNotFoundFault(_),
                ) => Err(BackupError::TargetNotFound {
                    message: aws_message("AddTagsToResource", arn, &err),
                    source: boxed(err),
                }),
                _ => Err(fallback("AddTagsToResource", arn, err)),
            },
        }
    }
}

#[async_trait]
impl Inventory for ElastiCacheSnapshots {
    #[tracing::instrument(skip(self))]
    async fn replication_groups(&self) -> Result<Vec<ReplicationGroupInfo>, BackupError> {
        let mut items = self
            .client
            .describe_replication_groups()
            .into_paginator()
            .items()
            .send();
        let mut out = Vec::new();
        while let Some(item) = items.next().await {
            let rg = item.map_err(|err| fallback("DescribeReplicationGroups", "(all)", err))?;
            out.push(replication_group_info(&rg));
        }
        Ok(out)
    }

    #[tracing::instrument(skip(self))]
    async fn standalone_cache_clusters(&self) -> Result<Vec<CacheClusterInfo>, BackupError> {
        let mut items = self
            .client
            .describe_cache_clusters()
            .show_cache_clusters_not_in_replication_groups(true)
            .into_paginator()
            .items()
            .send();
        let mut out = Vec::new();
        while let Some(item) = items.next().await {
            let cc = item.map_err(|err| fallback("DescribeCacheClusters", "(all)", err))?;
            // ElastiCache already leaves members out; a member listed anyway is its group's business.
            if cc.replication_group_id().is_none() {
                out.push(cache_cluster_info(&cc));
            }
        }
        Ok(out)
    }

    #[tracing::instrument(skip(self))]
    async fn serverless_caches(&self) -> Result<Vec<ServerlessCacheInfo>, BackupError> {
        let mut items = self
            .client
            .describe_serverless_caches()
            .into_paginator()
            .items()
            .send();
        let mut out = Vec::new();
        while let Some(item) = items.next().await {
            let cache = item.map_err(|err| fallback("DescribeServerlessCaches", "(all)", err))?;
            out.push(serverless::cache_info(&cache));
        }
        Ok(out)
    }

    #[tracing::instrument(skip(self))]
    async fn our_snapshots(&self) -> Result<Vec<SnapshotInfo>, BackupError> {
        let prefix = format!("{}-", backup_core::naming::SNAPSHOT_PREFIX);
        let mut items = self
            .client
            .describe_snapshots()
            .snapshot_source("user")
            .into_paginator()
            .items()
            .send();
        let mut out = Vec::new();
        while let Some(item) = items.next().await {
            let s = item.map_err(|err| fallback("DescribeSnapshots", "(manual)", err))?;
            if s.snapshot_name().is_some_and(|n| n.starts_with(&prefix)) {
                out.push(snapshot_info(&s));
            }
        }
        Ok(out)
    }
}

#[async_trait]
impl EventLog for ElastiCacheSnapshots {
    #[tracing::instrument(skip(self))]
    async fn events_since(
        &self,
        since: backup_core::model::Timestamp,
    ) -> Result<Vec<SourceEvent>, BackupError> {
        let mut items = self
            .client
            .describe_events()
            .start_time(aws_smithy_types::DateTime::from_secs(
                since.unix_timestamp(),
            ))
            .max_records(100)
            .into_paginator()
            .items()
            .send();
        let mut out = Vec::new();
        while let Some(item) = items.next().await {
            let e = item.map_err(|err| fallback("DescribeEvents", "(all sources)", err))?;
            out.push(SourceEvent {
                source_id: e.source_identifier().unwrap_or_default().to_string(),
                message: e.message().unwrap_or_default().to_string(),
                date: e.date().and_then(timestamp),
            });
        }
        Ok(out)
    }
}

/// An SDK time as a timestamp (whole seconds).
fn replication_group_info(rg: &ReplicationGroup) -> ReplicationGroupInfo {
    ReplicationGroupInfo {
        id: rg.replication_group_id().unwrap_or_default().to_string(),
        status: rg.status().unwrap_or_default().to_string(),
        engine: rg.engine().map(str::to_string),
        cluster_enabled: rg.cluster_enabled().unwrap_or(false),
        data_tiering: matches!(rg.data_tiering(), Some(DataTieringStatus::Enabled)),
        arn: rg.arn().map(str::to_string),
        node_type: rg.cache_node_type().map(str::to_string),
        transit_encryption: rg.transit_encryption_enabled().unwrap_or(false),
        auth_token_enabled: rg.auth_token_enabled().unwrap_or(false),
        created: rg.replication_group_create_time().and_then(timestamp),
        node_groups: rg
            .node_groups()
            .iter()
            .map(|ng| NodeGroupInfo {
                id: ng.node_group_id().unwrap_or_default().to_string(),
                slots: ng.slots().map(str::to_string),
                members: ng
                    .node_group_members()
                    .iter()
                    .map(|m| NodeGroupMemberInfo {
                        cache_cluster_id: m.cache_cluster_id().unwrap_or_default().to_string(),
                        current_role: m.current_role().and_then(NodeRole::from_current_role),
                    })
                    .collect(),
            })
            .collect(),
    }
}

fn cache_cluster_info(cc: &CacheCluster) -> CacheClusterInfo {
    CacheClusterInfo {
        id: cc.cache_cluster_id().unwrap_or_default().to_string(),
        status: cc.cache_cluster_status().unwrap_or_default().to_string(),
        engine: cc.engine().map(str::to_string),
        engine_version: cc.engine_version().map(str::to_string),
        replication_group_id: cc.replication_group_id().map(str::to_string),
        created: cc.cache_cluster_create_time().and_then(timestamp),
        endpoint: cc
            .cache_nodes()
            .iter()
            .find_map(|n| n.endpoint())
            .and_then(|e| {
                Some(Endpoint {
                    address: e.address()?.to_string(),
                    port: u16::try_from(e.port()?).ok()?,
                })
            }),
        parameter_group: cc
            .cache_parameter_group()
            .and_then(|g| g.cache_parameter_group_name())
            .map(str::to_string),
        subnet_group: cc.cache_subnet_group_name().map(str::to_string),
        security_group_ids: cc
            .security_groups()
            .iter()
            .filter_map(|g| g.security_group_id().map(str::to_string))
            .collect(),
        arn: cc.arn().map(str::to_string),
    }
}

fn snapshot_info(s: &Snapshot) -> SnapshotInfo {
    SnapshotInfo {
        name: s.snapshot_name().unwrap_or_default().to_string(),
        // A snapshot whose status is not reported yet is one being created.
        status: s
            .snapshot_status()
            .filter(|st| !st.is_empty())
            .map_or(SnapshotStatus::Creating, SnapshotStatus::from),
        replication_group_id: s.replication_group_id().map(str::to_string),
        cache_cluster_id: s.cache_cluster_id().map(str::to_string),
        serverless_cache_name: None,
        num_node_groups: s.num_node_groups().and_then(|n| u32::try_from(n).ok()),
        node_snapshot_count: u32::try_from(s.node_snapshots().len()).unwrap_or(u32::MAX),
        created: s
            .node_snapshots()
            .iter()
            .filter_map(|n| n.snapshot_create_time())
            .filter_map(timestamp)
            .min(),
        arn: s.arn().map(str::to_string),
        node_groups: node_groups_of(s),
    }
}

/// `NodeSnapshots[].NodeGroupConfiguration` (or the bare `NodeGroupId`) of `s`, one per node group, sorted.
fn node_groups_of(s: &Snapshot) -> Vec<backup_core::model::ShardInfo> {
    let mut groups: Vec<backup_core::model::ShardInfo> = Vec::new();
    for n in s.node_snapshots() {
        let config = n.node_group_configuration();
        let Some(id) = config
            .and_then(|c| c.node_group_id())
            .or_else(|| n.node_group_id())
            .filter(|id| !id.is_empty())
        else {
            continue;
        };
        let slots = config
            .and_then(|c| c.slots())
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        match groups.iter_mut().find(|g| g.node_group_id == id) {
            Some(g) => {
                if g.slots.is_none() {
                    g.slots = slots;
                }
            }
            None => groups.push(backup_core::model::ShardInfo {
                node_group_id: id.to_string(),
                slots,
            }),
        }
    }
    groups.sort_by(|a, b| a.node_group_id.cmp(&b.node_group_id));
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_elasticache::operation::copy_snapshot::CopySnapshotOutput;
    use aws_sdk_elasticache::operation::create_replication_group::CreateReplicationGroupOutput;
    use aws_sdk_elasticache::operation::create_snapshot::CreateSnapshotOutput;
    use aws_sdk_elasticache::operation::delete_snapshot::DeleteSnapshotOutput;
    use aws_sdk_elasticache::operation::describe_replication_groups::DescribeReplicationGroupsOutput;
    use aws_sdk_elasticache::operation::describe_snapshots::DescribeSnapshotsOutput;
    use aws_sdk_elasticache::types::error::*;
    use aws_sdk_elasticache::types::{NodeGroup, NodeGroupMember, NodeSnapshot};
    use aws_smithy_mocks::{RuleMode, mock, mock_client};
    use aws_smithy_types::error::ErrorMetadata;
    use backup_core::resources::NewShard;

    /// Builds a modeled error for a mock rule.
    type MakeError<E> = fn() -> E;

    fn client(rules: &[&aws_smithy_mocks::Rule]) -> ElastiCacheSnapshots {
        ElastiCacheSnapshots::new(mock_client!(
            aws_sdk_elasticache,
            RuleMode::MatchAny,
            rules.iter().copied(),
            |c| c.retry_config(aws_sdk_elasticache::config::retry::RetryConfig::disabled())
        ))
    }

    fn throttling() -> ErrorMetadata {
        ErrorMetadata::builder()
            .code("Throttling")
            .message("Rate exceeded")
            .build()
    }

    #[tokio::test]
    async fn replication_group_maps_members_and_roles() {
        let rule = mock!(Client::describe_replication_groups)
            .match_requests(|r| r.replication_group_id() == Some("orders"))
            .then_output(|| {
                DescribeReplicationGroupsOutput::builder()
                    .replication_groups(
                        ReplicationGroup::builder()
                            .replication_group_id("orders")
                            .status("available")
                            .engine("valkey")
                            .cluster_enabled(false)
                            .data_tiering(DataTieringStatus::Disabled)
                            .node_groups(
                                NodeGroup::builder()
                                    .node_group_id("0001")
                                    .node_group_members(
                                        NodeGroupMember::builder()
                                            .cache_cluster_id("orders-001")
                                            .current_role("primary")
                                            .build(),
                                    )
                                    .node_group_members(
                                        NodeGroupMember::builder()
                                            .cache_cluster_id("orders-002")
                                            .current_role("replica")
                                            .build(),
                                    )
                                    .build(),
                            )
                            .build(),
                    )
                    .build()
            });
        let rg = client(&[&rule]).replication_group("orders").await.unwrap();
        assert_eq!(rg.status, "available");
        assert_eq!(rg.engine.as_deref(), Some("valkey"));
        assert!(!rg.cluster_enabled && !rg.data_tiering);
        assert_eq!(rg.node_groups[0].members[1].cache_cluster_id, "orders-002");
        assert_eq!(
            rg.node_groups[0].members[1].current_role,
            Some(NodeRole::Replica)
        );
    }

    #[tokio::test]
    async fn missing_replication_group_maps_to_target_not_found() {
        let rule = mock!(Client::describe_replication_groups).then_error(|| {
            DescribeReplicationGroupsError::ReplicationGroupNotFoundFault(
                ReplicationGroupNotFoundFault::builder()
                    .message("Replication group nope not found.")
                    .build(),
            )
        });
        let err = client(&[&rule])
            .replication_group("nope")
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "TargetNotFound");
        assert!(
            err.to_string()
                .contains("Replication group nope not found."),
            "{err}"
        );
    }

    #[tokio::test]
    async fn missing_cache_cluster_maps_to_target_not_found() {
        let rule = mock!(Client::describe_cache_clusters).then_error(|| {
            DescribeCacheClustersError::CacheClusterNotFoundFault(
                CacheClusterNotFoundFault::builder().build(),
            )
        });
        assert_eq!(
            client(&[&rule])
                .cache_cluster("c")
                .await
                .unwrap_err()
                .error_type(),
            "TargetNotFound"
        );
    }

    #[tokio::test]
    async fn create_snapshot_passes_the_right_id() {
        let by_node = mock!(Client::create_snapshot)
            .match_requests(|r| {
                r.cache_cluster_id() == Some("orders-002")
                    && r.replication_group_id().is_none()
                    && r.tags()
                        == [Tag::builder()
                            .key("elasticache-backup:execution")
                            .value("arn:x")
                            .build()]
            })
            .then_output(|| {
                CreateSnapshotOutput::builder()
                    .snapshot(
                        Snapshot::builder()
                            .snapshot_name("s1")
                            .snapshot_status("creating")
                            .build(),
                    )
                    .build()
            });
        let by_group = mock!(Client::create_snapshot)
            .match_requests(|r| {
                r.replication_group_id() == Some("big") && r.cache_cluster_id().is_none()
            })
            .then_output(|| {
                CreateSnapshotOutput::builder()
                    .snapshot(
                        Snapshot::builder()
                            .snapshot_name("s2")
                            .snapshot_status("creating")
                            .num_node_groups(3)
                            .node_snapshots(NodeSnapshot::builder().node_group_id("0001").build())
                            .build(),
                    )
                    .build()
            });
        let c = client(&[&by_node, &by_group]);
        let a = c
            .create_snapshot(
                "s1",
                &SnapshotTarget::CacheCluster("orders-002".into()),
                &[("elasticache-backup:execution".into(), "arn:x".into())],
            )
            .await
            .unwrap();
        let b = c
            .create_snapshot("s2", &SnapshotTarget::ReplicationGroup("big".into()), &[])
            .await
            .unwrap();
        assert!(matches!(a, CreateOutcome::Created(ref s) if s.status == SnapshotStatus::Creating));
        assert!(matches!(b, CreateOutcome::Created(ref s) if s.num_node_groups == Some(3)));
        assert_eq!((by_node.num_calls(), by_group.num_calls()), (1, 1));
    }

    #[tokio::test]
    async fn create_snapshot_errors_map_to_stable_names() {
        let cases: Vec<(MakeError<CreateSnapshotError>, Option<&str>)> = vec![
            (
                || {
                    CreateSnapshotError::SnapshotAlreadyExistsFault(
                        SnapshotAlreadyExistsFault::builder().build(),
                    )
                },
                None,
            ),
            (
                || {
                    CreateSnapshotError::InvalidCacheClusterStateFault(
                        InvalidCacheClusterStateFault::builder().build(),
                    )
                },
                Some("ClusterBusy"),
            ),
            (
                || {
                    CreateSnapshotError::InvalidReplicationGroupStateFault(
                        InvalidReplicationGroupStateFault::builder().build(),
                    )
                },
                Some("ClusterBusy"),
            ),
            (
                || {
                    CreateSnapshotError::CacheClusterNotFoundFault(
                        CacheClusterNotFoundFault::builder().build(),
                    )
                },
                Some("TargetNotFound"),
            ),
            (
                || {
                    CreateSnapshotError::ReplicationGroupNotFoundFault(
                        ReplicationGroupNotFoundFault::builder().build(),
                    )
                },
                Some("TargetNotFound"),
            ),
            (
                || {
                    CreateSnapshotError::SnapshotQuotaExceededFault(
                        SnapshotQuotaExceededFault::builder().build(),
                    )
                },
                Some("SnapshotQuotaExceeded"),
            ),
            (
                || {
                    CreateSnapshotError::SnapshotFeatureNotSupportedFault(
                        SnapshotFeatureNotSupportedFault::builder().build(),
                    )
                },
                Some("NotSupported"),
            ),
            (
                || {
                    CreateSnapshotError::InvalidParameterValueException(
                        InvalidParameterValueException::builder().build(),
                    )
                },
                Some("AwsRejected"),
            ),
            (
                || CreateSnapshotError::generic(throttling()),
                Some("Throttled"),
            ),
        ];
        for (error, expected) in cases {
            let label = format!("{:?}", error());
            let rule = mock!(Client::create_snapshot).then_error(error);
            let got = client(&[&rule])
                .create_snapshot("s", &SnapshotTarget::CacheCluster("c".into()), &[])
                .await;
            match expected {
                None => assert_eq!(got.unwrap(), CreateOutcome::AlreadyExists, "{label}"),
                Some(name) => assert_eq!(got.unwrap_err().error_type(), name, "{label}"),
            }
        }
    }

    #[tokio::test]
    async fn describe_snapshot_found_and_not_found() {
        let found = mock!(Client::describe_snapshots)
            .match_requests(|r| r.snapshot_name() == Some("s1"))
            .then_output(|| {
                DescribeSnapshotsOutput::builder()
                    .snapshots(
                        Snapshot::builder()
                            .snapshot_name("s1")
                            .snapshot_status("available")
                            .replication_group_id("orders")
                            .cache_cluster_id("orders-002")
                            .num_node_groups(1)
                            .build(),
                    )
                    .build()
            });
        let missing = mock!(Client::describe_snapshots)
            .match_requests(|r| r.snapshot_name() == Some("s2"))
            .then_error(|| {
                DescribeSnapshotsError::SnapshotNotFoundFault(
                    SnapshotNotFoundFault::builder().build(),
                )
            });
        let throttled = mock!(Client::describe_snapshots)
            .match_requests(|r| r.snapshot_name() == Some("s3"))
            .then_error(|| DescribeSnapshotsError::generic(throttling()));
        let c = client(&[&found, &missing, &throttled]);
        let s = c.snapshot("s1").await.unwrap().unwrap();
        assert_eq!(
            (s.status.as_str(), s.cache_cluster_id.as_deref()),
            ("available", Some("orders-002"))
        );
        assert_eq!(c.snapshot("s2").await.unwrap(), None);
        assert_eq!(
            c.snapshot("s3").await.unwrap_err().error_type(),
            "Throttled"
        );
    }

    #[tokio::test]
    async fn export_sends_target_bucket_and_maps_errors() {
        let ok = mock!(Client::copy_snapshot)
            .match_requests(|r| {
                r.source_snapshot_name() == Some("s")
                    && r.target_snapshot_name() == Some("s")
                    && r.target_bucket() == Some("b")
            })
            .then_output(|| CopySnapshotOutput::builder().build());
        client(&[&ok]).export_snapshot("s", "s", "b").await.unwrap();
        assert_eq!(ok.num_calls(), 1);

        let cases: Vec<(MakeError<CopySnapshotError>, &str)> = vec![
            (
                || {
                    CopySnapshotError::InvalidParameterValueException(
                        InvalidParameterValueException::builder()
                            .message("The S3 bucket b does not exist.")
                            .build(),
                    )
                },
                "ExportRejected",
            ),
            (
                || {
                    CopySnapshotError::InvalidParameterCombinationException(
                        InvalidParameterCombinationException::builder().build(),
                    )
                },
                "ExportRejected",
            ),
            (
                || {
                    CopySnapshotError::SnapshotAlreadyExistsFault(
                        SnapshotAlreadyExistsFault::builder().build(),
                    )
                },
                "ExportRejected",
            ),
            (
                || {
                    CopySnapshotError::TagQuotaPerResourceExceeded(
                        TagQuotaPerResourceExceeded::builder().build(),
                    )
                },
                "ExportRejected",
            ),
            (
                || {
                    CopySnapshotError::InvalidSnapshotStateFault(
                        InvalidSnapshotStateFault::builder().build(),
                    )
                },
                "ClusterBusy",
            ),
            (
                || {
                    CopySnapshotError::SnapshotNotFoundFault(
                        SnapshotNotFoundFault::builder().build(),
                    )
                },
                "SnapshotFailed",
            ),
            (
                || {
                    CopySnapshotError::SnapshotQuotaExceededFault(
                        SnapshotQuotaExceededFault::builder().build(),
                    )
                },
                "SnapshotQuotaExceeded",
            ),
            (
                || {
                    CopySnapshotError::generic(
                        ErrorMetadata::builder()
                            .code("AccessDenied")
                            .message("denied")
                            .build(),
                    )
                },
                "ExportRejected",
            ),
            (|| CopySnapshotError::generic(throttling()), "Throttled"),
        ];
        for (error, expected) in cases {
            let label = format!("{:?}", error());
            let rule = mock!(Client::copy_snapshot).then_error(error);
            let err = client(&[&rule])
                .export_snapshot("s", "s", "b")
                .await
                .unwrap_err();
            assert_eq!(err.error_type(), expected, "{label}");
        }
    }

    #[tokio::test]
    async fn export_rejection_keeps_the_aws_message() {
        let rule = mock!(Client::copy_snapshot).then_error(|| {
            CopySnapshotError::InvalidParameterValueException(
                InvalidParameterValueException::builder()
                    .message("The S3 bucket b is outside of the region.")
                    .build(),
            )
        });
        let err = client(&[&rule])
            .export_snapshot("s", "s", "b")
            .await
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("The S3 bucket b is outside of the region."),
            "{err}"
        );
        assert!(err.to_string().contains("InvalidParameterValue"), "{err}");
    }

    #[tokio::test]
    async fn a_cluster_mode_enabled_restore_turns_on_automatic_failover_and_multi_az_with_replicas()
    {
        let shard = |id: &str, slots: &str| NewShard {
            node_group_id: id.into(),
            slots: Some(slots.into()),
        };
        let group = |cme: bool, replicas: Option<u32>| NewGroup {
            id: "r".into(),
            description: "d".into(),
            cluster_mode_enabled: cme,
            shards: if cme {
                vec![shard("0001", "0-8191"), shard("0002", "8192-16383")]
            } else {
                Vec::new()
            },
            replicas_per_shard: replicas,
            snapshot_arns: vec!["arn:aws:s3:::b/e-0001.rdb".into()],
            ..NewGroup::default()
        };
        let cme_replicas = mock!(Client::create_replication_group)
            .match_requests(|r| {
                r.replication_group_id() == Some("r")
                    && r.automatic_failover_enabled() == Some(true)
                    && r.multi_az_enabled() == Some(true)
                    && r.num_node_groups() == Some(2)
                    && r.node_group_configuration()[1].slots() == Some("8192-16383")
            })
            .then_output(|| CreateReplicationGroupOutput::builder().build());
        let c = client(&[&cme_replicas]);
        c.create_replication_group(&group(true, Some(1)))
            .await
            .unwrap();
        let cme_alone = mock!(Client::create_replication_group)
            .match_requests(|r| {
                r.automatic_failover_enabled() == Some(true) && r.multi_az_enabled().is_none()
            })
            .then_output(|| CreateReplicationGroupOutput::builder().build());
        client(&[&cme_alone])
            .create_replication_group(&group(true, Some(0)))
            .await
            .unwrap();
        let cmd = mock!(Client::create_replication_group)
            .match_requests(|r| {
                r.automatic_failover_enabled().is_none()
                    && r.multi_az_enabled().is_none()
                    && r.cluster_mode().is_none()
            })
            .then_output(|| CreateReplicationGroupOutput::builder().build());
        client(&[&cmd])
            .create_replication_group(&group(false, Some(1)))
            .await
            .unwrap();
        assert_eq!(
            (
                cme_replicas.num_calls(),
                cme_alone.num_calls(),
                cmd.num_calls()
            ),
            (1, 1, 1)
        );
    }

    #[tokio::test]
    async fn delete_snapshot_outcomes() {
        let ok = mock!(Client::delete_snapshot)
            .match_requests(|r| r.snapshot_name() == Some("a"))
            .then_output(|| DeleteSnapshotOutput::builder().build());
        let gone = mock!(Client::delete_snapshot)
            .match_requests(|r| r.snapshot_name() == Some("b"))
            .then_error(|| {
                DeleteSnapshotError::SnapshotNotFoundFault(SnapshotNotFoundFault::builder().build())
            });
        let busy = mock!(Client::delete_snapshot)
            .match_requests(|r| r.snapshot_name() == Some("c"))
            .then_error(|| {
                DeleteSnapshotError::InvalidSnapshotStateFault(
                    InvalidSnapshotStateFault::builder().build(),
                )
            });
        let bad = mock!(Client::delete_snapshot)
            .match_requests(|r| r.snapshot_name() == Some("d"))
            .then_error(|| {
                DeleteSnapshotError::InvalidParameterValueException(
                    InvalidParameterValueException::builder().build(),
                )
            });
        let c = client(&[&ok, &gone, &busy, &bad]);
        assert_eq!(
            c.delete_snapshot("a").await.unwrap(),
            DeleteOutcome::Deleted
        );
        assert_eq!(
            c.delete_snapshot("b").await.unwrap(),
            DeleteOutcome::NotFound
        );
        assert_eq!(
            c.delete_snapshot("c").await.unwrap_err().error_type(),
            "ClusterBusy"
        );
        assert_eq!(
            c.delete_snapshot("d").await.unwrap_err().error_type(),
            "AwsRejected"
        );
    }
}
