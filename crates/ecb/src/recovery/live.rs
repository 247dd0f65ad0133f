//! The B side of `ecb diff BACKUP redis[s]://[user:pass@]host:port[/db]`: a live server, read key by key.
//!
//! - The URL, the connections (TLS, AUTH, the password percent-decoded and never shown) and the primaries are
//!   [`super::target`]'s, as `ecb restore-keys` has them: every primary of a cluster-mode server (`INFO cluster`:
//!   `cluster_enabled:1`) from `CLUSTER SHARDS` (or, where that is refused, `CLUSTER SLOTS`), reached with the URL's
//!   credentials and TLS ([`target::primaries`]). The database read is `--db`, else the URL's `/db`, else 0
//!   ([`TargetUrl::db_to_read`]).
//! - Keys come from `SCAN cursor [MATCH glob] COUNT 1000` (the same glob rules as the backup side; each key is also
//!   checked against the pattern here), then per batch, pipelined, `DUMP` and `PTTL`: the payload is read with the
//!   checker ([`rdb_check::keys::read_dump_payload`]) for its type, size and logical digest, the same digest the
//!   backup side has; the expiry is `PTTL` added to the time the reply came (so compared within ±2 s); the size is
//!   the payload's type byte and value plus the key as a plain RDB string, as a file counts it (a few bytes more than
//!   the file's for keys it stores as integers or compressed). A key gone between SCAN and DUMP is skipped. Batches
//!   shrink when their payloads are large (memory stays bounded).
//! - A server that refuses `DUMP` (`NOPERM` under an ACL, `unknown command`): the rest is read with `TYPE`, `PTTL`
//!   and the type's length (`STRLEN`, `LLEN`, `SCARD`, `ZCARD`, `HLEN`, `XLEN`), values are not compared, and the
//!   summary says so (`comparison: type+expiry`); `sizeBytes` is then 0 on that side.
//! - A server that cannot be reached, refuses AUTH or a command while it is read is [`CliError::Unreachable`] (exit
//!   4); a database it does not have is [`CliError::Usage`] (exit 2). The password never appears in an error or the
//!   output: the server is named `scheme://host:port/db` ([`TargetUrl::label`]), and any error text goes through
//!   [`TargetUrl::redact`].

use redis::Value;
use redis::aio::MultiplexedConnection;

use super::partition::{Comparison, Partitions, Record, Side};
use super::target::{self, TargetUrl, host_port, int, text};
use super::{Env, Filter, Kind, now_ms};
use crate::error::{CliError, CliResult};

/// Expiries within this many milliseconds are equal against a live server (PTTL is read some time after the server
/// set it, and clocks differ).
pub const LIVE_EXPIRY_TOLERANCE_MS: i64 = 2_000;

/// Keys per SCAN call (`COUNT`).
const SCAN_COUNT: u64 = 1000;
/// Keys per DUMP pipeline at first, and at most.
const MAX_BATCH: usize = 1000;
/// Keys in the first `DUMP` pipeline of a node: small, since nothing is known yet of its values' sizes (a pipeline of
/// large values costs memory here and in the server's output buffer).
const FIRST_BATCH: usize = 16;
/// Payload bytes per pipeline above which batches shrink.
const BATCH_BYTES: usize = 8 * 1024 * 1024;

/// What reading the server gave.
pub struct LiveRead {
    /// The server as a diff side (nodes as shards).
    pub side: Side,
    /// How values were compared.
    pub comparison: Comparison,
}

/// The live server of `ecb diff`: its URL, the database read and its primaries.
pub struct Server {
    /// `BACKUP_B`, parsed.
    pub url: TargetUrl,
    /// The database read.
    pub db: u64,
    /// Every primary, `(host, port)`.
    pub primaries: Vec<(String, u16)>,
}

