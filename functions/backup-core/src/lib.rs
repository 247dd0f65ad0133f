//! Shared core of the elasticache-backup functions.
//!
//! - [`run`]: the run document ([`BackupRun`]) passed between every state of the state machine.
//! - [`naming`]: deterministic snapshot and export names.
//! - [`request`]: validation of the execution input.
//! - [`error`]: [`BackupError`] and its stable `error_type` names (the ones the ASL matches).
//! - [`poll`]: the adaptive wait between status checks.
//! - [`ports`]: the traits the handlers are written against, and the plain data they exchange.
//! - [`aws`]: the AWS SDK adapters behind those traits.
//! - [`export`]: deciding whether an export is complete from what S3 holds.

pub mod aws;
pub mod clock;
pub mod config;
pub mod error;
pub mod export;
pub mod naming;
pub mod poll;
pub mod ports;
pub mod request;
pub mod run;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use clock::{Clock, SystemClock};
pub use config::Config;
pub use error::BackupError;
pub use run::BackupRun;
