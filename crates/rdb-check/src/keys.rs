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

use crate::error::RdbError;
use crate::parser;
use crate::report::Limits;

pub use crate::visit::{DumpValue, KeyEntry, KeyVisitor, WalkEnd, WalkOptions, Want};

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
