//! The domain of elasticache-backup, shared by every function: what a run is, what a backup is, how a target is
//! resolved, how steps fail, and the ports the handlers are written against (their AWS implementations live in the `aws-adapters` crate).
//!
//! - [`run`]: the run document ([`BackupRun`]) passed between every state of the state machine, with its typed
//!   statuses, roles and outcomes.
//! - [`manifest`]: what a verified backup holds ([`manifest::Manifest`]), the contract with everything after it.
//! - [`fleet`]: fleet runs — the fleet input, discovery's judgement of each cache, the summary.
//! - [`input`]: the execution input ([`input::ExecutionInput`]) and its validation.
//! - [`restore`]: the restore run document ([`restore::RestoreRun`]), its input and the comparison it records.
//! - [`target`]: target resolution — lookup, refusal of unsupported targets, node choice, resume.
//! - [`naming`]: deterministic snapshot, export, object and manifest names.
//! - [`error`]: [`BackupError`] and its stable `error_type` names (the ones the ASL matches).
//! - [`poll`]: the adaptive wait between status checks.
//! - [`ports`]: the traits the handlers are written against, and the plain data they exchange.
//! - [`execution_history`]: what an execution's history says about its failure (for the alerts).
//! - [`export`]: deciding whether an export is complete from what S3 holds.
//! - [`partition`]: AWS partitions, ElastiCache's canonical ids and the seeding route of each kind of region.
//! - [`slots`]: hash slot ranges, and the mapping of exported objects to node groups by the slots of their keys.
//! - [`config`], [`deps`]: the one configuration loader and the one dependency shape of every step.
//! - [`text`]: cutting free text to a length in characters, never inside one.

pub mod clock;
pub mod config;
pub mod deps;
pub mod error;
pub mod execution_history;
pub mod export;
pub mod fleet;
pub mod history;
pub mod input;
pub mod manifest;
pub mod metrics;
pub mod naming;
pub mod ownership;
pub mod partition;
pub mod poll;
pub mod ports;
pub mod restore;
pub mod run;
pub mod slots;
pub mod target;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod text;

pub use clock::{Clock, SystemClock};
pub use config::Config;
pub use deps::Deps;
pub use error::BackupError;
pub use run::BackupRun;
