//! Starting a backup (the CreateSnapshot step): the names a run derives from its execution ([`run_names`]), the
//! tags its snapshot carries ([`snapshot_tags`]), why an existing snapshot of its name is refused, and the run
//! document once the snapshot is started or resumed ([`record_start`]).

use time::Duration;

use crate::BackupRun;
use crate::backup::run::{PhaseHistory, Poll, Request, SnapshotProgress, Source};
use crate::backup::target::Resolved;
use crate::error::BackupError;
use crate::model::{SnapshotStatus, Timestamp, rfc3339};
use crate::naming::{self, SNAPSHOT_TAG, SOURCE_CREATED_TAG};
use crate::poll::planned_wait_seconds;

/// The account id of a function's ARN (`arn:aws:lambda:<region>:<account>:function:<name>`), when it is one: the
/// export bucket must belong to it (`ExpectedBucketOwner`).
pub fn account_of(function_arn: &str) -> Option<String> {
    let account = function_arn.split(':').nth(4)?;
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()))
        .then(|| account.to_string())
}

/// The execution id of `run` (its `execution.id`, else its name) and the name of the snapshot it takes of `req`'s
/// target (deterministic: a retried step or a duplicated start finds it).
///
/// # Errors
/// `InvalidInput` (`execution.name`) when the state machine did not pass the execution's name.
pub fn run_names(run: &BackupRun, req: &Request) -> Result<(String, String), BackupError> {
    if run.execution.name.trim().is_empty() {
        return Err(BackupError::invalid_input(
            "execution.name",
            "is missing: the state machine's first state must pass $$.Execution.Name",
        ));
    }
    let execution_id = run.execution.id.as_deref().unwrap_or(&run.execution.name);
    let (kind, requested_id) = req.target.kind_and_id();
    let snapshot_name = naming::snapshot_name(kind, requested_id, execution_id);
    Ok((execution_id.to_string(), snapshot_name))
}

/// The tags a new snapshot carries: [`SNAPSHOT_TAG`] = the execution (the sweeper deletes only snapshots so
/// tagged), and [`SOURCE_CREATED_TAG`] = the source's creation time when ElastiCache reports it.
pub fn snapshot_tags(execution_id: &str, resolved: &Resolved) -> Vec<(String, String)> {
    let mut tags = vec![(SNAPSHOT_TAG.to_string(), execution_id.to_string())];
    let source_created = match resolved {
        Resolved::Group(rg) => rg.created,
        Resolved::Standalone(cc) => cc.created,
        Resolved::Serverless(sc) => sc.created,
    };
    if let Some(created) = source_created {
        tags.push((SOURCE_CREATED_TAG.to_string(), rfc3339(created)));
    }
    tags
}

/// `SnapshotFailed`: CreateSnapshot said snapshot `name` exists, and DescribeSnapshots cannot find it.
pub fn vanished(name: &str) -> BackupError {
    BackupError::SnapshotFailed {
        message: format!("CreateSnapshot {name}: exists, but DescribeSnapshots cannot find it"),
    }
}

/// `SnapshotFailed`: snapshot `name` exists but is not this execution's (not tagged so), so it is not touched.
pub fn not_this_runs(name: &str) -> BackupError {
    BackupError::SnapshotFailed {
        message: format!(
            "snapshot {name} already exists but is not tagged {SNAPSHOT_TAG} = this execution: not this run's, \
             refusing to resume or touch it"
        ),
    }
}

/// The snapshot a run started or resumed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    /// Its status as ElastiCache reports it.
    pub status: SnapshotStatus,
    /// Whether it existed already (this execution's, resumed).
    pub resumed: bool,
    /// The source to record.
    pub source: Source,
    /// A resumed snapshot's creation time, when ElastiCache reports it.
    pub taken: Option<Timestamp>,
}

