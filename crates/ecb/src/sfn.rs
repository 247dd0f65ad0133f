//! The Step Functions calls `ecb` makes (AWS Step Functions API Reference: `StartExecution`, `DescribeExecution`,
//! `ListExecutions`, `GetExecutionHistory`), turned into [`crate::progress`]'s types.

use aws_sdk_sfn::Client;
use aws_sdk_sfn::types::{ExecutionStatus, HistoryEvent};
use serde_json::Value;
use time::OffsetDateTime;

use crate::cli::Machine;
use crate::error::{CliError, CliResult};
use crate::progress::{Event, Execution};

/// Error codes meaning the execution or state machine is not there.
const NOT_FOUND: &[&str] = &["ExecutionDoesNotExist", "StateMachineDoesNotExist"];

/// An SDK timestamp as `time`'s (the epoch on a value out of range).
pub fn instant(t: &aws_smithy_types::DateTime) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(t.as_nanos()).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn json(text: Option<&str>) -> Option<Value> {
    text.map(|t| serde_json::from_str(t).unwrap_or_else(|_| Value::String(t.to_string())))
}

/// StartExecution of `machine_arn` named `name` with `input`; returns the execution ARN.
///
/// # Errors
/// `Usage` for `ExecutionAlreadyExists` (same name, other input), `InvalidName`, `InvalidExecutionInput` and
/// `InvalidArn` (a state machine ARN that is not one);
/// `NotFound` for a missing state machine; `Aws` otherwise.
pub async fn start(
    client: &Client,
    machine_arn: &str,
    name: &str,
    input: &Value,
) -> CliResult<String> {
    let out = client
        .start_execution()
        .state_machine_arn(machine_arn)
        .name(name)
        .input(input.to_string())
        .send()
        .await
        .map_err(|e| {
            let code = aws_smithy_types::error::metadata::ProvideErrorMetadata::code(&e)
                .map(str::to_string);
            match code.as_deref() {
                Some("ExecutionAlreadyExists" | "InvalidName" | "InvalidExecutionInput") => {
                    CliError::Usage(format!(
                        "StartExecution {name}: {}",
                        aws_smithy_types::error::display::DisplayErrorContext(&e)
                    ))
                }
                _ => CliError::aws("StartExecution", e, NOT_FOUND),
            }
        })?;
    Ok(out.execution_arn().to_string())
}

/// DescribeExecution of `arn`, with the machine it belongs to when `machines` knows its state machine.
///
/// # Errors
/// `NotFound` (`ExecutionDoesNotExist`), `Usage` (`InvalidArn`), `Aws`.
pub async fn describe(
    client: &Client,
    arn: &str,
    machines: &[(Machine, String)],
) -> CliResult<Execution> {
    let d = client
        .describe_execution()
        .execution_arn(arn)
        .send()
        .await
        .map_err(
            |e| match aws_smithy_types::error::metadata::ProvideErrorMetadata::code(&e) {
                Some("InvalidArn") => CliError::Usage(format!("{arn}: not an execution ARN")),
                _ => CliError::aws(&format!("DescribeExecution {arn}"), e, NOT_FOUND),
            },
        )?;
    let machine = machines
        .iter()
        .find(|(_, a)| a == d.state_machine_arn())
        .map(|(m, _)| *m);
    Ok(Execution {
        execution_arn: d.execution_arn().to_string(),
        name: d.name().unwrap_or_default().to_string(),
        machine,
        status: d.status().as_str().to_string(),
        start_date: instant(d.start_date()),
        stop_date: d.stop_date().map(instant),
        input: json(d.input()),
        output: json(d.output()),
        error: d.error().map(str::to_string),
        cause: d.cause().map(str::to_string),
    })
}

/// The events of `arn` newer than event `after` (oldest first), read newest first (`reverseOrder`) page by page
/// until event `after` is reached: a watcher reads each event once.
///
/// # Errors
/// `NotFound`, `Aws`.
pub async fn events_after(client: &Client, arn: &str, after: i64) -> CliResult<Vec<Event>> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    'pages: loop {
        let page = client
            .get_execution_history()
            .execution_arn(arn)
            .reverse_order(true)
            .max_results(200)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| CliError::aws(&format!("GetExecutionHistory {arn}"), e, NOT_FOUND))?;
        for e in page.events() {
            if e.id() <= after {
                break 'pages;
            }
            out.push(event(e));
        }
        match page.next_token() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    out.reverse();
    Ok(out)
}

