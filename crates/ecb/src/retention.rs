//! `ecb retention`: what retention would delete (a dry run by default), decided by the deployed retention function
//! itself — the same code, permissions and bucket as its schedule — invoked with the schedule's policy
//! (EventBridge Scheduler `GetSchedule`: the target's `Input`), `dryRun` unless `--apply`. AWS Lambda API Reference,
//! `Invoke` (RequestResponse: the function's result, or `FunctionError` with `{errorType, errorMessage}`).

use serde::Serialize;
use serde_json::{Map, Value, json};

use backup_core::retention::plan::RetentionRequest;

use crate::app::App;
use crate::cli::RetentionArgs;
use crate::error::{CliError, CliResult};
use crate::table;

/// The retention policy: the schedule's input (`keepLast`, `keepDays`, `graceHours`, …) with the flags over it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Policy {
    /// Newest verified backups kept per target.
    pub keep_last: u32,
    /// Days within which every verified backup is kept (0: only `keep_last`).
    pub keep_days: u32,
    /// Whether the schedule itself runs dry (deletes nothing).
    pub schedule_dry_run: Option<bool>,
    /// The whole input the function gets.
    pub input: Map<String, Value>,
}

impl Policy {
    /// The retention request the function will be given (`dryRun` aside), checked as the function checks it
    /// ([`backup_core::retention::run::request_of`]); `bucket` is the functions' default.
    ///
    /// # Errors
    /// `Usage` naming the field and its rule (`keepLast` 1-1000, `keepDays` 0-3650, …).
    pub fn request(&self, bucket: Option<&str>) -> CliResult<RetentionRequest> {
        let config = backup_core::Config {
            default_bucket: Some(bucket.unwrap_or("bucket-of-the-functions").to_string()),
            ..backup_core::Config::default()
        };
        backup_core::retention::run::request_of(Value::Object(self.input.clone()), &config)
            .map(|(request, _)| request)
            .map_err(|e| CliError::Usage(format!("retention policy: {e}")))
    }
}

/// The policy from `keep_last`/`keep_days` over the retention schedule's input (Terraform output
/// `retention_schedule_name`); `None` when neither says anything.
///
/// # Errors
/// `Aws` when the schedule cannot be read; `Failed` when its input is not a retention request.
pub async fn policy(
    app: &App,
    keep_last: Option<u32>,
    keep_days: Option<u32>,
) -> CliResult<Option<Policy>> {
    let mut input = Map::new();
    let mut schedule_dry_run = None;
    if let Some(name) = app.deployment.text("retention_schedule_name") {
        let client = aws_sdk_scheduler::Client::new(&app.sdk);
        let s = client.get_schedule().name(name).send().await.map_err(|e| {
            CliError::aws(
                &format!("GetSchedule {name}"),
                e,
                &["ResourceNotFoundException"],
            )
        })?;
        let text = s.target().and_then(|t| t.input()).unwrap_or("{}");
        input = serde_json::from_str::<Map<String, Value>>(text).map_err(|e| {
            CliError::Failed(format!(
                "schedule {name}: its input is not a JSON object: {e}"
            ))
        })?;
        schedule_dry_run = input.get("dryRun").and_then(Value::as_bool);
    }
    if let Some(n) = keep_last {
        input.insert("keepLast".into(), json!(n));
    }
    if let Some(d) = keep_days {
        input.insert("keepDays".into(), json!(d));
    }
    let Some(keep_last) = input.get("keepLast").and_then(Value::as_u64) else {
        return Ok(None);
    };
    let keep_days = input.get("keepDays").and_then(Value::as_u64).unwrap_or(0);
    Ok(Some(Policy {
        keep_last: u32::try_from(keep_last).unwrap_or(u32::MAX),
        keep_days: u32::try_from(keep_days).unwrap_or(u32::MAX),
        schedule_dry_run,
        input,
    }))
}

/// `ecb retention`.
///
/// # Errors
/// `Usage` without a policy or a retention function; `Failed` when the function fails (its error named); `Aws`.
pub async fn run(app: &App, args: &RetentionArgs) -> CliResult<()> {
    let policy = policy(app, args.keep_last, args.keep_days).await?.ok_or_else(|| {
        CliError::Usage(
            "no retention policy: give --keep-last (and --keep-days), or a deployment with a retention schedule (output retention_schedule_name)"
                .into(),
        )
    })?;
    let function = app
        .deployment
        .map("function_names")
        .remove("retention")
        .ok_or_else(|| {
            CliError::Usage(
                "the retention function is not known: give --terraform-dir (output function_names)"
                    .into(),
            )
        })?;
    let mut input = policy.input.clone();
    input.insert("dryRun".into(), json!(!args.apply));
    if let Some(b) = &app.global.bucket {
        input.insert("bucket".into(), json!(b));
    }
    let checked = Policy {
        input: input.clone(),
        ..policy.clone()
    };
    checked.request(app.deployment.bucket.as_deref())?;
    let client = aws_sdk_lambda::Client::new(&app.sdk);
    let out = client
        .invoke()
        .function_name(&function)
        .payload(aws_smithy_types::Blob::new(
            Value::Object(input).to_string(),
        ))
        .send()
        .await
        .map_err(|e| {
            CliError::aws(
                &format!("Invoke {function}"),
                e,
                &["ResourceNotFoundException"],
            )
        })?;
    let body: Value = out
        .payload()
        .and_then(|p| serde_json::from_slice(p.as_ref()).ok())
        .unwrap_or(Value::Null);
    if out.function_error().is_some() {
        return Err(CliError::Failed(format!(
            "retention function {function}: {}: {}",
            body.get("errorType")
                .and_then(Value::as_str)
                .unwrap_or("Unhandled"),
            body.get("errorMessage")
                .and_then(Value::as_str)
                .unwrap_or("(no message)")
        )));
    }
    if app.global.json {
        table::print_json(&body);
    } else {
        crate::table::out(render(&body));
    }
    Ok(())
}

