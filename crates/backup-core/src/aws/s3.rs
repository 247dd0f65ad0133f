//! [`ExportStore`] over `aws_sdk_s3` (Amazon S3 API Reference: `ListObjectsV2`, paginated; `PutObject`). Reading
//! objects end to end is the verifier's (crate `rdb-verify`).

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Error;
use time::OffsetDateTime;

use super::{CallFailure, aws_message, fallback};
use crate::error::BackupError;
use crate::ports::{
    BucketFacts, ExportBucket, ExportStore, ObjectDeleter, ObjectReader, StoredObject,
};
use aws_sdk_s3::operation::get_object::GetObjectError;
use aws_sdk_s3::operation::head_bucket::HeadBucketError;
use aws_sdk_s3::types::Permission;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// S3 adapter. Build once per cold start from the shared `SdkConfig`.
#[derive(Debug, Clone)]
pub struct S3ExportStore {
    client: Client,
}

impl S3ExportStore {
    /// Wraps an S3 client.
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

#[async_trait]
impl ExportStore for S3ExportStore {
    #[tracing::instrument(skip(self))]
    async fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<StoredObject>, BackupError> {
        let subject = format!("s3://{bucket}/{prefix}");
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|err| match err.as_service_error() {
                Some(ListObjectsV2Error::NoSuchBucket(_)) => BackupError::ExportRejected {
                    message: aws_message("ListObjectsV2", &subject, &err),
                    source: Some(Box::new(err)),
                },
                _ => fallback("ListObjectsV2", &subject, err),
            })?;
            for o in page.contents() {
                let Some(key) = o.key() else { continue };
                out.push(StoredObject {
                    key: key.to_string(),
                    size_bytes: o.size().and_then(|s| u64::try_from(s).ok()).unwrap_or(0),
                    last_modified: o
                        .last_modified()
                        .and_then(|t| OffsetDateTime::from_unix_timestamp(t.secs()).ok()),
                });
            }
        }
        Ok(out)
    }

    #[tracing::instrument(skip(self, body))]
    async fn put_json(&self, bucket: &str, key: &str, body: String) -> Result<(), BackupError> {
        self.client
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type("application/json")
            .body(body.into_bytes().into())
            .send()
            .await
            .map(|_| ())
            .map_err(|err| fallback("PutObject", &format!("s3://{bucket}/{key}"), err))
    }
}

/// `GetBucketLocation`'s answer as a region: empty is `us-east-1`, the legacy `EU` is `eu-west-1` (Amazon S3 API
/// Reference, GetBucketLocation).
fn location_region(constraint: Option<&str>) -> String {
    match constraint.unwrap_or_default() {
        "" => "us-east-1".to_string(),
        "EU" => "eu-west-1".to_string(),
        other => other.to_string(),
    }
}

