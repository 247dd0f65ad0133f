//! The summary: every target in exactly one list, from the Map's results.

use std::collections::BTreeMap;

use serde_json::Value;

use super::document::{FleetResult, FleetRun, FleetSummary, ObjectRef, TargetsObject};
use super::results::result_of;

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

/// The summary of a Distributed Map fleet whose targets are in `object`: `run` (its targets read back) with the
/// Map Run's `raw` results summarised ([`summarize`]); every result goes to `results.json` beside the targets
/// (`resultsObject`), so the document returned carries the summary without the lists. Answers that document, its
/// `resultsObject` (`object.results_key()` in the targets' bucket) and the body to write there (a JSON array of
/// [`FleetResult`]).
pub fn summarize_distributed(
    mut run: FleetRun,
    raw: Vec<Value>,
    object: TargetsObject,
) -> (FleetRun, ObjectRef, String) {
    run.results = Some(raw);
    let mut run = summarize(run);
    let key = object.results_key();
    let body = serde_json::to_string(&run.results).unwrap_or_else(|_| "[]".into());
    let to = ObjectRef {
        bucket: object.bucket,
        key,
    };
    run.results_object = Some(to.clone());
    run.targets.clear();
    run.results = None;
    (run, to, body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;
    use crate::config::MAX_INLINE_TARGETS;
    use crate::fleet::document::{FleetTarget, Skipped};
    use crate::fleet::input::{Which, validate};
    use serde_json::json;

    fn cfg() -> Config {
        Config {
            default_bucket: Some("default-bucket".into()),
            ..Config::default()
        }
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

    #[test]
    fn a_distributed_fleet_writes_its_results_beside_its_targets_and_returns_only_the_summary() {
        let object = TargetsObject::new("acme-backups", "f", "x");
        let run = FleetRun {
            name: "f".into(),
            targets: vec![FleetTarget {
                target: "a".into(),
                input: json!({"replicationGroupId": "a"}),
            }],
            target_count: 1,
            targets_object: Some(object.clone()),
            ..Default::default()
        };
        let raw = vec![json!({"target": "a", "status": "SUCCEEDED", "executionArn": "arn:a"})];
        let (run, to, body) = summarize_distributed(run, raw, object);
        assert_eq!(
            (to.bucket.as_str(), to.key.as_str()),
            ("acme-backups", "fleet-runs/f/x/results.json")
        );
        assert_eq!(
            serde_json::from_str::<Value>(&body).unwrap(),
            json!([{"target": "a", "status": "SUCCEEDED", "executionArn": "arn:a"}])
        );
        assert_eq!(run.results_object, Some(to));
        assert!(run.targets.is_empty() && run.results.is_none());
        assert_eq!(run.summary.unwrap().succeeded, ["a"]);
    }
}
