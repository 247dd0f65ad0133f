//! What became of each key `ecb restore-keys` handled ([`Outcome`]), counted and listed within bounds ([`Tally`]),
//! and printed: a table, or `--json`.

use base64::Engine as _;
use serde_json::{Value as Json, json};

use crate::table;

/// Keys listed in `--json`'s `keys` (skipped, expired and failed ones first, then restored ones; `keysTruncated`
/// says when some were left out).
pub const JSON_KEYS: usize = 10_000;
/// Skipped, expired and failed keys listed in the table (then `… and N more`).
pub const TABLE_KEYS: usize = 1_000;

/// The result of one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// RESTOREd.
    Restored,
    /// Not written: the key exists (no `--replace`), or its module is missing.
    Skipped,
    /// Its expiry in the backup is already past: not written.
    Expired,
    /// Not written: the server refused it, or it cannot be sent (payload too large).
    Failed,
    /// Dry run: would be RESTOREd.
    WouldRestore,
    /// Dry run: would be skipped.
    WouldSkip,
    /// Dry run: would fail.
    WouldFail,
}

impl Verdict {
    /// The JSON `result`: `restored`, `skipped`, `expired`, `failed`, `would-restore`, `would-skip`, `would-fail`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Restored => "restored",
            Self::Skipped => "skipped",
            Self::Expired => "expired",
            Self::Failed => "failed",
            Self::WouldRestore => "would-restore",
            Self::WouldSkip => "would-skip",
            Self::WouldFail => "would-fail",
        }
    }

    /// Skipped, or failed, as a dry run says it.
    pub fn skipped(dry_run: bool) -> Self {
        if dry_run {
            Self::WouldSkip
        } else {
            Self::Skipped
        }
    }

    /// Failed, as a dry run says it.
    pub fn failed(dry_run: bool) -> Self {
        if dry_run {
            Self::WouldFail
        } else {
            Self::Failed
        }
    }
}

/// A verdict and why (`exists`, `module-missing:MBbloom--`, `payload-too-large: …`, the server's error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// What happened.
    pub verdict: Verdict,
    /// Why, for all but a plain restore.
    pub reason: Option<String>,
}

impl Outcome {
    /// `verdict` with `reason`.
    pub fn new(verdict: Verdict, reason: impl Into<String>) -> Self {
        Self {
            verdict,
            reason: Some(reason.into()),
        }
    }

    /// `verdict` without a reason.
    pub fn plain(verdict: Verdict) -> Self {
        Self {
            verdict,
            reason: None,
        }
    }
}

/// One listed key.
#[derive(Debug, Clone)]
pub struct Listed {
    /// Order in the backup.
    pub seq: u64,
    /// Database.
    pub db: u64,
    /// Name.
    pub key: Vec<u8>,
    /// `string`, `list`, … (`KeyEntry::kind`).
    pub kind: &'static str,
    /// What happened.
    pub outcome: Outcome,
}

/// Counts and bounded lists.
#[derive(Debug, Default)]
pub struct Tally {
    /// Restored (dry run: would be).
    pub restored: u64,
    /// Skipped (dry run: would be).
    pub skipped: u64,
    /// Expired.
    pub expired: u64,
    /// Failed (dry run: would fail).
    pub failed: u64,
    problems: Vec<Listed>,
    restored_keys: Vec<Listed>,
}

impl Tally {
    /// Counts `outcome` for key `key` and lists it while there is room.
    pub fn record(&mut self, seq: u64, db: u64, key: &[u8], kind: &'static str, outcome: Outcome) {
        let list = match outcome.verdict {
            Verdict::Restored | Verdict::WouldRestore => {
                self.restored += 1;
                &mut self.restored_keys
            }
            Verdict::Skipped | Verdict::WouldSkip => {
                self.skipped += 1;
                &mut self.problems
            }
            Verdict::Expired => {
                self.expired += 1;
                &mut self.problems
            }
            Verdict::Failed | Verdict::WouldFail => {
                self.failed += 1;
                &mut self.problems
            }
        };
        if list.len() < JSON_KEYS {
            list.push(Listed {
                seq,
                db,
                key: key.to_vec(),
                kind,
                outcome,
            });
        }
    }

    /// Every key counted.
    pub fn total(&self) -> u64 {
        self.restored + self.skipped + self.expired + self.failed
    }

    /// Up to [`JSON_KEYS`] keys, skipped/expired/failed ones first, in backup order; and whether any were left out.
    pub fn listed(&self) -> (Vec<&Listed>, bool) {
        let room = JSON_KEYS.saturating_sub(self.problems.len());
        let mut keys: Vec<&Listed> = self
            .problems
            .iter()
            .chain(self.restored_keys.iter().take(room))
            .collect();
        keys.sort_by_key(|l| l.seq);
        let truncated = (keys.len() as u64) < self.total();
        (keys, truncated)
    }

