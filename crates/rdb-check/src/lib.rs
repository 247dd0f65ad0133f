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

mod encodings;
mod error;
mod input;
mod lzf;
#[cfg(feature = "s3")]
pub mod s3;
mod slots;

use std::collections::BTreeMap;
use std::io::Read;

pub use error::RdbError;
use input::{Input, Len};
use serde::Serialize;
pub use slots::{ParseSlotSetError, SLOT_COUNT, SlotHasher, SlotSet, key_slot};

/// Highest `REDIS` RDB version understood (Redis 7.4 writes 12).
pub const MAX_REDIS_VERSION: u32 = 12;

/// Latest hash-field expiry time Redis accepts, milliseconds (`ebuckets.h` `EB_EXPIRE_TIME_MAX`).
const EB_EXPIRE_TIME_MAX: u64 = (1 << 48) - 1;

/// Memory bounds.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest single encoded value (one ziplist/listpack/intset/zipmap, after LZF) held in memory, bytes.
    pub max_encoded_value_bytes: u64,
    /// Keys recorded in [`Report::sample`] (the first ones read whose names are UTF-8 and at most
    /// [`MAX_SAMPLED_KEY_BYTES`] long).
    pub sample_keys: usize,
}

/// Longest key name taken into the sample, bytes.
pub const MAX_SAMPLED_KEY_BYTES: u64 = 1024;

/// A key read by the checker, for a later "is it there, with this type?" check of a restore.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SampledKey {
    /// Database number.
    pub db: u64,
    /// The key name.
    pub key: String,
    /// Its type: `string`, `list`, `set`, `zset`, `hash`, `stream`, `module`.
    pub key_type: String,
}

impl Default for Limits {
    /// 16 MiB: far above what Redis' `*-max-listpack-*` settings produce (a few KiB per node or key).
    fn default() -> Self {
        Self {
            max_encoded_value_bytes: 16 * 1024 * 1024,
            sample_keys: 64,
        }
    }
}

/// Keys of one database.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DbReport {
    /// Keys found.
    pub keys: u64,
    /// Keys with an expiry.
    pub keys_with_expiry: u64,
}

/// What a sound file holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// `REDIS` or `VALKEY`.
    pub magic: String,
    /// RDB version from the header.
    pub version: u32,
    /// AUX fields (`redis-ver`, `redis-bits`, `ctime`, `used-mem`, `aof-base`, …).
    pub aux: BTreeMap<String, String>,
    /// Keys per database number.
    pub databases: BTreeMap<u64, DbReport>,
    /// Keys in all databases.
    pub keys: u64,
    /// Keys with an expiry, all databases.
    pub keys_with_expiry: u64,
    /// Keys per type: `string`, `list`, `set`, `zset`, `hash`, `stream`, `module`.
    pub types: BTreeMap<String, u64>,
    /// Keys per on-disk encoding, e.g. `hash-listpack`, `list-quicklist-2`, `zset-skiplist`.
    pub encodings: BTreeMap<String, u64>,
    /// Function libraries (`FUNCTION2`).
    pub functions: u64,
    /// Module AUX records.
    pub module_aux: u64,
    /// Bytes read, the whole file.
    pub bytes: u64,
    /// The CRC-64 stored in the file (hex), `None` when the file has none (version < 5) or it is disabled (0).
    pub checksum: Option<String>,
    /// The first keys read (see [`Limits::sample_keys`]), with their database and type.
    pub sample: Vec<SampledKey>,
    /// The Redis Cluster hash slots of the keys, all databases ([`key_slot`]: CRC16 of the key or its hash tag,
    /// modulo 16384), computed from every key's bytes as they are read. Whether keys lie outside database 0 (which a
    /// cluster-mode-enabled Redis OSS or Valkey before 9.0 cannot load) is in [`Report::databases`]; see
    /// [`Report::keys_outside_db0`].
    pub slots: SlotSet,
    /// The slots the file's own per-slot records name, `None` when it has none. Redis 7.4+ writes an
    /// `RDB_OPCODE_SLOT_INFO` record (opcode 244: slot, keys, keys with expiry; Redis `rdb.c` `rdbSaveDb`), and
    /// Valkey 8.0+ an AUX field `slot-info` = `"slot,keys,expires"` (Valkey `rdb.c` `rdbSaveDb`, since commit
    /// be2c321, #665; Valkey 8.0's release candidates wrote the opcode instead, and Valkey 9.0 adds a fourth count),
    /// each before the keys of every slot that holds keys in the database being written, and only when the server
    /// runs in cluster mode (`server.cluster_enabled`). The open-source writers name exactly the slots of the keys
    /// that follow, so in their files this equals [`Report::slots`] (the Redis 8.2 and Valkey 9.0 fixtures show it);
    /// it is recorded, not checked against them, because ElastiCache runs its own builds of the engines, whose writer
    /// is not public, and a hint the loaders only use to size their tables must not turn a sound backup into a
    /// corrupt one. A record naming a slot past 16383, or a `slot-info` value without three decimal numbers (which
    /// Valkey refuses to load), is [`RdbError::Corrupt`]. `slot-info` fields are not copied into [`Report::aux`].
    pub slot_info: Option<SlotSet>,
}

impl Report {
    /// Keys in databases other than 0 (a cluster-mode-enabled Redis OSS or Valkey before 9.0 has only database 0).
    #[must_use]
    pub fn keys_outside_db0(&self) -> u64 {
        self.databases
            .iter()
            .filter(|(db, _)| **db != 0)
            .map(|(_, d)| d.keys)
            .sum()
    }
}

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
        check_and_hash_on_a_thread(reader)
    } else {
        check_and_hash_inline(reader)
    }
}

/// Chunks hashed but not yet checked, at most: bounds the memory of [`check_and_hash`] with two CPUs.
pub const HASH_CHUNKS_IN_FLIGHT: usize = 8;

/// Bytes per read of [`check_and_hash`] with two CPUs.
pub const READ_CHUNK: usize = 256 * 1024;

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn check_and_hash_inline<R: Read>(reader: R) -> Result<(Report, String), RdbError> {
    use sha2::{Digest, Sha256};
    struct Hashing<R> {
        inner: R,
        sha: Sha256,
    }
    impl<R: Read> Read for Hashing<R> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.inner.read(buf)?;
            self.sha.update(&buf[..n]);
            Ok(n)
        }
    }
    let mut h = Hashing {
        inner: reader,
        sha: Sha256::new(),
    };
    let report = check(&mut h)?;
    Ok((report, hex(&h.sha.finalize())))
}

