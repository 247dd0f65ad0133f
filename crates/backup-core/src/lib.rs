//! The domain of elasticache-backup, by workflow, shared by every function; no AWS SDK, no Lambda runtime (their
//! implementations of the ports live in the `aws-adapters` crate).
//!
//! Layers, each importing only from the ones above it (`make check` fails on an import loop):
//!
//! 1. [`model`] (a leaf: timestamps, statuses, roles, cluster mode, shards, RDB summaries), [`text`], [`clock`],
//!    [`partition`] (AWS partitions, ElastiCache's canonical ids, seeding routes).
//! 2. [`error`] ([`BackupError`] and the stable `error_type` names the ASL matches), [`slots`] (hash slot ranges),
//!    [`naming`] (deterministic snapshot, export, object and manifest names), [`poll`] (the adaptive wait),
//!    [`config`] (the one configuration loader).
//! 3. [`resources`] (what AWS reports, as the ports exchange it), [`execution_history`] (what an execution's history
//!    says about its failure), [`ports`] (traits only), [`deps`] (the one dependency shape of every step).
//! 4. The workflows: [`backup`] (run document, input, target, export, manifest, history), [`restore`], [`fleet`],
//!    [`retention`], [`evidence`]; [`metrics`] reads the backup and restore run documents.
//! 5. `testing` (feature `testing`): the in-memory fakes of the ports, beside them.

pub mod backup;
pub mod clock;
pub mod config;
pub mod deps;
pub mod error;
pub mod evidence;
pub mod execution_history;
pub mod fleet;
pub mod metrics;
pub mod model;
pub mod naming;
pub mod partition;
pub mod poll;
pub mod ports;
pub mod resources;
pub mod restore;
pub mod retention;
pub mod slots;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod text;

pub use backup::run::BackupRun;
pub use clock::{Clock, SystemClock};
pub use config::Config;
pub use deps::Deps;
pub use error::BackupError;
