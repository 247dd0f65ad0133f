//! Key-level recovery, the reading side: what a backup holds key by key (`ecb keys`), a memory report of it
//! (`ecb report`), and what differs between two backups or a backup and a live server (`ecb diff`). Everything is
//! read with the checker's key walk ([`rdb_check::keys::walk`]: one parser, every check still made) and streams:
//! memory stays bounded whatever the size of the backup.
//!
//! These commands run outside ecb's deployment: a local file needs no AWS configuration at all; `s3://` arguments
//! build an S3 client from `--region` / `--profile` and the usual AWS sources ([`source`]).
//!
//! Exit codes: 0 success (`diff`: no difference); 1 `diff` found differences (as `diff(1)`), `restore-keys` could
//! not restore a key; 2 bad input (a flag, a pattern, a backup that is not a sound RDB file, a server URL that does
//! not parse, a database the server does not have); 3 a file, object or manifest that is not there; 4 AWS, or a live
//! server (`diff`, `restore-keys`: [`target`]), refused or could not be reached (AUTH refused included).
//!
//! Items: every key is printed as one JSON object ([`Item`]):
//! `{"key": str, "db": int, "type": str, "expiresAt": RFC 3339 (UTC, milliseconds) | null, "sizeBytes": int}`,
//! with `"keyBase64"` (standard alphabet) instead of `"key"` for a key that is not UTF-8, and `"shard"` (the object
//! key or file) when the backup has several shards.

pub mod diff;
pub mod glob;
pub mod keys;
pub mod kind;
pub mod live;
pub mod partition;
pub mod report;
pub mod source;
pub mod target;
pub mod write;

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::OnceLock;

use base64::Engine as _;
use serde::{Serialize, Serializer};

use crate::cli::{Command, Global, S3ReadArgs};
use crate::error::{CliError, CliResult};
use glob::Pattern;
pub use kind::Kind;

/// Which keys a command looks at: a database, a type, a glob (each optional).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// `--match`.
    pub pattern: Option<Pattern>,
    /// `--db`.
    pub db: Option<u64>,
    /// `--type`.
    pub kind: Option<Kind>,
}

impl Filter {
    /// Whether the key `key` of database `db`, whose value has RDB type `type_byte`, is selected.
    pub fn wants(&self, db: u64, key: &[u8], type_byte: u8) -> bool {
        self.db.is_none_or(|d| d == db)
            && self
                .kind
                .is_none_or(|k| Kind::of_type_byte(type_byte) == Some(k))
            && self.pattern.as_ref().is_none_or(|p| p.matches(key))
    }
}

/// What the commands share: the runtime (for S3 and live servers), the global flags, how objects are read, and an
/// S3 client built on first use.
pub struct Env {
    /// The async runtime S3 reads and server connections run on; walks run outside it.
    pub runtime: tokio::runtime::Runtime,
    /// The global flags (`--json`, `--region`, `--profile`).
    pub global: Global,
    /// How S3 objects are read.
    pub range: rdb_check::s3::RangeOptions,
    s3: OnceLock<aws_sdk_s3::Client>,
}

impl Env {
    /// The runtime and settings for `global` and `read`.
    ///
    /// # Errors
    /// `Failed` when the runtime cannot start.
    pub fn new(global: &Global, read: &S3ReadArgs) -> CliResult<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| CliError::Failed(format!("starting the async runtime: {e}")))?;
        Ok(Self {
            runtime,
            global: global.clone(),
            range: rdb_check::s3::RangeOptions {
                part_bytes: read.part_mib.saturating_mul(1024 * 1024),
                parallel: usize::try_from(read.parallel).unwrap_or(4),
            },
            s3: OnceLock::new(),
        })
    }

    /// The S3 client (built on first use from `--region`, `--profile` and the usual AWS sources).
    ///
    /// # Errors
    /// None today; kept fallible for the configuration loader.
    pub fn s3(&self) -> CliResult<aws_sdk_s3::Client> {
        Ok(self
            .s3
            .get_or_init(|| {
                let config = self.runtime.block_on(crate::app::sdk_config(&self.global));
                aws_sdk_s3::Client::new(&config)
            })
            .clone())
    }
}

/// Runs `ecb keys`, `ecb report`, `ecb diff` or `ecb restore-keys` (any other command: nothing, success).
pub fn run(command: &Command, global: &Global) -> ExitCode {
    let result = match command {
        Command::Keys(args) => Env::new(global, &args.read).and_then(|env| keys::run(&env, args)),
        Command::Report(args) => {
            Env::new(global, &args.read).and_then(|env| report::run(&env, args))
        }
        Command::Diff(args) => Env::new(global, &args.read).and_then(|env| diff::run(&env, args)),
        Command::RestoreKeys(args) => Env::new(global, &args.read)
            .and_then(|env| write::run(&env, args))
            .map(|()| ExitCode::SUCCESS),
        _ => Ok(ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("ecb: {e}");
            e.exit_code()
        }
    }
}