fn check_and_hash_on_a_thread<R: Read + Send>(reader: R) -> Result<(Report, String), RdbError> {
    use sha2::{Digest, Sha256};
    use std::collections::BTreeMap;
    use std::io::ErrorKind;
    use std::sync::mpsc::{Receiver, Sender, SyncSender, TryRecvError, channel, sync_channel};
    use std::sync::{Mutex, MutexGuard, PoisonError};

    /// A chunk read (the buffer, the bytes of it read: 0 at the end of the input), or the read's error.
    type Chunk = std::io::Result<(Vec<u8>, usize)>;

    /// The input and the buffers, shared by the two threads: each chunk is read by whichever of them has time for it
    /// first (the hashing thread, unless the check has nothing hashed to parse), numbered in the order read, and
    /// hashed in that order.
    struct Shared<R> {
        reader: R,
        /// Number of the next chunk to read.
        next: u64,
        /// The end of the input or a read error was met: nothing more is read.
        ended: bool,
        /// Buffers to read into.
        free: Vec<Vec<u8>>,
        /// Buffers allocated (the check's first one aside): never more than [`HASH_CHUNKS_IN_FLIGHT`] + 2.
        allocated: usize,
    }
    impl<R: Read> Shared<R> {
        /// A buffer to read into: a free one, or a new one while the limit allows.
        fn buffer(&mut self) -> Option<Vec<u8>> {
            self.free.pop().or_else(|| {
                (self.allocated < HASH_CHUNKS_IN_FLIGHT + 2).then(|| {
                    self.allocated += 1;
                    vec![0; READ_CHUNK]
                })
            })
        }

        /// Reads the next chunk into `buf`: (its number, the read's result).
        fn read_next(&mut self, mut buf: Vec<u8>) -> (u64, Chunk) {
            let seq = self.next;
            self.next += 1;
            let n = loop {
                match self.reader.read(&mut buf) {
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    other => break other,
                }
            };
            self.ended = !matches!(n, Ok(n) if n > 0);
            (seq, n.map(|n| (buf, n)))
        }
    }

    fn lock<R>(shared: &Mutex<Shared<R>>) -> MutexGuard<'_, Shared<R>> {
        shared.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The check's byte source: the hashed chunks, in order, each parsed where it lies (swapped for the input's
    /// buffer, not copied; the buffer swapped out is free again). While no hashed chunk is waiting (the hashing
    /// thread is behind), the check reads the next chunks itself and hands them over to be hashed.
    struct Chunks<'a, R> {
        hashed: Receiver<Chunk>,
        to_hash: Sender<(u64, Chunk)>,
        shared: &'a Mutex<Shared<R>>,
    }
    impl<R: Read> input::Source for Chunks<'_, R> {
        fn fill(&mut self, buf: &mut Vec<u8>) -> std::io::Result<usize> {
            let done = std::mem::take(buf);
            // Not after the end or an error, when there is none.
            if !done.is_empty() {
                lock(self.shared).free.push(done);
            }
            let next = loop {
                match self.hashed.try_recv() {
                    Err(TryRecvError::Empty) => {}
                    other => break other.ok(),
                }
                // Nothing hashed to parse: read for the hashing thread meanwhile, unless it is reading now, the
                // input ended or every buffer is in use.
                let read = match self.shared.try_lock() {
                    Ok(mut shared) if !shared.ended => shared.buffer().map(|b| shared.read_next(b)),
                    _ => None,
                };
                match read {
                    // The hashing thread may have stopped: the next try_recv then says so.
                    Some(chunk) => drop(self.to_hash.send(chunk)),
                    None => break self.hashed.recv().ok(),
                }
            };
            match next {
                Some(Ok((chunk, len))) => {
                    *buf = chunk;
                    Ok(len)
                }
                Some(Err(e)) => Err(e),
                // The hashing thread is done: the end of the input (or it panicked, which the join reports).
                None => Ok(0),
            }
        }
    }

    /// The hashing thread: hashes every chunk in order (reading it itself unless the check did) and hands it to
    /// the check. Returns the SHA-256 once the input ends or the check stops.
    fn hash<R: Read>(
        shared: &Mutex<Shared<R>>,
        read_by_check: &Receiver<(u64, Chunk)>,
        to_check: &SyncSender<Chunk>,
    ) -> Vec<u8> {
        let mut sha = Sha256::new();
        let mut next = 0u64;
        // Chunks the check read, waiting for their turn.
        let mut waiting = BTreeMap::new();
        loop {
            while let Ok((seq, chunk)) = read_by_check.try_recv() {
                waiting.insert(seq, chunk);
            }
            let chunk = if let Some(chunk) = waiting.remove(&next) {
                chunk
            } else {
                let mut guard = lock(shared);
                if guard.next == next && !guard.ended {
                    // Nothing the check read is waiting: the channel to it and the chunk it parses hold the other
                    // buffers, so one is free (or may still be allocated).
                    let Some(buf) = guard.buffer() else {
                        drop(guard);
                        std::thread::yield_now();
                        continue;
                    };
                    guard.read_next(buf).1
                } else {
                    // The check is reading this chunk: wait for it.
                    drop(guard);
                    match read_by_check.recv() {
                        Ok((seq, chunk)) => {
                            waiting.insert(seq, chunk);
                            continue;
                        }
                        Err(_) => break, // the check stopped
                    }
                }
            };
            next += 1;
            match chunk {
                Ok((_, 0)) => break,
                Ok((buf, n)) => {
                    sha.update(&buf[..n]);
                    if to_check.send(Ok((buf, n))).is_err() {
                        break; // the check stopped (an error, or the end of what it reads)
                    }
                }
                Err(e) => {
                    let _ = to_check.send(Err(e));
                    break;
                }
            }
        }
        sha.finalize().to_vec()
    }

    let shared = Mutex::new(Shared {
        reader,
        next: 0,
        ended: false,
        free: Vec::new(),
        allocated: 0,
    });
    let (to_check, hashed) = sync_channel::<Chunk>(HASH_CHUNKS_IN_FLIGHT);
    let (to_hash, read_by_check) = channel::<(u64, Chunk)>();
    std::thread::scope(|scope| {
        let shared = &shared;
        let hashing = scope.spawn(move || hash(shared, &read_by_check, &to_check));
        // The check drops the chunks when it ends: the hashing thread then ends too, at the end of the input or when
        // it finds the check gone.
        let chunks = Chunks {
            hashed,
            to_hash,
            shared,
        };
        let report = check_source(chunks, Limits::default());
        let digest = hashing.join().map_err(|_| RdbError::Io {
            offset: 0,
            source: std::io::Error::other("the SHA-256 thread panicked"),
        })?;
        Ok((report?, hex(&digest)))
    })
}

