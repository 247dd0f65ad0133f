//! [`Kind`]: the seven value types, as `TYPE` names them, the `--type` flag takes them and RDB type bytes map to them.

use clap::ValueEnum;

/// A value type, as `TYPE` names it (and the `--type` flag takes it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, ValueEnum)]
pub enum Kind {
    /// Strings (plain, integer, LZF-compressed).
    String,
    /// Lists.
    List,
    /// Sets.
    Set,
    /// Sorted sets.
    Zset,
    /// Hashes.
    Hash,
    /// Streams.
    Stream,
    /// Module values (e.g. Bloom filters).
    Module,
}

impl Kind {
    /// Every kind, in `TYPE`'s order.
    pub const ALL: [Self; 7] = [
        Self::String,
        Self::List,
        Self::Set,
        Self::Zset,
        Self::Hash,
        Self::Stream,
        Self::Module,
    ];

    /// The name `TYPE` gives (`string`, …, `module`; Redis says the module type's name, we say `module`).
    pub fn name(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::List => "list",
            Self::Set => "set",
            Self::Zset => "zset",
            Self::Hash => "hash",
            Self::Stream => "stream",
            Self::Module => "module",
        }
    }

    /// The kind of a name ([`Kind::name`]; also `KeyEntry::kind`).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The kind of an RDB value type byte (rdb.h `RDB_TYPE_*`, Redis and Valkey), `None` for one no engine writes.
    pub fn of_type_byte(t: u8) -> Option<Self> {
        Some(match t {
            0 => Self::String,
            1 | 10 | 14 | 18 => Self::List,
            2 | 11 | 20 => Self::Set,
            3 | 5 | 12 | 17 => Self::Zset,
            4 | 9 | 13 | 16 | 22..=25 => Self::Hash,
            6 | 7 => Self::Module,
            15 | 19 | 21 => Self::Stream,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_bytes_map_to_the_seven_kinds() {
        assert_eq!(Kind::of_type_byte(0), Some(Kind::String));
        assert_eq!(Kind::of_type_byte(18), Some(Kind::List));
        assert_eq!(Kind::of_type_byte(20), Some(Kind::Set));
        assert_eq!(Kind::of_type_byte(5), Some(Kind::Zset));
        assert_eq!(Kind::of_type_byte(25), Some(Kind::Hash));
        assert_eq!(Kind::of_type_byte(21), Some(Kind::Stream));
        assert_eq!(Kind::of_type_byte(7), Some(Kind::Module));
        assert_eq!(Kind::of_type_byte(8), None);
        assert_eq!(Kind::of_type_byte(26), None);
        for k in Kind::ALL {
            assert_eq!(Kind::from_name(k.name()), Some(k));
        }
    }
}
