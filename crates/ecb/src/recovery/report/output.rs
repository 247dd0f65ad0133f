//! The report as `ecb report` prints it: `--json` (the shape in the parent module's doc) or tables.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::{Value, json};

use super::{Aggregate, Count, PREFIX_LIMIT, TTL_BUCKETS};
use crate::progress::bytes;
use crate::recovery::{Expiry, Item, display_key};
use crate::table;

impl Aggregate {
    /// The `--json` document (see the module doc).
    pub fn to_json(&self, label: &str) -> Value {
        let sorted = |m: &BTreeMap<&'static str, Count>, name: &str| -> Vec<Value> {
            let mut v: Vec<(&&str, &Count)> = m.iter().collect();
            v.sort_by(|a, b| b.1.bytes.cmp(&a.1.bytes).then_with(|| a.0.cmp(b.0)));
            v.into_iter()
                .map(|(k, c)| json!({name: k, "keys": c.keys, "bytes": c.bytes}))
                .collect()
        };
        let prefixes: Vec<Value> = self
            .prefix_list()
            .into_iter()
            .map(|(p, depth, c)| {
                let mut o = json!({"depth": depth, "keys": c.keys, "bytes": c.bytes});
                match std::str::from_utf8(p) {
                    Ok(text) => o["prefix"] = json!(format!("{text}*")),
                    Err(_) => {
                        o["prefixBase64"] =
                            json!(base64::engine::general_purpose::STANDARD.encode(p));
                    }
                }
                o
            })
            .collect();
        let biggest: Vec<Value> = self
            .biggest()
            .into_iter()
            .map(|b| {
                let shard = (self.shards.len() > 1)
                    .then(|| self.shards.get(b.shard).map(|s| s.name.as_str()))
                    .flatten();
                let mut o = serde_json::to_value(Item::new(
                    &b.key,
                    b.db,
                    b.kind,
                    b.expires_at_ms,
                    b.size,
                    shard,
                ))
                .unwrap_or(Value::Null);
                o["encoding"] = json!(b.encoding);
                o
            })
            .collect();
        let other: Vec<Value> = [1, 2]
            .iter()
            .zip(self.other)
            .map(|(d, c)| json!({"depth": d, "keys": c.keys, "bytes": c.bytes}))
            .collect();
        let databases: Vec<Value> = self
            .databases
            .iter()
            .map(|(db, c)| json!({"db": db, "keys": c.keys, "bytes": c.bytes}))
            .collect();
        let ttl: Vec<Value> = self
            .ttl_names()
            .into_iter()
            .zip(self.ttl)
            .map(|(n, c)| json!({"bucket": n, "keys": c.keys, "bytes": c.bytes}))
            .collect();
        let shards: Vec<Value> = self
            .shards
            .iter()
            .map(|s| {
                json!({
                    "shard": s.name, "keys": s.count.keys, "bytes": s.count.bytes, "fileBytes": s.file_bytes,
                    "magic": s.magic, "rdbVersion": s.version, "engine": s.engine,
                })
            })
            .collect();
        json!({
            "backup": label,
            "now": Expiry(Some(self.now_ms)),
            "keys": self.totals.keys,
            "bytes": self.totals.bytes,
            "fileBytes": self.shards.iter().map(|s| s.file_bytes).sum::<u64>(),
            "databases": databases,
            "types": sorted(&self.types, "type"),
            "encodings": sorted(&self.encodings, "encoding"),
            "prefixes": {
                "limit": PREFIX_LIMIT,
                "tracked": self.prefixes.len(),
                "entries": prefixes,
                "noPrefix": self.no_prefix.json(),
                "other": other,
            },
            "biggestKeys": biggest,
            "ttl": ttl,
            "shards": shards,
        })
    }

    fn ttl_names(&self) -> Vec<&'static str> {
        let mut v = vec!["none", "expired"];
        v.extend(TTL_BUCKETS.iter().map(|(n, _)| *n));
        v
    }

    /// The report for a person: a summary line, then tables (the `top_n` biggest prefixes and keys).
    pub fn to_text(&self, label: &str) -> String {
        let share = |c: Count| {
            if self.totals.bytes == 0 {
                "-".to_string()
            } else {
                let pct = c.bytes as f64 * 100.0 / self.totals.bytes as f64;
                format!("{pct:.1}%")
            }
        };
        let counts = |title: &str, rows: Vec<(String, Count)>| {
            let mut t = table::new(&[title, "keys", "bytes", "share"]);
            for (name, c) in rows {
                t.add_row(vec![name, c.keys.to_string(), bytes(c.bytes), share(c)]);
            }
            t.to_string()
        };
        let by_bytes = |m: &BTreeMap<&'static str, Count>| {
            let mut v: Vec<(String, Count)> =
                m.iter().map(|(k, c)| ((*k).to_string(), *c)).collect();
            v.sort_by_key(|b| Reverse(b.1.bytes));
            v
        };
        let mut out = format!(
            "{label}: {} keys, {} in keys, {} shard(s)\n",
            self.totals.keys,
            bytes(self.totals.bytes),
            self.shards.len()
        );
        let mut shards = table::new(&["shard", "keys", "bytes", "file", "RDB", "engine"]);
        for s in &self.shards {
            shards.add_row(vec![
                s.name.clone(),
                s.count.keys.to_string(),
                bytes(s.count.bytes),
                bytes(s.file_bytes),
                format!("{} {}", s.magic, s.version),
                s.engine.clone().unwrap_or_else(|| "-".into()),
            ]);
        }
        out.push_str(&format!("{shards}\n"));
        let dbs = self
            .databases
            .iter()
            .map(|(d, c)| (format!("db{d}"), *c))
            .collect();
        out.push_str(&format!("{}\n", counts("database", dbs)));
        out.push_str(&format!("{}\n", counts("type", by_bytes(&self.types))));
        out.push_str(&format!(
            "{}\n",
            counts("encoding", by_bytes(&self.encodings))
        ));
        let ttl = self
            .ttl_names()
            .into_iter()
            .map(str::to_string)
            .zip(self.ttl)
            .collect();
        out.push_str(&format!("{}\n", counts("expiry", ttl)));
        let mut prefixes: Vec<(String, Count)> = self
            .prefix_list()
            .into_iter()
            .take(self.top_n)
            .map(|(p, _, c)| (format!("{}*", display_key(p)), c))
            .collect();
        prefixes.push(("(no prefix)".into(), self.no_prefix));
        for (depth, c) in [1, 2].iter().zip(self.other) {
            if c.keys > 0 {
                prefixes.push((format!("(other, depth {depth})"), c));
            }
        }
        out.push_str(&format!(
            "{}\n",
            counts(&format!("prefix (biggest {})", self.top_n), prefixes)
        ));
        if self.prefixes.len() >= PREFIX_LIMIT {
            out.push_str(&format!(
                "only the first {PREFIX_LIMIT} distinct prefixes are tracked: keys under later ones are counted as (other)\n"
            ));
        }
        let mut big = table::new(&["size", "db", "type", "encoding", "expires at", "key"]);
        for b in self.biggest() {
            big.add_row(vec![
                bytes(b.size),
                b.db.to_string(),
                b.kind.to_string(),
                b.encoding.to_string(),
                Expiry(b.expires_at_ms).text().unwrap_or_else(|| "-".into()),
                display_key(&b.key),
            ]);
        }
        out.push_str(&format!("biggest keys\n{big}"));
        out
    }
}
