//! The clean-up of the group a restore created: the failure that leads to it ([`FailedStep`]), what it decides
//! ([`cleanup_action`], [`CleanupContext::step`]) and what it records ([`RestoreCleanup`], with the note a person
//! reads).

use serde::{Deserialize, Serialize};

use super::group::RESTORE_TAG;
use super::progress::GroupStatus;
use crate::error::BackupError;
use crate::model::Timestamp;
use crate::resources::{DeleteOutcome, ReplicationGroupInfo, ServerlessCacheInfo};

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

/// What the clean-up knows of its execution, from the run document (`RestoreRun::cleanup_context`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleanupContext {
    /// `request.drill`.
    pub drill: bool,
    /// `restore.created`: this execution's CreateReplicationGroup was accepted.
    pub created: bool,
    /// The execution's id, the value of [`RESTORE_TAG`] on its own group.
    pub execution_id: String,
    /// The restore's target is a serverless cache (DeleteServerlessCache instead of DeleteReplicationGroup).
    pub serverless: bool,
    /// The failed step, on a failure path.
    pub failed: Option<FailedStep>,
    /// `s3://<bucket>/<report>` of VerifyRestore's report, when it wrote one.
    pub report: Option<String>,
}

/// What the clean-up does once it has looked at the candidate group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CleanupStep {
    /// Nothing more to do: record `outcome` and `note`; `warn` also makes the note a run warning.
    Done {
        /// The outcome.
        outcome: GroupCleanup,
        /// What was (not) done.
        note: String,
        /// Whether the note is also a warning (a group of the id that is not this execution's).
        warn: bool,
    },
    /// DeleteReplicationGroup, then [`CleanupContext::deleted`].
    Delete {
        /// The group's status, for the note.
        status: GroupStatus,
    },
    /// Tag `arn` with [`verdict_tag`] of `verdict` and keep the group, then [`CleanupContext::kept`].
    Keep {
        /// The group's ARN.
        arn: String,
        /// The group's status, for the note.
        status: GroupStatus,
        /// The verdict.
        verdict: RestoreVerdict,
    },
}

/// The group or serverless cache the clean-up found under the candidate's id (DescribeReplicationGroups or
/// DescribeServerlessCaches): its status and ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundTarget {
    /// Its status (a serverless cache's compared case-insensitively: [`GroupStatus::of_serverless`]).
    pub status: GroupStatus,
    /// Its ARN (what ListTagsForResource and AddTagsToResource take).
    pub arn: Option<String>,
}

impl FoundTarget {
    /// A replication group as found.
    pub fn of_group(group: &ReplicationGroupInfo) -> Self {
        Self {
            status: GroupStatus::from(group.status.clone()),
            arn: group.arn.clone(),
        }
    }

    /// A serverless cache as found.
    pub fn of_serverless(cache: &ServerlessCacheInfo) -> Self {
        Self {
            status: GroupStatus::of_serverless(&cache.status),
            arn: cache.arn.clone(),
        }
    }
}

/// The tag a kept group gets: [`RESTORE_VERDICT_TAG`] = `verdict`.
pub fn verdict_tag(verdict: RestoreVerdict) -> [(String, String); 1] {
    let value: &'static str = verdict.into();
    [(RESTORE_VERDICT_TAG.to_string(), value.to_string())]
}

impl CleanupContext {
    /// The record when there is no group this execution could have made.
    pub fn nothing(&self) -> (GroupCleanup, String) {
        (
            GroupCleanup::NothingToDelete,
            format!("this execution created no {}", self.kind()),
        )
    }

