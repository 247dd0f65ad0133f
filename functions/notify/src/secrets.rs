//! The Slack webhook URL and PagerDuty routing key, read from Secrets Manager by ARN once per cold start and cached;
//! never logged.
//!
//! A secret may hold the bare value (`https://hooks.slack.com/services/…`, or the 32-character routing key) or a JSON
//! object with it under `webhookUrl`/`url` (Slack) or `routingKey`/`routing_key`/`integrationKey` (PagerDuty).

use serde_json::Value;
use tokio::sync::OnceCell;

use crate::error::SinkError;

pub use backup_core::ports::Secrets;

/// One secret, fetched on first use and kept for the life of the execution environment. Its `Debug` shows the ARN
/// and whether the value was fetched, never the value.
pub struct CachedSecret {
    arn: Option<String>,
    keys: &'static [&'static str],
    value: OnceCell<String>,
}

impl std::fmt::Debug for CachedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedSecret")
            .field("arn", &self.arn)
            .field("keys", &self.keys)
            .field(
                "value",
                &format_args!(
                    "{}",
                    if self.value.initialized() {
                        "[redacted]"
                    } else {
                        "(not fetched)"
                    }
                ),
            )
            .finish()
    }
}

impl CachedSecret {
    /// A secret at `arn` (`None` = the sink is not configured), whose JSON form keeps the value under one of `keys`.
    pub fn new(arn: Option<String>, keys: &'static [&'static str]) -> Self {
        Self {
            arn: arn.filter(|a| !a.trim().is_empty()),
            keys,
            value: OnceCell::new(),
        }
    }

    /// Whether the sink is configured.
    pub fn is_configured(&self) -> bool {
        self.arn.is_some()
    }

    /// The value, fetching it the first time.
    ///
    /// # Errors
    /// [`SinkError::Secret`] when it cannot be read or is empty.
    pub async fn get<S: Secrets + ?Sized>(&self, secrets: &S) -> Result<&str, SinkError> {
        let arn = self.arn.as_deref().unwrap_or_default();
        self.value
            .get_or_try_init(|| async {
                let raw =
                    secrets
                        .secret_string(arn)
                        .await
                        .map_err(|message| SinkError::Secret {
                            arn: arn.to_string(),
                            message,
                        })?;
                extract(&raw, self.keys).ok_or_else(|| SinkError::Secret {
                    arn: arn.to_string(),
                    message: format!("empty, or a JSON object without any of {:?}", self.keys),
                })
            })
            .await
            .map(String::as_str)
    }
}

fn extract(raw: &str, keys: &[&str]) -> Option<String> {
    let raw = raw.trim();
    let value = match serde_json::from_str::<Value>(raw) {
        Ok(Value::Object(m)) => keys
            .iter()
            .find_map(|k| m.get(*k).and_then(Value::as_str).map(str::to_string))?,
        _ => raw.to_string(),
    };
    (!value.trim().is_empty()).then(|| value.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_trait::async_trait;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Counting(AtomicUsize, &'static str);

    #[async_trait]
    impl Secrets for Counting {
        async fn secret_string(&self, _arn: &str) -> Result<String, String> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(self.1.to_string())
        }
    }

    #[tokio::test]
    async fn fetched_once_then_cached() {
        let s = Counting(AtomicUsize::new(0), "https://hooks.example/T/B/X");
        let c = CachedSecret::new(Some("arn:slack".into()), &["webhookUrl"]);
        assert_eq!(c.get(&s).await.unwrap(), "https://hooks.example/T/B/X");
        assert_eq!(c.get(&s).await.unwrap(), "https://hooks.example/T/B/X");
        assert_eq!(s.0.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn json_secrets_are_read_by_key() {
        let s = Counting(AtomicUsize::new(0), r#"{"routingKey": "R0UT1NGKEY"}"#);
        let c = CachedSecret::new(Some("arn:pd".into()), &["routingKey", "routing_key"]);
        assert_eq!(c.get(&s).await.unwrap(), "R0UT1NGKEY");
    }

    #[tokio::test]
    async fn a_json_secret_without_the_key_is_an_error_that_hides_the_value() {
        let s = Counting(AtomicUsize::new(0), r#"{"other": "SECRET-VALUE"}"#);
        let c = CachedSecret::new(Some("arn:pd".into()), &["routingKey"]);
        let err = c.get(&s).await.unwrap_err().to_string();
        assert!(
            err.contains("arn:pd") && !err.contains("SECRET-VALUE"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn debug_never_shows_the_cached_value() {
        let s = Counting(AtomicUsize::new(0), "https://hooks.example/T/B/XSECRETX");
        let c = CachedSecret::new(Some("arn:slack".into()), &["webhookUrl"]);
        c.get(&s).await.unwrap();
        let shown = format!("{c:?} {c:#?}");
        assert!(!shown.contains("XSECRETX"), "{shown}");
        assert!(
            shown.contains("arn:slack") && shown.contains("redacted"),
            "{shown}"
        );
    }

    #[test]
    fn unset_or_blank_arn_means_not_configured() {
        assert!(!CachedSecret::new(None, &[]).is_configured());
        assert!(!CachedSecret::new(Some(" ".into()), &[]).is_configured());
    }
}
