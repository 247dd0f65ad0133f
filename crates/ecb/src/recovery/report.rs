//! `ecb report BACKUP [--top N] [--json]`: what a backup holds, in the manner of redis-rdb-tools' memory report and
//! rdr: keys and bytes per database, type, encoding and key prefix, the biggest keys, a TTL histogram, and each
//! shard. "Bytes" are the bytes keys take in the RDB file (type byte to end of value, `KeyEntry::size_bytes`), not
//! the server's memory. Memory stays bounded: at most [`PREFIX_LIMIT`] distinct prefixes are tracked (the first seen;
//! keys under later ones are counted in `other`), and the biggest keys in a heap of N.
//!
//! Prefixes: a key is split at `:` to depth 2: `user:42:name` counts under `user:*` (depth 1) and `user:42:*`
//! (depth 2), `user:42` under `user:*` only, `plain` under `noPrefix`. Depth-1 prefixes and `noPrefix` add up to the
//! totals.
//!
//! `--json` prints one object:
//! ```json
//! { "backup": "dump.rdb", "now": "2026-12-04T03:04:05.123Z",
//!   "keys": 3, "bytes": 120, "fileBytes": 400,
//!   "databases": [ {"db": 0, "keys": 3, "bytes": 120} ],
//!   "types": [ {"type": "hash", "keys": 2, "bytes": 100} ],            // biggest first
//!   "encodings": [ {"encoding": "hash-listpack", "keys": 2, "bytes": 100} ],
//!   "prefixes": { "limit": 10000, "tracked": 2,
//!                 "entries": [ {"prefix": "user:*", "depth": 1, "keys": 2, "bytes": 100} ],  // biggest first;
//!                 "noPrefix": {"keys": 1, "bytes": 20},          // "prefixBase64" for a non-UTF-8 prefix
//!                 "other": [ {"depth": 1, "keys": 0, "bytes": 0}, {"depth": 2, "keys": 0, "bytes": 0} ] },
//!   "biggestKeys": [ {"key": "user:1", "db": 0, "type": "hash", "expiresAt": null, "sizeBytes": 60,
//!                     "encoding": "hash-listpack"} ],                  // biggest first, N of them
//!   "ttl": [ {"bucket": "none", "keys": 2, "bytes": 90}, {"bucket": "expired", …}, {"bucket": "<1h", …},
//!            {"bucket": "<1d", …}, {"bucket": "<7d", …}, {"bucket": "<30d", …}, {"bucket": ">=30d", …} ],
//!   "shards": [ {"shard": "dump.rdb", "keys": 3, "bytes": 120, "fileBytes": 400, "magic": "REDIS",
//!                "rdbVersion": 11, "engine": "valkey-ver 8.0.1"} ] }
//! ```
//! TTL buckets are relative to `now` (when the report started): `expired` is an expiry at or before it.

mod output;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::process::ExitCode;

use rdb_check::Report;
use rdb_check::keys::{KeyEntry, KeyVisitor, WalkOptions, Want};
use serde_json::{Value, json};

use super::source::Backup;
use super::{Env, now_ms};
use crate::cli::ReportArgs;
use crate::error::CliResult;
use crate::table;

/// Distinct prefixes tracked.
pub const PREFIX_LIMIT: usize = 10_000;

/// The TTL buckets: name and upper bound in milliseconds from now (exclusive).
const TTL_BUCKETS: [(&str, i64); 5] = [
    ("<1h", 3_600_000),
    ("<1d", 86_400_000),
    ("<7d", 7 * 86_400_000),
    ("<30d", 30 * 86_400_000),
    (">=30d", i64::MAX),
];

/// Keys and bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Count {
    /// Keys.
    pub keys: u64,
    /// Bytes in the RDB file.
    pub bytes: u64,
}

impl Count {
    fn add(&mut self, bytes: u64) {
        self.keys += 1;
        self.bytes = self.bytes.saturating_add(bytes);
    }

    fn json(self) -> Value {
        json!({"keys": self.keys, "bytes": self.bytes})
    }
}

/// One of the biggest keys.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Big {
    size: u64,
    /// Earlier keys win ties (they sort higher, so they are kept).
    order: Reverse<u64>,
    key: Vec<u8>,
    db: u64,
    kind: &'static str,
    encoding: &'static str,
    expires_at_ms: Option<i64>,
    shard: usize,
}

