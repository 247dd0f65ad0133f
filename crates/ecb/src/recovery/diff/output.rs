//! Printing what `ecb diff` found: `--json` (the shape in the parent module's doc, every difference) or rows (at most
//! `--limit` per kind, then how many more), then a summary.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Write};

use serde::Serialize;
use serde_json::{Value, json};

use super::{Change, Found, compare};
use super::{SORT_BUDGET, temp_failed};
use crate::error::CliResult;
use crate::recovery::partition::{Comparison, Record, Side};
use crate::recovery::{
    Env, Expiry, Item, JsonArray, Rows, display_key, stdout_is_terminal, write_failed,
};

/// What the printing needs to know about the two sides.
pub(super) struct Sides {
    pub(super) a: Side,
    pub(super) b: Side,
    pub(super) comparison: Comparison,
    pub(super) tolerance_ms: i64,
    pub(super) now_ms: i64,
}

impl Sides {
    fn added<'a>(&'a self, b: &'a Record) -> DiffItem<'a> {
        DiffItem {
            length: b.length,
            ..DiffItem::of(b, self.b.shard(b.shard))
        }
    }

    fn removed<'a>(&'a self, a: &'a Record) -> DiffItem<'a> {
        DiffItem {
            expired: a
                .expires_at_ms
                .is_some_and(|t| t <= self.now_ms)
                .then_some(true),
            ..DiffItem::of(a, self.a.shard(a.shard))
        }
    }

    fn changed<'a>(&'a self, a: &'a Record, b: &'a Record) -> DiffItem<'a> {
        DiffItem {
            change: Some(compare(a, b, self.tolerance_ms).map_or("value", Change::name)),
            b: Some(BSide {
                kind: b.kind.name(),
                expires_at: Expiry(b.expires_at_ms),
                size_bytes: b.size_bytes,
                shard: self.b.shard(b.shard),
                length: b.length,
            }),
            ..DiffItem::of(a, self.a.shard(a.shard))
        }
    }

    /// One table row: kind, db, type, change, expiry, size, key.
    fn row(&self, what: &str, a: Option<&Record>, b: Option<&Record>) -> Vec<String> {
        let expiry = |r: &Record| Expiry(r.expires_at_ms).text().unwrap_or_else(|| "-".into());
        let (first, detail, kind, expires, size) = match (a, b) {
            (Some(a), Some(b)) => {
                let change = compare(a, b, self.tolerance_ms).map_or("value", Change::name);
                let both = |x: String, y: String| if x == y { x } else { format!("{x} → {y}") };
                (
                    a,
                    change.to_string(),
                    both(a.kind.name().into(), b.kind.name().into()),
                    both(expiry(a), expiry(b)),
                    both(a.size_bytes.to_string(), b.size_bytes.to_string()),
                )
            }
            (Some(r), None) | (None, Some(r)) => {
                let expired = a.is_some() && r.expires_at_ms.is_some_and(|t| t <= self.now_ms);
                let detail = if expired { "expired" } else { "-" };
                (
                    r,
                    detail.into(),
                    r.kind.name().into(),
                    expiry(r),
                    r.size_bytes.to_string(),
                )
            }
            (None, None) => return Vec::new(),
        };
        vec![
            what.into(),
            first.db.to_string(),
            kind,
            detail,
            expires,
            size,
            display_key(&first.key),
        ]
    }

    fn summary(&self, counts: [u64; 3], sorted: bool) -> Value {
        json!({"a": self.a.label, "b": self.b.label, "added": counts[0], "removed": counts[1], "changed": counts[2],
               "comparison": self.comparison.name, "comparisonNote": self.comparison.note, "sorted": sorted})
    }
}

/// One difference in `--json` (see the module doc): the item, and what the kind of difference adds to it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DiffItem<'a> {
    #[serde(flatten)]
    item: Item<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    length: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expired: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    change: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    b: Option<BSide<'a>>,
}

/// B's side of a changed key.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BSide<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    expires_at: Expiry,
    size_bytes: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    shard: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    length: Option<u64>,
}