/// Checks one RDB stream.
///
/// # Errors
/// [`RdbError`] naming what is wrong and where.
pub fn check_with<R: Read>(reader: R, limits: Limits) -> Result<Report, RdbError> {
    check_source(reader, limits)
}

fn check_source<S: input::Source>(source: S, limits: Limits) -> Result<Report, RdbError> {
    let mut p = Parser {
        input: Input::new(source),
        limits,
        report: Report::default(),
        valkey: false,
        per_type: [0; 256],
        scratch: Vec::new(),
        header: String::new(),
        lzf_window: Vec::new(),
    };
    p.run()?;
    for (t, &n) in p.per_type.iter().enumerate() {
        if n == 0 {
            continue;
        }
        // Only type bytes `type_names` knows are ever counted.
        if let Some((ty, enc)) = type_names(t as u8, p.valkey) {
            *p.report.types.entry(ty.to_string()).or_default() += n;
            *p.report.encodings.entry(enc.to_string()).or_default() += n;
        }
    }
    Ok(p.report)
}

struct Parser<R> {
    input: Input<R>,
    limits: Limits,
    report: Report,
    /// `VALKEY` magic (type 22 means `RDB_TYPE_HASH_2`, opcode 243 `SLOT_IMPORT`).
    valkey: bool,
    /// Keys per value type byte (named at the end: a per-key map lookup would cost more than the key's check).
    per_type: [u64; 256],
    /// Reused buffer for encoded values.
    scratch: Vec<u8>,
    /// The header as the file spells it (`REDIS0011`, `VALKEY080`), for errors.
    header: String,
    /// Reused LZF window for compressed keys whose slot is computed without keeping them.
    lzf_window: Vec<u8>,
}

/// (type name, encoding name) of a value type byte (rdb.h `RDB_TYPE_*`); `valkey` for files with the `VALKEY` magic.
fn type_names(t: u8, valkey: bool) -> Option<(&'static str, &'static str)> {
    Some(match t {
        0 => ("string", "string"),
        1 => ("list", "list-linkedlist"),
        2 => ("set", "set-hashtable"),
        3 => ("zset", "zset-skiplist-v1"),
        4 => ("hash", "hash-hashtable"),
        5 => ("zset", "zset-skiplist"),
        7 => ("module", "module-2"),
        9 => ("hash", "hash-zipmap"),
        10 => ("list", "list-ziplist"),
        11 => ("set", "set-intset"),
        12 => ("zset", "zset-ziplist"),
        13 => ("hash", "hash-ziplist"),
        14 => ("list", "list-quicklist"),
        15 => ("stream", "stream-listpacks"),
        16 => ("hash", "hash-listpack"),
        17 => ("zset", "zset-listpack"),
        18 => ("list", "list-quicklist-2"),
        19 => ("stream", "stream-listpacks-2"),
        20 => ("set", "set-listpack"),
        21 => ("stream", "stream-listpacks-3"),
        22 if valkey => ("hash", "hash-2"),
        22 => ("hash", "hash-metadata-pre-ga"),
        23 if !valkey => ("hash", "hash-listpack-ex-pre-ga"),
        24 if !valkey => ("hash", "hash-metadata"),
        25 if !valkey => ("hash", "hash-listpack-ex"),
        _ => return None,
    })
}

/// The value of an integer-encoded string's 1, 2 or 4 little-endian bytes (`RDB_ENC_INT8/16/32`).
#[inline]
fn int_value(raw: &[u8]) -> i64 {
    match *raw {
        [a] => i64::from(a as i8),
        [a, b] => i64::from(i16::from_le_bytes([a, b])),
        [a, b, c, d] => i64::from(i32::from_le_bytes([a, b, c, d])),
        _ => 0,
    }
}