/// An absolute expiry as printed: RFC 3339 in UTC to the millisecond (`2026-12-04T03:04:05.123Z`), `null` for no
/// expiry, and the Unix milliseconds as a number for one outside years 0–9999 (RFC 3339 cannot say it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expiry(pub Option<i64>);

impl Expiry {
    /// The text, `None` for no expiry.
    pub fn text(self) -> Option<String> {
        self.0
            .map(|ms| rfc3339_ms(ms).unwrap_or_else(|| format!("{ms} ms")))
    }
}

impl Serialize for Expiry {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            None => s.serialize_none(),
            Some(ms) => match rfc3339_ms(ms) {
                Some(t) => s.serialize_str(&t),
                None => s.serialize_i64(ms),
            },
        }
    }
}

/// `2026-12-04T03:04:05.123Z` for Unix milliseconds `ms`; `None` outside years 0–9999.
pub fn rfc3339_ms(ms: i64) -> Option<String> {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()?;
    if !(0..=9999).contains(&t.year()) {
        return None;
    }
    Some(format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    ))
}

/// The current time, Unix milliseconds.
pub fn now_ms() -> i64 {
    i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000)
        .unwrap_or(i64::MAX)
}

/// One key as every command prints it in JSON (see the module doc).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Item<'a> {
    /// The key, when it is UTF-8.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<&'a str>,
    /// The key in base64 (standard alphabet), when it is not UTF-8.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_base64: Option<String>,
    /// Database number.
    pub db: u64,
    /// `string`, `list`, `set`, `zset`, `hash`, `stream` or `module`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Absolute expiry.
    pub expires_at: Expiry,
    /// Bytes the key takes in the RDB file, from its type byte to the end of its value.
    pub size_bytes: u64,
    /// The shard it is in, when the backup has several.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<&'a str>,
}

impl<'a> Item<'a> {
    /// The item of `key`.
    pub fn new(
        key: &'a [u8],
        db: u64,
        kind: &'static str,
        expires_at_ms: Option<i64>,
        size_bytes: u64,
        shard: Option<&'a str>,
    ) -> Self {
        let (key, key_base64) = match std::str::from_utf8(key) {
            Ok(text) => (Some(text), None),
            Err(_) => (
                None,
                Some(base64::engine::general_purpose::STANDARD.encode(key)),
            ),
        };
        Self {
            key,
            key_base64,
            db,
            kind,
            expires_at: Expiry(expires_at_ms),
            size_bytes,
            shard,
        }
    }
}

impl Item<'_> {
    /// Writes the item's JSON, exactly as serde writes it (the same fields in the same order; strings escaped by
    /// serde_json), without building it through the serializer: `ecb keys --json` prints millions of them, and this
    /// is most of its time.
    ///
    /// # Errors
    /// The write's.
    pub fn write_json(&self, out: &mut impl Write) -> io::Result<()> {
        out.write_all(b"{")?;
        match (self.key, &self.key_base64) {
            (Some(key), _) => {
                out.write_all(b"\"key\":")?;
                serde_json::to_writer(&mut *out, key).map_err(io::Error::other)?;
            }
            (None, Some(b64)) => write!(out, "\"keyBase64\":\"{b64}\"")?,
            (None, None) => {}
        }
        if self.key.is_some() || self.key_base64.is_some() {
            out.write_all(b",")?;
        }
        write!(
            out,
            "\"db\":{},\"type\":\"{}\",\"expiresAt\":",
            self.db, self.kind
        )?;
        match self.expires_at.0 {
            None => out.write_all(b"null")?,
            Some(ms) => match rfc3339_ms(ms) {
                Some(t) => write!(out, "\"{t}\"")?,
                None => write!(out, "{ms}")?,
            },
        }
        write!(out, ",\"sizeBytes\":{}", self.size_bytes)?;
        if let Some(shard) = self.shard {
            out.write_all(b",\"shard\":")?;
            serde_json::to_writer(&mut *out, shard).map_err(io::Error::other)?;
        }
        out.write_all(b"}")
    }
}

/// A key for a person: as it is when it is printable UTF-8, else quoted with `\xNN` escapes (as `redis-cli` does).
pub fn display_key(key: &[u8]) -> String {
    match std::str::from_utf8(key) {
        Ok(text) if !text.chars().any(char::is_control) && !text.starts_with('"') => {
            text.to_string()
        }
        _ => format!("\"{}\"", key.escape_ascii()),
    }
}

