//! `ecb backups` and `ecb show` (being written).

use crate::cli::{BackupsArgs, ShowArgs};
use crate::commands::App;
use crate::error::{CliError, CliResult};

/// Lists backups.
///
/// # Errors
/// Not written yet.
pub async fn list(_app: &App, _args: &BackupsArgs) -> CliResult<()> {
    Err(CliError::Usage("backups: not written yet".into()))
}

/// Shows one backup.
///
/// # Errors
/// Not written yet.
pub async fn show(_app: &App, _args: &ShowArgs) -> CliResult<()> {
    Err(CliError::Usage("show: not written yet".into()))
}
