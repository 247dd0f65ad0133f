//! `ecb retention` (being written).

use crate::cli::RetentionArgs;
use crate::commands::App;
use crate::error::{CliError, CliResult};

/// Previews or applies retention.
///
/// # Errors
/// Not written yet.
pub async fn run(_app: &App, _args: &RetentionArgs) -> CliResult<()> {
    Err(CliError::Usage("retention: not written yet".into()))
}
