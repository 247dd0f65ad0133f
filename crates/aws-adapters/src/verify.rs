//! The [`Verifier`] port of `backup-core`, implemented with `rdb-check`: every byte of an exported `.rdb` object is
//! read (ranged, parallel `GetObject` pinned to one ETag; `rdb_check::s3`), parsed and checksummed by the streaming
//! checker in bounded memory, and hashed (SHA-256). Only VerifyExport links this crate; the other functions do not
//! carry the checker.
//!
//! Errors follow the port: what the checker finds is `ExportCorrupt` (naming the key and the offset); a failure to
//! read S3 is `AwsError` or `Throttled`, never called corruption. An RDB version or opcode the checker does not know
//! is judged by the file's own CRC-64: intact → `UnsupportedRdbFormat` (a newer engine: upgrade), else
//! `ExportCorrupt`, so a page never calls a good backup corrupt, nor a damaged one merely unsupported.

use crate::sdk::fallback;
use async_trait::async_trait;
use aws_sdk_s3::Client;
use backup_core::BackupError;
use backup_core::config::Config;
use backup_core::model::VerifiedObject;
use backup_core::model::{DbSummary, KeySample, RdbSummary};
use backup_core::ports::{ShardCheckpoint, ShardProgress, ShardStep, Verifier};
use rdb_check::s3::RangeOptions;
use std::time::Duration;

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
        let owned = key.to_string();
        let checked = tokio::task::spawn_blocking(move || check_reader(&owned, reader))
            .await
            .map_err(|e| task_failed(&subject, &e))?;
        match checked {
            Checked::Done(result) => *result,
            Checked::UnknownFormat(e) => Err(self.judge_by_crc(bucket, key, &e).await),
        }
    }

    #[tracing::instrument(skip(self, from))]
    async fn verify_object_from(
        &self,
        bucket: &str,
        key: &str,
        from: Option<&ShardCheckpoint>,
        budget: Duration,
    ) -> Result<ShardStep, BackupError> {
        let subject = format!("s3://{bucket}/{key}");
        let (mut from, mut restarted) = usable_checkpoint(key, from);
        loop {
            let start = from.as_ref().map_or(0, |(c, _)| c.read_from());
            let (reader, info) =
                rdb_check::s3::open_from(&self.client, bucket, key, self.ranges, start)
                    .await
                    .map_err(|err| fallback("HeadObject", &subject, err))?;
            if let Some((_, shard)) = &from {
                same_object(key, shard, info.size_bytes, info.etag.as_deref())?;
            }
            let owned = key.to_string();
            let checkpoint = from.as_ref().map(|(c, _)| c.clone());
            let stepped = tokio::task::spawn_blocking(move || {
                step_reader(&owned, reader, checkpoint.as_ref(), budget)
            })
            .await
            .map_err(|e| task_failed(&subject, &e))?;
            let unknown = match stepped {
                Stepped::Refused(reason) => {
                    tracing::warn!(%reason, "checkpoint refused: verifying from the first byte");
                    restarted = Some(reason);
                    from = None;
                    continue;
                }
                Stepped::Paused(rdb) => {
                    return paused(key, &rdb, info.size_bytes, info.etag, restarted);
                }
                Stepped::Done(Checked::Done(result)) => {
                    return result.map(|object| ShardStep {
                        progress: ShardProgress::Done(object),
                        restarted,
                    });
                }
                Stepped::Done(Checked::UnknownFormat(e)) => e,
            };
            return Err(self.judge_by_crc(bucket, key, &unknown).await);
        }
    }
}

impl S3RdbVerifier {
    /// The verdict on an object the checker found in a format it does not know: a newer engine's file, or damage?
    /// The object is read again for its CRC-64 (error path only; [`judge_unknown_format`]).
    async fn judge_by_crc(
        &self,
        bucket: &str,
        key: &str,
        unknown: &rdb_check::RdbError,
    ) -> BackupError {
        let subject = format!("s3://{bucket}/{key}");
        let opened = rdb_check::s3::open(&self.client, bucket, key, self.ranges).await;
        let reader = match opened {
            Ok((reader, _info)) => reader,
            Err(err) => return fallback("HeadObject", &subject, err),
        };
        match tokio::task::spawn_blocking(move || stored_checksum_matches(reader)).await {
            Ok(intact) => judge_unknown_format(key, unknown, intact),
            Err(e) => task_failed(&subject, &e),
        }
    }
}

