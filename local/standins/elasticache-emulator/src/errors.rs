//! Every error code the emulator answers, per action: the table the model-fidelity test
//! (`local/tests/test_model_fidelity.py`, through `GET /_emulator/errors`) checks against botocore's
//! `elasticache/2015-02-02/service-2.json` (each code one the operation lists, or one of the API Reference's "Common
//! Errors"), with the HTTP status of [`status_for`](crate::state::status_for).
//!
//! A unit test below reads the emulator's sources and fails when an error is constructed with a code that is not in
//! this table; at run time an answered error missing from its action's row is written to the journal as
//! `UnlistedError` (which the fidelity test fails on). Injected faults (`kind: error`) answer whatever a test asks
//! for and are not checked.

/// Action → the error codes the emulator may answer for it. `*`: any action (an unknown one).
pub const ERRORS: &[(&str, &[&str])] = &[
    // API Reference, Common Errors: an action that does not exist.
    ("*", &["InvalidAction"]),
    (
        "DescribeReplicationGroups",
        &["ReplicationGroupNotFoundFault", "InvalidParameterValue"],
    ),
    (
        "DescribeCacheClusters",
        &["CacheClusterNotFound", "InvalidParameterValue"],
    ),
    (
        "DescribeSnapshots",
        &[
            "CacheClusterNotFound",
            "SnapshotNotFoundFault",
            "InvalidParameterValue",
        ],
    ),
    (
        "CreateSnapshot",
        &[
            "SnapshotAlreadyExistsFault",
            "InvalidParameterCombination",
            "ReplicationGroupNotFoundFault",
            "InvalidReplicationGroupState",
            "CacheClusterNotFound",
            "SnapshotFeatureNotSupportedFault",
            "InvalidCacheClusterState",
            "InvalidParameterValue",
        ],
    ),
    (
        "CopySnapshot",
        &[
            "SnapshotNotFoundFault",
            "InvalidSnapshotState",
            "SnapshotAlreadyExistsFault",
            "InvalidParameterValue",
        ],
    ),
    (
        "DeleteSnapshot",
        &[
            "SnapshotNotFoundFault",
            "InvalidSnapshotState",
            "InvalidParameterValue",
        ],
    ),
    (
        "CreateReplicationGroup",
        &[
            "InvalidParameterValue",
            "InvalidParameterCombination",
            "ReplicationGroupAlreadyExists",
            // A `SnapshotName` that does not exist or is not available (restore.rs): codes the model does not list
            // for CreateReplicationGroup (see the fidelity test's KNOWN_DISCREPANCIES).
            "SnapshotNotFoundFault",
            "InvalidSnapshotState",
        ],
    ),
    (
        "DeleteReplicationGroup",
        &[
            "ReplicationGroupNotFoundFault",
            "InvalidReplicationGroupState",
            "InvalidParameterValue",
        ],
    ),
    (
        "ListTagsForResource",
        &[
            "ReplicationGroupNotFoundFault",
            "SnapshotNotFoundFault",
            "CacheClusterNotFound",
            "ServerlessCacheNotFoundFault",
            "ServerlessCacheSnapshotNotFoundFault",
            "InvalidARN",
            "InvalidParameterValue",
        ],
    ),
    (
        "AddTagsToResource",
        &[
            "ReplicationGroupNotFoundFault",
            "SnapshotNotFoundFault",
            "CacheClusterNotFound",
            "ServerlessCacheNotFoundFault",
            "ServerlessCacheSnapshotNotFoundFault",
            "InvalidARN",
            "TagQuotaPerResourceExceeded",
            "MissingParameter",
            "InvalidParameterValue",
        ],
    ),
    (
        "DescribeEvents",
        &["InvalidParameterValue", "InvalidParameterCombination"],
    ),
    (
        "DescribeCacheParameters",
        &["CacheParameterGroupNotFound", "InvalidParameterValue"],
    ),
    (
        "DescribeCacheSubnetGroups",
        &["CacheSubnetGroupNotFoundFault", "InvalidParameterValue"],
    ),
    // The serverless actions (serverless.rs).
    (
        "DescribeServerlessCaches",
        &["ServerlessCacheNotFoundFault", "InvalidParameterValue"],
    ),
    (
        "CreateServerlessCacheSnapshot",
        &[
            "ServerlessCacheSnapshotAlreadyExistsFault",
            "ServerlessCacheNotFoundFault",
            "InvalidServerlessCacheStateFault",
            "ServerlessCacheSnapshotQuotaExceededFault",
            "TagQuotaPerResourceExceeded",
            "InvalidParameterValue",
        ],
    ),
    (
        "DescribeServerlessCacheSnapshots",
        &[
            "ServerlessCacheNotFoundFault",
            "ServerlessCacheSnapshotNotFoundFault",
            "InvalidParameterValue",
        ],
    ),
    (
        "ExportServerlessCacheSnapshot",
        &[
            "ServerlessCacheSnapshotNotFoundFault",
            "InvalidServerlessCacheSnapshotStateFault",
            "InvalidParameterValue",
        ],
    ),
    (
        "DeleteServerlessCacheSnapshot",
        &[
            "ServerlessCacheSnapshotNotFoundFault",
            "InvalidServerlessCacheSnapshotStateFault",
            "InvalidParameterValue",
        ],
    ),
    (
        "CreateServerlessCache",
        &[
            "ServerlessCacheAlreadyExistsFault",
            "InvalidParameterValue",
            "InvalidParameterCombination",
            "TagQuotaPerResourceExceeded",
        ],
    ),
    (
        "DeleteServerlessCache",
        &[
            "ServerlessCacheNotFoundFault",
            "InvalidServerlessCacheStateFault",
            "ServerlessCacheSnapshotAlreadyExistsFault",
            "InvalidParameterValue",
        ],
    ),
];