impl Server {
    /// Parses `arg` (`BACKUP_B`), picks the database (`--db` is `db`) and finds the primaries, each reached once.
    ///
    /// # Errors
    /// `Usage`: a bad URL, `--db` and the URL's `/db` differing, a database the server does not have;
    /// `Unreachable`: the server cannot be reached, refuses AUTH, `INFO` or the topology.
    pub fn discover(env: &Env, arg: &str, db: Option<u64>) -> CliResult<Self> {
        let url = TargetUrl::parse_as("BACKUP_B", arg)?;
        let db = url.db_to_read(db)?;
        let primaries = env.runtime.block_on(target::primaries(&url, db))?;
        Ok(Self { url, db, primaries })
    }
}

/// Reads every key `filter` selects (its database is the server's) from every primary into `parts`.
///
/// # Errors
/// `Unreachable`: a primary that cannot be reached or read; `Usage`: a payload the checker refuses; `Failed`: the
/// temporary files.
pub fn read(
    env: &Env,
    server: &Server,
    filter: &Filter,
    parts: &mut Partitions,
) -> CliResult<LiveRead> {
    let mut refused: Option<String> = None;
    for (i, (host, port)) in server.primaries.iter().enumerate() {
        let shard = u32::try_from(i).unwrap_or(u32::MAX);
        let node = Node {
            server,
            host,
            port: *port,
        };
        env.runtime
            .block_on(scan_node(&node, shard, filter, parts, &mut refused))?;
    }
    let comparison = match refused {
        None => Comparison {
            name: "digest",
            note: format!(
                "values by logical digest (DUMP), expiries within ±{} s",
                LIVE_EXPIRY_TOLERANCE_MS / 1000
            ),
        },
        Some(why) => Comparison {
            name: "type+expiry",
            note: format!(
                "DUMP refused ({why}): types and expiries compared (±2 s), values not compared"
            ),
        },
    };
    Ok(LiveRead {
        side: Side {
            label: server.url.label(server.db),
            shards: server
                .primaries
                .iter()
                .map(|(h, p)| host_port(h, *p))
                .collect(),
        },
        comparison,
    })
}

/// One primary being read.
struct Node<'a> {
    server: &'a Server,
    host: &'a str,
    port: u16,
}

impl Node<'_> {
    /// [`CliError::Unreachable`] for `command` failing on this node (redacted).
    fn failed(&self, command: &str, e: &redis::RedisError) -> CliError {
        self.server
            .url
            .unreachable(self.host, self.port, &format!("{command} on"), e)
    }
}

/// Whether a DUMP error means the command is not allowed (rather than a failure to read this key).
fn dump_refused(e: &redis::RedisError) -> bool {
    let text = e.to_string();
    e.code() == Some("NOPERM")
        || text.contains("NOPERM")
        || text.to_ascii_lowercase().contains("unknown command")
}

async fn scan_node(
    node: &Node<'_>,
    shard: u32,
    filter: &Filter,
    parts: &mut Partitions,
    refused: &mut Option<String>,
) -> CliResult<()> {
    let (url, db) = (&node.server.url, node.server.db);
    let mut con = url.open_db(node.host, node.port, db).await?;
    let mut cursor: u64 = 0;
    let mut batch = FIRST_BATCH;
    loop {
        let mut scan = redis::cmd("SCAN");
        scan.arg(cursor);
        if let Some(p) = filter.pattern.as_ref().filter(|p| !p.matches_everything()) {
            scan.arg("MATCH").arg(p.as_bytes());
        }
        scan.arg("COUNT").arg(SCAN_COUNT);
        let (next, keys): (u64, Vec<Vec<u8>>) = scan
            .query_async(&mut con)
            .await
            .map_err(|e| node.failed("SCAN", &e))?;
        let keys: Vec<Vec<u8>> = keys
            .into_iter()
            .filter(|k| filter.pattern.as_ref().is_none_or(|p| p.matches(k)))
            .collect();
        let mut start = 0;
        while start < keys.len() {
            let end = (start + batch).min(keys.len());
            let chunk = &keys[start..end];
            let records = if refused.is_none() {
                match dump_batch(&mut con, chunk, db, shard).await {
                    Ok((records, bytes)) => {
                        batch = next_batch(batch, chunk.len(), bytes);
                        records
                    }
                    Err(DumpError::Refused(why)) => {
                        *refused = Some(url.redact(&why));
                        continue;
                    }
                    Err(DumpError::Redis(what, e)) => return Err(node.failed(&what, &e)),
                    Err(DumpError::Payload(key, why)) => {
                        return Err(CliError::Usage(format!(
                            "{}: the DUMP payload of {} is not one this checker reads: {why}",
                            host_port(node.host, node.port),
                            super::display_key(&key)
                        )));
                    }
                }
            } else {
                typed_batch(&mut con, chunk, db, shard)
                    .await
                    .map_err(|e| node.failed("TYPE/PTTL/length", &e))?
            };
            for r in &records {
                parts.add(r).map_err(|e| {
                    CliError::Failed(format!("writing the diff's temporary files: {e}"))
                })?;
            }
            start = end;
        }
        cursor = next;
        if cursor == 0 {
            return Ok(());
        }
    }
}

