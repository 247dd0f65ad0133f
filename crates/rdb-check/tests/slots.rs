//! Hash slots computed from the keys (Redis Cluster specification, "Keys distribution model"): the fast and streaming
//! computations against a plain transcription of Redis' `keyHashSlot`, which is itself pinned to what real servers
//! answered (`cluster-keys.txt`); the slots of every fixture; the files' own slot records (Redis' `SLOT_INFO`
//! opcode, Valkey's `slot-info` AUX field); and [`SlotSet`]'s text form.

use std::io::Read;
use std::path::{Path, PathBuf};

use crc::{CRC_16_XMODEM, CRC_64_REDIS, Crc};
use proptest::prelude::*;
use rdb_check::{Limits, RdbError, Report, SlotHasher, SlotSet, check, check_with, key_slot};

/// Redis `cluster.c` `keyHashSlot`, line by line, with the `crc` crate's plain (byte-table) CRC16/XMODEM.
fn reference_slot(key: &[u8]) -> u16 {
    let crc = Crc::<u16>::new(&CRC_16_XMODEM);
    let keylen = key.len();
    let mut s = 0;
    while s < keylen && key[s] != b'{' {
        s += 1;
    }
    if s == keylen {
        return crc.checksum(key) & 0x3FFF;
    }
    let mut e = s + 1;
    while e < keylen && key[e] != b'}' {
        e += 1;
    }
    if e == keylen || e == s + 1 {
        return crc.checksum(key) & 0x3FFF;
    }
    crc.checksum(&key[s + 1..e]) & 0x3FFF
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Hands out at most `step` bytes per read, so that keys straddle reads and take the streaming paths.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.step.min(out.len()).min(self.data.len());
        out[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// The report of `file` read every way: whole, trickled, sampling every key (the sample path) or none (the compact
/// and fast paths); all must agree, and the report is returned.
fn check_every_way(file: &[u8]) -> Report {
    let mut reports = Vec::new();
    for sample_keys in [0, usize::MAX] {
        let limits = Limits {
            sample_keys,
            ..Limits::default()
        };
        for step in [1, 7, 4096, usize::MAX] {
            let report = check_with(Trickle { data: file, step }, limits)
                .unwrap_or_else(|e| panic!("read {step} bytes at a time: {e}"));
            reports.push((report.slots.clone(), report.slot_info.clone(), report.keys));
        }
    }
    let report = check(file).unwrap();
    for r in reports {
        assert_eq!(
            r,
            (report.slots.clone(), report.slot_info.clone(), report.keys)
        );
    }
    report
}

#[test]
fn the_specification_examples_hold() {
    assert_eq!(
        Crc::<u16>::new(&CRC_16_XMODEM).checksum(b"123456789"),
        0x31C3
    );
    for (key, hashed) in [
        (&b"123456789"[..], &b"123456789"[..]),
        (b"{user1000}.following", b"user1000"),
        (b"{user1000}.followers", b"user1000"),
        (b"foo{}{bar}", b"foo{}{bar}"),
        (b"foo{{bar}}zap", b"{bar"),
        (b"foo{bar}{zap}", b"bar"),
    ] {
        let whole = Crc::<u16>::new(&CRC_16_XMODEM).checksum(hashed) & 0x3FFF;
        assert_eq!(reference_slot(key), whole, "{key:?}");
        assert_eq!(key_slot(key), whole, "{key:?}");
    }
}

/// Every layout of one `{` and one `}` in keys of up to 40 bytes (the fast path's lengths and both sides of them), and
/// keys with a `{` alone, give the reference's slot.
#[test]
fn every_brace_layout_of_short_keys_gives_the_reference_slot() {
    for len in 0..=40usize {
        let base: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
        assert_eq!(key_slot(&base), reference_slot(&base), "{len}");
        for open in 0..len {
            let mut key = base.clone();
            key[open] = b'{';
            assert_eq!(key_slot(&key), reference_slot(&key), "{key:?}");
            for close in open + 1..len {
                let mut key = key.clone();
                key[close] = b'}';
                assert_eq!(key_slot(&key), reference_slot(&key), "{key:?}");
            }
        }
    }
}

/// `cluster-keys.txt`: (slot the server answered, key).
fn server_answers() -> Vec<(u16, Vec<u8>)> {
    let text = std::fs::read_to_string(fixtures().join("cluster-keys.txt")).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let (slot, hex) = l.split_once(' ').unwrap();
            let key = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect();
            (slot.parse().unwrap(), key)
        })
        .collect()
}

