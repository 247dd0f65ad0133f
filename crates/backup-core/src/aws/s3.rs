//! [`ExportStore`] over `aws_sdk_s3` (Amazon S3 API Reference: `ListObjectsV2`, paginated; `PutObject`). Reading
//! objects end to end is the verifier's (crate `rdb-verify`).

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Error;
use time::OffsetDateTime;

use super::{aws_message, fallback};
use crate::error::BackupError;
use crate::ports::{ExportStore, ObjectReader, StoredObject};
use aws_sdk_s3::operation::get_object::GetObjectError;
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
    async fn slow_down_is_throttled_and_access_denied_is_aws_error() {
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
            "AwsError"
        );
    }
}
