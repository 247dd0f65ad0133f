//! The bounded-memory machinery of `ecb diff`: each side's keys as compact [`Record`]s, spread by a hash of
//! (database, key) over [`FANOUT`] temporary files ([`Partitions`]), then compared partition by partition
//! ([`diff_partition`]): one side's partition is loaded into a hash map, the other's streamed against it. A partition
//! larger than [`BUDGET`] bytes on either side is split again (both sides, by a hash with another seed) before it is
//! loaded, so memory stays near the budget however big the backups are, and whatever their key names.
//!
//! The files are anonymous temporary files (`tempfile::tempfile`, in `TMPDIR`): removed by the OS when closed,
//! whatever ends the process.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io::{self, BufReader, BufWriter, Read, Seek, Write};

use super::Kind;

/// Partitions per split.
pub const FANOUT: usize = 64;

/// Largest partition compared whole, bytes of records on either side (in memory they take about three times that).
pub const BUDGET: u64 = 4 * 1024 * 1024;

/// Splits of one partition at most (64⁴ partitions of 4 MiB: far beyond any backup); past it a partition is loaded
/// whatever its size (only keys sharing every hash could get there).
const MAX_LEVEL: u32 = 3;

/// Buffer of each partition file being written.
const WRITE_BUFFER: usize = 32 * 1024;

/// One key as the diff compares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Database number.
    pub db: u64,
    /// The key.
    pub key: Vec<u8>,
    /// Its type.
    pub kind: Kind,
    /// Absolute expiry, Unix milliseconds.
    pub expires_at_ms: Option<i64>,
    /// The value's logical digest (`KeyEntry::digest`, `DumpValue::digest`); `None` when it could not be read (a live
    /// server that refuses DUMP).
    pub digest: Option<[u8; 32]>,
    /// Bytes in the RDB file (type byte to end of value) or in the DUMP payload (the same bytes).
    pub size_bytes: u64,
    /// The value's length as the server's `STRLEN`/`LLEN`/`SCARD`/`ZCARD`/`HLEN`/`XLEN` gives it (a live server
    /// read without DUMP), else `None`.
    pub length: Option<u64>,
    /// Index of the shard (or server node) it was read from.
    pub shard: u32,
}

impl Record {
    /// Appends the record to `w` (flags, kind, shard, db, size, the optional fields, key length and key).
    ///
    /// # Errors
    /// The write's.
    pub fn write_to(&self, w: &mut impl Write) -> io::Result<()> {
        let flags = u8::from(self.expires_at_ms.is_some())
            | u8::from(self.digest.is_some()) << 1
            | u8::from(self.length.is_some()) << 2;
        let kind = Kind::ALL.iter().position(|k| *k == self.kind).unwrap_or(0);
        w.write_all(&[flags, u8::try_from(kind).unwrap_or(0)])?;
        w.write_all(&self.shard.to_le_bytes())?;
        w.write_all(&self.db.to_le_bytes())?;
        w.write_all(&self.size_bytes.to_le_bytes())?;
        if let Some(t) = self.expires_at_ms {
            w.write_all(&t.to_le_bytes())?;
        }
        if let Some(d) = &self.digest {
            w.write_all(d)?;
        }
        if let Some(n) = self.length {
            w.write_all(&n.to_le_bytes())?;
        }
        let len = u64::try_from(self.key.len()).map_err(io::Error::other)?;
        w.write_all(&len.to_le_bytes())?;
        w.write_all(&self.key)
    }

    /// The next record of `r`, `None` at its end.
    ///
    /// # Errors
    /// A read error, or a file cut inside a record.
    pub fn read_from(r: &mut impl Read) -> io::Result<Option<Self>> {
        let mut head = [0u8; 2];
        match r.read_exact(&mut head[..1]) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(e),
        }
        r.read_exact(&mut head[1..])?;
        let [flags, kind] = head;
        let mut u32b = [0u8; 4];
        r.read_exact(&mut u32b)?;
        let u64_of = |r: &mut dyn Read| -> io::Result<u64> {
            let mut b = [0u8; 8];
            r.read_exact(&mut b)?;
            Ok(u64::from_le_bytes(b))
        };
        let db = u64_of(r)?;
        let size_bytes = u64_of(r)?;
        let expires_at_ms = if flags & 1 != 0 {
            Some(u64_of(r)?.cast_signed())
        } else {
            None
        };
        let digest = if flags & 2 != 0 {
            let mut d = [0u8; 32];
            r.read_exact(&mut d)?;
            Some(d)
        } else {
            None
        };
        let length = if flags & 4 != 0 {
            Some(u64_of(r)?)
        } else {
            None
        };
        let len = usize::try_from(u64_of(r)?).map_err(io::Error::other)?;
        let mut key = vec![0u8; len];
        r.read_exact(&mut key)?;
        Ok(Some(Self {
            db,
            key,
            kind: Kind::ALL
                .get(usize::from(kind))
                .copied()
                .unwrap_or(Kind::String),
            expires_at_ms,
            digest,
            size_bytes,
            length,
            shard: u32::from_le_bytes(u32b),
        }))
    }
}

