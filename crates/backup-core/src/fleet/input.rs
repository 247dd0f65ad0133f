//! The fleet execution input ([`FleetInput`]) validated into a [`FleetRequest`], before any AWS call.

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::discovery::qualify_labels;
use super::document::{FleetRun, FleetTarget, MAX_FLEET_TARGETS, Selector};
use crate::Config;
use crate::backup::input::{self, OneOf, parse_typed};
use crate::error::BackupError;

/// Child executions at once when the input gives no `maxConcurrency`.
pub const DEFAULT_MAX_CONCURRENCY: u32 = 10;
/// Most child executions at once: an inline Map runs at most 40 iterations in parallel (AWS Step Functions
/// Developer Guide, "Map state processing modes").
pub const MAX_MAX_CONCURRENCY: u32 = 40;
/// Most tags in a selector.
pub const MAX_SELECTOR_TAGS: usize = 10;

/// The fleet execution input, as a schedule or a person gives it (camelCase JSON; `null` counts as absent).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FleetInput {
    /// Label of the fleet (alerts, summary).
    pub name: Option<String>,
    /// Which caches: by ElastiCache tags.
    pub selector: Option<Selector>,
    /// Which caches: an explicit list.
    pub targets: Option<Vec<Value>>,
    /// Child executions at once.
    pub max_concurrency: Option<u64>,
    /// Export bucket of every child.
    pub bucket: Option<String>,
    /// Snapshot deadline of every child, seconds.
    pub snapshot_timeout_seconds: Option<u64>,
    /// Export deadline of every child, seconds.
    pub export_timeout_seconds: Option<u64>,
    /// Keep each source snapshot after a verified export.
    pub keep_source_snapshot: Option<bool>,
    /// Seconds each VerifyShard invocation of every child checks before it pauses with a checkpoint.
    pub verify_budget_seconds: Option<u64>,
}

/// How a fleet names its targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Which {
    /// Every replication group and standalone cluster whose tags match.
    Selector(Selector),
    /// These child inputs, in this order.
    Targets(Vec<FleetTarget>),
}

/// A validated fleet request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetRequest {
    /// The fleet's label.
    pub name: String,
    /// Which targets.
    pub which: Which,
    /// Child executions at once.
    pub max_concurrency: u32,
    /// The options every child gets (only those the input gave: the backup fills its own defaults).
    pub options: Map<String, Value>,
}

/// What the `fleet` function is asked: one of the fleet state machine's two steps.
#[derive(Debug, Clone, PartialEq)]
pub enum FleetCall {
    /// `{"discover": <fleet execution input>, "execution": <execution name>}`: the input (validated later, by
    /// [`validate`]) and the execution's name (`direct-<unix seconds>` when the event gives none).
    Discover {
        /// The fleet execution input.
        input: Value,
        /// The fleet execution's name (it names the fleet's lists in the bucket).
        execution: String,
    },
    /// `{"summarize": <fleet document with results>}`.
    Summarize(Box<FleetRun>),
}

impl FleetCall {
    /// Reads an event of the `fleet` function; `now` names a direct call's execution.
    ///
    /// # Errors
    /// [`BackupError::InvalidInput`] for an event that is neither step, or a `summarize` that is not a fleet
    /// document.
    pub fn parse(payload: &Value, now: time::OffsetDateTime) -> Result<Self, BackupError> {
        if let Some(input) = payload.get("discover") {
            let execution = payload
                .get("execution")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| format!("direct-{}", now.unix_timestamp()));
            return Ok(Self::Discover {
                input: input.clone(),
                execution,
            });
        }
        if let Some(doc) = payload.get("summarize") {
            let run: FleetRun = serde_json::from_value(doc.clone()).map_err(|e| {
                BackupError::invalid_input("summarize", format!("is not a fleet document: {e}"))
            })?;
            return Ok(Self::Summarize(Box::new(run)));
        }
        Err(BackupError::invalid_input(
            "(input)",
            "must be {\"discover\": <fleet input>} or {\"summarize\": <fleet document>}",
        ))
    }
}

/// The rule of a fleet field, for a value of the wrong type.
fn rule_of(field: &str) -> String {
    match field {
        "selector" => "must be an object {\"tags\": {\"key\": \"value\"}}".into(),
        "selector.tags" => "must map tag keys to string values".into(),
        "targets" => {
            "must be a list of {\"replicationGroupId\": …} or {\"cacheClusterId\": …} objects"
                .into()
        }
        "maxConcurrency" => concurrency_rule(),
        "name" => name_rule().into(),
        other => input::rule_of(other),
    }
}

