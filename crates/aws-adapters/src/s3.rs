//! [`ExportStore`] over `aws_sdk_s3` (Amazon S3 API Reference: `ListObjectsV2`, paginated; `PutObject`). Reading
//! objects end to end is the verifier's (crate `rdb-verify`).

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Error;
use time::OffsetDateTime;

use crate::sdk::{CallFailure, aws_message, fallback};
use aws_sdk_s3::operation::get_object::GetObjectError;
use aws_sdk_s3::operation::head_bucket::HeadBucketError;
use aws_sdk_s3::types::Permission;
use aws_sdk_s3::types::{
    CompletedMultipartUpload, CompletedPart, ObjectLockRetention, ObjectLockRetentionMode,
    ServerSideEncryption,
};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use backup_core::error::BackupError;
use backup_core::ports::{
    ExportBucket, ExportStore, ObjectDeleter, ObjectLocker, ObjectReader, ReportPublisher,
    SeedCopier, VerifiedTagger,
};
use backup_core::resources::{BucketFacts, StoredObject};

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

/// Largest object `CopyObject` copies in one request, bytes (S3 API Reference, `CopyObject`: 5 GB).
pub const MAX_SINGLE_COPY_BYTES: u64 = 5 * 1024 * 1024 * 1024;
/// Smallest part of a multipart copy, bytes; parts grow so that no copy needs more than [`MAX_COPY_PARTS`].
pub const COPY_PART_BYTES: u64 = 512 * 1024 * 1024;
/// Most parts of a multipart upload (S3 User Guide, "Amazon S3 multipart upload limits": 10,000).
pub const MAX_COPY_PARTS: u64 = 10_000;

/// The byte ranges (inclusive) of a multipart copy of `size` bytes: [`COPY_PART_BYTES`] each, larger when that
/// would need more than [`MAX_COPY_PARTS`] parts (every part ≤ 5 GiB for objects up to S3's 5 TiB).
pub fn copy_ranges(size: u64) -> Vec<(u64, u64)> {
    let part = COPY_PART_BYTES.max(size.div_ceil(MAX_COPY_PARTS));
    (0..size)
        .step_by(usize::try_from(part).unwrap_or(usize::MAX))
        .map(|start| (start, (start + part).min(size) - 1))
        .collect()
}

#[async_trait]
impl SeedCopier for S3ExportStore {
    #[tracing::instrument(skip(self, grantee))]
    async fn copy_for_seeding(
        &self,
        from_bucket: &str,
        from_key: &str,
        size_bytes: u64,
        to_bucket: &str,
        to_key: &str,
        grantee: Option<&str>,
    ) -> Result<(), BackupError> {
        let subject = format!("s3://{from_bucket}/{from_key} to s3://{to_bucket}/{to_key}");
        let grant = grantee.map(|g| format!("id={g}"));
        let source = format!("{from_bucket}/{}", urlencoding_path(from_key));
        if size_bytes <= MAX_SINGLE_COPY_BYTES {
            return self
                .client
                .copy_object()
                .bucket(to_bucket)
                .key(to_key)
                .copy_source(&source)
                .server_side_encryption(ServerSideEncryption::Aes256)
                .set_grant_read(grant.clone())
                .set_grant_read_acp(grant.clone())
                .send()
                .await
                .map(|_| ())
                .map_err(|err| fallback("CopyObject", &subject, err));
        }
        let upload = self
            .client
            .create_multipart_upload()
            .bucket(to_bucket)
            .key(to_key)
            .server_side_encryption(ServerSideEncryption::Aes256)
            .set_grant_read(grant.clone())
            .set_grant_read_acp(grant)
            .send()
            .await
            .map_err(|err| fallback("CreateMultipartUpload", &subject, err))?;
        let upload_id = upload.upload_id().unwrap_or_default().to_string();
        let copied = self
            .copy_parts(&source, to_bucket, to_key, &upload_id, size_bytes, &subject)
            .await;
        let completed = match copied {
            Ok(parts) => self
                .client
                .complete_multipart_upload()
                .bucket(to_bucket)
                .key(to_key)
                .upload_id(&upload_id)
                .multipart_upload(
                    CompletedMultipartUpload::builder()
                        .set_parts(Some(parts))
                        .build(),
                )
                .send()
                .await
                .map(|_| ())
                .map_err(|err| fallback("CompleteMultipartUpload", &subject, err)),
            Err(e) => Err(e),
        };
        if completed.is_err() {
            // Parts of an unfinished upload cost storage until aborted (the seed bucket's lifecycle aborts them
            // after a day too).
            if let Err(err) = self
                .client
                .abort_multipart_upload()
                .bucket(to_bucket)
                .key(to_key)
                .upload_id(&upload_id)
                .send()
                .await
            {
                tracing::warn!(error = %err, "AbortMultipartUpload failed; the seed bucket's lifecycle aborts it");
            }
        }
        completed
    }
}