/// How values were compared, for the summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    /// `digest` or `type+expiry`.
    pub name: &'static str,
    /// What that means here.
    pub note: String,
}

/// One side: its label and the names of its shards (or nodes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Side {
    /// The argument (a live server's URL without its password).
    pub label: String,
    /// Shard or node names, by [`Record::shard`].
    pub shards: Vec<String>,
}

impl Side {
    /// The shard name to print for an item: only when the side has several.
    pub fn shard(&self, i: u32) -> Option<&str> {
        if self.shards.len() > 1 {
            self.shards
                .get(usize::try_from(i).unwrap_or(usize::MAX))
                .map(String::as_str)
        } else {
            None
        }
    }
}

/// The partition of (`db`, `key`) among `count` at split `level`: `DefaultHasher::new()` (the same keys for every
/// instance in a process, unlike `RandomState`'s), the level hashed first.
fn partition_of(level: u32, db: u64, key: &[u8], count: usize) -> usize {
    let mut h = std::hash::DefaultHasher::new();
    level.hash(&mut h);
    db.hash(&mut h);
    key.hash(&mut h);
    usize::try_from(h.finish() % count as u64).unwrap_or(0)
}

/// One side's records being spread over [`FANOUT`] temporary files.
pub struct Partitions {
    level: u32,
    files: Vec<BufWriter<File>>,
    /// Records written.
    pub records: u64,
}

impl Partitions {
    /// [`FANOUT`] empty partitions for split `level` (0 for a side's first spread).
    ///
    /// # Errors
    /// Creating the temporary files.
    pub fn new(level: u32) -> io::Result<Self> {
        let files = (0..FANOUT)
            .map(|_| tempfile::tempfile().map(|f| BufWriter::with_capacity(WRITE_BUFFER, f)))
            .collect::<io::Result<_>>()?;
        Ok(Self {
            level,
            files,
            records: 0,
        })
    }

    /// Adds one record to its partition.
    ///
    /// # Errors
    /// The write's.
    pub fn add(&mut self, r: &Record) -> io::Result<()> {
        let i = partition_of(self.level, r.db, &r.key, self.files.len());
        self.records += 1;
        r.write_to(&mut self.files[i])
    }

    /// The partitions written, each rewound, with its length.
    ///
    /// # Errors
    /// Flushing or rewinding.
    pub fn finish(self) -> io::Result<Vec<(File, u64)>> {
        self.files
            .into_iter()
            .map(|w| {
                let mut f = w.into_inner().map_err(io::IntoInnerError::into_error)?;
                let len = f.stream_position()?;
                f.rewind()?;
                Ok((f, len))
            })
            .collect()
    }
}

/// What the diff found, one difference at a time.
pub trait Differences {
    /// A key only side B has.
    ///
    /// # Errors
    /// Recording it.
    fn added(&mut self, b: &Record) -> io::Result<()>;
    /// A key only side A has.
    ///
    /// # Errors
    /// Recording it.
    fn removed(&mut self, a: &Record) -> io::Result<()>;
    /// A key both have, whose type, value or expiry differs ([`super::diff::compare`] says which).
    ///
    /// # Errors
    /// Recording it.
    fn changed(&mut self, a: &Record, b: &Record) -> io::Result<()>;
    /// Whether the two records of one key differ.
    fn differ(&self, a: &Record, b: &Record) -> bool;
}

