//! What the notify handler needs, built once at cold start: the execution history, Secrets Manager and the HTTP
//! client, the configuration, the sinks' secrets (cached for the life of the execution environment), the ElastiCache
//! lookup that keys incidents by group, and the delivery ledger.

use backup_core::ports::{ExecutionHistory, Snapshots};

use crate::config::Config;
use crate::ledger::{DeliveryLedger, Ledger, NoDurableStore};
use crate::secrets::{CachedSecret, Secrets};

/// What the handler needs; secrets are cached here for the life of the execution environment.
pub struct Deps<H, S> {
    /// Reads a failed execution's history (its failed step, error and cause).
    pub(crate) history: H,
    /// Reads the sinks' secrets.
    pub(crate) secrets: S,
    /// Posts to the sinks.
    pub(crate) http: reqwest::Client,
    /// The configuration.
    pub(crate) config: Config,
    /// The Slack webhook URL (`SLACK_WEBHOOK_SECRET_ARN`).
    pub(crate) slack_url: CachedSecret,
    /// The PagerDuty routing key (`PAGERDUTY_ROUTING_KEY_SECRET_ARN`).
    pub(crate) pagerduty_key: CachedSecret,
    /// Reads ElastiCache to map a node or a snapshot to its replication group (one incident per group); without
    /// it, targets are only lower-cased.
    pub(crate) lookup: Option<Box<dyn Snapshots>>,
    /// Which sinks already accepted which event.
    pub(crate) ledger: Box<dyn Ledger>,
}

impl<H: ExecutionHistory, S: Secrets> Deps<H, S> {
    /// Builds the dependencies.
    pub fn new(history: H, secrets: S, http: reqwest::Client, config: Config) -> Self {
        Self {
            slack_url: CachedSecret::new(
                config.slack_secret_arn.clone(),
                &["webhookUrl", "webhook_url", "url"],
            ),
            pagerduty_key: CachedSecret::new(
                config.pagerduty_secret_arn.clone(),
                &["routingKey", "routing_key", "integrationKey"],
            ),
            history,
            secrets,
            http,
            config,
            lookup: None,
            ledger: Box::new(DeliveryLedger::<NoDurableStore>::in_memory()),
        }
    }

    /// Maps nodes and snapshots to their group with `lookup` (DescribeCacheClusters, DescribeSnapshots).
    pub fn with_lookup(mut self, lookup: impl Snapshots + 'static) -> Self {
        self.lookup = Some(Box::new(lookup));
        self
    }

    /// Remembers deliveries in `ledger` (see [`crate::ledger`]).
    pub fn with_ledger(mut self, ledger: impl Ledger + 'static) -> Self {
        self.ledger = Box::new(ledger);
        self
    }

    /// At cold start: reads each configured secret once and warns (never with its value) when one is empty or
    /// unreadable, so a sink that cannot work shows in the logs before the first alert needs it.
    pub async fn warm_up(&self) {
        for (sink, secret) in [
            ("slack", &self.slack_url),
            ("pagerduty", &self.pagerduty_key),
        ] {
            if secret.is_configured()
                && let Err(e) = secret.get(&self.secrets).await
            {
                tracing::warn!(sink, error = %e, "the sink's secret is empty or unreadable: its alerts will fail");
            }
        }
    }
}
