//! The fleet state machine's two steps, one function:
//!
//! - `{"discover": <fleet execution input>}` → the fleet document ([`FleetRun`]): the input validated
//!   ([`backup_core::fleet::validate`], before any AWS call), then for a selector every replication group
//!   (`DescribeReplicationGroups`) and every standalone cluster (`DescribeCacheClusters` with
//!   `ShowCacheClustersNotInReplicationGroups`), all pages, whose tags (`ListTagsForResource`) carry every selector
//!   tag: each becomes one child input, or a [`backup_core::fleet::Skipped`] record (Memcached, data tiering, being
//!   deleted). Errors: `InvalidInput`; `TargetNotFound` when a selector matches nothing that can be backed up (a
//!   schedule that backs up nothing must page, not pass); `NotSupported` beyond
//!   [`backup_core::fleet::MAX_FLEET_TARGETS`] targets; `Throttled`, `AwsError`.
//! - `{"summarize": <fleet document with results>}` → the same document with `results` normalised and `summary`
//!   ([`backup_core::fleet::summarize`]). Errors: `InvalidInput` for a document that is not a fleet document.

use backup_core::fleet::{self, FleetRun, FleetTarget, Skipped, Which};
use backup_core::ports::{Groups, Inventory};
use backup_core::{BackupError, Clock, Deps};
use lambda_runtime::LambdaEvent;
use serde_json::Value;

/// Handles one invocation (see the module documentation).
///
/// # Errors
/// See the module documentation.
#[tracing::instrument(skip_all)]
pub async fn function_handler<S: Inventory + Groups, C: Clock>(
    event: LambdaEvent<Value>,
    deps: &Deps<S, (), (), C>,
) -> Result<FleetRun, BackupError> {
    let payload = event.payload;
    if let Some(input) = payload.get("discover") {
        return discover(input, deps).await;
    }
    if let Some(doc) = payload.get("summarize") {
        let run: FleetRun = serde_json::from_value(doc.clone()).map_err(|e| {
            BackupError::invalid_input("summarize", format!("is not a fleet document: {e}"))
        })?;
        let run = fleet::summarize(run);
        if let Some(s) = &run.summary {
            tracing::info!(fleet = %run.name, succeeded = ?s.succeeded, failed = ?s.failed, skipped = ?s.skipped,
                "fleet summary");
        }
        return Ok(run);
    }
    Err(BackupError::invalid_input(
        "(input)",
        "must be {\"discover\": <fleet input>} or {\"summarize\": <fleet document>}",
    ))
}

async fn discover<S: Inventory + Groups, C: Clock>(
    input: &Value,
    deps: &Deps<S, (), (), C>,
) -> Result<FleetRun, BackupError> {
    let request = fleet::validate(input, &deps.config)?;
    let (selector, targets, skipped) = match request.which {
        Which::Targets(targets) => (None, targets, Vec::new()),
        Which::Selector(selector) => {
            let (targets, skipped) = select(&selector, &request.options, &deps.snapshots).await?;
            if targets.is_empty() {
                let why = if skipped.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; matched but not supported: {}",
                        skipped
                            .iter()
                            .map(|s| format!("{} ({})", s.target, s.reason))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                return Err(BackupError::TargetNotFound {
                    message: format!(
                        "fleet {}: the selector {} matched no replication group or standalone cluster that can be \
                         backed up in this region{why}",
                        request.name,
                        selector.label()
                    ),
                    source: None,
                });
            }
            (Some(selector), targets, skipped)
        }
    };
    if targets.len() > fleet::MAX_FLEET_TARGETS {
        return Err(BackupError::NotSupported {
            message: format!(
                "fleet {}: {} targets matched; one fleet execution backs up at most {} (the Step Functions payload \
                 limit): split the selector into several schedules",
                request.name,
                targets.len(),
                fleet::MAX_FLEET_TARGETS
            ),
            source: None,
        });
    }
    for t in &targets {
        tracing::info!(fleet = %request.name, target = %t.target, "target");
    }
    for s in &skipped {
        tracing::warn!(fleet = %request.name, target = %s.target, reason = %s.reason, "matched, skipped");
    }
    Ok(FleetRun {
        name: request.name,
        selector,
        max_concurrency: request.max_concurrency,
        targets,
        skipped,
        results: None,
        summary: None,
    })
}

/// Every group, then every standalone cluster, whose tags match: a child input each, or why it is skipped.
async fn select<S: Inventory + Groups>(
    selector: &fleet::Selector,
    options: &serde_json::Map<String, Value>,
    elasticache: &S,
) -> Result<(Vec<FleetTarget>, Vec<Skipped>), BackupError> {
    let mut targets = Vec::new();
    let mut skipped = Vec::new();
    for g in elasticache.replication_groups().await? {
        let Some(tags) = tags_of(elasticache, g.arn.as_deref()).await? else {
            continue;
        };
        if selector.matches(&tags) {
            match fleet::judge_group(&g, options) {
                Ok(t) => targets.push(t),
                Err(s) => skipped.push(s),
            }
        }
    }
    for c in elasticache.standalone_cache_clusters().await? {
        let Some(tags) = tags_of(elasticache, c.arn.as_deref()).await? else {
            continue;
        };
        if selector.matches(&tags) {
            match fleet::judge_cluster(&c, options) {
                Ok(t) => targets.push(t),
                Err(s) => skipped.push(s),
            }
        }
    }
    Ok((targets, skipped))
}

/// The resource's tags; `None` for a resource gone since it was listed (or listed without an ARN).
async fn tags_of<S: Groups>(
    elasticache: &S,
    arn: Option<&str>,
) -> Result<Option<Vec<(String, String)>>, BackupError> {
    let Some(arn) = arn else {
        return Ok(None);
    };
    match elasticache.tags(arn).await {
        Ok(tags) => Ok(Some(tags)),
        Err(BackupError::TargetNotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use backup_core::Config;
    use backup_core::testing::{FakeSnapshots, FixedClock};
    use lambda_runtime::Context;
    use serde_json::json;

    fn deps(fake: FakeSnapshots) -> Deps<FakeSnapshots, (), (), FixedClock> {
        Deps {
            snapshots: fake,
            exports: (),
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

    async fn call(
        d: &Deps<FakeSnapshots, (), (), FixedClock>,
        payload: Value,
    ) -> Result<FleetRun, BackupError> {
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
        for id in ["orders", "sessions", "tiered", "cache-1", "memo"] {
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

    #[tokio::test]
    async fn more_targets_than_one_execution_carries_is_refused() {
        let mut fake = FakeSnapshots::default();
        for i in 0..=fleet::MAX_FLEET_TARGETS {
            let id = format!("g-{i:03}");
            fake = fake.merge(FakeSnapshots::cluster_mode_disabled(&id, &[]));
            fake.tag(&id, &[("backup", "daily")]);
        }
        let err = call(
            &deps(fake),
            json!({"discover": {"selector": {"tags": {"backup": "daily"}}}}),
        )
        .await
        .unwrap_err();
        assert_eq!(err.error_type(), "NotSupported");
        assert!(err.to_string().contains("151 targets matched"), "{err}");
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