/// One shard's line.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ShardRow {
    name: String,
    count: Count,
    file_bytes: u64,
    magic: String,
    version: u32,
    engine: Option<String>,
}

/// Everything the report counts, fed key by key ([`Aggregate::add`]) and shard by shard ([`Aggregate::end_shard`]).
#[derive(Debug)]
pub struct Aggregate {
    now_ms: i64,
    top_n: usize,
    seen: u64,
    totals: Count,
    databases: BTreeMap<u64, Count>,
    types: BTreeMap<&'static str, Count>,
    encodings: BTreeMap<&'static str, Count>,
    prefixes: HashMap<Vec<u8>, Count>,
    no_prefix: Count,
    other: [Count; 2],
    top: BinaryHeap<Reverse<Big>>,
    ttl: [Count; 2 + TTL_BUCKETS.len()],
    shard: Count,
    shards: Vec<ShardRow>,
}

impl Aggregate {
    /// An empty report keeping the `top_n` biggest keys, TTLs relative to `now_ms`.
    pub fn new(top_n: usize, now_ms: i64) -> Self {
        Self {
            now_ms,
            top_n,
            seen: 0,
            totals: Count::default(),
            databases: BTreeMap::new(),
            types: BTreeMap::new(),
            encodings: BTreeMap::new(),
            prefixes: HashMap::new(),
            no_prefix: Count::default(),
            other: [Count::default(); 2],
            top: BinaryHeap::new(),
            ttl: [Count::default(); 2 + TTL_BUCKETS.len()],
            shard: Count::default(),
            shards: Vec::new(),
        }
    }

    /// Counts one key of the current shard (index `shard`).
    pub fn add(&mut self, e: &KeyEntry<'_>, shard: usize) {
        let size = e.size_bytes;
        self.seen += 1;
        self.totals.add(size);
        self.shard.add(size);
        self.databases.entry(e.db).or_default().add(size);
        self.types.entry(e.kind).or_default().add(size);
        self.encodings.entry(e.encoding).or_default().add(size);
        self.ttl[self.ttl_bucket(e.expires_at_ms)].add(size);
        self.add_prefixes(e.key, size);
        let fits = self.top.len() < self.top_n;
        let bigger = self.top.peek().is_some_and(|Reverse(min)| size > min.size);
        if fits || bigger {
            if !fits {
                self.top.pop();
            }
            self.top.push(Reverse(Big {
                size,
                order: Reverse(self.seen),
                key: e.key.to_vec(),
                db: e.db,
                kind: e.kind,
                encoding: e.encoding,
                expires_at_ms: e.expires_at_ms,
                shard,
            }));
        }
    }

    fn ttl_bucket(&self, expires_at_ms: Option<i64>) -> usize {
        let Some(at) = expires_at_ms else { return 0 };
        let left = at.saturating_sub(self.now_ms);
        if left <= 0 {
            return 1;
        }
        2 + TTL_BUCKETS
            .iter()
            .position(|(_, limit)| left < *limit)
            .unwrap_or(TTL_BUCKETS.len() - 1)
    }

    fn add_prefixes(&mut self, key: &[u8], size: u64) {
        let Some(first) = key.iter().position(|&b| b == b':') else {
            self.no_prefix.add(size);
            return;
        };
        let second = key[first + 1..]
            .iter()
            .position(|&b| b == b':')
            .map(|i| first + 1 + i);
        for (depth, end) in [Some(first), second].into_iter().flatten().enumerate() {
            let prefix = &key[..=end];
            if let Some(c) = self.prefixes.get_mut(prefix) {
                c.add(size);
            } else if self.prefixes.len() < PREFIX_LIMIT {
                self.prefixes.entry(prefix.to_vec()).or_default().add(size);
            } else {
                self.other[depth].add(size);
            }
        }
    }

    /// Closes the current shard, named `name`, with the walk's report.
    pub fn end_shard(&mut self, name: &str, report: &Report) {
        let engine = ["valkey-ver", "redis-ver"]
            .into_iter()
            .find_map(|f| report.aux.get(f).map(|v| format!("{f} {v}")));
        self.shards.push(ShardRow {
            name: name.to_string(),
            count: std::mem::take(&mut self.shard),
            file_bytes: report.bytes,
            magic: report.magic.clone(),
            version: report.version,
            engine,
        });
    }

