//! Which sinks already accepted which event, so that Lambda's retries of an asynchronous invocation (after one sink
//! failed) do not post to a sink that already took the alert: Slack shows each post, so a repeat is a second message.
//!
//! Choice: the retry skips the sinks that succeeded, remembered per event as tiny marker objects
//! `s3://<DELIVERY_LEDGER_BUCKET>/<prefix><event id>/<alert>/<sink>`, expired by the bucket's lifecycle rule after a
//! day (Terraform). Lambda's retries of one event are sequential (about 1 and 2 minutes after the previous attempt
//! ended; Lambda Developer Guide, "Asynchronous invocation"), so a read-then-write needs no conditional write; S3 avoids
//! a second storage service and SDK in the function. The execution environment also remembers them in memory, which
//! is all there is when no bucket is configured (a retry on another environment may then repeat a Slack post;
//! PagerDuty's `dedup_key` makes its repeat harmless either way).

use std::collections::HashSet;
use std::sync::Mutex;

use async_trait::async_trait;
use backup_core::BackupError;
use backup_core::ports::{ExportStore, ObjectReader};
use backup_core::resources::StoredObject;
use serde_json::Value;

/// Prefix of the marker objects in the ledger bucket.
pub const LEDGER_PREFIX: &str = "notify-ledger/";

/// Remembers delivered `(event, alert, sink)` keys.
#[async_trait]
pub trait Ledger: Send + Sync {
    /// Whether `key` was recorded as delivered. A ledger that cannot be read answers `false` (deliver again: a
    /// duplicate is better than a lost page).
    async fn delivered(&self, key: &str) -> bool;
    /// Records `key` as delivered; a failure is logged, not returned.
    async fn record(&self, key: &str);
}

/// The durable half of a memory-only ledger: keeps nothing.
pub struct NoDurableStore;

#[async_trait]
impl ExportStore for NoDurableStore {
    async fn list(&self, _: &str, _: &str) -> Result<Vec<StoredObject>, BackupError> {
        Ok(Vec::new())
    }
    async fn put_json(&self, _: &str, _: &str, _: String) -> Result<(), BackupError> {
        Ok(())
    }
}

#[async_trait]
impl ObjectReader for NoDurableStore {
    async fn get_object(&self, _: &str, _: &str) -> Result<Option<Vec<u8>>, BackupError> {
        Ok(None)
    }
}

/// The execution environment's memory of delivered keys, in front of an optional durable ledger in S3.
pub struct DeliveryLedger<S> {
    memory: Mutex<HashSet<String>>,
    durable: Option<(S, String)>,
}

impl<S> DeliveryLedger<S> {
    /// Memory only.
    pub fn in_memory() -> Self {
        Self {
            memory: Mutex::new(HashSet::new()),
            durable: None,
        }
    }

    /// Memory, then marker objects in `bucket` (read and written with `store`).
    pub fn with_bucket(store: S, bucket: String) -> Self {
        Self {
            memory: Mutex::new(HashSet::new()),
            durable: Some((store, bucket)),
        }
    }

    fn remembered(&self, key: &str) -> bool {
        self.memory.lock().map(|m| m.contains(key)).unwrap_or(false)
    }
}

#[async_trait]
impl<S: ExportStore + ObjectReader + Send + Sync> Ledger for DeliveryLedger<S> {
    async fn delivered(&self, key: &str) -> bool {
        if self.remembered(key) {
            return true;
        }
        let Some((store, bucket)) = &self.durable else {
            return false;
        };
        match store
            .get_object(bucket, &format!("{LEDGER_PREFIX}{key}"))
            .await
        {
            Ok(found) => found.is_some(),
            Err(e) => {
                tracing::warn!(error = %e, "delivery ledger unreadable; delivering again");
                false
            }
        }
    }

    async fn record(&self, key: &str) {
        if let Ok(mut m) = self.memory.lock() {
            m.insert(key.to_string());
        }
        if let Some((store, bucket)) = &self.durable
            && let Err(e) = store
                .put_json(bucket, &format!("{LEDGER_PREFIX}{key}"), "{}".to_string())
                .await
        {
            tracing::warn!(error = %e, "delivery ledger not written; a retry may repeat this delivery");
        }
    }
}

/// The id Lambda's retries of this event share: EventBridge's `id`, or the SNS records' `MessageId`s joined by `+`;
/// `None` when the event has neither (its deliveries are then not recorded).
pub fn event_id(payload: &Value) -> Option<String> {
    if let Some(id) = payload.get("id").and_then(Value::as_str) {
        return Some(id.to_string());
    }
    let ids: Vec<&str> = payload
        .get("Records")?
        .as_array()?
        .iter()
        .filter_map(|r| r.get("Sns")?.get("MessageId")?.as_str())
        .collect();
    (!ids.is_empty()).then(|| ids.join("+"))
}

/// The ledger key of the event's `alert`-th alert (from 0) at `sink` (`slack`, `pagerduty`):
/// `<event id>/<alert>/<sink>`; `None` without an event id.
pub fn key(event_id: Option<&str>, alert: usize, sink: &str) -> Option<String> {
    event_id.map(|id| format!("{id}/{alert}/{sink}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use backup_core::testing::FakeExportStore;

    #[tokio::test]
    async fn a_recorded_key_is_delivered_in_memory_and_in_the_bucket() {
        let store = FakeExportStore::with_bucket("b");
        let ledger = DeliveryLedger::with_bucket(store.clone(), "b".into());
        assert!(!ledger.delivered("evt/0/slack").await);
        ledger.record("evt/0/slack").await;
        assert!(ledger.delivered("evt/0/slack").await);
        assert!(!ledger.delivered("evt/0/pagerduty").await);
        // Another execution environment (a fresh ledger over the same bucket) sees it too.
        let other = DeliveryLedger::with_bucket(store, "b".into());
        assert!(other.delivered("evt/0/slack").await);
        assert!(!other.delivered("evt/1/slack").await);
    }

    #[test]
    fn retries_of_an_event_share_its_eventbridge_id_or_its_sns_message_ids() {
        let eventbridge = serde_json::json!({"id": "e-1", "detail": {}});
        assert_eq!(event_id(&eventbridge).as_deref(), Some("e-1"));
        let sns = serde_json::json!({"Records": [{"Sns": {"MessageId": "m1"}}, {"Sns": {"MessageId": "m2"}}]});
        assert_eq!(event_id(&sns).as_deref(), Some("m1+m2"));
        assert_eq!(event_id(&serde_json::json!({"Records": []})), None);
        assert_eq!(
            key(Some("m1+m2"), 1, "slack").as_deref(),
            Some("m1+m2/1/slack")
        );
        assert_eq!(key(None, 0, "pagerduty"), None);
    }
}