impl<R: input::Source> Parser<R> {
    fn run(&mut self) -> Result<(), RdbError> {
        self.header()?;
        // Keys of the current database, added to the report when the database changes and at the end.
        let mut db = 0u64;
        let mut keys = 0u64;
        let mut expiring = 0u64;
        let mut expiry = false;
        loop {
            let at = self.input.offset();
            let op = self.input.u8("opcode")?;
            match op {
                0xFF => break,
                0xFE => {
                    self.add_db_keys(db, keys, expiring);
                    (keys, expiring) = (0, 0);
                    db = self.input.plain_len("SELECTDB")?;
                    self.report.databases.entry(db).or_default();
                }
                0xFD => {
                    self.input.u32_le("EXPIRETIME")?;
                    expiry = true;
                }
                0xFC => {
                    self.input.u64_le("EXPIRETIME_MS")?;
                    expiry = true;
                }
                0xFB => {
                    self.input.plain_len("RESIZEDB")?;
                    self.input.plain_len("RESIZEDB")?;
                }
                0xFA => {
                    let k = self.small_string("AUX key")?;
                    let v_at = self.input.offset();
                    let v = self.small_string("AUX value")?;
                    // Valkey rdb.c compares AUX names case-insensitively.
                    if k.eq_ignore_ascii_case("slot-info") {
                        self.slot_info_aux(v_at, &v)?;
                    } else {
                        self.report.aux.insert(k, v);
                    }
                }
                0xF9 => {
                    self.input.u8("FREQ")?;
                }
                0xF8 => {
                    self.input.plain_len("IDLE")?;
                }
                0xF7 => {
                    self.input.plain_len("MODULE_AUX module id")?;
                    self.input.plain_len("MODULE_AUX when opcode")?;
                    self.input.plain_len("MODULE_AUX when")?;
                    self.module_values()?;
                    self.report.module_aux += 1;
                }
                0xF6 => {
                    return Err(RdbError::corrupt(
                        at,
                        "FUNCTION_PRE_GA (Redis 7.0 release candidates) is not supported (Redis 7.0 GA refuses it too)",
                    ));
                }
                0xF5 => {
                    self.skip_string("FUNCTION2 library")?;
                    self.report.functions += 1;
                }
                0xF4 => {
                    // Redis rdb.c `RDB_OPCODE_SLOT_INFO`: slot, keys in it, keys with expiry in it.
                    let s_at = self.input.offset();
                    let slot = self.input.plain_len("SLOT_INFO slot")?;
                    self.input.plain_len("SLOT_INFO slot size")?;
                    self.input.plain_len("SLOT_INFO expires slot size")?;
                    self.record_slot_info(s_at, slot, "SLOT_INFO")?;
                }
                0xF3 if self.valkey => {
                    self.skip_string("SLOT_IMPORT job name")?;
                    let ranges = self.input.plain_len("SLOT_IMPORT ranges")?;
                    for _ in 0..ranges {
                        self.input.plain_len("SLOT_IMPORT range start")?;
                        self.input.plain_len("SLOT_IMPORT range end")?;
                    }
                }
                t => {
                    if type_names(t, self.valkey).is_none() {
                        return Err(self.unknown_type(t, at));
                    }
                    if self.report.sample.len() < self.limits.sample_keys {
                        let (slot, key) = self.read_key(true)?;
                        self.report.slots.insert(slot);
                        if let Some(key) = key
                            && let Ok(key) = String::from_utf8(key)
                            && let Some((ty, _)) = type_names(t, self.valkey)
                        {
                            self.report.sample.push(SampledKey {
                                db,
                                key,
                                key_type: ty.to_string(),
                            });
                        }
                        self.value(t, at)?;
                    } else if !self.compact_key(t) {
                        let slot = self.key_slot()?;
                        self.report.slots.insert(slot);
                        self.value(t, at)?;
                    }
                    keys += 1;
                    expiring += u64::from(expiry);
                    self.per_type[usize::from(t)] += 1;
                    expiry = false;
                }
            }
        }
        self.add_db_keys(db, keys, expiring);
        if self.report.version >= 5 || self.report.magic == "VALKEY" {
            let actual = self.input.finish_crc();
            let expected = self.input.u64_le("checksum")?;
            if expected != 0 {
                if expected != actual {
                    return Err(RdbError::ChecksumMismatch { expected, actual });
                }
                self.report.checksum = Some(format!("{expected:016x}"));
            }
        }
        let at = self.input.offset();
        let mut extra = 0u64;
        match self.input.u8("trailer") {
            Ok(_) => extra += 1,
            Err(RdbError::Truncated { .. }) => {}
            Err(e) => return Err(e),
        }
        if extra > 0 {
            return Err(RdbError::corrupt(at, "data after the end of the RDB"));
        }
        self.report.bytes = self.input.offset();
        Ok(())
    }

    fn add_db_keys(&mut self, db: u64, keys: u64, expiring: u64) {
        if keys == 0 {
            return;
        }
        let d = self.report.databases.entry(db).or_default();
        d.keys += keys;
        d.keys_with_expiry += expiring;
        self.report.keys += keys;
        self.report.keys_with_expiry += expiring;
    }

    fn header(&mut self) -> Result<(), RdbError> {
        let mut h = [0u8; 9];
        self.input.read_exact(&mut h, "header")?;
        let text = String::from_utf8_lossy(&h).to_string();
        let (magic, digits) = if h.starts_with(b"REDIS") {
            ("REDIS", &h[5..9])
        } else if h.starts_with(b"VALKEY") {
            ("VALKEY", &h[6..9])
        } else {
            return Err(RdbError::BadMagic { found: text });
        };
        let version: u32 = std::str::from_utf8(digits)
            .ok()
            .filter(|d| d.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|d| d.parse().ok())
            .ok_or_else(|| RdbError::BadMagic {
                found: text.clone(),
            })?;
        let supported = match magic {
            "REDIS" => (1..=MAX_REDIS_VERSION).contains(&version),
            _ => version == 80,
        };
        if !supported {
            return Err(RdbError::UnsupportedVersion {
                header: text,
                version,
            });
        }
        self.header = text;
        self.report.magic = magic.into();
        self.report.version = version;
        self.valkey = magic == "VALKEY";
        Ok(())
    }

    /// Decompresses `clen` bytes of LZF (to exactly `ulen` bytes) into `sink`, validating every instruction.
    fn lzf_into<S: lzf::Sink>(
        &mut self,
        context: &'static str,
        at: u64,
        clen: u64,
        ulen: u64,
        sink: &mut S,
    ) -> Result<(), RdbError> {
        let mut dec = lzf::Decoder::new(ulen);
        let mut err = None;
        self.input.stream(clen, context, |chunk| {
            if err.is_none() {
                err = dec.feed(chunk, sink).err();
            }
        })?;
        match err.or_else(|| dec.finish().err()) {
            Some(e) => Err(RdbError::corrupt(at, format!("{context}: {e}"))),
            None => Ok(()),
        }
    }

    /// The most common key of a file of small collections, whole in the read buffer, checked in one go: a key under
    /// 64 bytes, then an intset (type 11) or a listpack (16 hash, 17 sorted set, 20 set; 18 a list of one listpack
    /// node) of under 16 KiB. Consumes the key and returns `true` only when all of it is valid; anything else, every
    /// error included, is left to the general path, which reads it again from the same byte, so errors read the same.
    #[inline]
    fn compact_key(&mut self, t: u8) -> bool {
        if !matches!(t, 11 | 16 | 17 | 18 | 20) {
            return false;
        }
        let avail = self.input.available();
        let Some(&key) = avail.first() else {
            return false;
        };
        if key >= 0x40 {
            return false;
        }
        let mut at = 1 + usize::from(key);
        // A quicklist of one node (count 1) held in a listpack (container 2: `QUICKLIST_NODE_CONTAINER_PACKED`).
        if t == 18 {
            if avail.get(at..at + 2) != Some(&[1, 2][..]) {
                return false;
            }
            at += 2;
        }
        // The value's length, in its one- or two-byte form.
        let (len, header) = match avail.get(at..at + 2) {
            Some(&[b, _]) if b < 0x40 => (usize::from(b), 1),
            Some(&[b, c]) if b < 0x80 => ((usize::from(b & 0x3f) << 8) | usize::from(c), 2),
            _ => return false,
        };
        if len as u64 > self.limits.max_encoded_value_bytes {
            return false;
        }
        let Some(value) = avail.get(at + header..at + header + len) else {
            return false;
        };
        let valid = match t {
            11 => encodings::intset(value).is_ok(),
            16 | 17 => encodings::listpack(value).is_ok_and(|n| n % 2 == 0),
            _ => encodings::listpack(value).is_ok(),
        };
        if valid {
            // The key lies in `avail` (the value, checked above, lies after it).
            if let Some(key) = avail.get(1..1 + usize::from(key)) {
                self.report.slots.insert(key_slot(key));
            }
            self.input.consume(at + header + len);
        }
        valid
    }

