//! Fleet runs: one execution of `terraform/fleet.asl.json` backs up many targets, each by a child execution of the
//! backup state machine (`states:startExecution.sync:2`), at most `maxConcurrency` at once, one failure isolated to
//! its own child (which alerts for its own target).
//!
//! Execution input ([`FleetInput`]; every other field is refused by name):
//!
//! | field | type | rule |
//! |---|---|---|
//! | `selector` | `{"tags": {key: value, …}}` | exactly one of this and `targets`; every tag must match exactly (keys and values are case-sensitive, as in ElastiCache); 1–10 tags |
//! | `targets` | `[{"replicationGroupId": …} \| {"cacheClusterId": …}]` | 1–[`MAX_FLEET_TARGETS`] entries, each as in a single backup, no target twice |
//! | `maxConcurrency` | integer | 1–[`MAX_MAX_CONCURRENCY`] child executions at once; default [`DEFAULT_MAX_CONCURRENCY`] |
//! | `name` | string | names the fleet in its alert (`fleet/<name>`) and summary: 1–64 of `[A-Za-z0-9._-]`; default the selector's tags (`backup=daily`) or `targets` |
//! | `bucket`, `snapshotTimeoutSeconds`, `exportTimeoutSeconds`, `keepSourceSnapshot` | | as in a single backup ([`crate::input`]); passed to every child |
//!
//! The fleet document ([`FleetRun`]) flows through the fleet state machine: `Discover` writes it, the `Backups` Map
//! adds `results` (one per target, in target order), `Summarize` adds `summary`:
//!
//! ```json
//! { "name": "backup=daily", "selector": {"tags": {"backup": "daily"}}, "maxConcurrency": 10,
//!   "targets": [ {"target": "orders", "input": {"replicationGroupId": "orders", "bucket": "acme-cache-backups"}} ],
//!   "skipped": [ {"target": "sessions-memcached", "reason": "NotSupported: engine memcached has no snapshots"} ],
//!   "results": [ {"target": "orders", "status": "SUCCEEDED", "executionArn": "arn:aws:states:…"} ],
//!   "summary": { "succeeded": ["orders"], "failed": [], "skipped": ["sessions-memcached"] } }
//!   // + "notStarted": [...] when a child could not even be started: the fleet then fails (TargetsNotStarted)
//! ```
//! A failed result carries `error` and `cause` (the child execution's, from the `States.TaskFailed` cause of the
//! `startExecution.sync:2` Task; AWS Step Functions Developer Guide, "Run a Job (.sync)").
//!
//! **Fleets beyond an inline Map.** With more than `Config::fleet_inline_max_targets` targets (at most
//! [`MAX_INLINE_TARGETS`], what keeps the document within Step Functions' 256 KiB payload), `Discover` writes the
//! targets to the bucket ([`TargetsObject`]: `fleet-runs/<name>/<execution>/targets.json`, a JSON array of
//! [`FleetTarget`]) and the document carries `targetsObject` and `targetCount` instead of `targets`. The fleet state
//! machine then runs the same child per target in a Distributed Map: `ItemReader` reads that array, `ResultWriter`
//! writes the child workflows' records under the results prefix, and the Map's output, `mapRun`
//! (`{"MapRunArn", "ResultWriterDetails": {"Bucket", "Key"}}`, the Key that of the Map Run's `manifest.json`), is
//! what `Summarize` reads ([`map_run_result_files`], [`raw_result_of_map_run_entry`]). `Summarize` writes every
//! target's [`FleetResult`] to `results.json` beside the targets (`resultsObject`) and returns the summary only.
//! Up to [`MAX_FLEET_TARGETS`] targets per execution.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::Config;
use crate::backup::input::{self, OneOf, parse_typed};
use crate::error::BackupError;
use crate::resources::{CacheClusterInfo, ReplicationGroupInfo};

/// Child executions at once when the input gives no `maxConcurrency`.
pub const DEFAULT_MAX_CONCURRENCY: u32 = 10;
/// Most child executions at once: an inline Map runs at most 40 iterations in parallel (AWS Step Functions
/// Developer Guide, "Map state processing modes").
pub const MAX_MAX_CONCURRENCY: u32 = 40;
/// Most targets an inline Map carries (defined with the configuration that bounds `FLEET_INLINE_MAX_TARGETS`).
pub use crate::config::MAX_INLINE_TARGETS;
/// Most targets of one fleet execution. What bounds it: `Summarize` still returns every target's id in the summary
/// (an id is at most 40 characters: 1,000 ids are ~45 KB of the 256 KiB payload), and `Discover` reads every
/// candidate's tags within its 300 s. Beyond this a fleet must be split (two selectors), and discovery says so
/// rather than back up part of it silently.
pub const MAX_FLEET_TARGETS: usize = 1000;
/// The key prefix of a Distributed Map fleet's lists in the bucket (`fleet-runs/<name>/<execution>/`); the bucket's
/// lifecycle rule expires them with everything else.
pub const FLEET_RUNS_PREFIX: &str = "fleet-runs";
/// Most tags in a selector.
pub const MAX_SELECTOR_TAGS: usize = 10;
/// Longest `cause` kept per failed target in the summary, characters (the child's alert has the whole cause).
pub const MAX_CAUSE_CHARS: usize = 600;