    /// The biggest keys, biggest first.
    fn biggest(&self) -> Vec<&Big> {
        let mut v: Vec<&Big> = self.top.iter().map(|Reverse(b)| b).collect();
        v.sort_by(|a, b| b.cmp(a));
        v
    }

    /// The tracked prefixes, biggest first (ties by name): (prefix bytes with its `:`, depth, count).
    fn prefix_list(&self) -> Vec<(&[u8], usize, Count)> {
        let mut v: Vec<(&[u8], usize, Count)> = self
            .prefixes
            .iter()
            .map(|(p, c)| {
                let depth = p.iter().filter(|&&b| b == b':').count();
                (p.as_slice(), depth, *c)
            })
            .collect();
        v.sort_by(|a, b| b.2.bytes.cmp(&a.2.bytes).then_with(|| a.0.cmp(b.0)));
        v
    }
}

/// Feeds every key of a walk to the aggregate (no digest, no payload).
struct Counter<'a> {
    aggregate: &'a mut Aggregate,
    shard: usize,
}

impl KeyVisitor for Counter<'_> {
    fn want(&mut self, _db: u64, _key: &[u8], _type_byte: u8) -> Option<Want> {
        Some(Want::default())
    }

    fn key(&mut self, entry: &KeyEntry<'_>) -> bool {
        self.aggregate.add(entry, self.shard);
        true
    }
}