impl<'a> DiffItem<'a> {
    fn of(r: &'a Record, shard: Option<&'a str>) -> Self {
        Self {
            item: Item::new(
                &r.key,
                r.db,
                r.kind.name(),
                r.expires_at_ms,
                r.size_bytes,
                shard,
            ),
            length: None,
            expired: None,
            change: None,
            b: None,
        }
    }
}

/// The records of one spool, `pairs` at a time (1 or 2), sorted by (db, key) when they fit in [`SORT_BUDGET`].
struct Spooled {
    reader: BufReader<File>,
    pairs: bool,
    sorted: Option<std::vec::IntoIter<(Record, Option<Record>)>>,
}

impl Spooled {
    fn new((file, len): (File, u64), pairs: bool) -> io::Result<Self> {
        let mut s = Self {
            reader: BufReader::new(file),
            pairs,
            sorted: None,
        };
        if len <= SORT_BUDGET {
            let mut all = Vec::new();
            while let Some(x) = s.read()? {
                all.push(x);
            }
            all.sort_by(|x, y| (x.0.db, &x.0.key).cmp(&(y.0.db, &y.0.key)));
            s.sorted = Some(all.into_iter());
        }
        Ok(s)
    }

    fn read(&mut self) -> io::Result<Option<(Record, Option<Record>)>> {
        let Some(first) = Record::read_from(&mut self.reader)? else {
            return Ok(None);
        };
        let second = if self.pairs {
            Some(
                Record::read_from(&mut self.reader)?
                    .ok_or_else(|| io::Error::other("a changed record cut short"))?,
            )
        } else {
            None
        };
        Ok(Some((first, second)))
    }

    fn next(&mut self) -> io::Result<Option<(Record, Option<Record>)>> {
        match &mut self.sorted {
            Some(it) => Ok(it.next()),
            None => self.read(),
        }
    }
}

/// The kinds of difference, in the order they are printed.
const KINDS: [&str; 3] = ["added", "removed", "changed"];

/// Prints `found` as `--json` (every difference) or rows (at most `limit` per kind, 0 for all).
///
/// # Errors
/// `Failed`: the temporary files or stdout.
pub(super) fn print(env: &Env, sides: &Sides, found: Found, limit: u64) -> CliResult<()> {
    let counts = [found.added.count, found.removed.count, found.changed.count];
    let spools = [found.added, found.removed, found.changed];
    let mut lists = Vec::new();
    for (i, spool) in spools.into_iter().enumerate() {
        let file = spool.finish().map_err(|e| temp_failed(&e))?;
        lists.push(Spooled::new(file, i == 2).map_err(|e| temp_failed(&e))?);
    }
    let sorted = lists.iter().all(|l| l.sorted.is_some());
    let out = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let result = if env.global.json {
        print_json(out, sides, &mut lists, counts, sorted)
    } else {
        print_rows(out, sides, &mut lists, counts, limit)
    };
    result.map_err(|e| write_failed(&e))
}

fn print_json(
    mut out: impl Write,
    sides: &Sides,
    lists: &mut [Spooled],
    counts: [u64; 3],
    sorted: bool,
) -> io::Result<()> {
    out.write_all(b"{")?;
    for (i, (name, list)) in KINDS.iter().zip(lists.iter_mut()).enumerate() {
        write!(out, "{}\"{name}\": ", if i == 0 { "" } else { ",\n" })?;
        let mut array = JsonArray::begin(out)?;
        while let Some((x, y)) = list.next()? {
            let v = match (i, &y) {
                (0, _) => sides.added(&x),
                (1, _) => sides.removed(&x),
                (_, Some(y)) => sides.changed(&x, y),
                (_, None) => continue,
            };
            array.push(&v)?;
        }
        out = array.end()?;
    }
    write!(out, ",\n\"summary\": {}}}\n", sides.summary(counts, sorted))?;
    out.flush()
}

