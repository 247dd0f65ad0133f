//! The new group's progress ([`RestoreProgress`]): its status ([`GroupStatus`]) and how it is seeded ([`SeedFrom`]).

use serde::{Deserialize, Serialize};

use crate::model::Timestamp;

crate::known_values! {
    /// `restore.status`: the new group's `Status` (Amazon ElastiCache API Reference, `ReplicationGroup`: "creating |
    /// available | modifying | deleting | create-failed | snapshotting"); a value AWS adds later is kept in `Other`.
    #[derive(Default)]
    pub enum GroupStatus {
        /// `creating`.
        #[default]
        Creating = "creating",
        /// `available` (the `IsGroupReady` Choice state compares with this).
        Available = "available",
        /// `modifying`.
        Modifying = "modifying",
        /// `deleting`.
        Deleting = "deleting",
        /// `create-failed`.
        CreateFailed = "create-failed",
        /// `snapshotting`.
        Snapshotting = "snapshotting",
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