    /// `replication group` or `serverless cache`, for the notes.
    pub fn kind(&self) -> &'static str {
        if self.serverless {
            "serverless cache"
        } else {
            "replication group"
        }
    }

    fn delete_call(&self) -> &'static str {
        if self.serverless {
            "DeleteServerlessCache"
        } else {
            "DeleteReplicationGroup"
        }
    }

    /// What to do with group `id`, as DescribeReplicationGroups found it (`None`: `TargetNotFound`) with its `tags`
    /// (ListTagsForResource; empty when it has no ARN). Only a group tagged with this execution's id is touched:
    /// deleted or kept as [`cleanup_action`] decides.
    pub fn step(
        &self,
        id: &str,
        group: Option<&FoundTarget>,
        tags: &[(String, String)],
    ) -> CleanupStep {
        let done = |(outcome, note): (GroupCleanup, String)| CleanupStep::Done {
            outcome,
            note,
            warn: false,
        };
        let Some(group) = group else {
            return done(if self.created {
                (GroupCleanup::AlreadyDeleted, already_gone(self.kind(), id))
            } else {
                self.nothing()
            });
        };
        let ours = tags
            .iter()
            .any(|(k, v)| k == RESTORE_TAG && *v == self.execution_id);
        let status = group.status.clone();
        match (ours, group.arn.as_deref()) {
            (true, Some(arn)) => match cleanup_action(self.drill, self.failed.as_ref(), &status) {
                CleanupAction::Delete => CleanupStep::Delete { status },
                CleanupAction::Keep(verdict) => CleanupStep::Keep {
                    arn: arn.to_string(),
                    status,
                    verdict,
                },
            },
            _ if !self.created => done(self.nothing()),
            _ => CleanupStep::Done {
                outcome: GroupCleanup::NothingToDelete,
                note: format!(
                    "{} {id} is not tagged as created by this execution: not touched",
                    self.kind()
                ),
                warn: true,
            },
        }
    }

    /// The record after DeleteReplicationGroup of `id` (then `status`) answered `outcome`.
    pub fn deleted(
        &self,
        id: &str,
        status: &GroupStatus,
        outcome: DeleteOutcome,
    ) -> (GroupCleanup, String) {
        match outcome {
            DeleteOutcome::Deleted => (
                GroupCleanup::Deleted,
                deleted_note(self.kind(), id, self.drill, status),
            ),
            DeleteOutcome::NotFound => {
                (GroupCleanup::AlreadyDeleted, already_gone(self.kind(), id))
            }
        }
    }

    /// The record of kept group `id` (`status`), tagged with `verdict` unless `tag_error` says why not. The note
    /// (the failed execution's cause ends with it) names the tag, the report, and what to do.
    pub fn kept(
        &self,
        id: &str,
        status: &GroupStatus,
        verdict: RestoreVerdict,
        tag_error: Option<BackupError>,
    ) -> (GroupCleanup, String) {
        let report = self
            .report
            .as_ref()
            .map(|uri| format!(" (report {uri})"))
            .unwrap_or_default();
        let what = match verdict {
            RestoreVerdict::Mismatch => {
                "its data differs from the manifest: compare it with the report before using it"
            }
            RestoreVerdict::Unverified => {
                "its data is unverified: check it yourself (or run VerifyRestore where it can reach the group) before using it"
            }
        };
        let value = <&'static str>::from(verdict);
        let tag = match tag_error {
            None => format!(", tagged {RESTORE_VERDICT_TAG}={value}"),
            Some(e) => format!(" (it could not be tagged {RESTORE_VERDICT_TAG}={value}: {e})"),
        };
        (
            GroupCleanup::Kept,
            format!(
                "{} {id} ({status}) is KEPT{tag}{report}: {what}; delete it with {} when it is not needed",
                self.kind(),
                self.delete_call()
            ),
        )
    }
}

fn already_gone(kind: &str, id: &str) -> String {
    format!("{kind} {id} is already gone")
}

