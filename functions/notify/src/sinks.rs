//! One alert to each sink, once: which sinks take it, each sink's message posted with its secret, the ledger
//! consulted before and written after, and what happened reported per sink.
//!
//! Both sinks are optional and independent: one failing does not stop the other.

use serde_json::{Value, json};

use crate::alert::{Action, Alert};
use crate::delivery::post_json;
use crate::deps::Deps;
use crate::error::SinkError;
use crate::ledger::{self, Ledger};
use crate::pagerduty;
use crate::secrets::Secrets;
use crate::slack;

/// One sink's result for one alert.
#[derive(Debug)]
pub enum Delivery {
    /// Not configured, or not for this action.
    Skipped,
    /// Accepted now.
    Sent,
    /// Accepted by an earlier attempt of this event (the ledger says so): not called again.
    AlreadySent,
    /// Failed after its retries.
    Failed(SinkError),
}

impl Delivery {
    /// What happened, as the handler's summary says it: `skipped`, `sent`, `already sent`, `failed: <why>`.
    pub fn outcome(&self) -> Value {
        match self {
            Self::Skipped => json!("skipped"),
            Self::Sent => json!("sent"),
            Self::AlreadySent => json!("already sent"),
            Self::Failed(e) => json!(format!("failed: {e}")),
        }
    }
}

/// What each sink did with one alert.
#[derive(Debug)]
pub struct Deliveries {
    /// Slack's result.
    pub slack: Delivery,
    /// PagerDuty's result.
    pub pagerduty: Delivery,
}

impl Deliveries {
    /// The sinks that failed, by name (`slack`, `pagerduty`), with why.
    pub fn failures(&self) -> impl Iterator<Item = (&'static str, &SinkError)> {
        [("slack", &self.slack), ("pagerduty", &self.pagerduty)]
            .into_iter()
            .filter_map(|(sink, d)| match d {
                Delivery::Failed(e) => Some((sink, e)),
                _ => None,
            })
    }

    /// The alert's entry in the handler's summary: `{"title", "action", "target", "dedupKey", "slack",
    /// "pagerduty"}`.
    pub fn report(&self, a: &Alert) -> Value {
        json!({"title": a.title, "action": format!("{:?}", a.action), "target": a.target, "dedupKey": a.dedup_key(), "slack": self.slack.outcome(), "pagerduty": self.pagerduty.outcome()})
    }
}

/// Whether Slack takes `a`: a trigger or an info always, a resolve only with `notify_success`
/// (`SLACK_NOTIFY_SUCCESS`).
pub fn slack_takes(a: &Alert, notify_success: bool) -> bool {
    a.action != Action::Resolve || notify_success
}

/// Whether PagerDuty takes `a`: a trigger or a resolve, never an info.
pub fn pagerduty_takes(a: &Alert) -> bool {
    a.action != Action::Info
}

/// Delivers the event's `index`-th alert `a` to both sinks at once, each within `deadline` (what is left of the
/// function's time), skipping a sink the ledger says took it already (keyed by `event_id`, see [`ledger::key`]).
pub async fn deliver<H, S: Secrets>(
    a: &Alert,
    index: usize,
    event_id: Option<&str>,
    deps: &Deps<H, S>,
    deadline: Option<tokio::time::Instant>,
) -> Deliveries {
    let key = |sink: &str| ledger::key(event_id, index, sink);
    let (slack, pagerduty) = tokio::join!(
        deliver_once(
            key("slack"),
            deps.ledger.as_ref(),
            send_slack(a, deps, deadline)
        ),
        deliver_once(
            key("pagerduty"),
            deps.ledger.as_ref(),
            send_pagerduty(a, deps, deadline)
        ),
    );
    Deliveries { slack, pagerduty }
}