/// The fleet execution input, as a schedule or a person gives it (camelCase JSON; `null` counts as absent).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FleetInput {
    /// Label of the fleet (alerts, summary).
    pub name: Option<String>,
    /// Which caches: by ElastiCache tags.
    pub selector: Option<Selector>,
    /// Which caches: an explicit list.
    pub targets: Option<Vec<Value>>,
    /// Child executions at once.
    pub max_concurrency: Option<u64>,
    /// Export bucket of every child.
    pub bucket: Option<String>,
    /// Snapshot deadline of every child, seconds.
    pub snapshot_timeout_seconds: Option<u64>,
    /// Export deadline of every child, seconds.
    pub export_timeout_seconds: Option<u64>,
    /// Keep each source snapshot after a verified export.
    pub keep_source_snapshot: Option<bool>,
}

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

/// How a fleet names its targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Which {
    /// Every replication group and standalone cluster whose tags match.
    Selector(Selector),
    /// These child inputs, in this order.
    Targets(Vec<FleetTarget>),
}

/// A validated fleet request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetRequest {
    /// The fleet's label.
    pub name: String,
    /// Which targets.
    pub which: Which,
    /// Child executions at once.
    pub max_concurrency: u32,
    /// The options every child gets (only those the input gave: the backup fills its own defaults).
    pub options: Map<String, Value>,
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

/// The result files a Map Run's `manifest.json` lists, every status (`SUCCEEDED`, `FAILED`, `PENDING`), as
/// (bucket, key): `{"DestinationBucket": …, "ResultFiles": {"SUCCEEDED": [{"Key": …, "Size": …}], …}}` (AWS Step
/// Functions Developer Guide, "ResultWriter (Map)").
///
/// # Errors
/// [`BackupError::AwsRejected`] when the manifest is not of that shape.
pub fn map_run_result_files(manifest: &Value) -> Result<Vec<(String, String)>, BackupError> {
    let bad = |why: &str| BackupError::AwsRejected {
        message: format!("the Map Run manifest {why}"),
        source: None,
    };
    let bucket = manifest
        .get("DestinationBucket")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("names no DestinationBucket"))?;
    let files = manifest
        .get("ResultFiles")
        .and_then(Value::as_object)
        .ok_or_else(|| bad("has no ResultFiles"))?;
    let mut out = Vec::new();
    for (status, list) in files {
        for f in list
            .as_array()
            .ok_or_else(|| bad("lists ResultFiles that are not arrays"))?
        {
            let key = f
                .get("Key")
                .and_then(Value::as_str)
                .ok_or_else(|| bad(&format!("has a {status} result file without a Key")))?;
            out.push((bucket.to_string(), key.to_string()));
        }
    }
    Ok(out)
}

/// One child workflow execution's record in a Map Run result file (`{"Status", "Input", "Output", "Error",
/// "Cause", "ExecutionArn", …}`, `Input` and `Output` as JSON strings) as the raw Map result [`result_of`] reads:
/// a succeeded child workflow's `Output` is the item's own result (`TargetSucceeded` / `TargetFailed`); any other
/// (it failed, was aborted, timed out, or is still pending) is a failure of its target (`Input`'s `target`) with no
/// backup execution known to have alerted, so it counts as not started and the fleet pages for it.
pub fn raw_result_of_map_run_entry(entry: &Value) -> Value {
    let text = |k: &str| entry.get(k).and_then(Value::as_str).unwrap_or_default();
    let parsed = |k: &str| serde_json::from_str::<Value>(text(k)).ok();
    if text("Status") == "SUCCEEDED"
        && let Some(out) = parsed("Output").filter(|o| o.get("target").is_some())
    {
        return out;
    }
    let target = parsed("Input")
        .and_then(|i| i.get("target").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_else(|| "(unknown)".into());
    let status = if text("Status").is_empty() {
        "UNKNOWN"
    } else {
        text("Status")
    };
    json!({"target": target, "failure": {
        "Error": if text("Error").is_empty() { "States.Unknown" } else { text("Error") },
        "Cause": format!("the Map Run's child workflow {} ended {status}: {}", text("ExecutionArn"), text("Cause")),
    }})
}

/// The rule of a fleet field, for a value of the wrong type.
fn rule_of(field: &str) -> String {
    match field {
        "selector" => "must be an object {\"tags\": {\"key\": \"value\"}}".into(),
        "selector.tags" => "must map tag keys to string values".into(),
        "targets" => {
            "must be a list of {\"replicationGroupId\": …} or {\"cacheClusterId\": …} objects"
                .into()
        }
        "maxConcurrency" => concurrency_rule(),
        "name" => name_rule().into(),
        other => input::rule_of(other),
    }
}

fn concurrency_rule() -> String {
    format!("must be a whole number from 1 to {MAX_MAX_CONCURRENCY}")
}

fn name_rule() -> &'static str {
    "must be 1-64 letters, digits, `.`, `_` or `-`"
}

/// Whether an execution input asks for a fleet (it has `selector` or `targets`) rather than one target.
pub fn is_fleet_input(input: &Value) -> bool {
    input.get("selector").is_some() || input.get("targets").is_some()
}