#[async_trait]
impl ExportBucket for S3ExportStore {
    #[tracing::instrument(skip(self))]
    async fn bucket_facts(
        &self,
        bucket: &str,
        expected_owner: Option<&str>,
    ) -> Result<BucketFacts, BackupError> {
        let subject = format!("s3://{bucket}");
        self.client
            .head_bucket()
            .bucket(bucket)
            .set_expected_bucket_owner(expected_owner.map(str::to_string))
            .send()
            .await
            .map_err(|err| match (err.as_service_error(), err.http_status()) {
                (Some(HeadBucketError::NotFound(_)), _) | (_, Some(404)) => BackupError::invalid_input(
                    "bucket",
                    format!("bucket {bucket} does not exist (HeadBucket: 404)"),
                ),
                (_, Some(403)) => BackupError::ExportRejected {
                    message: format!(
                        "HeadBucket {subject}: 403: the bucket is not in this account{} or the function may not \
                         read it (s3:ListBucket)",
                        expected_owner.map(|o| format!(" ({o})")).unwrap_or_default()
                    ),
                    source: Some(Box::new(err)),
                },
                _ => fallback("HeadBucket", &subject, err),
            })?;
        let location = self
            .client
            .get_bucket_location()
            .bucket(bucket)
            .set_expected_bucket_owner(expected_owner.map(str::to_string))
            .send()
            .await
            .map_err(|err| fallback("GetBucketLocation", &subject, err))?;
        let mut facts = BucketFacts {
            region: location_region(location.location_constraint().map(|c| c.as_str())),
            ..BucketFacts::default()
        };
        match self.client.get_bucket_policy().bucket(bucket).send().await {
            Ok(out) => facts.policy = out.policy().map(str::to_string),
            Err(err) if err.code() == Some("NoSuchBucketPolicy") => {}
            Err(err) if err.http_status() == Some(403) => {
                facts
                    .unreadable
                    .push(aws_message("GetBucketPolicy", &subject, &err));
            }
            Err(err) => return Err(fallback("GetBucketPolicy", &subject, err)),
        }
        match self.client.get_bucket_acl().bucket(bucket).send().await {
            Ok(out) => {
                facts.acl_writers = out
                    .grants()
                    .iter()
                    .filter(|g| {
                        matches!(
                            g.permission(),
                            Some(Permission::Write | Permission::FullControl)
                        )
                    })
                    .filter_map(|g| g.grantee()?.id().map(str::to_string))
                    .collect();
            }
            Err(err) if err.http_status() == Some(403) => {
                facts
                    .unreadable
                    .push(aws_message("GetBucketAcl", &subject, &err));
            }
            Err(err) => return Err(fallback("GetBucketAcl", &subject, err)),
        }
        Ok(facts)
    }
}

#[async_trait]
impl ObjectReader for S3ExportStore {
    #[tracing::instrument(skip(self))]
    async fn get_object(&self, bucket: &str, key: &str) -> Result<Option<Vec<u8>>, BackupError> {
        let subject = format!("s3://{bucket}/{key}");
        match self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => out
                .body
                .collect()
                .await
                .map(|b| Some(b.into_bytes().to_vec()))
                .map_err(|e| BackupError::AwsError {
                    message: format!("GetObject {subject}: {e}"),
                    source: Some(Box::new(e)),
                }),
            Err(err) => match err.as_service_error() {
                Some(GetObjectError::NoSuchKey(_)) => Ok(None),
                _ if err.code() == Some("NoSuchBucket") => Err(BackupError::BackupNotFound {
                    message: aws_message("GetObject", &subject, &err),
                }),
                _ => Err(fallback("GetObject", &subject, err)),
            },
        }
    }
}