impl S3ExportStore {
    /// `UploadPartCopy` of every range of a `size`-byte object, 4 at a time, in part order.
    async fn copy_parts(
        &self,
        source: &str,
        to_bucket: &str,
        to_key: &str,
        upload_id: &str,
        size: u64,
        subject: &str,
    ) -> Result<Vec<CompletedPart>, BackupError> {
        use futures_util::{StreamExt, TryStreamExt};
        let ranges = copy_ranges(size);
        futures_util::stream::iter(ranges.into_iter().enumerate())
            .map(|(i, (a, b))| async move {
                let number = i32::try_from(i + 1).unwrap_or(i32::MAX);
                let out = self
                    .client
                    .upload_part_copy()
                    .bucket(to_bucket)
                    .key(to_key)
                    .upload_id(upload_id)
                    .part_number(number)
                    .copy_source(source)
                    .copy_source_range(format!("bytes={a}-{b}"))
                    .send()
                    .await
                    .map_err(|err| fallback("UploadPartCopy", subject, err))?;
                Ok::<_, BackupError>(
                    CompletedPart::builder()
                        .part_number(number)
                        .set_e_tag(
                            out.copy_part_result()
                                .and_then(|r| r.e_tag())
                                .map(str::to_string),
                        )
                        .build(),
                )
            })
            .buffered(4)
            .try_collect()
            .await
    }
}

/// Characters percent-encoded in `x-amz-copy-source` (S3 API Reference, `CopyObject`: "The value must be
/// URL-encoded"): all but the unreserved characters of RFC 3986 and `/`.
const COPY_SOURCE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

/// `key` encoded for `x-amz-copy-source`.
fn urlencoding_path(key: &str) -> String {
    percent_encoding::utf8_percent_encode(key, COPY_SOURCE).to_string()
}

#[async_trait]
impl ObjectLocker for S3ExportStore {
    #[tracing::instrument(skip(self))]
    async fn lock_object(
        &self,
        bucket: &str,
        key: &str,
        mode: backup_core::config::ObjectLockMode,
        until: backup_core::model::Timestamp,
    ) -> Result<(), BackupError> {
        let retention = ObjectLockRetention::builder()
            .mode(ObjectLockRetentionMode::from(mode.to_string().as_str()))
            .retain_until_date(aws_smithy_types::DateTime::from_secs(
                until.unix_timestamp(),
            ))
            .build();
        self.client
            .put_object_retention()
            .bucket(bucket)
            .key(key)
            .retention(retention)
            .send()
            .await
            .map(|_| ())
            .map_err(|err| fallback("PutObjectRetention", &format!("s3://{bucket}/{key}"), err))
    }
}