/// A failed write to stdout: a closed pipe (`ecb keys … | head`) ends the process quietly with exit code 0, as
/// [`crate::table::out`] does; anything else is an error.
pub fn write_failed(e: &io::Error) -> CliError {
    if e.kind() == io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    CliError::Failed(format!("writing to stdout: {e}"))
}

/// One JSON array written as its elements come: `[`, each element on its own line, `]`. Never holds more than one
/// element.
pub struct JsonArray<W: Write> {
    out: W,
    first: bool,
}

impl<W: Write> JsonArray<W> {
    /// Writes `[`.
    ///
    /// # Errors
    /// The write's.
    pub fn begin(mut out: W) -> io::Result<Self> {
        out.write_all(b"[")?;
        Ok(Self { out, first: true })
    }

    /// Writes one element.
    ///
    /// # Errors
    /// The write's.
    pub fn push(&mut self, item: &impl Serialize) -> io::Result<()> {
        self.out
            .write_all(if self.first { b"\n" } else { b",\n" })?;
        self.first = false;
        serde_json::to_writer(&mut self.out, item).map_err(io::Error::other)
    }

    /// Writes one key's [`Item`] ([`Item::write_json`]).
    ///
    /// # Errors
    /// The write's.
    pub fn push_item(&mut self, item: &Item<'_>) -> io::Result<()> {
        self.out
            .write_all(if self.first { b"\n" } else { b",\n" })?;
        self.first = false;
        item.write_json(&mut self.out)
    }

    /// Writes `]` and gives the writer back.
    ///
    /// # Errors
    /// The write's.
    pub fn end(mut self) -> io::Result<W> {
        self.out.write_all(if self.first { b"]" } else { b"\n]" })?;
        Ok(self.out)
    }
}

/// Rows printed as they come, in bounded memory: on a terminal as tables of up to [`Rows::BATCH`] rows (comfy-table,
/// the header repeated), else as plain lines, the columns padded to fixed widths and separated by two spaces.
pub struct Rows<W: Write> {
    out: W,
    header: Vec<&'static str>,
    widths: Vec<usize>,
    terminal: bool,
    batch: Vec<Vec<String>>,
    header_written: bool,
    /// The line being written (reused).
    line: String,
}

impl<W: Write> Rows<W> {
    /// Rows per table on a terminal.
    pub const BATCH: usize = 1000;

