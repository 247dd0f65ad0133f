//! `ecb runs`: the recent executions of the three state machines as a table (target, kind, started, duration,
//! status, failed step and error), from ListExecutions, DescribeExecution (input, error) and, for a failed one, its
//! history read newest first (the failed step). `--target` filters the newest `--limit` of each state machine.

use futures_util::{StreamExt, TryStreamExt};
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;

use crate::app::App;
use crate::cli::{Machine, RunsArgs};
use crate::error::{CliError, CliResult};
use crate::progress::Event;
use crate::{sfn, table};

/// DescribeExecution calls in flight while listing.
const DESCRIBES_IN_FLIGHT: usize = 8;

/// One run as the table and `--json` give it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Run {
    /// The execution name.
    pub name: String,
    /// The execution ARN.
    pub execution_arn: String,
    /// `backup`, `fleet`, `restore` or `drill`.
    pub kind: String,
    /// What it is about (see [`target_of`]).
    pub target: String,
    /// Start.
    #[serde(with = "time::serde::rfc3339")]
    pub started: OffsetDateTime,
    /// Seconds from start to end (to now while running).
    pub duration_seconds: i64,
    /// The execution status.
    pub status: String,
    /// The state that failed, for a run that did not succeed.
    pub failed_step: Option<String>,
    /// The execution's error name.
    pub error: Option<String>,
}

/// The kind and target of an execution of `machine` with `input`: a backup's replication group or node; a fleet's
/// selector (`team=payments`) or target count; a restore's or drill's source (`--latest`) or backup (the manifest's
/// export name), with the new group (`orders → orders-restored`).
pub fn target_of(machine: Machine, input: &Value) -> (String, String) {
    let text = |k: &str| input.get(k).and_then(Value::as_str).map(str::to_string);
    match machine {
        Machine::Backup => (
            "backup".into(),
            text("replicationGroupId")
                .or_else(|| text("cacheClusterId"))
                .or_else(|| text("serverlessCacheName"))
                .unwrap_or_else(|| "?".into()),
        ),
        Machine::Fleet => {
            let selector = input
                .pointer("/selector/tags")
                .and_then(Value::as_object)
                .map(|tags| {
                    tags.iter()
                        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                        .collect::<Vec<_>>()
                        .join(",")
                });
            let count = input
                .get("targets")
                .and_then(Value::as_array)
                .map(|t| format!("{} targets", t.len()));
            (
                "fleet".into(),
                selector.or(count).unwrap_or_else(|| "?".into()),
            )
        }
        Machine::Restore => {
            let drill = input.get("drill").and_then(Value::as_bool).unwrap_or(false);
            let source = text("replicationGroupId")
                .or_else(|| text("serverlessCacheName"))
                .or_else(|| {
                    text("manifest").map(|m| {
                        let key = m.rsplit('/').next().unwrap_or(&m).to_string();
                        key.trim_end_matches(".manifest.json").to_string()
                    })
                });
            let source = source.unwrap_or_else(|| "?".into());
            let target = match text("targetReplicationGroupId")
                .or_else(|| text("targetServerlessCacheName"))
            {
                Some(to) => format!("{source} → {to}"),
                None => source,
            };
            ((if drill { "drill" } else { "restore" }).into(), target)
        }
    }
}

/// The step that failed, as notify names it in its page ([`backup_core::execution_history::summarize`]): the
/// state whose task failed last (the catch's Fail state is not it). `events` newest first.
pub fn failed_step(events: &[Event]) -> Option<String> {
    use backup_core::execution_history::{Event as Core, summarize};
    let core = events.iter().map(|e| match e.kind.as_str() {
        "ExecutionFailed" | "ExecutionTimedOut" | "ExecutionAborted" => Core::ExecutionEnded {
            error: e.error.clone(),
            cause: e.cause.clone(),
        },
        "LambdaFunctionFailed" | "LambdaFunctionTimedOut" | "TaskFailed" | "TaskTimedOut" => {
            Core::TaskFailed {
                error: e.error.clone(),
                cause: e.cause.clone(),
            }
        }
        "TaskStateEntered" => Core::TaskStateEntered {
            name: e.state.clone().unwrap_or_default(),
            input: e.payload.clone(),
        },
        _ => Core::Other,
    });
    summarize(core).failed_state
}

