//! `ecb doctor` (being written).

use crate::app::App;
use crate::cli::DoctorArgs;
use crate::error::{CliError, CliResult};

/// Checks the deployment.
///
/// # Errors
/// Not written yet.
pub async fn run(_app: &App, _args: &DoctorArgs) -> CliResult<()> {
    Err(CliError::Usage("doctor: not written yet".into()))
}