/// Records the start in `run` at `now`: `request`, `snapshotName`, `exportName`, `source`, `snapshot` (its status,
/// when its data was taken, its deadline `snapshotTimeoutSeconds` from now), `poll.waitSeconds` planned from the
/// target's previous backup (`history`), `history` and the `warnings`.
pub fn record_start(
    run: &mut BackupRun,
    req: Request,
    snapshot_name: String,
    started: Started,
    history: Option<PhaseHistory>,
    warnings: Vec<String>,
    now: Timestamp,
) {
    let timeout = req.snapshot_timeout_seconds;
    let expected = history.as_ref().and_then(|h| h.snapshot_seconds);
    run.snapshot = Some(SnapshotProgress {
        status: started.status,
        resumed: started.resumed,
        // When the data was taken (what retention and `latest` order backups by): now for a new snapshot; for one
        // this execution already took (a retried step), its own creation time when ElastiCache reports it.
        started_at: started.taken.filter(|t| *t < now).unwrap_or(now),
        deadline: now + Duration::seconds(i64::try_from(timeout).unwrap_or(i64::MAX)),
        available_at: None,
        node_groups: Vec::new(),
    });
    run.export_name = Some(naming::export_name(&snapshot_name));
    run.snapshot_name = Some(snapshot_name);
    run.source = Some(started.source);
    run.poll = Poll {
        wait_seconds: planned_wait_seconds(0, timeout, expected),
        checks: 0,
    };
    run.history = history;
    run.warnings.extend(warnings);
    run.request = Some(req);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backup::run::Execution;
    use crate::resources::ReplicationGroupInfo;
    use serde_json::json;
    use time::macros::datetime;

    fn request() -> Request {
        crate::backup::input::validate(
            &json!({"replicationGroupId": "orders", "bucket": "acme-cache-backups", "snapshotTimeoutSeconds": 600}),
            &crate::Config::default(),
        )
        .unwrap()
    }

    #[test]
    fn the_account_comes_from_the_function_arn() {
        assert_eq!(
            account_of("arn:aws:lambda:us-east-1:123456789012:function:create-snapshot").as_deref(),
            Some("123456789012")
        );
        assert_eq!(account_of(""), None);
        assert_eq!(
            account_of("arn:aws:lambda:us-east-1:local:function:x"),
            None
        );
    }

    #[test]
    fn a_run_without_an_execution_name_is_refused_and_its_snapshot_is_named_by_the_execution() {
        let mut run = BackupRun::default();
        match run_names(&run, &request()).unwrap_err() {
            BackupError::InvalidInput { field, .. } => assert_eq!(field, "execution.name"),
            other => panic!("expected InvalidInput, got {other:?}"),
        }
        run.execution = Execution {
            name: "nightly-1".into(),
            ..Default::default()
        };
        let (id, name) = run_names(&run, &request()).unwrap();
        assert_eq!(id, "nightly-1");
        assert_eq!(
            name,
            naming::snapshot_name(naming::TargetKind::ReplicationGroup, "orders", "nightly-1")
        );
    }

    #[test]
    fn a_snapshot_is_tagged_with_its_execution_and_its_sources_creation() {
        let created = datetime!(2026-01-02 03:04:05 UTC);
        let group = |created| {
            Resolved::Group(ReplicationGroupInfo {
                id: "orders".into(),
                created,
                ..Default::default()
            })
        };
        assert_eq!(
            snapshot_tags("x", &group(None)),
            [(SNAPSHOT_TAG.to_string(), "x".to_string())]
        );
        assert_eq!(
            snapshot_tags("x", &group(Some(created)))[1],
            (SOURCE_CREATED_TAG.to_string(), rfc3339(created))
        );
        assert_eq!(vanished("s").error_type(), "SnapshotFailed");
        assert!(
            not_this_runs("s")
                .to_string()
                .contains("refusing to resume or touch it")
        );
    }

    #[test]
    fn a_start_records_when_its_data_was_taken_and_its_deadline() {
        let now = datetime!(2026-12-01 03:00 UTC);
        let source: Source =
            serde_json::from_value(json!({"replicationGroupId": "orders", "role": "replica",
            "clusterMode": "disabled", "shardCount": 1}))
            .unwrap();
        let started = |taken: Option<Timestamp>| Started {
            status: SnapshotStatus::Creating,
            resumed: taken.is_some(),
            source: source.clone(),
            taken,
        };
        let mut run = BackupRun::default();
        record_start(
            &mut run,
            request(),
            "ecb-s".into(),
            started(None),
            None,
            vec!["w".into()],
            now,
        );
        let snapshot = run.snapshot.clone().unwrap();
        assert_eq!(
            (snapshot.started_at, snapshot.deadline),
            (now, now + Duration::seconds(600))
        );
        assert_eq!(
            run.export_name.as_deref(),
            Some(naming::export_name("ecb-s").as_str())
        );
        assert_eq!((run.warnings.len(), run.poll.checks), (1, 0));
        assert!(run.request.is_some());
        let earlier = now - Duration::hours(1);
        record_start(
            &mut run,
            request(),
            "ecb-s".into(),
            started(Some(earlier)),
            None,
            Vec::new(),
            now,
        );
        assert_eq!(run.snapshot.unwrap().started_at, earlier);
    }
}
