//! ElastiCache's event log and `DescribeEvents` (Amazon ElastiCache API Reference, DescribeEvents; shapes
//! `DescribeEventsMessage` / `EventsMessage` of botocore's `elasticache/2015-02-02/service-2.json`).
//!
//! Events are derived from the emulator's journal as things happen ([`observe`], called by
//! [`State::log`](crate::state::State::log)), so the code that snapshots, exports, creates and deletes records them
//! without knowing about this module. The journal entries read, and what each records:
//!
//! | journal entry | event(s) | source | message: where AWS documents it |
//! |---|---|---|---|
//! | `SnapshotFinished` of a node snapshot | snapshot succeeded / failed | `cache-cluster` the node | [`snapshot_of_node`] (documented) |
//! | `SnapshotFinished` of a group snapshot | snapshot succeeded / failed, per node snapshotted | `cache-cluster` each node | [`snapshot_of_group`] (succeeded: documented; failed: derived) |
//! | `ExportFinished` | export succeeded / failed | the snapshot's source: `cache-cluster` node (node snapshot) or `replication-group` (group snapshot) | [`export_outcome`]: **UNDOCUMENTED**, the emulator's text |
//! | `ReplicationGroupAvailable` | cache cluster created (each node), restore from snapshot succeeded (each node group of a seeded group, on its primary), replication group created | see [`created_events`] | documented / third-party |
//! | `DeleteReplicationGroup`, then `ReplicationGroupDeleted` | cache cluster deleted (each node), replication group deleted | `cache-cluster`, `replication-group` | documented / **UNDOCUMENTED** |
//! | `ServerlessSnapshotFinished` | snapshot succeeded / failed | `serverless-cache-snapshot` the snapshot | [`serverless_snapshot`]: **UNDOCUMENTED** |
//! | `ServerlessExportFinished` | export succeeded / failed | `serverless-cache-snapshot` the snapshot | [`serverless_export`]: **UNDOCUMENTED** |
//! | `ServerlessCacheAvailable`, `ServerlessCacheCreateFailed`, `ServerlessCacheDeleted` | cache created / creation failed / deleted | `serverless-cache` | [`serverless_cache_event`]: **UNDOCUMENTED** |
//!
//! Sources of the texts:
//! - "Snapshot succeeded for snapshot with ID '%s' of cache cluster with ID '%s'", "Snapshot failed for snapshot with
//!   ID '%s' of cache cluster with ID '%s'" (`ElastiCache:SnapshotComplete`, `ElastiCache:SnapshotFailed`), "Cache
//!   cluster created" (`CacheClusterProvisioningComplete`), "Cache cluster deleted" (`DeleteCacheClusterComplete`):
//!   ElastiCache User Guide, "Event Notifications and Amazon SNS" (ElastiCacheSNS; repo
//!   `awsdocs/amazon-elasticache-docs`, `doc_source/redis/ElastiCacheSNS.md`).
//! - "Snapshot succeeded for snapshot with ID 'cr-bkup' of replication group with ID 'clustered-redis'", recorded on
//!   the member node (`SourceType` `cache-cluster`, `SourceIdentifier` `clustered-redis-0001-001`): botocore
//!   `elasticache/2015-02-02/examples-1.json`, DescribeEvents (also the API Reference's example). So a group
//!   snapshot's events are recorded on the nodes snapshotted, not on the group.
//! - "Restore from snapshot succeeded for node group 0001", "Replication group created": a public restore guide's
//!   DescribeEvents output (project reference `seeds/002`, aws-facts §2.1); not on an AWS page.
//!
//! `DescribeEvents` answers newest first (as the API Reference's example), by default the last hour, at most 14 days
//! back ("By default, only the events occurring within the last hour are returned; however, you can retrieve up to 14
//! days' worth of events if necessary."), `MaxRecords` 20–100 (default 100), with an opaque `Marker`.

use serde_json::{Value, json};
use time::format_description::well_known::{Iso8601, Rfc3339};
use time::{Duration, OffsetDateTime};

use crate::app::App;
use crate::event_log::{Event, RETENTION};
use crate::params::{Params, param};
use crate::state::{ApiError, State};
use crate::xml;

/// `SourceType` values (botocore `elasticache/2015-02-02`, shape `SourceType`).
pub const SOURCE_TYPES: &[&str] = &[
    "cache-cluster",
    "cache-parameter-group",
    "cache-security-group",
    "cache-subnet-group",
    "replication-group",
    "serverless-cache",
    "serverless-cache-snapshot",
    "user",
    "user-group",
];

