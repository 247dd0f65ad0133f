//! What an execution history says about a failure: the failed state, the error and cause, and the run document
//! the failed state was given (for the cluster and snapshot name).
//!
//! Source: AWS Step Functions API Reference, `GetExecutionHistory` (paginated by `nextToken`; `reverseOrder` gives
//! newest first) and `HistoryEvent`.

use serde_json::Value;

/// Most events read from one history: a failure is near the end, and the history may hold 25,000.
pub const MAX_EVENTS: usize = 1000;

/// What the history told.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FailureContext {
    /// The Task state that failed (the newest Task state entered).
    pub failed_state: Option<String>,
    /// The execution's error (ExecutionFailed/TimedOut/Aborted), e.g. `ExportRejected`.
    pub error: Option<String>,
    /// The execution's cause.
    pub cause: Option<String>,
    /// The failing task's own error and cause (LambdaFunctionFailed / TaskFailed), if any.
    pub task_error: Option<String>,
    /// See `task_error`; for Lambda a JSON `{"errorType","errorMessage"}` string.
    pub task_cause: Option<String>,
    /// The input of the failed state: the run document.
    pub run_document: Option<Value>,
}

impl FailureContext {
    /// The most readable cause: the handler's `errorMessage` if the task cause is Lambda's JSON, else the task
    /// cause, else the execution cause.
    pub fn best_cause(&self) -> Option<String> {
        let from_task = self.task_cause.as_ref().map(|c| {
            serde_json::from_str::<Value>(c)
                .ok()
                .and_then(|v| {
                    v.get("errorMessage")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                })
                .unwrap_or_else(|| c.clone())
        });
        from_task.or_else(|| self.cause.clone())
    }

    /// The failed state, the error and the task cause are all known: reading more history cannot add to them.
    pub fn is_complete(&self) -> bool {
        self.failed_state.is_some() && self.error.is_some() && self.task_cause.is_some()
    }
}

/// One history event, reduced to what matters here.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// ExecutionFailed / ExecutionTimedOut / ExecutionAborted.
    ExecutionEnded {
        /// Error.
        error: Option<String>,
        /// Cause.
        cause: Option<String>,
    },
    /// LambdaFunctionFailed / LambdaFunctionTimedOut / TaskFailed / TaskTimedOut.
    TaskFailed {
        /// Error.
        error: Option<String>,
        /// Cause.
        cause: Option<String>,
    },
    /// TaskStateEntered.
    TaskStateEntered {
        /// State name.
        name: String,
        /// State input (JSON text).
        input: Option<String>,
    },
    /// Anything else.
    Other,
}

/// Folds events, newest first, into a [`FailureContext`]; stops early once it has everything.
pub fn summarize(events: impl IntoIterator<Item = Event>) -> FailureContext {
    let mut ctx = FailureContext::default();
    for e in events.into_iter().take(MAX_EVENTS) {
        match e {
            Event::ExecutionEnded { error, cause }
                if ctx.error.is_none() && ctx.cause.is_none() =>
            {
                ctx.error = error;
                ctx.cause = cause;
            }
            Event::TaskFailed { error, cause }
                if ctx.task_cause.is_none() && ctx.task_error.is_none() =>
            {
                ctx.task_error = error;
                ctx.task_cause = cause;
            }
            Event::TaskStateEntered { name, input } if ctx.failed_state.is_none() => {
                ctx.failed_state = Some(name);
                ctx.run_document = input.and_then(|i| serde_json::from_str(&i).ok());
            }
            _ => {}
        }
        if ctx.is_complete() {
            break;
        }
    }
    ctx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summarize_keeps_the_newest_of_each() {
        let ctx = summarize([
            Event::ExecutionEnded {
                error: Some("SnapshotTimeout".into()),
                cause: Some("c".into()),
            },
            Event::TaskStateEntered {
                name: "CheckSnapshot".into(),
                input: None,
            },
            Event::TaskStateEntered {
                name: "CreateSnapshot".into(),
                input: None,
            },
        ]);
        assert_eq!(ctx.failed_state.as_deref(), Some("CheckSnapshot"));
        assert_eq!(ctx.best_cause().as_deref(), Some("c"));
    }
}