fn concurrency_rule() -> String {
    format!("must be a whole number from 1 to {MAX_MAX_CONCURRENCY}")
}

fn name_rule() -> &'static str {
    "must be 1-64 letters, digits, `.`, `_` or `-`"
}

/// Whether an execution input asks for a fleet (it has `selector` or `targets`) rather than one target.
pub fn is_fleet_input(input: &Value) -> bool {
    input.get("selector").is_some() || input.get("targets").is_some()
}

/// Validates a fleet input against the table in the module doc, before any AWS call.
///
/// # Errors
/// [`BackupError::InvalidInput`] naming the first field at fault (`targets[2].replicationGroupId`) and its rule.
pub fn validate(input: &Value, config: &Config) -> Result<FleetRequest, BackupError> {
    if !input.is_object() {
        return Err(BackupError::invalid_input(
            "(input)",
            "must be a JSON object",
        ));
    }
    let fleet: FleetInput = parse_typed(input, rule_of)?;

    // The options every child gets, validated as a single backup validates them (a stand-in target).
    let mut options = Map::new();
    for (k, v) in [
        ("bucket", fleet.bucket.clone().map(Value::from)),
        (
            "snapshotTimeoutSeconds",
            fleet.snapshot_timeout_seconds.map(Value::from),
        ),
        (
            "exportTimeoutSeconds",
            fleet.export_timeout_seconds.map(Value::from),
        ),
        (
            "keepSourceSnapshot",
            fleet.keep_source_snapshot.map(Value::from),
        ),
        (
            "verifyBudgetSeconds",
            fleet.verify_budget_seconds.map(Value::from),
        ),
    ] {
        if let Some(v) = v {
            options.insert(k.into(), v);
        }
    }
    let mut probe = options.clone();
    probe.insert("replicationGroupId".into(), json!("fleet"));
    input::validate(&Value::Object(probe), config)?;

    let max_concurrency = match fleet.max_concurrency {
        None => DEFAULT_MAX_CONCURRENCY,
        Some(n) if (1..=u64::from(MAX_MAX_CONCURRENCY)).contains(&n) => n as u32,
        Some(_) => {
            return Err(BackupError::invalid_input(
                "maxConcurrency",
                concurrency_rule(),
            ));
        }
    };

    let which = match input::exactly_one(fleet.selector, fleet.targets, "selector", "targets")? {
        OneOf::First(selector) => {
            check_selector(&selector)?;
            Which::Selector(selector)
        }
        OneOf::Second(targets) => Which::Targets(explicit_targets(&targets, &options, config)?),
    };

    let name = match fleet.name.map(|n| n.trim().to_string()) {
        Some(n) => {
            if n.is_empty()
                || n.len() > 64
                || !n
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
            {
                return Err(BackupError::invalid_input("name", name_rule()));
            }
            n
        }
        None => match &which {
            Which::Selector(s) => s.label(),
            Which::Targets(_) => "targets".into(),
        },
    };
    Ok(FleetRequest {
        name,
        which,
        max_concurrency,
        options,
    })
}

/// ElastiCache tag limits (Amazon ElastiCache User Guide, "Tagging your ElastiCache resources"): key 1–128
/// characters, value 0–256.
fn check_selector(selector: &Selector) -> Result<(), BackupError> {
    if selector.tags.is_empty() || selector.tags.len() > MAX_SELECTOR_TAGS {
        return Err(BackupError::invalid_input(
            "selector.tags",
            format!("must name 1-{MAX_SELECTOR_TAGS} tags"),
        ));
    }
    for (k, v) in &selector.tags {
        if k.trim().is_empty() || k.chars().count() > 128 {
            return Err(BackupError::invalid_input(
                "selector.tags",
                format!("has the key {k:?}; a tag key is 1-128 characters"),
            ));
        }
        if v.chars().count() > 256 {
            return Err(BackupError::invalid_input(
                format!("selector.tags.{k}"),
                "is longer than 256 characters, the longest tag value",
            ));
        }
    }
    Ok(())
}