/// One SDK history event as the view's [`Event`].
pub fn event(e: &HistoryEvent) -> Event {
    let (mut state, mut payload, mut error, mut cause) = (None, None, None, None);
    if let Some(d) = e.state_entered_event_details() {
        state = Some(d.name().to_string());
        payload = d.input().map(str::to_string);
    }
    if let Some(d) = e.state_exited_event_details() {
        state = Some(d.name().to_string());
        payload = d.output().map(str::to_string);
    }
    if let Some(d) = e.execution_started_event_details() {
        payload = d.input().map(str::to_string);
    }
    for (err, c) in [
        e.execution_failed_event_details()
            .map(|d| (d.error(), d.cause())),
        e.lambda_function_failed_event_details()
            .map(|d| (d.error(), d.cause())),
        e.task_failed_event_details()
            .map(|d| (d.error(), d.cause())),
        e.execution_aborted_event_details()
            .map(|d| (d.error(), d.cause())),
        e.execution_timed_out_event_details()
            .map(|d| (d.error(), d.cause())),
    ]
    .into_iter()
    .flatten()
    {
        error = err.map(str::to_string);
        cause = c.map(str::to_string);
    }
    Event {
        id: e.id(),
        timestamp: instant(e.timestamp()),
        kind: e.r#type().as_str().to_string(),
        state,
        payload,
        error,
        cause,
    }
}

/// One row of ListExecutions.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    /// The machine.
    pub machine: Machine,
    /// Execution ARN.
    pub arn: String,
    /// Name.
    pub name: String,
    /// Status.
    pub status: String,
    /// Start.
    pub start: OffsetDateTime,
    /// End.
    pub stop: Option<OffsetDateTime>,
}

/// The executions of `machine_arn` started since `since`, newest first, at most `limit`, with `status` only.
///
/// # Errors
/// `NotFound` (no such state machine), `Aws`.
pub async fn list(
    client: &Client,
    machine: Machine,
    machine_arn: &str,
    status: Option<&str>,
    since: OffsetDateTime,
    limit: usize,
) -> CliResult<Vec<Listed>> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .list_executions()
            .state_machine_arn(machine_arn)
            .set_status_filter(status.map(ExecutionStatus::from))
            .max_results(100)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| CliError::aws(&format!("ListExecutions {machine_arn}"), e, NOT_FOUND))?;
        for e in page.executions() {
            // Sorted "most recent first" (ListExecutions): an execution that ended before `since` started before it
            // too, and so did every one after it; one that started earlier but ended later is skipped, not an end.
            let start = instant(e.start_date());
            let stop = e.stop_date().map(instant);
            if stop.unwrap_or(start) < since || out.len() >= limit {
                return Ok(out);
            }
            if start < since {
                continue;
            }
            out.push(Listed {
                machine,
                arn: e.execution_arn().to_string(),
                name: e.name().to_string(),
                status: e.status().as_str().to_string(),
                start,
                stop,
            });
        }
        match page.next_token() {
            Some(t) => token = Some(t.to_string()),
            None => return Ok(out),
        }
    }
}

/// The execution ARN of execution `name` of state machine `machine_arn`
/// (`arn:<partition>:states:<region>:<account>:stateMachine:<m>` → `…:execution:<m>:<name>`).
pub fn execution_arn(machine_arn: &str, name: &str) -> String {
    format!(
        "{}:{name}",
        machine_arn.replacen(":stateMachine:", ":execution:", 1)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_execution_arn_is_the_machines_with_the_name() {
        assert_eq!(
            execution_arn(
                "arn:aws:states:eu-west-1:123456789012:stateMachine:elasticache-backup",
                "ecb-orders-1"
            ),
            "arn:aws:states:eu-west-1:123456789012:execution:elasticache-backup:ecb-orders-1"
        );
    }
}
