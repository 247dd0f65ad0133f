//! What `ecb backup`, `restore` and `drill` start: the execution input (docs/design.md §3 for the backup's, the
//! restore's in `backup_core::restore::input`), checked by the same validation the state machine's first step runs
//! (so bad input is refused before anything starts), and a readable execution name.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::cli::{BackupArgs, DrillArgs, Machine, RestoreArgs};
use crate::error::{CliError, CliResult};

/// Longest Step Functions execution name (API Reference, StartExecution: `name`, 1-80 characters).
pub const MAX_EXECUTION_NAME: usize = 80;

/// What a backup target names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A replication group or a node, not yet told apart (ElastiCache is asked).
    Id(String),
    /// A replication group.
    ReplicationGroup(String),
    /// A cache cluster (node).
    CacheCluster(String),
    /// An ElastiCache Serverless cache.
    Serverless(String),
    /// A tag selector: a fleet.
    Selector(BTreeMap<String, String>),
}

/// `TARGET` of `ecb backup`: `key=value[,key=value]` is a tag selector, anything else an id (lower-cased, as
/// ElastiCache stores it).
///
/// # Errors
/// `Usage` naming the rule: an empty tag key, a pair without `=`, an id ElastiCache would refuse.
pub fn parse_target(
    text: &str,
    node: bool,
    replication_group: bool,
    serverless: bool,
) -> CliResult<Target> {
    if text.contains('=') {
        if node || replication_group || serverless {
            return Err(CliError::Usage(
                "TARGET: a tag selector (key=value) is a fleet; --node, --replication-group and --serverless take an \
                 id"
                .into(),
            ));
        }
        let mut tags = BTreeMap::new();
        for pair in text.split(',') {
            let (k, v) = pair.split_once('=').ok_or_else(|| {
                CliError::Usage(format!(
                    "TARGET: {pair:?} is not key=value (a selector is key=value[,key=value])"
                ))
            })?;
            if k.trim().is_empty() {
                return Err(CliError::Usage(format!(
                    "TARGET: {pair:?} has an empty tag key"
                )));
            }
            tags.insert(k.trim().to_string(), v.trim().to_string());
        }
        return Ok(Target::Selector(tags));
    }
    let id = text.trim().to_ascii_lowercase();
    if serverless {
        backup_core::naming::check_serverless_cache_name(&id)
            .map_err(|rule| CliError::Usage(format!("TARGET {text:?}: {rule}")))?;
        return Ok(Target::Serverless(id));
    }
    let check = if node {
        backup_core::naming::check_cache_cluster_id(&id)
    } else {
        backup_core::naming::check_elasticache_id(&id).or_else(|e| {
            if replication_group {
                Err(e)
            } else {
                backup_core::naming::check_cache_cluster_id(&id)
            }
        })
    };
    check.map_err(|rule| CliError::Usage(format!("TARGET {text:?}: {rule}")))?;
    Ok(match (node, replication_group) {
        (true, _) => Target::CacheCluster(id),
        (_, true) => Target::ReplicationGroup(id),
        _ => Target::Id(id),
    })
}

/// A readable execution name: `ecb-<what>-<UTC yyyymmddThhmmssZ>`, `what` slugged (`[a-z0-9-]`) and cut so the
/// whole fits [`MAX_EXECUTION_NAME`].
pub fn execution_name(what: &str, now: OffsetDateTime) -> String {
    let stamp = format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    );
    let slug = backup_core::naming::slug(what);
    let room = MAX_EXECUTION_NAME - "ecb-".len() - 1 - stamp.len();
    let slug: String = slug.chars().take(room).collect();
    let slug = slug.trim_end_matches('-');
    format!(
        "ecb-{}{}{stamp}",
        slug,
        if slug.is_empty() { "" } else { "-" }
    )
}

/// A person-given execution name: 1-80 of `[A-Za-z0-9_-]`, the subset of StartExecution's `name` that CloudWatch
/// Logs also accepts (StartExecution refuses whitespace, wildcards and brackets, and more).
///
/// # Errors
/// `Usage` naming `--name` and the rule.
pub fn check_name(name: &str) -> CliResult<()> {
    let ok = !name.is_empty()
        && name.len() <= MAX_EXECUTION_NAME
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(CliError::Usage(format!(
            "--name {name:?}: 1-{MAX_EXECUTION_NAME} characters of A-Z, a-z, 0-9, - and _"
        )))
    }
}

