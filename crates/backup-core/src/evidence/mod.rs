//! Audit evidence: per target, for a window, the schedules and objectives configured, every run, every verified
//! backup (data time, keys, size, SHA-256 per object, where its copies are), every drill (RTO, verdict), every
//! retention deletion, the largest gap between verified backups, and whether the RPO and RTO were met.
//!
//! - [`policy`]: what the deployment promises (Terraform output `evidence_policy`, env `EVIDENCE_POLICY`);
//! - [`period`]: the window (`--since`, a calendar month);
//! - [`report`]: the inputs, the report and its builder (pure);
//! - [`gather`]: reading the inputs through the ports (shared by `ecb evidence` and the evidence function);
//! - [`render`]: Markdown and HTML.

pub mod gather;
pub mod period;
pub mod policy;
pub mod render;
pub mod report;

/// Where the evidence function writes the report of month `month` (`YYYY-MM`) as `ext` (`html`, `json`).
pub fn report_key(month: &str, ext: &str) -> String {
    format!("evidence/{month}.{ext}")
}
