//! The new group's progress ([`RestoreProgress`]): its status ([`GroupStatus`]) and how it is seeded ([`SeedFrom`]).

use serde::{Deserialize, Serialize};

use crate::model::Timestamp;
use crate::resources::Endpoint;

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

impl GroupStatus {
    /// A serverless cache's `Status` (Amazon ElastiCache API Reference, `ServerlessCache`: "CREATING, AVAILABLE,
    /// DELETING, CREATE-FAILED and MODIFYING"; the case ElastiCache answers in is not documented): compared
    /// case-insensitively, so `CREATE-FAILED` is [`GroupStatus::CreateFailed`] as for a group.
    pub fn of_serverless(status: &str) -> Self {
        Self::from(status.to_ascii_lowercase())
    }
}

/// How the group is seeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SeedFrom {
    /// The exported S3 objects: `SnapshotArns` of CreateReplicationGroup, or the same S3 object ARNs in
    /// `SnapshotArnsToRestore` of CreateServerlessCache.
    SnapshotArns,
    /// The run's ElastiCache snapshot, kept: `SnapshotName` of CreateReplicationGroup, or its ARN in
    /// `SnapshotArnsToRestore` of CreateServerlessCache.
    SnapshotName,
}

/// Progress of the new group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreProgress {
    /// The new group; empty (and absent from the JSON) when the restore creates a serverless cache.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub replication_group_id: String,
    /// The new ElastiCache Serverless cache, when the restore creates one (instead of a group).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serverless_cache_name: Option<String>,
    /// The serverless cache's `Endpoint`, once CheckGroup saw it `available`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<Endpoint>,
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

impl RestoreProgress {
    /// What was created: the serverless cache, else the group.
    pub fn target(&self) -> super::RestoreTarget<'_> {
        match &self.serverless_cache_name {
            Some(name) => super::RestoreTarget::Serverless(name),
            None => super::RestoreTarget::ReplicationGroup(&self.replication_group_id),
        }
    }
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
        assert_eq!(
            GroupStatus::of_serverless("CREATE-FAILED"),
            GroupStatus::CreateFailed
        );
        assert_eq!(
            GroupStatus::of_serverless("AVAILABLE"),
            GroupStatus::Available
        );
        assert_eq!(
            GroupStatus::of_serverless("Modifying"),
            GroupStatus::Modifying
        );
    }
}