/// The checker's checkpoint inside a [`ShardCheckpoint`], when this version can go on from it; else why not (the
/// object is then verified from its first byte).
fn usable_checkpoint(
    key: &str,
    from: Option<&ShardCheckpoint>,
) -> (
    Option<(rdb_check::Checkpoint, ShardCheckpoint)>,
    Option<String>,
) {
    let Some(shard) = from else {
        return (None, None);
    };
    let parsed = serde_json::from_value::<rdb_check::Checkpoint>(shard.rdb.clone())
        .map_err(|e| {
            rdb_check::RdbError::Checkpoint {
                reason: format!("not a checkpoint of this version: {e}"),
            }
            .to_string()
        })
        .and_then(|c| c.validate().map(|_| c).map_err(|e| e.to_string()));
    match parsed {
        Ok(c) if c.offset() == shard.offset => (Some((c, shard.clone())), None),
        Ok(c) => (
            None,
            Some(format!(
                "{key}: checkpoint refused: its offset {} is not the checker's {}; the check must start again \
                 from the first byte",
                shard.offset,
                c.offset()
            )),
        ),
        Err(reason) => (None, Some(format!("{key}: {reason}"))),
    }
}

/// `ExportCorrupt` unless the object read now is the one the checkpoint was taken on (its size and ETag).
fn same_object(
    key: &str,
    shard: &ShardCheckpoint,
    size_bytes: u64,
    etag: Option<&str>,
) -> Result<(), BackupError> {
    if shard.size_bytes != size_bytes || shard.etag.as_deref() != etag {
        return Err(BackupError::ExportCorrupt {
            message: format!(
                "{key}: the object changed while it was verified (size {} and ETag {:?} at byte {}, now {size_bytes} \
                 and {etag:?})",
                shard.size_bytes, shard.etag, shard.offset
            ),
        });
    }
    Ok(())
}

/// The step of a paused check: its checkpoint, on the object of this size and ETag.
fn paused(
    key: &str,
    rdb: &rdb_check::Checkpoint,
    size_bytes: u64,
    etag: Option<String>,
    restarted: Option<String>,
) -> Result<ShardStep, BackupError> {
    let state = serde_json::to_value(rdb).map_err(|e| BackupError::AwsError {
        message: format!("{key}: the checkpoint could not be written: {e}"),
        source: None,
    })?;
    let len = rdb.json_len();
    if len >= rdb_check::resume::MAX_CHECKPOINT_BYTES {
        tracing::warn!(
            bytes = len,
            "checkpoint above its usual size (sampled key names, or hash slots scattered at random)"
        );
    }
    tracing::info!(
        offset = rdb.offset(),
        keys = rdb.keys(),
        bytes = len,
        "verification paused"
    );
    Ok(ShardStep {
        progress: ShardProgress::Paused(ShardCheckpoint {
            offset: rdb.offset(),
            size_bytes,
            etag,
            invocations: 0,
            millis: 0,
            rdb: state,
        }),
        restarted,
    })
}

/// What one resumable pass of the checker concluded.
enum Stepped {
    /// The object is checked (or a verdict on it).
    Done(Checked),
    /// Paused at this checkpoint.
    Paused(Box<rdb_check::Checkpoint>),
    /// The checkpoint given cannot be used (the checker says why): start again from the first byte.
    Refused(String),
}

/// Checks `reader` (the object's bytes from `from`'s `read_from`, or from its start) for about `budget`.
fn step_reader(
    key: &str,
    reader: impl std::io::Read + Send,
    from: Option<&rdb_check::Checkpoint>,
    budget: Duration,
) -> Stepped {
    let mut deadline = rdb_check::resume::Deadline::after(budget);
    match rdb_check::check_and_hash_from(reader, from, &mut deadline) {
        Ok(rdb_check::Progress::Paused(c)) => Stepped::Paused(c),
        Ok(rdb_check::Progress::Finished(report, sha256)) => {
            Stepped::Done(judge(key, Ok((*report, sha256))))
        }
        Err(e @ rdb_check::RdbError::Checkpoint { .. }) => Stepped::Refused(format!("{key}: {e}")),
        Err(e) => Stepped::Done(judge(key, Err(e))),
    }
}

fn task_failed(subject: &str, e: &tokio::task::JoinError) -> BackupError {
    BackupError::AwsError {
        message: format!("{subject}: checker task failed: {e}"),
        source: None,
    }
}

/// What one pass of the checker concluded.
enum Checked {
    /// Verified, or a verdict that needs nothing more (corrupt, truncated, unreadable).
    Done(Box<Result<VerifiedObject, BackupError>>),
    /// An RDB version or an opcode/value type the checker does not know: a newer engine's file, or damage.
    UnknownFormat(rdb_check::RdbError),
}

