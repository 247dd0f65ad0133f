//! [`BatchReplicator`] over `aws_sdk_s3control` (Amazon S3 Control API Reference, `CreateJob`): the S3 Batch
//! Replication job that carries a verified backup's objects to the vault (S3 User Guide, "Replicating existing
//! objects with Batch Replication").

use async_trait::async_trait;
use aws_sdk_s3control::Client;
use aws_sdk_s3control::types::{
    JobManifestGenerator, JobManifestGeneratorFilter, JobOperation, JobReport, KeyNameConstraint,
    ReplicationStatus, S3JobManifestGenerator, S3ReplicateObjectOperation,
};
use backup_core::error::BackupError;
use backup_core::ports::{
    BatchReplicator, ExportStore, ObjectLocker, ReportPublisher, VerifiedTagger,
};
use backup_core::resources::StoredObject;

use crate::sdk::fallback;

/// S3 Batch Operations adapter. Build once per cold start from the shared `SdkConfig`.
#[derive(Debug, Clone)]
pub struct S3BatchJobs {
    client: Client,
}

impl S3BatchJobs {
    /// Wraps an S3 Control client.
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

/// An export store `E` whose [`BatchReplicator`] is S3 Batch Operations' ([`S3BatchJobs`]): what VerifyExport's
/// `main.rs` gives the handler, which writes, locks and tags through `E` and starts the vault's replication job.
#[derive(Debug, Clone)]
pub struct WithBatchJobs<E> {
    /// The export bucket's ports.
    pub store: E,
    /// S3 Batch Operations.
    pub jobs: S3BatchJobs,
}

#[async_trait]
impl<E: ExportStore> ExportStore for WithBatchJobs<E> {
    async fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<StoredObject>, BackupError> {
        self.store.list(bucket, prefix).await
    }

