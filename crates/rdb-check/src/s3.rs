//! One S3 object as a blocking [`std::io::Read`] for [`crate::check`] (feature `s3`).
//!
//! `HeadObject` gives the size and ETag; the object is then read as ranged `GetObject` requests (`Range:
//! bytes=first-last`, `If-Match: <ETag>` so that every part comes from the same object version), several in flight,
//! handed to the reader in order. A single stream from S3 is slower than the checker (about 300 MB/s), so parallel
//! parts keep a multi-GB shard within the Lambda time limit. Memory is bounded by the parts in flight plus one
//! (default 4 × 8 MiB), whatever the object size. A part whose request or body fails is fetched again (3 retries,
//! exponential backoff); a changed object (`412 Precondition Failed`) is not.
//!
//! Sources: Amazon S3 API Reference, `HeadObject` and `GetObject` (`Range`, `If-Match`, 206 Partial Content).

use std::collections::VecDeque;
use std::io::{self, Read};
use std::time::Duration;

use aws_sdk_s3::Client;
use aws_sdk_s3::error::{DisplayErrorContext, SdkError};
use aws_sdk_s3::operation::head_object::HeadObjectError;
use backon::{ExponentialBuilder, Retryable};
use bytes::{Buf, Bytes};
use futures_util::{StreamExt, stream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// How an object is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RangeOptions {
    /// Bytes per ranged `GetObject` (at least 1).
    pub part_bytes: u64,
    /// Requests in flight (at least 1; 1 reads the parts one after another).
    pub parallel: usize,
}

impl Default for RangeOptions {
    /// 8 MiB parts, 4 in flight.
    fn default() -> Self {
        Self {
            part_bytes: 8 * 1024 * 1024,
            parallel: 4,
        }
    }
}

/// What `HeadObject` said about the object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    /// `Content-Length`, bytes.
    pub size_bytes: u64,
    /// `ETag` (every part is requested with `If-Match` on it).
    pub etag: Option<String>,
}

/// The object's bytes, in order. Read it from a blocking thread (`tokio::task::spawn_blocking` or a plain thread),
/// never from async code: [`Read::read`] waits for the next part. Dropping it cancels the requests in flight.
///
/// Each part is kept as the body's own buffers, as the HTTP client received them, and copied once, into the reader's
/// buffer: not first gathered into one contiguous buffer (`AggregatedBytes::into_bytes` copies a body of several
/// buffers).
pub struct ObjectReader {
    parts: mpsc::Receiver<io::Result<Part>>,
    current: Part,
    task: JoinHandle<()>,
}

/// One part's bytes: the response body's buffers, in order.
type Part = VecDeque<Bytes>;

impl Drop for ObjectReader {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Read for ObjectReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.parts.blocking_recv() {
                Some(Ok(part)) => self.current = part,
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let mut n = 0;
        while n < buf.len() {
            let Some(front) = self.current.front_mut() else {
                break;
            };
            let take = (buf.len() - n).min(front.len());
            buf[n..n + take].copy_from_slice(&front[..take]);
            front.advance(take);
            n += take;
            if front.is_empty() {
                self.current.pop_front();
            }
        }
        Ok(n)
    }
}

/// Opens `s3://bucket/key` for reading: `HeadObject`, then the ranged requests start (on the current tokio runtime).
///
/// # Errors
/// The `HeadObject` error (e.g. `NotFound`, access denied); errors of the later part requests come out of
/// [`Read::read`] as [`io::Error`]s naming the object and the byte range.
pub async fn open(
    client: &Client,
    bucket: &str,
    key: &str,
    options: RangeOptions,
) -> Result<(ObjectReader, ObjectInfo), SdkError<HeadObjectError>> {
    open_from(client, bucket, key, options, 0).await
}

