//! `ecb diff BACKUP_A BACKUP_B [--match GLOB] [--db N] [--json]`: what differs between two backups, or between a
//! backup and a live server (`BACKUP_B` = `redis[s]://…`, read by [`super::live`]).
//!
//! - **added**: keys only B has; **removed**: keys only A has; **changed**: keys both have whose type, logical value
//!   or expiry differs. Values are compared by their logical digest (`KeyEntry::digest`, as `DEBUG DIGEST-VALUE`
//!   compares them: order-insensitive for sets, hashes and sorted sets, independent of the encoding, so a hash
//!   re-encoded from listpack to hashtable with the same fields is not changed). Expiries are compared exactly
//!   between backups, and within ±[`live::LIVE_EXPIRY_TOLERANCE_MS`] against a live server (whose expiry is `PTTL` turned
//!   into an absolute time when it is read). A live server that refuses `DUMP` is compared by type and expiry only,
//!   and the output says so (`summary.comparison`).
//! - Memory stays bounded whatever the backups' sizes: both sides are spread over temporary files by a hash of
//!   (database, key) and compared partition by partition ([`super::partition`]); the differences go to temporary
//!   files too, and are printed sorted by (database, key) when each kind's records fit in [`SORT_BUDGET`] bytes
//!   (`summary.sorted`), else in partition order.
//! - Exit code: 0 when nothing differs, 1 when something does (as `diff(1)`), 2 for bad input (a flag, a pattern, a
//!   backup that is not a sound RDB file, a server URL that does not parse, a database the server does not have), 3
//!   a backup that is not there, 4 AWS refused, or the live server could not be reached, refused AUTH or a command.
//! - Without `--json`, one row per difference, at most `--limit` (default 50, 0 for all) per kind, then a line per
//!   kind that was cut (`… and 1,234 more removed (--json or --limit 0 lists all)`), then the summary line. `--json`
//!   lists every difference.
//!
//! `--json` prints one object (items as `ecb keys` prints them, [`super::Item`]):
//! ```json
//! { "added":   [ {"key": "new", "db": 0, "type": "string", "expiresAt": null, "sizeBytes": 9} ],
//!   "removed": [ {"key": "old", "db": 0, "type": "hash", "expiresAt": "2026-12-04T03:04:05.123Z", "sizeBytes": 40,
//!                 "expired": true} ],                      // "expired": its expiry has passed (now)
//!   "changed": [ {"key": "k", "db": 0, "type": "hash", "expiresAt": null, "sizeBytes": 40,   // A's side
//!                 "change": "value" | "expiry" | "type" | "value+expiry",
//!                 "b": {"type": "hash", "expiresAt": null, "sizeBytes": 52} } ],             // B's side
//!   "summary": { "a": "dump-a.rdb", "b": "redis://127.0.0.1:6379/0", "added": 1, "removed": 1, "changed": 1,
//!                "comparison": "digest" | "type+expiry", "comparisonNote": "…", "sorted": true } }
//! ```
//! `"shard"` names the shard (or server node) of an item on a side with several; `"length"` (on B's side) is the
//! live server's `STRLEN`/`LLEN`/… when `DUMP` was refused.

mod output;

use std::fs::File;
use std::io::{self, BufWriter, Seek};
use std::process::ExitCode;

use rdb_check::keys::{KeyEntry, KeyVisitor, WalkOptions, Want};

use super::partition::{Comparison, Differences, Partitions, Record, Side, diff_partition};
use super::source::Backup;
use super::{Env, Filter, Kind, live, now_ms, target};
use crate::cli::DiffArgs;
use crate::error::{CliError, CliResult};

/// Bytes of one kind's difference records that are sorted before printing.
pub const SORT_BUDGET: u64 = 4 * 1024 * 1024;

/// How a key differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Another type (the value then differs too).
    Type,
    /// The logical value.
    Value,
    /// The expiry.
    Expiry,
    /// Both.
    ValueExpiry,
}

impl Change {
    /// `type`, `value`, `expiry`, `value+expiry`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Type => "type",
            Self::Value => "value",
            Self::Expiry => "expiry",
            Self::ValueExpiry => "value+expiry",
        }
    }
}