    async fn put_json(&self, bucket: &str, key: &str, body: String) -> Result<(), BackupError> {
        self.store.put_json(bucket, key, body).await
    }
}

#[async_trait]
impl<E: ObjectLocker> ObjectLocker for WithBatchJobs<E> {
    async fn lock_object(
        &self,
        bucket: &str,
        key: &str,
        mode: backup_core::config::ObjectLockMode,
        until: backup_core::model::Timestamp,
    ) -> Result<(), BackupError> {
        self.store.lock_object(bucket, key, mode, until).await
    }
}

#[async_trait]
impl<E: VerifiedTagger> VerifiedTagger for WithBatchJobs<E> {
    async fn tag_object(
        &self,
        bucket: &str,
        key: &str,
        tags: &[(String, String)],
    ) -> Result<(), BackupError> {
        self.store.tag_object(bucket, key, tags).await
    }
}

#[async_trait]
impl<E: ReportPublisher> ReportPublisher for WithBatchJobs<E> {
    async fn put_tagged(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
        tags: &[(String, String)],
    ) -> Result<(), BackupError> {
        self.store
            .put_tagged(bucket, key, body, content_type, tags)
            .await
    }
}

#[async_trait]
impl<E: Send + Sync> BatchReplicator for WithBatchJobs<E> {
    async fn replicate_prefix(
        &self,
        account_id: &str,
        bucket: &str,
        prefix: &str,
        role_arn: &str,
        token: &str,
    ) -> Result<String, BackupError> {
        self.jobs
            .replicate_prefix(account_id, bucket, prefix, role_arn, token)
            .await
    }
}

/// The job's priority (S3 Control API Reference, CreateJob `Priority`: "Higher numbers indicate higher execution
/// priority"): every backup's job alike.
const PRIORITY: i32 = 10;

#[async_trait]
impl BatchReplicator for S3BatchJobs {
    #[tracing::instrument(skip(self))]
    async fn replicate_prefix(
        &self,
        account_id: &str,
        bucket: &str,
        prefix: &str,
        role_arn: &str,
        token: &str,
    ) -> Result<String, BackupError> {
        let subject = format!("s3://{bucket}/{prefix}");
        let bucket_arn = format!("arn:{}:s3:::{bucket}", partition_of(role_arn));
        let build = |e: aws_sdk_s3control::error::BuildError| BackupError::AwsError {
            message: format!("CreateJob {subject}: {e}"),
            source: None,
        };
        // A manifest S3 generates from the bucket's replication configuration: this export's keys that were never
        // replicated or failed to (S3 User Guide, "Create a Batch Replication job for existing replication rules").
        let filter = JobManifestGeneratorFilter::builder()
            .key_name_constraint(
                KeyNameConstraint::builder()
                    .match_any_prefix(prefix)
                    .build(),
            )
            .object_replication_statuses(ReplicationStatus::None)
            .object_replication_statuses(ReplicationStatus::Failed)
            .build();
        let generator = S3JobManifestGenerator::builder()
            .source_bucket(bucket_arn)
            .enable_manifest_output(false)
            .filter(filter)
            .build()
            .map_err(build)?;
        let report = JobReport::builder().enabled(false).build();
        let answer = self
            .client
            .create_job()
            .account_id(account_id)
            .confirmation_required(false)
            .operation(
                JobOperation::builder()
                    .s3_replicate_object(S3ReplicateObjectOperation::builder().build())
                    .build(),
            )
            .manifest_generator(JobManifestGenerator::S3JobManifestGenerator(generator))
            .report(report)
            .priority(PRIORITY)
            .role_arn(role_arn)
            .client_request_token(token)
            .description(format!(
                "elasticache-backup: replicate {prefix} to the vault"
            ))
            .send()
            .await
            .map_err(|err| fallback("CreateJob", &subject, err))?;
        answer
            .job_id()
            .map(str::to_string)
            .ok_or_else(|| BackupError::AwsError {
                message: format!("CreateJob {subject}: the answer has no JobId"),
                source: None,
            })
    }
}

/// The partition of an ARN (`arn:<partition>:...`), `aws` when it cannot be read.
fn partition_of(arn: &str) -> &str {
    arn.split(':')
        .nth(1)
        .filter(|p| !p.is_empty())
        .unwrap_or("aws")
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_s3control::operation::create_job::{CreateJobError, CreateJobOutput};
    use aws_smithy_mocks::{RuleMode, mock, mock_client};
    use aws_smithy_types::error::ErrorMetadata;

    fn jobs(rules: &[&aws_smithy_mocks::Rule]) -> S3BatchJobs {
        S3BatchJobs::new(mock_client!(
            aws_sdk_s3control,
            RuleMode::Sequential,
            rules.iter().copied(),
            |c| c.retry_config(aws_sdk_s3control::config::retry::RetryConfig::disabled())
        ))
    }

    #[tokio::test]
    async fn a_job_replicates_the_export_s_unreplicated_keys_by_the_role() {
        let rule = mock!(Client::create_job)
            .match_requests(|r| {
                let Some(JobManifestGenerator::S3JobManifestGenerator(g)) = r.manifest_generator()
                else {
                    return false;
                };
                let filter = g.filter().expect("a filter");
                r.account_id() == Some("111122223333")
                    && r.role_arn() == Some("arn:aws-us-gov:iam::111122223333:role/batch")
                    && r.client_request_token() == Some("ecb-orders-5f1d2a9c")
                    && r.confirmation_required() == Some(false)
                    && r.operation()
                        .and_then(|o| o.s3_replicate_object())
                        .is_some()
                    && g.source_bucket() == "arn:aws-us-gov:s3:::acme-backups"
                    && !g.enable_manifest_output()
                    && filter
                        .key_name_constraint()
                        .map(|k| k.match_any_prefix().to_vec())
                        == Some(vec!["ecb-orders-5f1d2a9c".to_string()])
                    && filter.object_replication_statuses()
                        == [ReplicationStatus::None, ReplicationStatus::Failed]
            })
            .then_output(|| CreateJobOutput::builder().job_id("job-7").build());
        let id = jobs(&[&rule])
            .replicate_prefix(
                "111122223333",
                "acme-backups",
                "ecb-orders-5f1d2a9c",
                "arn:aws-us-gov:iam::111122223333:role/batch",
                "ecb-orders-5f1d2a9c",
            )
            .await
            .unwrap();
        assert_eq!(id, "job-7");
    }

    #[tokio::test]
    async fn a_refused_job_is_aws_rejected_and_throttling_is_throttled() {
        let denied = mock!(Client::create_job).then_error(|| {
            CreateJobError::generic(
                ErrorMetadata::builder()
                    .code("AccessDenied")
                    .message("not authorized to perform iam:PassRole")
                    .build(),
            )
        });
        let err = jobs(&[&denied])
            .replicate_prefix("111122223333", "b", "p", "arn:aws:iam::1:role/r", "t")
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "AwsRejected", "{err}");
        assert!(err.to_string().contains("iam:PassRole"), "{err}");
        let slow = mock!(Client::create_job).then_error(|| {
            CreateJobError::generic(
                ErrorMetadata::builder()
                    .code("TooManyRequestsException")
                    .build(),
            )
        });
        let err = jobs(&[&slow])
            .replicate_prefix("111122223333", "b", "p", "arn:aws:iam::1:role/r", "t")
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "Throttled", "{err}");
    }
}
