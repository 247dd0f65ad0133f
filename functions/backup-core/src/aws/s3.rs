//! [`ExportStore`] over `aws_sdk_s3` (Amazon S3 API Reference: `ListObjectsV2`, paginated; `HeadObject` and ranged
//! `GetObject` through [`rdb_check::s3`]; `PutObject`).

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Error;
use time::OffsetDateTime;

use super::{aws_message, fallback};
use crate::error::BackupError;
use crate::ports::{ExportStore, StoredObject, VerifiedObject, verify_reader};
use rdb_check::s3::RangeOptions;

/// S3 adapter. Build once per cold start from the shared `SdkConfig`.
#[derive(Debug, Clone)]
pub struct S3ExportStore {
    client: Client,
    ranges: RangeOptions,
}

impl S3ExportStore {
    /// Wraps an S3 client; objects are verified with the default [`RangeOptions`] (8 MiB parts, 4 in flight).
    pub fn new(client: Client) -> Self {
        Self {
            client,
            ranges: RangeOptions::default(),
        }
    }

    /// Sets how [`ExportStore::verify_object`] reads objects (part size in bytes, parts in flight).
    #[must_use]
    pub fn with_range_options(mut self, ranges: RangeOptions) -> Self {
        self.ranges = ranges;
        self
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

    #[tracing::instrument(skip(self))]
    async fn verify_object(&self, bucket: &str, key: &str) -> Result<VerifiedObject, BackupError> {
        let subject = format!("s3://{bucket}/{key}");
        let (reader, _info) = rdb_check::s3::open(&self.client, bucket, key, self.ranges)
            .await
            .map_err(|err| fallback("HeadObject", &subject, err))?;
        // The checker reads synchronously, in a blocking task; the reader hands it the ranged parts in order.
        let key = key.to_string();
        tokio::task::spawn_blocking(move || verify_reader(&key, reader))
            .await
            .map_err(|e| BackupError::AwsError {
                message: format!("{subject}: checker task failed: {e}"),
                source: None,
            })?
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
    async fn verify_object_reads_ranged_parts_through_the_checker() {
        use aws_sdk_s3::operation::get_object::GetObjectOutput;
        use aws_sdk_s3::operation::head_object::HeadObjectOutput;
        use aws_smithy_types::byte_stream::ByteStream;
        let fixture = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../rdb-check/tests/fixtures/zset-ziplist.rdb"
        ))
        .unwrap();
        let mut cut = fixture.clone();
        cut.truncate(fixture.len() - 20);
        // HeadObject gives each object's size; GetObject serves the requested range of it.
        let objects = [("good-0001.rdb", fixture.clone()), ("bad-0001.rdb", cut)];
        let mut rules = Vec::new();
        for (key, body) in objects {
            let len = body.len() as i64;
            rules.push(
                mock!(Client::head_object)
                    .match_requests(move |r| r.key() == Some(key))
                    .then_output(move || HeadObjectOutput::builder().content_length(len).build()),
            );
            rules.push(
                mock!(Client::get_object)
                    .match_requests(move |r| r.key() == Some(key))
                    .then_compute_output(move |r| {
                        let range = r.range().unwrap_or_default();
                        let (a, b) = range.trim_start_matches("bytes=").split_once('-').unwrap();
                        let (a, b): (usize, usize) = (a.parse().unwrap(), b.parse().unwrap());
                        GetObjectOutput::builder()
                            .body(ByteStream::from(body[a..=b].to_vec()))
                            .build()
                    }),
            );
        }
        let s = S3ExportStore::new(mock_client!(
            aws_sdk_s3,
            RuleMode::MatchAny,
            rules.iter(),
            |c| c.retry_config(aws_sdk_s3::config::retry::RetryConfig::disabled())
        ))
        .with_range_options(RangeOptions {
            part_bytes: 7,
            parallel: 3,
        });

        let v = s.verify_object("b", "good-0001.rdb").await.unwrap();
        assert_eq!((v.report.keys, v.size_bytes), (1, fixture.len() as u64));
        assert_eq!(v.sha256, {
            use sha2::{Digest, Sha256};
            Sha256::digest(&fixture)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        });
        let err = s.verify_object("b", "bad-0001.rdb").await.unwrap_err();
        assert_eq!(err.error_type(), "ExportCorrupt");
        assert!(
            err.to_string().starts_with("bad-0001.rdb: truncated"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn a_read_failure_is_not_called_corruption() {
        use aws_sdk_s3::operation::head_object::HeadObjectOutput;
        let head = mock!(Client::head_object)
            .then_output(|| HeadObjectOutput::builder().content_length(100).build());
        let broken = mock!(Client::get_object)
            .sequence()
            .http_status(500, None)
            .repeatedly()
            .build();
        let s = S3ExportStore::new(mock_client!(
            aws_sdk_s3,
            RuleMode::MatchAny,
            [&head, &broken],
            |c| c.retry_config(aws_sdk_s3::config::retry::RetryConfig::disabled())
        ));
        let err = s.verify_object("b", "e-0001.rdb").await.unwrap_err();
        assert_eq!(err.error_type(), "AwsError", "{err}");
        assert!(err.to_string().contains("reading e-0001.rdb"), "{err}");
        assert_eq!(broken.num_calls(), 4, "one request and three retries");
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