/// `cache-cluster`.
pub const CACHE_CLUSTER: &str = "cache-cluster";
/// `replication-group`.
pub const REPLICATION_GROUP: &str = "replication-group";
/// `serverless-cache`.
pub const SERVERLESS_CACHE: &str = "serverless-cache";
/// `serverless-cache-snapshot`.
pub const SERVERLESS_CACHE_SNAPSHOT: &str = "serverless-cache-snapshot";

/// The default window (API Reference, DescribeEvents: "only the events occurring within the last hour").
const DEFAULT_WINDOW: Duration = Duration::hours(1);

/// Text of a node snapshot's outcome (`ElastiCache:SnapshotComplete` / `SnapshotFailed`, User Guide).
pub fn snapshot_of_node(succeeded: bool, snapshot: &str, cache_cluster_id: &str) -> String {
    format!(
        "Snapshot {} for snapshot with ID '{snapshot}' of cache cluster with ID '{cache_cluster_id}'",
        outcome(succeeded)
    )
}

/// Text of a group snapshot's outcome: "succeeded" is botocore's DescribeEvents example; "failed" is derived from it
/// and the documented node text.
pub fn snapshot_of_group(succeeded: bool, snapshot: &str, replication_group_id: &str) -> String {
    format!(
        "Snapshot {} for snapshot with ID '{snapshot}' of replication group with ID '{replication_group_id}'",
        outcome(succeeded)
    )
}

/// Text of an export's outcome (CopySnapshot with `TargetBucket`).
///
/// **UNDOCUMENTED**: AWS documents no event text for an export (node-based clusters); the text is the emulator's
/// choice. It names the source snapshot, the `TargetSnapshotName` and the bucket, and a failure says "failed" (what
/// CheckExport looks for, with the `TargetSnapshotName`).
pub fn export_outcome(error: Option<&str>, snapshot: &str, target: &str, bucket: &str) -> String {
    match error {
        None => format!(
            "Export succeeded for snapshot with ID '{snapshot}' to S3 bucket '{bucket}' as '{target}'"
        ),
        Some(reason) => format!(
            "Export failed for snapshot with ID '{snapshot}' to S3 bucket '{bucket}' as '{target}': {reason}"
        ),
    }
}

/// Text of a serverless snapshot's outcome. **UNDOCUMENTED**: AWS documents EventBridge detail-types for serverless
/// snapshots ("Snapshot Created", "Snapshot Creation Failed"; EventBridge events reference, ElastiCache) but no
/// DescribeEvents text; the emulator's follows the documented node text ([`snapshot_of_node`]) with the serverless
/// cache in place of the cluster.
pub fn serverless_snapshot(succeeded: bool, snapshot: &str, cache: &str) -> String {
    format!(
        "Snapshot {} for snapshot with ID '{snapshot}' of serverless cache with ID '{cache}'",
        outcome(succeeded)
    )
}

/// Text of a serverless snapshot's export (ExportServerlessCacheSnapshot). **UNDOCUMENTED** (EventBridge documents
/// only the detail-type "Snapshot Export Failed"): names the snapshot, the bucket and the keys; a failure says
/// "failed" and why.
pub fn serverless_export(
    error: Option<&str>,
    snapshot: &str,
    bucket: &str,
    keys: &[String],
) -> String {
    let keys = keys.join(", ");
    match error {
        None => format!(
            "Export succeeded for serverless cache snapshot with ID '{snapshot}' to S3 bucket '{bucket}' as '{keys}'"
        ),
        Some(reason) => format!(
            "Export failed for serverless cache snapshot with ID '{snapshot}' to S3 bucket '{bucket}' as '{keys}': {reason}"
        ),
    }
}

/// Text of a serverless cache's lifecycle event. **UNDOCUMENTED**: the EventBridge detail-types "Cache Created",
/// "Cache Creation Failed", "Cache Deleted" (EventBridge events reference, ElastiCache), as sentences.
pub fn serverless_cache_event(journal_event: &str, error: Option<&str>) -> Option<String> {
    match journal_event {
        "ServerlessCacheAvailable" => Some("Serverless cache created".into()),
        "ServerlessCacheCreateFailed" => Some(format!(
            "Serverless cache creation failed: {}",
            error.unwrap_or("unknown reason")
        )),
        "ServerlessCacheDeleted" => Some("Serverless cache deleted".into()),
        _ => None,
    }
}

fn outcome(succeeded: bool) -> &'static str {
    if succeeded { "succeeded" } else { "failed" }
}