    /// Rows under `header` (name and width of each column; the last column is never padded).
    pub fn new(out: W, header: &[(&'static str, usize)], terminal: bool) -> Self {
        Self {
            out,
            header: header.iter().map(|(h, _)| *h).collect(),
            widths: header.iter().map(|(_, w)| *w).collect(),
            terminal,
            batch: Vec::new(),
            header_written: false,
            line: String::new(),
        }
    }

    /// Adds one row.
    ///
    /// # Errors
    /// The write's.
    pub fn push(&mut self, row: Vec<String>) -> io::Result<()> {
        if self.terminal {
            self.batch.push(row);
            if self.batch.len() >= Self::BATCH {
                self.flush_batch()?;
            }
            return Ok(());
        }
        if !self.header_written {
            self.header_written = true;
            let header: Vec<String> = self.header.iter().map(|h| (*h).to_string()).collect();
            self.line(&header)?;
        }
        self.line(&row)
    }

    fn line(&mut self, cells: &[String]) -> io::Result<()> {
        let last = cells.len().saturating_sub(1);
        let text = &mut self.line;
        text.clear();
        for (i, cell) in cells.iter().enumerate() {
            text.push_str(cell);
            if i != last {
                // Padded to the column's width in characters, as `{cell:<w$}` pads, then two spaces.
                let w = self.widths.get(i).copied().unwrap_or(0);
                let pad = w.saturating_sub(cell.chars().count()) + 2;
                text.extend(std::iter::repeat_n(' ', pad));
            }
        }
        self.out.write_all(text.trim_end().as_bytes())?;
        self.out.write_all(b"\n")
    }

    fn flush_batch(&mut self) -> io::Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let mut t = crate::table::new(&self.header);
        for row in self.batch.drain(..) {
            t.add_row(row);
        }
        writeln!(self.out, "{t}")
    }

    /// Prints what is left and gives the writer back.
    ///
    /// # Errors
    /// The write's.
    pub fn finish(mut self) -> io::Result<W> {
        self.flush_batch()?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Whether stdout is a terminal (tables) or not (plain lines).
pub fn stdout_is_terminal() -> bool {
    io::stdout().is_terminal()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_selects_by_db_type_and_glob() {
        let f = Filter {
            pattern: Some(Pattern::new(b"user:*").unwrap()),
            db: Some(3),
            kind: Some(Kind::Hash),
        };
        assert!(f.wants(3, b"user:1", 16));
        assert!(!f.wants(0, b"user:1", 16));
        assert!(!f.wants(3, b"user:1", 0));
        assert!(!f.wants(3, b"order:1", 16));
        assert!(Filter::default().wants(9, b"\xff", 0));
    }

    #[test]
    fn expiries_are_rfc3339_in_milliseconds() {
        assert_eq!(
            rfc3339_ms(1_796_353_445_123).as_deref(),
            Some("2026-12-04T03:04:05.123Z")
        );
        assert_eq!(rfc3339_ms(0).as_deref(), Some("1970-01-01T00:00:00.000Z"));
        assert_eq!(rfc3339_ms(i64::MAX), None);
        assert_eq!(
            serde_json::to_value(Expiry(Some(i64::MAX))).unwrap(),
            serde_json::json!(i64::MAX)
        );
        assert_eq!(
            serde_json::to_value(Expiry(None)).unwrap(),
            serde_json::Value::Null
        );
    }

    #[test]
    fn an_item_written_directly_is_what_serde_writes() {
        let items = [
            Item::new(b"user:1", 0, "hash", Some(1_796_353_445_123), 42, None),
            Item::new(
                b"q\"uo\\te\n\x01",
                3,
                "string",
                None,
                7,
                Some("ecb-x-0002.rdb"),
            ),
            Item::new(b"\xff\xfe", 15, "set", Some(i64::MAX), 0, Some("a\"b")),
            Item::new(b"", 0, "zset", Some(-5), u64::MAX, None),
        ];
        for item in &items {
            let mut direct = Vec::new();
            item.write_json(&mut direct).unwrap();
            assert_eq!(
                String::from_utf8(direct).unwrap(),
                serde_json::to_string(item).unwrap()
            );
        }
    }

    #[test]
    fn items_have_the_documented_shape() {
        let item = Item::new(b"user:1", 0, "hash", Some(1_796_353_445_123), 42, None);
        assert_eq!(
            serde_json::to_value(&item).unwrap(),
            serde_json::json!({"key": "user:1", "db": 0, "type": "hash",
                               "expiresAt": "2026-12-04T03:04:05.123Z", "sizeBytes": 42})
        );
        let item = Item::new(b"\xffk", 3, "string", None, 7, Some("ecb-x-0002.rdb"));
        assert_eq!(
            serde_json::to_value(&item).unwrap(),
            serde_json::json!({"keyBase64": "/2s=", "db": 3, "type": "string", "expiresAt": null,
                               "sizeBytes": 7, "shard": "ecb-x-0002.rdb"})
        );
    }

    #[test]
    fn keys_for_people_escape_what_a_terminal_would_not_show() {
        assert_eq!(display_key(b"user:1"), "user:1");
        assert_eq!(display_key(b"a\nb"), "\"a\\nb\"");
        assert_eq!(display_key(b"\xffk"), "\"\\xffk\"");
    }

    #[test]
    fn a_json_array_is_written_element_by_element() {
        let mut a = JsonArray::begin(Vec::new()).unwrap();
        let empty = JsonArray::begin(Vec::new()).unwrap().end().unwrap();
        assert_eq!(
            serde_json::from_slice::<Vec<u8>>(&empty).unwrap(),
            Vec::<u8>::new()
        );
        a.push(&1).unwrap();
        a.push(&serde_json::json!({"k": "v"})).unwrap();
        let out = a.end().unwrap();
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&out).unwrap(),
            serde_json::json!([1, {"k": "v"}])
        );
        assert_eq!(String::from_utf8(out).unwrap().lines().count(), 4);
    }

    #[test]
    fn plain_rows_are_aligned_lines_under_a_header() {
        let mut rows = Rows::new(Vec::new(), &[("db", 3), ("type", 6), ("key", 0)], false);
        rows.push(vec!["0".into(), "hash".into(), "user:1".into()])
            .unwrap();
        rows.push(vec!["12".into(), "string".into(), "k".into()])
            .unwrap();
        let text = String::from_utf8(rows.finish().unwrap()).unwrap();
        assert_eq!(
            text,
            "db   type    key\n0    hash    user:1\n12   string  k\n"
        );
        let mut rows = Rows::new(Vec::new(), &[("db", 3), ("key", 0)], true);
        for i in 0..(Rows::<Vec<u8>>::BATCH + 1) {
            rows.push(vec![i.to_string(), "k".into()]).unwrap();
        }
        let text = String::from_utf8(rows.finish().unwrap()).unwrap();
        // Two tables, each with its header.
        assert_eq!(text.matches("key").count(), 2);
    }
}
