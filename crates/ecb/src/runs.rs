//! `ecb runs` (being written).

use crate::cli::RunsArgs;
use crate::commands::App;
use crate::error::{CliError, CliResult};

/// Lists runs.
///
/// # Errors
/// Not written yet.
pub async fn run(_app: &App, _args: &RunsArgs) -> CliResult<()> {
    Err(CliError::Usage("runs: not written yet".into()))
}
