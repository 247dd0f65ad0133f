//! [`NotifyError`]: why the notify function failed, with stable `error_type` names.
//!
//! The function fails (so Lambda's asynchronous invocation retries it) only when a configured sink could not be
//! reached after its own retries; an event it does not understand is acknowledged, never an error.

use lambda_runtime::Diagnostic;

/// A failed notification.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// One or more configured sinks failed after their retries; the message names each and why.
    #[error("delivery failed: {0}")]
    Delivery(String),
}

impl NotifyError {
    /// The stable name Lambda reports as `errorType`.
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::Delivery(_) => "DeliveryFailed",
        }
    }
}

impl aws_adapters::start::IntoDiagnostic for NotifyError {
    fn into_diagnostic(self) -> Diagnostic {
        Diagnostic {
            error_type: self.error_type().to_string(),
            error_message: self.to_string(),
        }
    }
}

/// Why one sink failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SinkError {
    /// The secret holding the sink's URL or key could not be read.
    #[error("secret {arn}: {message}")]
    Secret {
        /// Secret ARN.
        arn: String,
        /// What went wrong.
        message: String,
    },
    /// The service refused the request for good (4xx other than 429): not retried.
    #[error("HTTP {status}: {body}")]
    Rejected {
        /// HTTP status.
        status: u16,
        /// Response body (truncated).
        body: String,
    },
    /// 429, 5xx or a network error: retried, and still failing after the last attempt.
    #[error("{message}")]
    Transient {
        /// What went wrong.
        message: String,
        /// `Retry-After`, seconds, when the service gave one.
        retry_after_seconds: Option<u64>,
    },
}

impl SinkError {
    /// Whether another attempt may succeed (429, 5xx, network).
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Transient { .. })
    }
}
