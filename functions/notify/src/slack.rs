//! The Slack message for an alert: Block Kit with a plain `text` fallback (Slack API, "Sending messages using
//! incoming webhooks"; Block Kit reference: header ≤ 150 characters, section text ≤ 3000, ≤ 10 fields).

use backup_core::text::ellipsize;
use serde_json::{Value, json};

use crate::alert::{Action, Alert};

const HEADER_MAX: usize = 150;
const TEXT_MAX: usize = 3000;
const FIELD_MAX: usize = 2000;

/// Escapes `&`, `<`, `>` for mrkdwn.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The webhook body for `alert`.
pub fn message(alert: &Alert) -> Value {
    let icon = match alert.action {
        Action::Trigger => ":red_circle:",
        Action::Resolve => ":large_green_circle:",
        Action::Info => ":information_source:",
    };
    let mut fields = vec![
        json!({"type": "mrkdwn", "text": ellipsize(&format!("*Cluster*\n{}", esc(&alert.target)), FIELD_MAX)}),
    ];
    let mut add = |label: &str, value: &Option<String>| {
        if let Some(v) = value {
            fields.push(json!({"type": "mrkdwn", "text": ellipsize(&format!("*{label}*\n{}", esc(v)), FIELD_MAX)}));
        }
    };
    add("Step", &alert.step);
    add("Error", &alert.error);
    let snapshot = alert.snapshot_name.as_ref().map(|s| {
        if alert.action == Action::Trigger {
            format!("{s} (kept)")
        } else {
            s.clone()
        }
    });
    add("Snapshot", &snapshot);
    add(
        "Region",
        &Some(alert.region.clone()).filter(|r| !r.is_empty()),
    );

    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": ellipsize(&alert.title, HEADER_MAX), "emoji": true}}),
        json!({"type": "section", "fields": fields}),
    ];
    if let Some(cause) = &alert.cause {
        let text = ellipsize(&format!("*Cause*\n```{}```", esc(cause)), TEXT_MAX);
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": text}}));
    }
    let mut context = Vec::new();
    if let (Some(url), Some(arn)) = (alert.execution_url(), &alert.execution_arn) {
        let name = arn.rsplit(':').next().unwrap_or(arn);
        context.push(json!({"type": "mrkdwn", "text": format!("<{url}|Execution {}>", esc(name))}));
    }
    if let Some(t) = &alert.time {
        context.push(json!({"type": "mrkdwn", "text": esc(t)}));
    }
    if !context.is_empty() {
        blocks.push(json!({"type": "context", "elements": context}));
    }

    let mut text = format!("{icon} {}", alert.title);
    if let Some(s) = &snapshot {
        text.push_str(&format!(" — snapshot {s}"));
    }
    if let Some(url) = alert.execution_url() {
        text.push_str(&format!(" — {url}"));
    }
    json!({"text": ellipsize(&text, TEXT_MAX), "blocks": blocks})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::any_alert;
    use proptest::prelude::*;

    fn chars(v: &Value) -> usize {
        v.as_str().map_or(0, |s| s.chars().count())
    }

    proptest! {
        #[test]
        fn any_alert_gives_a_message_within_block_kit_limits(alert in any_alert()) {
            let m = message(&alert);
            prop_assert!(chars(&m["text"]) <= TEXT_MAX);
            let blocks = m["blocks"].as_array().cloned().unwrap_or_default();
            prop_assert!(chars(&blocks[0]["text"]["text"]) <= HEADER_MAX);
            let fields = blocks[1]["fields"].as_array().cloned().unwrap_or_default();
            prop_assert!(!fields.is_empty() && fields.len() <= 10);
            for f in &fields {
                prop_assert!(chars(&f["text"]) <= FIELD_MAX);
            }
            for b in blocks.iter().filter(|b| b["type"] == "section") {
                prop_assert!(chars(&b["text"]["text"]) <= TEXT_MAX);
            }
        }
    }
}