/// How `a` and `b` (one key) differ, `None` when they do not: type first; values only when both digests are known;
/// expiries within `tolerance_ms`.
pub fn compare(a: &Record, b: &Record, tolerance_ms: i64) -> Option<Change> {
    if a.kind != b.kind {
        return Some(Change::Type);
    }
    let value = matches!((a.digest, b.digest), (Some(x), Some(y)) if x != y);
    let expiry = match (a.expires_at_ms, b.expires_at_ms) {
        (None, None) => false,
        (Some(x), Some(y)) => x.abs_diff(y) > tolerance_ms.unsigned_abs(),
        _ => true,
    };
    match (value, expiry) {
        (true, true) => Some(Change::ValueExpiry),
        (true, false) => Some(Change::Value),
        (false, true) => Some(Change::Expiry),
        (false, false) => None,
    }
}

/// A temporary file of difference records.
struct Spool {
    w: BufWriter<File>,
    count: u64,
}

impl Spool {
    fn new() -> io::Result<Self> {
        Ok(Self {
            w: BufWriter::new(tempfile::tempfile()?),
            count: 0,
        })
    }

    /// The file rewound, and its length.
    fn finish(self) -> io::Result<(File, u64)> {
        let mut f = self
            .w
            .into_inner()
            .map_err(io::IntoInnerError::into_error)?;
        let len = f.stream_position()?;
        f.rewind()?;
        Ok((f, len))
    }
}

/// The differences found, spooled: added (B records), removed (A records), changed (A then B record).
struct Found {
    tolerance_ms: i64,
    added: Spool,
    removed: Spool,
    changed: Spool,
}

impl Differences for Found {
    fn added(&mut self, b: &Record) -> io::Result<()> {
        self.added.count += 1;
        b.write_to(&mut self.added.w)
    }

    fn removed(&mut self, a: &Record) -> io::Result<()> {
        self.removed.count += 1;
        a.write_to(&mut self.removed.w)
    }

    fn changed(&mut self, a: &Record, b: &Record) -> io::Result<()> {
        self.changed.count += 1;
        a.write_to(&mut self.changed.w)?;
        b.write_to(&mut self.changed.w)
    }

    fn differ(&self, a: &Record, b: &Record) -> bool {
        compare(a, b, self.tolerance_ms).is_some()
    }
}

/// The walk's visitor: each selected key, with its digest, as a record into the partitions.
struct Spreader<'a> {
    filter: &'a Filter,
    parts: &'a mut Partitions,
    shard: u32,
    error: Option<io::Error>,
}

impl KeyVisitor for Spreader<'_> {
    fn want(&mut self, db: u64, key: &[u8], type_byte: u8) -> Option<Want> {
        self.filter.wants(db, key, type_byte).then_some(Want {
            digest: true,
            payload: false,
        })
    }

    fn key(&mut self, e: &KeyEntry<'_>) -> bool {
        let record = Record {
            db: e.db,
            key: e.key.to_vec(),
            kind: Kind::from_name(e.kind)
                .or_else(|| Kind::of_type_byte(e.type_byte))
                .unwrap_or(Kind::Module),
            expires_at_ms: e.expires_at_ms,
            digest: e.digest,
            size_bytes: e.size_bytes,
            length: None,
            shard: self.shard,
        };
        match self.parts.add(&record) {
            Ok(()) => true,
            Err(err) => {
                self.error = Some(err);
                false
            }
        }
    }
}

fn temp_failed(e: &io::Error) -> CliError {
    CliError::Failed(format!("writing the diff's temporary files (TMPDIR): {e}"))
}

/// Spreads every selected key of `backup` over `parts`.
fn spread(env: &Env, backup: &Backup, filter: &Filter, parts: &mut Partitions) -> CliResult<Side> {
    let options = WalkOptions::default();
    for i in 0..backup.shards.len() {
        let mut spreader = Spreader {
            filter,
            parts,
            shard: u32::try_from(i).unwrap_or(u32::MAX),
            error: None,
        };
        let walked = backup.walk(i, env, &options, &mut spreader);
        if let Some(e) = spreader.error.take() {
            return Err(temp_failed(&e));
        }
        walked?;
    }
    Ok(Side {
        label: backup.label.clone(),
        shards: backup.shards.iter().map(|s| s.name.clone()).collect(),
    })
}

