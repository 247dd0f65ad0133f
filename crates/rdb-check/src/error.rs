//! [`RdbError`]: why a file is not a sound RDB, and where.

/// A failed check. Offsets are byte offsets from the start of the file.
#[derive(Debug, thiserror::Error)]
pub enum RdbError {
    /// Reading the input failed.
    #[error("read failed at offset {offset}: {source}")]
    Io {
        /// Offset of the failed read.
        offset: u64,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file ends before the structure does.
    #[error("truncated at offset {offset}: {needed} more bytes expected ({context})")]
    Truncated {
        /// Where the input ended.
        offset: u64,
        /// Bytes still expected.
        needed: u64,
        /// What was being read.
        context: &'static str,
    },
    /// Not an RDB file: no `REDIS` / `VALKEY` magic.
    #[error("not an RDB file: header {found:?}")]
    BadMagic {
        /// The first bytes.
        found: String,
    },
    /// An RDB version this checker does not know.
    #[error("unsupported RDB version {version}")]
    UnsupportedVersion {
        /// The version in the header.
        version: u32,
    },
    /// An opcode that is neither a value type nor a known opcode.
    #[error("unknown opcode or value type {byte} at offset {offset}")]
    UnknownType {
        /// The byte read.
        byte: u8,
        /// Where.
        offset: u64,
    },
    /// A structure is inconsistent (the message says which rule failed).
    #[error("corrupt at offset {offset}: {what}")]
    Corrupt {
        /// Where (start of the structure for encoded values).
        offset: u64,
        /// The broken rule.
        what: String,
    },
    /// A length read off the file exceeds what this checker will hold in memory.
    #[error("at offset {offset}: {what} of {len} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// Where.
        offset: u64,
        /// What it is.
        what: &'static str,
        /// Its declared length.
        len: u64,
        /// The limit.
        limit: u64,
    },
    /// The trailing CRC-64 does not match the content.
    #[error("bad checksum: file says {expected:#018x}, content gives {actual:#018x}")]
    ChecksumMismatch {
        /// The checksum stored in the file.
        expected: u64,
        /// The checksum computed.
        actual: u64,
    },
}

impl RdbError {
    pub(crate) fn corrupt(offset: u64, what: impl Into<String>) -> Self {
        Self::Corrupt {
            offset,
            what: what.into(),
        }
    }
}