    /// The slot of the next key, which is read (and validated) but not kept: straight from the buffer for a key
    /// under 64 bytes or an integer-encoded one whole in it (most keys), else as [`Self::read_key`] does.
    #[inline]
    fn key_slot(&mut self) -> Result<u16, RdbError> {
        let avail = self.input.available();
        if let Some(&b) = avail.first() {
            if b < 0x40 {
                let n = usize::from(b);
                if let Some(key) = avail.get(1..=n) {
                    let slot = key_slot(key);
                    self.input.consume(1 + n);
                    return Ok(slot);
                }
            } else if (0xC0..=0xC2).contains(&b) {
                let n = 1usize << (b & 3);
                if let Some(raw) = avail.get(1..=n) {
                    let mut text = [0u8; 20];
                    let slot = key_slot(slots::decimal(int_value(raw), &mut text));
                    self.input.consume(1 + n);
                    return Ok(slot);
                }
            }
        }
        self.read_key(false).map(|(slot, _)| slot)
    }

    /// Reads a key, validating its encoding, and computes its slot ([`key_slot`]; an integer-encoded key as its
    /// decimal text, an LZF-compressed one as decompressed): (slot, the key's bytes when `keep` and it is at most
    /// [`MAX_SAMPLED_KEY_BYTES`] long). A key that is not kept is never held whole: a plain one is hashed as it
    /// streams through the read buffer, a compressed one through LZF's 8 KiB window ([`slots::SlotSink`]).
    #[inline(never)]
    fn read_key(&mut self, keep: bool) -> Result<(u16, Option<Vec<u8>>), RdbError> {
        const CONTEXT: &str = "key";
        let at = self.input.offset();
        let max = MAX_SAMPLED_KEY_BYTES;
        match self.input.len(CONTEXT)? {
            Len::Plain(n) if keep && n <= max => {
                let mut v = vec![0; n as usize];
                self.input.read_exact(&mut v, CONTEXT)?;
                Ok((key_slot(&v), Some(v)))
            }
            Len::Plain(n) => {
                let mut hasher = SlotHasher::new();
                self.input
                    .stream(n, CONTEXT, |chunk| hasher.update(chunk))?;
                Ok((hasher.slot(), None))
            }
            Len::Encoded(e @ 0..=2) => {
                let mut b = [0u8; 4];
                let n = 1usize << e;
                self.input.read_exact(&mut b[..n], CONTEXT)?;
                let mut buf = [0u8; 20];
                let text = slots::decimal(int_value(&b[..n]), &mut buf);
                Ok((key_slot(text), keep.then(|| text.to_vec())))
            }
            Len::Encoded(3) => {
                let clen = self.input.plain_len("LZF compressed length")?;
                let ulen = self.input.plain_len("LZF length")?;
                if keep && ulen <= max {
                    let mut v = Vec::with_capacity(ulen as usize);
                    self.lzf_into(CONTEXT, at, clen, ulen, &mut v)?;
                    Ok((key_slot(&v), Some(v)))
                } else {
                    let mut window = std::mem::take(&mut self.lzf_window);
                    let mut sink = slots::SlotSink::new(&mut window);
                    let done = self.lzf_into(CONTEXT, at, clen, ulen, &mut sink);
                    let slot = sink.slot();
                    self.lzf_window = window;
                    done.map(|()| (slot, None))
                }
            }
            Len::Encoded(e) => Err(RdbError::corrupt(
                at,
                format!("unknown string encoding {e} ({CONTEXT})"),
            )),
        }
    }

    /// [`RdbError::UnknownType`] for byte `t` at `at`, naming the file's format.
    #[cold]
    fn unknown_type(&self, t: u8, at: u64) -> RdbError {
        RdbError::UnknownType {
            byte: t,
            offset: at,
            header: self.header.clone(),
        }
    }

    /// Records a slot named by a per-slot record (`what`, at `at`) in [`Report::slot_info`].
    fn record_slot_info(&mut self, at: u64, slot: u64, what: &str) -> Result<(), RdbError> {
        match u16::try_from(slot) {
            Ok(slot) if slot < SLOT_COUNT => {
                self.report
                    .slot_info
                    .get_or_insert_with(SlotSet::new)
                    .insert(slot);
                Ok(())
            }
            _ => Err(RdbError::corrupt(
                at,
                format!("{what} names slot {slot}, past 16383"),
            )),
        }
    }

