//! What a paused check carries between two invocations ([`ParserState`]) and what decides where it pauses
//! ([`Pause`]): shared by the parser, which fills and reads the state, and [`crate::resume`], which wraps it in a
//! [`crate::Checkpoint`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::RdbError;

/// Asked by a resumable check before an opcode whether to stop there.
pub trait Pause {
    /// `offset` is where the next opcode starts. Returns `None` to stop here, or the offset from which to ask again
    /// (the check asks again before the first opcode at or after it).
    fn poll(&mut self, offset: u64) -> Option<u64>;
}

/// The parser's state between two opcodes: everything a check counts, and the running CRC-64.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ParserState {
    /// Where the next opcode starts, bytes.
    pub(crate) offset: u64,
    /// The CRC-64's running state (not finalized), 16 hex digits.
    pub(crate) crc: String,
    /// The file's header (`REDIS0011`).
    pub(crate) header: String,
    /// The current database.
    pub(crate) db: u64,
    /// Keys of the current database not yet counted in `databases`, and those of them with an expiry.
    pub(crate) db_keys: [u64; 2],
    /// An EXPIRETIME read for the next key, Unix milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) expiry: Option<i64>,
    /// AUX fields.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) aux: BTreeMap<String, String>,
    /// Keys and keys with an expiry, per database counted so far.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) databases: BTreeMap<u64, [u64; 2]>,
    /// Keys and keys with an expiry counted in `databases`.
    pub(crate) keys: [u64; 2],
    /// Keys per value type byte.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) types: BTreeMap<u8, u64>,
    /// Function libraries.
    #[serde(default)]
    pub(crate) functions: u64,
    /// Module AUX records.
    #[serde(default)]
    pub(crate) module_aux: u64,
    /// The sample so far, in order, as runs of keys of one database and type: `[db, type, [key, …]]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) sample: Vec<(u64, String, Vec<String>)>,
    /// Bytes of key names the sample may still take.
    pub(crate) sample_room: usize,
    /// The hash slots of the keys so far, in the compact text form of `slots::compact`.
    pub(crate) slots: String,
    /// The slots the per-slot records named: `^` and the compact text form of the slots in exactly one of them and
    /// `slots` (in sound files, the slot whose record was read but not yet its keys, if any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) slot_info: Option<String>,
}

impl ParserState {
    /// The CRC-64 state `crc` as a number.
    pub(crate) fn crc_state(&self) -> Result<u64, RdbError> {
        (self.crc.len() == 16)
            .then(|| u64::from_str_radix(&self.crc, 16).ok())
            .flatten()
            .ok_or_else(|| RdbError::Checkpoint {
                reason: format!("crc {:?} is not 16 hex digits", self.crc),
            })
    }
}