fn check_reader(key: &str, reader: impl std::io::Read + Send) -> Checked {
    judge(key, rdb_check::check_and_hash(reader))
}

/// What the checker's result on object `key` means for the backup.
fn judge(key: &str, checked: Result<(rdb_check::Report, String), rdb_check::RdbError>) -> Checked {
    match checked {
        Ok((report, sha256)) => Checked::Done(Box::new(Ok(VerifiedObject {
            key: key.to_string(),
            size_bytes: report.bytes,
            sha256,
            rdb: summary(report),
        }))),
        Err(e @ rdb_check::RdbError::Io { .. }) => {
            Checked::Done(Box::new(Err(BackupError::AwsError {
                message: format!("reading {key}: {e}"),
                source: Some(Box::new(e)),
            })))
        }
        Err(
            e @ (rdb_check::RdbError::UnsupportedVersion { .. }
            | rdb_check::RdbError::UnknownType { .. }),
        ) => Checked::UnknownFormat(e),
        Err(e) => Checked::Done(Box::new(Err(BackupError::ExportCorrupt {
            message: format!("{key}: {e}"),
        }))),
    }
}

/// Whether the file's trailing CRC-64 (its last 8 bytes, little-endian; RDB 5 and later) matches the CRC-64/REDIS
/// of everything before it: `Some(true)` intact, `Some(false)` damaged, `None` when it cannot tell (shorter than a
/// header and a checksum, or a stored checksum of 0, which Redis writes when `rdbchecksum` is off).
///
/// # Errors
/// Reading failed.
pub fn stored_checksum_matches(mut reader: impl std::io::Read) -> std::io::Result<Option<bool>> {
    let mut digest = crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc64Redis);
    let mut tail: Vec<u8> = Vec::with_capacity(8);
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        total += n as u64;
        // Everything but the last 8 bytes seen so far goes into the CRC.
        tail.extend_from_slice(&buf[..n]);
        if tail.len() > 8 {
            let cut = tail.len() - 8;
            digest.update(&tail[..cut]);
            tail.drain(..cut);
        }
    }
    if total < 9 + 8 || tail.len() < 8 {
        return Ok(None);
    }
    let stored = u64::from_le_bytes(tail[..8].try_into().unwrap_or_default());
    if stored == 0 {
        return Ok(None);
    }
    Ok(Some(digest.finalize() == stored))
}

/// The verdict on an object the checker found in an unknown format, from its CRC-64 ([`stored_checksum_matches`]):
/// intact → `UnsupportedRdbFormat` (a newer engine's file: upgrade this tool; the backup is not called corrupt);
/// damaged, or not known to be intact → `ExportCorrupt`; unreadable → `AwsError`.
fn judge_unknown_format(
    key: &str,
    error: &rdb_check::RdbError,
    intact: std::io::Result<Option<bool>>,
) -> BackupError {
    match intact {
        Ok(Some(true)) => BackupError::UnsupportedRdbFormat {
            message: format!(
                "{key}: {error}; the file's CRC-64 matches its content, so it is intact, not damaged (formats \
                 read: crates/rdb-check/README.md, \"Engine versions\"); the source snapshot is kept"
            ),
        },
        Ok(Some(false)) => BackupError::ExportCorrupt {
            message: format!(
                "{key}: {error}; the file's CRC-64 does not match its content: it is damaged"
            ),
        },
        Ok(None) => BackupError::ExportCorrupt {
            message: format!(
                "{key}: {error}; the file stores no CRC-64 to tell a newer format from damage, and is taken as damaged"
            ),
        },
        Err(e) => BackupError::AwsError {
            message: format!("reading {key} again for its CRC-64: {e}"),
            source: Some(Box::new(e)),
        },
    }
}

/// Checks an object's bytes end to end and hashes them, as [`Verifier::verify_object`] does; a format the checker
/// does not know is judged by the file's CRC-64 (read again from `bytes`).
///
/// # Errors
/// `ExportCorrupt` naming `key` and what the checker found; `UnsupportedRdbFormat` for an intact file in a format
/// this version does not know.
pub fn verify_bytes(key: &str, bytes: &[u8]) -> Result<VerifiedObject, BackupError> {
    match check_reader(key, bytes) {
        Checked::Done(result) => *result,
        Checked::UnknownFormat(e) => Err(judge_unknown_format(
            key,
            &e,
            stored_checksum_matches(bytes),
        )),
    }
}