/// Validates a fleet input against the table in the module doc, before any AWS call.
///
/// # Errors
/// [`BackupError::InvalidInput`] naming the first field at fault (`targets[2].replicationGroupId`) and its rule.
pub fn validate(input: &Value, config: &Config) -> Result<FleetRequest, BackupError> {
    if !input.is_object() {
        return Err(BackupError::invalid_input(
            "(input)",
            "must be a JSON object",
        ));
    }
    let fleet: FleetInput = parse_typed(input, rule_of)?;

    // The options every child gets, validated as a single backup validates them (a stand-in target).
    let mut options = Map::new();
    for (k, v) in [
        ("bucket", fleet.bucket.clone().map(Value::from)),
        (
            "snapshotTimeoutSeconds",
            fleet.snapshot_timeout_seconds.map(Value::from),
        ),
        (
            "exportTimeoutSeconds",
            fleet.export_timeout_seconds.map(Value::from),
        ),
        (
            "keepSourceSnapshot",
            fleet.keep_source_snapshot.map(Value::from),
        ),
    ] {
        if let Some(v) = v {
            options.insert(k.into(), v);
        }
    }
    let mut probe = options.clone();
    probe.insert("replicationGroupId".into(), json!("fleet"));
    input::validate(&Value::Object(probe), config)?;

    let max_concurrency = match fleet.max_concurrency {
        None => DEFAULT_MAX_CONCURRENCY,
        Some(n) if (1..=u64::from(MAX_MAX_CONCURRENCY)).contains(&n) => n as u32,
        Some(_) => {
            return Err(BackupError::invalid_input(
                "maxConcurrency",
                concurrency_rule(),
            ));
        }
    };

    let which = match input::exactly_one(fleet.selector, fleet.targets, "selector", "targets")? {
        OneOf::First(selector) => {
            check_selector(&selector)?;
            Which::Selector(selector)
        }
        OneOf::Second(targets) => Which::Targets(explicit_targets(&targets, &options, config)?),
    };

    let name = match fleet.name.map(|n| n.trim().to_string()) {
        Some(n) => {
            if n.is_empty()
                || n.len() > 64
                || !n
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
            {
                return Err(BackupError::invalid_input("name", name_rule()));
            }
            n
        }
        None => match &which {
            Which::Selector(s) => s.label(),
            Which::Targets(_) => "targets".into(),
        },
    };
    Ok(FleetRequest {
        name,
        which,
        max_concurrency,
        options,
    })
}

/// ElastiCache tag limits (Amazon ElastiCache User Guide, "Tagging your ElastiCache resources"): key 1–128
/// characters, value 0–256.
fn check_selector(selector: &Selector) -> Result<(), BackupError> {
    if selector.tags.is_empty() || selector.tags.len() > MAX_SELECTOR_TAGS {
        return Err(BackupError::invalid_input(
            "selector.tags",
            format!("must name 1-{MAX_SELECTOR_TAGS} tags"),
        ));
    }
    for (k, v) in &selector.tags {
        if k.trim().is_empty() || k.chars().count() > 128 {
            return Err(BackupError::invalid_input(
                "selector.tags",
                format!("has the key {k:?}; a tag key is 1-128 characters"),
            ));
        }
        if v.chars().count() > 256 {
            return Err(BackupError::invalid_input(
                format!("selector.tags.{k}"),
                "is longer than 256 characters, the longest tag value",
            ));
        }
    }
    Ok(())
}

/// Each entry as a single backup's input (with the options), validated as one; no target twice.
fn explicit_targets(
    entries: &[Value],
    options: &Map<String, Value>,
    config: &Config,
) -> Result<Vec<FleetTarget>, BackupError> {
    if entries.is_empty() || entries.len() > MAX_FLEET_TARGETS {
        return Err(BackupError::invalid_input(
            "targets",
            format!("must list 1-{MAX_FLEET_TARGETS} targets"),
        ));
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let Some(obj) = entry.as_object() else {
            return Err(BackupError::invalid_input(
                format!("targets[{i}]"),
                rule_of("targets"),
            ));
        };
        if let Some(k) = obj
            .keys()
            .find(|k| !matches!(k.as_str(), "replicationGroupId" | "cacheClusterId"))
        {
            return Err(BackupError::invalid_input(
                format!("targets[{i}].{k}"),
                "is not a known field; expected one of replicationGroupId, cacheClusterId (options go on the fleet)",
            ));
        }
        let mut child = obj.clone();
        child.extend(options.clone());
        let request =
            input::validate(&Value::Object(child.clone()), config).map_err(|e| match e {
                BackupError::InvalidInput { field, rule } => {
                    BackupError::invalid_input(format!("targets[{i}].{field}"), rule)
                }
                other => other,
            })?;
        let (kind, id) = match &request.target {
            crate::backup::run::TargetRef::ReplicationGroupId(id) => ("replicationGroupId", id),
            crate::backup::run::TargetRef::CacheClusterId(id) => ("cacheClusterId", id),
        };
        if !seen.insert((kind, id.clone())) {
            return Err(BackupError::invalid_input(
                format!("targets[{i}]"),
                format!("names {id} a second time"),
            ));
        }
        child.insert(kind.into(), json!(id));
        out.push(FleetTarget {
            target: id.clone(),
            input: Value::Object(child),
        });
    }
    qualify_labels(&mut out);
    Ok(out)
}

/// Prefix of a standalone cluster's `target` label when a replication group of the same id is in the same fleet.
pub const CACHE_CLUSTER_LABEL_PREFIX: &str = "cache-cluster/";

/// Makes every target's label unique: a replication group and a standalone cluster may share an id (two
/// namespaces), and are two targets; the cluster's label then reads `cache-cluster/<id>` (its input is unchanged).
/// Without this, the summary would merge their results under one label.
pub fn qualify_labels(targets: &mut [FleetTarget]) {
    let groups: BTreeSet<String> = targets
        .iter()
        .filter(|t| t.input.get("replicationGroupId").is_some())
        .map(|t| t.target.clone())
        .collect();
    for t in targets.iter_mut() {
        if t.input.get("cacheClusterId").is_some() && groups.contains(&t.target) {
            t.target = format!("{CACHE_CLUSTER_LABEL_PREFIX}{}", t.target);
        }
    }
}

