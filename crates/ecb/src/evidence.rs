//! `ecb evidence`: the audit evidence of a window (`backup_core::evidence`), read through the same ports and
//! adapters as the evidence function (S3: `ListObjectsV2`, `GetObject`; Step Functions: `ListExecutions`,
//! `DescribeExecution`), printed as Markdown, HTML, JSON or one line per target.

use backup_core::evidence::gather::{Sources, gather};
use backup_core::evidence::policy::EvidencePolicy;
use backup_core::evidence::report::{EvidenceReport, build, known_targets};
use backup_core::evidence::{period, render};
use time::OffsetDateTime;

use crate::app::App;
use crate::cli::{EvidenceArgs, EvidenceFormat, Machine};
use crate::error::{CliError, CliResult};

/// The policy the deployment names, parsed; `None` when there is none.
///
/// # Errors
/// `Usage` naming where the document came from and the field at fault.
pub fn policy(app: &App) -> CliResult<Option<EvidencePolicy>> {
    app.deployment
        .evidence_policy
        .as_ref()
        .map(|(text, from)| {
            EvidencePolicy::from_json(text).map_err(|e| CliError::Usage(format!("{from}: {e}")))
        })
        .transpose()
}

/// The report of `args`' window, for its `--target` or every target.
///
/// # Errors
/// `Usage` for an unparsable `--since`, a bad policy, no bucket, or a `--target` neither in the policy nor seen in
/// the window (the message lists the known ones); `NotFound`/`Aws` from reading.
pub async fn report(
    app: &App,
    args: &EvidenceArgs,
    now: OffsetDateTime,
) -> CliResult<EvidenceReport> {
    let from = period::parse_since(&args.since, now).map_err(CliError::Usage)?;
    let policy = policy(app)?;
    let bucket = app.deployment.bucket()?.to_string();
    let machine = |m: Machine| app.deployment.machines.get(&m).cloned();
    let sources = Sources {
        bucket,
        dr_bucket: policy.as_ref().and_then(|p| p.dr_bucket.clone()),
        vault_bucket: policy.as_ref().and_then(|p| p.vault_bucket.clone()),
        backup_machine: machine(Machine::Backup),
        restore_machine: machine(Machine::Restore),
        policy,
    };
    let store = aws_adapters::S3ExportStore::new(app.s3());
    let executions = aws_adapters::SfnExecutions::new(app.sfn());
    let inputs = gather(&store, &executions, &sources, from)
        .await
        .map_err(|e| match e {
            backup_core::BackupError::BackupNotFound { message }
            | backup_core::BackupError::ExportRejected { message, .. } => {
                CliError::NotFound(message)
            }
            other => CliError::Aws(other.to_string()),
        })?;
    let only = args.target.as_deref().map(str::to_lowercase);
    if let Some(t) = &only {
        let known = known_targets(&inputs, from, now);
        if !known.contains(t) {
            return Err(CliError::Usage(unknown_target(t, &known, from)));
        }
    }
    Ok(build(&inputs, from, now, only.as_deref()))
}

/// The message of an unknown `--target`.
pub fn unknown_target(target: &str, known: &[String], from: OffsetDateTime) -> String {
    format!(
        "--target {target}: not a target of the evidence policy nor seen in a backup or run since {}; known targets: {}",
        crate::table::time(from),
        if known.is_empty() {
            "none".to_string()
        } else {
            known.join(", ")
        }
    )
}

/// `report` as `format`.
pub fn render(report: &EvidenceReport, format: EvidenceFormat) -> String {
    match format {
        EvidenceFormat::Md => render::markdown(report),
        EvidenceFormat::Html => render::html(report),
        EvidenceFormat::Json => serde_json::to_string_pretty(report)
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}")),
        EvidenceFormat::Summary => {
            let mut lines = render::summary_lines(report);
            lines.extend(report.notes.iter().map(|n| format!("note: {n}")));
            lines.join("\n")
        }
    }
}

/// `ecb evidence`.
///
/// # Errors
/// As [`report`]; `Usage` when `--out` cannot be written.
pub async fn run(app: &App, args: &EvidenceArgs) -> CliResult<()> {
    let report = report(app, args, OffsetDateTime::now_utc()).await?;
    let format = args.format.unwrap_or(if app.global.json {
        EvidenceFormat::Json
    } else {
        EvidenceFormat::Md
    });
    let text = render(&report, format);
    match &args.out {
        Some(path) => std::fs::write(path, text.as_bytes() as &[u8])
            .map_err(|e| CliError::Usage(format!("--out {}: {e}", path.display()))),
        None => {
            crate::table::out(text.trim_end());
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn an_unknown_target_names_it_and_the_known_ones() {
        let msg = unknown_target(
            "nosuch",
            &["ledger".into(), "orders".into()],
            datetime!(2026-09-06 00:00 UTC),
        );
        assert!(msg.starts_with("--target nosuch:"), "{msg}");
        assert!(msg.contains("known targets: ledger, orders"), "{msg}");
        assert!(unknown_target("x", &[], datetime!(2026-09-06 00:00 UTC)).ends_with("none"));
    }
}