/// The retention report (`backup_core::retention::plan::RetentionReport` as JSON) for a person: a table of the
/// sets per target, then the orphans, the swept snapshots, and the totals.
pub fn render(report: &Value) -> String {
    let list = |v: &Value, k: &str| -> Vec<String> {
        v.get(k)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let dry = report
        .get("dryRun")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let verb = if dry { "would delete" } else { "deleted" };
    let mut t = table::new(&["target", "backup set", "action"]);
    for target in report
        .get("targets")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let id = target.get("target").and_then(Value::as_str).unwrap_or("?");
        for set in list(target, "deleted") {
            t.add_row(vec![id.to_string(), set, verb.to_string()]);
        }
        for set in list(target, "kept") {
            t.add_row(vec![id.to_string(), set, "keep".to_string()]);
        }
    }
    for key in list(report, "orphansDeleted") {
        t.add_row(vec![
            "(no manifest)".into(),
            key,
            format!("{verb} (older than the grace period)"),
        ]);
    }
    for key in list(report, "orphansKept") {
        t.add_row(vec![
            "(no manifest)".into(),
            key,
            "keep (within the grace period)".into(),
        ]);
    }
    for key in list(report, "unreadableManifests") {
        t.add_row(vec![
            "(unreadable)".into(),
            key,
            "keep (manifest unreadable)".into(),
        ]);
    }
    for s in report
        .pointer("/snapshots/deleted")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        t.add_row(vec![
            s.get("target")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .into(),
            format!(
                "snapshot {}",
                s.get("name").and_then(Value::as_str).unwrap_or("?")
            ),
            format!("{verb} (a later verified backup exists)"),
        ]);
    }
    let objects = report
        .get("objectsDeleted")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let bytes = report
        .get("bytesDeleted")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let policy = report
        .get("policy")
        .map(Value::to_string)
        .unwrap_or_default();
    let mut out = format!(
        "{}retention of s3://{} (policy {policy})\n{t}\n{verb}: {objects} object(s), {}",
        if dry { "dry run: " } else { "" },
        report.get("bucket").and_then(Value::as_str).unwrap_or("?"),
        crate::progress::bytes(bytes)
    );
    for e in list(report, "errors") {
        out.push_str(&format!("\nerror: {e}"));
    }
    if let Some(k) = report.get("reportKey").and_then(Value::as_str) {
        out.push_str(&format!("\nreport: {k}"));
    }
    if dry {
        out.push_str("\nnothing was deleted (ecb retention --apply deletes)");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dry_run_says_what_would_go_and_that_nothing_went() {
        let report = json!({
            "dryRun": true, "bucket": "b", "policy": {"keepLast": 1},
            "targets": [{"target": "orders", "kind": "replication-group", "kept": ["ecb-orders-2"],
                         "deleted": ["ecb-orders-1"]}],
            "orphansDeleted": [], "orphansKept": ["ecb-orders-3-0001.rdb"], "unreadableManifests": [],
            "snapshots": {"deleted": [], "kept": []}, "objectsDeleted": 2, "bytesDeleted": 2048,
            "errors": [], "reportKey": "retention-reports/x.json"
        });
        let text = render(&report);
        assert!(text.starts_with("dry run: retention of s3://b"), "{text}");
        assert!(
            text.contains("ecb-orders-1") && text.contains("would delete"),
            "{text}"
        );
        assert!(text.contains("keep (within the grace period)"), "{text}");
        assert!(
            text.contains("would delete: 2 object(s), 2.0 KiB"),
            "{text}"
        );
        assert!(
            text.ends_with("nothing was deleted (ecb retention --apply deletes)"),
            "{text}"
        );
        let applied = render(&json!({"dryRun": false, "bucket": "b", "targets": [
            {"target": "orders", "kept": [], "deleted": ["ecb-orders-1"]}]}));
        assert!(
            applied.contains("deleted") && !applied.contains("nothing was deleted"),
            "{applied}"
        );
    }
}
