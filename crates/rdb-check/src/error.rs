//! [`RdbError`]: why a file is not a sound RDB, and where; and [`MAX_REDIS_VERSION`], past which a `REDIS` file is
//! in a format this checker does not know.

/// Highest `REDIS` RDB version understood (Redis 7.4 writes 12).
pub const MAX_REDIS_VERSION: u32 = 12;

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
    /// A checkpoint to resume from ([`crate::Checkpoint`]) cannot be used: another format version, or a state that
    /// is not valid. Nothing of the file is judged by it; the check starts again from the first byte.
    #[error("checkpoint refused: {reason}; the check must start again from the first byte")]
    Checkpoint {
        /// What is wrong with it.
        reason: String,
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
    /// An RDB format this checker does not know: a `REDIS` version above [`MAX_REDIS_VERSION`] or 0, or a
    /// `VALKEY` version other than 80. Most likely written by an engine version newer than this tool (see the crate
    /// documentation's table of engine versions): [`RdbError::is_unsupported_format`].
    #[error(
        "unsupported RDB format {header}: this checker reads REDIS0001 to REDIS{max:04} and VALKEY080; a newer \
         engine version than this tool knows may have written it (upgrade elasticache-backup)",
        max = MAX_REDIS_VERSION
    )]
    UnsupportedVersion {
        /// The file's magic and version as its header spells them, e.g. `REDIS0013`, `VALKEY081`.
        header: String,
        /// The version number from the header, e.g. 13, 81.
        version: u32,
    },
    /// A byte where an opcode or value type belongs that is neither in the file's RDB format version. Either a newer
    /// engine version wrote a type or opcode this checker does not know, or the file is corrupt:
    /// [`RdbError::is_unsupported_format`] says the former may be the case.
    #[error(
        "unknown opcode or value type {byte} at offset {offset} in an RDB of format {header}: either a newer engine \
         version than this tool knows wrote a type it does not read (upgrade elasticache-backup), or the file is \
         corrupt"
    )]
    UnknownType {
        /// The byte read.
        byte: u8,
        /// Where.
        offset: u64,
        /// The file's magic and version as its header spells them, e.g. `REDIS0011`, `VALKEY080`.
        header: String,
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
    /// Whether the file may be sound but in a format this checker does not know, rather than corrupt: an RDB version
    /// newer than it knows or a magic version it does not know ([`RdbError::UnsupportedVersion`]), or an unknown
    /// opcode or value type byte ([`RdbError::UnknownType`], which may also be corruption: its message says both).
    /// A caller should then keep the source and ask for a newer checker instead of calling the backup corrupt.
    #[must_use]
    pub fn is_unsupported_format(&self) -> bool {
        matches!(
            self,
            Self::UnsupportedVersion { .. } | Self::UnknownType { .. }
        )
    }

    pub(crate) fn corrupt(offset: u64, what: impl Into<String>) -> Self {
        Self::Corrupt {
            offset,
            what: what.into(),
        }
    }
}