/// Opens `s3://bucket/key` for reading from byte `start` (a resumed check: [`crate::Checkpoint::read_from`]) to its
/// end, as [`open`] does; a `start` at or past the end reads nothing. [`ObjectInfo`] describes the whole object.
///
/// # Errors
/// As [`open`].
pub async fn open_from(
    client: &Client,
    bucket: &str,
    key: &str,
    options: RangeOptions,
    start: u64,
) -> Result<(ObjectReader, ObjectInfo), SdkError<HeadObjectError>> {
    let head = client.head_object().bucket(bucket).key(key).send().await?;
    let info = ObjectInfo {
        size_bytes: head
            .content_length()
            .and_then(|n| u64::try_from(n).ok())
            .unwrap_or(0),
        etag: head.e_tag().map(str::to_string),
    };
    let part = options.part_bytes.max(1);
    let size = info.size_bytes;
    let rest = size.saturating_sub(start);
    let ranges: Vec<(u64, u64)> = (0..rest.div_ceil(part))
        .map(|i| (start + i * part, (start + (i + 1) * part).min(size) - 1))
        .collect();
    // One finished part waits in the channel while the next ones download.
    let (tx, rx) = mpsc::channel(1);
    let part_source = PartSource {
        client: client.clone(),
        bucket: bucket.to_string(),
        key: key.to_string(),
        etag: info.etag.clone(),
    };
    let task = tokio::spawn(async move {
        let source = &part_source;
        let mut parts = stream::iter(ranges)
            .map(|(first, last)| source.fetch(first, last))
            .buffered(options.parallel.max(1));
        while let Some(part) = parts.next().await {
            let failed = part.is_err();
            if tx.send(part).await.is_err() || failed {
                return;
            }
        }
    });
    Ok((
        ObjectReader {
            parts: rx,
            current: Part::new(),
            task,
        },
        info,
    ))
}

struct PartSource {
    client: Client,
    bucket: String,
    key: String,
    etag: Option<String>,
}

/// A failed part request, and whether asking again can help.
struct PartError {
    error: io::Error,
    retry: bool,
}

