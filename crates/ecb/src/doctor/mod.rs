//! `ecb doctor`: checks a deployment the way an operator would before trusting it. Three parts: [`facts`] gathers
//! what AWS says through the SDK into plain values, [`rules`] judges them into findings (each with what to do), and
//! [`run`] prints them (a table, or `--json`) and exits 1 when any finding is an error.

mod expr;
mod facts;
mod rules;

use crate::app::App;
use crate::cli::DoctorArgs;
use crate::error::{CliError, CliResult};
use rules::{Finding, Level};

/// Checks the deployment.
///
/// # Errors
/// `Failed` when any finding is an error (exit 1).
pub async fn run(app: &App, args: &DoctorArgs) -> CliResult<()> {
    let facts = facts::gather(app, &args.target).await;
    let findings = rules::judge(&facts);
    if app.global.json {
        crate::table::print_json(&findings);
    } else {
        crate::table::out(render(&findings));
    }
    let errors = findings.iter().filter(|f| f.level == Level::Error).count();
    let warnings = findings
        .iter()
        .filter(|f| f.level == Level::Warning)
        .count();
    if errors > 0 {
        return Err(CliError::Failed(format!(
            "doctor: {errors} error(s), {warnings} warning(s)"
        )));
    }
    if !app.global.json {
        crate::table::out(format!("doctor: no errors, {warnings} warning(s)"));
    }
    Ok(())
}

/// The findings as a table: check, level, subject, finding, what to do.
fn render(findings: &[Finding]) -> comfy_table::Table {
    let mut t = crate::table::new(&["check", "level", "subject", "finding", "what to do"]);
    for f in findings {
        let level = match f.level {
            Level::Ok => "ok",
            Level::Warning => "warning",
            Level::Error => "error",
        };
        t.add_row([f.check, level, &f.subject, &f.finding, &f.action]);
    }
    t
}
