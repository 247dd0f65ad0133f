//! What every SDK adapter shares: SDK errors are translated here, on modeled variants first
//! (`match err.as_service_error()`), `ProvideErrorMetadata::code()` only as the last fallthrough; never on text.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use backup_core::error::{BackupError, BoxError};

/// Error codes the SDK's standard retry classifier treats as throttling (smithy-rs `THROTTLING_ERRORS`).
const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
];

/// `"<op> <subject>: <Code>: <message>"`, or the full error context when AWS returned no code (network, timeout).
pub fn aws_message<E>(op: &str, subject: &str, err: &E) -> String
where
    E: ProvideErrorMetadata + std::error::Error,
{
    match (err.code(), err.message()) {
        (Some(code), Some(msg)) => format!("{op} {subject}: {code}: {msg}"),
        (Some(code), None) => format!("{op} {subject}: {code}"),
        _ => format!("{op} {subject}: {}", DisplayErrorContext(err)),
    }
}

/// How an SDK call failed, as far as retrying it goes: the HTTP status AWS answered with, if it answered.
pub trait CallFailure {
    /// The response's HTTP status; `None` when no response came (timeout, connection or DNS failure).
    fn http_status(&self) -> Option<u16>;
}

impl<E> CallFailure for SdkError<E, HttpResponse> {
    fn http_status(&self) -> Option<u16> {
        match self {
            SdkError::ServiceError(_) | SdkError::ResponseError(_) => {
                self.raw_response().map(|r| r.status().as_u16())
            }
            _ => None,
        }
    }
}

/// The last fallthrough for an SDK error (also used by the verifier's adapter in `rdb-verify`): `Throttled` for
/// throttling codes; `AwsRejected` for any other 4xx answer (AccessDenied, a validation error: repeating the call
/// cannot help); `AwsError` otherwise — a 5xx, a timeout, a connection failure — which the state machines retry.
pub fn fallback<E>(op: &str, subject: &str, err: E) -> BackupError
where
    E: ProvideErrorMetadata + CallFailure + std::error::Error + Send + Sync + 'static,
{
    let message = aws_message(op, subject, &err);
    let throttled = err.code().is_some_and(|c| THROTTLING_CODES.contains(&c));
    let client_error = err.http_status().is_some_and(|s| (400..500).contains(&s));
    let source: Option<BoxError> = Some(Box::new(err));
    if throttled {
        BackupError::Throttled { message, source }
    } else if client_error {
        BackupError::AwsRejected { message, source }
    } else {
        BackupError::AwsError { message, source }
    }
}

/// Whether `code` is one the SDK treats as throttling.
pub fn is_throttling_code(code: &str) -> bool {
    THROTTLING_CODES.contains(&code)
}

/// `Some(err)` boxed, as the `source` of a [`BackupError`].
pub fn boxed<E: std::error::Error + Send + Sync + 'static>(e: E) -> Option<BoxError> {
    Some(Box::new(e))
}

/// An SDK timestamp as the core's (whole seconds); `None` when out of range.
pub fn timestamp(t: &aws_smithy_types::DateTime) -> Option<backup_core::model::Timestamp> {
    time::OffsetDateTime::from_unix_timestamp(t.secs()).ok()
}
