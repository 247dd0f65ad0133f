use super::*;
use crate::evidence::policy::{DrillPolicy, SchedulePolicy};
use serde_json::json;
use time::Duration;
use time::macros::datetime;

const FROM: Timestamp = datetime!(2026-11-01 00:00 UTC);
const TO: Timestamp = datetime!(2026-11-05 00:00 UTC);

/// A verified backup of `group` whose snapshot started at `at`.
pub(super) fn backup(group: &str, export: &str, at: Timestamp) -> BackupRecord {
    let t = crate::model::rfc3339(at);
    let manifest = Manifest::from_json(
        json!({
            "manifestVersion": 4, "tool": "elasticache-backup", "snapshotName": export, "exportName": export,
            "bucket": "b",
            "source": {"replicationGroupId": group, "role": "replica", "clusterMode": "disabled", "shardCount": 1},
            "execution": {"name": format!("run-{export}")},
            "snapshot": {"status": "available", "resumed": false, "startedAt": t, "deadline": t},
            "verifiedAt": crate::model::rfc3339(at + Duration::minutes(20)),
            "totals": {"objects": 1, "keys": 100, "keysWithExpiry": 0, "bytes": 2048},
            "objects": [{"key": format!("{export}-0001.rdb"), "sizeBytes": 2048, "sha256": "ab".repeat(32),
                         "rdb": {"magic": "REDIS", "version": 10, "crc64": "0", "databases": {}, "keys": 100,
                                 "keysWithExpiry": 0, "types": {}, "encodings": {}, "functions": 0}}],
            "timings": {}
        })
        .to_string()
        .as_bytes(),
    )
    .unwrap();
    BackupRecord {
        manifest_key: format!("{export}.manifest.json"),
        manifest,
        locations: vec![Location {
            kind: "bucket".into(),
            bucket: "b".into(),
        }],
    }
}

fn execution(name: &str, input: serde_json::Value, status: &str, at: Timestamp) -> ExecutionRecord {
    let machine = if input.get("drill").is_some() {
        MachineKind::Restore
    } else {
        MachineKind::Backup
    };
    ExecutionRecord {
        name: name.into(),
        machine_arn: format!("arn:aws:states:eu-west-1:1:stateMachine:{machine:?}"),
        machine,
        input,
        status: status.into(),
        started_at: at,
        stopped_at: Some(at + Duration::minutes(30)),
        error: (status == "FAILED").then(|| "SnapshotFailed".into()),
        cause: (status == "FAILED").then(|| "CheckSnapshot: snapshot ecb-orders-x failed".into()),
    }
}

fn drill(export: &str, rto_seconds: u64, matches: bool, at: Timestamp) -> DrillRecord {
    DrillRecord {
        key: format!("{export}.restore-drill-1.json"),
        kind: "drill".into(),
        verdict: if matches { "verified" } else { "mismatch" }.into(),
        execution: "drill-1".into(),
        export_name: export.into(),
        source: "orders".into(),
        at,
        rto_seconds,
        matches,
    }
}

fn policy(rpo: f64, rto: Option<f64>) -> EvidencePolicy {
    EvidencePolicy {
        schedules: vec![SchedulePolicy {
            name: "nightly".into(),
            schedule_expression: "cron(0 3 * * ? *)".into(),
            timezone: Some("UTC".into()),
            rpo_hours: rpo,
            targets: vec!["orders".into()],
            selector: None,
        }],
        drills: rto
            .map(|m| DrillPolicy {
                name: "weekly".into(),
                schedule_expression: "cron(0 5 ? * SUN *)".into(),
                timezone: Some("UTC".into()),
                target: "orders".into(),
                rto_minutes: m,
                vault: false,
            })
            .into_iter()
            .collect(),
        ..EvidencePolicy::default()
    }
}

fn daily(group: &str) -> Vec<BackupRecord> {
    (0..4)
        .map(|d| {
            backup(
                group,
                &format!("ecb-{group}-{d}"),
                FROM + Duration::hours(3 + 24 * d),
            )
        })
        .collect()
}

#[test]
fn daily_backups_meet_a_25_hour_rpo_with_the_gaps_to_the_window_edges() {
    let inputs = Inputs {
        policy: Some(policy(25.0, None)),
        backups: daily("orders"),
        ..Inputs::default()
    };
    let r = build(&inputs, FROM, TO, None);
    let t = &r.targets[0];
    assert_eq!(t.target, "orders");
    assert_eq!(t.verified_backups.len(), 4);
    // 03:00 on the 4th to the window's end at 00:00 on the 5th: 21 h; between backups 24 h; start to first 3 h.
    assert_eq!(t.largest_gap_hours, 24.0);
    assert!(t.rpo_met);
    assert_eq!(t.rto_minutes, None);
    assert_eq!(t.rto_met, None);
    assert_eq!(t.schedules[0].name, "nightly");
    assert_eq!(t.verified_backups[0].objects[0].sha256, "ab".repeat(32));
    assert!(r.notes.is_empty());
}