enum DumpError {
    Refused(String),
    Redis(String, redis::RedisError),
    Payload(Vec<u8>, String),
}

/// The expiry `PTTL` says, as absolute milliseconds at `now`; `Err(())` for a key that is gone.
fn expiry_of(pttl: &redis::RedisResult<Value>, now: i64) -> Result<Option<i64>, ()> {
    match pttl.as_ref().ok().and_then(int) {
        Some(-2) | None => Err(()),
        Some(n) if n < 0 => Ok(None),
        Some(n) => Ok(Some(now.saturating_add(n))),
    }
}

/// `DUMP` and `PTTL` of `keys`, pipelined: their records and the payload bytes read.
/// The size of the next `DUMP` pipeline after one of `sent` keys whose payloads took `bytes`: as many keys of that
/// average size as fit in [`BATCH_BYTES`], at most twice the last and [`MAX_BATCH`], at least 1.
fn next_batch(last: usize, sent: usize, bytes: usize) -> usize {
    let per_key = (bytes / sent.max(1)).max(1);
    (BATCH_BYTES / per_key).clamp(1, (last * 2).min(MAX_BATCH))
}

async fn dump_batch(
    con: &mut MultiplexedConnection,
    keys: &[Vec<u8>],
    db: u64,
    shard: u32,
) -> Result<(Vec<Record>, usize), DumpError> {
    let mut pipe = redis::pipe();
    for k in keys {
        pipe.cmd("DUMP").arg(k).cmd("PTTL").arg(k);
    }
    let replies: Vec<redis::RedisResult<Value>> = pipe
        .ignore_errors()
        .query_async(con)
        .await
        .map_err(|e| DumpError::Redis("DUMP/PTTL".into(), e))?;
    let now = now_ms();
    let mut out = Vec::with_capacity(keys.len());
    let mut bytes = 0;
    for (key, pair) in keys.iter().zip(replies.chunks(2)) {
        let [dump, pttl] = pair else { continue };
        let payload = match dump {
            Ok(Value::BulkString(p)) => p,
            Ok(_) => continue, // nil: gone since SCAN
            Err(e) if dump_refused(e) => return Err(DumpError::Refused(e.to_string())),
            Err(e) => return Err(DumpError::Redis("DUMP".into(), e.clone())),
        };
        let Ok(expires_at_ms) = expiry_of(pttl, now) else {
            continue;
        };
        bytes += payload.len();
        let value = rdb_check::keys::read_dump_payload(payload)
            .map_err(|e| DumpError::Payload(key.clone(), e.to_string()))?;
        out.push(Record {
            db,
            key: key.clone(),
            kind: Kind::from_name(value.kind)
                .or_else(|| Kind::of_type_byte(value.type_byte))
                .unwrap_or(Kind::Module),
            expires_at_ms,
            digest: Some(value.digest),
            size_bytes: value.size_bytes.saturating_add(plain_key_bytes(key.len())),
            length: None,
            shard,
        });
    }
    Ok((out, bytes))
}