    /// The `--json` document.
    pub fn to_json(&self, dry_run: bool, target: &str, notes: &[String]) -> Json {
        let (keys, truncated) = self.listed();
        let keys: Vec<Json> = keys
            .into_iter()
            .map(|l| {
                let mut o = serde_json::Map::new();
                match std::str::from_utf8(&l.key) {
                    Ok(k) => o.insert("key".into(), json!(k)),
                    Err(_) => o.insert(
                        "keyBase64".into(),
                        json!(base64::engine::general_purpose::STANDARD.encode(&l.key)),
                    ),
                };
                o.insert("db".into(), json!(l.db));
                o.insert("type".into(), json!(l.kind));
                o.insert("result".into(), json!(l.outcome.verdict.label()));
                o.insert("reason".into(), json!(l.outcome.reason));
                Json::Object(o)
            })
            .collect();
        json!({
            "restored": self.restored,
            "skipped": self.skipped,
            "expired": self.expired,
            "failed": self.failed,
            "dryRun": dry_run,
            "target": target,
            "notes": notes,
            "keys": keys,
            "keysTruncated": truncated,
        })
    }

    /// The table: the counts, then up to [`TABLE_KEYS`] skipped, expired and failed keys.
    pub fn to_table(&self, dry_run: bool, title: &str, notes: &[String]) -> String {
        let header: &[&str] = if dry_run {
            &["would restore", "would skip", "expired", "would fail"]
        } else {
            &["restored", "skipped", "expired", "failed"]
        };
        let mut counts = table::new(header);
        counts.add_row(
            [self.restored, self.skipped, self.expired, self.failed].map(|n| n.to_string()),
        );
        let mut out = format!("{title}\n{counts}");
        for n in notes {
            out.push_str(&format!("\nnote: {n}"));
        }
        let problems = self.skipped + self.expired + self.failed;
        if problems > 0 {
            let mut keys = table::new(&["key", "db", "type", "result", "reason"]);
            for l in self.problems.iter().take(TABLE_KEYS) {
                keys.add_row([
                    printable(&l.key),
                    l.db.to_string(),
                    l.kind.to_string(),
                    l.outcome.verdict.label().to_string(),
                    l.outcome.reason.clone().unwrap_or_default(),
                ]);
            }
            out.push_str(&format!("\n{keys}"));
            let shown = problems.min(TABLE_KEYS as u64);
            if problems > shown {
                out.push_str(&format!(
                    "\n… and {} more (--json lists up to {JSON_KEYS})",
                    problems - shown
                ));
            }
        }
        out
    }
}

/// A key as text: UTF-8 as is, other bytes escaped as `redis-cli` shows them (`\xff`).
pub fn printable(key: &[u8]) -> String {
    match std::str::from_utf8(key) {
        Ok(k) if !k.chars().any(char::is_control) => k.to_string(),
        _ => key
            .iter()
            .flat_map(|&b| std::ascii::escape_default(b))
            .map(char::from)
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_lists_put_problems_first_within_the_cap() {
        let mut t = Tally::default();
        for i in 0..(JSON_KEYS as u64 + 5) {
            t.record(
                i,
                0,
                format!("k{i}").as_bytes(),
                "string",
                Outcome::plain(Verdict::Restored),
            );
        }
        t.record(
            99_999,
            3,
            b"\xffbin",
            "hash",
            Outcome::new(Verdict::Skipped, "exists"),
        );
        t.record(
            100_000,
            0,
            b"gone",
            "string",
            Outcome::plain(Verdict::Expired),
        );
        assert_eq!(
            (t.restored, t.skipped, t.expired, t.failed),
            (JSON_KEYS as u64 + 5, 1, 1, 0)
        );
        let (keys, truncated) = t.listed();
        assert!(truncated);
        assert_eq!(keys.len(), JSON_KEYS);
        assert!(keys.iter().any(|l| l.key == b"gone"));
        let doc = t.to_json(false, "redis://h:1", &[]);
        assert_eq!(doc["keysTruncated"], json!(true));
        let bin = doc["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["db"] == json!(3))
            .unwrap();
        assert_eq!(bin["keyBase64"], json!("/2Jpbg=="));
        assert_eq!(bin["result"], json!("skipped"));
        assert_eq!(bin["reason"], json!("exists"));
        assert!(bin.get("key").is_none());
    }

    #[test]
    fn the_table_lists_a_bounded_number_of_problems() {
        let mut t = Tally::default();
        for i in 0..(TABLE_KEYS as u64 + 7) {
            t.record(
                i,
                0,
                format!("k{i}").as_bytes(),
                "string",
                Outcome::new(Verdict::Failed, "x"),
            );
        }
        let text = t.to_table(false, "title", &["a note".into()]);
        assert!(text.contains("… and 7 more"), "{text}");
        assert!(text.contains("note: a note"));
        assert!(t.to_table(true, "t", &[]).contains("would restore"));
        let empty = Tally::default().to_table(false, "t", &[]);
        assert!(!empty.contains("reason"), "{empty}");
    }

    #[test]
    fn keys_print_readably() {
        assert_eq!(printable(b"user:1"), "user:1");
        assert_eq!(printable(b"a\xff\n"), "a\\xff\\n");
    }
}
