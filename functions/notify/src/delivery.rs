//! POSTing JSON to a sink with retries: 429 (honouring `Retry-After`), 5xx and network errors are retried with
//! exponential backoff and jitter (backon); any other 4xx is final and never retried.

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use serde_json::Value;

use crate::error::SinkError;

/// How hard to try one sink.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all (first + retries).
    pub attempts: usize,
    /// First backoff delay.
    pub min_delay: Duration,
    /// Longest backoff delay.
    pub max_delay: Duration,
    /// Longest `Retry-After` honoured; a longer one is cut to this.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    /// 4 attempts, 1 s → 8 s backoff, `Retry-After` up to 30 s: well inside a 60 s function timeout.
    fn default() -> Self {
        Self {
            attempts: 4,
            min_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(30),
        }
    }
}

/// One POST; `accepted` says which status means success.
async fn post_once(
    http: &reqwest::Client,
    url: &str,
    body: &Value,
    accepted: u16,
) -> Result<(), SinkError> {
    let resp = http
        .post(url)
        .json(body)
        .send()
        .await
        .map_err(|e| SinkError::Transient {
            message: format!("request failed: {e}"),
            retry_after_seconds: None,
        })?;
    let status = resp.status().as_u16();
    if status == accepted {
        return Ok(());
    }
    let retry_after_seconds = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let mut text = resp.text().await.unwrap_or_default();
    text.truncate(500);
    if status == 429 || status >= 500 {
        Err(SinkError::Transient {
            message: format!("HTTP {status}: {text}"),
            retry_after_seconds,
        })
    } else {
        Err(SinkError::Rejected { status, body: text })
    }
}

/// POSTs `body` to `url` until the answer is `accepted`, a final refusal, or the attempts run out.
///
/// # Errors
/// The last [`SinkError`].
pub async fn post_json(
    http: &reqwest::Client,
    url: &str,
    body: &Value,
    accepted: u16,
    policy: RetryPolicy,
) -> Result<(), SinkError> {
    let backoff = ExponentialBuilder::default()
        .with_min_delay(policy.min_delay)
        .with_max_delay(policy.max_delay)
        .with_max_times(policy.attempts.saturating_sub(1))
        .with_jitter();
    (|| post_once(http, url, body, accepted))
        .retry(backoff)
        .sleep(tokio::time::sleep)
        .when(SinkError::is_transient)
        .adjust(|err, delay| {
            let retry_after = match err {
                SinkError::Transient {
                    retry_after_seconds: Some(s),
                    ..
                } => Some(Duration::from_secs(*s).min(policy.max_retry_after)),
                _ => None,
            };
            delay.map(|d| retry_after.unwrap_or(d))
        })
        .notify(|err, delay| tracing::warn!(error = %err, ?delay, "retrying"))
        .await
}
