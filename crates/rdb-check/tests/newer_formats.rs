//! Formats no Debian package writes: Redis 7.4 hash field expiry (types 22–25, RDB 12) and Valkey 9.0 (`VALKEY080`,
//! `RDB_TYPE_HASH_2`, `RDB_OPCODE_SLOT_IMPORT`). The files are assembled here record by record following the save
//! paths of Redis `rdb.c` (`rdbSaveObject` for hashes with TTLs), Valkey `rdb.c` (`RDB_TYPE_HASH_2`) and Valkey
//! `cluster_migrateslots.c` (`clusterRDBSaveSlotImports`), with the real CRC-64.

use crc::{CRC_64_REDIS, Crc};
use rdb_check::{RdbError, check};

/// An RDB file under construction.
struct Rdb(Vec<u8>);

impl Rdb {
    fn new(header: &str) -> Self {
        let mut r = Self(header.as_bytes().to_vec());
        r.aux("redis-ver", "7.4.0");
        r
    }
    fn byte(&mut self, b: u8) -> &mut Self {
        self.0.push(b);
        self
    }
    /// rdb.c `rdbSaveLen`.
    fn len(&mut self, n: u64) -> &mut Self {
        if n < 1 << 6 {
            self.0.push(n as u8);
        } else if n < 1 << 14 {
            self.0.extend([0x40 | (n >> 8) as u8, n as u8]);
        } else if n <= u64::from(u32::MAX) {
            self.0.push(0x80);
            self.0.extend((n as u32).to_be_bytes());
        } else {
            self.0.push(0x81);
            self.0.extend(n.to_be_bytes());
        }
        self
    }
    fn string(&mut self, s: &[u8]) -> &mut Self {
        self.len(s.len() as u64);
        self.0.extend(s);
        self
    }
    fn u64_le(&mut self, v: u64) -> &mut Self {
        self.0.extend(v.to_le_bytes());
        self
    }
    fn aux(&mut self, k: &str, v: &str) -> &mut Self {
        self.byte(0xFA).string(k.as_bytes()).string(v.as_bytes())
    }
    fn key(&mut self, t: u8, name: &str) -> &mut Self {
        self.byte(t).string(name.as_bytes())
    }
    /// EOF and the CRC-64 of everything before it.
    fn finish(&mut self) -> Vec<u8> {
        self.0.push(0xFF);
        let crc = Crc::<u64>::new(&CRC_64_REDIS).checksum(&self.0);
        let mut out = self.0.clone();
        out.extend(crc.to_le_bytes());
        out
    }
}

/// A listpack (`listpack.c`) of short strings (6-bit length) and 64-bit integers (`0xF4`).
enum Lp<'a> {
    Str(&'a str),
    Int(i64),
}

fn listpack(items: &[Lp]) -> Vec<u8> {
    let mut body = Vec::new();
    for item in items {
        let entry: Vec<u8> = match item {
            Lp::Str(s) => [&[0x80 | s.len() as u8][..], s.as_bytes()].concat(),
            Lp::Int(v) => [&[0xF4][..], &v.to_le_bytes()[..]].concat(),
        };
        body.extend(&entry);
        body.push(entry.len() as u8); // backlen, one byte for entries under 128 bytes
    }
    let total = 6 + body.len() + 1;
    let mut lp = Vec::new();
    lp.extend((total as u32).to_le_bytes());
    lp.extend((items.len() as u16).to_le_bytes());
    lp.extend(body);
    lp.push(0xFF);
    lp
}

/// Now + one hour, milliseconds (a plausible field expiry).
const EXPIRE_AT: u64 = 1_795_000_000_000;

