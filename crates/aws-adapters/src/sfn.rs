//! [`ExecutionHistory`] over the Step Functions SDK: an execution's failure context from its history; and
//! [`Executions`]: the executions of a state machine since a time, described.
//!
//! Source: AWS Step Functions API Reference, `GetExecutionHistory` (paginated by `nextToken`; `reverseOrder` gives
//! newest first), `HistoryEvent`, `ListExecutions` (paginated; "Results are sorted by time, with the most recent
//! execution first") and `DescribeExecution` (`input`, `error`, `cause`).

use async_trait::async_trait;
use aws_sdk_sfn::Client;
use aws_sdk_sfn::types::{HistoryEvent as SdkEvent, HistoryEventType};
use backup_core::error::BackupError;
use backup_core::execution_history::{Event, FailureContext, MAX_EVENTS, summarize};
use backup_core::model::Timestamp;
use backup_core::ports::{ExecutionHistory, Executions};
use backup_core::resources::{ExecutionRecord, MachineKind};

use crate::sdk::{fallback, timestamp};

/// [`ExecutionHistory`] over `aws_sdk_sfn` (`states:GetExecutionHistory`). An execution of another region (the DR
/// region's restore state machine, whose status changes EventBridge forwards to this region's bus) is read from
/// that region's endpoint: a client for it is built from this one's configuration once, then kept.
#[derive(Debug)]
pub struct SfnHistory {
    client: Client,
    other_regions: std::sync::Mutex<std::collections::HashMap<String, Client>>,
}

impl SfnHistory {
    /// Wraps a Step Functions client (of the function's own region).
    pub fn new(client: Client) -> Self {
        Self {
            client,
            other_regions: std::sync::Mutex::default(),
        }
    }

    /// The client for the region of `execution_arn` (`arn:<partition>:states:<region>:…`): the function's own, or
    /// one built for that region with the same configuration.
    pub fn client_for(&self, execution_arn: &str) -> Client {
        let region = execution_arn.split(':').nth(3).unwrap_or_default();
        let own = self
            .client
            .config()
            .region()
            .map(|r| r.as_ref().to_string());
        if region.is_empty() || own.as_deref() == Some(region) {
            return self.client.clone();
        }
        let mut others = self
            .other_regions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        others
            .entry(region.to_string())
            .or_insert_with(|| {
                Client::from_conf(
                    self.client
                        .config()
                        .to_builder()
                        .region(aws_sdk_sfn::config::Region::new(region.to_string()))
                        .build(),
                )
            })
            .clone()
    }
}

fn reduce(e: &SdkEvent) -> Event {
    type Pair = (Option<String>, Option<String>);
    let pair = |error: Option<&str>, cause: Option<&str>| -> Pair {
        (error.map(str::to_string), cause.map(str::to_string))
    };
    let ended = |p: Option<Pair>| {
        let (error, cause) = p.unwrap_or_default();
        Event::ExecutionEnded { error, cause }
    };
    let task = |p: Option<Pair>| {
        p.map_or(Event::Other, |(error, cause)| Event::TaskFailed {
            error,
            cause,
        })
    };
    match e.r#type() {
        HistoryEventType::ExecutionFailed => ended(
            e.execution_failed_event_details()
                .map(|d| pair(d.error(), d.cause())),
        ),
        HistoryEventType::ExecutionTimedOut => ended(Some(
            e.execution_timed_out_event_details()
                .map(|d| pair(d.error(), d.cause()))
                .unwrap_or((Some("States.Timeout".into()), None)),
        )),
        HistoryEventType::ExecutionAborted => ended(
            e.execution_aborted_event_details()
                .map(|d| pair(d.error(), d.cause())),
        ),
        HistoryEventType::LambdaFunctionFailed => task(
            e.lambda_function_failed_event_details()
                .map(|d| pair(d.error(), d.cause())),
        ),
        HistoryEventType::LambdaFunctionTimedOut => task(
            e.lambda_function_timed_out_event_details()
                .map(|d| pair(d.error(), d.cause())),
        ),
        HistoryEventType::TaskFailed => task(
            e.task_failed_event_details()
                .map(|d| pair(d.error(), d.cause())),
        ),
        HistoryEventType::TaskTimedOut => task(
            e.task_timed_out_event_details()
                .map(|d| pair(d.error(), d.cause())),
        ),
        HistoryEventType::TaskStateEntered => {
            e.state_entered_event_details()
                .map_or(Event::Other, |d| Event::TaskStateEntered {
                    name: d.name().to_string(),
                    input: d.input().map(str::to_string),
                })
        }
        _ => Event::Other,
    }
}

