//! `ecb keys BACKUP [--match GLOB] [--db N] [--type T] [--json] [--payload]`: the keys of a backup, shard by shard
//! in file order, as they are read (nothing is collected: memory stays flat whatever the number of keys).
//!
//! Keys the filter does not select are not digested nor copied ([`KeyVisitor::want`] returns `None`), though the
//! walk still checks their values.
//!
//! `--json` prints one JSON array of [`Item`]s, written as the keys come; with `--payload` each has
//! `"dumpBase64"`: the key's DUMP payload (what `DUMP key` returns and `RESTORE` takes: type byte, value as in the
//! file, RDB version, CRC-64), `null` for a value whose payload is over 512 MiB (`"payloadBytes"` then says its
//! length). Without `--json`: database, type, encoding, expiry, size and key, as tables of up to 1,000 rows on a
//! terminal, else as plain aligned lines (one per key, under a header line).
//!
//! A backup found corrupt part way through ends in an error (exit 2) after the keys before it were printed; the
//! JSON array is then left unclosed, so no JSON reader takes it for a whole listing.

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use base64::Engine as _;
use rdb_check::keys::{KeyEntry, KeyVisitor, WalkOptions, Want};
use serde::Serialize;

use super::source::Backup;
use super::{Env, Expiry, Filter, Item, JsonArray, Rows, display_key, write_failed};
use crate::cli::KeysArgs;
use crate::error::CliResult;

/// One key with its payload (`--payload`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WithPayload<'a> {
    #[serde(flatten)]
    item: Item<'a>,
    dump_base64: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    payload_bytes: Option<u64>,
}

/// Where the listing goes.
enum Out<W: Write> {
    Json(JsonArray<W>),
    Rows(Rows<W>),
}

/// The walk's visitor: selects with the filter, prints each selected key.
struct Lister<'a, W: Write> {
    filter: &'a Filter,
    want: Want,
    shard: Option<&'a str>,
    out: &'a mut Out<W>,
    listed: u64,
    payloads_left_out: u64,
    error: Option<io::Error>,
}

impl<W: Write> Lister<'_, W> {
    fn print(&mut self, e: &KeyEntry<'_>) -> io::Result<()> {
        let item = Item::new(
            e.key,
            e.db,
            e.kind,
            e.expires_at_ms,
            e.size_bytes,
            self.shard,
        );
        match self.out {
            Out::Json(array) if self.want.payload => {
                let dump_base64 = e
                    .payload
                    .map(|p| base64::engine::general_purpose::STANDARD.encode(p));
                let payload_bytes = dump_base64.is_none().then_some(e.payload_bytes);
                if dump_base64.is_none() {
                    self.payloads_left_out += 1;
                }
                array.push(&WithPayload {
                    item,
                    dump_base64,
                    payload_bytes,
                })
            }
            Out::Json(array) => array.push_item(&item),
            Out::Rows(rows) => {
                let mut row = vec![
                    e.db.to_string(),
                    e.kind.to_string(),
                    e.encoding.to_string(),
                    Expiry(e.expires_at_ms).text().unwrap_or_else(|| "-".into()),
                    e.size_bytes.to_string(),
                ];
                if let Some(shard) = self.shard {
                    row.push(shard.to_string());
                }
                row.push(display_key(e.key));
                rows.push(row)
            }
        }
    }
}

impl<W: Write> KeyVisitor for Lister<'_, W> {
    fn want(&mut self, db: u64, key: &[u8], type_byte: u8) -> Option<Want> {
        self.filter.wants(db, key, type_byte).then_some(self.want)
    }

    fn key(&mut self, entry: &KeyEntry<'_>) -> bool {
        match self.print(entry) {
            Ok(()) => {
                self.listed += 1;
                true
            }
            Err(e) => {
                self.error = Some(e);
                false
            }
        }
    }
}

/// The table's columns (name, width of the plain lines).
fn columns(sharded: bool) -> Vec<(&'static str, usize)> {
    let mut c = vec![
        ("db", 3),
        ("type", 6),
        ("encoding", 18),
        ("expires at", 24),
        ("size", 10),
    ];
    if sharded {
        c.push(("shard", 30));
    }
    c.push(("key", 0));
    c
}

