//! A streaming checker for Redis / Valkey RDB files.
//!
//! [`check`] reads any [`std::io::Read`] once, front to back, in bounded memory whatever the file size: plain strings
//! are skipped through a 256 KiB buffer (LZF-compressed ones validated instruction by instruction without producing
//! their bytes: every check liblzf makes depends only on lengths and distances, see `lzf`), and only the compact
//! encodings that must be parsed (ziplist, listpack, intset, zipmap — each one key's or one quicklist node's worth)
//! are held, up to [`Limits::max_encoded_value_bytes`]. It validates the header, every opcode, every value type and
//! encoding, and the trailing CRC-64, and reports what the file holds. Unlike `redis-check-rdb`, which loads every
//! object into memory, nothing is built: that is what makes it fast and flat in memory.
//!
//! Sources: the RDB format as written by Redis `rdb.c` / `rdb.h` (opcodes `RDB_OPCODE_*`, types `RDB_TYPE_*`, length
//! and string encodings, `rdbSaveObject` for lists, sets, sorted sets, hashes, streams and module values), and
//! `ziplist.c`, `listpack.c`, `intset.c`, `zipmap.c` for the encodings (module `encodings`).
//!
//! Layout: this module is the public API; the parser lives in module `parser`, the SHA-256 thread of
//! [`check_and_hash`] in `hashing`, and [`Report`] and [`Limits`] in `report` (their public items re-exported here).
//!
//! Hash slots: every key's Redis Cluster hash slot ([`key_slot`]: CRC16 of the key or of its hash tag, modulo 16384) is
//! computed from its bytes as it is read, whatever its encoding (an integer-encoded key as its decimal text, an
//! LZF-compressed one as it decompresses), in bounded memory ([`SlotHasher`]), into [`Report::slots`]; the file's own
//! per-slot records, where it has them, go to [`Report::slot_info`].
//!
//! # Engine versions
//!
//! What each engine ElastiCache runs writes, and whether this checker reads it. Sources: Redis `src/rdb.h`
//! (`RDB_VERSION`, `RDB_TYPE_*`, `RDB_OPCODE_*`) at tags 4.0.0, 5.0.0, 6.0.0, 6.2.0, 7.0.0, 7.2.0 and 7.4.0; Valkey
//! `src/rdb.h` / `src/rdb.c` at 7.2.7, 8.0.0, 8.0.1 and commit be2c321 ("Support RDB compatability with Redis 7.2.4
//! RDB format", #665: back to RDB 11, slot info as an AUX field), and Valkey 9's `rdb.h` (`RDB_VERSION 80`, the
//! `VALKEY` magic, versions 12–79 reserved for other engines); the Valkey 7.2 / 8.0 / 8.1 / 9.0 release notes; the
//! ElastiCache User Guide, "Supported engines and versions" and "Engine versions and upgrading" (Redis OSS 4.0.10,
//! 5.0.6, 6.0, 6.2, 7.0, 7.1; Valkey 7.2, 8.0, 8.1, 8.2, 9.0, 9.1; "ElastiCache version 7.1 is compatible with Redis
//! OSS 7.0"). ElastiCache runs AWS's own builds: a file from them is only known to follow the open-source format
//! through the fixtures below and the exports this tool has checked. Fixtures are in `tests/fixtures` (see its
//! README); "built" means a file assembled record by record in a test.
//!
//! | Engine (ElastiCache) | Header written | Types and encodings it writes (new ones in bold) | Read | Fixtures |
//! |---|---|---|---|---|
//! | Redis OSS 4.0 | `REDIS0008` | strings (plain, integer, LZF); list: quicklist of ziplists (14); set: intset (11), hashtable (2); sorted set: ziplist (12), **skiplist with binary scores (5)**; hash: ziplist (13), hashtable (4); **module values (7)**; AUX, RESIZEDB | yes | `list-quicklist.rdb` (4.0.9) |
//! | Redis OSS 5.0 | `REDIS0009` | as 4.0, and **streams (15)**, **MODULE_AUX, IDLE, FREQ opcodes** | yes | `hash-ziplist.rdb` |
//! | Redis OSS 6.0, 6.2 | `REDIS0009` | as 5.0 | yes | `standalone-redis-6.2.rdb` (6.2.5, databases 0 and 3) |
//! | Redis OSS 7.0, 7.1 | `REDIS0010` | **listpacks**: hash (16), sorted set (17), list as quicklist of listpacks or plain nodes (18), stream (19); **FUNCTION2 opcode**; ziplist types no longer written | yes | `cluster-redis-7.0.rdb` (7.0.15, cluster mode), `zset-ziplist.rdb`; 7.1 untested (AWS-only build) |
//! | Valkey 7.2 (Redis OSS 7.2.4) | `REDIS0011` | as 7.0, and **set listpack (20)**, **stream with active time (21)** | yes | built: `newer_formats.rs` (set listpack) |
//! | Valkey 8.0, 8.1, 8.2 | `REDIS0011` | as 7.2, and in cluster mode **AUX `slot-info` = `slot,keys,expires`** before each slot's keys; ElastiCache's Bloom filters and search are module data (7, MODULE_AUX) | yes | built: `slots.rs` (slot-info) |
//! | Valkey 9.0, 9.1 | `VALKEY080` | as 8.x, and **hash with field expiry (22, `RDB_TYPE_HASH_2`)**, **SLOT_IMPORT opcode (243)**, `slot-info` with a fourth count; multiple databases in cluster mode | yes | `cluster-valkey-9.0.rdb` (9.0.0), built: `newer_formats.rs` (slot import) |
//! | Redis 7.4, 8.0–8.2 (not on ElastiCache) | `REDIS0012` | **hash field expiry (22–25)**, **SLOT_INFO opcode (244)** in cluster mode | yes | `cluster-redis-8.2.rdb` (8.2.3), built: `newer_formats.rs` |
//! | Redis writing RDB 13 or later (8.4 on, by third-party notes; not on ElastiCache) | `REDIS0013`… | unknown to this checker | no: [`RdbError::UnsupportedVersion`] | built: `newer_formats.rs` |
//! | a later Valkey with a new RDB version | e.g. `VALKEY081` | unknown | no: [`RdbError::UnsupportedVersion`] | built: `newer_formats.rs` |
//!
//! Older formats (`REDIS0001`–`REDIS0007`: zipmaps, ziplist lists, text-scored sorted sets) are read too
//! (`encodings.rdb`, `hash-zipmap.rdb`, `corrupt_ziplist.rdb`). Refused with a typed error, never a panic: the
//! `FUNCTION_PRE_GA` opcode (Redis 7.0 release candidates; Redis 7.0 GA refuses it too) as corrupt, and a format
//! this checker does not know ([`RdbError::is_unsupported_format`]: a newer header version, or a type or opcode byte
//! that is not in the file's version, which may also be corruption).