/// Compares side A's partition `a` (`a_len` bytes) with side B's `b`, split `level`: loads A (splitting both sides
/// again first when either is over [`BUDGET`]), streams B against it (B's keys kept in a set: a key B has twice, as
/// SCAN may return it, is compared once).
///
/// Returns the deepest split level used.
///
/// # Errors
/// Reading or writing the temporary files; the sink's.
pub fn diff_partition(
    a: (File, u64),
    b: (File, u64),
    level: u32,
    out: &mut dyn Differences,
) -> io::Result<u32> {
    if a.1.max(b.1) > BUDGET && level < MAX_LEVEL {
        let split = |(file, _): (File, u64)| -> io::Result<Vec<(File, u64)>> {
            let mut parts = Partitions::new(level + 1)?;
            let mut r = BufReader::new(file);
            while let Some(rec) = Record::read_from(&mut r)? {
                parts.add(&rec)?;
            }
            parts.finish()
        };
        let (a_parts, b_parts) = (split(a)?, split(b)?);
        let mut deepest = level + 1;
        for (ai, bi) in a_parts.into_iter().zip(b_parts) {
            deepest = deepest.max(diff_partition(ai, bi, level + 1, out)?);
        }
        return Ok(deepest);
    }
    let mut map: HashMap<(u64, Vec<u8>), Record> = HashMap::new();
    let mut r = BufReader::new(a.0);
    while let Some(mut rec) = Record::read_from(&mut r)? {
        let key = std::mem::take(&mut rec.key);
        // A key twice on one side (two shards holding it) is compared once: the first read wins.
        map.entry((rec.db, key)).or_insert(rec);
    }
    // SCAN may return a key more than once: B's keys are compared once.
    let mut seen_b: HashSet<(u64, Vec<u8>)> = HashSet::new();
    let mut r = BufReader::new(b.0);
    while let Some(rec) = Record::read_from(&mut r)? {
        let lookup = (rec.db, rec.key);
        if !seen_b.insert(lookup.clone()) {
            continue;
        }
        match map.remove(&lookup) {
            None => {
                let rec = Record {
                    key: lookup.1,
                    ..rec
                };
                out.added(&rec)?;
            }
            Some(mut a) => {
                let rec = Record {
                    key: lookup.1,
                    ..rec
                };
                if out.differ(&a, &rec) {
                    a.key.clone_from(&rec.key);
                    out.changed(&a, &rec)?;
                }
            }
        }
    }
    for ((_, key), mut a) in map {
        a.key = key;
        out.removed(&a)?;
    }
    Ok(level)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn record(db: u64, key: &str, digest: u8) -> Record {
        Record {
            db,
            key: key.as_bytes().to_vec(),
            kind: Kind::Hash,
            expires_at_ms: None,
            digest: Some([digest; 32]),
            size_bytes: 10,
            length: None,
            shard: 0,
        }
    }

    #[derive(Default)]
    struct Found {
        added: Vec<String>,
        removed: Vec<String>,
        changed: Vec<String>,
    }

    impl Differences for Found {
        fn added(&mut self, b: &Record) -> io::Result<()> {
            self.added
                .push(format!("{}:{}", b.db, String::from_utf8_lossy(&b.key)));
            Ok(())
        }
        fn removed(&mut self, a: &Record) -> io::Result<()> {
            self.removed
                .push(format!("{}:{}", a.db, String::from_utf8_lossy(&a.key)));
            Ok(())
        }
        fn changed(&mut self, a: &Record, b: &Record) -> io::Result<()> {
            assert_eq!(a.key, b.key);
            self.changed
                .push(format!("{}:{}", a.db, String::from_utf8_lossy(&a.key)));
            Ok(())
        }
        fn differ(&self, a: &Record, b: &Record) -> bool {
            a.digest != b.digest
        }
    }

    fn diff_all(a: &[Record], b: &[Record]) -> Found {
        let (mut pa, mut pb) = (Partitions::new(0).unwrap(), Partitions::new(0).unwrap());
        for r in a {
            pa.add(r).unwrap();
        }
        for r in b {
            pb.add(r).unwrap();
        }
        let mut found = Found::default();
        for (x, y) in pa.finish().unwrap().into_iter().zip(pb.finish().unwrap()) {
            assert_eq!(diff_partition(x, y, 0, &mut found).unwrap(), 0);
        }
        for v in [&mut found.added, &mut found.removed, &mut found.changed] {
            v.sort();
        }
        found
    }

    #[test]
    fn records_round_trip_through_their_bytes() {
        let mut full = record(3, "k", 7);
        full.expires_at_ms = Some(-5);
        full.length = Some(9);
        full.shard = 2;
        full.kind = Kind::Stream;
        full.key = b"\xff\x00".to_vec();
        let mut bare = record(0, "", 0);
        bare.digest = None;
        let mut bytes = Vec::new();
        full.write_to(&mut bytes).unwrap();
        bare.write_to(&mut bytes).unwrap();
        let mut r = bytes.as_slice();
        assert_eq!(Record::read_from(&mut r).unwrap(), Some(full));
        assert_eq!(Record::read_from(&mut r).unwrap(), Some(bare));
        assert_eq!(Record::read_from(&mut r).unwrap(), None);
        // A cut record is an error, not a short record.
        let mut cut = &bytes[..bytes.len() - 1];
        Record::read_from(&mut cut).unwrap();
        assert!(Record::read_from(&mut cut).is_err());
    }

    #[test]
    fn additions_removals_and_changes_are_found_per_database() {
        let a = [
            record(0, "same", 1),
            record(0, "gone", 1),
            record(0, "edit", 1),
            record(3, "same", 1),
        ];
        let b = [
            record(0, "same", 1),
            record(0, "edit", 2),
            record(0, "new", 1),
            record(4, "same", 1),
        ];
        let found = diff_all(&a, &b);
        assert_eq!(found.added, ["0:new", "4:same"]);
        assert_eq!(found.removed, ["0:gone", "3:same"]);
        assert_eq!(found.changed, ["0:edit"]);
    }

    #[test]
    fn a_key_twice_on_side_b_is_compared_once() {
        let a = [record(0, "k", 1)];
        let b = [
            record(0, "k", 1),
            record(0, "k", 1),
            record(0, "n", 1),
            record(0, "n", 1),
        ];
        let found = diff_all(&a, &b);
        assert_eq!(found.added, ["0:n"]);
        assert!(found.removed.is_empty() && found.changed.is_empty());
    }

    #[test]
    fn a_partition_over_the_budget_is_split_again_and_nothing_is_lost() {
        // ~12 MiB of records in one file pair, over the budget: diffed at level 0, it must be split again.
        let key = |i: u32| format!("{i:08}{}", "x".repeat(1000));
        let (mut fa, mut fb) = (tempfile::tempfile().unwrap(), tempfile::tempfile().unwrap());
        let n = 12_000u32;
        for i in 0..n {
            record(0, &key(i), 1).write_to(&mut fa).unwrap();
            if i % 3 != 0 {
                record(0, &key(i), u8::from(i % 5 == 0) + 1)
                    .write_to(&mut fb)
                    .unwrap();
            }
        }
        record(0, "only-b", 1).write_to(&mut fb).unwrap();
        let (la, lb) = (fa.stream_position().unwrap(), fb.stream_position().unwrap());
        assert!(la > BUDGET, "{la}");
        fa.rewind().unwrap();
        fb.rewind().unwrap();
        let mut found = Found::default();
        assert_eq!(
            diff_partition((fa, la), (fb, lb), 0, &mut found).unwrap(),
            1
        );
        assert_eq!(found.added, ["0:only-b"]);
        assert_eq!(found.removed.len(), (0..n).filter(|i| i % 3 == 0).count());
        assert_eq!(
            found.changed.len(),
            (0..n).filter(|i| i % 3 != 0 && i % 5 == 0).count()
        );
    }

    #[test]
    fn partitions_spread_keys_and_depend_on_the_level() {
        let mut seen = [0u32; FANOUT];
        for i in 0..10_000 {
            seen[partition_of(0, 0, format!("k{i}").as_bytes(), FANOUT)] += 1;
        }
        assert!(seen.iter().all(|&n| n > 100), "{seen:?}");
        let moved = (0..1000)
            .filter(|i| {
                let k = format!("k{i}");
                partition_of(0, 0, k.as_bytes(), FANOUT) != partition_of(1, 0, k.as_bytes(), FANOUT)
            })
            .count();
        assert!(moved > 900, "{moved}");
        assert_ne!(
            partition_of(0, 0, b"k", 1 << 20),
            partition_of(0, 1, b"k", 1 << 20)
        );
    }
}