/// `ecb keys`.
///
/// # Errors
/// `Usage` (a flag, a backup that is not a sound RDB file), `NotFound`, `Aws`, a failed write.
pub fn run(env: &Env, args: &KeysArgs) -> CliResult<ExitCode> {
    let backup = Backup::open(&args.backup, env)?;
    let filter = Filter {
        pattern: args.pattern.clone(),
        db: args.db,
        kind: args.kind,
    };
    let stdout = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let sharded = backup.shards.len() > 1;
    let mut out = if env.global.json {
        Out::Json(JsonArray::begin(stdout).map_err(|e| write_failed(&e))?)
    } else {
        Out::Rows(Rows::new(
            stdout,
            &columns(sharded),
            super::stdout_is_terminal(),
        ))
    };
    let want = Want {
        digest: false,
        payload: args.payload && env.global.json,
    };
    let (listed, left_out) = list(env, &backup, &filter, want, &mut out)?;
    match out {
        Out::Json(array) => array
            .end()
            .and_then(|mut w| writeln!(w).and_then(|()| w.flush())),
        Out::Rows(rows) => rows.finish().map(drop),
    }
    .map_err(|e| write_failed(&e))?;
    if !env.global.json && super::stdout_is_terminal() {
        crate::table::out(format!("{listed} key(s)"));
    }
    if left_out > 0 {
        eprintln!(
            "ecb: {left_out} key(s) have a DUMP payload over 512 MiB: dumpBase64 is null for them (payloadBytes says how long)"
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Walks every shard of `backup`, printing the keys `filter` selects into `out`: (keys listed, payloads left out).
fn list<W: Write>(
    env: &Env,
    backup: &Backup,
    filter: &Filter,
    want: Want,
    out: &mut Out<W>,
) -> CliResult<(u64, u64)> {
    let sharded = backup.shards.len() > 1;
    let options = WalkOptions::default();
    let (mut listed, mut left_out) = (0, 0);
    for (i, shard) in backup.shards.iter().enumerate() {
        let mut lister = Lister {
            filter,
            want,
            shard: sharded.then_some(shard.name.as_str()),
            out,
            listed: 0,
            payloads_left_out: 0,
            error: None,
        };
        let walked = backup.walk(i, env, &options, &mut lister);
        if let Some(e) = lister.error.take() {
            return Err(write_failed(&e));
        }
        walked?;
        listed += lister.listed;
        left_out += lister.payloads_left_out;
    }
    Ok((listed, left_out))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A lister of `filter` for the tests, writing into `out`.
    fn lister<'a, W: Write>(
        filter: &'a Filter,
        want: Want,
        shard: Option<&'a str>,
        out: &'a mut Out<W>,
    ) -> Lister<'a, W> {
        Lister {
            filter,
            want,
            shard,
            out,
            listed: 0,
            payloads_left_out: 0,
            error: None,
        }
    }
    use crate::recovery::glob::Pattern;

    fn entry<'a>(key: &'a [u8], payload: Option<&'a [u8]>) -> KeyEntry<'a> {
        KeyEntry {
            db: 3,
            key,
            type_byte: 16,
            kind: "hash",
            encoding: "hash-listpack",
            expires_at_ms: None,
            size_bytes: 40,
            offset: 100,
            digest: None,
            payload,
            payload_bytes: 51,
            module: None,
        }
    }

    #[test]
    fn the_visitor_wants_only_what_the_filter_selects_and_no_payload_unless_asked() {
        let filter = Filter {
            pattern: Some(Pattern::new(b"user:*").unwrap()),
            ..Filter::default()
        };
        let mut out = Out::Json(JsonArray::begin(Vec::new()).unwrap());
        let mut lister = lister(&filter, Want::default(), None, &mut out);
        assert_eq!(lister.want(0, b"user:1", 0), Some(Want::default()));
        assert_eq!(lister.want(0, b"order:1", 0), None);
    }

    #[test]
    fn payloads_are_base64_and_a_missing_one_says_its_length() {
        let filter = Filter::default();
        let mut out = Out::Json(JsonArray::begin(Vec::new()).unwrap());
        let mut lister = lister(
            &filter,
            Want {
                digest: false,
                payload: true,
            },
            Some("ecb-x-0001.rdb"),
            &mut out,
        );
        assert!(lister.key(&entry(b"user:1", Some(b"\x10abc"))));
        assert!(lister.key(&entry(b"user:2", None)));
        assert_eq!((lister.listed, lister.payloads_left_out), (2, 1));
        let Out::Json(array) = out else {
            unreachable!()
        };
        let doc: serde_json::Value = serde_json::from_slice(&array.end().unwrap()).unwrap();
        assert_eq!(
            doc,
            serde_json::json!([
                {"key": "user:1", "db": 3, "type": "hash", "expiresAt": null, "sizeBytes": 40,
                 "shard": "ecb-x-0001.rdb", "dumpBase64": "EGFiYw=="},
                {"key": "user:2", "db": 3, "type": "hash", "expiresAt": null, "sizeBytes": 40,
                 "shard": "ecb-x-0001.rdb", "dumpBase64": null, "payloadBytes": 51}
            ])
        );
    }

    #[test]
    fn plain_lines_name_the_encoding_and_escape_the_key() {
        let filter = Filter::default();
        let mut out = Out::Rows(Rows::new(Vec::new(), &columns(false), false));
        let mut lister = lister(&filter, Want::default(), None, &mut out);
        assert!(lister.key(&entry(b"\xffk", None)));
        let Out::Rows(rows) = out else { unreachable!() };
        let text = String::from_utf8(rows.finish().unwrap()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("db   type    encoding"), "{text}");
        assert!(lines[1].starts_with("3    hash    hash-listpack"), "{text}");
        assert!(lines[1].ends_with("40          \"\\xffk\""), "{text}");
    }
}
