//! Contracts between the state machines (`terraform/*.asl.json`) and the Rust code, checked mechanically so that
//! renaming an error variant or a status value cannot silently disarm a Retry, a Catch or a Choice:
//!
//! (a) every name in any `ErrorEquals` (Retry or Catch) that is not `States.*` or `Lambda.*` is an `error_type` the
//!     Rust code can produce ([`BackupError::ERROR_TYPES`], derived from the enum);
//! (b) every Lambda Task retries `ClusterBusy`, `Throttled` and the transient `AwsError` (5xx, timeouts), and the
//!     CreateSnapshot Task (idempotent by its deterministic snapshot name) also `States.Timeout`; no state reads a
//!     caught error's `Cause` or `Error` except through a default (`States.JsonMerge`), since a cause may be absent;
//!     A Task that starts a child execution retries only a start that did not happen, and catches every failure;
//! (c) every value a Choice state compares a string with is one the Rust enum behind that path serializes to.
//!
//! (d), Task resources ⇔ Terraform functions ⇔ function crates, is `local/checks/test_consistency.py`.

use std::path::{Path, PathBuf};

use backup_core::BackupError;
use backup_core::model::{CleanupOutcome, ClusterMode, ExportStatus, NodeRole, SnapshotStatus};
use backup_core::restore::{GroupCleanup, GroupStatus};
use serde_json::Value;
use strum::VariantNames;

/// The JSON paths Choice states may compare, and the values the Rust side writes there.
fn choice_values(variable: &str) -> Option<Vec<&'static str>> {
    Some(match variable {
        "$.snapshot.status" => SnapshotStatus::KNOWN.to_vec(),
        "$.export.status" => ExportStatus::VARIANTS.to_vec(),
        "$.source.role" => NodeRole::VARIANTS.to_vec(),
        "$.source.clusterMode" => ClusterMode::VARIANTS.to_vec(),
        "$.cleanup.sourceSnapshot" => CleanupOutcome::VARIANTS.to_vec(),
        "$.restore.status" => GroupStatus::KNOWN.to_vec(),
        "$.cleanup.restoredGroup" => GroupCleanup::VARIANTS.to_vec(),
        _ => return None,
    })
}

fn asl_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../terraform");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("terraform/ is readable")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".asl.json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no ASL file under {}", dir.display());
    files
}

/// Every state of a definition, nested Map and Parallel states included: (file: state name, state).
fn states(definition: &Value, at: &str, out: &mut Vec<(String, Value)>) {
    let Some(map) = definition["States"].as_object() else {
        return;
    };
    for (name, state) in map {
        out.push((format!("{at}: {name}"), state.clone()));
        for nested in ["Iterator", "ItemProcessor"] {
            if state.get(nested).is_some() {
                states(&state[nested], &format!("{at}: {name}"), out);
            }
        }
        for branch in state["Branches"].as_array().into_iter().flatten() {
            states(branch, &format!("{at}: {name}"), out);
        }
    }
}

fn all_states() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for file in asl_files() {
        let text = std::fs::read_to_string(&file).expect("ASL file is readable");
        let definition: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not JSON: {e}", file.display()));
        let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
        states(&definition, &name.unwrap_or_default(), &mut out);
    }
    out
}

fn error_names(rules: &Value) -> Vec<String> {
    rules
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r["ErrorEquals"].as_array().cloned().unwrap_or_default())
        .filter_map(|e| e.as_str().map(str::to_string))
        .collect()
}

#[test]
fn every_error_the_state_machines_match_is_one_the_rust_code_produces() {
    let mut checked = 0;
    for (at, state) in all_states() {
        for field in ["Retry", "Catch"] {
            for name in error_names(&state[field]) {
                if name.starts_with("States.")
                    || name.starts_with("Lambda.")
                    || name.starts_with("StepFunctions.")
                {
                    continue;
                }
                checked += 1;
                assert!(
                    BackupError::ERROR_TYPES.contains(&name.as_str()),
                    "{at} {field} matches `{name}`, which no BackupError variant produces (known: {:?})",
                    BackupError::ERROR_TYPES
                );
            }
        }
    }
    assert!(checked > 0, "no error name was found: the walk is broken");
}

/// A Task that starts a child execution (`arn:aws:states:::states:startExecution…`), not a Lambda function.
fn starts_an_execution(state: &Value) -> bool {
    state["Resource"]
        .as_str()
        .is_some_and(|r| r.starts_with("arn:aws:states:::states:startExecution"))
}

#[test]
fn every_task_retries_busy_throttled_and_transient_errors() {
    let tasks: Vec<_> = all_states()
        .into_iter()
        .filter(|(_, s)| s["Type"] == "Task" && !starts_an_execution(s))
        .collect();
    assert!(!tasks.is_empty(), "no Task state found");
    for (at, state) in tasks {
        let retried = error_names(&state["Retry"]);
        for name in ["ClusterBusy", "Throttled", "AwsError"] {
            assert!(
                retried.iter().any(|r| r == name),
                "{at} does not retry {name}"
            );
        }
    }
}