#[test]
fn a_missed_day_breaks_the_rpo() {
    let mut backups = daily("orders");
    backups.remove(2);
    let inputs = Inputs {
        policy: Some(policy(25.0, None)),
        backups,
        ..Inputs::default()
    };
    let t = &build(&inputs, FROM, TO, None).targets[0];
    assert_eq!(t.largest_gap_hours, 48.0);
    assert!(!t.rpo_met);
}

#[test]
fn the_last_backup_before_the_window_starts_the_first_gap() {
    let backups = vec![
        backup("orders", "ecb-orders-old", FROM - Duration::hours(40)),
        backup("orders", "ecb-orders-new", FROM + Duration::hours(60)),
    ];
    let inputs = Inputs {
        policy: Some(policy(99.0, None)),
        backups,
        ..Inputs::default()
    };
    let t = &build(&inputs, FROM, TO, None).targets[0];
    assert_eq!(
        t.verified_backups.len(),
        1,
        "the one before the window is not listed"
    );
    // 100 h from the one before (not 60 h from the window's start); 36 h from the last to the end.
    assert_eq!(t.largest_gap_hours, 100.0);
    assert!(!t.rpo_met);
}

#[test]
fn no_backup_is_a_gap_of_the_whole_window_and_no_policy_is_said() {
    let inputs = Inputs {
        executions: vec![execution(
            "b-1",
            json!({"replicationGroupId": "Orders"}),
            "FAILED",
            FROM + Duration::hours(3),
        )],
        ..Inputs::default()
    };
    let r = build(&inputs, FROM, TO, None);
    let t = &r.targets[0];
    assert_eq!(t.target, "orders");
    assert_eq!(t.largest_gap_hours, 96.0);
    assert!(!t.rpo_met);
    assert_eq!(t.rpo_hours, DEFAULT_RPO_HOURS);
    assert!(t.schedules.is_empty());
    assert!(r.notes[0].contains("no evidence policy"), "{:?}", r.notes);
}

#[test]
fn a_failed_run_is_listed_with_its_error_and_cause() {
    let inputs = Inputs {
        policy: Some(policy(25.0, None)),
        backups: daily("orders"),
        executions: vec![
            execution(
                "ok-1",
                json!({"replicationGroupId": "orders"}),
                "SUCCEEDED",
                FROM + Duration::hours(3),
            ),
            execution(
                "bad-1",
                json!({"replicationGroupId": "orders"}),
                "FAILED",
                FROM + Duration::hours(27),
            ),
            // Before the window: not a run of it.
            execution(
                "old",
                json!({"replicationGroupId": "orders"}),
                "FAILED",
                FROM - Duration::hours(1),
            ),
        ],
        ..Inputs::default()
    };
    let t = &build(&inputs, FROM, TO, None).targets[0];
    assert_eq!(t.runs.len(), 2);
    assert_eq!(t.failed_runs.len(), 1);
    let f = &t.failed_runs[0];
    assert_eq!(
        (f.execution.as_str(), f.error.as_str()),
        ("bad-1", "SnapshotFailed")
    );
    assert!(f.cause.contains("CheckSnapshot"));
    assert_eq!(t.runs[0].kind, "backup");
}

#[test]
fn a_drill_over_its_rto_fails_rto_and_one_within_meets_it() {
    let backups = daily("orders");
    let mut inputs = Inputs {
        policy: Some(policy(25.0, Some(10.0))),
        backups,
        drills: vec![drill("ecb-orders-1", 599, true, FROM + Duration::hours(30))],
        ..Inputs::default()
    };
    let t = &build(&inputs, FROM, TO, None).targets[0];
    assert_eq!(t.rto_minutes, Some(10.0));
    assert_eq!(t.drills.len(), 1);
    assert_eq!(t.rto_met, Some(true));

    inputs
        .drills
        .push(drill("ecb-orders-2", 601, true, FROM + Duration::hours(54)));
    let t = &build(&inputs, FROM, TO, None).targets[0];
    assert_eq!(t.rto_met, Some(false), "601 s > 10 min");

    inputs.drills = vec![drill("ecb-orders-2", 60, false, FROM + Duration::hours(54))];
    assert_eq!(
        build(&inputs, FROM, TO, None).targets[0].rto_met,
        Some(false),
        "mismatch"
    );

    inputs.drills.clear();
    assert_eq!(
        build(&inputs, FROM, TO, None).targets[0].rto_met,
        Some(false),
        "a configured drill that never ran"
    );
}