/// Rows, at most `limit` per kind (0: all), a line per kind cut short, and the summary.
fn print_rows(
    out: impl Write,
    sides: &Sides,
    lists: &mut [Spooled],
    counts: [u64; 3],
    limit: u64,
) -> io::Result<()> {
    let columns = [
        ("what", 7),
        ("db", 3),
        ("type", 6),
        ("change", 12),
        ("expires at", 24),
        ("size", 10),
        ("key", 0),
    ];
    let limit = if limit == 0 { u64::MAX } else { limit };
    let mut rows = Rows::new(out, &columns, stdout_is_terminal());
    let mut shown = [0u64; 3];
    for (i, list) in lists.iter_mut().enumerate() {
        while shown[i] < limit
            && let Some((x, y)) = list.next()?
        {
            let row = match i {
                0 => sides.row(KINDS[0], None, Some(&x)),
                1 => sides.row(KINDS[1], Some(&x), None),
                _ => sides.row(KINDS[2], Some(&x), y.as_ref()),
            };
            rows.push(row)?;
            shown[i] += 1;
        }
    }
    let mut out = rows.finish()?;
    for ((name, count), shown) in KINDS.iter().zip(counts).zip(shown) {
        if count > shown {
            writeln!(
                out,
                "… and {} more {name} (--json or --limit 0 lists all)",
                grouped(count - shown)
            )?;
        }
    }
    let [added, removed, changed] = counts;
    let what = if added + removed + changed == 0 {
        "no differences".to_string()
    } else {
        format!("{added} added, {removed} removed, {changed} changed")
    };
    writeln!(
        out,
        "{what} (A {}, B {}; {})",
        sides.a.label, sides.b.label, sides.comparison.note
    )?;
    out.flush()
}