/// Records the events a journal entry stands for (see the module table).
pub fn observe(st: &mut State, journal_event: &str, details: &Value) {
    let text = |k: &str| details.get(k).and_then(Value::as_str).map(str::to_string);
    let mut new: Vec<(&'static str, String, String)> = Vec::new();
    match journal_event {
        "SnapshotFinished" => {
            let (Some(name), Some(status)) = (text("snapshotName"), text("status")) else {
                return;
            };
            let Some(s) = st.snapshots.get(&name) else {
                return;
            };
            let ok = status == "available";
            match (&s.cache_cluster_id, &s.replication_group_id) {
                (Some(cc), _) => {
                    new.push((CACHE_CLUSTER, cc.clone(), snapshot_of_node(ok, &name, cc)))
                }
                (None, Some(rg)) => {
                    for n in &s.nodes {
                        new.push((
                            CACHE_CLUSTER,
                            n.cache_cluster_id.clone(),
                            snapshot_of_group(ok, &name, rg),
                        ));
                    }
                }
                (None, None) => {}
            }
        }
        "ExportFinished" => {
            let (Some(name), Some(bucket)) = (text("snapshotName"), text("bucket")) else {
                return;
            };
            let target = text("target").unwrap_or_default();
            let error = text("error");
            let Some(s) = st.snapshots.get(&name) else {
                return;
            };
            // The contract CheckExport relies on: a node snapshot's export on the node, a group snapshot's on the
            // group (UNDOCUMENTED where AWS records it).
            let source = match (&s.cache_cluster_id, &s.replication_group_id) {
                (Some(cc), _) => (CACHE_CLUSTER, cc.clone()),
                (None, Some(rg)) => (REPLICATION_GROUP, rg.clone()),
                (None, None) => return,
            };
            let message = export_outcome(error.as_deref(), &name, &target, &bucket);
            new.push((source.0, source.1, message));
        }
        "ReplicationGroupAvailable" => {
            let Some(id) = text("replicationGroupId") else {
                return;
            };
            new = created_events(st, &id);
        }
        "DeleteReplicationGroup" => {
            let Some(id) = text("replicationGroupId") else {
                return;
            };
            if let Some(g) = st.groups.get(&id) {
                let nodes = g
                    .shards
                    .iter()
                    .flat_map(|s| &s.nodes)
                    .map(|n| n.cache_cluster_id.clone())
                    .collect();
                st.events.deleting.insert(id, nodes);
            }
        }
        "ReplicationGroupDeleted" => {
            let Some(id) = text("replicationGroupId") else {
                return;
            };
            for node in st.events.deleting.remove(&id).unwrap_or_default() {
                // `ElastiCache:DeleteCacheClusterComplete` (User Guide, ElastiCacheSNS).
                new.push((CACHE_CLUSTER, node, "Cache cluster deleted".into()));
            }
            // UNDOCUMENTED: the emulator's text, by analogy with "Cache cluster deleted".
            new.push((REPLICATION_GROUP, id, "Replication group deleted".into()));
        }
        "ServerlessSnapshotFinished" => {
            let (Some(name), Some(cache), Some(status)) = (
                text("snapshotName"),
                text("serverlessCacheName"),
                text("status"),
            ) else {
                return;
            };
            let message = serverless_snapshot(status == "available", &name, &cache);
            new.push((SERVERLESS_CACHE_SNAPSHOT, name, message));
        }
        "ServerlessExportFinished" => {
            let (Some(name), Some(bucket)) = (text("snapshotName"), text("bucket")) else {
                return;
            };
            let keys: Vec<String> = details
                .get("keys")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|k| k.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            let message = serverless_export(text("error").as_deref(), &name, &bucket, &keys);
            new.push((SERVERLESS_CACHE_SNAPSHOT, name, message));
        }
        "ServerlessCacheAvailable" | "ServerlessCacheCreateFailed" | "ServerlessCacheDeleted" => {
            let Some(name) = text("serverlessCacheName") else {
                return;
            };
            if let Some(message) = serverless_cache_event(journal_event, text("error").as_deref()) {
                new.push((SERVERLESS_CACHE, name, message));
            }
        }
        _ => {}
    }
    for (source_type, id, message) in new {
        st.events.record(source_type, &id, message);
    }
}

/// The events of a group that became `available` after CreateReplicationGroup: "Cache cluster created" on each
/// node (`ElastiCache:CacheClusterProvisioningComplete`, User Guide), for a group seeded from S3 objects or a
/// snapshot "Restore from snapshot succeeded for node group <id>" on each node group's primary (seen on a
/// `cache-cluster` source in a public restore guide, project reference `seeds/002`; not on an AWS page), then
/// "Replication group created" on the group (same guide).
fn created_events(st: &State, id: &str) -> Vec<(&'static str, String, String)> {
    let Some(g) = st.groups.get(id) else {
        return Vec::new();
    };
    let seeded = st
        .journal
        .iter()
        .rev()
        .find(|e| e["event"] == "CreateReplicationGroup" && e["replicationGroupId"] == id)
        .is_some_and(|e| {
            e["snapshotArns"].as_array().is_some_and(|a| !a.is_empty())
                || e["snapshotName"].as_str().is_some()
        });
    let mut out = Vec::new();
    for n in g.shards.iter().flat_map(|s| &s.nodes) {
        out.push((
            CACHE_CLUSTER,
            n.cache_cluster_id.clone(),
            "Cache cluster created".to_string(),
        ));
    }
    if seeded {
        for shard in &g.shards {
            if let Some(primary) = shard
                .nodes
                .iter()
                .find(|n| n.role == "primary")
                .or(shard.nodes.first())
            {
                out.push((
                    CACHE_CLUSTER,
                    primary.cache_cluster_id.clone(),
                    format!(
                        "Restore from snapshot succeeded for node group {}",
                        shard.node_group_id
                    ),
                ));
            }
        }
    }
    out.push((
        REPLICATION_GROUP,
        id.to_string(),
        "Replication group created".to_string(),
    ));
    out
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new("InvalidParameterValue", message)
}

fn time_param(p: &Params, name: &str) -> Result<Option<OffsetDateTime>, ApiError> {
    param(p, name)
        .map(|v| {
            OffsetDateTime::parse(v, &Rfc3339)
                .or_else(|_| OffsetDateTime::parse(v, &Iso8601::DEFAULT))
                .map_err(|_| {
                    invalid(format!(
                        "The parameter {name} must be a timestamp in ISO 8601 format."
                    ))
                })
        })
        .transpose()
}

/// The `[start, end]` window of a DescribeEvents request, as `StartTime`, `EndTime` and `Duration` (minutes) give
/// it: by default the last hour; `Duration` counts from `StartTime` forward or from `EndTime` (or now) back; never
/// further back than 14 days.
///
/// # Errors
/// `InvalidParameterValue` for a negative or non-integer `Duration` or a timestamp that does not parse;
/// `InvalidParameterCombination` for a `StartTime` after the `EndTime` given, or all three given (which of them to obey is
/// ambiguous; **UNDOCUMENTED** what AWS answers, the refusal is the emulator's choice).
pub fn window(
    p: &Params,
    now: OffsetDateTime,
) -> Result<(OffsetDateTime, OffsetDateTime), ApiError> {
    let start = time_param(p, "StartTime")?;
    let end = time_param(p, "EndTime")?;
    let duration = param(p, "Duration")
        .map(|v| {
            v.parse::<i64>()
                .ok()
                // Beyond the 14 days kept, a longer window reads the same events: capped, so no date overflows.
                .filter(|m| *m >= 0)
                .map(|m| Duration::minutes(m.min(RETENTION.whole_minutes() + 1)))
                .ok_or_else(|| invalid("The parameter Duration must be a non-negative integer."))
        })
        .transpose()?;
    let (from, to) = match (start, end, duration) {
        (Some(_), Some(_), Some(_)) => {
            return Err(ApiError::new(
                "InvalidParameterCombination",
                "Specify at most two of StartTime, EndTime and Duration.",
            ));
        }
        (Some(s), Some(e), None) => (s, e),
        (Some(s), None, d) => (s, d.map_or(now, |d| s.checked_add(d).unwrap_or(now))),
        (None, Some(e), d) => (e.checked_sub(d.unwrap_or(DEFAULT_WINDOW)).unwrap_or(e), e),
        (None, None, d) => (now - d.unwrap_or(DEFAULT_WINDOW), now),
    };
    if start.is_some() && end.is_some() && from > to {
        return Err(ApiError::new(
            "InvalidParameterCombination",
            "The StartTime must be before the EndTime.",
        ));
    }
    // A StartTime in the future (and no EndTime) is an empty window, not an error.
    Ok((from.max(now - RETENTION), to))
}

/// `DescribeEvents`.
///
/// # Errors
/// `InvalidParameterValue` (`SourceType` not one of the model's values, `MaxRecords` outside 20–100, a bad `Marker`,
/// `Duration` or timestamp) and `InvalidParameterCombination` (see [`window`]): the two errors the model lists.
pub fn describe_events(app: &App, p: &Params, rid: &str) -> Result<String, ApiError> {
    let source_type = param(p, "SourceType");
    if let Some(t) = source_type
        && !SOURCE_TYPES.contains(&t)
    {
        return Err(invalid(format!(
            "Invalid value for SourceType: {t}. Valid values: {}.",
            SOURCE_TYPES.join(", ")
        )));
    }
    let source_id = param(p, "SourceIdentifier").map(str::to_ascii_lowercase);
    let size = match param(p, "MaxRecords") {
        None => 100,
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (20..=100).contains(n))
            .ok_or_else(|| invalid("The parameter MaxRecords must be between 20 and 100."))?,
    };
    let marker = param(p, "Marker")
        .map(|m| m.parse::<u64>().map_err(|_| invalid("Invalid Marker.")))
        .transpose()?;
    let (from, to) = window(p, OffsetDateTime::now_utc())?;
    let st = app.lock();
    let mut selected: Vec<&Event> = st
        .events
        .all()
        .iter()
        .rev()
        .filter(|e| marker.is_none_or(|m| e.seq <= m))
        .filter(|e| e.date >= from && e.date <= to)
        .filter(|e| source_type.is_none_or(|t| e.source_type == t))
        .filter(|e| source_id.as_ref().is_none_or(|id| &e.source_id == id))
        .collect();
    let next = (selected.len() > size).then(|| selected[size].seq.to_string());
    selected.truncate(size);
    Ok(xml::paged(
        "DescribeEvents",
        rid,
        next.as_deref(),
        "Events",
        &selected,
        |x, e| {
            x.open("Event")
                .text("SourceIdentifier", &e.source_id)
                .text("SourceType", e.source_type)
                .text("Message", &e.message)
                .time("Date", e.date)
                .close("Event");
        },
    ))
}

