//! `ecb restore-keys BACKUP --match GLOB --to redis[s]://…`: puts the matching keys of a backup back into a live
//! server, exactly (every type and encoding) and atomically per key, with `RESTORE key ttl payload [REPLACE] [ABSTTL]`
//! and the DUMP payload the rdb-check walk builds from the value's bytes in the file
//! ([`rdb_check::keys::KeyEntry::payload`]).
//!
//! In order, nothing written before the last check:
//! 1. the arguments (the pattern, the URL, `--db` against the URL's `/db`): exit 2;
//! 2. the target ([`Target::connect`]): standalone or cluster, engine and RDB version, `proto-max-bulk-len`,
//!    modules: exit 4 when it cannot be reached or refuses AUTH;
//! 3. a first pass over the whole backup ([`rdb_check::keys::walk`], no payloads built), which only ends `Finished`
//!    once every structure and the CRC-64 are verified: a corrupt backup ends here (exit 2) and nothing is written;
//!    it also tells which databases hold matching keys;
//! 4. compatibility: the payloads carry the backup's RDB version; a server older than that, or a Valkey 9 server and a
//!    Redis 7.4+ payload ([`target::incompatibility`]), is refused naming both (exit 2); in cluster mode a matching
//!    key outside database 0 without `--db` is refused naming it, and every database written must take `SELECT`;
//! 5. the second pass: the walk (on its own thread) hands over the matching keys with their payloads in batches
//!    through a bounded channel; each key is classified before sending ([`presend`]: expired, payload too large,
//!    module missing), routed to its primary by hash slot, and pipelined per node, [`BATCH_COMMANDS`] commands or
//!    [`BATCH_BYTES`] bytes per round trip, on a connection opened in the key's database (a refused `SELECT` fails
//!    the connection: no key lands in another database). Each reply is classified
//!    ([`classify`]): `OK` restored; `BUSYKEY` skipped (`exists`: without `--replace` an existing key is never
//!    overwritten, and the check is RESTORE's own, so there is no race between a check and the write); `MOVED`
//!    (the slot map is read again) and `ASK` (`ASKING` first) are followed, `TRYAGAIN`, `CLUSTERDOWN`, `LOADING`,
//!    `MASTERDOWN` and `READONLY` retried after a pause, at most [`MAX_REDIRECTS`] times per key.
//!
//! A payload larger than the server's `proto-max-bulk-len` (512 MiB by default; ElastiCache does not let it be
//! changed and refuses `CONFIG GET`, so it is assumed there, and said so) is refused by name as `failed`
//! (`payload-too-large`), with both sizes. It is not rebuilt with ordinary commands (`RPUSH`, `HSET`, … in chunks):
//! that would not be exact (encodings, a stream's consumer groups and IDs, a module's value cannot be rebuilt that
//! way) nor atomic (a reader, or a failure half-way, would see a partial value).
//!
//! On ElastiCache: `RESTORE`, `DUMP`, `EXISTS`, `SELECT`, `INFO`, `CLUSTER SHARDS`/`SLOTS` and `RANDOMKEY` are
//! allowed (they are not on the ElastiCache User Guide's list of "Restricted commands",
//! <https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/ClientConfig.RestrictedCommands.html>: `bgrewriteaof`,
//! `bgsave`, `config`, `debug`, `migrate`, `replicaof`, `save`, `slaveof`, `shutdown`, `sync`); `CONFIG` is
//! restricted (hence the assumed `proto-max-bulk-len`). Whether ElastiCache answers `MODULE LIST` is not documented:
//! where it is refused, a module value is tried and classified by the answer. An ACL user needs `+restore` (and
//! `+dump` or `+randomkey` for the version probe, else the version comes from `INFO server`).
//!
//! `--dry-run` sends `EXISTS` instead of `RESTORE` (and reads nothing else that writes) to tell what would be
//! restored and what skipped. `--ttl strip` restores without expiry (TTL 0, no `ABSTTL`); a key whose expiry in the
//! backup is already past is not written, whatever `--ttl` says, and counted `expired`.

pub mod tally;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rdb_check::keys::{KeyEntry, KeyVisitor, WalkOptions, Want};
use redis::Value;
use redis::aio::MultiplexedConnection;
use tokio::sync::mpsc;

use super::Env;
use super::glob::Pattern;
use super::source::Backup;
use crate::cli::{RestoreKeysArgs, TtlMode};
use crate::error::{CliError, CliResult};
use crate::recovery::target::{self, Target, TargetUrl};
use crate::table;
use tally::{Outcome, Tally, Verdict};

