//! Whether a snapshot is an execution's own: the proof CreateSnapshot leaves (its tag), checked before a snapshot
//! of a run's name is resumed or deleted (docs/design.md §7c: nothing is deleted that this tool did not create).

use crate::error::BackupError;
use crate::naming::SNAPSHOT_TAG;
use crate::ports::{Groups, Snapshots};
use crate::resources::SnapshotInfo;

/// True when `snapshot` carries the tag [`SNAPSHOT_TAG`] = `execution_id`, the one CreateSnapshot gives every
/// snapshot an execution takes (`ListTagsForResource` of its ARN): the only proof that a snapshot of this run's name
/// is this execution's to resume or to delete. A snapshot without an ARN cannot be proven ours: false.
///
/// # Errors
/// `ListTagsForResource`'s: `TargetNotFound`, `Throttled`, `AwsError`.
pub async fn tagged_by_execution<S: Groups + ?Sized>(
    snapshots: &S,
    snapshot: &SnapshotInfo,
    execution_id: &str,
) -> Result<bool, BackupError> {
    let Some(arn) = snapshot.arn.as_deref() else {
        return Ok(false);
    };
    Ok(snapshots
        .tags(arn)
        .await?
        .iter()
        .any(|(k, v)| k == SNAPSHOT_TAG && v == execution_id))
}

/// Snapshot `name` of a run: `DescribeServerlessCacheSnapshots` when the run backs up a serverless cache
/// (`serverless`), else `DescribeSnapshots`; `None` when it does not exist.
///
/// # Errors
/// The describe call's: `Throttled`, `AwsError`.
pub async fn snapshot_of_run<S: Snapshots + ?Sized>(
    snapshots: &S,
    serverless: bool,
    name: &str,
) -> Result<Option<SnapshotInfo>, BackupError> {
    if serverless {
        snapshots.serverless_snapshot(name).await
    } else {
        snapshots.snapshot(name).await
    }
}