#[async_trait]
impl ExecutionHistory for SfnHistory {
    #[tracing::instrument(skip(self))]
    async fn failure_context(&self, execution_arn: &str) -> Result<FailureContext, String> {
        let mut pages = self
            .client_for(execution_arn)
            .get_execution_history()
            .execution_arn(execution_arn)
            .reverse_order(true)
            .include_execution_data(true)
            .into_paginator()
            .send();
        let mut events = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                format!(
                    "GetExecutionHistory {execution_arn}: {}",
                    aws_sdk_sfn::error::DisplayErrorContext(&e)
                )
            })?;
            events.extend(page.events().iter().map(reduce));
            let partial = summarize(events.iter().cloned());
            if partial.is_complete() || events.len() >= MAX_EVENTS {
                break;
            }
        }
        Ok(summarize(events))
    }
}

/// [`Executions`] over `aws_sdk_sfn` (`states:ListExecutions` on the state machine, `states:DescribeExecution` on
/// its executions).
#[derive(Debug, Clone)]
pub struct SfnExecutions {
    client: Client,
}

impl SfnExecutions {
    /// Wraps a Step Functions client.
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

#[async_trait]
impl Executions for SfnExecutions {
    #[tracing::instrument(skip(self))]
    async fn executions_since(
        &self,
        machine_arn: &str,
        machine: MachineKind,
        since: Timestamp,
    ) -> Result<Vec<ExecutionRecord>, BackupError> {
        let mut pages = self
            .client
            .list_executions()
            .state_machine_arn(machine_arn)
            .into_paginator()
            .send();
        let mut arns = Vec::new();
        'pages: while let Some(page) = pages.next().await {
            let page = page.map_err(|e| fallback("ListExecutions", machine_arn, e))?;
            for e in page.executions() {
                // Newest first: an execution that ended before `since` started before it, and so did every later
                // one in the list; one that started earlier but ended later is skipped, not an end.
                let start = timestamp(e.start_date());
                let stop = e.stop_date().and_then(timestamp);
                if stop.or(start).is_some_and(|t| t < since) {
                    break 'pages;
                }
                if start.is_some_and(|t| t >= since) {
                    arns.push(e.execution_arn().to_string());
                }
            }
        }
        let mut out = Vec::with_capacity(arns.len());
        for arn in arns {
            let d = self
                .client
                .describe_execution()
                .execution_arn(&arn)
                .send()
                .await
                .map_err(|e| fallback("DescribeExecution", &arn, e))?;
            out.push(ExecutionRecord {
                name: d.name().unwrap_or_default().to_string(),
                machine_arn: machine_arn.to_string(),
                machine,
                input: d
                    .input()
                    .and_then(|t| serde_json::from_str(t).ok())
                    .unwrap_or(serde_json::Value::Null),
                status: d.status().as_str().to_string(),
                started_at: timestamp(d.start_date()).unwrap_or(since),
                stopped_at: d.stop_date().and_then(timestamp),
                error: d.error().map(str::to_string),
                cause: d.cause().map(str::to_string),
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_sfn::operation::get_execution_history::GetExecutionHistoryOutput;
    use aws_sdk_sfn::types::{
        ExecutionFailedEventDetails, LambdaFunctionFailedEventDetails, StateEnteredEventDetails,
    };
    use aws_smithy_mocks::{RuleMode, mock, mock_client};
    use aws_smithy_types::DateTime;

    const ARN: &str =
        "arn:aws:states:us-east-1:123456789012:execution:elasticache-backup:nightly-1";

    fn event(id: i64, t: HistoryEventType) -> aws_sdk_sfn::types::builders::HistoryEventBuilder {
        SdkEvent::builder()
            .id(id)
            .r#type(t)
            .timestamp(DateTime::from_secs(1_700_000_000 + id))
    }

    #[tokio::test]
    async fn finds_the_failed_state_across_pages_newest_first() {
        // Page 1 (newest): the execution failure and the Catch path; page 2: the Lambda failure and the Task entry.
        let page1 = mock!(Client::get_execution_history)
            .match_requests(|r| {
                r.execution_arn() == Some(ARN)
                    && r.reverse_order() == Some(true)
                    && r.next_token().is_none()
            })
            .then_output(|| {
                GetExecutionHistoryOutput::builder()
                    .events(
                        event(30, HistoryEventType::ExecutionFailed)
                            .execution_failed_event_details(
                                ExecutionFailedEventDetails::builder()
                                    .error("ExportRejected")
                                    .cause(
                                        "ExportSnapshot failed for snapshot ecb-orders-1a2b3c4d: …",
                                    )
                                    .build(),
                            )
                            .build()
                            .unwrap(),
                    )
                    .events(
                        event(29, HistoryEventType::FailStateEntered)
                            .build()
                            .unwrap(),
                    )
                    .events(
                        event(28, HistoryEventType::PassStateExited)
                            .build()
                            .unwrap(),
                    )
                    .next_token("page-2")
                    .build()
                    .unwrap()
            });
        let page2 = mock!(Client::get_execution_history)
            .match_requests(|r| r.next_token() == Some("page-2"))
            .then_output(|| {
                GetExecutionHistoryOutput::builder()
                    .events(
                        event(20, HistoryEventType::LambdaFunctionFailed)
                            .lambda_function_failed_event_details(
                                LambdaFunctionFailedEventDetails::builder()
                                    .error("ExportRejected")
                                    .cause(r#"{"errorType":"ExportRejected","errorMessage":"CopySnapshot ecb-orders-1a2b3c4d to s3://b/ecb-orders-1a2b3c4d: InvalidParameterValue: The S3 bucket b does not exist."}"#)
                                    .build(),
                            )
                            .build()
                            .unwrap(),
                    )
                    .events(
                        event(18, HistoryEventType::TaskStateEntered)
                            .state_entered_event_details(
                                StateEnteredEventDetails::builder()
                                    .name("ExportSnapshot")
                                    .input(r#"{"input":{"replicationGroupId":"orders"},"snapshotName":"ecb-orders-1a2b3c4d"}"#)
                                    .build()
                                    .unwrap(),
                            )
                            .build()
                            .unwrap(),
                    )
                    .events(
                        event(10, HistoryEventType::TaskStateEntered)
                            .state_entered_event_details(
                                StateEnteredEventDetails::builder().name("CheckSnapshot").build().unwrap(),
                            )
                            .build()
                            .unwrap(),
                    )
                    .build()
                    .unwrap()
            });
        let client = mock_client!(aws_sdk_sfn, RuleMode::MatchAny, [&page1, &page2]);

        let ctx = SfnHistory::new(client).failure_context(ARN).await.unwrap();

        assert_eq!(ctx.failed_state.as_deref(), Some("ExportSnapshot"));
        assert_eq!(ctx.error.as_deref(), Some("ExportRejected"));
        assert_eq!(
            ctx.best_cause().as_deref(),
            Some(
                "CopySnapshot ecb-orders-1a2b3c4d to s3://b/ecb-orders-1a2b3c4d: InvalidParameterValue: The S3 bucket b does not exist."
            )
        );
        assert_eq!(
            ctx.run_document.unwrap()["snapshotName"],
            "ecb-orders-1a2b3c4d"
        );
        assert_eq!((page1.num_calls(), page2.num_calls()), (1, 1));
    }

    #[tokio::test]
    async fn a_history_without_a_failure_event_still_names_the_last_task() {
        let rule = mock!(Client::get_execution_history).then_output(|| {
            GetExecutionHistoryOutput::builder()
                .events(
                    event(7, HistoryEventType::ExecutionAborted)
                        .build()
                        .unwrap(),
                )
                .events(
                    event(6, HistoryEventType::WaitStateEntered)
                        .build()
                        .unwrap(),
                )
                .events(
                    event(5, HistoryEventType::TaskStateEntered)
                        .state_entered_event_details(
                            StateEnteredEventDetails::builder()
                                .name("CheckExport")
                                .input("{}")
                                .build()
                                .unwrap(),
                        )
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap()
        });
        let client = mock_client!(aws_sdk_sfn, [&rule]);
        let ctx = SfnHistory::new(client).failure_context(ARN).await.unwrap();
        assert_eq!(ctx.failed_state.as_deref(), Some("CheckExport"));
        assert_eq!(ctx.error, None);
        assert_eq!(ctx.best_cause(), None);
    }

    #[tokio::test]
    async fn an_unreadable_history_is_an_error_message_not_a_panic() {
        let rule = mock!(Client::get_execution_history).then_error(|| {
            aws_sdk_sfn::operation::get_execution_history::GetExecutionHistoryError::ExecutionDoesNotExist(
                aws_sdk_sfn::types::error::ExecutionDoesNotExist::builder().message("no such execution").build(),
            )
        });
        let client = mock_client!(aws_sdk_sfn, [&rule]);
        let err = SfnHistory::new(client)
            .failure_context(ARN)
            .await
            .unwrap_err();
        assert!(
            err.contains("ExecutionDoesNotExist") || err.contains("no such execution"),
            "{err}"
        );
    }

    #[test]
    fn an_execution_of_another_region_is_read_from_that_region() {
        let primary = Client::from_conf(
            aws_sdk_sfn::Config::builder()
                .behavior_version(aws_sdk_sfn::config::BehaviorVersion::latest())
                .region(aws_sdk_sfn::config::Region::new("us-east-1"))
                .build(),
        );
        let history = SfnHistory::new(primary);
        let region = |arn: &str| {
            history
                .client_for(arn)
                .config()
                .region()
                .map(|r| r.as_ref().to_string())
        };
        assert_eq!(region(ARN).as_deref(), Some("us-east-1"));
        let dr = "arn:aws:states:ap-northeast-1:123456789012:execution:elasticache-backup-restore:drill-1";
        assert_eq!(region(dr).as_deref(), Some("ap-northeast-1"));
        assert_eq!(region("not an arn").as_deref(), Some("us-east-1"));
    }

    fn listed(name: &str, start: i64, stop: Option<i64>) -> aws_sdk_sfn::types::ExecutionListItem {
        aws_sdk_sfn::types::ExecutionListItem::builder()
            .execution_arn(format!("arn:aws:states:us-east-1:1:execution:m:{name}"))
            .state_machine_arn(MACHINE)
            .name(name)
            .status(aws_sdk_sfn::types::ExecutionStatus::Succeeded)
            .start_date(DateTime::from_secs(start))
            .set_stop_date(stop.map(DateTime::from_secs))
            .build()
            .unwrap()
    }

    const MACHINE: &str = "arn:aws:states:us-east-1:1:stateMachine:m";

    #[tokio::test]
    async fn lists_the_executions_since_a_time_and_describes_each() {
        use aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput;
        use aws_sdk_sfn::operation::list_executions::ListExecutionsOutput;
        let page1 = mock!(Client::list_executions)
            .match_requests(|r| r.state_machine_arn() == Some(MACHINE) && r.next_token().is_none())
            .then_output(|| {
                ListExecutionsOutput::builder()
                    .executions(listed("new", 2_000, None))
                    .executions(listed("failed", 1_500, Some(1_600)))
                    .next_token("p2")
                    .build()
                    .unwrap()
            });
        // Page 2: one started before `since` but ended after (skipped), then one that ended before (the end).
        let page2 = mock!(Client::list_executions)
            .match_requests(|r| r.next_token() == Some("p2"))
            .then_output(|| {
                ListExecutionsOutput::builder()
                    .executions(listed("straddles", 900, Some(1_100)))
                    .executions(listed("old", 500, Some(600)))
                    .next_token("p3")
                    .build()
                    .unwrap()
            });
        let described = |name: &'static str, status: aws_sdk_sfn::types::ExecutionStatus| {
            mock!(Client::describe_execution)
                .match_requests(move |r| r.execution_arn().is_some_and(|a| a.ends_with(name)))
                .then_output(move || {
                    let failed = status == aws_sdk_sfn::types::ExecutionStatus::Failed;
                    DescribeExecutionOutput::builder()
                        .execution_arn(format!("arn:aws:states:us-east-1:1:execution:m:{name}"))
                        .state_machine_arn(MACHINE)
                        .name(name)
                        .status(status.clone())
                        .start_date(DateTime::from_secs(if failed { 1_500 } else { 2_000 }))
                        .input(r#"{"replicationGroupId":"orders"}"#)
                        .set_error(failed.then(|| "SnapshotFailed".to_string()))
                        .set_cause(failed.then(|| "the snapshot failed".to_string()))
                        .build()
                        .unwrap()
                })
        };
        let d_new = described("new", aws_sdk_sfn::types::ExecutionStatus::Running);
        let d_failed = described("failed", aws_sdk_sfn::types::ExecutionStatus::Failed);
        let client = mock_client!(
            aws_sdk_sfn,
            RuleMode::MatchAny,
            [&page1, &page2, &d_new, &d_failed]
        );
        let since = time::OffsetDateTime::from_unix_timestamp(1_000).unwrap();
        let got = SfnExecutions::new(client)
            .executions_since(MACHINE, MachineKind::Backup, since)
            .await
            .unwrap();
        let names: Vec<&str> = got.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["new", "failed"]);
        assert_eq!(got[1].error.as_deref(), Some("SnapshotFailed"));
        assert_eq!(got[1].cause.as_deref(), Some("the snapshot failed"));
        assert_eq!(got[1].input["replicationGroupId"], "orders");
        assert_eq!(got[0].status, "RUNNING");
        assert_eq!(
            (page1.num_calls(), page2.num_calls()),
            (1, 1),
            "page 3 is never read"
        );
    }

    #[tokio::test]
    async fn a_missing_state_machine_is_rejected_naming_it() {
        let rule = mock!(Client::list_executions).then_error(|| {
            aws_sdk_sfn::operation::list_executions::ListExecutionsError::StateMachineDoesNotExist(
                aws_sdk_sfn::types::error::StateMachineDoesNotExist::builder()
                    .message("no such machine")
                    .build(),
            )
        });
        let client = mock_client!(aws_sdk_sfn, [&rule]);
        let err = SfnExecutions::new(client)
            .executions_since(
                MACHINE,
                MachineKind::Backup,
                time::OffsetDateTime::UNIX_EPOCH,
            )
            .await
            .unwrap_err();
        assert!(err.to_string().contains(MACHINE), "{err}");
    }
}