fn redis_74_file() -> Vec<u8> {
    let mut r = Rdb::new("REDIS0012");
    r.byte(0xFE).len(0).byte(0xFB).len(4).len(0);
    // 24 RDB_TYPE_HASH_METADATA: minExpire, count, then (TTL relative to minExpire + 1 | 0, field, value).
    r.key(24, "h:meta").u64_le(EXPIRE_AT).len(2);
    r.len(1).string(b"f1").string(b"v1");
    r.len(0).string(b"f2").string(b"v2");
    // 25 RDB_TYPE_HASH_LISTPACK_EX: minExpire, listpack of (field, value, TTL) triples.
    let lp = listpack(&[
        Lp::Str("a"),
        Lp::Str("1"),
        Lp::Int(EXPIRE_AT as i64),
        Lp::Str("b"),
        Lp::Str("2"),
        Lp::Int(0),
    ]);
    r.key(25, "h:lpex").u64_le(EXPIRE_AT).string(&lp);
    // 22 / 23: the 7.4 release-candidate forms (absolute TTLs, no minExpire).
    r.key(22, "h:meta-rc")
        .len(1)
        .len(EXPIRE_AT)
        .string(b"f")
        .string(b"v");
    r.key(23, "h:lpex-rc").string(&lp);
    r.finish()
}

fn valkey_90_file() -> Vec<u8> {
    let mut r = Rdb::new("VALKEY080");
    r.aux("valkey-ver", "9.0.0");
    // clusterRDBSaveSlotImports: job name (40 bytes), range count, (start, end) per range.
    r.byte(0xF3)
        .string(&[b'a'; 40])
        .len(2)
        .len(0)
        .len(99)
        .len(16000)
        .len(16383);
    r.byte(0xFE).len(0).byte(0xFB).len(2).len(1);
    // Valkey RDB_TYPE_HASH_2: count, then (field, value, expiry ms as 8 bytes; -1 = none).
    r.key(22, "h:v2").len(2);
    r.string(b"f1").string(b"v1").u64_le(EXPIRE_AT);
    r.string(b"f2").string(b"v2").u64_le(u64::MAX); // -1
    r.byte(0xFC).u64_le(EXPIRE_AT).key(0, "s").string(b"plain");
    r.finish()
}

#[test]
fn redis_7_4_hash_field_expiry_types_are_checked_and_counted() {
    let report = check(&redis_74_file()[..]).unwrap();
    assert_eq!(report.version, 12);
    assert_eq!(report.keys, 4);
    assert_eq!(report.types.get("hash"), Some(&4));
    for enc in [
        "hash-metadata",
        "hash-listpack-ex",
        "hash-metadata-pre-ga",
        "hash-listpack-ex-pre-ga",
    ] {
        assert_eq!(report.encodings.get(enc), Some(&1), "{enc}");
    }
    assert!(report.checksum.is_some());
}

#[test]
fn valkey_9_files_with_slot_imports_and_field_expiry_are_checked_and_counted() {
    let report = check(&valkey_90_file()[..]).unwrap();
    assert_eq!((report.magic.as_str(), report.version), ("VALKEY", 80));
    assert_eq!(report.keys, 2);
    assert_eq!(report.keys_with_expiry, 1);
    assert_eq!(report.encodings.get("hash-2"), Some(&1));
    assert_eq!(report.types.get("string"), Some(&1));
    assert_eq!(
        report.aux.get("valkey-ver").map(String::as_str),
        Some("9.0.0")
    );
}

#[test]
fn broken_field_expiry_records_are_corrupt() {
    // A listpack of 4 elements cannot be (field, value, TTL) triples.
    let mut r = Rdb::new("REDIS0012");
    let lp = listpack(&[Lp::Str("a"), Lp::Str("1"), Lp::Int(5), Lp::Str("b")]);
    r.byte(0xFE)
        .len(0)
        .key(25, "h")
        .u64_le(EXPIRE_AT)
        .string(&lp);
    let err = check(&r.finish()[..]).unwrap_err();
    assert!(
        matches!(&err, RdbError::Corrupt { what, .. } if what.contains("not a multiple of 3")),
        "{err}"
    );

    // A field TTL beyond EB_EXPIRE_TIME_MAX.
    let mut r = Rdb::new("REDIS0012");
    r.byte(0xFE).len(0).key(22, "h").len(1).len(1 << 48);
    r.string(b"f").string(b"v");
    let err = check(&r.finish()[..]).unwrap_err();
    assert!(
        matches!(&err, RdbError::Corrupt { what, .. } if what.contains("beyond the maximum")),
        "{err}"
    );

    // Valkey: an expiry below -1.
    let mut r = Rdb::new("VALKEY080");
    r.byte(0xFE).len(0).key(22, "h").len(1);
    r.string(b"f").string(b"v").u64_le((-2i64) as u64);
    let err = check(&r.finish()[..]).unwrap_err();
    assert!(
        matches!(&err, RdbError::Corrupt { what, .. } if what.contains("-2")),
        "{err}"
    );
}

