//! The shared vocabulary of every workflow, a leaf of the crate (it imports nothing from it): timestamps, the
//! statuses ElastiCache and the state machines use, node roles, cluster mode, shards, what the RDB checker found in an
//! object, and the one "known values or `Other(String)`" shape of the statuses AWS may extend.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Timestamps in the document are RFC 3339, UTC.
pub type Timestamp = OffsetDateTime;

/// Which target a backup is of: the kind of id, the id (lower-cased) and the target's creation time. Two backups
/// are of the same target only when all three are equal: a replication group and a standalone cluster of the same
/// id are two targets, and so are a group and the group re-created under its id (docs/design.md §7c).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TargetIdentity {
    /// `replication-group` or `cache-cluster`.
    pub kind: &'static str,
    /// The id, lower-cased.
    pub id: String,
    /// The creation time, RFC 3339 (empty when the manifest did not record it).
    pub created_at: String,
}

impl std::fmt::Display for TargetIdentity {
    /// `replication-group orders (created 2026-01-02T03:04:05Z)`, or without the parenthesis when not recorded.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.kind, self.id)?;
        if !self.created_at.is_empty() {
            write!(f, " (created {})", self.created_at)?;
        }
        Ok(())
    }
}

/// RFC 3339 text of `t` (empty if it cannot be formatted).
pub fn rfc3339(t: Timestamp) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// One shard of the source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShardInfo {
    /// `NodeGroupId`.
    pub node_group_id: String,
    /// `Slots`, e.g. `0-5460` (cluster mode enabled only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slots: Option<String>,
}

/// Declares a status AWS reports as a string and may extend: one variant per documented value (`Variant = "text"`),
/// plus `Other(String)` that keeps any value AWS adds later, verbatim. Generates `KNOWN` (every documented value, as
/// serialized: the contract tests compare the Choice states with it), `as_str`, `From<&str>`, `From<String>`,
/// `From<Self> for String`, `Display`, and serde as the plain string. The one shape of every such status in the
/// crate ([`SnapshotStatus`], `restore::GroupStatus`).
#[macro_export]
macro_rules! known_values {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(from = "String", into = "String")]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// Any other value, as reported.
            Other(String),
        }

        impl $name {
            /// Every documented value, as serialized.
            pub const KNOWN: &'static [&'static str] = &[$($text),+];

            /// The string AWS uses.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $text, )+
                    Self::Other(s) => s,
                }
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s {
                    $( $text => Self::$variant, )+
                    other => Self::Other(other.to_string()),
                }
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self::from(s.as_str())
            }
        }

        impl From<$name> for String {
            fn from(s: $name) -> Self {
                match s {
                    $name::Other(s) => s,
                    known => known.as_str().to_string(),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

known_values! {
    /// `SnapshotStatus` of an ElastiCache snapshot (Amazon ElastiCache API Reference, `Snapshot`: "creating |
    /// available | restoring | copying | deleting"; `failed` from the User Guide's `ElastiCache:SnapshotFailed`). A
    /// value AWS adds later is kept verbatim in [`SnapshotStatus::Other`] and counts as in progress. JSON: the plain
    /// string.
    #[derive(Default)]
    pub enum SnapshotStatus {
        /// `creating`: BGSAVE under way (also a snapshot whose status is not reported yet).
        #[default]
        Creating = "creating",
        /// `available`: ready to export (the `IsSnapshotReady` Choice state compares with this).
        Available = "available",
        /// `restoring`: a cluster is being created from it.
        Restoring = "restoring",
        /// `copying`: a CopySnapshot (export) is reading it.
        Copying = "copying",
        /// `deleting`.
        Deleting = "deleting",
        /// `failed`.
        Failed = "failed",
    }
}

/// `export.status` (the `IsExportComplete` Choice state compares with `complete`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::VariantNames,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum ExportStatus {
    /// CopySnapshot accepted; objects not all in S3 yet.
    Exporting,
    /// Every shard's object is in S3 and non-empty.
    Complete,
}

/// The role of the node snapshotted (`NodeGroupMember.CurrentRole`, read at run time).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::VariantNames,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum NodeRole {
    /// A read replica: the primary never forks for BGSAVE.
    Replica,
    /// The primary (no available replica, or a standalone cluster's only node).
    Primary,
    /// Cluster mode enabled: the snapshot is of the replication group; ElastiCache picks a node per shard.
    Group,
    /// A resumed snapshot of a node no longer in the group.
    Unknown,
}

impl NodeRole {
    /// Parses `CurrentRole` as ElastiCache reports it (`primary` | `replica`); anything else is `None`.
    pub fn from_current_role(role: &str) -> Option<Self> {
        match role {
            r if r.eq_ignore_ascii_case("primary") => Some(Self::Primary),
            r if r.eq_ignore_ascii_case("replica") => Some(Self::Replica),
            _ => None,
        }
    }
}

/// Cluster mode of the source (`ReplicationGroup.ClusterEnabled`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::VariantNames,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum ClusterMode {
    /// Sharded: one `.rdb` per shard, restored with `Slots`.
    Enabled,
    /// One shard (a replication group without cluster mode, or a standalone cluster).
    Disabled,
}