#[cfg(feature = "cli")]
pub mod cli;
mod digest;
mod encodings;
mod entries;
mod error;
mod hashing;
mod input;
pub mod keys;
mod lzf;
mod parser;
mod report;
pub mod resume;
#[cfg(feature = "s3")]
pub mod s3;
mod slots;
mod state;
mod visit;

use std::io::Read;

pub use error::{MAX_REDIS_VERSION, RdbError};
pub use hashing::{HASH_CHUNKS_IN_FLIGHT, READ_CHUNK};
pub use report::{
    DbReport, Limits, MAX_SAMPLE_NAME_BYTES, MAX_SAMPLED_KEY_BYTES, Report, SampledKey,
};
pub use resume::{Checkpoint, Progress, check_and_hash_from};
pub use slots::{ParseSlotSetError, SLOT_COUNT, SlotHasher, SlotSet, key_slot};

/// Checks one RDB stream with the default [`Limits`].
///
/// # Errors
/// [`RdbError`] naming what is wrong and where.
pub fn check<R: Read>(reader: R) -> Result<Report, RdbError> {
    check_with(reader, Limits::default())
}

/// Checks one RDB stream and computes the SHA-256 of every byte read (the whole file: the check reads to the end to
/// make sure nothing follows the checksum). Returns the report and the SHA-256 as 64 lower-case hex digits.
///
/// Where the machine has a second CPU (`available_parallelism` ≥ 2, e.g. a Lambda function with more than
/// 1,769 MB), the SHA-256 runs on its own thread, which hands the check what it hashed in chunks of [`READ_CHUNK`]
/// bytes, at most [`HASH_CHUNKS_IN_FLIGHT`] ahead, the buffers reused (and parsed where they lie), so memory stays
/// flat (at most `HASH_CHUNKS_IN_FLIGHT + 3` buffers). Each chunk is read by whichever thread has time for it: the
/// hashing thread, unless the check has nothing hashed to parse, which then reads the next chunks itself (while
/// buffers are free) and hands them over to be hashed, in order. The check then costs about
/// half the work of reading, hashing and parsing, or the SHA-256 or the parse alone where one of them is more than
/// that, instead of their sum. With one CPU it is all done inline.
///
/// # Errors
/// [`RdbError`] naming what is wrong and where.
pub fn check_and_hash<R: Read + Send>(reader: R) -> Result<(Report, String), RdbError> {
    if std::thread::available_parallelism().map_or(1, std::num::NonZero::get) >= 2 {
        hashing::check_and_hash_on_a_thread(reader)
    } else {
        hashing::check_and_hash_inline(reader)
    }
}

/// Checks one RDB stream.
///
/// # Errors
/// [`RdbError`] naming what is wrong and where.
pub fn check_with<R: Read>(reader: R, limits: Limits) -> Result<Report, RdbError> {
    parser::check_source(reader, limits)
}