#[test]
fn the_reference_and_the_fast_slot_give_what_redis_server_answered() {
    let answers = server_answers();
    assert!(answers.len() > 100);
    for (slot, key) in &answers {
        assert_eq!(reference_slot(key), *slot, "reference, key {key:?}");
        assert_eq!(key_slot(key), *slot, "key_slot, key {key:?}");
        let mut streamed = SlotHasher::new();
        for byte in key.chunks(1) {
            streamed.update(byte);
        }
        assert_eq!(streamed.slot(), *slot, "streamed, key {key:?}");
    }
}

/// Every key of the cluster fixtures (plain, integer-encoded and LZF-compressed; short and 5,000 bytes long; with
/// and without tags) gives the slot the server named, read whole or a byte at a time, by the sample path or not;
/// and the slots the Redis 8.2 file's `SLOT_INFO` opcodes and the Valkey 9.0 file's `slot-info` AUX fields name
/// are exactly those.
#[test]
fn every_cluster_fixture_reports_the_slots_its_server_gave_its_keys() {
    let answers = server_answers();
    let expected: SlotSet = answers.iter().map(|(slot, _)| *slot).collect();
    for (file, has_slot_info) in [
        ("cluster-redis-7.0.rdb", false),
        ("cluster-redis-8.2.rdb", true),
        ("cluster-valkey-9.0.rdb", true),
    ] {
        let bytes = std::fs::read(fixtures().join(file)).unwrap();
        let report = check_every_way(&bytes);
        assert_eq!(report.keys, answers.len() as u64, "{file}");
        assert_eq!(report.slots, expected, "{file}");
        assert_eq!(
            report.slot_info,
            has_slot_info.then(|| expected.clone()),
            "{file}"
        );
        assert!(!report.aux.contains_key("slot-info"), "{file}");
        assert_eq!(report.keys_outside_db0(), 0, "{file}");
    }
}

#[test]
fn the_redis_6_2_fixture_reports_its_slots_and_its_keys_outside_database_0() {
    let bytes = std::fs::read(fixtures().join("standalone-redis-6.2.rdb")).unwrap();
    let report = check_every_way(&bytes);
    let keys: [&[u8]; 8] = [
        b"a",
        b"{t}1",
        b"12345",
        b"h0",
        b"b",
        b"{t}2",
        &[b'x'; 100],
        b"h3",
    ];
    let expected: SlotSet = keys.iter().map(|k| reference_slot(k)).collect();
    assert_eq!(report.slots, expected);
    assert_eq!(report.slot_info, None);
    assert_eq!(report.keys_outside_db0(), 4);
    assert_eq!((report.magic.as_str(), report.version), ("REDIS", 9));
}

/// Every older fixture (from Valkey's test suite) reports the slots of its keys, the same whichever way it is read.
#[test]
fn the_older_fixtures_report_slots_whichever_way_they_are_read() {
    for file in [
        "encodings.rdb",
        "hash-zipmap.rdb",
        "list-quicklist.rdb",
        "hash-ziplist.rdb",
        "zset-ziplist.rdb",
    ] {
        let bytes = std::fs::read(fixtures().join(file)).unwrap();
        let report = check_every_way(&bytes);
        assert!(
            !report.slots.is_empty() && report.slots.len() as u64 <= report.keys,
            "{file}"
        );
        let sampled: SlotSet = report
            .sample
            .iter()
            .map(|k| reference_slot(k.key.as_bytes()))
            .collect();
        assert!(sampled.is_subset(&report.slots), "{file}");
    }
}