/// `ecb runs`.
///
/// # Errors
/// `Usage` when no state machine is known; `NotFound`, `Aws` from the calls.
pub async fn run(app: &App, args: &RunsArgs) -> CliResult<()> {
    let machines: Vec<(Machine, String)> = app
        .machines()
        .into_iter()
        .filter(|(m, _)| args.machine.is_none_or(|want| want == *m))
        .collect();
    if machines.is_empty() {
        let which = args.machine.map_or(Machine::Backup, |m| m);
        app.deployment.machine(which)?;
    }
    let since = time::Duration::try_from(args.since)
        .ok()
        .and_then(|d| OffsetDateTime::now_utc().checked_sub(d))
        .ok_or_else(|| CliError::Usage(format!("--since {:?}: too far back", args.since)))?;
    let client = app.sfn();
    let mut listed = Vec::new();
    for (machine, arn) in &machines {
        listed.extend(
            sfn::list(
                &client,
                *machine,
                arn,
                args.status.map(|s| s.api()),
                since,
                args.limit as usize,
            )
            .await?,
        );
    }
    listed.sort_by_key(|l| std::cmp::Reverse(l.start));
    let all = &machines;
    let runs: Vec<Run> = futures_util::stream::iter(listed.into_iter().map(|l| {
        let client = client.clone();
        async move {
            let d = sfn::describe(&client, &l.arn, all).await?;
            let (kind, target) = target_of(l.machine, d.input.as_ref().unwrap_or(&Value::Null));
            let failed_step = match d.status.as_str() {
                "FAILED" | "TIMED_OUT" | "ABORTED" => {
                    let mut events = sfn::events_after(&client, &l.arn, 0)
                        .await
                        .unwrap_or_default();
                    events.reverse();
                    failed_step(&events)
                }
                _ => None,
            };
            let end = d.stop_date.unwrap_or_else(OffsetDateTime::now_utc);
            Ok::<_, CliError>(Run {
                name: d.name,
                execution_arn: d.execution_arn,
                kind,
                target,
                started: d.start_date,
                duration_seconds: (end - d.start_date).whole_seconds().max(0),
                status: d.status,
                failed_step,
                error: d.error,
            })
        }
    }))
    .buffered(DESCRIBES_IN_FLIGHT)
    .try_collect()
    .await?;
    let runs: Vec<Run> = runs
        .into_iter()
        .filter(|r| {
            args.target
                .as_deref()
                .is_none_or(|t| r.target == t || r.target.split(" → ").any(|p| p == t))
        })
        .take(args.limit as usize)
        .collect();
    if app.global.json {
        table::print_json(&runs);
        return Ok(());
    }
    if runs.is_empty() {
        crate::table::out(format!("no runs since {}", table::time(since)));
        return Ok(());
    }
    let mut t = table::new(&[
        "target",
        "kind",
        "started",
        "duration",
        "status",
        "failed step",
        "error",
        "execution",
    ]);
    for r in &runs {
        t.add_row(vec![
            r.target.clone(),
            r.kind.clone(),
            table::time(r.started),
            table::duration(r.duration_seconds),
            r.status.clone(),
            r.failed_step.clone().unwrap_or_default(),
            r.error.clone().unwrap_or_default(),
            r.name.clone(),
        ]);
    }
    crate::table::out(&t);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    #[test]
    fn each_machine_names_its_target() {
        assert_eq!(
            target_of(Machine::Backup, &json!({"cacheClusterId": "orders-001"})),
            ("backup".into(), "orders-001".into())
        );
        assert_eq!(
            target_of(
                Machine::Fleet,
                &json!({"selector": {"tags": {"team": "payments"}}})
            ),
            ("fleet".into(), "team=payments".into())
        );
        assert_eq!(
            target_of(
                Machine::Restore,
                &json!({"manifest": "s3://b/ecb-orders-x.manifest.json", "targetReplicationGroupId": "new"})
            ),
            ("restore".into(), "ecb-orders-x → new".into())
        );
        assert_eq!(
            target_of(
                Machine::Restore,
                &json!({"serverlessCacheName": "sessions", "latest": true, "targetServerlessCacheName": "sessions-sl"})
            ),
            ("restore".into(), "sessions → sessions-sl".into())
        );
        assert_eq!(
            target_of(
                Machine::Restore,
                &json!({"replicationGroupId": "orders", "latest": true, "drill": true})
            ),
            ("drill".into(), "orders".into())
        );
    }

    fn event(id: i64, kind: &str, state: Option<&str>) -> Event {
        Event {
            id,
            timestamp: datetime!(2026-12-04 03:00:00 UTC),
            kind: kind.into(),
            state: state.map(str::to_string),
            payload: None,
            error: None,
            cause: None,
        }
    }

    #[test]
    fn the_failed_step_is_the_state_whose_task_failed_not_the_catch() {
        // Newest first: the catch's Fail state was entered after CheckSnapshot's Lambda failed.
        let events = vec![
            event(9, "ExecutionFailed", None),
            event(8, "FailStateEntered", Some("BackupFailed")),
            event(7, "TaskStateExited", Some("CheckSnapshot")),
            event(6, "LambdaFunctionFailed", None),
            event(5, "LambdaFunctionStarted", None),
            event(4, "TaskStateEntered", Some("CheckSnapshot")),
            event(3, "TaskStateEntered", Some("CreateSnapshot")),
        ];
        assert_eq!(failed_step(&events).as_deref(), Some("CheckSnapshot"));
        // No task ran (a Choice refused the input): no failed step, as notify's page has none.
        let plain = vec![
            event(3, "ExecutionFailed", None),
            event(2, "FailStateEntered", Some("Refused")),
        ];
        assert_eq!(failed_step(&plain), None);
        assert_eq!(failed_step(&[event(1, "ExecutionSucceeded", None)]), None);
    }
}