/// Characters a tag key or value keeps as they are in the `x-amz-tagging` header (a URL query: RFC 3986 unreserved).
const TAG_KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `tags` as the `x-amz-tagging` header's URL-encoded query (`k1=v1&k2=v2`; S3 API Reference, PutObject).
pub fn tagging_header(tags: &[(String, String)]) -> String {
    tags.iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                percent_encoding::utf8_percent_encode(k, TAG_KEEP),
                percent_encoding::utf8_percent_encode(v, TAG_KEEP)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[async_trait]
impl VerifiedTagger for S3ExportStore {
    #[tracing::instrument(skip(self))]
    async fn tag_object(
        &self,
        bucket: &str,
        key: &str,
        tags: &[(String, String)],
    ) -> Result<(), BackupError> {
        let subject = format!("s3://{bucket}/{key}");
        let mut set = Vec::with_capacity(tags.len());
        for (k, v) in tags {
            set.push(
                aws_sdk_s3::types::Tag::builder()
                    .key(k)
                    .value(v)
                    .build()
                    .map_err(|e| BackupError::AwsError {
                        message: format!("PutObjectTagging {subject}: {e}"),
                        source: None,
                    })?,
            );
        }
        let tagging = aws_sdk_s3::types::Tagging::builder()
            .set_tag_set(Some(set))
            .build()
            .map_err(|e| BackupError::AwsError {
                message: format!("PutObjectTagging {subject}: {e}"),
                source: None,
            })?;
        self.client
            .put_object_tagging()
            .bucket(bucket)
            .key(key)
            .tagging(tagging)
            .send()
            .await
            .map(|_| ())
            .map_err(|err| fallback("PutObjectTagging", &subject, err))
    }
}

#[async_trait]
impl ReportPublisher for S3ExportStore {
    #[tracing::instrument(skip(self, body))]
    async fn put_tagged(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
        tags: &[(String, String)],
    ) -> Result<(), BackupError> {
        self.client
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type(content_type)
            .tagging(tagging_header(tags))
            .body(body.into())
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
    async fn the_verified_tag_is_put_on_an_object_and_written_with_a_document() {
        let tags = backup_core::naming::verified_tags();
        let tagged = mock!(Client::put_object_tagging)
            .match_requests(|r| {
                r.bucket() == Some("b")
                    && r.key() == Some("e-0001.rdb")
                    && r.tagging().is_some_and(|t| {
                        t.tag_set().len() == 1
                            && t.tag_set()[0].key() == "elasticache-backup:verified"
                            && t.tag_set()[0].value() == "true"
                    })
            })
            .then_output(|| {
                aws_sdk_s3::operation::put_object_tagging::PutObjectTaggingOutput::builder().build()
            });
        let put = mock!(Client::put_object)
            .match_requests(|r| {
                r.key() == Some("e.manifest.json")
                    && r.content_type() == Some("application/json")
                    && r.tagging() == Some("elasticache-backup%3Averified=true")
            })
            .then_output(|| aws_sdk_s3::operation::put_object::PutObjectOutput::builder().build());
        let s = store(&[&tagged, &put]);
        s.tag_object("b", "e-0001.rdb", &tags).await.unwrap();
        s.put_tagged(
            "b",
            "e.manifest.json",
            b"{}".to_vec(),
            "application/json",
            &tags,
        )
        .await
        .unwrap();
        assert_eq!(
            tagging_header(&[("a b".into(), "c&d=é".into())]),
            "a%20b=c%26d%3D%C3%A9"
        );
    }

    #[tokio::test]
    async fn delete_object_names_the_key_and_a_missing_bucket_is_export_rejected() {
        use backup_core::ports::ObjectDeleter;
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

    #[test]
    fn multipart_copy_ranges_cover_the_object_once_within_the_part_limit() {
        let gib = 1024 * 1024 * 1024;
        for size in [MAX_SINGLE_COPY_BYTES + 1, 7 * gib, 5 * 1024 * gib] {
            let ranges = copy_ranges(size);
            assert!(ranges.len() as u64 <= MAX_COPY_PARTS, "{size}");
            assert_eq!(ranges[0].0, 0);
            assert_eq!(ranges.last().unwrap().1, size - 1);
            for w in ranges.windows(2) {
                assert_eq!(w[0].1 + 1, w[1].0);
            }
            assert!(ranges.iter().all(|(a, b)| b - a < MAX_SINGLE_COPY_BYTES));
        }
    }

    #[tokio::test]
    async fn a_seed_copy_grants_elasticache_read_and_read_acp_with_sse_s3() {
        let single = mock!(Client::copy_object)
            .match_requests(|r| {
                r.bucket() == Some("seeds")
                    && r.key() == Some("exec-1/e 1-0001.rdb")
                    && r.copy_source() == Some("exports/e%201-0001.rdb")
                    && r.grant_read() == Some("id=540804c3")
                    && r.grant_read_acp() == Some("id=540804c3")
                    && r.server_side_encryption() == Some(&ServerSideEncryption::Aes256)
            })
            .then_output(|| {
                aws_sdk_s3::operation::copy_object::CopyObjectOutput::builder().build()
            });
        store(&[&single])
            .copy_for_seeding(
                "exports",
                "e 1-0001.rdb",
                10,
                "seeds",
                "exec-1/e 1-0001.rdb",
                Some("540804c3"),
            )
            .await
            .unwrap();
        assert_eq!(single.num_calls(), 1);
    }

    #[tokio::test]
    async fn a_large_seed_copy_is_a_multipart_copy_and_a_failed_part_aborts_it() {
        use aws_sdk_s3::operation::{
            abort_multipart_upload::AbortMultipartUploadOutput,
            complete_multipart_upload::CompleteMultipartUploadOutput,
            create_multipart_upload::CreateMultipartUploadOutput,
            upload_part_copy::UploadPartCopyOutput,
        };
        let size = MAX_SINGLE_COPY_BYTES + COPY_PART_BYTES;
        let parts = copy_ranges(size).len();
        let create = mock!(Client::create_multipart_upload)
            .match_requests(|r| {
                r.grant_read() == Some("id=g") && r.grant_read_acp() == Some("id=g")
            })
            .then_output(|| {
                CreateMultipartUploadOutput::builder()
                    .upload_id("u1")
                    .build()
            });
        let part = mock!(Client::upload_part_copy)
            .match_requests(|r| {
                r.upload_id() == Some("u1")
                    && r.copy_source_range()
                        .is_some_and(|x| x.starts_with("bytes="))
            })
            .then_output(|| {
                UploadPartCopyOutput::builder()
                    .copy_part_result(
                        aws_sdk_s3::types::CopyPartResult::builder()
                            .e_tag("\"x\"")
                            .build(),
                    )
                    .build()
            });
        let complete = mock!(Client::complete_multipart_upload)
            .match_requests(move |r| {
                r.multipart_upload()
                    .is_some_and(|m| m.parts().len() == parts)
            })
            .then_output(|| CompleteMultipartUploadOutput::builder().build());
        let s = S3ExportStore::new(mock_client!(
            aws_sdk_s3,
            RuleMode::MatchAny,
            [&create, &part, &complete],
            |c| c.retry_config(aws_sdk_s3::config::retry::RetryConfig::disabled())
        ));
        s.copy_for_seeding("a", "k", size, "b", "k", Some("g"))
            .await
            .unwrap();
        assert_eq!(
            (create.num_calls(), part.num_calls(), complete.num_calls()),
            (1, parts, 1)
        );

        let failing = mock!(Client::upload_part_copy).then_error(|| {
            aws_sdk_s3::operation::upload_part_copy::UploadPartCopyError::generic(
                ErrorMetadata::builder().code("AccessDenied").build(),
            )
        });
        let abort = mock!(Client::abort_multipart_upload)
            .match_requests(|r| r.upload_id() == Some("u1"))
            .then_output(|| AbortMultipartUploadOutput::builder().build());
        let s = S3ExportStore::new(mock_client!(
            aws_sdk_s3,
            RuleMode::MatchAny,
            [&create, &failing, &abort],
            |c| c.retry_config(aws_sdk_s3::config::retry::RetryConfig::disabled())
        ));
        let err = s
            .copy_for_seeding("a", "k", size, "b", "k", Some("g"))
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "AwsRejected", "{err}");
        assert_eq!(abort.num_calls(), 1);
    }

    #[tokio::test]
    async fn a_verified_object_is_locked_until_the_date_in_the_mode_configured() {
        let until = time::macros::datetime!(2027-01-01 0:00 UTC);
        let lock = mock!(Client::put_object_retention)
            .match_requests(move |r| {
                r.key() == Some("e-0001.rdb")
                    && r.retention().is_some_and(|x| {
                        x.mode() == Some(&ObjectLockRetentionMode::Compliance)
                            && x.retain_until_date().map(|d| d.secs())
                                == Some(until.unix_timestamp())
                    })
            })
            .then_output(|| {
                aws_sdk_s3::operation::put_object_retention::PutObjectRetentionOutput::builder()
                    .build()
            });
        store(&[&lock])
            .lock_object(
                "b",
                "e-0001.rdb",
                backup_core::config::ObjectLockMode::Compliance,
                until,
            )
            .await
            .unwrap();
        assert_eq!(lock.num_calls(), 1);
    }

    #[tokio::test]
    async fn a_tagged_put_sends_the_tags_url_encoded() {
        let put = mock!(Client::put_object)
            .match_requests(|r| {
                r.bucket() == Some("b")
                    && r.key() == Some("evidence/2026-11.html")
                    && r.content_type() == Some("text/html; charset=utf-8")
                    && r.tagging() == Some("elasticache-backup%3Averified=true")
            })
            .then_output(|| aws_sdk_s3::operation::put_object::PutObjectOutput::builder().build());
        store(&[&put])
            .put_tagged(
                "b",
                "evidence/2026-11.html",
                b"<html>".to_vec(),
                "text/html; charset=utf-8",
                &[("elasticache-backup:verified".into(), "true".into())],
            )
            .await
            .unwrap();
        assert_eq!(put.num_calls(), 1);
        assert_eq!(
            tagging_header(&[("a b".into(), "x&y".into()), ("k".into(), "v".into())]),
            "a%20b=x%26y&k=v"
        );
    }

    #[tokio::test]
    async fn a_refused_tagged_put_is_rejected_with_the_key() {
        let put = mock!(Client::put_object).then_http_response(|| {
            aws_smithy_runtime_api::http::Response::new(
                aws_smithy_runtime_api::http::StatusCode::try_from(403).unwrap(),
                aws_smithy_types::body::SdkBody::from(
                    "<Error><Code>AccessDenied</Code><Message>denied</Message></Error>",
                ),
            )
        });
        let err = store(&[&put])
            .put_tagged("b", "evidence/x.json", vec![], "application/json", &[])
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "AwsRejected");
        assert!(err.to_string().contains("s3://b/evidence/x.json"), "{err}");
    }
}