/// Commands per pipelined round trip (one node).
pub const BATCH_COMMANDS: usize = 256;
/// Payload bytes per pipelined round trip (one node): a batch is sent once it holds this many (a single larger
/// payload goes alone).
pub const BATCH_BYTES: usize = 8 * 1024 * 1024;
/// Payload bytes waiting for all primaries together (a cluster of many primaries would otherwise hold up to
/// [`BATCH_BYTES`] for each): past it, the fullest batch is sent.
pub const PENDING_BYTES: usize = 4 * BATCH_BYTES;
/// Redirections (`MOVED`, `ASK`) and retries (`TRYAGAIN`, …) followed per key before it is counted failed.
pub const MAX_REDIRECTS: u32 = 5;
/// A key whose expiry is this close (milliseconds) when its batch is sent counts as expired: it could expire on the
/// way, and `RESTORE … REPLACE ABSTTL` with a past time deletes the key that is there and creates nothing.
pub const EXPIRY_MARGIN_MS: i64 = 1000;
/// Batches of keys the walk may be ahead of the writer (memory: about this many times [`BATCH_BYTES`], or one
/// payload where larger).
const CHANNEL_BATCHES: usize = 4;
/// The first pass took longer than this: the connections are opened again before writing (a server's `timeout`
/// may have closed them).
const RECONNECT_AFTER: Duration = Duration::from_secs(30);

/// Which keys of the backup are restored: those matching the pattern, of database `db` if given.
#[derive(Debug, Clone)]
pub struct Selector {
    /// `--match`.
    pub pattern: Pattern,
    /// `--db`.
    pub db: Option<u64>,
}

impl Selector {
    /// Whether key `key` of database `db` is restored.
    pub fn wants(&self, db: u64, key: &[u8]) -> bool {
        self.db.is_none_or(|d| d == db) && self.pattern.matches(key)
    }
}

/// One key of the backup, owned (what the walk hands the writer).
#[derive(Debug, Clone)]
pub struct Item {
    /// Order in the backup.
    pub seq: u64,
    /// Database.
    pub db: u64,
    /// Name.
    pub key: Vec<u8>,
    /// `string`, `list`, `set`, `zset`, `hash`, `stream`, `module`.
    pub kind: &'static str,
    /// Absolute expiry, Unix milliseconds.
    pub expires_at_ms: Option<i64>,
    /// The DUMP payload (`None`: larger than the walk's limit).
    pub payload: Option<Vec<u8>>,
    /// The payload's length, built or not.
    pub payload_bytes: u64,
    /// A module value's type name (`MBbloom--`).
    pub module: Option<String>,
}

/// What is known of the server before sending, for [`presend`].
#[derive(Debug, Clone)]
pub struct Limits {
    /// Now, Unix milliseconds.
    pub now_ms: i64,
    /// The smallest `proto-max-bulk-len` of the primaries.
    pub max_bulk: u64,
    /// Whether [`Limits::max_bulk`] was assumed (`CONFIG GET` refused).
    pub max_bulk_assumed: bool,
    /// Modules every primary has loaded (`None`: `MODULE LIST` refused).
    pub modules: Option<BTreeSet<String>>,
    /// `--dry-run`.
    pub dry_run: bool,
}

/// The modules known to define a module type (by the type's 9-character name in the RDB): RedisBloom (`bf`:
/// `MBbloom--`, `MBbloomCF`, `CMSk-TYPE`, `TopK-TYPE`, `TDIS-TYPE`), valkey-bloom (`bf`: `bloomfltr`), `RedisJSON`
/// and valkey-json (`ReJSON`, `json`: `ReJSON-RL`), RedisTimeSeries (`timeseries`: `TSDB-TYPE`). `None`: unknown.
pub fn modules_for_type(type_name: &str) -> Option<&'static [&'static str]> {
    match type_name {
        "MBbloom--" | "MBbloomCF" | "CMSk-TYPE" | "TopK-TYPE" | "TDIS-TYPE" | "bloomfltr" => {
            Some(&["bf"])
        }
        "ReJSON-RL" => Some(&["ReJSON", "json"]),
        "TSDB-TYPE" => Some(&["timeseries"]),
        _ => None,
    }
}