/// Each entry as a single backup's input (with the options), validated as one; no target twice.
fn explicit_targets(
    entries: &[Value],
    options: &Map<String, Value>,
    config: &Config,
) -> Result<Vec<FleetTarget>, BackupError> {
    if entries.is_empty() || entries.len() > MAX_FLEET_TARGETS {
        return Err(BackupError::invalid_input(
            "targets",
            format!("must list 1-{MAX_FLEET_TARGETS} targets"),
        ));
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let Some(obj) = entry.as_object() else {
            return Err(BackupError::invalid_input(
                format!("targets[{i}]"),
                rule_of("targets"),
            ));
        };
        if let Some(k) = obj.keys().find(|k| {
            !matches!(
                k.as_str(),
                "replicationGroupId" | "cacheClusterId" | "serverlessCacheName"
            )
        }) {
            return Err(BackupError::invalid_input(
                format!("targets[{i}].{k}"),
                "is not a known field; expected one of replicationGroupId, cacheClusterId, serverlessCacheName \
                 (options go on the fleet)",
            ));
        }
        let mut child = obj.clone();
        child.extend(options.clone());
        let request =
            input::validate(&Value::Object(child.clone()), config).map_err(|e| match e {
                BackupError::InvalidInput { field, rule } => {
                    BackupError::invalid_input(format!("targets[{i}].{field}"), rule)
                }
                other => other,
            })?;
        let (kind, id) = match &request.target {
            crate::backup::run::TargetRef::ReplicationGroupId(id) => ("replicationGroupId", id),
            crate::backup::run::TargetRef::CacheClusterId(id) => ("cacheClusterId", id),
            crate::backup::run::TargetRef::ServerlessCacheName(id) => ("serverlessCacheName", id),
        };
        if !seen.insert((kind, id.clone())) {
            return Err(BackupError::invalid_input(
                format!("targets[{i}]"),
                format!("names {id} a second time"),
            ));
        }
        child.insert(kind.into(), json!(id));
        out.push(FleetTarget {
            target: id.clone(),
            input: Value::Object(child),
        });
    }
    qualify_labels(&mut out);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> Config {
        Config {
            default_bucket: Some("default-bucket".into()),
            ..Config::default()
        }
    }

    fn invalid(input: Value) -> (String, String) {
        match validate(&input, &cfg()).unwrap_err() {
            BackupError::InvalidInput { field, rule } => (field, rule),
            other => panic!("expected InvalidInput, got {other:?}"),
        }
    }

    #[test]
    fn a_selector_fleet_takes_defaults_and_passes_only_the_given_options() {
        let r = validate(
            &json!({"selector": {"tags": {"backup": "daily", "team": "Payments"}}, "bucket": "acme-b",
                    "keepSourceSnapshot": true}),
            &cfg(),
        )
        .unwrap();
        assert_eq!(r.name, "backup=daily,team=Payments");
        assert_eq!(r.max_concurrency, DEFAULT_MAX_CONCURRENCY);
        assert_eq!(
            Value::Object(r.options),
            json!({"bucket": "acme-b", "keepSourceSnapshot": true})
        );
        let Which::Selector(s) = r.which else {
            panic!("selector expected")
        };
        let tags = |t: &[(&str, &str)]| {
            t.iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect::<Vec<_>>()
        };
        assert!(s.matches(&tags(&[
            ("team", "Payments"),
            ("backup", "daily"),
            ("x", "y")
        ])));
        assert!(
            !s.matches(&tags(&[("team", "payments"), ("backup", "daily")])),
            "values are case-sensitive"
        );
        assert!(
            !s.matches(&tags(&[("backup", "daily")])),
            "every tag must match"
        );
    }

    #[test]
    fn an_explicit_list_becomes_child_inputs_with_the_options() {
        let r = validate(
            &json!({"targets": [{"replicationGroupId": "Orders"}, {"cacheClusterId": "cache-1"},
                                {"serverlessCacheName": "Carts"}],
                    "maxConcurrency": 2, "snapshotTimeoutSeconds": 600, "name": "nightly"}),
            &cfg(),
        )
        .unwrap();
        assert_eq!((r.name.as_str(), r.max_concurrency), ("nightly", 2));
        assert_eq!(
            r.which,
            Which::Targets(vec![
                FleetTarget {
                    target: "orders".into(),
                    input: json!({"replicationGroupId": "orders", "snapshotTimeoutSeconds": 600})
                },
                FleetTarget {
                    target: "cache-1".into(),
                    input: json!({"cacheClusterId": "cache-1", "snapshotTimeoutSeconds": 600})
                },
                FleetTarget {
                    target: "carts".into(),
                    input: json!({"serverlessCacheName": "carts", "snapshotTimeoutSeconds": 600})
                },
            ])
        );
    }

    #[test]
    fn each_bad_field_is_named_with_its_rule() {
        let cases = [
            (
                json!({}),
                "selector",
                "is required (or `targets`); give exactly one",
            ),
            (
                json!({"selector": {"tags": {"a": "b"}}, "targets": [{"replicationGroupId": "x"}]}),
                "selector",
                "and `targets` are both set; give exactly one",
            ),
            (
                json!({"selector": {"tags": {}}}),
                "selector.tags",
                "must name 1-10 tags",
            ),
            (
                json!({"selector": {"tag": {"a": "b"}}}),
                "selector.tag",
                "is not a known field; expected one of tags",
            ),
            (
                json!({"selector": {"tags": {"a": 1}}}),
                "selector.tags.a",
                "must be a string",
            ),
            (
                json!({"targets": []}),
                "targets",
                "must list 1-1000 targets",
            ),
            (
                json!({"targets": [{"replicationGroupId": "a"}, {"replicationGroupId": "A"}]}),
                "targets[1]",
                "names a a second time",
            ),
            (
                json!({"targets": [{"replicationGroupId": "9a"}]}),
                "targets[0].replicationGroupId",
                "must start with a letter",
            ),
            (
                json!({"targets": [{"replicationGroupId": "a", "bucket": "b"}]}),
                "targets[0].bucket",
                "is not a known field; expected one of replicationGroupId, cacheClusterId, serverlessCacheName \
                 (options go on the fleet)",
            ),
            (json!({"targets": ["a"]}), "targets[0]", &rule_of("targets")),
            (
                json!({"selector": {"tags": {"a": "b"}}, "maxConcurrency": 0}),
                "maxConcurrency",
                "must be a whole number from 1 to 40",
            ),
            (
                json!({"selector": {"tags": {"a": "b"}}, "maxConcurrency": 41}),
                "maxConcurrency",
                "must be a whole number from 1 to 40",
            ),
            (
                json!({"selector": {"tags": {"a": "b"}}, "bucket": "Bad_Bucket"}),
                "bucket",
                "may contain only lower-case letters, digits, dots and hyphens",
            ),
            (
                json!({"selector": {"tags": {"a": "b"}}, "exportTimeoutSeconds": 5}),
                "exportTimeoutSeconds",
                "must be a whole number of seconds from 60 to 79200",
            ),
            (
                json!({"selector": {"tags": {"a": "b"}}, "verifyBudgetSeconds": 900}),
                "verifyBudgetSeconds",
                "must be a whole number of seconds from 1 to 840 (VerifyShard stops at 900 s)",
            ),
            (
                json!({"selector": {"tags": {"a": "b"}}, "name": "has space"}),
                "name",
                name_rule(),
            ),
            (
                json!({"selector": {"tags": {"a": "b"}}, "replicationGroupId": "x"}),
                "replicationGroupId",
                "is not a known field; expected one of name, selector, targets, maxConcurrency, bucket, \
                 snapshotTimeoutSeconds, exportTimeoutSeconds, keepSourceSnapshot, verifyBudgetSeconds",
            ),
        ];
        for (input, field, rule) in cases {
            assert_eq!(
                invalid(input.clone()),
                (field.to_string(), rule.to_string()),
                "input {input}"
            );
        }
    }

    #[test]
    fn a_fleet_is_recognised_by_selector_or_targets() {
        assert!(is_fleet_input(&json!({"selector": {"tags": {"a": "b"}}})));
        assert!(is_fleet_input(&json!({"targets": []})));
        assert!(!is_fleet_input(&json!({"replicationGroupId": "orders"})));
    }

    #[test]
    fn a_fleet_event_is_a_discovery_or_a_summary() {
        let now = time::OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        assert_eq!(
            FleetCall::parse(&json!({"discover": {"targets": []}}), now).unwrap(),
            FleetCall::Discover {
                input: json!({"targets": []}),
                execution: "direct-1700000000".into()
            }
        );
        let FleetCall::Discover { execution, .. } =
            FleetCall::parse(&json!({"discover": {}, "execution": "nightly-1"}), now).unwrap()
        else {
            panic!("a discovery");
        };
        assert_eq!(execution, "nightly-1");
        assert!(matches!(
            FleetCall::parse(&json!({"summarize": {"name": "f", "maxConcurrency": 2}}), now).unwrap(),
            FleetCall::Summarize(run) if run.name == "f"
        ));
        for (event, field) in [
            (json!({"summarize": {"name": 1}}), "summarize"),
            (json!({"other": 1}), "(input)"),
        ] {
            match FleetCall::parse(&event, now).unwrap_err() {
                BackupError::InvalidInput { field: f, .. } => assert_eq!(f, field),
                other => panic!("expected InvalidInput, got {other:?}"),
            }
        }
    }
}