proptest! {
    /// Arbitrary keys, most of them full of braces, give the reference's slot, however the streamed key is cut.
    #[test]
    fn the_streamed_and_fast_slots_equal_the_reference_however_the_key_is_cut(
        key in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..300),
            proptest::collection::vec(prop_oneof![Just(b'{'), Just(b'}'), Just(b'a'), any::<u8>()], 0..80),
        ],
        cuts in proptest::collection::vec(any::<usize>(), 0..6),
    ) {
        let want = reference_slot(&key);
        prop_assert_eq!(key_slot(&key), want);
        let mut at: Vec<usize> = cuts.iter().map(|c| c % (key.len() + 1)).collect();
        at.sort_unstable();
        let mut hasher = SlotHasher::new();
        let mut from = 0;
        for cut in at.into_iter().chain([key.len()]) {
            hasher.update(&key[from..cut]);
            hasher.update(&[]);
            from = cut;
        }
        prop_assert_eq!(hasher.slot(), want);
    }

    /// The text form round-trips for any set, and parsing any text returns a set or an error, never a panic.
    #[test]
    fn slot_sets_round_trip_through_their_text(
        slots in proptest::collection::vec(0u16..16384, 0..200),
        text in ".{0,60}",
    ) {
        let set: SlotSet = slots.iter().copied().collect();
        let shown = set.to_string();
        prop_assert_eq!(shown.parse::<SlotSet>().unwrap(), set.clone());
        prop_assert_eq!(set.len(), set.ranges().iter().map(|(a, b)| usize::from(b - a) + 1).sum::<usize>());
        for slot in slots {
            prop_assert!(set.contains(slot));
        }
        if let Err(e) = text.parse::<SlotSet>() {
            prop_assert!(e.to_string().starts_with("invalid slot ranges"));
        }
    }
}

/// An RDB file under construction (rdb.c's save functions, with the real CRC-64).
struct Rdb(Vec<u8>);