#[test]
fn type_and_opcode_numbers_mean_what_the_magic_says() {
    // Types 23–25 are Redis-only; opcode 243 is Valkey-only.
    let mut r = Rdb::new("VALKEY080");
    r.byte(0xFE).len(0).key(24, "h").u64_le(0).len(0);
    assert!(matches!(
        check(&r.finish()[..]),
        Err(RdbError::UnknownType { byte: 24, .. })
    ));
    let mut r = Rdb::new("REDIS0012");
    r.byte(0xF3).string(b"job").len(0);
    assert!(matches!(
        check(&r.finish()[..]),
        Err(RdbError::UnknownType { byte: 0xF3, .. })
    ));
    for header in ["VALKEY081", "REDIS0013"] {
        let mut r = Rdb::new(header);
        assert!(
            matches!(
                check(&r.finish()[..]),
                Err(RdbError::UnsupportedVersion { .. })
            ),
            "{header}"
        );
    }
}

#[test]
fn every_truncation_and_flipped_byte_of_the_newer_formats_is_caught() {
    for file in [redis_74_file(), valkey_90_file()] {
        for cut in 0..file.len() {
            assert!(check(&file[..cut]).is_err(), "cut at {cut} passed");
        }
        for i in 9..file.len() {
            for mask in [0x01u8, 0x80, 0xFF] {
                let mut b = file.clone();
                b[i] ^= mask;
                assert!(check(&b[..]).is_err(), "byte {i} ^ {mask:#x} passed");
            }
        }
    }
}

/// The compact-key path (small listpacks and intsets whole in the buffer, every key after the sampled ones) and the
/// general path (the sampled keys) count the same keys and refuse the same broken ones: a set listpack (type 20,
/// Redis 7.2+, which the Debian server does not write), a list of one listpack node, an intset, and hashes and sorted
/// sets whose listpacks hold an odd number of entries.
#[test]
fn small_collections_read_the_same_by_the_compact_key_and_the_general_path() {
    use rdb_check::{Limits, check_with};
    let paths = [0, usize::MAX].map(|sample_keys| Limits {
        sample_keys,
        ..Limits::default()
    });
    let mut intset = Vec::new();
    intset.extend(2u32.to_le_bytes());
    intset.extend(3u32.to_le_bytes());
    for v in [-5i16, 7, 300] {
        intset.extend(v.to_le_bytes());
    }
    let mut r = Rdb::new("REDIS0011");
    r.byte(0xFE).len(0);
    r.key(20, "set")
        .string(&listpack(&[Lp::Str("a"), Lp::Int(9), Lp::Str("b")]));
    r.key(18, "list").len(1).len(2);
    r.string(&listpack(&[Lp::Str("x"), Lp::Str("y")]));
    r.key(11, "ints").string(&intset);
    r.key(16, "hash")
        .string(&listpack(&[Lp::Str("f"), Lp::Str("v")]));
    r.key(17, "zset")
        .string(&listpack(&[Lp::Str("m"), Lp::Int(2)]));
    let file = r.finish();
    for limits in paths {
        let report = check_with(&file[..], limits).unwrap();
        assert_eq!(report.keys, 5);
        let encodings: Vec<_> = report.encodings.keys().map(String::as_str).collect();
        assert_eq!(
            encodings,
            [
                "hash-listpack",
                "list-quicklist-2",
                "set-intset",
                "set-listpack",
                "zset-listpack"
            ]
        );
    }
    for (t, what) in [(16, "hash listpack"), (17, "zset listpack")] {
        let mut r = Rdb::new("REDIS0011");
        r.byte(0xFE).len(0);
        r.key(t, "odd")
            .string(&listpack(&[Lp::Str("a"), Lp::Str("b"), Lp::Str("c")]));
        let file = r.finish();
        for limits in paths {
            let e = check_with(&file[..], limits).unwrap_err().to_string();
            assert!(
                e.contains(&format!("{what}: 3 elements, not a multiple of 2")),
                "{e}"
            );
        }
    }
}
