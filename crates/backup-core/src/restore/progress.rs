//! The new group's progress ([`RestoreProgress`]): its status ([`GroupStatus`]) and how it is seeded ([`SeedFrom`]).

use serde::{Deserialize, Serialize};

use crate::model::Timestamp;

/// `restore.status`: the new group's `Status` (Amazon ElastiCache API Reference, `ReplicationGroup`: "creating |
/// available | modifying | deleting | create-failed | snapshotting"); a value AWS adds later is kept in `Other`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum GroupStatus {
    /// `creating`.
    #[default]
    Creating,
    /// `available` (the `IsGroupReady` Choice state compares with this).
    Available,
    /// `modifying`.
    Modifying,
    /// `deleting`.
    Deleting,
    /// `create-failed`.
    CreateFailed,
    /// `snapshotting`.
    Snapshotting,
    /// Any other value, as reported.
    Other(String),
}

impl GroupStatus {
    /// Every documented value.
    pub const KNOWN: &'static [&'static str] = &[
        "creating",
        "available",
        "modifying",
        "deleting",
        "create-failed",
        "snapshotting",
    ];

    /// The string ElastiCache uses.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Creating => "creating",
            Self::Available => "available",
            Self::Modifying => "modifying",
            Self::Deleting => "deleting",
            Self::CreateFailed => "create-failed",
            Self::Snapshotting => "snapshotting",
            Self::Other(s) => s,
        }
    }
}

impl From<String> for GroupStatus {
    fn from(s: String) -> Self {
        match s.as_str() {
            "creating" => Self::Creating,
            "available" => Self::Available,
            "modifying" => Self::Modifying,
            "deleting" => Self::Deleting,
            "create-failed" => Self::CreateFailed,
            "snapshotting" => Self::Snapshotting,
            _ => Self::Other(s),
        }
    }
}

impl From<GroupStatus> for String {
    fn from(s: GroupStatus) -> Self {
        match s {
            GroupStatus::Other(s) => s,
            known => known.as_str().to_string(),
        }
    }
}

impl std::fmt::Display for GroupStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the group is seeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SeedFrom {
    /// `SnapshotArns`: the exported S3 objects.
    SnapshotArns,
    /// `SnapshotName`: the run's ElastiCache snapshot, kept.
    SnapshotName,
}

/// Progress of the new group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreProgress {
    /// The new group.
    pub replication_group_id: String,
    /// Its status.
    pub status: GroupStatus,
    /// True once this execution's CreateReplicationGroup was accepted (or its own group found): the only case in
    /// which a clean-up may delete it.
    pub created: bool,
    /// How it is seeded.
    pub from: SeedFrom,
    /// When CreateReplicationGroup was called.
    #[serde(with = "time::serde::rfc3339")]
    pub requested_at: Timestamp,
    /// When it must be `available`.
    #[serde(with = "time::serde::rfc3339")]
    pub deadline: Timestamp,
    /// When a check first saw it `available`.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub available_at: Option<Timestamp>,
    /// Measured recovery time: CreateReplicationGroup to verified data, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rto_seconds: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn group_status_keeps_unknown_values() {
        let s: GroupStatus = serde_json::from_value(json!("restoring-later")).unwrap();
        assert_eq!(s, GroupStatus::Other("restoring-later".into()));
        assert_eq!(
            serde_json::to_value(GroupStatus::CreateFailed).unwrap(),
            "create-failed"
        );
    }
}