/// What becomes of `item` without asking the server, or `None` when it is sent: `expired` when its expiry is not
/// after `now`; `failed` (`payload-too-large`) when its payload was not built or exceeds `proto-max-bulk-len`;
/// `skipped` (`module-missing:NAME`) when the server has no module at all, or none of those known to define the type.
pub fn presend(item: &Item, limits: &Limits) -> Option<Outcome> {
    if item.expires_at_ms.is_some_and(|at| at <= limits.now_ms) {
        return Some(Outcome::plain(Verdict::Expired));
    }
    let len = item
        .payload
        .as_ref()
        .map_or(item.payload_bytes, |p| p.len() as u64);
    if item.payload.is_none() || len > limits.max_bulk {
        return Some(Outcome::new(
            Verdict::failed(limits.dry_run),
            format!(
                "payload-too-large: the DUMP payload is {len} bytes, the server's proto-max-bulk-len {} bytes{} \
                 (not rebuilt with ordinary commands: that is neither exact nor atomic)",
                limits.max_bulk,
                if limits.max_bulk_assumed {
                    " (assumed: CONFIG GET refused)"
                } else {
                    ""
                }
            ),
        ));
    }
    if let (Some(name), Some(loaded)) = (&item.module, &limits.modules) {
        let missing = match modules_for_type(name) {
            _ if loaded.is_empty() => true,
            Some(candidates) => !candidates
                .iter()
                .any(|c| loaded.iter().any(|l| l.eq_ignore_ascii_case(c))),
            None => false,
        };
        if missing {
            return Some(Outcome::new(
                Verdict::skipped(limits.dry_run),
                format!("module-missing:{name}"),
            ));
        }
    }
    None
}

/// How `RESTORE` sets the expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// `--ttl strip`: 0, no `ABSTTL`.
    Strip,
    /// The absolute expiry with `ABSTTL` (Redis 5.0 and later: RDB 9+).
    Absolute,
    /// A server older than Redis 5.0 (no `ABSTTL`): the time left, at least 1 ms.
    Relative,
}

/// `RESTORE key ttl payload [REPLACE] [ABSTTL]` for `item` (its payload must be there), or with `dry_run`
/// `EXISTS key`.
pub fn command(
    item: &Item,
    expiry: Expiry,
    replace: bool,
    dry_run: bool,
    now_ms: i64,
) -> redis::Cmd {
    if dry_run {
        let mut c = redis::cmd("EXISTS");
        c.arg(&item.key);
        return c;
    }
    let (ttl, abs) = match (expiry, item.expires_at_ms) {
        (Expiry::Strip, _) | (_, None) => (0, false),
        (Expiry::Absolute, Some(at)) => (at, true),
        (Expiry::Relative, Some(at)) => ((at - now_ms).max(1), false),
    };
    let mut c = redis::cmd("RESTORE");
    c.arg(&item.key)
        .arg(ttl)
        .arg(item.payload.as_deref().unwrap_or_default());
    if replace {
        c.arg("REPLACE");
    }
    if abs {
        c.arg("ABSTTL");
    }
    c
}

/// A reply, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `OK`.
    Done,
    /// `BUSYKEY`, or `EXISTS` answering 1.
    Exists,
    /// `EXISTS` answering 0.
    Absent,
    /// `MOVED slot host:port` (an empty host: the node asked).
    Moved {
        /// The slot.
        slot: u16,
        /// Where it is now.
        host: String,
        /// Port.
        port: u16,
    },
    /// `ASK slot host:port`.
    Ask {
        /// Where to ask.
        host: String,
        /// Port.
        port: u16,
    },
    /// `TRYAGAIN`, `CLUSTERDOWN`, `LOADING`, `MASTERDOWN`, `READONLY`: retry after a pause (and a fresh slot map).
    Retry(String),
    /// Any other error (code and message).
    Error(String),
}

/// Classifies one reply of a pipelined `RESTORE` / `EXISTS`.
pub fn classify(v: &Value) -> Reply {
    match v {
        Value::Okay => Reply::Done,
        Value::SimpleString(s) if s == "OK" => Reply::Done,
        Value::Int(1) => Reply::Exists,
        Value::Int(0) => Reply::Absent,
        Value::ServerError(e) => {
            let detail = e.details().unwrap_or_default();
            let redirect = || {
                let (slot, addr) = detail.split_once(' ')?;
                let (host, port) = addr.rsplit_once(':')?;
                Some((
                    slot.parse::<u16>().ok()?,
                    host.to_string(),
                    port.parse::<u16>().ok()?,
                ))
            };
            match e.code() {
                "BUSYKEY" => Reply::Exists,
                "MOVED" => match redirect() {
                    Some((slot, host, port)) => Reply::Moved { slot, host, port },
                    None => Reply::Error(format!("MOVED {detail}")),
                },
                "ASK" => match redirect() {
                    Some((_, host, port)) => Reply::Ask { host, port },
                    None => Reply::Error(format!("ASK {detail}")),
                },
                code @ ("TRYAGAIN" | "CLUSTERDOWN" | "LOADING" | "MASTERDOWN" | "READONLY") => {
                    Reply::Retry(format!("{code} {detail}"))
                }
                code => Reply::Error(format!("{code} {detail}").trim().to_string()),
            }
        }
        other => Reply::Error(format!("unexpected reply {other:?}")),
    }
}

