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

/// Longest response body kept in an error, characters.
pub const MAX_BODY_CHARS: usize = 500;

/// `text` with every non-empty `secrets` value replaced by `[redacted]`.
pub fn redact(text: &str, secrets: &[&str]) -> String {
    secrets
        .iter()
        .filter(|s| !s.is_empty())
        .fold(text.to_string(), |t, s| t.replace(s, "[redacted]"))
}

/// One POST; `accepted` says which status means success. No error carries the URL (a Slack webhook URL is a
/// secret: `reqwest::Error::without_url`) or any of `secrets` (e.g. a routing key a service echoes back).
async fn post_once(
    http: &reqwest::Client,
    url: &str,
    body: &Value,
    accepted: u16,
    secrets: &[&str],
) -> Result<(), SinkError> {
    let resp = http
        .post(url)
        .json(body)
        .send()
        .await
        .map_err(|e| SinkError::Transient {
            message: redact(&format!("request failed: {}", e.without_url()), secrets),
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
    // Redacted before it is cut, so that no part of a secret survives at the cut.
    let body = redact(&resp.text().await.unwrap_or_default(), secrets);
    let text = backup_core::text::clip(&body, MAX_BODY_CHARS);
    if status == 429 || status >= 500 {
        Err(SinkError::Transient {
            message: format!("HTTP {status}: {text}"),
            retry_after_seconds,
        })
    } else {
        Err(SinkError::Rejected {
            status,
            body: text.to_string(),
        })
    }
}

/// POSTs `body` to `url` until the answer is `accepted`, a final refusal, or the attempts run out. `secrets` (the
/// URL itself when it is one, a routing key in the body) never appear in an error or a log line. With a `deadline`
/// (the function's remaining time, less a margin), it stops there with a transient error.
///
/// # Errors
/// The last [`SinkError`].
pub async fn post_json(
    http: &reqwest::Client,
    url: &str,
    body: &Value,
    accepted: u16,
    policy: RetryPolicy,
    secrets: &[&str],
    deadline: Option<tokio::time::Instant>,
) -> Result<(), SinkError> {
    let backoff = ExponentialBuilder::default()
        .with_min_delay(policy.min_delay)
        .with_max_delay(policy.max_delay)
        .with_max_times(policy.attempts.saturating_sub(1))
        .with_jitter();
    let attempts = (|| post_once(http, url, body, accepted, secrets))
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
        .notify(|err, delay| tracing::warn!(error = %err, ?delay, "retrying"));
    match deadline {
        None => attempts.await,
        Some(at) => tokio::time::timeout_at(at, attempts)
            .await
            .unwrap_or_else(|_| {
                Err(SinkError::Transient {
                    message: "gave up: the function's time budget for delivery ran out".into(),
                    retry_after_seconds: None,
                })
            }),
    }
}

/// When delivery must stop: the function's deadline (`context.deadline`, milliseconds since the Unix epoch) less a
/// 3 s margin for answering and logging. `None` (deliver under the retry policy alone) when the context gives no
/// deadline (tests) or leaves less than 5 s after the margin.
pub fn budget_end(context: &lambda_runtime::Context) -> Option<tokio::time::Instant> {
    const MARGIN_MS: u64 = 3_000;
    if context.deadline == 0 {
        return None;
    }
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_millis() as u64;
    let left = context
        .deadline
        .saturating_sub(now_ms)
        .saturating_sub(MARGIN_MS);
    // Less than 5 s left is not a usable budget (a local runtime emulator was seen sending such deadlines): deliver
    // under the retry policy alone rather than give up at once; Lambda ends the function at its timeout anyway.
    if left < 5_000 {
        return None;
    }
    Some(tokio::time::Instant::now() + std::time::Duration::from_millis(left))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::io::Write;
    use std::sync::{Arc, Mutex};
    use wiremock::matchers::method;
    use wiremock::{Mock, MockServer, ResponseTemplate};

    const WEBHOOK_PATH: &str = "/services/T0SECRET/B0SECRET/xoxSECRETTOKEN";
    const ROUTING_KEY: &str = "R0UT1NGKEYSECRET0000000000000000";

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn policy() -> RetryPolicy {
        RetryPolicy {
            attempts: 2,
            min_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(2),
            max_retry_after: Duration::from_millis(2),
        }
    }

    proptest! {
        #[test]
        fn redact_removes_every_copy_of_a_secret_from_any_text(
            before in ".*",
            after in ".{0,600}",
            secret in "[A-Z0-9]{12,40}",
        ) {
            let text = format!("{before}{secret}{after}{secret}");
            let out = redact(&text, &[&secret, ""]);
            prop_assert!(!out.contains(&secret));
            let kept = backup_core::text::clip(&out, MAX_BODY_CHARS);
            prop_assert!(out.starts_with(kept) && kept.chars().count() <= MAX_BODY_CHARS);
        }
    }

    #[tokio::test]
    async fn a_long_non_ascii_refusal_is_cut_by_characters() {
        let server = MockServer::start().await;
        let page = format!("x{}", "é".repeat(600));
        assert!(!page.is_char_boundary(500));
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(400).set_body_string(page.clone()))
            .mount(&server)
            .await;
        let err = post_json(
            &reqwest::Client::new(),
            &server.uri(),
            &serde_json::json!({}),
            200,
            policy(),
            &[],
            None,
        )
        .await
        .unwrap_err();
        let SinkError::Rejected { status, body } = err else {
            panic!("expected a rejection, got {err:?}");
        };
        assert_eq!(status, 400);
        assert_eq!(body.chars().count(), MAX_BODY_CHARS);
        assert!(page.starts_with(&body));
    }

    #[tokio::test]
    async fn no_delivery_failure_shows_the_webhook_url_or_the_routing_key() {
        let logs = Captured::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_max_level(tracing::Level::TRACE)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(300))
            .build()
            .unwrap();
        let body = serde_json::json!({"routing_key": ROUTING_KEY});
        let secrets_of = |url: &str| vec![url.to_string(), ROUTING_KEY.to_string()];

        let mut errors = Vec::new();
        // Refused connection (nothing listens on a port just released), then each failing answer, and a timeout.
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let refused = format!("http://127.0.0.1:{closed}{WEBHOOK_PATH}");
        let secrets = secrets_of(&refused);
        let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
        errors.push(
            post_json(&http, &refused, &body, 202, policy(), &refs, None)
                .await
                .unwrap_err(),
        );
        let server = MockServer::start().await;
        for (status, answer, delay) in [
            (500, format!("upstream failed for {ROUTING_KEY}"), 0),
            (400, format!("invalid routing key {ROUTING_KEY}"), 0),
            (429, String::new(), 0),
            (202, String::new(), 1000),
        ] {
            server.reset().await;
            Mock::given(method("POST"))
                .respond_with(
                    ResponseTemplate::new(status)
                        .set_body_string(answer)
                        .insert_header("Retry-After", "0")
                        .set_delay(Duration::from_millis(delay)),
                )
                .mount(&server)
                .await;
            let url = format!("{}{WEBHOOK_PATH}", server.uri());
            let secrets = secrets_of(&url);
            let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
            errors.push(
                post_json(&http, &url, &body, 202, policy(), &refs, None)
                    .await
                    .unwrap_err(),
            );
        }

        let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
        assert!(
            logged.contains("retrying"),
            "the failures were logged: {logged}"
        );
        assert_eq!(errors.len(), 5);
        for e in &errors {
            let text = format!("{e} {e:?}");
            for secret in ["SECRET", ROUTING_KEY] {
                assert!(!text.contains(secret), "error leaks a secret: {text}");
            }
        }
        assert!(
            !logged.contains("SECRET"),
            "a log line leaks a secret: {logged}"
        );
        assert!(errors.iter().any(|e| e.to_string().contains("[redacted]")));
    }

    #[test]
    fn the_budget_is_the_deadline_less_a_margin_unless_too_short() {
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        let mut context = lambda_runtime::Context::default();
        assert_eq!(budget_end(&context), None, "no deadline");
        context.deadline = now_ms + 7_000; // 4 s after the margin
        assert_eq!(budget_end(&context), None, "too short to use");
        context.deadline = now_ms + 60_000;
        let left = budget_end(&context).unwrap() - tokio::time::Instant::now();
        assert!(
            left <= Duration::from_secs(57) && left > Duration::from_secs(55),
            "{left:?}"
        );
    }
}