#[async_trait]
impl ObjectDeleter for S3ExportStore {
    #[tracing::instrument(skip(self))]
    async fn delete_object(&self, bucket: &str, key: &str) -> Result<(), BackupError> {
        let subject = format!("s3://{bucket}/{key}");
        match self
            .client
            .delete_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(err) if err.code() == Some("NoSuchBucket") => Err(BackupError::ExportRejected {
                message: aws_message("DeleteObject", &subject, &err),
                source: Some(Box::new(err)),
            }),
            Err(err) => Err(fallback("DeleteObject", &subject, err)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Output;
    use aws_sdk_s3::types::Object;
    use aws_sdk_s3::types::error::NoSuchBucket;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};
    use aws_smithy_types::DateTime;
    use aws_smithy_types::error::ErrorMetadata;

    fn store(rules: &[&aws_smithy_mocks::Rule]) -> S3ExportStore {
        S3ExportStore::new(mock_client!(
            aws_sdk_s3,
            RuleMode::Sequential,
            rules.iter().copied(),
            |c| c.retry_config(aws_sdk_s3::config::retry::RetryConfig::disabled())
        ))
    }

    #[tokio::test]
    async fn lists_every_page() {
        let page1 = mock!(Client::list_objects_v2)
            .match_requests(|r| r.prefix() == Some("e-") && r.continuation_token().is_none())
            .then_output(|| {
                ListObjectsV2Output::builder()
                    .contents(
                        Object::builder()
                            .key("e-0001.rdb")
                            .size(10)
                            .last_modified(DateTime::from_secs(100))
                            .build(),
                    )
                    .is_truncated(true)
                    .next_continuation_token("t2")
                    .build()
            });
        let page2 = mock!(Client::list_objects_v2)
            .match_requests(|r| r.continuation_token() == Some("t2"))
            .then_output(|| {
                ListObjectsV2Output::builder()
                    .contents(Object::builder().key("e-0002.rdb").size(0).build())
                    .is_truncated(false)
                    .build()
            });
        let objects = store(&[&page1, &page2]).list("b", "e-").await.unwrap();
        assert_eq!(objects.len(), 2);
        assert_eq!(objects[0].size_bytes, 10);
        assert_eq!(
            objects[0].last_modified.map(|t| t.unix_timestamp()),
            Some(100)
        );
        assert_eq!(
            (objects[1].key.as_str(), objects[1].size_bytes),
            ("e-0002.rdb", 0)
        );
    }

    #[tokio::test]
    async fn missing_bucket_is_export_rejected() {
        let rule = mock!(Client::list_objects_v2).then_error(|| {
            ListObjectsV2Error::NoSuchBucket(NoSuchBucket::builder().message("gone").build())
        });
        assert_eq!(
            store(&[&rule])
                .list("b", "e")
                .await
                .unwrap_err()
                .error_type(),
            "ExportRejected"
        );
    }

    #[tokio::test]
    async fn slow_down_is_throttled_access_denied_is_rejected_and_a_5xx_is_transient() {
        let slow = mock!(Client::list_objects_v2).then_error(|| {
            ListObjectsV2Error::generic(ErrorMetadata::builder().code("SlowDown").build())
        });
        assert_eq!(
            store(&[&slow])
                .list("b", "e")
                .await
                .unwrap_err()
                .error_type(),
            "Throttled"
        );
        let denied = mock!(Client::list_objects_v2).then_error(|| {
            ListObjectsV2Error::generic(ErrorMetadata::builder().code("AccessDenied").build())
        });
        assert_eq!(
            store(&[&denied])
                .list("b", "e")
                .await
                .unwrap_err()
                .error_type(),
            "AwsRejected"
        );
        let unavailable = mock!(Client::list_objects_v2).then_http_response(|| {
            aws_smithy_runtime_api::http::Response::new(
                aws_smithy_runtime_api::http::StatusCode::try_from(503).unwrap(),
                aws_smithy_types::body::SdkBody::from(
                    "<Error><Code>ServiceUnavailable</Code><Message>later</Message></Error>",
                ),
            )
        });
        let err = store(&[&unavailable]).list("b", "e").await.unwrap_err();
        assert_eq!(err.error_type(), "AwsError", "{err}");
    }

    #[tokio::test]
    async fn delete_object_names_the_key_and_a_missing_bucket_is_export_rejected() {
        use crate::ports::ObjectDeleter;
        let deleted = mock!(Client::delete_object)
            .match_requests(|r| r.bucket() == Some("b") && r.key() == Some("e-0001.rdb"))
            .then_output(|| {
                aws_sdk_s3::operation::delete_object::DeleteObjectOutput::builder().build()
            });
        store(&[&deleted])
            .delete_object("b", "e-0001.rdb")
            .await
            .unwrap();
        assert_eq!(deleted.num_calls(), 1);
        let gone = mock!(Client::delete_object).then_error(|| {
            aws_sdk_s3::operation::delete_object::DeleteObjectError::generic(
                ErrorMetadata::builder().code("NoSuchBucket").build(),
            )
        });
        let err = store(&[&gone]).delete_object("b", "k").await.unwrap_err();
        assert_eq!(err.error_type(), "ExportRejected", "{err}");
    }
}