/// The outcome of an error reply for `item`: a module value the server cannot load (`Bad data format`, or a
/// message naming a module) is `skipped` (`module-missing:NAME`); a payload refused as `DUMP payload version or
/// checksum are wrong` is `failed` (`payload-rejected`); anything else `failed` with the server's words.
pub fn error_outcome(item: &Item, message: &str, dry_run: bool) -> Outcome {
    let lower = message.to_ascii_lowercase();
    match &item.module {
        Some(name) if lower.contains("module") || lower.contains("bad data format") => {
            Outcome::new(
                Verdict::skipped(dry_run),
                format!("module-missing:{name} (server: {message})"),
            )
        }
        _ if lower.contains("dump payload version or checksum") => Outcome::new(
            Verdict::failed(dry_run),
            format!("payload-rejected (server: {message})"),
        ),
        _ => Outcome::new(Verdict::failed(dry_run), format!("server: {message}")),
    }
}

/// Keys waiting to be sent to one node.
#[derive(Default)]
struct Pending {
    db: u64,
    items: Vec<Item>,
    bytes: usize,
}

/// One key on its way: where it goes, whether `ASKING` precedes it, how often it was redirected.
struct Routed {
    node: usize,
    asking: bool,
    tries: u32,
    last: String,
    item: Item,
}

/// Sends keys to their primaries in pipelined batches and counts what happens.
struct Writer<'t> {
    target: &'t mut Target,
    limits: Limits,
    expiry: Expiry,
    replace: bool,
    pending: BTreeMap<usize, Pending>,
    /// [`PENDING_BYTES`] (smaller in tests).
    pending_cap: usize,
    /// Write connections per (node, database), opened in that database.
    conns: BTreeMap<(usize, u64), MultiplexedConnection>,
    /// Pipelined round trips made.
    rounds: u64,
    tally: Tally,
}

