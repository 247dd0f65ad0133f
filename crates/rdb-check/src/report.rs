//! What a check reports ([`Report`], [`DbReport`], [`SampledKey`]) and the memory bounds it keeps to ([`Limits`]).
//! Shared by the parser, which fills the report, and the crate's entry points, which return it.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::slots::SlotSet;

/// Memory bounds.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest single encoded value (one ziplist/listpack/intset/zipmap, after LZF) held in memory, bytes.
    pub max_encoded_value_bytes: u64,
    /// Keys recorded in [`Report::sample`] (the first ones read whose names are UTF-8 and at most
    /// [`MAX_SAMPLED_KEY_BYTES`] long, up to [`MAX_SAMPLE_NAME_BYTES`] of names in all).
    pub sample_keys: usize,
}

/// Longest key name taken into the sample, bytes.
pub const MAX_SAMPLED_KEY_BYTES: u64 = 1024;

/// Most bytes of key names in the whole sample, as JSON writes them (`"`, `\\` and control characters escaped):
/// sampling ends at the first key that would go past it. It bounds the sample a resumable check carries in its
/// [`Checkpoint`](crate::Checkpoint) (and the manifest's), whatever the key names.
pub const MAX_SAMPLE_NAME_BYTES: usize = 1536;

/// Bytes of `text` as a JSON string's content (without the quotes): `"` and `\` take 2, the other control
/// characters below 0x20 up to 6 (`\u001f`), every other byte 1.
pub(crate) fn json_len(text: &str) -> usize {
    text.bytes()
        .map(|b| match b {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 2,
            0..=0x1f => 6,
            _ => 1,
        })
        .sum()
}

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
    /// The Redis Cluster hash slots of the keys, all databases ([`key_slot`](crate::slots::key_slot): CRC16 of the
    /// key or its hash tag, modulo 16384), computed from every key's bytes as they are read. Whether keys lie outside
    /// database 0 (which a cluster-mode-enabled Redis OSS or Valkey before 9.0 cannot load) is in
    /// [`Report::databases`]; see [`Report::keys_outside_db0`].
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
    /// Valkey refuses to load), is [`RdbError::Corrupt`](crate::error::RdbError::Corrupt). `slot-info` fields are
    /// not copied into [`Report::aux`].
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