/// The functions' default bucket for validation when the deployment's is not known: the input then names none and
/// the functions use their BACKUP_BUCKET, so the check must not refuse it for that.
const ANY_BUCKET: &str = "bucket-of-the-functions";

fn config(bucket: Option<&str>) -> backup_core::Config {
    backup_core::Config {
        default_bucket: Some(bucket.unwrap_or(ANY_BUCKET).to_string()),
        ..backup_core::Config::default()
    }
}

fn invalid(e: backup_core::BackupError) -> CliError {
    CliError::Usage(e.to_string())
}

/// The machine and input of `ecb backup` for `target` (ids already resolved to their kind): `input_bucket` (the
/// `--bucket` flag) goes into the input; `bucket` is the deployment's, the functions' default.
///
/// # Errors
/// `Usage`: what the state machine's first step would refuse (field and rule).
pub fn backup_input(
    target: &Target,
    args: &BackupArgs,
    bucket: Option<&str>,
    input_bucket: Option<&str>,
) -> CliResult<(Machine, Value)> {
    let mut input = match target {
        Target::ReplicationGroup(id) | Target::Id(id) => json!({"replicationGroupId": id}),
        Target::CacheCluster(id) => json!({"cacheClusterId": id}),
        Target::Serverless(id) => json!({"serverlessCacheName": id}),
        Target::Selector(tags) => json!({"selector": {"tags": tags}}),
    };
    if let Some(b) = input_bucket {
        input["bucket"] = json!(b);
    }
    if args.keep_source_snapshot {
        input["keepSourceSnapshot"] = json!(true);
    }
    if let Some(seconds) = args.verify_budget_seconds {
        input["verifyBudgetSeconds"] = json!(seconds);
    }
    if let Target::Selector(_) = target {
        if let Some(n) = args.max_concurrency {
            input["maxConcurrency"] = json!(n);
        }
        backup_core::fleet::input::validate(&input, &config(bucket)).map_err(invalid)?;
        Ok((Machine::Fleet, input))
    } else {
        if args.max_concurrency.is_some() {
            return Err(CliError::Usage(
                "--max-concurrency: only for a tag selector (a fleet)".into(),
            ));
        }
        backup_core::backup::input::validate(&input, &config(bucket)).map_err(invalid)?;
        Ok((Machine::Backup, input))
    }
}

/// `ecb restore`'s input: `backup` as a manifest URI (a bare key or export name is put in `bucket`), or `--latest`.
///
/// # Errors
/// `Usage`: what the restore state machine's first step would refuse, or a bare backup name without a bucket.
pub fn restore_input(args: &RestoreArgs, bucket: Option<&str>) -> CliResult<Value> {
    let mut input = if args.serverless {
        json!({"targetServerlessCacheName": args.to})
    } else {
        json!({"targetReplicationGroupId": args.to})
    };
    match (&args.backup, &args.latest) {
        (Some(b), _) => input["manifest"] = json!(manifest_uri(b, bucket)?),
        (None, Some(t)) => {
            input["replicationGroupId"] = json!(t);
            input["latest"] = json!(true);
            if let Some(b) = bucket {
                input["bucket"] = json!(b);
            }
        }
        (None, None) => return Err(CliError::Usage("give BACKUP or --latest TARGET".into())),
    }
    let set = |input: &mut Value, k: &str, v: Option<Value>| {
        if let Some(v) = v {
            input[k] = v;
        }
    };
    set(
        &mut input,
        "nodeType",
        args.node_type.clone().map(Value::from),
    );
    set(
        &mut input,
        "engineVersion",
        args.engine_version.clone().map(Value::from),
    );
    set(
        &mut input,
        "cacheSubnetGroupName",
        args.cache_subnet_group_name.clone().map(Value::from),
    );
    set(
        &mut input,
        "securityGroupIds",
        (!args.security_group_ids.is_empty()).then(|| json!(args.security_group_ids)),
    );
    set(
        &mut input,
        "cacheParameterGroupName",
        args.cache_parameter_group_name.clone().map(Value::from),
    );
    set(
        &mut input,
        "replicasPerShard",
        args.replicas_per_shard.map(Value::from),
    );
    set(
        &mut input,
        "subnetIds",
        (!args.subnet_ids.is_empty()).then(|| json!(args.subnet_ids)),
    );
    set(
        &mut input,
        "restoreTimeoutSeconds",
        args.restore_timeout_seconds.map(Value::from),
    );
    set(
        &mut input,
        "verifyBeforeRestore",
        args.verify_before_restore.then_some(Value::Bool(true)),
    );
    set(
        &mut input,
        "authTokenSecretArn",
        args.auth_token_secret_arn.clone().map(Value::from),
    );
    backup_core::restore::input::validate_restore(
        &input,
        Some(bucket.unwrap_or(ANY_BUCKET)),
        "cli",
    )
    .map_err(invalid)?;
    Ok(input)
}