/// `ecb report`.
///
/// # Errors
/// `Usage` (a backup that is not a sound RDB file), `NotFound`, `Aws`.
pub fn run(env: &Env, args: &ReportArgs) -> CliResult<ExitCode> {
    let backup = Backup::open(&args.backup, env)?;
    let mut aggregate = Aggregate::new(usize::try_from(args.top).unwrap_or(10), now_ms());
    let options = WalkOptions::default();
    for (i, shard) in backup.shards.iter().enumerate() {
        let mut counter = Counter {
            aggregate: &mut aggregate,
            shard: i,
        };
        if let Some(report) = backup.walk(i, env, &options, &mut counter)? {
            aggregate.end_shard(&shard.name, &report);
        }
    }
    if env.global.json {
        table::print_json(&aggregate.to_json(&backup.label));
    } else {
        table::out(aggregate.to_text(&backup.label));
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_000_000_000_000;

    fn entry<'a>(
        key: &'a [u8],
        kind: &'static str,
        size: u64,
        expires: Option<i64>,
    ) -> KeyEntry<'a> {
        KeyEntry {
            db: 0,
            key,
            type_byte: 0,
            kind,
            encoding: if kind == "hash" {
                "hash-listpack"
            } else {
                "string"
            },
            expires_at_ms: expires,
            size_bytes: size,
            offset: 0,
            digest: None,
            payload: None,
            payload_bytes: 0,
            module: None,
        }
    }

    fn shard_report() -> Report {
        let mut r = Report {
            magic: "REDIS".into(),
            version: 11,
            bytes: 999,
            ..Report::default()
        };
        r.aux.insert("redis-ver".into(), "7.2.4".into());
        r
    }

    #[test]
    fn types_prefixes_ttls_and_the_biggest_keys_add_up() {
        let mut a = Aggregate::new(2, NOW);
        a.add(&entry(b"user:1:name", "string", 10, None), 0);
        a.add(&entry(b"user:1:mail", "string", 20, Some(NOW - 1)), 0);
        a.add(&entry(b"user:2", "hash", 300, Some(NOW + 1_000)), 0);
        a.add(
            &entry(b"plain", "string", 5, Some(NOW + 40 * 86_400_000)),
            0,
        );
        a.add(&entry(b"big", "string", 300, Some(NOW + 2 * 86_400_000)), 0);
        a.end_shard("dump.rdb", &shard_report());
        let doc = a.to_json("dump.rdb");
        assert_eq!(
            (doc["keys"].clone(), doc["bytes"].clone()),
            (json!(5), json!(635))
        );
        assert_eq!(
            doc["types"][0],
            json!({"type": "string", "keys": 4, "bytes": 335})
        );
        assert_eq!(
            doc["types"][1],
            json!({"type": "hash", "keys": 1, "bytes": 300})
        );
        let entries = doc["prefixes"]["entries"].as_array().unwrap();
        assert_eq!(
            entries[0],
            json!({"prefix": "user:*", "depth": 1, "keys": 3, "bytes": 330})
        );
        assert_eq!(
            entries[1],
            json!({"prefix": "user:1:*", "depth": 2, "keys": 2, "bytes": 30})
        );
        assert_eq!(
            doc["prefixes"]["noPrefix"],
            json!({"keys": 2, "bytes": 305})
        );
        let ttl: Vec<(String, u64)> = doc["ttl"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| {
                (
                    b["bucket"].as_str().unwrap().to_string(),
                    b["keys"].as_u64().unwrap(),
                )
            })
            .collect();
        let want: Vec<(String, u64)> = [
            ("none", 1),
            ("expired", 1),
            ("<1h", 1),
            ("<1d", 0),
            ("<7d", 1),
            ("<30d", 0),
            (">=30d", 1),
        ]
        .into_iter()
        .map(|(n, k)| (n.to_string(), k))
        .collect();
        assert_eq!(ttl, want);
        // Two biggest, ties to the earlier key.
        let big: Vec<&str> = doc["biggestKeys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["key"].as_str().unwrap())
            .collect();
        assert_eq!(big, ["user:2", "big"]);
        assert_eq!(doc["biggestKeys"][0]["encoding"], "hash-listpack");
        assert!(doc["biggestKeys"][0].get("shard").is_none());
        assert_eq!(
            doc["shards"][0],
            json!({"shard": "dump.rdb", "keys": 5, "bytes": 635, "fileBytes": 999, "magic": "REDIS",
                   "rdbVersion": 11, "engine": "redis-ver 7.2.4"})
        );
        let text = a.to_text("dump.rdb");
        assert!(
            text.contains("user:*")
                && text.contains("(no prefix)")
                && text.contains("biggest keys"),
            "{text}"
        );
    }

    #[test]
    fn the_biggest_keys_are_a_bounded_heap() {
        let mut a = Aggregate::new(3, NOW);
        let keys: Vec<Vec<u8>> = (0..1000u32).map(|i| format!("k{i}").into_bytes()).collect();
        for (i, k) in keys.iter().enumerate() {
            a.add(&entry(k, "string", (i as u64 * 7919) % 1000, None), 0);
        }
        assert_eq!(a.top.len(), 3);
        let sizes: Vec<u64> = a.biggest().iter().map(|b| b.size).collect();
        assert_eq!(sizes, [999, 998, 997]);
    }

    #[test]
    fn prefixes_past_the_limit_are_folded_into_other() {
        let mut a = Aggregate::new(1, NOW);
        let keys: Vec<Vec<u8>> = (0..PREFIX_LIMIT + 5)
            .map(|i| format!("p{i}:x").into_bytes())
            .collect();
        for k in &keys {
            a.add(&entry(k, "string", 1, None), 0);
        }
        a.add(&entry(b"p0:y", "string", 1, None), 0);
        a.end_shard("f", &shard_report());
        let doc = a.to_json("f");
        assert_eq!(doc["prefixes"]["tracked"], PREFIX_LIMIT);
        assert_eq!(
            doc["prefixes"]["other"][0],
            json!({"depth": 1, "keys": 5, "bytes": 5})
        );
        // A tracked prefix keeps counting after the limit is reached.
        let p0 = doc["prefixes"]["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["prefix"] == "p0:*")
            .unwrap();
        assert_eq!(p0["keys"], 2);
        assert!(a.to_text("f").contains("(other, depth 1)"));
    }

    #[test]
    fn several_shards_are_each_counted_and_named_on_the_biggest_keys() {
        let mut a = Aggregate::new(5, NOW);
        a.add(&entry(b"\xffbin:1", "string", 3, None), 0);
        a.end_shard("s1", &shard_report());
        a.add(&entry(b"k", "string", 4, None), 1);
        a.add(&entry(b"j", "string", 5, None), 1);
        a.end_shard("s2", &shard_report());
        let doc = a.to_json("m");
        assert_eq!(doc["shards"][0]["keys"], 1);
        assert_eq!(doc["shards"][1]["keys"], 2);
        assert_eq!(doc["biggestKeys"][0]["shard"], "s2");
        assert_eq!(doc["biggestKeys"][2]["keyBase64"], "/2Jpbjox");
        assert_eq!(doc["prefixes"]["entries"][0]["prefixBase64"], "/2Jpbjo=");
        assert_eq!(doc["fileBytes"], 1998);
    }
}