/// `n` with its digits in groups of three: `1,234,567`.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recovery::Kind;
    use crate::recovery::diff::Spool;
    use crate::recovery::diff::tests::rec;

    fn sides(shards_b: usize) -> Sides {
        Sides {
            a: Side {
                label: "a.rdb".into(),
                shards: vec!["a.rdb".into()],
            },
            b: Side {
                label: "redis://127.0.0.1:1/0".into(),
                shards: (0..shards_b).map(|i| format!("node{i}")).collect(),
            },
            comparison: Comparison {
                name: "digest",
                note: "n".into(),
            },
            tolerance_ms: 0,
            now_ms: 5_000,
        }
    }

    fn spooled(records: &[(Record, Option<Record>)]) -> Spooled {
        let mut spool = Spool::new().unwrap();
        for (x, y) in records {
            x.write_to(&mut spool.w).unwrap();
            if let Some(y) = y {
                y.write_to(&mut spool.w).unwrap();
            }
        }
        Spooled::new(
            spool.finish().unwrap(),
            records.iter().any(|r| r.1.is_some()),
        )
        .unwrap()
    }

    /// What [`print_rows`] prints of `lists` (one shard on B's side).
    fn table(lists: &mut [Spooled], counts: [u64; 3], limit: u64) -> String {
        let mut out = Vec::new();
        print_rows(&mut out, &sides(1), lists, counts, limit).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_json_has_the_documented_shape_sorted_by_db_and_key() {
        let s = sides(2);
        let mut added = rec("zz", Kind::String, 1, None);
        added.shard = 1;
        added.length = Some(3);
        let mut other_db = rec("aa", Kind::String, 1, None);
        other_db.db = 1;
        let mut lists = vec![
            spooled(&[(other_db, None), (added, None)]),
            spooled(&[(rec("old", Kind::Hash, 1, Some(4_000)), None)]),
            spooled(&[(
                rec("k", Kind::Hash, 1, None),
                Some(rec("k", Kind::Hash, 2, Some(9_000))),
            )]),
        ];
        let mut out = Vec::new();
        print_json(&mut out, &s, &mut lists, [2, 1, 1], true).unwrap();
        let doc: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            doc["added"],
            json!([
                {"key": "zz", "db": 0, "type": "string", "expiresAt": null, "sizeBytes": 10, "shard": "node1",
                 "length": 3},
                {"key": "aa", "db": 1, "type": "string", "expiresAt": null, "sizeBytes": 10, "shard": "node0"}
            ])
        );
        assert_eq!(
            doc["removed"],
            json!([{"key": "old", "db": 0, "type": "hash", "expiresAt": "1970-01-01T00:00:04.000Z",
                    "sizeBytes": 10, "expired": true}])
        );
        assert_eq!(
            doc["changed"],
            json!([{"key": "k", "db": 0, "type": "hash", "expiresAt": null, "sizeBytes": 10,
                    "change": "value+expiry",
                    "b": {"type": "hash", "expiresAt": "1970-01-01T00:00:09.000Z", "sizeBytes": 10, "shard": "node0"}}])
        );
        assert_eq!(
            doc["summary"],
            json!({"a": "a.rdb", "b": "redis://127.0.0.1:1/0", "added": 2, "removed": 1, "changed": 1,
                   "comparison": "digest", "comparisonNote": "n", "sorted": true})
        );
    }

    #[test]
    fn no_difference_is_empty_arrays() {
        let mut lists = vec![spooled(&[]), spooled(&[]), spooled(&[])];
        let mut out = Vec::new();
        print_json(&mut out, &sides(1), &mut lists, [0, 0, 0], true).unwrap();
        let doc: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(doc["added"], json!([]));
        assert_eq!(doc["changed"], json!([]));
        let mut lists = vec![spooled(&[]), spooled(&[]), spooled(&[])];
        assert_eq!(
            table(&mut lists, [0, 0, 0], 50),
            "no differences (A a.rdb, B redis://127.0.0.1:1/0; n)\n"
        );
    }

    #[test]
    fn rows_name_each_difference_and_both_sides_of_a_change() {
        let mut lists = vec![
            spooled(&[(rec("new", Kind::String, 1, None), None)]),
            spooled(&[(rec("old", Kind::Hash, 1, Some(4_000)), None)]),
            spooled(&[(
                rec("k", Kind::Hash, 1, None),
                Some(rec("k", Kind::Set, 1, None)),
            )]),
        ];
        let text = table(&mut lists, [1, 1, 1], 50);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5, "{text}");
        assert!(
            lines[1].starts_with("added    0    string  -") && lines[1].ends_with("new"),
            "{text}"
        );
        assert!(
            lines[2].starts_with("removed  0    hash    expired"),
            "{text}"
        );
        assert!(
            lines[3].contains("hash → set") && lines[3].contains("type"),
            "{text}"
        );
        assert!(
            lines[4].starts_with("1 added, 1 removed, 1 changed"),
            "{text}"
        );
    }

    #[test]
    fn rows_stop_at_the_limit_per_kind_and_say_how_many_more() {
        let records = |prefix: &str, n: usize| -> Vec<(Record, Option<Record>)> {
            (0..n)
                .map(|i| (rec(&format!("{prefix}{i:02}"), Kind::String, 1, None), None))
                .collect()
        };
        let changed: Vec<_> = (0..3)
            .map(|i| {
                let key = format!("c{i}");
                (
                    rec(&key, Kind::String, 1, None),
                    Some(rec(&key, Kind::String, 2, None)),
                )
            })
            .collect();
        let lists = || {
            vec![
                spooled(&records("a", 5)),
                spooled(&records("r", 2)),
                spooled(&changed),
            ]
        };
        let text = table(&mut lists(), [5, 2, 3], 2);
        let lines: Vec<&str> = text.lines().collect();
        // Header, 2 added, 2 removed, 2 changed, 2 cut lines (removed is not cut), the summary.
        assert_eq!(lines.len(), 10, "{text}");
        let keys: Vec<&str> = lines[1..7]
            .iter()
            .filter_map(|l| l.rsplit(' ').next())
            .collect();
        assert_eq!(keys, ["a00", "a01", "r00", "r01", "c0", "c1"], "{text}");
        assert_eq!(
            lines[7..9],
            [
                "… and 3 more added (--json or --limit 0 lists all)",
                "… and 1 more changed (--json or --limit 0 lists all)"
            ]
        );
        assert!(
            lines[9].starts_with("5 added, 2 removed, 3 changed"),
            "{text}"
        );
        // 0: no limit.
        let text = table(&mut lists(), [5, 2, 3], 0);
        assert_eq!(text.lines().count(), 12, "{text}");
        assert!(!text.contains("more"), "{text}");
        // --json is not limited.
        let mut out = Vec::new();
        print_json(&mut out, &sides(1), &mut lists(), [5, 2, 3], true).unwrap();
        let doc: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(doc["added"].as_array().map(Vec::len), Some(5));
        assert_eq!(grouped(1_234), "1,234");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1_234_567), "1,234,567");
        assert_eq!(grouped(0), "0");
    }
}
