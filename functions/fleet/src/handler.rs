//! The fleet state machine's two steps, one function:
//!
//! - `{"discover": <fleet execution input>, "execution": <execution name>}` → the fleet document ([`FleetRun`]): the
//!   input validated ([`backup_core::fleet::validate`], before any AWS call), then for a selector every replication
//!   group (`DescribeReplicationGroups`) and every standalone cluster (`DescribeCacheClusters` with
//!   `ShowCacheClustersNotInReplicationGroups`), all pages, whose tags (`ListTagsForResource`, a few at once) carry
//!   every selector tag: each becomes one child input, or a [`backup_core::fleet::Skipped`] record (Memcached, data
//!   tiering, being deleted). More targets than `FLEET_INLINE_MAX_TARGETS` are written to the bucket (`PutObject`
//!   `fleet-runs/<name>/<execution>/targets.json`) for the Distributed Map, and the document carries
//!   `targetsObject` instead. Errors: `InvalidInput`; `TargetNotFound` when a selector matches nothing that can be
//!   backed up (a schedule that backs up nothing must page, not pass); `NotSupported` beyond
//!   [`backup_core::fleet::MAX_FLEET_TARGETS`] targets, or a Distributed Map fleet without `BACKUP_BUCKET`;
//!   `Throttled`, `AwsError`.
//! - `{"summarize": <fleet document with results>}` → the same document with `results` normalised and `summary`
//!   ([`backup_core::fleet::summarize`]). For a Distributed Map fleet (`mapRun`) it reads the targets, the Map Run's
//!   `manifest.json` and every result file it lists (`GetObject`), and writes every result to
//!   `fleet-runs/<name>/<execution>/results.json` (`resultsObject`), returning the summary without the lists.
//!   Errors: `InvalidInput` for a document that is not a fleet document; `AwsRejected` for lists that are missing
//!   or malformed; `Throttled`, `AwsError`.

use backup_core::fleet::{self, FleetCall, FleetRun, FleetTarget, Skipped, Which};
use backup_core::ports::{ExportStore, Groups, Inventory, ObjectReader};
use backup_core::{BackupError, Clock, Deps};
use futures_util::{StreamExt, TryStreamExt, stream};
use lambda_runtime::LambdaEvent;
use serde_json::Value;

/// `ListTagsForResource` calls in flight while a selector is matched.
const TAG_READS_IN_FLIGHT: usize = 8;

/// Handles one invocation (see the module documentation).
///
/// # Errors
/// See the module documentation.
#[tracing::instrument(skip_all)]
pub async fn function_handler<S, E, C>(
    event: LambdaEvent<Value>,
    deps: &Deps<S, E, (), C>,
) -> Result<FleetRun, BackupError>
where
    S: Inventory + Groups,
    E: ExportStore + ObjectReader,
    C: Clock,
{
    match FleetCall::parse(&event.payload, deps.clock.now())? {
        FleetCall::Discover { input, execution } => discover(&input, &execution, deps).await,
        FleetCall::Summarize(run) => {
            let run = summarize(*run, &deps.exports).await?;
            if let Some(s) = &run.summary {
                tracing::info!(fleet = %run.name, succeeded = ?s.succeeded, failed = ?s.failed, skipped = ?s.skipped,
                    not_started = ?s.not_started, "fleet summary");
            }
            Ok(run)
        }
    }
}

async fn discover<S, E, C>(
    input: &Value,
    execution: &str,
    deps: &Deps<S, E, (), C>,
) -> Result<FleetRun, BackupError>
where
    S: Inventory + Groups,
    E: ExportStore + ObjectReader,
    C: Clock,
{
    let request = fleet::validate(input, &deps.config)?;
    let (selector, found) = match request.which {
        Which::Targets(targets) => (None, (targets, Vec::new())),
        Which::Selector(selector) => {
            let found = select(&selector, &request.options, &deps.snapshots).await?;
            (Some(selector), found)
        }
    };
    let mut run = fleet::fleet_run(request.name, request.max_concurrency, selector, found)?;
    for t in &run.targets {
        tracing::info!(fleet = %run.name, target = %t.target, "target");
    }
    for s in &run.skipped {
        tracing::warn!(fleet = %run.name, target = %s.target, reason = %s.reason, "matched, skipped");
    }
    if let Some((object, body)) = fleet::spill_targets(&mut run, &deps.config, execution)? {
        deps.exports
            .put_json(&object.bucket, &object.key, body)
            .await?;
        tracing::info!(fleet = %run.name, targets = run.target_count, bucket = %object.bucket, key = %object.key,
            "targets written for a Distributed Map");
    }
    Ok(run)
}

