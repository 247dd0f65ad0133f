//! Following an execution to its end: `--wait` of `backup`, `restore` and `drill`, and `ecb watch`. On a terminal
//! the view is redrawn in place (indicatif); elsewhere (a pipe, CI, a recording) each change is printed once, as a
//! log. Ctrl-C stops watching, never the execution.

use std::io::IsTerminal;
use std::time::Duration;

use aws_sdk_sfn::Client;
use indicatif::{ProgressBar, ProgressStyle};
use time::OffsetDateTime;

use crate::cli::Machine;
use crate::error::{CliError, CliResult};
use crate::progress::{Event, Execution, View, view};
use crate::sfn;

/// What a watch ends with: the execution as it ended and the last view.
#[derive(Debug, Clone)]
pub struct Watched {
    /// The execution's description at its end.
    pub execution: Execution,
    /// The view at its end.
    pub view: View,
}

/// Follows `arn` until it ends, checking every `interval` seconds; draws the view unless `quiet`.
///
/// # Errors
/// `Interrupted` on Ctrl-C (the execution continues; the message says how to attach again), `NotFound`, `Aws`.
pub async fn follow(
    client: &Client,
    arn: &str,
    machines: &[(Machine, String)],
    interval: f64,
    quiet: bool,
) -> CliResult<Watched> {
    let watching = watch_loop(client, arn, machines, interval, quiet);
    tokio::select! {
        watched = watching => watched,
        _ = tokio::signal::ctrl_c() => Err(CliError::Interrupted(format!(
            "stopped watching; the execution continues (ecb watch {arn})"
        ))),
    }
}

async fn watch_loop(
    client: &Client,
    arn: &str,
    machines: &[(Machine, String)],
    interval: f64,
    quiet: bool,
) -> CliResult<Watched> {
    let mut draw = Drawer::new(quiet);
    let mut events: Vec<Event> = Vec::new();
    loop {
        let execution = sfn::describe(client, arn, machines).await?;
        let after = events.last().map_or(0, |e| e.id);
        let new = sfn::events_after(client, arn, after).await?;
        events.extend(new.iter().cloned());
        let now = OffsetDateTime::now_utc();
        let current = view(&execution, &events, now);
        draw.show(&execution, &current, &new, now);
        if execution.ended() {
            draw.finish();
            return Ok(Watched {
                execution,
                view: current,
            });
        }
        tokio::time::sleep(Duration::from_secs_f64(interval)).await;
    }
}

/// Draws views: in place on a terminal, as a log of changes elsewhere, not at all when quiet.
struct Drawer {
    bar: Option<ProgressBar>,
    log: bool,
    last_lines: Vec<String>,
}

impl Drawer {
    fn new(quiet: bool) -> Self {
        let terminal = !quiet && std::io::stderr().is_terminal();
        let bar = terminal.then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Self {
            bar,
            log: !quiet && !terminal,
            last_lines: Vec::new(),
        }
    }

