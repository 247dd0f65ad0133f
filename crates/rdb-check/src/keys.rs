//! The key walk: every key of an RDB file handed to a visitor, with its database, type, encoding, expiry and size, and
//! on request its value's logical digest and its `DUMP` payload — read by the same parser as [`crate::check`], every
//! check still made, in bounded memory (a payload is built only for the keys the visitor asks it of, up to
//! [`WalkOptions::max_payload_bytes`]).
//!
//! The `DUMP` payload (Redis `cluster.c` / `rdb.c` `createDumpPayload`, `verifyDumpPayload`): the value's type byte,
//! the value serialized exactly as the RDB file holds it (`rdbSaveObject`), the RDB version (2 bytes, little-endian)
//! and the CRC-64 (Jones, as the file's, 8 bytes little-endian) of everything before it. `RESTORE key ttl payload`
//! rebuilds the key from it on any server whose RDB version is at least the payload's, every type and encoding
//! exactly. A server saves a key and `DUMP`s it the same way, so the payload built from a file is byte for byte what
//! the server that wrote the file answers to `DUMP` for that key.

use std::io::Read;

use crc_fast::{CrcAlgorithm, Digest};

use crate::error::RdbError;
use crate::parser;
use crate::report::{Limits, Report};

/// What to gather for a key the visitor wants (besides its name, type, expiry and size, which it always gets).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Want {
    /// The value's logical digest ([`KeyEntry::digest`]).
    pub digest: bool,
    /// The `DUMP` payload ([`KeyEntry::payload`]).
    pub payload: bool,
}

/// Told about every key of a file, in file order.
pub trait KeyVisitor {
    /// Called once the key's name is read, before its value: `None` skips the key (its value is still checked, but
    /// not digested or copied, and [`Self::key`] is not called for it). `type_byte` is rdb.h's `RDB_TYPE_*`.
    fn want(&mut self, db: u64, key: &[u8], type_byte: u8) -> Option<Want>;
    /// Called after the value of a wanted key; `false` stops the walk ([`walk`] returns [`WalkEnd::Stopped`]).
    fn key(&mut self, entry: &KeyEntry<'_>) -> bool;
}

/// One key, as the walk hands it over.
#[derive(Debug)]
pub struct KeyEntry<'a> {
    /// The database (`SELECTDB`).
    pub db: u64,
    /// The key's bytes (an integer-encoded key as its decimal text, an LZF one decompressed).
    pub key: &'a [u8],
    /// rdb.h `RDB_TYPE_*`.
    pub type_byte: u8,
    /// `string`, `list`, `set`, `zset`, `hash`, `stream` or `module`.
    pub kind: &'static str,
    /// The encoding, named as in [`Report::encodings`] (`hash-listpack`, `set-intset`, `list-quicklist-2`, …).
    pub encoding: &'static str,
    /// Absolute expiry, Unix milliseconds (`EXPIRETIME` in seconds made milliseconds, `EXPIRETIME_MS`); `None` for a
    /// key without one. A key whose expiry is past is still in the file (the loader drops it).
    pub expires_at_ms: Option<i64>,
    /// Bytes the key takes in the file: from its type byte to the end of its value (the expiry, LRU and LFU opcodes
    /// before it not counted).
    pub size_bytes: u64,
    /// File offset of the type byte.
    pub offset: u64,
    /// The value's logical digest when [`Want::digest`] (module `digest`: equal for equal values whatever their
    /// encoding; order-insensitive for sets, hashes and sorted sets; integers as their decimal text; scores as `f64`;
    /// streams and module values by their serialized bytes). The key's own expiry is not in it.
    pub digest: Option<[u8; 32]>,
    /// The `DUMP` payload when [`Want::payload`] and it is at most [`WalkOptions::max_payload_bytes`] long.
    pub payload: Option<&'a [u8]>,
    /// The length the `DUMP` payload has (type byte, value and the 10-byte footer), bytes, built or not.
    pub payload_bytes: u64,
    /// A module value's module type name (type 7: the nine characters of its 64-bit id, module.c
    /// `moduleTypeNameByID`, e.g. `MBbloom--`); `None` for every other type.
    pub module: Option<String>,
}

/// How the walk works.
#[derive(Debug, Clone)]
pub struct WalkOptions {
    /// The longest `DUMP` payload built in memory, bytes (default 512 MiB: `proto-max-bulk-len`'s default, which
    /// no `RESTORE` can exceed anyway). Longer ones come back as [`KeyEntry::payload`] `None`.
    pub max_payload_bytes: u64,
}

impl Default for WalkOptions {
    fn default() -> Self {
        Self {
            max_payload_bytes: 512 * 1024 * 1024,
        }
    }
}

/// How a walk ended.
#[derive(Debug)]
pub enum WalkEnd {
    /// The whole file was read and checked, its CRC-64 included: its report.
    Finished(Box<Report>),
    /// The visitor stopped the walk (the rest of the file was not read or checked).
    Stopped,
}

/// Walks every key of one RDB stream, as [`crate::check`] checks it.
///
/// # Errors
/// [`RdbError`] as [`crate::check`] gives it. Keys already handed to the visitor stay handed over: a caller that must
/// not act on a file that turns out corrupt checks it whole first.
pub fn walk<R: Read>(
    reader: R,
    options: &WalkOptions,
    visitor: &mut dyn KeyVisitor,
) -> Result<WalkEnd, RdbError> {
    Ok(
        match parser::walk_source(reader, Limits::default(), options, visitor)? {
            Some(report) => WalkEnd::Finished(Box::new(report)),
            None => WalkEnd::Stopped,
        },
    )
}

/// A `DUMP` payload read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpValue {
    /// rdb.h `RDB_TYPE_*`.
    pub type_byte: u8,
    /// As [`KeyEntry::kind`].
    pub kind: &'static str,
    /// As [`KeyEntry::encoding`].
    pub encoding: &'static str,
    /// The RDB version the payload says it is (its footer).
    pub rdb_version: u16,
    /// The value's logical digest, as [`KeyEntry::digest`] computes it.
    pub digest: [u8; 32],
    /// The type byte and the value, bytes (the payload without its footer).
    pub size_bytes: u64,
}

/// Reads a payload `DUMP` returned (rdb.c `verifyDumpPayload`: the footer's CRC-64 and an RDB version this parser
/// reads), then its value with the parser files are read with.
///
/// # Errors
/// [`RdbError::ChecksumMismatch`] for a wrong CRC-64, [`RdbError::UnsupportedVersion`] for a version this parser
/// does not read, [`RdbError::Corrupt`] / [`RdbError::UnknownType`] for a value that is not sound.
pub fn read_dump_payload(payload: &[u8]) -> Result<DumpValue, RdbError> {
    parser::dump_value(payload)
}

/// The RDB version a `DUMP` payload says (its footer's first 2 bytes, little-endian); `None` for one shorter than the
/// 10-byte footer.
pub fn payload_rdb_version(payload: &[u8]) -> Option<u16> {
    let n = payload.len();
    (n >= 10).then(|| u16::from_le_bytes([payload[n - 10], payload[n - 9]]))
}

/// CRC-64 as Redis computes it for files and payloads (`crc64.c`: Jones polynomial, reflected, initial 0).
pub(crate) fn crc64(bytes: &[u8]) -> u64 {
    let mut d = Digest::new(CrcAlgorithm::Crc64Redis);
    d.update(bytes);
    d.finalize()
}
