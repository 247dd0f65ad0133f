//! The clean-up of the group a restore created: the failure that leads to it ([`FailedStep`]), what it decides
//! ([`cleanup_action`]) and what it records ([`RestoreCleanup`]).

use serde::{Deserialize, Serialize};

use super::progress::GroupStatus;
use crate::error::BackupError;
use crate::model::Timestamp;

/// What the clean-up did with the restored group.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::VariantNames,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum GroupCleanup {
    /// DeleteReplicationGroup accepted.
    Deleted,
    /// Already gone.
    AlreadyDeleted,
    /// This execution created nothing (or the group is not tagged as its own): nothing touched.
    NothingToDelete,
    /// A restore (not a drill) failed after creating its group: the group is kept, tagged with its verdict.
    Kept,
}

/// The restore clean-up record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreCleanup {
    /// Outcome.
    pub restored_group: GroupCleanup,
    /// The verdict a kept group was tagged with ([`RESTORE_VERDICT_TAG`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<RestoreVerdict>,
    /// One sentence for a person (the failed execution's cause ends with it): what happened to the group and what
    /// to do.
    #[serde(default)]
    pub note: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: Timestamp,
}

/// Tag key a restored group gets when the restore fails after creating it and the group is kept (docs/design.md §7c:
/// only drills, and groups ElastiCache reports `create-failed`, are deleted); the value is a [`RestoreVerdict`].
pub const RESTORE_VERDICT_TAG: &str = "elasticache-backup:restore-verdict";

/// The value of [`RESTORE_VERDICT_TAG`] on a kept group.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::VariantNames,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum RestoreVerdict {
    /// The data could not be checked (unreachable, timed out, not yet `available`, a node `restore-failed`): it
    /// may well be right.
    Unverified,
    /// VerifyRestore compared the data with the manifest and it differs (`RestoreMismatch`; the report says how).
    Mismatch,
}

/// The error a Catch recorded and the step it came from, as the `…Failed` Pass states of
/// `terraform/restore.asl.json` write it to `$.failed`: `{"step": "VerifyRestore", "failure": {"Error": "…",
/// "Cause": "…"}}`. Present only on a failure path.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedStep {
    /// The state that failed.
    #[serde(default)]
    pub step: String,
    /// Its error.
    #[serde(default)]
    pub failure: StepFailure,
}

/// A Catch's error output (Step Functions Developer Guide, "Handling errors": `Error` and `Cause`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepFailure {
    /// The error name, e.g. `RestoreMismatch`.
    #[serde(rename = "Error", default)]
    pub error: String,
    /// The cause text.
    #[serde(rename = "Cause", default)]
    pub cause: String,
}

/// What the clean-up does with the group this execution created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CleanupAction {
    /// Delete it: a drill's group, or one ElastiCache reports `create-failed`.
    Delete,
    /// Keep it and tag it with the verdict: a restore that failed after creating its group.
    Keep(RestoreVerdict),
}

/// Decides, from the request, the failure (None at the end of a drill that succeeded) and the group's current
/// status, whether the clean-up deletes the group this execution created. A restore that is not a drill never
/// deletes a group ElastiCache has not reported `create-failed`: once created, the group may hold the only usable
/// copy of the data a person is waiting for (docs/design.md §7c).
pub fn cleanup_action(
    drill: bool,
    failed: Option<&FailedStep>,
    status: &GroupStatus,
) -> CleanupAction {
    if drill || *status == GroupStatus::CreateFailed {
        return CleanupAction::Delete;
    }
    let mismatch_name = BackupError::RestoreMismatch {
        message: String::new(),
    }
    .error_type();
    let mismatch = failed.is_some_and(|f| f.failure.error == mismatch_name);
    CleanupAction::Keep(if mismatch {
        RestoreVerdict::Mismatch
    } else {
        RestoreVerdict::Unverified
    })
}