#[test]
fn a_failed_drill_execution_fails_rto() {
    let inputs = Inputs {
        policy: Some(policy(25.0, Some(60.0))),
        backups: daily("orders"),
        drills: vec![drill("ecb-orders-1", 60, true, FROM + Duration::hours(30))],
        executions: vec![execution(
            "drill-2",
            json!({"replicationGroupId": "orders", "latest": true, "drill": true}),
            "FAILED",
            FROM + Duration::hours(50),
        )],
        ..Inputs::default()
    };
    let t = &build(&inputs, FROM, TO, None).targets[0];
    assert_eq!(t.runs[0].kind, "drill");
    assert_eq!(t.rto_met, Some(false));
}

#[test]
fn a_target_under_a_selector_schedule_takes_its_rpo() {
    let mut p = policy(25.0, None);
    p.schedules.push(SchedulePolicy {
        name: "payments".into(),
        schedule_expression: "cron(0 */6 * * ? *)".into(),
        timezone: None,
        rpo_hours: 7.0,
        targets: vec![],
        selector: Some([("team".to_string(), "payments".to_string())].into()),
    });
    let inputs = Inputs {
        policy: Some(p),
        backups: daily("ledger").into_iter().chain(daily("orders")).collect(),
        ..Inputs::default()
    };
    let r = build(&inputs, FROM, TO, None);
    let ledger = r.targets.iter().find(|t| t.target == "ledger").unwrap();
    assert_eq!(ledger.rpo_hours, 7.0);
    assert_eq!(ledger.schedules[0].name, "payments");
    assert!(!ledger.rpo_met, "daily backups miss a 7 h RPO");
    let orders = r.targets.iter().find(|t| t.target == "orders").unwrap();
    assert_eq!(
        orders.rpo_hours, 25.0,
        "a named target keeps its own schedule"
    );
}

#[test]
fn a_retention_deletion_in_the_window_is_listed() {
    let inputs = Inputs {
        policy: Some(policy(25.0, None)),
        deletions: vec![
            RetentionDeletion {
                report: "retention-reports/r1.json".into(),
                at: FROM + Duration::hours(5),
                target: "orders".into(),
                export_name: "ecb-orders-old".into(),
            },
            RetentionDeletion {
                report: "retention-reports/r0.json".into(),
                at: FROM - Duration::hours(5),
                target: "orders".into(),
                export_name: "ecb-orders-older".into(),
            },
        ],
        ..Inputs::default()
    };
    let t = &build(&inputs, FROM, TO, None).targets[0];
    assert_eq!(t.retention_deletions.len(), 1);
    assert_eq!(t.retention_deletions[0].export_name, "ecb-orders-old");
}

#[test]
fn only_filters_one_target_and_known_targets_lists_all() {
    let inputs = Inputs {
        policy: Some(policy(25.0, None)),
        backups: daily("ledger"),
        ..Inputs::default()
    };
    let r = build(&inputs, FROM, TO, Some("ledger"));
    assert_eq!(r.targets.len(), 1);
    assert_eq!(known_targets(&inputs, FROM, TO), ["ledger", "orders"]);
}

#[test]
fn the_json_has_the_documented_names() {
    let inputs = Inputs {
        policy: Some(policy(25.0, Some(60.0))),
        backups: daily("orders"),
        drills: vec![drill("ecb-orders-1", 60, true, FROM + Duration::hours(30))],
        executions: vec![execution(
            "bad-1",
            json!({"replicationGroupId": "orders"}),
            "FAILED",
            FROM,
        )],
        ..Inputs::default()
    };
    let v = serde_json::to_value(build(&inputs, FROM, TO, None)).unwrap();
    assert_eq!(v["from"], "2026-11-01T00:00:00Z");
    let t = &v["targets"][0];
    for k in [
        "target",
        "schedules",
        "rpoHours",
        "rtoMinutes",
        "runs",
        "verifiedBackups",
        "failedRuns",
        "drills",
        "retentionDeletions",
        "largestGapHours",
        "rpoMet",
        "rtoMet",
    ] {
        assert!(t.get(k).is_some(), "{k}");
    }
    assert_eq!(t["drills"][0]["match"], true);
    assert_eq!(t["drills"][0]["rtoSeconds"], 60);
    assert_eq!(t["failedRuns"][0]["error"], "SnapshotFailed");
    assert_eq!(t["verifiedBackups"][0]["dataTime"], "2026-11-01T03:00:00Z");
    assert!(v.get("notes").is_none());
}