impl Rdb {
    fn new(header: &str) -> Self {
        Self(header.as_bytes().to_vec())
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
    fn byte(&mut self, b: u8) -> &mut Self {
        self.0.push(b);
        self
    }
    fn string(&mut self, s: &[u8]) -> &mut Self {
        self.len(s.len() as u64);
        self.0.extend(s);
        self
    }
    fn aux(&mut self, k: &str, v: &str) -> &mut Self {
        self.byte(0xFA).string(k.as_bytes()).string(v.as_bytes())
    }
    /// A string key `k` (its bytes as given: a plain string, or a pre-encoded one) with a short value.
    fn string_key(&mut self, encoded_key: &[u8]) -> &mut Self {
        self.byte(0);
        self.0.extend(encoded_key);
        self.string(b"v")
    }
    fn finish(&mut self) -> Vec<u8> {
        self.0.push(0xFF);
        let crc = Crc::<u64>::new(&CRC_64_REDIS).checksum(&self.0);
        let mut out = self.0.clone();
        out.extend(crc.to_le_bytes());
        out
    }
}

/// One LZF instruction: a literal run, or a back reference (distance from the output's end, length).
#[derive(Debug, Clone)]
enum Lzf {
    Literal(Vec<u8>),
    Back(usize, usize),
}

/// LZF-encodes `ops` (liblzf `lzf_d.c` format), skipping back references that reach before the start; returns the
/// compressed bytes and what they decompress to.
fn lzf(ops: &[Lzf]) -> (Vec<u8>, Vec<u8>) {
    let (mut out, mut plain) = (Vec::new(), Vec::<u8>::new());
    for op in ops {
        match op {
            Lzf::Literal(bytes) => {
                for run in bytes.chunks(32) {
                    out.push(run.len() as u8 - 1);
                    out.extend(run);
                    plain.extend(run);
                }
            }
            &Lzf::Back(distance, len) => {
                let distance = distance.clamp(1, 8192);
                let len = len.clamp(3, 264);
                if distance > plain.len() {
                    continue;
                }
                let off = distance - 1;
                if len - 2 < 7 {
                    out.push((((len - 2) << 5) | (off >> 8)) as u8);
                } else {
                    out.push(((7 << 5) | (off >> 8)) as u8);
                    out.push((len - 9) as u8);
                }
                out.push(off as u8);
                let start = plain.len() - distance;
                for i in 0..len {
                    plain.push(plain[start + i]);
                }
            }
        }
    }
    (out, plain)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Keys in every encoding a file may hold them in — plain, integer-encoded (its decimal text), LZF-compressed
    /// (decompressed through the 8 KiB window, back references up to 8,192 bytes behind) — give the reference's slot
    /// of their bytes, whichever path reads them.
    #[test]
    fn keys_in_every_encoding_give_the_slot_of_their_bytes(
        plain in proptest::collection::vec(prop_oneof![Just(b'{'), Just(b'}'), any::<u8>()], 0..3000),
        int in any::<i32>(),
        ops in proptest::collection::vec(prop_oneof![
            proptest::collection::vec(prop_oneof![Just(b'{'), Just(b'}'), Just(b'x'), any::<u8>()], 1..100)
                .prop_map(Lzf::Literal),
            (1usize..9000, 3usize..300).prop_map(|(d, l)| Lzf::Back(d, l)),
        ], 1..120),
    ) {
        let ops: Vec<Lzf> = std::iter::once(Lzf::Literal(b"k".to_vec())).chain(ops).collect();
        let (compressed, lzf_key) = lzf(&ops);
        let mut r = Rdb::new("REDIS0011");
        r.byte(0xFE).len(0);
        let mut encoded_plain = Vec::new();
        {
            let mut k = Rdb(Vec::new());
            k.string(&plain);
            encoded_plain.extend(k.0);
        }
        r.string_key(&encoded_plain);
        // RDB_ENC_INT32, and RDB_ENC_INT8 of its low byte.
        let mut int_key = vec![0xC2];
        int_key.extend(int.to_le_bytes());
        r.string_key(&int_key);
        r.string_key(&[0xC0, int as u8]);
        // RDB_ENC_LZF: compressed length, plain length, the data.
        let mut lzf_encoded = vec![0xC3];
        {
            let mut k = Rdb(Vec::new());
            k.len(compressed.len() as u64).len(lzf_key.len() as u64);
            lzf_encoded.extend(k.0);
        }
        lzf_encoded.extend(&compressed);
        r.string_key(&lzf_encoded);
        let file = r.finish();
        let expected: SlotSet = [
            reference_slot(&plain),
            reference_slot(int.to_string().as_bytes()),
            reference_slot((int as u8 as i8).to_string().as_bytes()),
            reference_slot(&lzf_key),
        ]
        .into_iter()
        .collect();
        let report = check_every_way(&file);
        prop_assert_eq!(report.keys, 4);
        prop_assert_eq!(report.slots, expected);
    }
}

/// A file written the way Valkey 8 writes a cluster node's data: RDB 11, and before the keys of each slot an AUX
/// field `slot-info` = "slot,keys,expires".
fn valkey_8_file(slot_info: &str, key: &[u8]) -> Vec<u8> {
    let mut r = Rdb::new("REDIS0011");
    r.aux("valkey-ver", "8.1.1");
    r.byte(0xFE).len(0).byte(0xFB).len(1).len(0);
    r.aux("slot-info", slot_info);
    let mut k = Rdb(Vec::new());
    k.string(key);
    r.string_key(&k.0);
    r.finish()
}

#[test]
fn valkey_slot_info_fields_are_recorded_and_kept_out_of_the_aux_map() {
    let slot = key_slot(b"user:1");
    for value in [format!("{slot},1,0"), format!("{slot},1,0,0")] {
        let report = check(&valkey_8_file(&value, b"user:1")[..]).unwrap();
        assert_eq!(
            report.slot_info,
            Some(SlotSet::from_iter([slot])),
            "{value}"
        );
        assert_eq!(report.slots, SlotSet::from_iter([slot]));
        assert!(!report.aux.contains_key("slot-info"));
        assert_eq!(
            report.aux.get("valkey-ver").map(String::as_str),
            Some("8.1.1")
        );
    }
    // The JSON report carries both sets as range text.
    let report = check(&valkey_8_file(&format!("{slot},1,0"), b"user:1")[..]).unwrap();
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["slots"], format!("{slot}-{slot}"));
    assert_eq!(json["slot_info"], format!("{slot}-{slot}"));
    // No slot record: None, not an empty set.
    let mut r = Rdb::new("REDIS0011");
    r.byte(0xFE).len(0).string_key(&[1, b'k']);
    assert_eq!(check(&r.finish()[..]).unwrap().slot_info, None);
}

