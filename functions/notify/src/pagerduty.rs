//! The PagerDuty Events API v2 body for an alert (PagerDuty/api-schema `reference/events-v2/openapiv3.json`:
//! `routing_key`, `event_action` trigger|acknowledge|resolve, `dedup_key`, `payload.summary/severity/source` for a
//! trigger; `summary` ≤ 1024 and `dedup_key` ≤ 255 characters). Accepted answer: HTTP 202.

use backup_core::text::ellipsize;
use serde_json::{Value, json};

use crate::alert::{Action, Alert};

/// Longest `payload.summary`.
pub const SUMMARY_MAX: usize = 1024;
/// Longest `dedup_key`.
pub const DEDUP_KEY_MAX: usize = 255;
/// The public Events API v2 endpoint (overridden by `PAGERDUTY_EVENTS_URL`, e.g. for tests).
pub const DEFAULT_EVENTS_URL: &str = "https://events.pagerduty.com/v2/enqueue";

/// The event for `alert`, or `None` for info-only alerts (they never page).
pub fn event(alert: &Alert, routing_key: &str) -> Option<Value> {
    let dedup_key = ellipsize(&alert.dedup_key(), DEDUP_KEY_MAX);
    match alert.action {
        Action::Info => None,
        Action::Resolve => Some(
            json!({"routing_key": routing_key, "event_action": "resolve", "dedup_key": dedup_key}),
        ),
        Action::Trigger => {
            let mut details = serde_json::Map::new();
            for (k, v) in [
                ("cluster", Some(&alert.target)),
                ("step", alert.step.as_ref()),
                ("error", alert.error.as_ref()),
                ("cause", alert.cause.as_ref()),
                ("snapshot_name", alert.snapshot_name.as_ref()),
                ("execution_arn", alert.execution_arn.as_ref()),
                ("region", Some(&alert.region)),
            ] {
                if let Some(v) = v {
                    details.insert(k.into(), Value::String(v.clone()));
                }
            }
            if alert.snapshot_name.is_some() {
                details.insert("snapshot_kept".into(), Value::Bool(true));
            }
            let mut payload = json!({
                "summary": ellipsize(&alert.title, SUMMARY_MAX),
                "severity": "critical",
                "source": alert.target,
                "component": alert.step.clone().unwrap_or_else(|| "elasticache".into()),
                "group": "elasticache-backup",
                "class": alert.error.clone().unwrap_or_else(|| "BackupFailed".into()),
                "custom_details": details,
            });
            if let Some(t) = &alert.time {
                payload["timestamp"] = Value::String(t.clone());
            }
            let mut body = json!({
                "routing_key": routing_key,
                "event_action": "trigger",
                "dedup_key": dedup_key,
                "payload": payload,
                "client": "elasticache-backup",
            });
            if let Some(url) = alert.execution_url() {
                body["client_url"] = Value::String(url.clone());
                body["links"] = json!([{"href": url, "text": "Step Functions execution"}]);
            }
            Some(body)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::any_alert;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_alert_gives_an_event_within_the_schema_limits(alert in any_alert()) {
            let key = "R0UT1NGKEYR0UT1NGKEYR0UT1NGKEY12";
            match event(&alert, key) {
                None => prop_assert_eq!(alert.action, Action::Info),
                Some(body) => {
                    prop_assert_eq!(body["routing_key"].as_str(), Some(key));
                    let dedup = body["dedup_key"].as_str().unwrap_or_default();
                    prop_assert!(!dedup.is_empty() && dedup.chars().count() <= DEDUP_KEY_MAX);
                    if alert.action == Action::Trigger {
                        let summary = body["payload"]["summary"].as_str().unwrap_or_default();
                        prop_assert!(summary.chars().count() <= SUMMARY_MAX);
                        prop_assert!(alert.title.starts_with(summary.trim_end_matches('…')));
                    }
                }
            }
        }
    }
}
