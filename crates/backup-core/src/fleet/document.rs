//! The fleet document ([`FleetRun`]) and what it carries: the targets, the skipped caches, the results, the
//! summary, and where a Distributed Map fleet keeps its lists in the bucket.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Most targets of one fleet execution. What bounds it: `Summarize` still returns every target's id in the summary
/// (an id is at most 40 characters: 1,000 ids are ~45 KB of the 256 KiB payload), and `Discover` reads every
/// candidate's tags within its 300 s. Beyond this a fleet must be split (two selectors), and discovery says so
/// rather than back up part of it silently.
pub const MAX_FLEET_TARGETS: usize = 1000;
/// The key prefix of a Distributed Map fleet's lists in the bucket (`fleet-runs/<name>/<execution>/`); the bucket's
/// lifecycle rule expires them with everything else.
pub const FLEET_RUNS_PREFIX: &str = "fleet-runs";
/// Longest `cause` kept per failed target in the summary, characters (the child's alert has the whole cause).
pub const MAX_CAUSE_CHARS: usize = 600;

/// A tag selector: a cache matches when it carries every tag with exactly this value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Selector {
    /// Tag key → value.
    pub tags: BTreeMap<String, String>,
}

impl Selector {
    /// Whether `tags` (a resource's `ListTagsForResource` answer) carries every selector tag.
    pub fn matches(&self, tags: &[(String, String)]) -> bool {
        self.tags
            .iter()
            .all(|(k, v)| tags.iter().any(|(tk, tv)| tk == k && tv == v))
    }

    /// `k=v,k2=v2`, keys in order.
    pub fn label(&self) -> String {
        self.tags
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// One child: the target's id and the backup execution input it gets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetTarget {
    /// `ReplicationGroupId` or `CacheClusterId`, lower-case.
    pub target: String,
    /// The backup execution input (docs/design.md §3).
    pub input: Value,
}

/// A cache the selector matched that cannot be backed up, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    /// Its id.
    pub target: String,
    /// Why (`NotSupported: …`, `status deleting`).
    pub reason: String,
}

/// The outcome of one child execution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FleetResult {
    /// The target.
    pub target: String,
    /// The child execution's status: `SUCCEEDED`, `FAILED`, `TIMED_OUT`, `ABORTED`, or `NOT_STARTED` when no child
    /// ran (the start itself failed).
    pub status: String,
    /// The child execution, when one was started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_arn: Option<String>,
    /// The child's error name (`ExportRejected`, …), for a failed target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The child's cause, at most [`MAX_CAUSE_CHARS`] characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

/// Targets by outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FleetSummary {
    /// Targets whose child execution succeeded (a verified backup).
    pub succeeded: Vec<String>,
    /// Targets whose child execution did not succeed.
    pub failed: Vec<String>,
    /// Matched caches that were not backed up, and so not tried (see `skipped` for why).
    pub skipped: Vec<String>,
    /// The failed targets for which no child execution ran (the start itself failed: permissions, limits), so no
    /// child alerted for them; the fleet execution then fails, and its own alert names them. Absent when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_started: Vec<String>,
}

/// The fleet document. See the module documentation for the JSON shape.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FleetRun {
    /// The fleet's label.
    pub name: String,
    /// The selector, when the fleet was given one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<Selector>,
    /// Child executions at once (the Map's `MaxConcurrencyPath`).
    pub max_concurrency: u32,
    /// One child per target; empty when they are in `targetsObject` (a Distributed Map fleet).
    #[serde(default)]
    pub targets: Vec<FleetTarget>,
    /// How many targets the fleet has (`targets`, or the array in `targetsObject`).
    #[serde(default)]
    pub target_count: usize,
    /// Where the targets are when the fleet runs as a Distributed Map; the fleet state machine picks that Map when
    /// this is present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets_object: Option<TargetsObject>,
    /// The Distributed Map's output (its `ResultPath`): where the Map Run wrote the children's records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub map_run: Option<MapRunOutput>,
    /// Where `Summarize` wrote every target's [`FleetResult`] (a Distributed Map fleet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results_object: Option<ObjectRef>,
    /// Matched but not backed up.
    #[serde(default)]
    pub skipped: Vec<Skipped>,
    /// One per target, written by the Map (raw: `{target, status, executionArn}` or `{target, failure}`), then
    /// normalised to [`FleetResult`] by `Summarize`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results: Option<Vec<Value>>,
    /// Written by `Summarize`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<FleetSummary>,
}

/// An S3 object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef {
    /// Bucket name.
    pub bucket: String,
    /// Key.
    pub key: String,
}

/// A Distributed Map fleet's lists: the Map's `ItemReader` reads `key`, its `ResultWriter` writes under
/// `resultsPrefix`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetsObject {
    /// The bucket (the module's, `BACKUP_BUCKET`).
    pub bucket: String,
    /// `fleet-runs/<name>/<execution>/targets.json`: a JSON array of [`FleetTarget`].
    pub key: String,
    /// `fleet-runs/<name>/<execution>`: the Map Run writes `<prefix>/<map run id>/manifest.json` and its result
    /// files there; `Summarize` writes `<prefix>/results.json`.
    pub results_prefix: String,
}

impl TargetsObject {
    /// The lists of execution `execution` of fleet `name` in `bucket`.
    pub fn new(bucket: &str, name: &str, execution: &str) -> Self {
        let prefix = format!("{FLEET_RUNS_PREFIX}/{name}/{execution}");
        Self {
            bucket: bucket.to_string(),
            key: format!("{prefix}/targets.json"),
            results_prefix: prefix,
        }
    }

    /// Where `Summarize` writes every target's result.
    pub fn results_key(&self) -> String {
        format!("{}/results.json", self.results_prefix)
    }
}

/// A Distributed Map's output when it exports its results (AWS Step Functions Developer Guide, "ResultWriter
/// (Map)"): `{"MapRunArn": …, "ResultWriterDetails": {"Bucket": …, "Key": "<prefix>/<id>/manifest.json"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MapRunOutput {
    /// The Map Run.
    pub map_run_arn: String,
    /// Its `manifest.json`.
    pub result_writer_details: MapRunManifest,
}

/// Where a Map Run's `manifest.json` is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MapRunManifest {
    /// Bucket name.
    pub bucket: String,
    /// Key of `manifest.json`.
    pub key: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn a_selector_label_is_its_tags_in_key_order(tags in proptest::collection::btree_map(".*", ".*", 0..5)) {
            let label = Selector { tags: tags.clone() }.label();
            let expected: Vec<String> = tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
            prop_assert_eq!(label, expected.join(","));
        }
    }
}