/// `ecb drill`'s input: the newest verified backup of `target`, restored into a group the state machine names.
///
/// # Errors
/// `Usage`: what the restore state machine's first step would refuse.
pub fn drill_input(args: &DrillArgs, bucket: Option<&str>) -> CliResult<Value> {
    let mut input = json!({"replicationGroupId": args.target.to_ascii_lowercase(), "latest": true, "drill": true});
    if args.serverless {
        input["serverless"] = json!(true);
    }
    if let Some(b) = bucket {
        input["bucket"] = json!(b);
    }
    backup_core::restore::input::validate_restore(
        &input,
        Some(bucket.unwrap_or(ANY_BUCKET)),
        "cli",
    )
    .map_err(invalid)?;
    Ok(input)
}

/// A backup as `s3://bucket/<export>.manifest.json`: a URI as given; a manifest key or an export name in `bucket`.
///
/// # Errors
/// `Usage` when a bare name has no bucket to go with.
pub fn manifest_uri(backup: &str, bucket: Option<&str>) -> CliResult<String> {
    if backup.starts_with("s3://") {
        return Ok(backup.to_string());
    }
    let key = if backup.ends_with(".manifest.json") {
        backup.to_string()
    } else {
        backup_core::naming::manifest_key(backup)
    };
    let bucket = bucket.ok_or_else(|| {
        CliError::Usage(format!(
            "{backup}: a backup name needs the bucket (--bucket, ECB_BUCKET or --terraform-dir), or give s3://bucket/key"
        ))
    })?;
    Ok(format!("s3://{bucket}/{key}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn backup_args() -> BackupArgs {
        BackupArgs {
            target: String::new(),
            node: false,
            replication_group: false,
            serverless: false,
            wait: false,
            name: None,
            keep_source_snapshot: false,
            verify_budget_seconds: None,
            max_concurrency: None,
            interval: 2.0,
        }
    }

    #[test]
    fn a_verify_budget_goes_into_the_input_and_is_checked_before_anything_starts() {
        let args = BackupArgs {
            verify_budget_seconds: Some(300),
            ..backup_args()
        };
        let target = Target::ReplicationGroup("orders".into());
        let (_, input) = backup_input(&target, &args, Some("acme-backups"), None).unwrap();
        assert_eq!(input["verifyBudgetSeconds"], 300);
        let selector = Target::Selector([("env".to_string(), "prod".to_string())].into());
        let (_, fleet) = backup_input(&selector, &args, Some("acme-backups"), None).unwrap();
        assert_eq!(fleet["verifyBudgetSeconds"], 300);
        for bad in [0, 841] {
            let args = BackupArgs {
                verify_budget_seconds: Some(bad),
                ..backup_args()
            };
            for t in [&target, &selector] {
                let err = backup_input(t, &args, Some("acme-backups"), None)
                    .unwrap_err()
                    .to_string();
                assert!(
                    err.contains("verifyBudgetSeconds") && err.contains("1 to 840"),
                    "{err}"
                );
            }
        }
    }

    #[test]
    fn targets_are_ids_or_tag_selectors() {
        assert_eq!(
            parse_target("Orders", false, false, false).unwrap(),
            Target::Id("orders".into())
        );
        assert_eq!(
            parse_target("orders-0001-001", true, false, false).unwrap(),
            Target::CacheCluster("orders-0001-001".into())
        );
        let Target::Selector(tags) =
            parse_target("team=payments,env=prod", false, false, false).unwrap()
        else {
            panic!("a selector")
        };
        assert_eq!(tags.len(), 2);
        assert_eq!(tags["env"], "prod");
        for bad in ["=x", "a=b,c", "-orders", "orders--x", ""] {
            let err = parse_target(bad, false, false, false).unwrap_err();
            assert!(matches!(err, CliError::Usage(_)), "{bad}");
            assert!(err.to_string().contains("TARGET"), "{bad}: {err}");
        }
        assert!(parse_target("a=b", true, false, false).is_err());
        assert!(parse_target("a=b", false, false, true).is_err());
        assert_eq!(
            parse_target("Sessions", false, false, true).unwrap(),
            Target::Serverless("sessions".into())
        );
        let err = parse_target("sessions-", false, false, true).unwrap_err();
        assert!(
            err.to_string().contains("must not end with a hyphen"),
            "{err}"
        );
    }

    #[test]
    fn execution_names_are_readable_valid_and_bounded() {
        let now = datetime!(2026-12-04 03:04:05 UTC);
        assert_eq!(execution_name("orders", now), "ecb-orders-20261204T030405Z");
        assert_eq!(
            execution_name("team=payments,env=prod", now),
            "ecb-team-payments-env-prod-20261204T030405Z"
        );
        let long = execution_name(&"x".repeat(200), now);
        assert_eq!(long.len(), MAX_EXECUTION_NAME);
        check_name(&long).unwrap();
        assert!(check_name("has space").is_err());
        assert!(check_name(&"a".repeat(81)).is_err());
    }

    #[test]
    fn inputs_are_checked_as_the_first_step_checks_them() {
        let (m, input) = backup_input(
            &Target::Id("orders".into()),
            &backup_args(),
            Some("my-backups"),
            None,
        )
        .unwrap();
        assert_eq!(
            (m, input),
            (Machine::Backup, json!({"replicationGroupId": "orders"}))
        );
        let (m, input) = backup_input(
            &Target::Serverless("sessions".into()),
            &backup_args(),
            None,
            None,
        )
        .unwrap();
        assert_eq!(
            (m, input),
            (Machine::Backup, json!({"serverlessCacheName": "sessions"}))
        );
        let tags = BTreeMap::from([("team".to_string(), "payments".to_string())]);
        let mut args = backup_args();
        args.max_concurrency = Some(4);
        let (m, input) = backup_input(&Target::Selector(tags), &args, None, None).unwrap();
        assert_eq!(m, Machine::Fleet);
        assert_eq!(input["maxConcurrency"], 4);
        let err = backup_input(&Target::Id("orders".into()), &args, None, None).unwrap_err();
        assert!(err.to_string().contains("--max-concurrency"));
        let bad = backup_input(
            &Target::Id("orders".into()),
            &backup_args(),
            None,
            Some("B"),
        )
        .unwrap_err();
        assert!(bad.to_string().contains("bucket"), "{bad}");
    }

    #[test]
    fn a_bare_backup_name_needs_a_bucket() {
        assert_eq!(
            manifest_uri("ecb-orders-x", Some("b")).unwrap(),
            "s3://b/ecb-orders-x.manifest.json"
        );
        assert_eq!(
            manifest_uri("ecb-orders-x.manifest.json", Some("b")).unwrap(),
            "s3://b/ecb-orders-x.manifest.json"
        );
        assert_eq!(
            manifest_uri("s3://c/k.manifest.json", None).unwrap(),
            "s3://c/k.manifest.json"
        );
        assert!(
            manifest_uri("ecb-orders-x", None)
                .unwrap_err()
                .to_string()
                .contains("--bucket")
        );
    }

    fn parsed(args: &[&str]) -> crate::cli::Command {
        use clap::Parser;
        crate::cli::Cli::try_parse_from(args).unwrap().command
    }

    #[test]
    fn restore_and_drill_take_a_serverless_target() {
        let crate::cli::Command::Restore(r) = parsed(&[
            "ecb",
            "restore",
            "s3://acme-cache-backups/ecb-orders-x.manifest.json",
            "--to",
            "orders-sl",
            "--serverless",
            "--subnet-ids",
            "subnet-1,subnet-2",
        ]) else {
            panic!("not restore")
        };
        let input = restore_input(&r, None).unwrap();
        assert_eq!(input["targetServerlessCacheName"], "orders-sl");
        assert!(input.get("targetReplicationGroupId").is_none());
        assert_eq!(
            input["subnetIds"],
            serde_json::json!(["subnet-1", "subnet-2"])
        );
        let crate::cli::Command::Restore(r) = parsed(&[
            "ecb",
            "restore",
            "s3://acme-cache-backups/ecb-orders-x.manifest.json",
            "--to",
            "orders-sl",
            "--serverless",
            "--node-type",
            "cache.r7g.large",
        ]) else {
            panic!("not restore")
        };
        let err = restore_input(&r, None).unwrap_err();
        assert!(err.to_string().contains("nodeType"), "{err}");
        let crate::cli::Command::Drill(d) = parsed(&["ecb", "drill", "orders", "--serverless"])
        else {
            panic!("not drill")
        };
        assert_eq!(
            drill_input(&d, Some("acme-cache-backups")).unwrap()["serverless"],
            true
        );
    }
}