/// The summary; for a Distributed Map fleet, read from the Map Run's result files, every result written back to S3.
async fn summarize<E: ExportStore + ObjectReader>(
    mut run: FleetRun,
    s3: &E,
) -> Result<FleetRun, BackupError> {
    let Some(object) = run.targets_object.clone() else {
        return Ok(fleet::summarize(run));
    };
    run.targets = read_json(s3, &object.bucket, &object.key).await?;
    let mut raw = Vec::with_capacity(run.targets.len());
    // No Map output: every target counts as not started (the fleet pages).
    if let Some(map_run) = run.map_run.take() {
        let manifest = &map_run.result_writer_details;
        let manifest: Value = read_json(s3, &manifest.bucket, &manifest.key).await?;
        for (bucket, key) in fleet::map_run_result_files(&manifest)? {
            let entries: Vec<Value> = read_json(s3, &bucket, &key).await?;
            raw.extend(entries.iter().map(fleet::raw_result_of_map_run_entry));
        }
    }
    let (run, to, body) = fleet::summarize_distributed(run, raw, object);
    s3.put_json(&to.bucket, &to.key, body).await?;
    Ok(run)
}

/// A JSON object of the bucket ([`fleet::fleet_list`]).
async fn read_json<E: ObjectReader, T: serde::de::DeserializeOwned>(
    s3: &E,
    bucket: &str,
    key: &str,
) -> Result<T, BackupError> {
    fleet::fleet_list(bucket, key, s3.get_object(bucket, key).await?)
}

/// Every group, then every standalone cluster, then every serverless cache, whose tags match: a child input each, or why it is skipped.
async fn select<S: Inventory + Groups>(
    selector: &fleet::Selector,
    options: &serde_json::Map<String, Value>,
    elasticache: &S,
) -> Result<(Vec<FleetTarget>, Vec<Skipped>), BackupError> {
    let groups = elasticache.replication_groups().await?;
    let clusters = elasticache.standalone_cache_clusters().await?;
    let serverless = elasticache.serverless_caches().await?;
    let group_tags = tags_of_all(elasticache, groups.iter().map(|g| g.arn.as_deref())).await?;
    let cluster_tags = tags_of_all(elasticache, clusters.iter().map(|c| c.arn.as_deref())).await?;
    let serverless_tags =
        tags_of_all(elasticache, serverless.iter().map(|c| c.arn.as_deref())).await?;
    Ok(fleet::judge_matches(
        selector,
        options,
        fleet::Candidates {
            groups,
            group_tags,
            clusters,
            cluster_tags,
            serverless,
            serverless_tags,
        },
    ))
}