#[test]
fn a_child_execution_is_retried_only_when_it_never_started() {
    let mut seen = 0;
    for (at, state) in all_states()
        .into_iter()
        .filter(|(_, s)| starts_an_execution(s))
    {
        seen += 1;
        let retried = error_names(&state["Retry"]);
        // Both spellings: the nested-workflow guide names `StepFunctions.ExecutionLimitExceeded`, the API model's
        // exception gives `…Exception`.
        for name in backup_core::fleet::EXECUTION_LIMIT_ERRORS {
            assert!(
                retried.iter().any(|r| r == name),
                "{at} does not retry {name}"
            );
        }
        // A failed child (States.TaskFailed) has run its backup: retrying would run it again.
        for never in ["States.ALL", "States.TaskFailed", "States.Timeout"] {
            assert!(!retried.iter().any(|r| r == never), "{at} retries {never}");
        }
        assert!(
            error_names(&state["Catch"])
                .iter()
                .any(|c| c == "States.ALL"),
            "{at} does not catch every failure of its child: one target would fail the fleet"
        );
    }
    assert!(seen > 0, "no startExecution Task found: the walk is broken");
}

#[test]
fn create_snapshot_retries_its_own_timeout() {
    let states = all_states();
    let (at, create) = states
        .iter()
        .find(|(at, _)| at.ends_with(": CreateSnapshot"))
        .expect("the backup state machine has a CreateSnapshot state");
    assert!(
        error_names(&create["Retry"])
            .iter()
            .any(|n| n == "States.Timeout"),
        "{at} does not retry States.Timeout"
    );
}

#[test]
fn no_state_reads_a_caught_cause_without_a_default() {
    let mut read = 0;
    for (at, state) in all_states() {
        let text = state["Parameters"].to_string();
        for field in ["Cause", "Error"] {
            let bare = format!("$.failure.{field}");
            if text.contains(&bare) {
                read += 1;
                assert!(
                    text.contains("States.JsonMerge") || at.contains("Describe"),
                    "{at} reads {bare} straight from a Catch result; a cause may be absent"
                );
            }
        }
        // The Catch result itself must reach the Describe*Failure state only through the default.
        if state["Type"] == "Pass"
            && state["Parameters"]["failure.$"].is_string()
            && !state["Parameters"]["failure.$"]
                .as_str()
                .unwrap_or_default()
                .starts_with("States.JsonMerge(")
        {
            panic!("{at} passes the Catch result on without the default Cause");
        }
    }
    assert!(
        read > 0,
        "no state reads a caught error: the walk is broken"
    );
}

/// (variable, operator, value) of every string comparison in a Choice rule, `And`/`Or`/`Not` included.
fn comparisons(rule: &Value, out: &mut Vec<(String, String, String)>) {
    for nested in ["And", "Or"] {
        for r in rule[nested].as_array().into_iter().flatten() {
            comparisons(r, out);
        }
    }
    if rule.get("Not").is_some() {
        comparisons(&rule["Not"], out);
    }
    let variable = rule["Variable"].as_str().unwrap_or_default();
    for (op, value) in rule.as_object().into_iter().flatten() {
        if op.starts_with("String")
            && !op.ends_with("Path")
            && let Some(v) = value.as_str()
        {
            out.push((variable.to_string(), op.clone(), v.to_string()));
        }
    }
}

#[test]
fn every_choice_value_is_one_the_rust_enums_serialize_to() {
    let mut checked = 0;
    for (at, state) in all_states() {
        if state["Type"] != "Choice" {
            continue;
        }
        let mut found = Vec::new();
        for rule in state["Choices"].as_array().into_iter().flatten() {
            comparisons(rule, &mut found);
        }
        for (variable, op, value) in found {
            let allowed = choice_values(&variable).unwrap_or_else(|| {
                panic!("{at} compares {variable}, which no Rust enum in this test's table backs; add it")
            });
            checked += 1;
            assert!(
                allowed.contains(&value.as_str()),
                "{at}: {variable} {op} {value:?}, but the Rust side writes only {allowed:?}"
            );
        }
    }
    assert!(
        checked > 0,
        "no Choice comparison was found: the walk is broken"
    );
}