    /// Valkey's AUX `slot-info` (value at `at`): `"slot,keys,expires"` in decimal, as Valkey rdb.c `rdbSaveDb`
    /// writes it (`"%i,%lu,%lu"`). Further comma-separated fields are allowed (a later version may add counts).
    /// Anything else is corrupt: Valkey's loader refuses a value it cannot read three numbers from.
    fn slot_info_aux(&mut self, at: u64, value: &str) -> Result<(), RdbError> {
        let mut fields = value.split(',');
        let mut number = || {
            fields
                .next()
                .filter(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
                .map(|f| f.parse::<u64>().unwrap_or(u64::MAX))
        };
        match (number(), number(), number()) {
            (Some(slot), Some(_), Some(_)) => self.record_slot_info(at, slot, "AUX slot-info"),
            _ => Err(RdbError::corrupt(
                at,
                format!(
                    "AUX slot-info {} is not slot,keys,expires (Valkey refuses to load it)",
                    slots::quoted(value)
                ),
            )),
        }
    }

    /// Skips one string, validating its encoding (LZF decompressed through a window); returns its length.
    #[inline]
    fn skip_string(&mut self, context: &'static str) -> Result<u64, RdbError> {
        match self.input.skip_short_string() {
            Some(n) => Ok(n),
            None => self.skip_any_string(context),
        }
    }

    /// [`Self::skip_string`] for every string but a short one whole in the buffer.
    #[inline(never)]
    fn skip_any_string(&mut self, context: &'static str) -> Result<u64, RdbError> {
        let at = self.input.offset();
        match self.input.len(context)? {
            Len::Plain(n) => {
                self.input.skip(n, context)?;
                Ok(n)
            }
            Len::Encoded(0) => self.input.skip(1, context).map(|()| 1),
            Len::Encoded(1) => self.input.skip(2, context).map(|()| 2),
            Len::Encoded(2) => self.input.skip(4, context).map(|()| 4),
            Len::Encoded(3) => {
                let clen = self.input.plain_len("LZF compressed length")?;
                let ulen = self.input.plain_len("LZF length")?;
                self.lzf_into(context, at, clen, ulen, &mut lzf::Discard)?;
                Ok(ulen)
            }
            Len::Encoded(e) => Err(RdbError::corrupt(
                at,
                format!("unknown string encoding {e} ({context})"),
            )),
        }
    }

    /// Reads one string into `out` (replacing its contents; bounded by the limit); integer encodings come back as
    /// decimal text. Returns the string's offset.
    fn blob_into(&mut self, context: &'static str, out: &mut Vec<u8>) -> Result<u64, RdbError> {
        let at = self.input.offset();
        let len = self.input.len(context)?;
        self.blob_with_len(context, at, len, out)
    }

    /// [`Self::blob_into`] once the string's length (at offset `at`) has been read.
    fn blob_with_len(
        &mut self,
        context: &'static str,
        at: u64,
        len: Len,
        out: &mut Vec<u8>,
    ) -> Result<u64, RdbError> {
        let limit = self.limits.max_encoded_value_bytes;
        let too_large = |len| RdbError::TooLarge {
            offset: at,
            what: context,
            len,
            limit,
        };
        out.clear();
        match len {
            Len::Plain(n) => {
                if n > limit {
                    return Err(too_large(n));
                }
                out.resize(n as usize, 0);
                self.input.read_exact(out, context)?;
            }
            Len::Encoded(e @ 0..=2) => {
                let mut b = [0u8; 4];
                let n = 1usize << e;
                self.input.read_exact(&mut b[..n], context)?;
                let v = match e {
                    0 => i64::from(b[0] as i8),
                    1 => i64::from(i16::from_le_bytes([b[0], b[1]])),
                    _ => i64::from(i32::from_le_bytes(b)),
                };
                out.extend_from_slice(v.to_string().as_bytes());
            }
            Len::Encoded(3) => {
                let clen = self.input.plain_len("LZF compressed length")?;
                let ulen = self.input.plain_len("LZF length")?;
                if ulen > limit {
                    return Err(too_large(ulen));
                }
                out.reserve(ulen as usize);
                self.lzf_into(context, at, clen, ulen, out)?;
            }
            Len::Encoded(e) => {
                return Err(RdbError::corrupt(
                    at,
                    format!("unknown string encoding {e} ({context})"),
                ));
            }
        }
        Ok(at)
    }

    /// Reads one string into a new buffer: (offset, bytes).
    fn blob(&mut self, context: &'static str) -> Result<(u64, Vec<u8>), RdbError> {
        let mut v = Vec::new();
        let at = self.blob_into(context, &mut v)?;
        Ok((at, v))
    }

    fn small_string(&mut self, context: &'static str) -> Result<String, RdbError> {
        let (_, b) = self.blob(context)?;
        Ok(String::from_utf8_lossy(&b).into_owned())
    }

    /// Reads an encoded value and checks it with `f`, which returns its element count (generic, not a function
    /// pointer, so that each checker is inlined into its call: small values are checked by the million).
    #[inline]
    fn encoded<F: Fn(&[u8]) -> encodings::Check<u64>>(
        &mut self,
        context: &'static str,
        f: F,
    ) -> Result<u64, RdbError> {
        let at = self.input.offset();
        let len = self.input.len(context)?;
        // Fast path: a plain value the read buffer already holds is checked where it lies, not copied (small
        // listpacks and intsets, most of a file of small hashes, sets, sorted sets and lists).
        if let Len::Plain(n) = len
            && n <= self.limits.max_encoded_value_bytes
            && let Some(value) = usize::try_from(n).ok().and_then(|n| self.input.peek(n))
        {
            let checked = f(value).map_err(|(inner, what)| {
                RdbError::corrupt(at, format!("{context}: {what} (+{inner} into the value)"))
            });
            self.input.consume(n as usize);
            return checked;
        }
        let mut buf = std::mem::take(&mut self.scratch);
        let result = self
            .blob_with_len(context, at, len, &mut buf)
            .and_then(|at| {
                f(&buf).map_err(|(inner, what)| {
                    RdbError::corrupt(at, format!("{context}: {what} (+{inner} into the value)"))
                })
            });
        // Keep the allocation for the next value unless one huge value grew it.
        if buf.capacity() <= 1 << 20 {
            self.scratch = buf;
        }
        result
    }

    /// An encoded value whose elements come in tuples of `k` (hash field + value, zset member + score, hash field +
    /// value + TTL).
    fn tuples(
        &mut self,
        context: &'static str,
        f: impl Fn(&[u8]) -> encodings::Check<u64>,
        k: u64,
    ) -> Result<(), RdbError> {
        let at = self.input.offset();
        let n = self.encoded(context, f)?;
        if n % k != 0 {
            return Err(RdbError::corrupt(
                at,
                format!("{context}: {n} elements, not a multiple of {k}"),
            ));
        }
        Ok(())
    }

    /// A hash-field expiry time, milliseconds (Redis `ebuckets.h`: `EB_EXPIRE_TIME_MAX` = 2^48 − 1).
    fn field_expiry(&self, at: u64, expire_at: u64) -> Result<(), RdbError> {
        if expire_at > EB_EXPIRE_TIME_MAX {
            return Err(RdbError::corrupt(
                at,
                format!("hash field expiry {expire_at} beyond the maximum {EB_EXPIRE_TIME_MAX}"),
            ));
        }
        Ok(())
    }

    fn value(&mut self, t: u8, at: u64) -> Result<(), RdbError> {
        match t {
            0 => {
                self.skip_string("string value")?;
            }
            1 | 2 => {
                let n = self.input.plain_len("element count")?;
                for _ in 0..n {
                    self.skip_string("element")?;
                }
            }
            3 => {
                let n = self.input.plain_len("zset length")?;
                for _ in 0..n {
                    self.skip_string("zset member")?;
                    match self.input.u8("zset score")? {
                        253..=255 => {}
                        len => self.input.skip(u64::from(len), "zset score")?,
                    }
                }
            }
            4 => {
                let n = self.input.plain_len("hash length")?;
                for _ in 0..n {
                    self.skip_string("hash field")?;
                    self.skip_string("hash value")?;
                }
            }
            5 => {
                let n = self.input.plain_len("zset length")?;
                for _ in 0..n {
                    self.skip_string("zset member")?;
                    self.input.skip(8, "zset score")?;
                }
            }
            7 => {
                self.input.plain_len("module type id")?;
                self.module_values()?;
            }
            9 => {
                self.encoded("zipmap", encodings::zipmap)?;
            }
            10 => {
                self.encoded("list ziplist", encodings::ziplist)?;
            }
            11 => {
                self.encoded("intset", encodings::intset)?;
            }
            12 => self.tuples("zset ziplist", encodings::ziplist, 2)?,
            13 => self.tuples("hash ziplist", encodings::ziplist, 2)?,
            14 => {
                let n = self.input.plain_len("quicklist nodes")?;
                for _ in 0..n {
                    self.encoded("quicklist ziplist node", encodings::ziplist)?;
                }
            }
            15 | 19 | 21 => self.stream(t)?,
            16 => self.tuples("hash listpack", encodings::listpack, 2)?,
            17 => self.tuples("zset listpack", encodings::listpack, 2)?,
            18 => {
                let n = self.input.plain_len("quicklist nodes")?;
                for _ in 0..n {
                    let c_at = self.input.offset();
                    match self.input.plain_len("quicklist container")? {
                        1 => {
                            self.skip_string("quicklist plain node")?;
                        }
                        2 => {
                            self.encoded("quicklist listpack node", encodings::listpack)?;
                        }
                        c => {
                            return Err(RdbError::corrupt(
                                c_at,
                                format!("unknown quicklist container {c}"),
                            ));
                        }
                    }
                }
            }
            20 => {
                self.encoded("set listpack", encodings::listpack)?;
            }
            22 if self.valkey => {
                // Valkey rdb.c `RDB_TYPE_HASH_2`: count, then field, value, expiry (ms, 8 bytes LE; -1 = none).
                let n = self.input.plain_len("hash length")?;
                for _ in 0..n {
                    self.skip_string("hash field")?;
                    self.skip_string("hash value")?;
                    let e_at = self.input.offset();
                    let expiry = self.input.u64_le("hash field expiry")? as i64;
                    if expiry < -1 {
                        return Err(RdbError::corrupt(
                            e_at,
                            format!("hash field expiry {expiry} (only -1 or a time allowed)"),
                        ));
                    }
                }
            }
            22 | 24 => {
                // Redis rdb.c `RDB_TYPE_HASH_METADATA` (24: a minimum expiry first, field TTLs relative to it, 0 =
                // none) and its 7.4 release-candidate form (22: absolute TTLs); each field is TTL, field, value.
                let mut min_expire = 0;
                if t == 24 {
                    let m_at = self.input.offset();
                    min_expire = self.input.u64_le("hash minimum expiry")?;
                    if min_expire > EB_EXPIRE_TIME_MAX + 1 {
                        return Err(RdbError::corrupt(
                            m_at,
                            format!("hash minimum expiry {min_expire} out of range"),
                        ));
                    }
                }
                let n = self.input.plain_len("hash length")?;
                for _ in 0..n {
                    let ttl_at = self.input.offset();
                    let ttl = self.input.plain_len("hash field TTL")?;
                    let expire_at = match (t, ttl) {
                        (24, 0) => 0,
                        (24, ttl) => (ttl - 1).saturating_add(min_expire),
                        (_, ttl) => ttl,
                    };
                    self.field_expiry(ttl_at, expire_at)?;
                    self.skip_string("hash field")?;
                    self.skip_string("hash value")?;
                }
            }
            23 | 25 => {
                // Redis rdb.c `RDB_TYPE_HASH_LISTPACK_EX` (25: a minimum expiry first) and its release-candidate
                // form (23): a listpack of field, value, TTL triples.
                if t == 25 {
                    self.input.u64_le("hash minimum expiry")?;
                }
                self.tuples("hash listpack with TTLs", encodings::listpack, 3)?;
            }
            _ => return Err(self.unknown_type(t, at)),
        }
        Ok(())
    }

    /// rdb.c `rdbSaveObject` for streams (`RDB_TYPE_STREAM_LISTPACKS`, `_2` adds first/max-deleted ids, entries
    /// added and entries read; `_3` adds the consumers' active time).
    fn stream(&mut self, t: u8) -> Result<(), RdbError> {
        let nodes = self.input.plain_len("stream listpacks")?;
        for _ in 0..nodes {
            let (at, id) = self.blob("stream node id")?;
            if id.len() != 16 {
                return Err(RdbError::corrupt(
                    at,
                    format!("stream node id of {} bytes, 16 expected", id.len()),
                ));
            }
            let n = self.encoded("stream listpack", encodings::listpack)?;
            if n == 0 {
                return Err(RdbError::corrupt(at, "empty stream listpack"));
            }
        }
        self.input.plain_len("stream length")?;
        self.input.plain_len("stream last id")?;
        self.input.plain_len("stream last id")?;
        if t >= 19 {
            for _ in 0..5 {
                self.input.plain_len("stream id metadata")?;
            }
        }
        let groups = self.input.plain_len("consumer groups")?;
        for _ in 0..groups {
            self.skip_string("consumer group name")?;
            self.input.plain_len("group last id")?;
            self.input.plain_len("group last id")?;
            if t >= 19 {
                self.input.plain_len("group entries read")?;
            }
            let pel = self.input.plain_len("group PEL")?;
            for _ in 0..pel {
                self.input.skip(16 + 8, "PEL entry")?;
                self.input.plain_len("PEL delivery count")?;
            }
            let consumers = self.input.plain_len("consumers")?;
            for _ in 0..consumers {
                self.skip_string("consumer name")?;
                self.input.skip(8, "consumer seen time")?;
                if t >= 21 {
                    self.input.skip(8, "consumer active time")?;
                }
                let pel = self.input.plain_len("consumer PEL")?;
                for _ in 0..pel {
                    self.input.skip(16, "consumer PEL entry")?;
                }
            }
        }
        Ok(())
    }

    /// Typed module values until `RDB_MODULE_OPCODE_EOF` (rdb.h: 0 EOF, 1 SINT, 2 UINT, 3 FLOAT, 4 DOUBLE, 5 STRING).
    fn module_values(&mut self) -> Result<(), RdbError> {
        loop {
            let at = self.input.offset();
            match self.input.plain_len("module opcode")? {
                0 => return Ok(()),
                1 | 2 => {
                    self.input.plain_len("module integer")?;
                }
                3 => self.input.skip(4, "module float")?,
                4 => self.input.skip(8, "module double")?,
                5 => {
                    self.skip_string("module string")?;
                }
                op => {
                    return Err(RdbError::corrupt(
                        at,
                        format!("unknown module value opcode {op}"),
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    const FIXTURES: [(&str, &[u8]); 6] = [
        (
            "encodings.rdb",
            include_bytes!("../tests/fixtures/encodings.rdb"),
        ),
        (
            "hash-zipmap.rdb",
            include_bytes!("../tests/fixtures/hash-zipmap.rdb"),
        ),
        (
            "list-quicklist.rdb",
            include_bytes!("../tests/fixtures/list-quicklist.rdb"),
        ),
        (
            "hash-ziplist.rdb",
            include_bytes!("../tests/fixtures/hash-ziplist.rdb"),
        ),
        (
            "zset-ziplist.rdb",
            include_bytes!("../tests/fixtures/zset-ziplist.rdb"),
        ),
        (
            "corrupt_ziplist.rdb",
            include_bytes!("../tests/fixtures/corrupt_ziplist.rdb"),
        ),
    ];

    /// Hands out at most `step` bytes per read: many more reads than chunks in flight, and values that straddle
    /// the read buffer (the copying path of `encoded` instead of the in-buffer one).
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

    fn outcome(r: Result<(Report, String), RdbError>) -> Result<(u64, u64, String), String> {
        r.map(|(report, sha)| (report.keys, report.bytes, sha))
            .map_err(|e| e.to_string())
    }

    fn parser<R: Read>(reader: R) -> Parser<R> {
        Parser {
            input: Input::new(reader),
            limits: Limits::default(),
            report: Report::default(),
            valkey: false,
            per_type: [0; 256],
            scratch: Vec::new(),
            header: String::new(),
            lzf_window: Vec::new(),
        }
    }

    #[test]
    fn the_fast_string_skip_ends_where_the_general_one_does_and_counts_the_same_length() {
        // "hello"; RDB_ENC_INT8 7; INT16; INT32; an empty string; "abc" LZF-compressed (RDB_ENC_LZF, compressed and
        // plain lengths, one literal run: general path only); a 70-byte one (14-bit length: general path only); a
        // 63-byte one; then an 0xFF opcode, so that each skip must end on the right byte.
        let mut data = vec![
            5, b'h', b'e', b'l', b'l', b'o', 0xC0, 7, 0xC1, 1, 2, 0xC2, 1, 2, 3, 4, 0,
        ];
        data.extend([0xC3, 4, 3, 2, b'a', b'b', b'c']);
        data.extend([0x40, 70]);
        data.extend([b'x'; 70]);
        data.push(63);
        data.extend([b'y'; 63]);
        data.push(0xFF);
        let want = [5, 1, 2, 4, 0, 3, 70, 63];
        let general = |mut p: Parser<Trickle>| -> (Vec<u64>, u64) {
            let lens = want
                .iter()
                .map(|_| p.skip_any_string("t").unwrap())
                .collect();
            (lens, p.input.offset())
        };
        let end = (data.len() - 1) as u64;
        // Whole in the buffer (the fast path), one byte per read (the general path at every string), and split.
        for step in [data.len(), 1, 3, 7] {
            let mut fast = parser(Trickle { data: &data, step });
            let lens: Vec<u64> = want
                .iter()
                .map(|_| fast.skip_string("t").unwrap())
                .collect();
            assert_eq!(lens, want, "read step {step}");
            assert_eq!(fast.input.offset(), end, "read step {step}");
            assert_eq!(fast.input.u8("t").unwrap(), 0xFF);
            assert_eq!(
                general(parser(Trickle { data: &data, step })),
                (want.to_vec(), end)
            );
        }
        // An int32 cut short is Truncated, as in the general path.
        let mut cut = parser(&[0xC2u8, 1, 2][..]);
        assert!(matches!(
            cut.skip_string("t"),
            Err(RdbError::Truncated { .. })
        ));
    }

    #[test]
    fn the_hashing_thread_gives_the_inline_result_for_every_fixture_and_read_size() {
        for (name, bytes) in FIXTURES {
            let inline = outcome(check_and_hash_inline(bytes));
            if let Ok((_, read, sha)) = &inline {
                assert_eq!(*sha, hex(&Sha256::digest(bytes)), "{name}");
                assert_eq!(*read, bytes.len() as u64, "{name}");
            }
            for step in [1, 7, 4096, usize::MAX] {
                let threaded = outcome(check_and_hash_on_a_thread(Trickle { data: bytes, step }));
                assert_eq!(threaded, inline, "{name}, reads of {step} bytes");
                let trickled = outcome(check_and_hash_inline(Trickle { data: bytes, step }));
                assert_eq!(trickled, inline, "{name}, inline, reads of {step} bytes");
            }
        }
        assert!(
            outcome(check_and_hash_inline(FIXTURES[5].1)).is_err(),
            "the corrupt fixture must fail, so the error path is compared too"
        );
    }

    #[test]
    fn a_check_that_fails_early_stops_the_reading_thread_without_reading_on() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        /// A valid header, then an unknown type byte for 64 chunks (a reader that kept reading after the check
        /// stopped would read them all, and the bound below would fail rather than the test hang).
        struct Endless<'a>(&'a AtomicUsize);
        impl Read for Endless<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                if self.0.load(Ordering::Relaxed) >= 64 * READ_CHUNK {
                    return Ok(0);
                }
                let at = self.0.fetch_add(buf.len(), Ordering::Relaxed);
                for (i, b) in buf.iter_mut().enumerate() {
                    *b = *b"REDIS0011".get(at + i).unwrap_or(&0x7f);
                }
                Ok(buf.len())
            }
        }
        let read = AtomicUsize::new(0);
        let err = check_and_hash_on_a_thread(Endless(&read)).unwrap_err();
        assert!(err.to_string().contains("offset 9"), "{err}");
        assert!(
            read.load(Ordering::Relaxed) <= (HASH_CHUNKS_IN_FLIGHT + 3) * READ_CHUNK,
            "read {} bytes",
            read.load(Ordering::Relaxed)
        );
    }

    #[test]
    fn a_read_error_ends_the_threaded_check_with_it() {
        struct Failing;
        impl Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("connection reset"))
            }
        }
        let err = check_and_hash_on_a_thread(Failing).unwrap_err();
        assert!(err.to_string().contains("connection reset"), "{err}");
    }
}
