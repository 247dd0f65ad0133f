//! The children's results: one raw Map result as a [`FleetResult`], and a Distributed Map's result files (its
//! `manifest.json`, each child workflow's record).

use serde_json::{Value, json};

use super::document::{FleetResult, MAX_CAUSE_CHARS};
use crate::error::BackupError;

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

/// A fleet list read from the bucket (the targets, a Map Run's `manifest.json` or result file) as `T`; `bytes` is
/// the object's body, `None` when `s3://bucket/key` does not exist.
///
/// # Errors
/// [`BackupError::AwsRejected`] when the object is missing or not the JSON expected.
pub fn fleet_list<T: serde::de::DeserializeOwned>(
    bucket: &str,
    key: &str,
    bytes: Option<Vec<u8>>,
) -> Result<T, BackupError> {
    let bytes = bytes.ok_or_else(|| BackupError::AwsRejected {
        message: format!("s3://{bucket}/{key} does not exist (a fleet list, expired or deleted?)"),
        source: None,
    })?;
    serde_json::from_slice(&bytes).map_err(|e| BackupError::AwsRejected {
        message: format!("s3://{bucket}/{key} is not the JSON expected: {e}"),
        source: None,
    })
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
    }

    #[test]
    fn a_fleet_list_that_is_missing_or_malformed_is_refused() {
        let list: Vec<u32> = fleet_list("b", "k", Some(b"[1, 2]".to_vec())).unwrap();
        assert_eq!(list, [1, 2]);
        let missing = fleet_list::<Vec<u32>>("b", "k", None).unwrap_err();
        assert_eq!(missing.error_type(), "AwsRejected");
        assert!(
            missing.to_string().contains("s3://b/k does not exist"),
            "{missing}"
        );
        let bad = fleet_list::<Vec<u32>>("b", "k", Some(b"{".to_vec())).unwrap_err();
        assert!(
            bad.to_string()
                .contains("s3://b/k is not the JSON expected"),
            "{bad}"
        );
    }
}