impl Writer<'_> {
    /// The connection to node `n` in database `db`, opened on first use.
    async fn conn(&mut self, n: usize, db: u64) -> CliResult<MultiplexedConnection> {
        if let Some(c) = self.conns.get(&(n, db)) {
            return Ok(c.clone());
        }
        let node = &self.target.nodes[n];
        let c = self.target.url.open_db(&node.host, node.port, db).await?;
        self.conns.insert((n, db), c.clone());
        Ok(c)
    }

    /// Takes one key: classified, or queued for its node (sending the node's batch when full).
    async fn add(&mut self, item: Item) -> CliResult<()> {
        if let Some(outcome) = presend(&item, &self.limits) {
            self.tally
                .record(item.seq, item.db, &item.key, item.kind, outcome);
            return Ok(());
        }
        let Some(node) = self.target.node_for(&item.key) else {
            let slot = rdb_check::key_slot(&item.key);
            self.tally.record(
                item.seq,
                item.db,
                &item.key,
                item.kind,
                Outcome::new(
                    Verdict::failed(self.limits.dry_run),
                    format!("slot-unserved: no primary serves hash slot {slot}"),
                ),
            );
            return Ok(());
        };
        let p = self.pending.entry(node).or_default();
        if p.db != item.db && !p.items.is_empty() {
            self.flush(node).await?;
        }
        let p = self.pending.entry(node).or_default();
        p.db = item.db;
        p.bytes += item.key.len() + item.payload.as_ref().map_or(0, Vec::len);
        p.items.push(item);
        if p.items.len() >= BATCH_COMMANDS || p.bytes >= BATCH_BYTES {
            self.flush(node).await?;
        }
        // Many primaries each holding part of a batch: send the fullest until all hold at most PENDING_BYTES.
        while self.pending.values().map(|p| p.bytes).sum::<usize>() > self.pending_cap {
            let fullest = self
                .pending
                .iter()
                .max_by_key(|(_, p)| p.bytes)
                .map(|(n, _)| *n);
            match fullest {
                Some(n) => self.flush(n).await?,
                None => break,
            }
        }
        Ok(())
    }

    /// Sends every node's waiting keys.
    async fn flush_all(&mut self) -> CliResult<()> {
        let nodes: Vec<usize> = self.pending.keys().copied().collect();
        for n in nodes {
            self.flush(n).await?;
        }
        Ok(())
    }

    /// Sends node `node`'s waiting keys, following redirections.
    async fn flush(&mut self, node: usize) -> CliResult<()> {
        let Some(p) = self.pending.get_mut(&node) else {
            return Ok(());
        };
        if p.items.is_empty() {
            return Ok(());
        }
        let db = p.db;
        p.bytes = 0;
        let mut queue: Vec<Routed> = std::mem::take(&mut p.items)
            .into_iter()
            .map(|item| Routed {
                node,
                asking: false,
                tries: 0,
                last: String::new(),
                item,
            })
            .collect();
        while !queue.is_empty() {
            let mut groups: BTreeMap<usize, Vec<Routed>> = BTreeMap::new();
            for r in queue {
                groups.entry(r.node).or_default().push(r);
            }
            let mut next = Vec::new();
            let (mut refresh, mut pause) = (false, false);
            for (n, group) in groups {
                // A key that has expired while it waited in its batch is not sent: RESTORE with a past ABSTTL
                // answers OK and creates nothing, and with REPLACE it would first delete the live key.
                self.limits.now_ms = now_ms();
                let (group, expired): (Vec<Routed>, Vec<Routed>) =
                    group.into_iter().partition(|r| {
                        r.item
                            .expires_at_ms
                            .is_none_or(|at| at > self.limits.now_ms + EXPIRY_MARGIN_MS)
                            || self.expiry == Expiry::Strip
                    });
                for r in expired {
                    self.done(&r.item, Outcome::plain(Verdict::Expired));
                }
                if group.is_empty() {
                    continue;
                }
                let replies = self.round(n, db, &group).await?;
                for (mut r, reply) in group.into_iter().zip(replies) {
                    let redirect = match classify(&reply) {
                        Reply::Done => {
                            self.done(&r.item, Outcome::plain(Verdict::Restored));
                            continue;
                        }
                        Reply::Absent => {
                            self.done(&r.item, Outcome::plain(Verdict::WouldRestore));
                            continue;
                        }
                        Reply::Exists if self.limits.dry_run && self.replace => {
                            self.done(
                                &r.item,
                                Outcome::new(
                                    Verdict::WouldRestore,
                                    "exists: --replace overwrites it",
                                ),
                            );
                            continue;
                        }
                        Reply::Exists => {
                            self.done(
                                &r.item,
                                Outcome::new(Verdict::skipped(self.limits.dry_run), "exists"),
                            );
                            continue;
                        }
                        Reply::Error(message) => {
                            let outcome = error_outcome(&r.item, &message, self.limits.dry_run);
                            self.done(&r.item, outcome);
                            continue;
                        }
                        Reply::Moved { slot, host, port } => {
                            let host = if host.is_empty() {
                                self.target.nodes[n].host.clone()
                            } else {
                                host
                            };
                            r.last = format!("MOVED {slot} {}", target::host_port(&host, port));
                            let to = self.target.node_at(&host, port).await?;
                            self.target.set_slot(slot, to);
                            refresh = true;
                            (to, false)
                        }
                        Reply::Ask { host, port } => {
                            let host = if host.is_empty() {
                                self.target.nodes[n].host.clone()
                            } else {
                                host
                            };
                            r.last = format!("ASK {}", target::host_port(&host, port));
                            (self.target.node_at(&host, port).await?, true)
                        }
                        Reply::Retry(message) => {
                            r.last = message;
                            pause = true;
                            refresh = true;
                            (n, false)
                        }
                    };
                    r.tries += 1;
                    if r.tries > MAX_REDIRECTS {
                        let outcome = Outcome::new(
                            Verdict::failed(self.limits.dry_run),
                            format!("redirected {MAX_REDIRECTS} times (last: {})", r.last),
                        );
                        self.done(&r.item, outcome);
                    } else {
                        (r.node, r.asking) = redirect;
                        next.push(r);
                    }
                }
            }
            if refresh && self.target.cluster {
                // The MOVED answers already route what they name; a slot map that cannot be read now is read on
                // the next redirection.
                let _ = self.target.refresh().await;
                for r in next.iter_mut().filter(|r| !r.asking) {
                    if let Some(to) = self.target.node_for(&r.item.key) {
                        r.node = to;
                    }
                }
            }
            if pause {
                let attempt = next.iter().map(|r| r.tries).max().unwrap_or(1);
                tokio::time::sleep(Duration::from_millis(100 << attempt.min(5))).await;
            }
            queue = next;
        }
        Ok(())
    }

    fn done(&mut self, item: &Item, outcome: Outcome) {
        self.tally
            .record(item.seq, item.db, &item.key, item.kind, outcome);
    }

    /// One pipelined round trip to node `n`, on its connection in database `db`: per key (`ASKING` and) its
    /// command. The replies, one per key.
    async fn round(&mut self, n: usize, db: u64, group: &[Routed]) -> CliResult<Vec<Value>> {
        let mut conn = self.conn(n, db).await?;
        self.rounds += 1;
        let node = &self.target.nodes[n];
        let mut pipe = redis::pipe();
        pipe.ignore_errors();
        for r in group {
            if r.asking {
                pipe.cmd("ASKING");
            }
            pipe.add_command(command(
                &r.item,
                self.expiry,
                self.replace,
                self.limits.dry_run,
                self.limits.now_ms,
            ));
        }
        let replies: Vec<Value> = pipe.query_async(&mut conn).await.map_err(|e| {
            CliError::Unreachable(self.target.url.redact(&format!(
                "sending {} keys to {}: {e} ({} keys restored before this; the keys of this batch may or may not \
                 have been written)",
                group.len(),
                node.addr(),
                self.tally.restored,
            )))
        })?;
        let mut it = replies.into_iter();
        let mut out = Vec::with_capacity(group.len());
        for r in group {
            if r.asking {
                it.next();
            }
            out.push(
                it.next()
                    .unwrap_or_else(|| Value::SimpleString("no reply in the pipeline".to_string())),
            );
        }
        Ok(out)
    }
}