/// Each resource's tags, in order, [`TAG_READS_IN_FLIGHT`] calls at once; `None` for a resource gone since it was
/// listed (or listed without an ARN).
async fn tags_of_all<'a, S: Groups>(
    elasticache: &S,
    arns: impl Iterator<Item = Option<&'a str>>,
) -> Result<Vec<fleet::Tags>, BackupError> {
    stream::iter(arns.map(|arn| async move {
        match arn {
            Some(arn) => fleet::tags_unless_gone(elasticache.tags(arn).await),
            None => Ok(None),
        }
    }))
    .buffered(TAG_READS_IN_FLIGHT)
    .try_collect()
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use backup_core::Config;
    use backup_core::testing::{FakeExportStore, FakeSnapshots, FixedClock};
    use lambda_runtime::Context;
    use serde_json::json;

    type TestDeps = Deps<FakeSnapshots, FakeExportStore, (), FixedClock>;

    fn deps(fake: FakeSnapshots) -> TestDeps {
        Deps {
            snapshots: fake,
            exports: FakeExportStore::with_bucket("acme-backups"),
            verifier: (),
            clock: FixedClock::at(time::OffsetDateTime::UNIX_EPOCH),
            probe: (),
            secrets: (),
            config: Config {
                default_bucket: Some("acme-backups".into()),
                ..Config::default()
            },
        }
    }

    async fn call(d: &TestDeps, payload: Value) -> Result<FleetRun, BackupError> {
        function_handler(LambdaEvent::new(payload, Context::default()), d).await
    }

    /// Four groups and three standalone clusters, five of them tagged backup=daily.
    fn fleet() -> FakeSnapshots {
        let fake = FakeSnapshots::cluster_mode_disabled(
            "orders",
            &[("orders-001", "primary", "available")],
        )
        .merge(FakeSnapshots::cluster_mode_enabled("sessions", 3))
        .merge(FakeSnapshots::cluster_mode_disabled(
            "ledger",
            &[("ledger-001", "primary", "available")],
        ))
        .merge(FakeSnapshots::cluster_mode_disabled(
            "tiered",
            &[("tiered-001", "primary", "available")],
        ))
        .merge(FakeSnapshots::standalone("cache-1", "redis"))
        .merge(FakeSnapshots::standalone("memo", "memcached"))
        .merge(FakeSnapshots::standalone("cache-2", "valkey"));
        fake.0
            .lock()
            .unwrap()
            .replication_groups
            .get_mut("tiered")
            .unwrap()
            .data_tiering = true;
        for id in [
            "orders", "sessions", "tiered", "cache-1", "memo", "carts", "sl-memo",
        ] {
            fake.tag(id, &[("backup", "daily"), ("team", "core")]);
        }
        fake.tag("ledger", &[("backup", "weekly")]);
        fake.tag("cache-2", &[("Backup", "daily")]);
        fake
    }

    #[tokio::test]
    async fn a_selector_finds_every_matching_group_and_standalone_cluster() {
        let d = deps(fleet());
        let run = call(
            &d,
            json!({"discover": {"selector": {"tags": {"backup": "daily"}}, "maxConcurrency": 3,
                                                "exportTimeoutSeconds": 900}}),
        )
        .await
        .unwrap();
        let ids: Vec<_> = run.targets.iter().map(|t| t.target.as_str()).collect();
        assert_eq!(ids, ["orders", "sessions", "cache-1"]);
        assert_eq!(
            run.targets[2].input,
            json!({"cacheClusterId": "cache-1", "exportTimeoutSeconds": 900})
        );
        assert_eq!(
            run.skipped
                .iter()
                .map(|s| (s.target.as_str(), s.reason.as_str()))
                .collect::<Vec<_>>(),
            [
                (
                    "tiered",
                    "NotSupported: data tiering groups cannot be exported"
                ),
                ("memo", "NotSupported: engine memcached has no snapshots"),
            ]
        );
        assert_eq!(
            (run.name.as_str(), run.max_concurrency),
            ("backup=daily", 3)
        );
        // Every page read, and each candidate's tags: 4 groups + 3 standalone clusters (members are not listed).
        assert_eq!(d.snapshots.calls_of("ListTagsForResource").len(), 7);
    }

    #[tokio::test]
    async fn a_selector_also_finds_serverless_caches_and_names_the_ones_it_skips() {
        let fake = fleet()
            .merge(FakeSnapshots::serverless("carts", "valkey"))
            .merge(FakeSnapshots::serverless("sl-memo", "memcached"))
            .merge(FakeSnapshots::serverless("quiet", "redis"))
            // A serverless cache named like a group: its own target, its own label.
            .merge(FakeSnapshots::serverless("orders", "redis"));
        for id in ["carts", "sl-memo"] {
            fake.tag(id, &[("backup", "daily")]);
        }
        let d = deps(fake);
        let run = call(
            &d,
            json!({"discover": {"selector": {"tags": {"backup": "daily"}}, "exportTimeoutSeconds": 900}}),
        )
        .await
        .unwrap();
        let ids: Vec<_> = run.targets.iter().map(|t| t.target.as_str()).collect();
        // `orders` the serverless cache shares the group's tags in this fake (tags are keyed by name).
        assert_eq!(
            ids,
            [
                "orders",
                "sessions",
                "cache-1",
                "carts",
                "serverless-cache/orders"
            ]
        );
        assert_eq!(
            run.targets[3].input,
            json!({"serverlessCacheName": "carts", "exportTimeoutSeconds": 900})
        );
        assert_eq!(
            run.targets[4].input,
            json!({"serverlessCacheName": "orders", "exportTimeoutSeconds": 900})
        );
        assert!(
            run.skipped.iter().any(|s| s.target == "sl-memo"
                && s.reason
                    == "NotSupported: serverless engine memcached cannot be exported to S3"),
            "{:?}",
            run.skipped
        );
        assert_eq!(d.snapshots.calls_of("DescribeServerlessCaches").len(), 1);
    }

    #[tokio::test]
    async fn a_selector_that_matches_nothing_backable_fails_naming_what_it_saw() {
        let d = deps(fleet());
        let err = call(
            &d,
            json!({"discover": {"selector": {"tags": {"team": "none"}}}}),
        )
        .await
        .unwrap_err();
        assert_eq!(err.error_type(), "TargetNotFound");
        let only_memcached = call(
            &d,
            json!({"discover": {"selector": {"tags": {"backup": "daily", "team": "core"}}, "name": "x"}}),
        )
        .await;
        assert!(only_memcached.is_ok(), "orders matches both tags");
        d.snapshots.tag("orders", &[]);
        d.snapshots.tag("sessions", &[]);
        d.snapshots.tag("cache-1", &[]);
        let err = call(
            &d,
            json!({"discover": {"selector": {"tags": {"backup": "daily"}}}}),
        )
        .await
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("memo (NotSupported: engine memcached has no snapshots)"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn invalid_input_is_refused_before_any_aws_call() {
        let d = deps(fleet());
        let err = call(
            &d,
            json!({"discover": {"selector": {"tags": {"backup": "daily"}}, "bucket": "NO"}}),
        )
        .await
        .unwrap_err();
        assert_eq!(err.error_type(), "InvalidInput");
        assert!(d.snapshots.calls().is_empty(), "{:?}", d.snapshots.calls());
    }

    #[tokio::test]
    async fn an_explicit_list_needs_no_discovery() {
        let d = deps(fleet());
        let run = call(&d, json!({"discover": {"targets": [{"replicationGroupId": "gone"}, {"cacheClusterId": "cache-1"}]}}))
            .await
            .unwrap();
        assert_eq!(run.targets.len(), 2);
        assert_eq!(run.name, "targets");
        // A target that does not exist fails its own child (and alerts for itself), not the fleet.
        assert!(d.snapshots.calls().is_empty());
    }

    #[tokio::test]
    async fn a_group_gone_between_list_and_tags_is_left_out_and_throttling_fails() {
        let d = deps(fleet());
        d.snapshots.fail_next(
            "ListTagsForResource",
            BackupError::TargetNotFound {
                message: "gone".into(),
                source: None,
            },
        );
        let run = call(
            &d,
            json!({"discover": {"selector": {"tags": {"backup": "daily"}}}}),
        )
        .await
        .unwrap();
        // The first group listed (ledger, in id order) vanished; it did not match anyway, the rest is intact.
        assert_eq!(run.targets.len(), 3);
        d.snapshots.fail_next(
            "DescribeReplicationGroups",
            BackupError::Throttled {
                message: "Rate exceeded".into(),
                source: None,
            },
        );
        let err = call(
            &d,
            json!({"discover": {"selector": {"tags": {"backup": "daily"}}}}),
        )
        .await
        .unwrap_err();
        assert_eq!(err.error_type(), "Throttled");
    }

    /// `n` single-node groups tagged backup=daily.
    fn many(n: usize) -> FakeSnapshots {
        let fake = FakeSnapshots::default();
        for i in 0..n {
            let id = format!("g-{i:04}");
            let one = FakeSnapshots::cluster_mode_disabled(&id, &[]);
            let group = one.0.lock().unwrap().replication_groups[&id].clone();
            fake.0
                .lock()
                .unwrap()
                .replication_groups
                .insert(id.clone(), group);
            fake.tag(&id, &[("backup", "daily")]);
        }
        fake
    }

    #[tokio::test]
    async fn more_targets_than_one_execution_carries_is_refused() {
        let err = call(
            &deps(many(fleet::MAX_FLEET_TARGETS + 1)),
            json!({"discover": {"selector": {"tags": {"backup": "daily"}}}}),
        )
        .await
        .unwrap_err();
        assert_eq!(err.error_type(), "NotSupported");
        assert!(err.to_string().contains("1001 targets matched"), "{err}");
    }

    #[tokio::test]
    async fn beyond_an_inline_map_the_targets_go_to_the_bucket() {
        let n = fleet::MAX_INLINE_TARGETS + 1;
        let d = deps(many(n));
        let run = call(
            &d,
            json!({"discover": {"selector": {"tags": {"backup": "daily"}}, "name": "big"},
                   "execution": "exec-1"}),
        )
        .await
        .unwrap();
        assert!(run.targets.is_empty());
        assert_eq!(run.target_count, n);
        let object = run.targets_object.clone().unwrap();
        assert_eq!(
            (
                object.bucket.as_str(),
                object.key.as_str(),
                object.results_prefix.as_str()
            ),
            (
                "acme-backups",
                "fleet-runs/big/exec-1/targets.json",
                "fleet-runs/big/exec-1"
            )
        );
        let written: Vec<FleetTarget> =
            serde_json::from_slice(&d.exports.get("acme-backups", &object.key).unwrap()).unwrap();
        assert_eq!(written.len(), n);
        assert_eq!(written[0].input, json!({"replicationGroupId": "g-0000"}));
        // The document the state machine carries stays small: no target list.
        assert!(serde_json::to_string(&run).unwrap().len() < 1024);

        // At the limit, the fleet stays inline and writes nothing.
        let d = deps(many(fleet::MAX_INLINE_TARGETS));
        let run = call(
            &d,
            json!({"discover": {"selector": {"tags": {"backup": "daily"}}}}),
        )
        .await
        .unwrap();
        assert_eq!(run.targets.len(), fleet::MAX_INLINE_TARGETS);
        assert!(run.targets_object.is_none());
        assert!(d.exports.contents.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_distributed_fleet_needs_the_modules_bucket() {
        let mut d = deps(fleet());
        d.config.fleet_inline_max_targets = 1;
        d.config.default_bucket = None;
        let err = call(
            &d,
            json!({"discover": {"selector": {"tags": {"backup": "daily"}},
                                                "bucket": "acme-backups"}}),
        )
        .await
        .unwrap_err();
        assert_eq!(err.error_type(), "NotSupported");
        assert!(err.to_string().contains("BACKUP_BUCKET"), "{err}");
    }

    /// A Map Run's records as ResultWriter writes them: Input and Output are JSON strings.
    fn record(status: &str, item: &Value, output: Option<Value>) -> Value {
        let mut r = json!({"ExecutionArn": format!("arn:aws:states:us-east-1:1:execution:f/Backups:{}", item["target"].as_str().unwrap()),
                           "Input": item.to_string(), "Status": status});
        if let Some(o) = output {
            r["Output"] = json!(o.to_string());
        } else {
            r["Error"] = json!("States.Runtime");
            r["Cause"] = json!("the child workflow failed");
        }
        r
    }

    #[tokio::test]
    async fn a_distributed_fleet_is_summarized_from_the_map_runs_result_files() {
        let mut d = deps(fleet());
        d.config.fleet_inline_max_targets = 2;
        let run = call(
            &d,
            json!({"discover": {"selector": {"tags": {"backup": "daily"}}, "name": "big"}, "execution": "e"}),
        )
        .await
        .unwrap();
        let object = run.targets_object.clone().unwrap();
        let items: Vec<Value> =
            serde_json::from_slice(&d.exports.get("acme-backups", &object.key).unwrap()).unwrap();
        assert_eq!(items.len(), 3);
        let child = json!({"ExecutionArn": "arn:aws:states:us-east-1:1:execution:elasticache-backup:s-1",
                           "Status": "FAILED", "Error": "ClusterBusy", "Cause": "busy"});
        let succeeded = json!([
            record(
                "SUCCEEDED",
                &items[0],
                Some(json!({"target": "orders", "status": "SUCCEEDED",
                                                       "executionArn": "arn:o"}))
            ),
            record(
                "SUCCEEDED",
                &items[1],
                Some(json!({"target": "sessions", "failure": {
                "Error": "States.TaskFailed", "Cause": child.to_string()}}))
            ),
        ]);
        // cache-1's child workflow itself failed: no backup execution is known to have alerted for it.
        let failed = json!([record("FAILED", &items[2], None)]);
        let at = time::OffsetDateTime::UNIX_EPOCH;
        let prefix = format!("{}/0f1e", object.results_prefix);
        d.exports.put_bytes(
            "acme-backups",
            &format!("{prefix}/SUCCEEDED_0.json"),
            succeeded.to_string().into_bytes(),
            at,
        );
        d.exports.put_bytes(
            "acme-backups",
            &format!("{prefix}/FAILED_0.json"),
            failed.to_string().into_bytes(),
            at,
        );
        let manifest = json!({"DestinationBucket": "acme-backups", "MapRunArn": "arn:aws:states:us-east-1:1:mapRun:f/Backups:0f1e",
            "ResultFiles": {"FAILED": [{"Key": format!("{prefix}/FAILED_0.json"), "Size": 1}], "PENDING": [],
                            "SUCCEEDED": [{"Key": format!("{prefix}/SUCCEEDED_0.json"), "Size": 1}]}});
        d.exports.put_bytes(
            "acme-backups",
            &format!("{prefix}/manifest.json"),
            manifest.to_string().into_bytes(),
            at,
        );

        let mut doc = serde_json::to_value(&run).unwrap();
        doc["mapRun"] = json!({"MapRunArn": "arn:aws:states:us-east-1:1:mapRun:f/Backups:0f1e",
                               "ResultWriterDetails": {"Bucket": "acme-backups", "Key": format!("{prefix}/manifest.json")}});
        let out = serde_json::to_value(call(&d, json!({"summarize": doc.clone()})).await.unwrap())
            .unwrap();
        assert_eq!(
            out["summary"],
            json!({"succeeded": ["orders"], "failed": ["sessions", "cache-1"], "skipped": ["tiered", "memo"],
                   "notStarted": ["cache-1"]})
        );
        assert_eq!(
            out["resultsObject"],
            json!({"bucket": "acme-backups", "key": "fleet-runs/big/e/results.json"})
        );
        assert_eq!(out["targets"], json!([]));
        assert!(out.get("results").is_none() && out.get("mapRun").is_none());
        let results: Vec<Value> = serde_json::from_slice(
            &d.exports
                .get("acme-backups", "fleet-runs/big/e/results.json")
                .unwrap(),
        )
        .unwrap();
        assert_eq!(results[1]["error"], "ClusterBusy");
        assert_eq!(results[2]["status"], "NOT_STARTED");
        assert!(
            results[2]["cause"]
                .as_str()
                .unwrap()
                .contains("ended FAILED"),
            "{}",
            results[2]
        );

        // A manifest that is gone is an error, not an empty fleet.
        d.exports.contents.lock().unwrap().remove(&(
            "acme-backups".to_string(),
            format!("{prefix}/manifest.json"),
        ));
        let err = call(&d, json!({"summarize": doc})).await.unwrap_err();
        assert_eq!(err.error_type(), "AwsRejected");
        assert!(
            err.to_string().contains("manifest.json does not exist"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn summarize_lists_every_target_once() {
        let d = deps(FakeSnapshots::default());
        let doc = json!({"name": "f", "maxConcurrency": 2,
            "targets": [{"target": "a", "input": {"replicationGroupId": "a"}},
                        {"target": "b", "input": {"replicationGroupId": "b"}}],
            "skipped": [{"target": "m", "reason": "NotSupported"}],
            "results": [{"target": "a", "status": "SUCCEEDED", "executionArn": "arn:a"},
                        {"target": "b", "failure": {"Error": "States.TaskFailed",
                          "Cause": "{\"ExecutionArn\":\"arn:b\",\"Status\":\"FAILED\",\"Error\":\"ClusterBusy\",\"Cause\":\"busy\"}"}}]});
        let run = call(&d, json!({"summarize": doc})).await.unwrap();
        let out = serde_json::to_value(&run).unwrap();
        assert_eq!(
            out["summary"],
            json!({"succeeded": ["a"], "failed": ["b"], "skipped": ["m"]})
        );
        assert_eq!(out["results"][1]["error"], "ClusterBusy");
        let err = call(&d, json!({"summarize": {"name": 1}}))
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "InvalidInput");
        let err = call(&d, json!({"other": 1})).await.unwrap_err();
        assert_eq!(err.error_type(), "InvalidInput");
    }
}