#[test]
fn unreadable_or_impossible_slot_records_are_corrupt() {
    for value in [
        "16384,1,0",
        "99999999999999999999999,1,0",
        "5,1",
        "5",
        "",
        "x,1,0",
        "5,,0",
        "-1,1,0",
        " 5,1,0",
        "5,1,zero",
    ] {
        let err = check(&valkey_8_file(value, b"k")[..]).unwrap_err();
        assert!(
            matches!(&err, RdbError::Corrupt { what, .. } if what.contains("slot")),
            "{value:?}: {err}"
        );
        assert!(!err.is_unsupported_format());
    }
    // Redis 7.4+ RDB_OPCODE_SLOT_INFO: slot, keys, keys with expiry.
    let slot_info_opcode = |slot: u64| {
        let mut r = Rdb::new("REDIS0012");
        r.byte(0xFE).len(0).byte(0xF4).len(slot).len(1).len(0);
        r.string_key(&[1, b'k']);
        r.finish()
    };
    let report = check(&slot_info_opcode(16383)[..]).unwrap();
    assert_eq!(report.slot_info.unwrap().to_string(), "16383-16383");
    let err = check(&slot_info_opcode(16384)[..]).unwrap_err();
    assert!(
        matches!(&err, RdbError::Corrupt { offset: 12, what } if what.contains("SLOT_INFO names slot 16384")),
        "{err}"
    );
}

#[test]
fn unknown_formats_name_the_version_and_the_upgrade() {
    for header in ["REDIS0013", "VALKEY081", "VALKEY079", "REDIS0000"] {
        let mut r = Rdb::new(header);
        let err = check(&r.finish()[..]).unwrap_err();
        assert!(err.is_unsupported_format(), "{header}");
        let text = err.to_string();
        assert!(
            text.contains(header)
                && text.contains("upgrade elasticache-backup")
                && text.contains("REDIS0012"),
            "{text}"
        );
    }
    // An unknown type byte in a known version: a newer engine or corruption, both said.
    let mut r = Rdb::new("VALKEY080");
    r.byte(0xFE).len(0).byte(30);
    let err = check(&r.finish()[..]).unwrap_err();
    assert!(err.is_unsupported_format());
    let text = err.to_string();
    for part in ["30", "VALKEY080", "upgrade elasticache-backup", "corrupt"] {
        assert!(text.contains(part), "{part}: {text}");
    }
    // Anything else is not a format question.
    let mut r = Rdb::new("REDIS0011");
    let mut file = r.finish();
    let last = file.len() - 1;
    file[last] ^= 1;
    for err in [
        check(&file[..]).unwrap_err(),
        check(&b"HELLOWORLD"[..]).unwrap_err(),
        check(&b"REDIS0011"[..]).unwrap_err(),
    ] {
        assert!(!err.is_unsupported_format(), "{err}");
    }
}