#[test]
fn the_table_matches_what_the_enums_serialize() {
    // The names in the table are the JSON the run document carries.
    let json = |v: serde_json::Value| v.as_str().map(str::to_string);
    assert_eq!(
        json(serde_json::to_value(ExportStatus::Complete).unwrap()).as_deref(),
        Some("complete")
    );
    assert_eq!(
        json(serde_json::to_value(CleanupOutcome::AlreadyDeleted).unwrap()).as_deref(),
        Some("already-deleted")
    );
    for known in SnapshotStatus::KNOWN {
        let s = SnapshotStatus::from(*known);
        assert!(!matches!(s, SnapshotStatus::Other(_)), "{known}");
        assert_eq!(
            json(serde_json::to_value(s).unwrap()).as_deref(),
            Some(*known)
        );
    }
    for v in NodeRole::VARIANTS.iter().chain(ClusterMode::VARIANTS) {
        let quoted = format!("\"{v}\"");
        let role: Result<NodeRole, _> = serde_json::from_str(&quoted);
        let mode: Result<ClusterMode, _> = serde_json::from_str(&quoted);
        assert!(role.is_ok() || mode.is_ok(), "{v}");
    }
}

/// (e) The VerifyExport Map's loop: the item VerifyShard is given has exactly the fields [`ShardRequest`] reads;
/// `IsShardVerified` sends VerifyShard's output back to it exactly while it has a `checkpoint`, which a paused
/// shard's output ([`VerifyResponse::Paused`]) always has and a verified one's never; the loop is Task → Choice →
/// Task, with no Wait, and its other way out ends the item.
#[test]
fn the_verify_shard_loop_goes_round_exactly_while_the_output_has_a_checkpoint() {
    use backup_core::backup::run::VerifiedShard;
    use backup_core::backup::verify::{
        ShardCheckpoint, ShardRequest, VerifyRequest, VerifyResponse,
    };
    use backup_core::model::VerifiedObject;

    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../terraform/backup.asl.json"),
    )
    .unwrap();
    let definition: Value = serde_json::from_str(&text).unwrap();
    let map = &definition["States"]["VerifyExport"];
    assert_eq!(map["Type"], "Map");

    // The item the Map builds, with values standing in for its paths, reads as a ShardRequest (its struct refuses
    // unknown fields), and every field a ShardRequest writes is one the item has or the loop adds.
    let mut item = serde_json::Map::new();
    for (field, path) in map["ItemSelector"].as_object().unwrap() {
        let name = field.trim_end_matches(".$");
        assert!(field.ends_with(".$"), "{field}: {path}");
        let value = match name {
            "object" => serde_json::json!({"key": "ecb-x-0001.rdb", "sizeBytes": 10}),
            "verifyBudgetSeconds" => serde_json::json!(720),
            _ => serde_json::json!("ecb-x"),
        };
        item.insert(name.to_string(), value);
    }
    let request: ShardRequest = serde_json::from_value(Value::Object(item.clone()))
        .unwrap_or_else(|e| panic!("the Map's item is not a ShardRequest: {e}"));
    assert_eq!(request.verify_budget_seconds, Some(720));
    assert!(matches!(
        serde_json::from_value::<VerifyRequest>(Value::Object(item)).unwrap(),
        VerifyRequest::Shard(_)
    ));
    assert_eq!(
        map["ItemSelector"]["verifyBudgetSeconds.$"], "$.request.verifyBudgetSeconds",
        "the budget comes from the validated request"
    );

    let processor = &map["ItemProcessor"];
    let task = processor["StartAt"].as_str().unwrap();
    assert_eq!(processor["States"][task]["Type"], "Task");
    let choice_name = processor["States"][task]["Next"].as_str().unwrap();
    let choice = &processor["States"][choice_name];
    assert_eq!(choice["Type"], "Choice", "{choice_name}");
    let rules = choice["Choices"].as_array().unwrap();
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0]["Variable"], "$.checkpoint");
    assert_eq!(rules[0]["IsPresent"], true);
    assert_eq!(
        rules[0]["Next"], task,
        "the loop goes straight back to the Task (no Wait)"
    );
    let out = choice["Default"].as_str().unwrap();
    let end = &processor["States"][out];
    assert!(
        end["Type"] == "Succeed" || end["End"] == true,
        "{out} must end the item"
    );

    // What the Task returns: paused → has `checkpoint` and is a ShardRequest again; verified → has none.
    let paused = VerifyResponse::Paused(Box::new(ShardRequest {
        checkpoint: Some(ShardCheckpoint {
            offset: 5,
            size_bytes: 10,
            etag: None,
            invocations: 1,
            millis: 3,
            rdb: serde_json::json!({"format": 1}),
        }),
        ..request
    }));
    let paused = serde_json::to_value(&paused).unwrap();
    assert!(paused.get("checkpoint").is_some());
    assert!(matches!(
        serde_json::from_value::<VerifyRequest>(paused).unwrap(),
        VerifyRequest::Shard(s) if s.checkpoint.is_some()
    ));
    let verified = VerifyResponse::Shard(Box::new(VerifiedShard {
        object: VerifiedObject {
            key: "ecb-x-0001.rdb".into(),
            size_bytes: 10,
            sha256: "0".repeat(64),
            rdb: Default::default(),
        },
        millis: 3,
    }));
    assert!(
        serde_json::to_value(&verified)
            .unwrap()
            .get("checkpoint")
            .is_none()
    );
}
