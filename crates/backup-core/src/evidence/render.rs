//! The evidence report as text: Markdown tables a person reads in a terminal ([`markdown`], opening with one line
//! per target: [`summary_lines`]) and one self-contained HTML page ([`html`]: no external assets, every text
//! escaped). Neither panics on any text: ids, errors and causes are cut by characters.

use std::fmt::Write as _;

use super::report::{EvidenceReport, TargetEvidence};
use crate::model::{Timestamp, rfc3339};
use crate::text::ellipsize;

/// Longest cause shown in a table cell, characters (the JSON has it whole).
const CAUSE_CHARS: usize = 160;

fn yes_no(b: bool) -> &'static str {
    if b { "met" } else { "NOT met" }
}

fn rto_text(t: &TargetEvidence) -> String {
    match (t.rto_met, t.rto_minutes) {
        (Some(met), Some(m)) => format!(
            "RTO {} ({} drill{}, RTO {} min)",
            yes_no(met),
            t.drills.len(),
            if t.drills.len() == 1 { "" } else { "s" },
            num(m)
        ),
        _ => "RTO n/a (no drill configured)".to_string(),
    }
}

/// A number without a needless `.0`.
fn num(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{n:.0}")
    } else {
        format!("{n:.1}")
    }
}

/// One line per target: `orders: RPO met (largest gap 24.0 h, RPO 25 h); RTO met (1 drill, RTO 60 min); 30
/// verified backups, 1 failed run, 2 retention deletions`.
pub fn summary_lines(r: &EvidenceReport) -> Vec<String> {
    if r.targets.is_empty() {
        return vec!["no target: no schedule, drill, backup or run in the window".to_string()];
    }
    r.targets
        .iter()
        .map(|t| {
            format!(
                "{}: RPO {} (largest gap {:.1} h, RPO {} h); {}; {} verified backup{}, {} failed run{}, {} retention deletion{}",
                ellipsize(&one_line(&t.target), 80),
                yes_no(t.rpo_met),
                t.largest_gap_hours,
                num(t.rpo_hours),
                rto_text(t),
                t.verified_backups.len(),
                plural(t.verified_backups.len()),
                t.failed_runs.len(),
                plural(t.failed_runs.len()),
                t.retention_deletions.len(),
                plural(t.retention_deletions.len()),
            )
        })
        .collect()
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Text on one line (control characters, newlines included, become spaces).
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// A Markdown table cell: one line, `|` and `\` escaped.
fn cell(s: &str) -> String {
    one_line(s).replace('\\', "\\\\").replace('|', "\\|")
}

fn time(t: Timestamp) -> String {
    rfc3339(t)
}

fn md_table(out: &mut String, header: &[&str], rows: Vec<Vec<String>>) {
    if rows.is_empty() {
        out.push_str("none\n\n");
        return;
    }
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(header.len()));
    for row in rows {
        let cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    out.push('\n');
}

/// The rows of each table of a target: (title, header, rows).
type Table = (&'static str, &'static [&'static str], Vec<Vec<String>>);

fn tables(t: &TargetEvidence) -> Vec<Table> {
    vec![
        (
            "Schedules",
            &["name", "expression", "time zone", "RPO hours", "selector"],
            t.schedules
                .iter()
                .map(|s| {
                    vec![
                        s.name.clone(),
                        s.schedule_expression.clone(),
                        s.timezone.clone().unwrap_or_default(),
                        num(s.rpo_hours),
                        s.selector
                            .as_ref()
                            .map(|m| {
                                m.iter()
                                    .map(|(k, v)| format!("{k}={v}"))
                                    .collect::<Vec<_>>()
                                    .join(",")
                            })
                            .unwrap_or_default(),
                    ]
                })
                .collect(),
        ),
        (
            "Runs",
            &["started", "kind", "status", "error", "execution"],
            t.runs
                .iter()
                .map(|r| {
                    vec![
                        time(r.started_at),
                        r.kind.clone(),
                        r.status.clone(),
                        r.error.clone().unwrap_or_default(),
                        r.execution.clone(),
                    ]
                })
                .collect(),
        ),
        (
            "Verified backups",
            &[
                "data time",
                "keys",
                "bytes",
                "objects (SHA-256)",
                "where",
                "export",
            ],
            t.verified_backups
                .iter()
                .map(|b| {
                    vec![
                        time(b.data_time),
                        b.keys.to_string(),
                        b.size_bytes.to_string(),
                        b.objects
                            .iter()
                            .map(|o| format!("{} {}", o.key, o.sha256))
                            .collect::<Vec<_>>()
                            .join("; "),
                        b.locations
                            .iter()
                            .map(|l| format!("{}:{}", l.kind, l.bucket))
                            .collect::<Vec<_>>()
                            .join(", "),
                        b.export_name.clone(),
                    ]
                })
                .collect(),
        ),
        (
            "Failed runs",
            &["started", "error", "cause", "execution"],
            t.failed_runs
                .iter()
                .map(|f| {
                    vec![
                        time(f.started_at),
                        f.error.clone(),
                        ellipsize(&f.cause, CAUSE_CHARS),
                        f.execution.clone(),
                    ]
                })
                .collect(),
        ),
        (
            "Drills",
            &[
                "verified",
                "RTO seconds",
                "match",
                "verdict",
                "backup",
                "execution",
            ],
            t.drills
                .iter()
                .map(|d| {
                    vec![
                        time(d.at),
                        d.rto_seconds.to_string(),
                        d.matches.to_string(),
                        d.verdict.clone(),
                        d.export_name.clone(),
                        d.execution.clone(),
                    ]
                })
                .collect(),
        ),
        (
            "Retention deletions",
            &["when", "backup deleted", "report"],
            t.retention_deletions
                .iter()
                .map(|d| vec![time(d.at), d.export_name.clone(), d.report.clone()])
                .collect(),
        ),
    ]
}

/// The report as Markdown: a title with the window, the summary lines, notes, then per target its tables.
pub fn markdown(r: &EvidenceReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Backup evidence {} to {}\n",
        time(r.from),
        time(r.to)
    );
    for line in summary_lines(r) {
        let _ = writeln!(out, "- {}", one_line(&line));
    }
    out.push('\n');
    for n in &r.notes {
        let _ = writeln!(out, "> note: {}", one_line(n));
    }
    if !r.notes.is_empty() {
        out.push('\n');
    }
    for t in &r.targets {
        let _ = writeln!(out, "## {}\n", one_line(&t.target));
        let _ = writeln!(
            out,
            "RPO {} h: {} (largest gap {:.1} h). {}.\n",
            num(t.rpo_hours),
            yes_no(t.rpo_met),
            t.largest_gap_hours,
            rto_text(t)
        );
        for (title, header, rows) in tables(t) {
            let _ = writeln!(out, "### {title}\n");
            md_table(&mut out, header, rows);
        }
    }
    out
}

/// `s` with `&`, `<`, `>`, `"` and `'` escaped for HTML text and attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:0 0 1.5em}th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top;font-size:90%}th{background:#f3f3f3}.met{color:#1a7f37}.not{color:#b00020;font-weight:bold}code{font-size:90%}";

/// The report as one self-contained HTML page (inline style, no script, no external asset; every text escaped).
pub fn html(r: &EvidenceReport) -> String {
    let e = escape_html;
    let mut out = String::new();
    let title = format!("Backup evidence {} to {}", time(r.from), time(r.to));
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head><body>\n<h1>{}</h1>\n<ul>\n",
        e(&title),
        e(&title)
    );
    for (t, line) in r.targets.iter().zip(summary_lines(r)) {
        let class = if t.rpo_met && t.rto_met != Some(false) {
            "met"
        } else {
            "not"
        };
        let _ = writeln!(out, "<li class=\"{class}\">{}</li>", e(&line));
    }
    if r.targets.is_empty() {
        for line in summary_lines(r) {
            let _ = writeln!(out, "<li>{}</li>", e(&line));
        }
    }
    out.push_str("</ul>\n");
    for n in &r.notes {
        let _ = writeln!(out, "<p><strong>Note:</strong> {}</p>", e(n));
    }
    for t in &r.targets {
        let _ = writeln!(
            out,
            "<h2>{}</h2>\n<p>RPO {} h: <span class=\"{}\">{}</span> (largest gap {:.1} h). {}.</p>",
            e(&t.target),
            num(t.rpo_hours),
            if t.rpo_met { "met" } else { "not" },
            yes_no(t.rpo_met),
            t.largest_gap_hours,
            e(&rto_text(t))
        );
        for (title, header, rows) in tables(t) {
            let _ = writeln!(out, "<h3>{}</h3>", e(title));
            if rows.is_empty() {
                out.push_str("<p>none</p>\n");
                continue;
            }
            out.push_str("<table><tr>");
            for h in header {
                let _ = write!(out, "<th>{}</th>", e(h));
            }
            out.push_str("</tr>\n");
            for row in rows {
                out.push_str("<tr>");
                for c in row {
                    let _ = write!(out, "<td>{}</td>", e(&c));
                }
                out.push_str("</tr>\n");
            }
            out.push_str("</table>\n");
        }
    }
    out.push_str("</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::report::{FailedRun, TargetEvidence};
    use proptest::prelude::*;
    use time::macros::datetime;

    fn target(name: &str, error: &str, cause: &str) -> TargetEvidence {
        TargetEvidence {
            target: name.into(),
            schedules: vec![],
            rpo_hours: 25.0,
            rto_minutes: None,
            runs: vec![],
            verified_backups: vec![],
            failed_runs: vec![FailedRun {
                execution: "e".into(),
                error: error.into(),
                cause: cause.into(),
                started_at: datetime!(2026-11-02 03:00 UTC),
                machine: "m".into(),
            }],
            drills: vec![],
            retention_deletions: vec![],
            largest_gap_hours: 96.0,
            rpo_met: false,
            rto_met: None,
        }
    }

    fn report(targets: Vec<TargetEvidence>) -> EvidenceReport {
        EvidenceReport {
            from: datetime!(2026-11-01 0:00 UTC),
            to: datetime!(2026-11-05 0:00 UTC),
            targets,
            notes: vec!["no policy <b>".into()],
        }
    }

    #[test]
    fn html_escapes_every_text() {
        let page = html(&report(vec![target(
            "<script>alert(1)</script>",
            "<script>x</script>",
            "a \"quoted\" & 'cause'",
        )]));
        assert!(!page.contains("<script"), "{page}");
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(page.contains("&quot;quoted&quot; &amp; &#39;cause&#39;"));
        assert!(page.contains("no policy &lt;b&gt;"));
        assert!(!page.contains("http"), "no external asset");
    }

    #[test]
    fn markdown_opens_with_one_line_per_target_and_keeps_tables_whole() {
        let md = markdown(&report(vec![
            target("orders", "SnapshotFailed", "line one\nline | two"),
            target("ledger", "E", ""),
        ]));
        let lines: Vec<&str> = md.lines().collect();
        assert!(
            lines[2].starts_with("- orders: RPO NOT met (largest gap 96.0 h, RPO 25 h)"),
            "{md}"
        );
        assert!(lines[3].starts_with("- ledger:"), "{md}");
        assert!(md.contains("line one line \\| two"), "{md}");
        assert!(md.contains("> note: no policy <b>"));
    }

    #[test]
    fn an_empty_report_says_so() {
        let r = EvidenceReport {
            targets: vec![],
            notes: vec![],
            ..report(vec![])
        };
        assert!(markdown(&r).contains("no target"));
        assert!(html(&r).contains("no target"));
    }

    proptest! {
        #[test]
        fn no_text_panics_the_renderers(name in "\\PC*", error in ".*", cause in "(?s).{0,400}") {
            let r = report(vec![target(&name, &error, &cause)]);
            let page = html(&r);
            prop_assert!(!page.contains("<script"));
            let _ = markdown(&r);
            let _ = summary_lines(&r);
        }
    }
}