/// What the first pass found.
#[derive(Debug, Default)]
pub struct Survey {
    /// Per shard: its name, and the file's magic, RDB version and writer (AUX `valkey-ver` / `redis-ver`).
    pub shards: Vec<(String, String, u32, Option<String>)>,
    /// Matching keys per database: how many, and the first one's name.
    pub per_db: BTreeMap<u64, (u64, Vec<u8>)>,
}

/// The first pass's visitor: notes matching keys, builds nothing.
struct Scan<'a> {
    selector: &'a Selector,
    per_db: &'a mut BTreeMap<u64, (u64, Vec<u8>)>,
}

impl KeyVisitor for Scan<'_> {
    fn want(&mut self, db: u64, key: &[u8], _type_byte: u8) -> Option<Want> {
        if self.selector.wants(db, key) {
            let e = self.per_db.entry(db).or_insert_with(|| (0, key.to_vec()));
            e.0 += 1;
        }
        None
    }

    fn key(&mut self, _entry: &KeyEntry<'_>) -> bool {
        true
    }
}

/// The second pass's visitor: hands matching keys with their payloads to the writer, in batches.
struct Collect<'a> {
    selector: &'a Selector,
    seq: &'a mut u64,
    batch: Vec<Item>,
    bytes: usize,
    tx: &'a mpsc::Sender<Vec<Item>>,
    closed: bool,
}

impl Collect<'_> {
    fn send(&mut self) -> bool {
        if self.batch.is_empty() {
            return true;
        }
        self.bytes = 0;
        if self
            .tx
            .blocking_send(std::mem::take(&mut self.batch))
            .is_err()
        {
            self.closed = true;
        }
        !self.closed
    }
}

impl KeyVisitor for Collect<'_> {
    fn want(&mut self, db: u64, key: &[u8], _type_byte: u8) -> Option<Want> {
        // The writer has stopped (an error): ask for this key only to stop the walk in `key`, instead of reading the
        // rest of the backup for nothing.
        if self.closed || self.tx.is_closed() {
            self.closed = true;
            return Some(Want::default());
        }
        self.selector.wants(db, key).then_some(Want {
            digest: false,
            payload: true,
        })
    }

    fn key(&mut self, entry: &KeyEntry<'_>) -> bool {
        if self.closed {
            return false;
        }
        *self.seq += 1;
        let payload = entry.payload.map(<[u8]>::to_vec);
        self.bytes += entry.key.len() + payload.as_ref().map_or(0, Vec::len);
        self.batch.push(Item {
            seq: *self.seq,
            db: entry.db,
            key: entry.key.to_vec(),
            kind: entry.kind,
            expires_at_ms: entry.expires_at_ms,
            payload,
            payload_bytes: entry.payload_bytes,
            module: entry.module.clone(),
        });
        if self.batch.len() >= BATCH_COMMANDS || self.bytes >= BATCH_BYTES {
            return self.send();
        }
        true
    }
}

