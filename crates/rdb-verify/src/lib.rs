//! The [`Verifier`] port of `backup-core`, implemented with `rdb-check`: every byte of an exported `.rdb` object is
//! read (ranged, parallel `GetObject` pinned to one ETag; `rdb_check::s3`), parsed and checksummed by the streaming
//! checker in bounded memory, and hashed (SHA-256). Only VerifyExport links this crate; the other functions do not
//! carry the checker.
//!
//! Errors follow the port: what the checker finds is `ExportCorrupt` (naming the key and the offset); a failure to
//! read S3 is `AwsError` or `Throttled`, never called corruption.

use async_trait::async_trait;
use aws_sdk_s3::Client;
use backup_core::BackupError;
use backup_core::aws::fallback;
use backup_core::config::Config;
use backup_core::manifest::{DbSummary, KeySample, RdbSummary};
use backup_core::ports::{VerifiedObject, Verifier};
use rdb_check::s3::RangeOptions;

/// Verifies objects in S3. Build once per cold start from the shared `SdkConfig`.
#[derive(Debug, Clone)]
pub struct S3RdbVerifier {
    client: Client,
    ranges: RangeOptions,
}

impl S3RdbVerifier {
    /// Wraps an S3 client; objects are read in the default [`RangeOptions`] (8 MiB parts, 4 in flight).
    pub fn new(client: Client) -> Self {
        Self {
            client,
            ranges: RangeOptions::default(),
        }
    }

    /// Reads objects in parts of `config.verify_part_bytes` bytes, `config.verify_parallel_parts` in flight
    /// (`VERIFY_PART_MIB`, `VERIFY_PARALLEL_PARTS`; memory ≈ their product).
    #[must_use]
    pub fn with_config(self, config: &Config) -> Self {
        self.with_range_options(RangeOptions {
            part_bytes: config.verify_part_bytes,
            parallel: config.verify_parallel_parts,
        })
    }

    /// Sets how objects are read (part size in bytes, parts in flight).
    #[must_use]
    pub fn with_range_options(mut self, ranges: RangeOptions) -> Self {
        self.ranges = ranges;
        self
    }
}

#[async_trait]
impl Verifier for S3RdbVerifier {
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
}

/// Checks an object's bytes from `reader` end to end and hashes them, as [`Verifier::verify_object`] does.
///
/// # Errors
/// `ExportCorrupt` naming `key` and what the checker found; `AwsError` when reading failed (a network or S3 error is
/// not evidence of a corrupt backup).
pub fn verify_reader(
    key: &str,
    reader: impl std::io::Read + Send,
) -> Result<VerifiedObject, BackupError> {
    let (report, sha256) = rdb_check::check_and_hash(reader).map_err(|e| match e {
        rdb_check::RdbError::Io { .. } => BackupError::AwsError {
            message: format!("reading {key}: {e}"),
            source: Some(Box::new(e)),
        },
        e => BackupError::ExportCorrupt {
            message: format!("{key}: {e}"),
        },
    })?;
    Ok(VerifiedObject {
        key: key.to_string(),
        size_bytes: report.bytes,
        sha256,
        rdb: summary(report),
    })
}

/// The manifest's record of a checker report.
pub fn summary(report: rdb_check::Report) -> RdbSummary {
    RdbSummary {
        redis_version: report.aux.get("redis-ver").cloned(),
        magic: report.magic,
        version: report.version,
        crc64: report.checksum,
        databases: report
            .databases
            .into_iter()
            .map(|(db, r)| {
                (
                    db,
                    DbSummary {
                        keys: r.keys,
                        keys_with_expiry: r.keys_with_expiry,
                    },
                )
            })
            .collect(),
        keys: report.keys,
        keys_with_expiry: report.keys_with_expiry,
        types: report.types,
        encodings: report.encodings,
        functions: report.functions,
        sample: report
            .sample
            .into_iter()
            .map(|k| KeySample {
                db: k.db,
                key: k.key,
                key_type: k.key_type,
            })
            .collect(),
    }
}

/// A [`Verifier`] over the objects of a `backup_core::testing::FakeExportStore` (feature `testing`): the real
/// checker on in-memory bytes.
#[cfg(feature = "testing")]
#[derive(Debug, Clone)]
pub struct FakeStoreVerifier(pub backup_core::testing::FakeExportStore);

#[cfg(feature = "testing")]
#[async_trait]
impl Verifier for FakeStoreVerifier {
    async fn verify_object(&self, bucket: &str, key: &str) -> Result<VerifiedObject, BackupError> {
        let bytes = self
            .0
            .get(bucket, key)
            .ok_or_else(|| BackupError::AwsError {
                message: format!("GetObject s3://{bucket}/{key}: NoSuchKey"),
                source: None,
            })?;
        verify_reader(key, &bytes[..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_s3::operation::get_object::GetObjectOutput;
    use aws_sdk_s3::operation::head_object::HeadObjectOutput;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};
    use aws_smithy_types::byte_stream::ByteStream;

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/../rdb-check/tests/fixtures/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[tokio::test]
    async fn reads_ranged_parts_through_the_checker() {
        let fixture = fixture("zset-ziplist.rdb");
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
        let config = Config {
            verify_part_bytes: 7,
            verify_parallel_parts: 3,
            ..Config::default()
        };
        let v = S3RdbVerifier::new(mock_client!(
            aws_sdk_s3,
            RuleMode::MatchAny,
            rules.iter(),
            |c| c.retry_config(aws_sdk_s3::config::retry::RetryConfig::disabled())
        ))
        .with_config(&config);

        let good = v.verify_object("b", "good-0001.rdb").await.unwrap();
        assert_eq!((good.rdb.keys, good.size_bytes), (1, fixture.len() as u64));
        assert_eq!(good.rdb.databases[&0].keys, 1);
        assert_eq!(good.sha256, {
            use sha2::{Digest, Sha256};
            Sha256::digest(&fixture)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        });
        let err = v.verify_object("b", "bad-0001.rdb").await.unwrap_err();
        assert_eq!(err.error_type(), "ExportCorrupt");
        assert!(
            err.to_string().starts_with("bad-0001.rdb: truncated"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn a_read_failure_is_not_called_corruption() {
        let head = mock!(Client::head_object)
            .then_output(|| HeadObjectOutput::builder().content_length(100).build());
        let broken = mock!(Client::get_object)
            .sequence()
            .http_status(500, None)
            .repeatedly()
            .build();
        let v = S3RdbVerifier::new(mock_client!(
            aws_sdk_s3,
            RuleMode::MatchAny,
            [&head, &broken],
            |c| c.retry_config(aws_sdk_s3::config::retry::RetryConfig::disabled())
        ));
        let err = v.verify_object("b", "e-0001.rdb").await.unwrap_err();
        assert_eq!(err.error_type(), "AwsError", "{err}");
        assert!(err.to_string().contains("reading e-0001.rdb"), "{err}");
        assert_eq!(broken.num_calls(), 4, "one request and three retries");
    }

    #[test]
    fn the_summary_keeps_what_the_manifest_records() {
        let v = verify_reader("k", &fixture("hash-ziplist.rdb")[..]).unwrap();
        assert_eq!(v.rdb.magic, "REDIS");
        assert!(v.rdb.keys > 0);
        assert_eq!(v.rdb.types.values().sum::<u64>(), v.rdb.keys);
        assert_eq!(
            v.rdb.databases.values().map(|d| d.keys).sum::<u64>(),
            v.rdb.keys
        );
    }
}
