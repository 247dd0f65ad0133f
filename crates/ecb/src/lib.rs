//! `ecb`: the operator's command line for elasticache-backup (docs/operations.md). Starts and follows backups,
//! restores and drills through the deployed state machines, lists runs and backups, checks RDB files, lists, reports
//! and diffs the keys of backups ([`recovery`]), previews retention and checks a deployment. The subcommands are in [`cli`]; each prints a table (or `--json`) and exits
//! with a code that says how it went ([`error::CliError`]). The binary (`src/main.rs`) only parses and dispatches.

pub mod app;
pub mod backups;
pub mod cli;
pub mod commands;
pub mod deployment;
pub mod doctor;
pub mod error;
pub mod evidence;
pub mod execution;
pub mod progress;
pub mod recovery;
pub mod retention;
pub mod runs;
pub mod sfn;
pub mod table;
pub mod watch;
