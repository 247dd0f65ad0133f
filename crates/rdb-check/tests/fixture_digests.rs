//! The CRC-64 and SHA-256 on the CPU the functions run on. Lambda runs them on arm64 (Graviton), where `crc-fast`
//! folds with PMULL (and EOR3 where the CPU has SHA3: Graviton 3 and 4, not 2) and `sha2` uses the ARMv8 SHA-2
//! instructions, not the x86-64 code our machines run; `make test-arm64` runs these tests, with the rest of
//! rdb-check's, for aarch64 under qemu-user, once per CRC path.
//!
//! Every expected value here was computed apart from the crates under test: each fixture's SHA-256 by `sha256sum`,
//! its CRC-64 by Redis itself (the checksum stored in the file) and by the bit-at-a-time CRC-64/REDIS below (which
//! also gave the CRCs of the files too old to store one), the many-lengths SHA-256 by Python's `hashlib`; the SIMD
//! CRC-64 is compared with the `crc` crate's table-driven CRC-64/REDIS at every length and alignment that takes a
//! different branch.

use std::path::Path;

use crc_fast::{CrcAlgorithm, Digest as CrcDigest};
use sha2::{Digest, Sha256};

/// Fixture → its SHA-256 (`sha256sum`), the CRC-64/REDIS of its bytes up to and including the EOF opcode (what the
/// file's trailing checksum covers, or the whole file before RDB 5), and whether the file stores that CRC.
const FIXTURES: [(&str, &str, u64, bool); 6] = [
    (
        "encodings.rdb",
        "4fcb086fa9cc3dfc85c461b478c77aca3470ab005e0ea505600531e5b6b05682",
        0x20cc_2389_6516_b0b8,
        false,
    ),
    (
        "hash-zipmap.rdb",
        "8a33909df85fdba0899d502daa003baab413a70020ed6e242469e79080e06a99",
        0xd56d_67b9_7409_d94c,
        false,
    ),
    (
        "list-quicklist.rdb",
        "3d073479e9c20b5fce8a487b38970383d2ef395f94dce2576f27ce4e842afbcf",
        0x40d7_c41a_54f8_7235,
        true,
    ),
    (
        "hash-ziplist.rdb",
        "28a3f83255191ec8d97cf66ec2d5510195a1d8a3213de45e04404a638435d780",
        0x8398_6916_fdd1_9c4f,
        true,
    ),
    (
        "zset-ziplist.rdb",
        "638f7fbeb5f9819773c37e3020cacd2e03a67a41b83d5b78780e25682546bbb7",
        0x199e_7f99_f0fd_b21f,
        true,
    ),
    // Written with the checksum disabled (0): the CRC is of everything before those 8 bytes.
    (
        "corrupt_ziplist.rdb",
        "b128677c1fafb45663f89d7107a2d9c1899b12bb77875f8c62cf6afb6894bee3",
        0xda54_d9b9_0765_11c2,
        false,
    ),
];

/// The reference CRC-64/REDIS, table-driven: the same code on every CPU.
static CRC64: crc::Crc<u64, crc::Table<16>> =
    crc::Crc::<u64, crc::Table<16>>::new(&crc::CRC_64_REDIS);

/// CRC-64/REDIS one bit at a time (Jones polynomial, reflected, init 0, no final xor), as `crc64.c` defines it.
fn crc64_bitwise(data: &[u8]) -> u64 {
    const POLY_REFLECTED: u64 = 0x95ac_9329_ac4b_c9b5;
    let mut crc = 0u64;
    for &b in data {
        crc ^= u64::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ POLY_REFLECTED
            } else {
                crc >> 1
            };
        }
    }
    crc
}

fn simd_crc64(data: &[u8]) -> u64 {
    crc_fast::checksum(CrcAlgorithm::Crc64Redis, data)
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Bytes that repeat with no short period: every offset of a buffer differs from its neighbours.
fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| ((i * 31) ^ (i >> 7)) as u8).collect()
}

#[test]
fn the_accelerated_paths_are_the_ones_under_test() {
    let target = crc_fast::get_calculator_target(CrcAlgorithm::Crc64Redis);
    eprintln!("crc-fast CRC-64 path: {target}");
    // `make test-arm64` names the path each qemu CPU must take.
    if let Ok(want) = std::env::var("RDB_CHECK_CRC_PATH") {
        assert_eq!(target, want);
    }
    #[cfg(target_arch = "aarch64")]
    {
        assert!(target.starts_with("aarch64-neon-pmull"), "{target}");
        // sha2 takes the ARMv8 SHA-2 instructions whenever the CPU reports them, as every Graviton does.
        assert!(std::arch::is_aarch64_feature_detected!("sha2"));
    }
}