impl ClusterMode {
    /// `Enabled` when `ClusterEnabled` is true.
    pub fn from_cluster_enabled(enabled: bool) -> Self {
        if enabled {
            Self::Enabled
        } else {
            Self::Disabled
        }
    }
}

/// What DeleteSnapshot did with the source snapshot.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::VariantNames,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum CleanupOutcome {
    /// DeleteSnapshot accepted.
    Deleted,
    /// `SnapshotNotFoundFault`: someone (a duplicate of this execution) deleted it first.
    AlreadyDeleted,
    /// `keepSourceSnapshot` was set.
    Kept,
}

/// What one RDB file holds, as the checker found it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RdbSummary {
    /// `REDIS` or `VALKEY`.
    pub magic: String,
    /// RDB version from the header.
    pub version: u32,
    /// CRC-64 stored in the file, hex; `None` when the file has none.
    #[serde(default)]
    pub crc64: Option<String>,
    /// The `redis-ver` AUX field (the engine version that wrote the file).
    #[serde(default)]
    pub redis_version: Option<String>,
    /// Keys per database number.
    #[serde(default)]
    pub databases: BTreeMap<u64, DbSummary>,
    /// Keys in all databases.
    pub keys: u64,
    /// Keys with an expiry.
    pub keys_with_expiry: u64,
    /// Keys per type (`string`, `list`, `set`, `zset`, `hash`, `stream`, `module`).
    #[serde(default)]
    pub types: BTreeMap<String, u64>,
    /// Keys per on-disk encoding (`hash-listpack`, …).
    #[serde(default)]
    pub encodings: BTreeMap<String, u64>,
    /// Function libraries.
    #[serde(default)]
    pub functions: u64,
    /// The first keys the checker read (version 3), for the restore's "present, with this type" check.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sample: Vec<KeySample>,
    /// The hash slots the file's keys fall in (version 4), as ranges `"0-5460"` (see [`crate::slots`]): computed
    /// from every key (CRC16 of the key or its hash tag, Redis Cluster specification), empty for a file without
    /// keys. `None` in older manifests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slots: Option<String>,
}

/// One sampled key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeySample {
    /// Database number.
    pub db: u64,
    /// Key name (UTF-8 names only).
    pub key: String,
    /// `string`, `list`, `set`, `zset`, `hash`, `stream` or `module` (as `TYPE` answers, but `module` for module
    /// types).
    #[serde(rename = "type")]
    pub key_type: String,
}

/// Keys of one database.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DbSummary {
    /// Keys.
    pub keys: u64,
    /// Keys with an expiry (`keys_with_expiry` in version 1).
    #[serde(alias = "keys_with_expiry")]
    pub keys_with_expiry: u64,
}

/// One exported object read end to end and checked (also the result of a per-shard VerifyExport invocation, so
/// it travels as JSON: `{"key", "sizeBytes", "sha256", "rdb"}`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifiedObject {
    /// S3 key.
    pub key: String,
    /// Bytes read (the whole object).
    pub size_bytes: u64,
    /// SHA-256 of the object, 64 lower-case hex digits.
    pub sha256: String,
    /// What the RDB holds (version, keys, types, CRC-64), as the manifest records it.
    pub rdb: RdbSummary,
}

macro_rules! display_as_serialized {
    ($($t:ty),*) => {$(
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(<&'static str>::from(*self))
            }
        }
    )*};
}
display_as_serialized!(ExportStatus, NodeRole, ClusterMode, CleanupOutcome);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_value_round_trips_and_an_unknown_one_is_kept_verbatim() {
        for text in SnapshotStatus::KNOWN {
            let status = SnapshotStatus::from(*text);
            assert!(!matches!(status, SnapshotStatus::Other(_)), "{text}");
            assert_eq!(String::from(status.clone()), *text);
            assert_eq!(
                serde_json::to_string(&status).unwrap(),
                format!("\"{text}\"")
            );
        }
        let later: SnapshotStatus = serde_json::from_str("\"exporting-to-glacier\"").unwrap();
        assert_eq!(later, SnapshotStatus::Other("exporting-to-glacier".into()));
        assert_eq!(later.to_string(), "exporting-to-glacier");
        assert_eq!(SnapshotStatus::default(), SnapshotStatus::Creating);
    }
}