/// The first pass: every shard of `backup` walked whole (structure and CRC-64 checked), matching keys counted per
/// database.
///
/// # Errors
/// A shard that cannot be found (`NotFound`), read (`Aws`, `Failed`) or is not sound (`Usage`); each message ends by
/// saying nothing was written.
pub fn survey(backup: &Backup, env: &Env, selector: &Selector) -> CliResult<Survey> {
    let mut survey = Survey::default();
    for (index, shard) in backup.shards.iter().enumerate() {
        let mut scan = Scan {
            selector,
            per_db: &mut survey.per_db,
        };
        let report = backup
            .walk(index, env, &WalkOptions::default(), &mut scan)
            .map_err(|e| nothing_written(e, "nothing was written"))?
            .ok_or_else(|| {
                CliError::Failed(format!(
                    "{}: the check stopped before the end; nothing was written",
                    shard.name
                ))
            })?;
        let writer = report
            .aux
            .get("valkey-ver")
            .map(|v| format!("valkey {v}"))
            .or_else(|| report.aux.get("redis-ver").map(|v| format!("redis {v}")));
        survey.shards.push((
            shard.name.clone(),
            report.magic.clone(),
            report.version,
            writer,
        ));
    }
    Ok(survey)
}

/// `e` with `after` added to its message (the kind, and so the exit code, kept).
fn nothing_written(e: CliError, after: &str) -> CliError {
    match e {
        CliError::Usage(m) => CliError::Usage(format!("{m}; {after}")),
        CliError::NotFound(m) => CliError::NotFound(format!("{m}; {after}")),
        CliError::Aws(m) => CliError::Aws(format!("{m}; {after}")),
        CliError::Unreachable(m) => CliError::Unreachable(format!("{m}; {after}")),
        CliError::Failed(m) | CliError::Interrupted(m) => CliError::Failed(format!("{m}; {after}")),
    }
}

/// The engines that write RDB version `v` (for messages).
pub fn writers_of(v: u32) -> &'static str {
    match v {
        0..=6 => "Redis before 3.2",
        7 => "Redis 3.2",
        8 => "Redis 4.0",
        9 => "Redis 5.0 to 6.2",
        10 => "Redis 7.0 (ElastiCache 7.1)",
        11 => "Redis 7.2, Valkey 7.2 to 8.x",
        12 => "Redis 7.4 to 8.x",
        80 => "Valkey 9",
        _ => "an engine this tool does not know",
    }
}

/// Refuses what cannot be restored, before anything is written: payloads newer than the oldest primary's RDB version
/// (or Redis 7.4+ payloads into Valkey 9); in cluster mode, matching keys outside database 0 without `--db`; a
/// database a primary does not take `SELECT` for.
///
/// # Errors
/// [`CliError::Usage`] naming the versions, engines, key or database.
pub async fn preflight(target: &Target, survey: &Survey, db: Option<u64>) -> CliResult<()> {
    let oldest = target
        .oldest()
        .ok_or_else(|| CliError::Unreachable(format!("{}: no primary to write to", target.url)))?;
    for (name, magic, version, writer) in &survey.shards {
        let payload = u16::try_from(*version).unwrap_or(u16::MAX);
        if let Some(why) = target::incompatibility(payload, oldest.engine.rdb_version) {
            return Err(CliError::Usage(format!(
                "{name} holds RDB version {version} payloads ({magic}{version:04}, written by {}; {}) but {} runs \
                 {}: {why}. Nothing was written; restore into a server of that version or newer",
                writer.as_deref().unwrap_or("an unnamed engine"),
                writers_of(*version),
                oldest.addr(),
                oldest.engine,
            )));
        }
    }
    if target.cluster
        && db.is_none()
        && let Some((d, (count, first))) = survey.per_db.iter().find(|(d, _)| **d != 0)
    {
        return Err(CliError::Usage(format!(
            "key {:?} (and {} more matching keys) is in database {d} of the backup, but a cluster-mode target \
             has database 0 only: nothing was written. Restore one database at a time with --db N (into \
             database N: Valkey 9 clusters have several)",
            tally::printable(first),
            count - 1
        )));
    }
    for d in survey.per_db.keys() {
        target.check_db(*d).await?;
    }
    Ok(())
}

