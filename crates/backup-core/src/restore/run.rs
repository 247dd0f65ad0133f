//! The restore run document ([`RestoreRun`]); see the module documentation of [`crate::restore`] for its JSON shape.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::backup::BackupInfo;
use super::cleanup::{CleanupContext, FailedStep, RestoreCleanup};
use super::input::{RestoreRequest, RestoreTarget};
use super::progress::RestoreProgress;
use super::verify::RestoreVerification;
use crate::backup::run::{Execution, Poll, StepTiming};
use crate::error::BackupError;
use crate::model::Timestamp;

/// The restore run document. See the module documentation for the JSON shape.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreRun {
    /// The execution input as given.
    #[serde(default)]
    pub input: Value,
    /// The execution (`$$.Execution`).
    #[serde(default)]
    pub execution: Execution,
    /// The validated request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<RestoreRequest>,
    /// The backup, from its manifest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup: Option<BackupInfo>,
    /// The new group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore: Option<RestoreProgress>,
    /// The comparison with the manifest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<RestoreVerification>,
    /// S3 key of the report (next to the manifest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<String>,
    /// What the clean-up did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleanup: Option<RestoreCleanup>,
    /// The failure a Catch recorded (`Error`, `Cause`), when the execution is failing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<Value>,
    /// The failed step and its error, recorded by the `…Failed` Pass states before the clean-up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<Value>,
    /// Polling state for the Wait state.
    #[serde(default)]
    pub poll: Poll,
    /// Per-step timings.
    #[serde(default)]
    pub timings: BTreeMap<String, StepTiming>,
    /// Things a human should know.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl RestoreRun {
    /// Records one invocation of `step`.
    pub fn record_timing(&mut self, step: &str, started: Timestamp, finished: Timestamp) {
        crate::backup::run::record_timing(&mut self.timings, step, started, finished);
    }

    /// The validated request, or `InvalidInput`.
    ///
    /// # Errors
    /// `InvalidInput` naming `request`.
    pub fn request(&self) -> Result<&RestoreRequest, BackupError> {
        from_resolve_backup(self.request.as_ref(), "request")
    }

    /// The backup, or `InvalidInput`.
    ///
    /// # Errors
    /// `InvalidInput` naming `backup`.
    pub fn backup(&self) -> Result<&BackupInfo, BackupError> {
        from_resolve_backup(self.backup.as_ref(), "backup")
    }

    /// The restore progress, or `InvalidInput`.
    ///
    /// # Errors
    /// `InvalidInput` naming `restore`.
    pub fn restore(&self) -> Result<&RestoreProgress, BackupError> {
        self.restore.as_ref().ok_or_else(|| {
            BackupError::invalid_input(
                "restore",
                "is missing: the document must come from CreateGroup",
            )
        })
    }

    /// The failed step, when the document is on a failure path (`failed` as the `…Failed` Pass states write it);
    /// `None` otherwise, or when `failed` has another shape.
    pub fn failed_step(&self) -> Option<FailedStep> {
        self.failed
            .as_ref()
            .filter(|f| f.get("failure").is_some())
            .and_then(|f| serde_json::from_value(f.clone()).ok())
    }

    /// The execution's id (ARN), or its name when no ARN was passed: the value of [`RESTORE_TAG`](super::group::RESTORE_TAG).
    pub fn execution_id(&self) -> &str {
        self.execution.id.as_deref().unwrap_or(&self.execution.name)
    }
}

impl RestoreRun {
    /// The group or serverless cache this execution may have made, for the clean-up: the one CreateGroup recorded,
    /// else the requested one (CreateGroup may have been accepted and then failed before recording it); `None` when
    /// neither is known.
    pub fn cleanup_candidate(&self) -> Option<RestoreTarget<'_>> {
        self.restore
            .as_ref()
            .map(RestoreProgress::target)
            .or_else(|| self.request.as_ref().map(RestoreRequest::target))
            .filter(|t| !t.id().is_empty())
    }

    /// What the clean-up decides from: drill, created, the execution's id, the failed step, the report's location.
    pub fn cleanup_context(&self) -> CleanupContext {
        CleanupContext {
            drill: self.request.as_ref().is_some_and(|r| r.drill),
            created: self.restore.as_ref().is_some_and(|r| r.created),
            execution_id: self.execution_id().to_string(),
            serverless: self
                .cleanup_candidate()
                .is_some_and(RestoreTarget::is_serverless),
            failed: self.failed_step(),
            report: match (&self.report, &self.backup) {
                (Some(r), Some(b)) => Some(format!("s3://{}/{r}", b.bucket)),
                _ => None,
            },
        }
    }
}

fn from_resolve_backup<T>(part: Option<T>, field: &str) -> Result<T, BackupError> {
    part.ok_or_else(|| {
        BackupError::invalid_input(
            field,
            "is missing: the document must come from ResolveBackup",
        )
    })
}
