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
//! | `bucket`, `snapshotTimeoutSeconds`, `exportTimeoutSeconds`, `keepSourceSnapshot`, `verifyBudgetSeconds` | | as in a single backup ([`crate::backup::input`]); passed to every child |
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

pub mod discovery;
pub mod document;
pub mod input;
pub mod results;
pub mod summary;

/// Most targets an inline Map carries (defined with the configuration that bounds `FLEET_INLINE_MAX_TARGETS`).
pub use crate::config::MAX_INLINE_TARGETS;
pub use discovery::{
    CACHE_CLUSTER_LABEL_PREFIX, Candidates, SERVERLESS_CACHE_LABEL_PREFIX, Tags, fleet_run,
    judge_cluster, judge_group, judge_matches, judge_serverless, qualify_labels, spill_targets,
    tags_unless_gone,
};
pub use document::{
    FLEET_RUNS_PREFIX, FleetResult, FleetRun, FleetSummary, FleetTarget, MAX_CAUSE_CHARS,
    MAX_FLEET_TARGETS, MapRunManifest, MapRunOutput, ObjectRef, Selector, Skipped, TargetsObject,
};
pub use input::{
    DEFAULT_MAX_CONCURRENCY, FleetCall, FleetInput, FleetRequest, MAX_MAX_CONCURRENCY,
    MAX_SELECTOR_TAGS, Which, is_fleet_input, validate,
};
pub use results::{
    EXECUTION_LIMIT_ERRORS, TASK_FAILED, fleet_list, map_run_result_files,
    raw_result_of_map_run_entry, result_of,
};
pub use summary::{summarize, summarize_distributed};