/// `ecb restore-keys`, outside any runtime: the connections run on `env`'s runtime, the two passes over the backup
/// (S3 reads block on that runtime) on this thread and on a walker thread.
///
/// # Errors
/// `Usage` (exit 2) for bad arguments, a corrupt backup, an incompatible server; `NotFound` (exit 3) for a backup that
/// is not there; `Unreachable` (exit 4) when the server cannot be reached or refuses AUTH; `Aws` (exit 4) when S3
/// does; `Failed` (exit 1) when any key failed (after the output).
pub fn run(env: &Env, args: &RestoreKeysArgs) -> CliResult<()> {
    let url = TargetUrl::parse(&args.to)?;
    if let Some(url_db) = url.db
        && args.db != Some(url_db)
    {
        return Err(CliError::Usage(format!(
            "--to {url} names database {url_db} but --db is {}: keys go into the database they had in the \
             backup; give --db {url_db} to restore that database, or drop the /{url_db}",
            args.db
                .map_or_else(|| "not given".to_string(), |d| d.to_string())
        )));
    }
    let selector = Selector {
        pattern: args.pattern.clone(),
        db: args.db,
    };
    let backup = Backup::open(&args.backup, env)?;
    let mut target = env.runtime.block_on(Target::connect(&url))?;

    let started = Instant::now();
    let survey = survey(&backup, env, &selector)?;
    if started.elapsed() > RECONNECT_AFTER {
        target = env.runtime.block_on(Target::connect(&url))?;
    }
    env.runtime.block_on(preflight(&target, &survey, args.db))?;

    let (max_bulk, max_bulk_assumed) = target.proto_max_bulk_len();
    let mut notes = Vec::new();
    if survey.per_db.is_empty() {
        notes.push(format!(
            "no key of the backup matches {:?}{}",
            args.pattern.to_string(),
            args.db
                .map_or_else(String::new, |d| format!(" in database {d}"))
        ));
    }
    if max_bulk_assumed {
        notes.push(format!(
            "proto-max-bulk-len assumed {max_bulk} bytes (CONFIG GET was refused, as ElastiCache does)"
        ));
    }
    let modules = target.modules();
    if modules.is_none() {
        notes.push(
            "MODULE LIST was refused: module values are tried and classified by the answer"
                .to_string(),
        );
    }
    let oldest = target.oldest().map_or(0, |n| n.engine.rdb_version);
    let expiry = match args.ttl {
        TtlMode::Strip => Expiry::Strip,
        TtlMode::Keep if oldest < 9 => Expiry::Relative,
        TtlMode::Keep => Expiry::Absolute,
    };
    let title = format!(
        "{} {} → {} ({})",
        if args.dry_run {
            "dry run: restore-keys"
        } else {
            "restore-keys"
        },
        args.backup,
        url,
        target.describe()
    );

    let (tx, mut rx) = mpsc::channel::<Vec<Item>>(CHANNEL_BATCHES);
    let options = WalkOptions {
        max_payload_bytes: max_bulk,
    };
    let mut writer = Writer {
        target: &mut target,
        limits: Limits {
            now_ms: now_ms(),
            max_bulk,
            max_bulk_assumed,
            modules,
            dry_run: args.dry_run,
        },
        expiry,
        replace: args.replace,
        pending: BTreeMap::new(),
        pending_cap: PENDING_BYTES,
        conns: BTreeMap::new(),
        rounds: 0,
        tally: Tally::default(),
    };
    let (backup, selector, options) = (&backup, &selector, &options);
    let (walked, written) = std::thread::scope(|scope| {
        // The second pass, on its own thread (not one of the runtime's: an S3 read blocks on the runtime).
        let walker = scope.spawn(move || -> CliResult<()> {
            let mut seq = 0;
            for index in 0..backup.shards.len() {
                let mut collect = Collect {
                    selector,
                    seq: &mut seq,
                    batch: Vec::new(),
                    bytes: 0,
                    tx: &tx,
                    closed: false,
                };
                let end = backup
                    .walk(index, env, options, &mut collect)
                    .map_err(|e| nothing_written(e, "reading it again after the check"))?;
                if !collect.send() || end.is_none() {
                    return Ok(());
                }
            }
            Ok(())
        });
        let written: CliResult<()> = env.runtime.block_on(async {
            while let Some(batch) = rx.recv().await {
                writer.limits.now_ms = now_ms();
                for item in batch {
                    writer.add(item).await?;
                }
            }
            writer.flush_all().await
        });
        // A writer that stopped early closes the channel, so the walker ends at its next batch.
        drop(rx);
        let walked = walker.join().unwrap_or_else(|_| {
            Err(CliError::Failed(
                "reading the backup stopped unexpectedly".into(),
            ))
        });
        (walked, written)
    });
    let tally = writer.tally;
    written?;
    walked.map_err(|e| match e {
        CliError::Failed(m) | CliError::Usage(m) => CliError::Failed(format!(
            "{m}: {} keys were restored before this",
            tally.restored
        )),
        other => other,
    })?;

    if env.global.json {
        table::print_json(&tally.to_json(args.dry_run, &url.to_string(), &notes));
    } else {
        table::out(tally.to_table(args.dry_run, &title, &notes));
    }
    if tally.failed > 0 {
        return Err(CliError::Failed(format!(
            "{} of {} keys {}",
            tally.failed,
            tally.total(),
            if args.dry_run { "would fail" } else { "failed" }
        )));
    }
    Ok(())
}

/// Now, Unix milliseconds.
fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests;