/// Whether the table lets `action` answer `code`.
pub fn listed(action: &str, code: &str) -> bool {
    ERRORS
        .iter()
        .any(|(a, codes)| (*a == action || *a == "*") && codes.contains(&code))
}

/// The table as JSON, with each code's HTTP status: `{"Action": [{"code": ..., "status": ...}]}`.
pub fn table_json() -> serde_json::Value {
    ERRORS
        .iter()
        .map(|(action, codes)| {
            let rows: Vec<serde_json::Value> = codes
                .iter()
                .map(|c| serde_json::json!({ "code": c, "status": crate::state::status_for(c) }))
                .collect();
            ((*action).to_string(), serde_json::Value::Array(rows))
        })
        .collect::<serde_json::Map<_, _>>()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::path::Path;

    /// The string literal at the start of `rest` (after blanks), if it starts with one.
    fn literal(rest: &str) -> Option<String> {
        let rest = rest.trim_start().strip_prefix('"')?;
        Some(rest[..rest.find('"')?].to_string())
    }

    /// `(file, code literal or None for a computed code, what follows)` for every construction of an `ApiError` (the
    /// `new` function or a struct literal) in the crate's sources.
    fn constructed() -> Vec<(String, Option<String>, String)> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let new_call = concat!("ApiError", "::new(");
        let literal_struct = concat!("ApiError", " {");
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&dir).expect("src dir") {
            let path = entry.expect("entry").path();
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let file = path.file_name().unwrap().to_string_lossy().to_string();
            let text = std::fs::read_to_string(&path).expect("read source");
            for (at, _) in text.match_indices(new_call) {
                let rest = &text[at + new_call.len()..];
                let head: String = rest.chars().take(40).collect();
                out.push((file.clone(), literal(rest), head));
            }
            for (at, _) in text.match_indices(literal_struct) {
                let rest = &text[at + literal_struct.len()..];
                let Some(code_at) = rest.find("code:") else {
                    continue;
                };
                // Only a struct literal whose first field is `code` (not the type's definition).
                if rest[..code_at].trim().is_empty() {
                    let head: String = rest.chars().take(40).collect();
                    out.push((file.clone(), literal(&rest[code_at + 5..]), head));
                }
            }
        }
        out
    }

    #[test]
    fn every_error_the_emulator_constructs_is_in_the_table() {
        let sites = constructed();
        assert!(
            sites.len() > 20,
            "the scan found too few error sites: {sites:?}"
        );
        let listed_codes: BTreeSet<&str> =
            ERRORS.iter().flat_map(|(_, c)| c.iter().copied()).collect();
        let missing: Vec<_> = sites
            .iter()
            .filter_map(|(file, code, _)| code.as_ref().map(|c| (file, c)))
            .filter(|(_, c)| !listed_codes.contains(c.as_str()))
            .collect();
        assert!(
            missing.is_empty(),
            "error codes constructed but not in errors::ERRORS (add them under their action, after checking the \
             model lists them): {missing:?}"
        );
        // The only computed code is the injected fault's (state.rs, `Fault::Error`).
        let computed: Vec<_> = sites.iter().filter(|(_, c, _)| c.is_none()).collect();
        assert!(
            computed.len() == 1
                && computed[0].0 == "state.rs"
                && computed[0].2.trim_start().starts_with("&code"),
            "an error built from a computed code, which this table cannot check: {computed:?}"
        );
    }

    #[test]
    fn every_action_in_the_table_is_dispatched() {
        let api = include_str!("api.rs");
        for (action, _) in ERRORS.iter().filter(|(a, _)| *a != "*") {
            assert!(
                api.contains(&format!("\"{action}\" =>")),
                "{action} is in errors::ERRORS but api.rs does not dispatch it"
            );
        }
        assert!(listed("CopySnapshot", "InvalidSnapshotState"));
        assert!(listed("NoSuchAction", "InvalidAction"));
        assert!(!listed("DescribeEvents", "SnapshotNotFoundFault"));
    }
}