/// A candidate the selector matched, judged: a child input, or why it is skipped.
fn child(id: &str, kind: &str, options: &Map<String, Value>) -> FleetTarget {
    let mut input = options.clone();
    input.insert(kind.into(), json!(id));
    FleetTarget {
        target: id.to_string(),
        input: Value::Object(input),
    }
}

/// Statuses after which a cache will not take a snapshot again (it is going or never came).
const GONE: &[&str] = &["deleting", "deleted", "create-failed"];

/// A matched replication group: its child, or why it is skipped (data tiering has no export; a group being
/// deleted is gone). A busy group is kept: its child retries `ClusterBusy`.
///
/// # Errors
/// The [`Skipped`] record.
pub fn judge_group(
    g: &ReplicationGroupInfo,
    options: &Map<String, Value>,
) -> Result<FleetTarget, Skipped> {
    let id = g.id.to_ascii_lowercase();
    if g.data_tiering {
        return Err(Skipped {
            target: id,
            reason: "NotSupported: data tiering groups cannot be exported".into(),
        });
    }
    if GONE.contains(&g.status.as_str()) {
        return Err(Skipped {
            target: id,
            reason: format!("status {}", g.status),
        });
    }
    Ok(child(&id, "replicationGroupId", options))
}

/// A matched standalone cluster: its child, or why it is skipped (Memcached has no snapshots).
///
/// # Errors
/// The [`Skipped`] record.
pub fn judge_cluster(
    c: &CacheClusterInfo,
    options: &Map<String, Value>,
) -> Result<FleetTarget, Skipped> {
    let id = c.id.to_ascii_lowercase();
    if let Some(engine) = c
        .engine
        .as_deref()
        .filter(|e| e.eq_ignore_ascii_case("memcached"))
    {
        return Err(Skipped {
            target: id,
            reason: format!("NotSupported: engine {engine} has no snapshots"),
        });
    }
    if GONE.contains(&c.status.as_str()) {
        return Err(Skipped {
            target: id,
            reason: format!("status {}", c.status),
        });
    }
    Ok(child(&id, "cacheClusterId", options))
}

/// One raw Map result as [`FleetResult`]: a child that ran (`{target, status, executionArn}`), or a caught failure
/// (`{target, failure: {Error, Cause}}`), whose `States.TaskFailed` cause is the child execution's description
/// (JSON with `ExecutionArn`, `Status`, `Error`, `Cause`); any other error means no child ran to an end.
pub fn result_of(raw: &Value) -> FleetResult {
    let target = raw
        .get("target")
        .and_then(Value::as_str)
        .unwrap_or("(unknown)")
        .to_string();
    let Some(failure) = raw.get("failure") else {
        return FleetResult {
            target,
            status: raw
                .get("status")
                .and_then(Value::as_str)
                .unwrap_or("SUCCEEDED")
                .to_string(),
            execution_arn: raw
                .get("executionArn")
                .and_then(Value::as_str)
                .map(str::to_string),
            error: None,
            cause: None,
        };
    };
    let error = failure
        .get("Error")
        .and_then(Value::as_str)
        .unwrap_or("States.Unknown");
    let cause = failure
        .get("Cause")
        .and_then(Value::as_str)
        .unwrap_or_default();
    // The child's description, as `.sync` gives it (`ExecutionArn`, `Status`, `Error`, `Cause`); read whatever the
    // case of its keys (DescribeExecution's own JSON spells them `executionArn`, …).
    let child = serde_json::from_str::<Value>(cause)
        .ok()
        .filter(|c| field(c, "ExecutionArn").is_some());
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    let clip = |s: String| crate::text::ellipsize(&s, MAX_CAUSE_CHARS);
    match child {
        Some(c) => FleetResult {
            target,
            status: text(field(&c, "Status")).unwrap_or_else(|| "FAILED".into()),
            execution_arn: text(field(&c, "ExecutionArn")),
            error: text(field(&c, "Error")).or_else(|| Some(error.to_string())),
            cause: text(field(&c, "Cause")).map(clip),
        },
        // `States.TaskFailed` means the child ran and did not succeed, whatever its cause says: a cause that does
        // not parse as the child's description is kept as text (clipped), and the target counts as failed, not as
        // never started (which would page the whole fleet).
        None if error == TASK_FAILED => FleetResult {
            target,
            status: "FAILED".into(),
            execution_arn: None,
            error: Some(error.to_string()),
            cause: (!cause.is_empty()).then(|| clip(cause.to_string())),
        },
        None => FleetResult {
            target,
            status: "NOT_STARTED".into(),
            execution_arn: None,
            error: Some(error.to_string()),
            cause: (!cause.is_empty()).then(|| clip(cause.to_string())),
        },
    }
}

/// The error a `.sync` Task fails with when its child execution ran and did not succeed (Step Functions Developer
/// Guide, "Run a Job (.sync)": the Task fails with `States.TaskFailed`, the child's description as the cause).
pub const TASK_FAILED: &str = "States.TaskFailed";

/// The names of the error StartExecution raises at the open-executions quota: the Developer Guide's nested-workflow
/// page names `StepFunctions.ExecutionLimitExceeded`, the service's API model the exception
/// `ExecutionLimitExceeded` (`StepFunctions.ExecutionLimitExceededException` as an integration error name). The
/// fleet's ASL retries both (checked by a test).
pub const EXECUTION_LIMIT_ERRORS: [&str; 2] = [
    "StepFunctions.ExecutionLimitExceeded",
    "StepFunctions.ExecutionLimitExceededException",
];