#[test]
fn every_fixture_has_the_sha256_and_crc64_computed_elsewhere() {
    for (name, sha256, crc, stored) in FIXTURES {
        let bytes = fixture(name);
        assert_eq!(sha256_hex(&bytes), sha256, "{name}: SHA-256");
        let version: u32 = std::str::from_utf8(&bytes[5..9]).unwrap().parse().unwrap();
        let covered = if version >= 5 {
            &bytes[..bytes.len() - 8]
        } else {
            &bytes[..]
        };
        assert_eq!(crc64_bitwise(covered), crc, "{name}: bitwise CRC-64");
        assert_eq!(CRC64.checksum(covered), crc, "{name}: reference CRC-64");
        assert_eq!(simd_crc64(covered), crc, "{name}: SIMD CRC-64");
        if stored {
            let trailer = u64::from_le_bytes(bytes[bytes.len() - 8..].try_into().unwrap());
            assert_eq!(trailer, crc, "{name}: the CRC Redis stored");
            // A reflected CRC with init 0 and no final xor leaves 0 over its own little-endian value.
            assert_eq!(
                simd_crc64(&bytes),
                0,
                "{name}: CRC-64 over data and checksum"
            );
        }
    }
}

#[test]
fn check_and_hash_reports_each_fixture_with_its_known_digests() {
    for (name, sha256, crc, stored) in FIXTURES {
        let bytes = fixture(name);
        match rdb_check::check_and_hash(&bytes[..]) {
            Ok((report, sha)) => {
                assert_eq!(sha, sha256, "{name}");
                assert_eq!(
                    report.checksum,
                    stored.then(|| format!("{crc:016x}")),
                    "{name}"
                );
            }
            Err(e) => assert_eq!(name, "corrupt_ziplist.rdb", "{name}: {e}"),
        }
    }
}

#[test]
fn a_checksum_one_bit_off_is_refused_in_every_fixture_that_stores_one() {
    for (name, _, crc, _) in FIXTURES.iter().filter(|f| f.3) {
        let mut bytes = fixture(name);
        let n = bytes.len();
        bytes[n - 8] ^= 1;
        match rdb_check::check(&bytes[..]) {
            Err(rdb_check::RdbError::ChecksumMismatch { expected, actual }) => {
                assert_eq!((expected, actual), (crc ^ 1, *crc), "{name}");
            }
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn the_simd_crc64_matches_the_reference_at_every_length_and_alignment() {
    let data = pattern(300_000);
    // Every length through crc-fast's branches (0–15, 16, 17–31, 32–255 bytes, then 128-byte blocks with an unaligned
    // head and tail) and several blocks past them, at every offset within a 16-byte vector.
    for offset in 0..16 {
        for len in 0..=1100 {
            let slice = &data[offset..offset + len];
            assert_eq!(
                simd_crc64(slice),
                CRC64.checksum(slice),
                "offset {offset}, {len} bytes"
            );
        }
    }
    // Long inputs around page and the checker's buffer sizes.
    for len in [
        4095,
        4096,
        4097,
        65_535,
        65_536 + 17,
        262_144,
        262_144 + 3,
        299_984,
    ] {
        for offset in [0, 1, 8, 15] {
            let slice = &data[offset..offset + len];
            assert_eq!(
                simd_crc64(slice),
                CRC64.checksum(slice),
                "offset {offset}, {len} bytes"
            );
        }
    }
}

#[test]
fn the_streaming_crc64_gives_the_one_shot_value_however_the_input_is_split() {
    let data = pattern(200_000);
    let want = CRC64.checksum(&data);
    // Piece sizes that leave every remainder mod 16 and 128, and some larger than the folding blocks.
    for step in [1, 7, 15, 16, 17, 63, 127, 128, 129, 255, 4093, 65_537] {
        let mut digest = CrcDigest::new(CrcAlgorithm::Crc64Redis);
        let mut rest = &data[..];
        let mut i = 0;
        while !rest.is_empty() {
            // Alternate between the step and a short piece, so pieces start at every alignment.
            let take = (if i % 2 == 0 { step } else { 1 + i % 5 }).min(rest.len());
            digest.update(&rest[..take]);
            rest = &rest[take..];
            i += 1;
        }
        assert_eq!(digest.finalize(), want, "pieces of {step}");
    }
}

#[test]
fn sha256_gives_the_published_test_vectors() {
    // FIPS 180-2 appendix B.
    for (input, want) in [
        (
            &b""[..],
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ),
        (
            b"abc",
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        ),
        (
            b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
        ),
    ] {
        assert_eq!(sha256_hex(input), want);
    }
    assert_eq!(
        sha256_hex(&vec![b'a'; 1_000_000]),
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
    );
}

#[test]
fn sha256_matches_hashlib_at_every_length_and_however_the_input_is_split() {
    // The SHA-256 of the SHA-256s of `pattern` at offsets 0..4 and lengths 0..=1100 (every padding case, up to 18
    // blocks), and of 300,003 bytes of it, as Python's hashlib computes them.
    let data = pattern(300_003);
    let mut outer = Sha256::new();
    for offset in 0..4 {
        for len in 0..=1100 {
            outer.update(Sha256::digest(&data[offset..offset + len]));
        }
    }
    assert_eq!(
        hex(&outer.finalize()),
        "d7d659c9d29f9aea60707febe05f212905a501471543ce91018b4698ea8c8bad"
    );
    let want = "b941ef5e721983cc079cbddff6f3f9f4b0fd5604dc85efdddeeba5eedd7cf4b2";
    assert_eq!(sha256_hex(&data), want);
    for step in [1, 63, 64, 65, 4093, 65_537] {
        let mut sha = Sha256::new();
        for piece in data.chunks(step) {
            sha.update(piece);
        }
        assert_eq!(hex(&sha.finalize()), want, "pieces of {step}");
    }
}