fn deleted_note(kind: &str, id: &str, drill: bool, status: &GroupStatus) -> String {
    if drill {
        format!("the drill's {kind} {id} is deleted")
    } else {
        format!(
            "{kind} {id} is {status} and is deleted; the backup is untouched, a new restore may use the same id"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(drill: bool, created: bool) -> CleanupContext {
        CleanupContext {
            drill,
            created,
            execution_id: "exec-1".into(),
            serverless: false,
            failed: None,
            report: None,
        }
    }

    fn group(status: &str) -> FoundTarget {
        FoundTarget::of_group(&ReplicationGroupInfo {
            id: "orders-r".into(),
            status: status.into(),
            arn: Some("arn:g".into()),
            ..ReplicationGroupInfo::default()
        })
    }

    fn tags(execution: &str) -> Vec<(String, String)> {
        vec![(RESTORE_TAG.to_string(), execution.to_string())]
    }

    #[test]
    fn only_the_executions_own_group_is_touched() {
        let g = group("available");
        assert_eq!(
            context(true, true).step("orders-r", Some(&g), &tags("exec-1")),
            CleanupStep::Delete {
                status: GroupStatus::Available
            }
        );
        let CleanupStep::Done { outcome, warn, .. } =
            context(true, true).step("orders-r", Some(&g), &tags("other"))
        else {
            panic!("another execution's group is not touched");
        };
        assert_eq!((outcome, warn), (GroupCleanup::NothingToDelete, true));
        let CleanupStep::Done { warn, .. } = context(true, false).step("orders-r", Some(&g), &[])
        else {
            panic!("nothing created, nothing touched");
        };
        assert!(!warn);
    }

    #[test]
    fn a_vanished_group_is_already_deleted_only_if_this_execution_created_it() {
        let step = |created| match context(false, created).step("orders-r", None, &[]) {
            CleanupStep::Done { outcome, .. } => outcome,
            other => panic!("unexpected {other:?}"),
        };
        assert_eq!(step(true), GroupCleanup::AlreadyDeleted);
        assert_eq!(step(false), GroupCleanup::NothingToDelete);
    }

    #[test]
    fn a_failed_restore_keeps_its_group_with_the_verdict_of_its_failure() {
        let mut ctx = context(false, true);
        ctx.failed = Some(FailedStep {
            step: "VerifyRestore".into(),
            failure: StepFailure {
                error: "RestoreMismatch".into(),
                cause: String::new(),
            },
        });
        ctx.report = Some("s3://b/e.restore-x.json".into());
        assert_eq!(
            ctx.step("orders-r", Some(&group("available")), &tags("exec-1")),
            CleanupStep::Keep {
                arn: "arn:g".into(),
                status: GroupStatus::Available,
                verdict: RestoreVerdict::Mismatch
            }
        );
        let (outcome, note) = ctx.kept(
            "orders-r",
            &GroupStatus::Available,
            RestoreVerdict::Mismatch,
            None,
        );
        assert_eq!(outcome, GroupCleanup::Kept);
        assert!(note.contains("KEPT, tagged elasticache-backup:restore-verdict=mismatch (report s3://b/e.restore-x.json)"), "{note}");
        assert_eq!(verdict_tag(RestoreVerdict::Unverified)[0].1, "unverified");
        assert_eq!(
            ctx.deleted(
                "orders-r",
                &GroupStatus::CreateFailed,
                DeleteOutcome::NotFound
            )
            .0,
            GroupCleanup::AlreadyDeleted
        );
    }

    #[test]
    fn a_serverless_cache_is_judged_as_a_group_and_named_as_a_serverless_cache() {
        let cache = |status: &str| {
            FoundTarget::of_serverless(&ServerlessCacheInfo {
                name: "orders-sl".into(),
                status: status.into(),
                arn: Some("arn:aws:elasticache:eu-west-1:1:serverlesscache:orders-sl".into()),
                ..ServerlessCacheInfo::default()
            })
        };
        let mut ctx = context(false, true);
        ctx.serverless = true;
        // ElastiCache's CREATE-FAILED is create-failed: deleted even for a restore that is not a drill.
        assert_eq!(
            ctx.step("orders-sl", Some(&cache("CREATE-FAILED")), &tags("exec-1")),
            CleanupStep::Delete {
                status: GroupStatus::CreateFailed
            }
        );
        let CleanupStep::Keep { arn, verdict, .. } =
            ctx.step("orders-sl", Some(&cache("AVAILABLE")), &tags("exec-1"))
        else {
            panic!("a restore that is not a drill keeps its available cache");
        };
        assert_eq!(
            (arn.as_str(), verdict),
            (
                "arn:aws:elasticache:eu-west-1:1:serverlesscache:orders-sl",
                RestoreVerdict::Unverified
            )
        );
        let (_, note) = ctx.kept(
            "orders-sl",
            &GroupStatus::Available,
            RestoreVerdict::Unverified,
            None,
        );
        assert!(
            note.starts_with("serverless cache orders-sl (available) is KEPT")
                && note.contains("DeleteServerlessCache"),
            "{note}"
        );
        let CleanupStep::Done {
            outcome,
            note,
            warn,
        } = ctx.step("orders-sl", Some(&cache("AVAILABLE")), &tags("other"))
        else {
            panic!("another execution's cache is not touched");
        };
        assert_eq!((outcome, warn), (GroupCleanup::NothingToDelete, true));
        assert!(note.starts_with("serverless cache orders-sl"), "{note}");
    }
}