/// `ecb diff`.
///
/// # Errors
/// `Usage` (a flag, a pattern, a backup that is not a sound RDB file, a bad server URL or database), `NotFound`,
/// `Aws`, `Unreachable` (the live server), `Failed` (temporary files, stdout).
pub fn run(env: &Env, args: &DiffArgs) -> CliResult<ExitCode> {
    let mut filter = Filter {
        pattern: args.pattern.clone(),
        db: args.db,
        kind: None,
    };
    // Everything that can be refused is, before the long reads.
    let server = if target::is_url(&args.backup_b) {
        let server = live::Server::discover(env, &args.backup_b, args.db)?;
        filter.db = Some(server.db);
        Some(server)
    } else {
        None
    };
    let a = Backup::open(&args.backup_a, env)?;
    let b = match &server {
        Some(_) => None,
        None => Some(Backup::open(&args.backup_b, env)?),
    };
    let mut pa = Partitions::new(0).map_err(|e| temp_failed(&e))?;
    let side_a = spread(env, &a, &filter, &mut pa)?;
    let mut pb = Partitions::new(0).map_err(|e| temp_failed(&e))?;
    let (side_b, comparison, tolerance_ms) = match (&server, &b) {
        (Some(server), _) => {
            let read = live::read(env, server, &filter, &mut pb)?;
            (read.side, read.comparison, live::LIVE_EXPIRY_TOLERANCE_MS)
        }
        (None, Some(b)) => (
            spread(env, b, &filter, &mut pb)?,
            Comparison {
                name: "digest",
                note: "values by logical digest (encoding-independent), expiries exactly".into(),
            },
            0,
        ),
        (None, None) => return Err(CliError::Usage("BACKUP_B: missing".into())),
    };
    let mut found = Found {
        tolerance_ms,
        added: Spool::new().map_err(|e| temp_failed(&e))?,
        removed: Spool::new().map_err(|e| temp_failed(&e))?,
        changed: Spool::new().map_err(|e| temp_failed(&e))?,
    };
    let parts_a = pa.finish().map_err(|e| temp_failed(&e))?;
    let parts_b = pb.finish().map_err(|e| temp_failed(&e))?;
    for (x, y) in parts_a.into_iter().zip(parts_b) {
        diff_partition(x, y, 0, &mut found).map_err(|e| temp_failed(&e))?;
    }
    let differences = found.added.count + found.removed.count + found.changed.count;
    let sides = output::Sides {
        a: side_a,
        b: side_b,
        comparison,
        tolerance_ms,
        now_ms: now_ms(),
    };
    output::print(env, &sides, found, args.limit)?;
    Ok(if differences == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A record of database 0 for the tests (here and in `output`).
    pub(crate) fn rec(key: &str, kind: Kind, digest: u8, expires: Option<i64>) -> Record {
        Record {
            db: 0,
            key: key.as_bytes().to_vec(),
            kind,
            expires_at_ms: expires,
            digest: Some([digest; 32]),
            size_bytes: 10,
            length: None,
            shard: 0,
        }
    }

    #[test]
    fn a_change_is_type_first_then_value_and_expiry() {
        let a = rec("k", Kind::Hash, 1, Some(10_000));
        assert_eq!(compare(&a, &a, 0), None);
        assert_eq!(
            compare(&a, &rec("k", Kind::Set, 1, Some(10_000)), 0),
            Some(Change::Type)
        );
        assert_eq!(
            compare(&a, &rec("k", Kind::Hash, 2, Some(10_000)), 0),
            Some(Change::Value)
        );
        assert_eq!(
            compare(&a, &rec("k", Kind::Hash, 1, None), 0),
            Some(Change::Expiry)
        );
        assert_eq!(
            compare(&a, &rec("k", Kind::Hash, 2, Some(9_999)), 0),
            Some(Change::ValueExpiry)
        );
        // Against a live server: expiries within the tolerance are equal; a value without a digest is not compared.
        assert_eq!(
            compare(&a, &rec("k", Kind::Hash, 1, Some(12_000)), 2_000),
            None
        );
        assert_eq!(
            compare(&a, &rec("k", Kind::Hash, 1, Some(12_001)), 2_000),
            Some(Change::Expiry)
        );
        let mut no_digest = rec("k", Kind::Hash, 9, Some(10_000));
        no_digest.digest = None;
        assert_eq!(compare(&a, &no_digest, 2_000), None);
    }
}