/// `obj[name]`, or the same key spelt with a lower-case first letter.
fn field<'a>(obj: &'a Value, name: &str) -> Option<&'a Value> {
    obj.get(name).or_else(|| {
        let mut chars = name.chars();
        let lower: String = chars
            .next()
            .map(|c| c.to_ascii_lowercase())
            .into_iter()
            .chain(chars)
            .collect();
        obj.get(&lower)
    })
}

/// Normalises the Map's results and writes the summary: every target lands in exactly one list; a target with no
/// result counts as failed.
pub fn summarize(mut run: FleetRun) -> FleetRun {
    let raw = run.results.take().unwrap_or_default();
    let mut by_target: BTreeMap<String, FleetResult> = BTreeMap::new();
    for r in raw.iter().map(result_of) {
        by_target.insert(r.target.clone(), r);
    }
    let mut results = Vec::with_capacity(run.targets.len());
    let mut summary = FleetSummary::default();
    for t in &run.targets {
        let r = by_target.remove(&t.target).unwrap_or_else(|| FleetResult {
            target: t.target.clone(),
            status: "NOT_STARTED".into(),
            execution_arn: None,
            error: Some("States.Unknown".into()),
            cause: Some("the Map returned no result for this target".into()),
        });
        if r.status == "SUCCEEDED" {
            summary.succeeded.push(r.target.clone());
        } else {
            summary.failed.push(r.target.clone());
            if r.status == "NOT_STARTED" {
                summary.not_started.push(r.target.clone());
            }
        }
        results.push(serde_json::to_value(&r).unwrap_or(Value::Null));
    }
    summary.skipped = run.skipped.iter().map(|s| s.target.clone()).collect();
    run.results = Some(results);
    run.summary = Some(summary);
    run
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cfg() -> Config {
        Config {
            default_bucket: Some("default-bucket".into()),
            ..Config::default()
        }
    }

    fn invalid(input: Value) -> (String, String) {
        match validate(&input, &cfg()).unwrap_err() {
            BackupError::InvalidInput { field, rule } => (field, rule),
            other => panic!("expected InvalidInput, got {other:?}"),
        }
    }

    #[test]
    fn a_selector_fleet_takes_defaults_and_passes_only_the_given_options() {
        let r = validate(
            &json!({"selector": {"tags": {"backup": "daily", "team": "Payments"}}, "bucket": "acme-b",
                    "keepSourceSnapshot": true}),
            &cfg(),
        )
        .unwrap();
        assert_eq!(r.name, "backup=daily,team=Payments");
        assert_eq!(r.max_concurrency, DEFAULT_MAX_CONCURRENCY);
        assert_eq!(
            Value::Object(r.options),
            json!({"bucket": "acme-b", "keepSourceSnapshot": true})
        );
        let Which::Selector(s) = r.which else {
            panic!("selector expected")
        };
        let tags = |t: &[(&str, &str)]| {
            t.iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect::<Vec<_>>()
        };
        assert!(s.matches(&tags(&[
            ("team", "Payments"),
            ("backup", "daily"),
            ("x", "y")
        ])));
        assert!(
            !s.matches(&tags(&[("team", "payments"), ("backup", "daily")])),
            "values are case-sensitive"
        );
        assert!(
            !s.matches(&tags(&[("backup", "daily")])),
            "every tag must match"
        );
    }

    #[test]
    fn an_explicit_list_becomes_child_inputs_with_the_options() {
        let r = validate(
            &json!({"targets": [{"replicationGroupId": "Orders"}, {"cacheClusterId": "cache-1"}],
                    "maxConcurrency": 2, "snapshotTimeoutSeconds": 600, "name": "nightly"}),
            &cfg(),
        )
        .unwrap();
        assert_eq!((r.name.as_str(), r.max_concurrency), ("nightly", 2));
        assert_eq!(
            r.which,
            Which::Targets(vec![
                FleetTarget {
                    target: "orders".into(),
                    input: json!({"replicationGroupId": "orders", "snapshotTimeoutSeconds": 600})
                },
                FleetTarget {
                    target: "cache-1".into(),
                    input: json!({"cacheClusterId": "cache-1", "snapshotTimeoutSeconds": 600})
                },
            ])
        );
    }

    #[test]
    fn each_bad_field_is_named_with_its_rule() {
        let cases = [
            (
                json!({}),
                "selector",
                "is required (or `targets`); give exactly one",
            ),
            (
                json!({"selector": {"tags": {"a": "b"}}, "targets": [{"replicationGroupId": "x"}]}),
                "selector",
                "and `targets` are both set; give exactly one",
            ),
            (
                json!({"selector": {"tags": {}}}),
                "selector.tags",
                "must name 1-10 tags",
            ),
            (
                json!({"selector": {"tag": {"a": "b"}}}),
                "selector.tag",
                "is not a known field; expected one of tags",
            ),
            (
                json!({"selector": {"tags": {"a": 1}}}),
                "selector.tags.a",
                "must be a string",
            ),
            (
                json!({"targets": []}),
                "targets",
                "must list 1-1000 targets",
            ),
            (
                json!({"targets": [{"replicationGroupId": "a"}, {"replicationGroupId": "A"}]}),
                "targets[1]",
                "names a a second time",
            ),
            (
                json!({"targets": [{"replicationGroupId": "9a"}]}),
                "targets[0].replicationGroupId",
                "must start with a letter",
            ),
            (
                json!({"targets": [{"replicationGroupId": "a", "bucket": "b"}]}),
                "targets[0].bucket",
                "is not a known field; expected one of replicationGroupId, cacheClusterId (options go on the fleet)",
            ),
            (json!({"targets": ["a"]}), "targets[0]", &rule_of("targets")),
            (
                json!({"selector": {"tags": {"a": "b"}}, "maxConcurrency": 0}),
                "maxConcurrency",
                "must be a whole number from 1 to 40",
            ),
            (
                json!({"selector": {"tags": {"a": "b"}}, "maxConcurrency": 41}),
                "maxConcurrency",
                "must be a whole number from 1 to 40",
            ),
            (
                json!({"selector": {"tags": {"a": "b"}}, "bucket": "Bad_Bucket"}),
                "bucket",
                "may contain only lower-case letters, digits, dots and hyphens",
            ),
            (
                json!({"selector": {"tags": {"a": "b"}}, "exportTimeoutSeconds": 5}),
                "exportTimeoutSeconds",
                "must be a whole number of seconds from 60 to 79200",
            ),
            (
                json!({"selector": {"tags": {"a": "b"}}, "name": "has space"}),
                "name",
                name_rule(),
            ),
            (
                json!({"selector": {"tags": {"a": "b"}}, "replicationGroupId": "x"}),
                "replicationGroupId",
                "is not a known field; expected one of name, selector, targets, maxConcurrency, bucket, \
                 snapshotTimeoutSeconds, exportTimeoutSeconds, keepSourceSnapshot",
            ),
        ];
        for (input, field, rule) in cases {
            assert_eq!(
                invalid(input.clone()),
                (field.to_string(), rule.to_string()),
                "input {input}"
            );
        }
    }

    #[test]
    fn a_fleet_is_recognised_by_selector_or_targets() {
        assert!(is_fleet_input(&json!({"selector": {"tags": {"a": "b"}}})));
        assert!(is_fleet_input(&json!({"targets": []})));
        assert!(!is_fleet_input(&json!({"replicationGroupId": "orders"})));
    }

    #[test]
    fn memcached_data_tiering_and_deleting_caches_are_skipped_with_the_reason() {
        let options = Map::new();
        let group = |id: &str, status: &str, tiering: bool| ReplicationGroupInfo {
            id: id.into(),
            status: status.into(),
            data_tiering: tiering,
            ..Default::default()
        };
        assert_eq!(
            judge_group(&group("Orders", "snapshotting", false), &options).unwrap(),
            FleetTarget {
                target: "orders".into(),
                input: json!({"replicationGroupId": "orders"})
            },
            "a busy group is still backed up: its child retries ClusterBusy"
        );
        assert!(
            judge_group(&group("t", "available", true), &options)
                .unwrap_err()
                .reason
                .starts_with("NotSupported")
        );
        assert_eq!(
            judge_group(&group("d", "deleting", false), &options)
                .unwrap_err()
                .reason,
            "status deleting"
        );
        let cluster = |engine: &str| CacheClusterInfo {
            id: "c".into(),
            status: "available".into(),
            engine: Some(engine.into()),
            ..Default::default()
        };
        assert_eq!(
            judge_cluster(&cluster("memcached"), &options)
                .unwrap_err()
                .reason,
            "NotSupported: engine memcached has no snapshots"
        );
        assert_eq!(
            judge_cluster(&cluster("valkey"), &options).unwrap().input,
            json!({"cacheClusterId": "c"})
        );
    }

    #[test]
    fn the_summary_puts_every_target_in_one_list_and_reads_the_childs_error() {
        let t = |id: &str| FleetTarget {
            target: id.into(),
            input: json!({"replicationGroupId": id}),
        };
        let child_cause = json!({"ExecutionArn": "arn:aws:states:us-east-1:1:execution:elasticache-backup:b-1",
            "Status": "FAILED", "Error": "ExportRejected", "Cause": "ExportSnapshot failed for b: access denied"});
        let run = FleetRun {
            name: "f".into(),
            max_concurrency: 2,
            targets: vec![t("a"), t("b"), t("c"), t("d")],
            skipped: vec![Skipped {
                target: "m".into(),
                reason: "NotSupported".into(),
            }],
            results: Some(vec![
                json!({"target": "a", "status": "SUCCEEDED", "executionArn": "arn:a"}),
                json!({"target": "b", "failure": {"Error": "States.TaskFailed", "Cause": child_cause.to_string()}}),
                json!({"target": "c", "failure": {"Error": "StepFunctions.ExecutionLimitExceededException",
                                                   "Cause": "limit"}}),
            ]),
            ..Default::default()
        };
        let out = summarize(run);
        assert_eq!(
            out.summary.unwrap(),
            FleetSummary {
                succeeded: vec!["a".into()],
                failed: vec!["b".into(), "c".into(), "d".into()],
                skipped: vec!["m".into()],
                not_started: vec!["c".into(), "d".into()],
            }
        );
        let results = out.results.unwrap();
        assert_eq!(
            results[1],
            json!({"target": "b", "status": "FAILED", "error": "ExportRejected",
                   "executionArn": "arn:aws:states:us-east-1:1:execution:elasticache-backup:b-1",
                   "cause": "ExportSnapshot failed for b: access denied"})
        );
        assert_eq!(results[2]["status"], "NOT_STARTED");
        assert_eq!(
            results[2]["error"],
            "StepFunctions.ExecutionLimitExceededException"
        );
        assert_eq!(
            results[3]["cause"],
            "the Map returned no result for this target"
        );
    }

    #[test]
    fn a_failed_child_whose_cause_does_not_parse_is_failed_not_never_started() {
        let raw = "Lambda.Unknown: the child's description was cut: {\"ExecutionArn\": \"arn:b";
        let r = result_of(
            &json!({"target": "b", "failure": {"Error": "States.TaskFailed", "Cause": raw}}),
        );
        assert_eq!(
            (r.status.as_str(), r.error.as_deref(), r.cause.as_deref()),
            ("FAILED", Some("States.TaskFailed"), Some(raw))
        );
        let run = summarize(FleetRun {
            targets: vec![FleetTarget {
                target: "b".into(),
                input: json!({"replicationGroupId": "b"}),
            }],
            results: Some(vec![
                json!({"target": "b", "failure": {"Error": "States.TaskFailed", "Cause": raw}}),
            ]),
            ..FleetRun::default()
        });
        let summary = run.summary.unwrap();
        assert_eq!(summary.failed, vec!["b".to_string()]);
        assert!(summary.not_started.is_empty(), "{summary:?}");
        // A refused start is still never started.
        let r = result_of(&json!({"target": "c", "failure": {
            "Error": "StepFunctions.ExecutionLimitExceeded", "Cause": "limit"}}));
        assert_eq!(r.status, "NOT_STARTED");
    }

    #[test]
    fn a_child_description_is_read_whatever_the_case_of_its_keys() {
        let cause = json!({"executionArn": "arn:b", "status": "TIMED_OUT", "error": "States.Timeout", "cause": "late"});
        let r = result_of(
            &json!({"target": "b", "failure": {"Error": "States.TaskFailed", "Cause": cause.to_string()}}),
        );
        assert_eq!(
            (
                r.status.as_str(),
                r.execution_arn.as_deref(),
                r.error.as_deref(),
                r.cause.as_deref()
            ),
            (
                "TIMED_OUT",
                Some("arn:b"),
                Some("States.Timeout"),
                Some("late")
            )
        );
    }

    #[test]
    fn a_map_runs_manifest_lists_every_result_file_and_a_malformed_one_is_refused() {
        let manifest = json!({"DestinationBucket": "b", "MapRunArn": "arn:m",
            "ResultFiles": {"FAILED": [{"Key": "p/m/FAILED_0.json", "Size": 9}], "PENDING": [],
                            "SUCCEEDED": [{"Key": "p/m/SUCCEEDED_0.json", "Size": 9},
                                          {"Key": "p/m/SUCCEEDED_1.json", "Size": 9}]}});
        let mut keys: Vec<_> = map_run_result_files(&manifest)
            .unwrap()
            .into_iter()
            .map(|(b, k)| format!("{b}/{k}"))
            .collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "b/p/m/FAILED_0.json",
                "b/p/m/SUCCEEDED_0.json",
                "b/p/m/SUCCEEDED_1.json"
            ]
        );
        for bad in [
            json!({"ResultFiles": {}}),
            json!({"DestinationBucket": "b"}),
            json!({"DestinationBucket": "b", "ResultFiles": {"SUCCEEDED": [{"Size": 1}]}}),
        ] {
            assert_eq!(
                map_run_result_files(&bad).unwrap_err().error_type(),
                "AwsRejected",
                "{bad}"
            );
        }
    }

    #[test]
    fn a_child_workflow_that_did_not_succeed_counts_as_not_started() {
        let item = json!({"target": "orders", "input": {"replicationGroupId": "orders"}});
        let ok = json!({"Status": "SUCCEEDED", "Input": item.to_string(),
                        "Output": json!({"target": "orders", "status": "SUCCEEDED", "executionArn": "arn:o"}).to_string()});
        assert_eq!(
            result_of(&raw_result_of_map_run_entry(&ok)).status,
            "SUCCEEDED"
        );
        let aborted =
            json!({"Status": "ABORTED", "Input": item.to_string(), "ExecutionArn": "arn:w"});
        let r = result_of(&raw_result_of_map_run_entry(&aborted));
        assert_eq!(
            (r.target.as_str(), r.status.as_str(), r.error.as_deref()),
            ("orders", "NOT_STARTED", Some("States.Unknown"))
        );
        assert!(r.cause.unwrap().contains("arn:w ended ABORTED"));
    }

    #[test]
    fn a_long_cause_is_clipped() {
        let cause = json!({"ExecutionArn": "arn:x", "Status": "FAILED", "Error": "E", "Cause": "x".repeat(5000)});
        let r = result_of(
            &json!({"target": "a", "failure": {"Error": "States.TaskFailed", "Cause": cause.to_string()}}),
        );
        let kept = r.cause.unwrap();
        assert_eq!(kept.chars().count(), MAX_CAUSE_CHARS);
        assert!(kept.ends_with('…'), "{kept}");
    }

    proptest! {
        #[test]
        fn any_cause_is_kept_within_its_bound(cause in ".*", long in ".{590,700}", target in ".*") {
            for cause in [cause.as_str(), long.as_str()] {
                let child = json!({"ExecutionArn": "arn:x", "Status": "FAILED", "Error": "E", "Cause": cause});
                for raw in [
                    json!({"target": target, "failure": {"Error": "States.TaskFailed", "Cause": child.to_string()}}),
                    json!({"target": target, "failure": {"Error": "States.Runtime", "Cause": cause}}),
                ] {
                    let r = result_of(&raw);
                    prop_assert_eq!(&r.target, &target);
                    let kept = r.cause.unwrap_or_default();
                    prop_assert!(kept.chars().count() <= MAX_CAUSE_CHARS);
                    if kept != cause {
                        let cut = kept.strip_suffix('…');
                        prop_assert!(cut.is_some_and(|c| cause.starts_with(c)), "{:?} is not a cut of the cause", kept);
                    }
                }
            }
        }

        #[test]
        fn a_selector_label_is_its_tags_in_key_order(tags in proptest::collection::btree_map(".*", ".*", 0..5)) {
            let label = Selector { tags: tags.clone() }.label();
            let expected: Vec<String> = tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
            prop_assert_eq!(label, expected.join(","));
        }
    }

    /// The fleet document as the inline Map hands it to `Summarize` when every one of `n` children failed with a
    /// cause of `cause_bytes`: what Step Functions' 256 KiB payload limit must hold. Each failed item is what the
    /// `TargetFailed` Pass state records: the Catch output of `startExecution.sync:2`, whose `Cause` is the child's
    /// DescribeExecution answer as a string (Developer Guide, "Run a Job (.sync)"), the child's own cause inside it —
    /// that of its Fail state, `<step> failed for <execution>: <Lambda cause>`, the Lambda cause being the JSON of
    /// the function's error (`errorMessage`, `errorType`): three levels of JSON strings.
    fn inline_fleet_document(n: usize, cause_bytes: usize) -> String {
        let message: String =
            "ExportRejected: CopySnapshot s3://acme-cache-backups-production/: \"Access Denied\" "
                .chars()
                .cycle()
                .take(cause_bytes)
                .collect();
        let target = |i: usize| format!("fleet-target-{i:03}-{}", "x".repeat(20));
        let lambda_cause =
            json!({"errorMessage": message, "errorType": "ExportRejected", "trace": []})
                .to_string();
        let items: Vec<Value> = (0..n)
            .map(|i| {
                let name = format!("fleet-nightly-2026-12-03-{i:04}-{}", "0".repeat(32));
                let child = format!("arn:aws:states:ap-southeast-2:123456789012:execution:elasticache-backup:{name}");
                let input = json!({"replicationGroupId": target(i), "bucket": "acme-cache-backups-production",
                                   "snapshotTimeoutSeconds": 3600, "exportTimeoutSeconds": 3600});
                let description = json!({
                    "ExecutionArn": child, "StateMachineArn": "arn:aws:states:ap-southeast-2:123456789012:stateMachine:elasticache-backup",
                    "Name": name, "Status": "FAILED", "StartDate": 1_796_143_775_123_u64, "StopDate": 1_796_143_875_456_u64,
                    "Input": input.to_string(), "InputDetails": {"Included": true},
                    "Error": "ExportRejected",
                    "Cause": format!("ExportSnapshot failed for backup {name}: {lambda_cause}"),
                    "RedriveCount": 0, "RedriveStatus": "NOT_REDRIVABLE",
                    "RedriveStatusReason": "Execution is RUNNING and cannot be redriven",
                });
                json!({"target": target(i), "failure": {"Error": "States.TaskFailed", "Cause": description.to_string()}})
            })
            .collect();
        let targets: Vec<Value> = (0..n)
            .map(|i| json!({"target": target(i), "input": {"replicationGroupId": target(i), "bucket": "acme-cache-backups-production"}}))
            .collect();
        json!({"input": {"selector": {"backup": "nightly", "environment": "production"}}, "name": "backup=nightly,environment=production",
               "execution": {"name": "fleet-nightly", "startTime": "2026-12-03T03:00:00Z"}, "maxConcurrency": 10,
               "targets": targets, "skipped": [], "results": items})
        .to_string()
    }

    #[test]
    fn an_inline_fleet_whose_every_child_failed_with_long_causes_fits_the_payload() {
        const PAYLOAD_LIMIT: usize = 256 * 1024;
        use crate::error::MAX_LAMBDA_ERROR_MESSAGE_BYTES;
        let doc = inline_fleet_document(MAX_INLINE_TARGETS, MAX_LAMBDA_ERROR_MESSAGE_BYTES);
        assert!(
            doc.len() < PAYLOAD_LIMIT * 9 / 10,
            "{MAX_INLINE_TARGETS} failed children with {MAX_LAMBDA_ERROR_MESSAGE_BYTES}-byte causes: {} bytes",
            doc.len()
        );
        // What the limit was before: 150 such children do not fit (States.DataLimitExceeded, not catchable).
        assert!(inline_fleet_document(150, 1536).len() > PAYLOAD_LIMIT);
    }

    #[test]
    fn a_group_and_a_standalone_cluster_of_one_id_are_two_targets_with_two_results() {
        let request = validate(
            &json!({"targets": [{"replicationGroupId": "shop"}, {"cacheClusterId": "shop"}], "bucket": "acme-cache-backups"}),
            &cfg(),
        )
        .unwrap();
        let Which::Targets(targets) = request.which else {
            panic!("a list");
        };
        let labels: Vec<_> = targets.iter().map(|t| t.target.as_str()).collect();
        assert_eq!(labels, ["shop", "cache-cluster/shop"]);
        let mut run = FleetRun {
            name: "f".into(),
            targets,
            ..Default::default()
        };
        run.results = Some(vec![
            json!({"target": "shop", "status": "SUCCEEDED", "executionArn": "arn:1"}),
            json!({"target": "cache-cluster/shop", "failure": {"Error": "States.TaskFailed", "Cause": "{\"ExecutionArn\": \"arn:2\", \"Status\": \"FAILED\", \"Error\": \"ExportRejected\", \"Cause\": \"x\"}"}}),
        ]);
        let summary = summarize(run).summary.unwrap();
        assert_eq!(summary.succeeded, ["shop"]);
        assert_eq!(summary.failed, ["cache-cluster/shop"]);
        assert!(summary.not_started.is_empty(), "{summary:?}");
    }
}