impl PartSource {
    async fn fetch(&self, first: u64, last: u64) -> io::Result<Part> {
        let what = format!(
            "GetObject s3://{}/{} bytes {first}-{last}",
            self.bucket, self.key
        );
        let attempt = || async {
            let out = self
                .client
                .get_object()
                .bucket(&self.bucket)
                .key(&self.key)
                .range(format!("bytes={first}-{last}"))
                .set_if_match(self.etag.clone())
                .send()
                .await
                .map_err(|e| {
                    let status = e.raw_response().map(|r| r.status().as_u16());
                    PartError {
                        // 412: the object changed since HeadObject; 403/404: it will not come back by asking again.
                        retry: !matches!(status, Some(403 | 404 | 412)),
                        error: io::Error::other(format!("{what}: {}", DisplayErrorContext(&e))),
                    }
                })?;
            let body = out.body.collect().await.map_err(|e| PartError {
                error: io::Error::other(format!("{what}: reading the body: {e}")),
                retry: true,
            })?;
            let got = body.remaining() as u64;
            let want = last - first + 1;
            if got != want {
                return Err(PartError {
                    error: io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("{what}: {got} bytes returned, {want} asked for"),
                    ),
                    retry: true,
                });
            }
            Ok(body.into_segments().filter(|b| !b.is_empty()).collect())
        };
        attempt
            .retry(
                ExponentialBuilder::default()
                    .with_min_delay(Duration::from_millis(200))
                    .with_max_delay(Duration::from_secs(5))
                    .with_max_times(3)
                    .with_jitter(),
            )
            .when(|e: &PartError| e.retry)
            .await
            .map_err(|e| e.error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_s3::operation::get_object::GetObjectOutput;
    use aws_sdk_s3::operation::head_object::HeadObjectOutput;
    use aws_sdk_s3::primitives::ByteStream;
    use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
    use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;

    const DATA: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";

    fn head(len: usize) -> Rule {
        mock!(Client::head_object).then_output(move || {
            HeadObjectOutput::builder()
                .content_length(len as i64)
                .e_tag("\"v1\"")
                .build()
        })
    }

    fn client(rules: &[&Rule]) -> Client {
        mock_client!(aws_sdk_s3, RuleMode::MatchAny, rules.iter().copied(), |c| c
            .retry_config(aws_sdk_s3::config::retry::RetryConfig::disabled()))
    }

    fn range_rule(first: usize, last: usize) -> Rule {
        let range = format!("bytes={first}-{last}");
        mock!(Client::get_object)
            .match_requests(move |r| {
                r.range() == Some(range.as_str()) && r.if_match() == Some("\"v1\"")
            })
            .then_output(move || {
                GetObjectOutput::builder()
                    .body(ByteStream::from_static(&DATA[first..=last]))
                    .build()
            })
    }

    async fn read_all(client: Client, options: RangeOptions) -> io::Result<Vec<u8>> {
        let (mut reader, info) = open(&client, "b", "k", options)
            .await
            .map_err(io::Error::other)?;
        assert_eq!(info.size_bytes, DATA.len() as u64);
        tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            reader.read_to_end(&mut out).map(|_| out)
        })
        .await
        .unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn parts_arrive_in_order_whatever_the_parallelism() {
        // 36 bytes in parts of 10: 0-9, 10-19, 20-29, 30-35.
        let parts: Vec<Rule> = [(0, 9), (10, 19), (20, 29), (30, 35)]
            .into_iter()
            .map(|(a, b)| range_rule(a, b))
            .collect();
        let h = head(DATA.len());
        let mut rules: Vec<&Rule> = vec![&h];
        rules.extend(parts.iter());
        for parallel in [1, 3, 8] {
            let got = read_all(
                client(&rules),
                RangeOptions {
                    part_bytes: 10,
                    parallel,
                },
            )
            .await
            .unwrap();
            assert_eq!(got, DATA, "parallel {parallel}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn parts_of_several_buffers_are_read_in_order_across_their_edges() {
        let (tx, rx) = mpsc::channel(4);
        let mut reader = ObjectReader {
            parts: rx,
            current: Part::new(),
            task: tokio::spawn(async {}),
        };
        let part = |chunks: &[&'static str]| -> Part {
            chunks
                .iter()
                .map(|c| Bytes::from_static(c.as_bytes()))
                .collect()
        };
        for p in [part(&["ab", "cde"]), part(&["f"]), part(&["ghij", "", "k"])] {
            tx.send(Ok(p)).await.unwrap();
        }
        drop(tx);
        let got = tokio::task::spawn_blocking(move || {
            // Reads of 3 bytes: each spans buffer edges or parts.
            let (mut out, mut buf) = (Vec::new(), [0u8; 3]);
            loop {
                let n = reader.read(&mut buf).unwrap();
                if n == 0 {
                    return out;
                }
                out.push(String::from_utf8(buf[..n].to_vec()).unwrap());
            }
        })
        .await
        .unwrap();
        assert_eq!(got.concat(), "abcdefghijk");
        // A read fills the buffer from the part's buffers, never past the part.
        assert_eq!(got, ["abc", "de", "f", "ghi", "jk"]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_part_is_fetched_again() {
        let h = head(DATA.len());
        let flaky = mock!(Client::get_object)
            .sequence()
            .http_status(500, None)
            .times(2)
            .output(|| {
                GetObjectOutput::builder()
                    .body(ByteStream::from_static(DATA))
                    .build()
            })
            .build();
        let got = read_all(client(&[&h, &flaky]), RangeOptions::default())
            .await
            .unwrap();
        assert_eq!(got, DATA);
        assert_eq!(flaky.num_calls(), 3);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_short_part_is_an_error_naming_the_range() {
        let h = head(DATA.len());
        let short = mock!(Client::get_object)
            .match_requests(|r| r.range() == Some("bytes=0-35"))
            .then_output(|| {
                GetObjectOutput::builder()
                    .body(ByteStream::from_static(&DATA[..20]))
                    .build()
            });
        let err = read_all(
            client(&[&h, &short]),
            RangeOptions {
                part_bytes: 64,
                parallel: 2,
            },
        )
        .await
        .unwrap_err();
        assert!(err.to_string().contains("bytes 0-35"), "{err}");
        assert!(
            err.to_string().contains("20 bytes returned, 36 asked for"),
            "{err}"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_changed_object_fails_without_retrying() {
        let h = head(DATA.len());
        let changed = mock!(Client::get_object).then_http_response(|| {
            HttpResponse::new(StatusCode::try_from(412).unwrap(), SdkBody::from(""))
        });
        let err = read_all(client(&[&h, &changed]), RangeOptions::default())
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("GetObject s3://b/k bytes 0-35"),
            "{err}"
        );
        assert_eq!(changed.num_calls(), 1);
    }
}