impl State {
    /// Appends to the journal.
    pub fn log(&mut self, event: &str, details: Value) {
        observe(self, event, &details);
        let mut entry = json!({ "at": crate::state::now_string(), "event": event });
        if let (Some(e), Value::Object(d)) = (entry.as_object_mut(), details) {
            e.extend(d);
        }
        self.journal.push(entry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_window_defaults_to_the_last_hour_and_reaches_back_14_days_at_most() {
        let now = OffsetDateTime::parse("2026-12-03T12:00:00Z", &Rfc3339).unwrap();
        assert_eq!(
            window(&params(&[]), now).unwrap(),
            (now - Duration::hours(1), now)
        );
        assert_eq!(
            window(&params(&[("Duration", "30")]), now).unwrap(),
            (now - Duration::minutes(30), now)
        );
        let start = "2026-12-03T11:00:00Z";
        let s = OffsetDateTime::parse(start, &Rfc3339).unwrap();
        assert_eq!(
            window(&params(&[("StartTime", start), ("Duration", "10")]), now).unwrap(),
            (s, s + Duration::minutes(10))
        );
        assert_eq!(
            window(&params(&[("StartTime", "2026-12-03T11:00:00.125Z")]), now)
                .unwrap()
                .1,
            now
        );
        assert_eq!(
            window(&params(&[("StartTime", "2026-10-01T00:00:00Z")]), now)
                .unwrap()
                .0,
            now - Duration::days(14)
        );
        let code = |p: &[(&str, &str)]| window(&params(p), now).unwrap_err().code;
        assert_eq!(code(&[("Duration", "-1")]), "InvalidParameterValue");
        assert_eq!(code(&[("StartTime", "yesterday")]), "InvalidParameterValue");
        assert_eq!(
            code(&[("StartTime", start), ("EndTime", "2026-12-03T10:00:00Z")]),
            "InvalidParameterCombination"
        );
        assert_eq!(
            code(&[
                ("StartTime", start),
                ("EndTime", "2026-12-03T11:30:00Z"),
                ("Duration", "5")
            ]),
            "InvalidParameterCombination"
        );
    }

    #[test]
    fn texts_name_what_checks_look_for() {
        assert_eq!(
            snapshot_of_node(true, "s", "c-001"),
            "Snapshot succeeded for snapshot with ID 's' of cache cluster with ID 'c-001'"
        );
        assert_eq!(
            snapshot_of_group(true, "cr-bkup", "clustered-redis"),
            "Snapshot succeeded for snapshot with ID 'cr-bkup' of replication group with ID 'clustered-redis'"
        );
        let failed = export_outcome(Some("Access Denied"), "src", "Target-X", "bkt");
        for part in ["failed", "'src'", "'Target-X'", "'bkt'", "Access Denied"] {
            assert!(failed.contains(part), "{failed}");
        }
        assert!(!export_outcome(None, "src", "t", "b").contains("failed"));
    }
}