    fn show(&mut self, execution: &Execution, v: &View, new: &[Event], now: OffsetDateTime) {
        if let Some(bar) = &self.bar {
            bar.set_message(screen(execution, v, now));
            return;
        }
        if !self.log {
            return;
        }
        for line in log_lines(execution, new) {
            eprintln!("{line}");
        }
        for line in v.lines.iter().filter(|l| !self.last_lines.contains(l)) {
            eprintln!("        {line}");
        }
        self.last_lines.clone_from(&v.lines);
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Drawer {
    /// Ctrl-C or an error ends the watch without `finish`: the terminal is left clean all the same.
    fn drop(&mut self) {
        self.finish();
    }
}

/// The log of `events` (the ones new since the last check): each state entered, at its offset from the start; a
/// Wait state with how long it waits (`$.poll.waitSeconds` of its input).
pub fn log_lines(execution: &Execution, events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter(|e| e.kind.ends_with("StateEntered"))
        .map(|e| {
            let offset = (e.timestamp - execution.start_date).whole_seconds().max(0);
            let wait = (e.kind == "WaitStateEntered")
                .then(|| {
                    let doc: serde_json::Value =
                        serde_json::from_str(e.payload.as_deref()?).ok()?;
                    doc.pointer("/poll/waitSeconds")?.as_u64()
                })
                .flatten()
                .map(|s| format!(" (waits {s}s)"))
                .unwrap_or_default();
            format!(
                "{:>6}  {}{wait}",
                format!("+{offset}s"),
                e.state.as_deref().unwrap_or("?")
            )
        })
        .collect()
}

fn next_check(v: &View, now: OffsetDateTime) -> String {
    match v.next_check {
        Some(t) => format!(" (next check in {}s)", (t - now).whole_seconds().max(0)),
        None => String::new(),
    }
}

/// The terminal screen: the execution, its status and state, elapsed and next check, then the detail lines.
pub fn screen(execution: &Execution, v: &View, now: OffsetDateTime) -> String {
    let mut out = format!(
        "{}  {}  {}  elapsed {}{}",
        execution.name,
        v.status,
        v.state.as_deref().unwrap_or("-"),
        humantime::format_duration(Duration::from_secs(v.elapsed_seconds.unsigned_abs())),
        next_check(v, now)
    );
    for line in &v.lines {
        out.push_str("\n  ");
        out.push_str(line);
    }
    out
}

/// The end of a watched run for a person: status, duration, detail lines, and for a failure the error and cause.
pub fn summary(w: &Watched) -> String {
    let mut out = format!(
        "{} {} in {}",
        w.execution.name,
        w.execution.status,
        humantime::format_duration(Duration::from_secs(w.view.elapsed_seconds.unsigned_abs()))
    );
    for line in &w.view.lines {
        out.push_str("\n  ");
        out.push_str(line);
    }
    if let Some(e) = &w.execution.error {
        out.push_str(&format!("\n  error      {e}"));
    }
    if let Some(c) = &w.execution.cause {
        out.push_str(&format!(
            "\n  cause      {}",
            backup_core::text::ellipsize(c, 2000)
        ));
    }
    out
}

/// `Ok` for a SUCCEEDED execution, else `Failed` naming the status, the error and the cause.
///
/// # Errors
/// `Failed` as described.
pub fn outcome(execution: &Execution) -> CliResult<()> {
    if execution.status == "SUCCEEDED" {
        return Ok(());
    }
    Err(CliError::Failed(format!(
        "{} {}: {}: {}",
        execution.name,
        execution.status,
        execution.error.as_deref().unwrap_or("(no error name)"),
        backup_core::text::ellipsize(execution.cause.as_deref().unwrap_or("(no cause)"), 2000)
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn execution(status: &str) -> Execution {
        Execution {
            execution_arn: "arn:aws:states:us-east-1:1:execution:m:ecb-orders-1".into(),
            name: "ecb-orders-1".into(),
            machine: Some(Machine::Backup),
            status: status.into(),
            start_date: datetime!(2026-12-04 03:00:00 UTC),
            stop_date: None,
            input: None,
            output: None,
            error: Some("ExportCorrupt".into()),
            cause: Some("VerifyExport failed for snapshot ecb-orders-1: offset 42".into()),
        }
    }

    #[test]
    fn the_log_has_every_state_entered_with_its_offset_and_a_waits_length() {
        let at = |s: i64| datetime!(2026-12-04 03:00:00 UTC) + time::Duration::seconds(s);
        let event = |id, s, kind: &str, state: &str, payload: Option<&str>| Event {
            id,
            timestamp: at(s),
            kind: kind.into(),
            state: Some(state.into()),
            payload: payload.map(str::to_string),
            error: None,
            cause: None,
        };
        let events = vec![
            event(2, 0, "TaskStateEntered", "CreateSnapshot", None),
            event(5, 1, "TaskStateExited", "CreateSnapshot", None),
            event(
                6,
                1,
                "WaitStateEntered",
                "WaitForSnapshot",
                Some(r#"{"poll": {"waitSeconds": 30}}"#),
            ),
            event(7, 31, "ChoiceStateEntered", "IsSnapshotReady", None),
        ];
        assert_eq!(
            log_lines(&execution("RUNNING"), &events),
            vec![
                "   +0s  CreateSnapshot",
                "   +1s  WaitForSnapshot (waits 30s)",
                "  +31s  IsSnapshotReady"
            ]
        );
    }

    #[test]
    fn the_screen_names_the_state_the_clock_and_the_next_check() {
        let v = View {
            status: "RUNNING".into(),
            state: Some("WaitForExport".into()),
            elapsed_seconds: 75,
            next_check: Some(datetime!(2026-12-04 03:01:45 UTC)),
            lines: vec!["export     ecb-orders-1: active".into()],
        };
        let text = screen(
            &execution("RUNNING"),
            &v,
            datetime!(2026-12-04 03:01:15 UTC),
        );
        assert_eq!(
            text,
            "ecb-orders-1  RUNNING  WaitForExport  elapsed 1m 15s (next check in 30s)\n  export     ecb-orders-1: active"
        );
    }

    #[test]
    fn a_failure_ends_with_its_error_and_cause_and_a_non_zero_outcome() {
        let e = execution("FAILED");
        let w = Watched {
            execution: e.clone(),
            view: View {
                status: "FAILED".into(),
                state: None,
                elapsed_seconds: 3,
                next_check: None,
                lines: vec![],
            },
        };
        let text = summary(&w);
        assert!(text.starts_with("ecb-orders-1 FAILED in 3s"), "{text}");
        assert!(
            text.contains("error      ExportCorrupt") && text.contains("offset 42"),
            "{text}"
        );
        let err = outcome(&e).unwrap_err();
        assert!(matches!(err, CliError::Failed(_)));
        assert!(
            err.to_string()
                .contains("FAILED: ExportCorrupt: VerifyExport failed"),
            "{err}"
        );
        assert!(outcome(&execution("SUCCEEDED")).is_ok());
    }
}