/// The manifest's record of a checker report.
pub fn summary(report: rdb_check::Report) -> RdbSummary {
    RdbSummary {
        slots: Some(report.slots.to_string()),
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
impl FakeStoreVerifier {
    /// The object's bytes; a missing one is the `AwsError` GetObject would give.
    fn object(&self, bucket: &str, key: &str) -> Result<Vec<u8>, BackupError> {
        self.0
            .get(bucket, key)
            .ok_or_else(|| BackupError::AwsError {
                message: format!("GetObject s3://{bucket}/{key}: NoSuchKey"),
                source: None,
            })
    }
}

#[cfg(feature = "testing")]
#[async_trait]
impl Verifier for FakeStoreVerifier {
    async fn verify_object(&self, bucket: &str, key: &str) -> Result<VerifiedObject, BackupError> {
        let bytes = self.object(bucket, key)?;
        verify_bytes(key, &bytes[..])
    }

    async fn verify_object_from(
        &self,
        bucket: &str,
        key: &str,
        from: Option<&ShardCheckpoint>,
        budget: Duration,
    ) -> Result<ShardStep, BackupError> {
        let bytes = self.object(bucket, key)?;
        let size = bytes.len() as u64;
        // The fake store has no ETags: a CRC-64 of the object stands for one.
        let etag = Some(format!(
            "{:016x}",
            crc_fast::checksum(crc_fast::CrcAlgorithm::Crc64Nvme, &bytes[..])
        ));
        let (mut from, mut restarted) = usable_checkpoint(key, from);
        loop {
            if let Some((_, shard)) = &from {
                same_object(key, shard, size, etag.as_deref())?;
            }
            let start = from.as_ref().map_or(0, |(c, _)| c.read_from());
            let rest = bytes
                .get(usize::try_from(start).unwrap_or(usize::MAX)..)
                .unwrap_or(&[]);
            let checkpoint = from.as_ref().map(|(c, _)| c);
            match step_reader(key, rest, checkpoint, budget) {
                Stepped::Refused(reason) => {
                    restarted = Some(reason);
                    from = None;
                }
                Stepped::Paused(rdb) => return paused(key, &rdb, size, etag, restarted),
                Stepped::Done(Checked::Done(result)) => {
                    return result.map(|object| ShardStep {
                        progress: ShardProgress::Done(object),
                        restarted,
                    });
                }
                Stepped::Done(Checked::UnknownFormat(e)) => {
                    let intact = stored_checksum_matches(&bytes[..]);
                    return Err(judge_unknown_format(key, &e, intact));
                }
            }
        }
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

    /// A verifier over one object `body` served by ranged GetObject, with `etag` for its ETag; the ranges asked
    /// for are recorded in `asked`.
    fn ranged(
        body: Vec<u8>,
        etag: &'static str,
        asked: std::sync::Arc<std::sync::Mutex<Vec<(usize, usize)>>>,
    ) -> S3RdbVerifier {
        let len = body.len() as i64;
        let head = mock!(Client::head_object).then_output(move || {
            HeadObjectOutput::builder()
                .content_length(len)
                .e_tag(etag)
                .build()
        });
        let get = mock!(Client::get_object).then_compute_output(move |r| {
            let range = r.range().unwrap_or_default();
            let (a, b) = range.trim_start_matches("bytes=").split_once('-').unwrap();
            let (a, b): (usize, usize) = (a.parse().unwrap(), b.parse().unwrap());
            asked.lock().unwrap().push((a, b));
            GetObjectOutput::builder()
                .body(ByteStream::from(body[a..=b].to_vec()))
                .build()
        });
        S3RdbVerifier::new(mock_client!(
            aws_sdk_s3,
            RuleMode::MatchAny,
            [&head, &get],
            |c| c.retry_config(aws_sdk_s3::config::retry::RetryConfig::disabled())
        ))
        .with_range_options(RangeOptions {
            part_bytes: 1024,
            parallel: 2,
        })
    }

    #[tokio::test]
    async fn an_object_verified_from_checkpoints_reads_on_from_them_and_ends_as_one_pass() {
        let fixture = fixture("cluster-redis-7.0.rdb");
        let asked = std::sync::Arc::default();
        let v = ranged(fixture.clone(), "\"e1\"", std::sync::Arc::clone(&asked));
        let once = v.verify_object("b", "x-0001.rdb").await.unwrap();
        let mut from: Option<ShardCheckpoint> = None;
        let mut steps = 0;
        let done = loop {
            asked.lock().unwrap().clear();
            let step = v
                .verify_object_from("b", "x-0001.rdb", from.as_ref(), Duration::ZERO)
                .await
                .unwrap();
            assert_eq!(step.restarted, None);
            steps += 1;
            // Each invocation reads from the checkpoint's SHA-256 offset on, never the object's start again.
            let first = asked.lock().unwrap().iter().map(|r| r.0).min();
            if let Some(c) = &from {
                let read_from = c.rdb["shaAt"].as_u64().unwrap() as usize;
                assert_eq!(first, Some(read_from), "step {steps}");
                assert!(read_from <= c.offset as usize);
            }
            match step.progress {
                ShardProgress::Done(object) => break object,
                ShardProgress::Paused(c) => {
                    assert_eq!(
                        (c.size_bytes, c.etag.as_deref()),
                        (fixture.len() as u64, Some("\"e1\""))
                    );
                    from = Some(c);
                }
            }
        };
        assert!(steps > 10, "{steps} steps");
        assert_eq!(done, once);

        // The same key with another ETag: not the object the checkpoint was taken on.
        let other = ranged(fixture.clone(), "\"e2\"", std::sync::Arc::default());
        let mut paused = None;
        if let ShardProgress::Paused(c) = v
            .verify_object_from("b", "x-0001.rdb", None, Duration::ZERO)
            .await
            .unwrap()
            .progress
        {
            paused = Some(c);
        }
        let err = other
            .verify_object_from("b", "x-0001.rdb", paused.as_ref(), Duration::ZERO)
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "ExportCorrupt");
        assert!(
            err.to_string().contains("changed while it was verified"),
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

    /// `body` followed by its CRC-64/REDIS, little-endian: a file whose checksum is right.
    fn sealed(body: &[u8]) -> Vec<u8> {
        let mut out = body.to_vec();
        out.extend_from_slice(
            &crc_fast::checksum(crc_fast::CrcAlgorithm::Crc64Redis, body).to_le_bytes(),
        );
        out
    }

    #[test]
    fn an_intact_file_in_a_newer_format_is_unsupported_and_a_damaged_one_corrupt() {
        let fixture = fixture("hash-ziplist.rdb");
        let body = &fixture[..fixture.len() - 8];
        assert_eq!(
            stored_checksum_matches(&fixture[..]).unwrap(),
            Some(true),
            "the fixture's own checksum"
        );
        // A newer RDB version, checksum intact: a newer engine's file, not a corrupt one.
        let mut newer = body.to_vec();
        newer[5..9].copy_from_slice(b"0099");
        let err = verify_bytes("e-0001.rdb", &sealed(&newer)).unwrap_err();
        assert_eq!(err.error_type(), "UnsupportedRdbFormat", "{err}");
        assert!(err.to_string().contains("99"), "{err}");
        assert!(
            err.to_string().contains("upgrade elasticache-backup"),
            "{err}"
        );
        // An unknown value type in a known version, checksum intact: unsupported too.
        let unknown = sealed(b"REDIS0010\xfe\x00\x42\x01k\x01v\xff");
        let err = verify_bytes("e-0001.rdb", &unknown).unwrap_err();
        assert_eq!(err.error_type(), "UnsupportedRdbFormat", "{err}");
        // The same bytes with a checksum that does not match: damage.
        let mut damaged = unknown.clone();
        let last = damaged.len() - 1;
        damaged[last] ^= 1;
        let err = verify_bytes("e-0001.rdb", &damaged).unwrap_err();
        assert_eq!(err.error_type(), "ExportCorrupt", "{err}");
        assert!(err.to_string().contains("does not match"), "{err}");
        // A byte flipped in a real file where an opcode was: damage, whatever the parser met first.
        let mut flipped = fixture.clone();
        flipped[9] = 0x42;
        let err = verify_bytes("e-0001.rdb", &flipped).unwrap_err();
        assert_eq!(err.error_type(), "ExportCorrupt", "{err}");
        // A truncated file is corrupt.
        let err = verify_bytes("e-0001.rdb", &fixture[..fixture.len() - 9]).unwrap_err();
        assert_eq!(err.error_type(), "ExportCorrupt", "{err}");
    }

    #[test]
    fn the_summary_keeps_what_the_manifest_records() {
        let v = verify_bytes("k", &fixture("hash-ziplist.rdb")[..]).unwrap();
        assert_eq!(v.rdb.magic, "REDIS");
        assert!(v.rdb.keys > 0);
        assert_eq!(v.rdb.types.values().sum::<u64>(), v.rdb.keys);
        assert_eq!(
            v.rdb.databases.values().map(|d| d.keys).sum::<u64>(),
            v.rdb.keys
        );
    }
}