/// Bytes a key of `len` bytes takes as a plain RDB string (length prefix, rdb.c `rdbSaveLen`, then the bytes): what
/// makes a payload's size ([`rdb_check::keys::DumpValue::size_bytes`], type byte and value) comparable with a file's
/// (`KeyEntry::size_bytes`, type byte to end of value, the key between). A key the file stores as an integer or
/// LZF-compressed takes fewer bytes there.
fn plain_key_bytes(len: usize) -> u64 {
    let prefix = match len {
        0..64 => 1,
        64..16_384 => 2,
        _ if u32::try_from(len).is_ok() => 5,
        _ => 9,
    };
    prefix + len as u64
}

/// The length command of a `TYPE` reply.
fn length_command(kind: Kind) -> Option<&'static str> {
    Some(match kind {
        Kind::String => "STRLEN",
        Kind::List => "LLEN",
        Kind::Set => "SCARD",
        Kind::Zset => "ZCARD",
        Kind::Hash => "HLEN",
        Kind::Stream => "XLEN",
        Kind::Module => return None,
    })
}

/// `TYPE` and `PTTL`, then the type's length, of `keys` (DUMP refused).
async fn typed_batch(
    con: &mut MultiplexedConnection,
    keys: &[Vec<u8>],
    db: u64,
    shard: u32,
) -> redis::RedisResult<Vec<Record>> {
    let mut pipe = redis::pipe();
    for k in keys {
        pipe.cmd("TYPE").arg(k).cmd("PTTL").arg(k);
    }
    let replies: Vec<redis::RedisResult<Value>> =
        pipe.ignore_errors().query_async(&mut *con).await?;
    let now = now_ms();
    let mut found = Vec::new();
    for (key, pair) in keys.iter().zip(replies.chunks(2)) {
        let [kind, pttl] = pair else { continue };
        let Some(name) = kind.as_ref().ok().and_then(text) else {
            continue;
        };
        if name == "none" {
            continue;
        }
        let Ok(expires_at_ms) = expiry_of(pttl, now) else {
            continue;
        };
        // A module type answers with its own name (e.g. MBbloom--).
        found.push((
            key,
            Kind::from_name(&name).unwrap_or(Kind::Module),
            expires_at_ms,
        ));
    }
    let mut pipe = redis::pipe();
    for (key, kind, _) in &found {
        match length_command(*kind) {
            Some(c) => pipe.cmd(c).arg(key.as_slice()),
            None => pipe.cmd("EXISTS").arg(key.as_slice()),
        };
    }
    let lengths: Vec<redis::RedisResult<Value>> = if found.is_empty() {
        Vec::new()
    } else {
        pipe.ignore_errors().query_async(&mut *con).await?
    };
    Ok(found
        .into_iter()
        .zip(lengths)
        .map(|((key, kind, expires_at_ms), length)| Record {
            db,
            key: key.clone(),
            kind,
            expires_at_ms,
            digest: None,
            size_bytes: 0,
            length: length_command(kind)
                .and(length.ok().as_ref().and_then(int))
                .and_then(|n| u64::try_from(n).ok()),
            shard,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pttl_becomes_an_absolute_expiry_and_minus_two_a_gone_key() {
        assert_eq!(expiry_of(&Ok(Value::Int(-1)), 1_000), Ok(None));
        // DUMP pipelines start small, grow while values are small, and shrink to what fits in BATCH_BYTES.
        assert_eq!(next_batch(FIRST_BATCH, 16, 16 * 100), 32);
        assert_eq!(next_batch(512, 512, 512 * 100), MAX_BATCH);
        assert_eq!(next_batch(32, 32, 32 * 1024 * 1024), 8);
        assert_eq!(next_batch(32, 2, 32 * 1024 * 1024), 1);
        assert_eq!(next_batch(64, 64, 64 * 1024 * 1024 / 8), 64);
        assert_eq!(expiry_of(&Ok(Value::Int(500)), 1_000), Ok(Some(1_500)));
        assert_eq!(expiry_of(&Ok(Value::Int(-2)), 1_000), Err(()));
        assert_eq!(length_command(Kind::Zset), Some("ZCARD"));
        assert_eq!(length_command(Kind::Module), None);
        assert_eq!(plain_key_bytes(1), 2);
        assert_eq!(plain_key_bytes(64), 66);
        assert_eq!(plain_key_bytes(20_000), 20_005);
    }
}