/// Runs `send` unless the ledger says `key` was delivered; records it when the sink accepts.
async fn deliver_once<F>(key: Option<String>, ledger: &dyn Ledger, send: F) -> Delivery
where
    F: std::future::Future<Output = Option<Result<(), SinkError>>>,
{
    if let Some(k) = &key
        && ledger.delivered(k).await
    {
        return Delivery::AlreadySent;
    }
    match send.await {
        None => Delivery::Skipped,
        Some(Ok(())) => {
            if let Some(k) = &key {
                ledger.record(k).await;
            }
            Delivery::Sent
        }
        Some(Err(e)) => Delivery::Failed(e),
    }
}

async fn send_slack<H, S: Secrets>(
    a: &Alert,
    deps: &Deps<H, S>,
    deadline: Option<tokio::time::Instant>,
) -> Option<Result<(), SinkError>> {
    if !deps.slack_url.is_configured() || !slack_takes(a, deps.config.slack_notify_success) {
        return None;
    }
    Some(match deps.slack_url.get(&deps.secrets).await {
        Ok(url) => {
            post_json(
                &deps.http,
                url,
                &slack::message(a),
                200,
                deps.config.retry,
                &[url],
                deadline,
            )
            .await
        }
        Err(e) => Err(e),
    })
}

async fn send_pagerduty<H, S: Secrets>(
    a: &Alert,
    deps: &Deps<H, S>,
    deadline: Option<tokio::time::Instant>,
) -> Option<Result<(), SinkError>> {
    if !deps.pagerduty_key.is_configured() || !pagerduty_takes(a) {
        return None;
    }
    Some(match deps.pagerduty_key.get(&deps.secrets).await {
        Ok(key) => match pagerduty::event(a, key) {
            Some(body) => {
                post_json(
                    &deps.http,
                    &deps.config.pagerduty_url,
                    &body,
                    202,
                    deps.config.retry,
                    &[key],
                    deadline,
                )
                .await
            }
            None => Ok(()),
        },
        Err(e) => Err(e),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::{DeliveryLedger, NoDurableStore};

    fn alert(action: Action) -> Alert {
        Alert {
            action,
            target: "orders".into(),
            region: "us-east-1".into(),
            title: "t".into(),
            step: None,
            error: None,
            cause: None,
            snapshot_name: None,
            execution_arn: None,
            time: None,
        }
    }

    #[test]
    fn pagerduty_takes_triggers_and_resolves_and_slack_resolves_only_when_asked() {
        let (trigger, resolve, info) = (
            alert(Action::Trigger),
            alert(Action::Resolve),
            alert(Action::Info),
        );
        assert!(pagerduty_takes(&trigger) && pagerduty_takes(&resolve));
        assert!(!pagerduty_takes(&info));
        assert!(slack_takes(&trigger, false) && slack_takes(&info, false));
        assert!(!slack_takes(&resolve, false));
        assert!(slack_takes(&resolve, true));
    }

    #[tokio::test]
    async fn a_delivery_the_ledger_holds_is_not_sent_again_and_a_failure_is_not_recorded() {
        let ledger = DeliveryLedger::<NoDurableStore>::in_memory();
        let sent = deliver_once(Some("e/0/slack".into()), &ledger, async { Some(Ok(())) }).await;
        assert!(matches!(sent, Delivery::Sent));
        let again = deliver_once(Some("e/0/slack".into()), &ledger, async {
            panic!("not sent again")
        })
        .await;
        assert!(matches!(again, Delivery::AlreadySent));
        let failed = SinkError::Rejected {
            status: 400,
            body: "no".into(),
        };
        let d = deliver_once(Some("e/0/pagerduty".into()), &ledger, async {
            Some(Err(failed))
        })
        .await;
        assert_eq!(d.outcome(), json!("failed: HTTP 400: no"));
        assert!(!ledger.delivered("e/0/pagerduty").await);
        let skipped = deliver_once(None, &ledger, async { None }).await;
        assert_eq!(skipped.outcome(), json!("skipped"));
    }
}
