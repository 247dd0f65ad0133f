//! The account's event log (the data behind `DescribeEvents`): what [`crate::events`] records and answers from. A
//! leaf: [`crate::state::State`] owns one, and the events module fills it from the journal.

use std::collections::HashMap;

use time::{Duration, OffsetDateTime};

/// How far back events are kept and may be asked for (API Reference, DescribeEvents: "up to 14 days").
pub const RETENTION: Duration = Duration::days(14);

/// One event.
#[derive(Debug, Clone)]
pub struct Event {
    /// Order of recording (the `Marker`).
    pub seq: u64,
    /// `Date`.
    pub date: OffsetDateTime,
    /// `SourceType`.
    pub source_type: &'static str,
    /// `SourceIdentifier`.
    pub source_id: String,
    /// `Message`.
    pub message: String,
}

/// The account's event log.
#[derive(Debug, Default)]
pub struct EventLog {
    events: Vec<Event>,
    next_seq: u64,
    /// The nodes of groups being deleted (their `Cache cluster deleted` events come when the group is gone).
    pub(crate) deleting: HashMap<String, Vec<String>>,
}

impl EventLog {
    /// Records an event, dated now; events past the retention are dropped.
    pub fn record(&mut self, source_type: &'static str, source_id: &str, message: String) {
        let now = OffsetDateTime::now_utc();
        self.events.retain(|e| e.date >= now - RETENTION);
        self.next_seq += 1;
        self.events.push(Event {
            seq: self.next_seq,
            date: now,
            source_type,
            source_id: source_id.to_string(),
            message,
        });
    }

    /// Every event, oldest first.
    pub fn all(&self) -> &[Event] {
        &self.events
    }
}
