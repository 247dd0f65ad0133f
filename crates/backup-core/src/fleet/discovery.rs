//! Discovery: which of the caches a selector matched become children, and which are skipped and why.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::document::{FleetRun, FleetTarget, MAX_FLEET_TARGETS, Selector, Skipped, TargetsObject};
use crate::Config;
use crate::error::BackupError;
use crate::resources::{CacheClusterInfo, ReplicationGroupInfo};

/// A resource's tags as discovery reads them (`ListTagsForResource`): `None` for one gone since it was listed.
pub type Tags = Option<Vec<(String, String)>>;

/// The caches a selector matched, judged: every replication group, then every standalone cluster, whose tags
/// (`group_tags[i]` those of `groups[i]`, the same for clusters) carry every selector tag, as a child input
/// ([`judge_group`], [`judge_cluster`]) or a [`Skipped`] record; the labels then made unique ([`qualify_labels`]).
pub fn judge_matches(
    selector: &Selector,
    options: &Map<String, Value>,
    groups: &[ReplicationGroupInfo],
    group_tags: Vec<Tags>,
    clusters: &[CacheClusterInfo],
    cluster_tags: Vec<Tags>,
) -> (Vec<FleetTarget>, Vec<Skipped>) {
    let mut targets = Vec::new();
    let mut skipped = Vec::new();
    for (g, tags) in groups.iter().zip(group_tags) {
        if tags.is_some_and(|t| selector.matches(&t)) {
            match judge_group(g, options) {
                Ok(t) => targets.push(t),
                Err(s) => skipped.push(s),
            }
        }
    }
    for (c, tags) in clusters.iter().zip(cluster_tags) {
        if tags.is_some_and(|t| selector.matches(&t)) {
            match judge_cluster(c, options) {
                Ok(t) => targets.push(t),
                Err(s) => skipped.push(s),
            }
        }
    }
    qualify_labels(&mut targets);
    (targets, skipped)
}

/// A tag read's answer as discovery takes it: a resource gone since it was listed (`TargetNotFound`) has no tags
/// (`Ok(None)`), so it matches no selector.
///
/// # Errors
/// Any other error of the read, unchanged.
pub fn tags_unless_gone(
    read: Result<Vec<(String, String)>, BackupError>,
) -> Result<Tags, BackupError> {
    match read {
        Ok(tags) => Ok(Some(tags)),
        Err(BackupError::TargetNotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The fleet document `Discover` returns for fleet `name`: `found` its targets and the matched caches it skips
/// (`selector` the one it was given, if any), before any Distributed Map decision ([`spill_targets`]).
///
/// # Errors
/// [`BackupError::TargetNotFound`] when a selector matched nothing that can be backed up (naming what it matched
/// and skipped: a schedule that backs up nothing must page, not pass); [`BackupError::NotSupported`] beyond
/// [`MAX_FLEET_TARGETS`] targets.
pub fn fleet_run(
    name: String,
    max_concurrency: u32,
    selector: Option<Selector>,
    found: (Vec<FleetTarget>, Vec<Skipped>),
) -> Result<FleetRun, BackupError> {
    let (targets, skipped) = found;
    if let Some(selector) = selector.as_ref().filter(|_| targets.is_empty()) {
        let why = if skipped.is_empty() {
            String::new()
        } else {
            format!(
                "; matched but not supported: {}",
                skipped
                    .iter()
                    .map(|s| format!("{} ({})", s.target, s.reason))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        return Err(BackupError::TargetNotFound {
            message: format!(
                "fleet {name}: the selector {} matched no replication group or standalone cluster that can be \
                 backed up in this region{why}",
                selector.label()
            ),
            source: None,
        });
    }
    if targets.len() > MAX_FLEET_TARGETS {
        return Err(BackupError::NotSupported {
            message: format!(
                "fleet {name}: {} targets matched; one fleet execution backs up at most {}: split the selector into \
                 several schedules",
                targets.len(),
                MAX_FLEET_TARGETS
            ),
            source: None,
        });
    }
    Ok(FleetRun {
        name,
        selector,
        max_concurrency,
        target_count: targets.len(),
        targets,
        skipped,
        ..FleetRun::default()
    })
}

/// For a fleet of more than `config.fleet_inline_max_targets` targets (a Distributed Map), moves its targets out
/// of the document: `run` then carries `targetsObject` (in `BACKUP_BUCKET`, for execution `execution`) and no
/// `targets`, and the answer is that object with the body to write there (a JSON array of [`FleetTarget`]).
/// `None` for an inline fleet, left unchanged.
///
/// # Errors
/// [`BackupError::NotSupported`] when a Distributed Map is needed and `BACKUP_BUCKET` is not set.
pub fn spill_targets(
    run: &mut FleetRun,
    config: &Config,
    execution: &str,
) -> Result<Option<(TargetsObject, String)>, BackupError> {
    if run.targets.len() <= config.fleet_inline_max_targets {
        return Ok(None);
    }
    let Some(bucket) = config.default_bucket.as_deref() else {
        return Err(BackupError::NotSupported {
            message: format!(
                "fleet {}: {} targets need a Distributed Map, whose lists are kept in the module's bucket, and \
                 BACKUP_BUCKET is not set",
                run.name, run.target_count
            ),
            source: None,
        });
    };
    let object = TargetsObject::new(bucket, &run.name, execution);
    let body = serde_json::to_string(&run.targets).unwrap_or_else(|_| "[]".into());
    run.targets.clear();
    run.targets_object = Some(object.clone());
    Ok(Some((object, body)))
}

/// Prefix of a standalone cluster's `target` label when a replication group of the same id is in the same fleet.
pub const CACHE_CLUSTER_LABEL_PREFIX: &str = "cache-cluster/";

/// Makes every target's label unique: a replication group and a standalone cluster may share an id (two
/// namespaces), and are two targets; the cluster's label then reads `cache-cluster/<id>` (its input is unchanged).
/// Without this, the summary would merge their results under one label.
pub fn qualify_labels(targets: &mut [FleetTarget]) {
    let groups: BTreeSet<String> = targets
        .iter()
        .filter(|t| t.input.get("replicationGroupId").is_some())
        .map(|t| t.target.clone())
        .collect();
    for t in targets.iter_mut() {
        if t.input.get("cacheClusterId").is_some() && groups.contains(&t.target) {
            t.target = format!("{CACHE_CLUSTER_LABEL_PREFIX}{}", t.target);
        }
    }
}

/// A candidate the selector matched, judged: a child input, or why it is skipped.
fn child(id: &str, kind: &str, options: &Map<String, Value>) -> FleetTarget {
    let mut input = options.clone();
    input.insert(kind.into(), json!(id));
    FleetTarget {
        target: id.to_string(),
        input: Value::Object(input),
    }
}

/// Statuses after which a cache will not take a snapshot again (it is going or never came).
const GONE: &[&str] = &["deleting", "deleted", "create-failed"];

/// A matched replication group: its child, or why it is skipped (data tiering has no export; a group being
/// deleted is gone). A busy group is kept: its child retries `ClusterBusy`.
///
/// # Errors
/// The [`Skipped`] record.
pub fn judge_group(
    g: &ReplicationGroupInfo,
    options: &Map<String, Value>,
) -> Result<FleetTarget, Skipped> {
    let id = g.id.to_ascii_lowercase();
    if g.data_tiering {
        return Err(Skipped {
            target: id,
            reason: "NotSupported: data tiering groups cannot be exported".into(),
        });
    }
    if GONE.contains(&g.status.as_str()) {
        return Err(Skipped {
            target: id,
            reason: format!("status {}", g.status),
        });
    }
    Ok(child(&id, "replicationGroupId", options))
}

/// A matched standalone cluster: its child, or why it is skipped (Memcached has no snapshots).
///
/// # Errors
/// The [`Skipped`] record.
pub fn judge_cluster(
    c: &CacheClusterInfo,
    options: &Map<String, Value>,
) -> Result<FleetTarget, Skipped> {
    let id = c.id.to_ascii_lowercase();
    if let Some(engine) = c
        .engine
        .as_deref()
        .filter(|e| e.eq_ignore_ascii_case("memcached"))
    {
        return Err(Skipped {
            target: id,
            reason: format!("NotSupported: engine {engine} has no snapshots"),
        });
    }
    if GONE.contains(&c.status.as_str()) {
        return Err(Skipped {
            target: id,
            reason: format!("status {}", c.status),
        });
    }
    Ok(child(&id, "cacheClusterId", options))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memcached_data_tiering_and_deleting_caches_are_skipped_with_the_reason() {
        let options = Map::new();
        let group = |id: &str, status: &str, tiering: bool| ReplicationGroupInfo {
            id: id.into(),
            status: status.into(),
            data_tiering: tiering,
            ..Default::default()
        };
        assert_eq!(
            judge_group(&group("Orders", "snapshotting", false), &options).unwrap(),
            FleetTarget {
                target: "orders".into(),
                input: json!({"replicationGroupId": "orders"})
            },
            "a busy group is still backed up: its child retries ClusterBusy"
        );
        assert!(
            judge_group(&group("t", "available", true), &options)
                .unwrap_err()
                .reason
                .starts_with("NotSupported")
        );
        assert_eq!(
            judge_group(&group("d", "deleting", false), &options)
                .unwrap_err()
                .reason,
            "status deleting"
        );
        let cluster = |engine: &str| CacheClusterInfo {
            id: "c".into(),
            status: "available".into(),
            engine: Some(engine.into()),
            ..Default::default()
        };
        assert_eq!(
            judge_cluster(&cluster("memcached"), &options)
                .unwrap_err()
                .reason,
            "NotSupported: engine memcached has no snapshots"
        );
        assert_eq!(
            judge_cluster(&cluster("valkey"), &options).unwrap().input,
            json!({"cacheClusterId": "c"})
        );
    }

    #[test]
    fn only_caches_carrying_every_selector_tag_are_judged_and_gone_ones_match_nothing() {
        let selector = Selector {
            tags: [("backup".to_string(), "daily".to_string())].into(),
        };
        let daily = || Some(vec![("backup".to_string(), "daily".to_string())]);
        let group = |id: &str| ReplicationGroupInfo {
            id: id.into(),
            status: "available".into(),
            ..Default::default()
        };
        let cluster = |id: &str, engine: &str| CacheClusterInfo {
            id: id.into(),
            status: "available".into(),
            engine: Some(engine.into()),
            ..Default::default()
        };
        let (targets, skipped) = judge_matches(
            &selector,
            &Map::new(),
            &[group("shop"), group("weekly"), group("gone")],
            vec![
                daily(),
                Some(vec![("backup".into(), "weekly".into())]),
                None,
            ],
            &[cluster("shop", "redis"), cluster("memo", "memcached")],
            vec![daily(), daily()],
        );
        let labels: Vec<_> = targets.iter().map(|t| t.target.as_str()).collect();
        assert_eq!(labels, ["shop", "cache-cluster/shop"]);
        assert_eq!(skipped.len(), 1);
        assert_eq!(skipped[0].target, "memo");
        assert_eq!(
            tags_unless_gone(Err(BackupError::TargetNotFound {
                message: "gone".into(),
                source: None
            }))
            .unwrap(),
            None
        );
        assert_eq!(
            tags_unless_gone(Err(BackupError::Throttled {
                message: "slow".into(),
                source: None
            }))
            .unwrap_err()
            .error_type(),
            "Throttled"
        );
    }

    #[test]
    fn a_selector_that_found_nothing_fails_and_a_huge_fleet_is_refused() {
        let selector = Selector {
            tags: [("backup".to_string(), "daily".to_string())].into(),
        };
        let skipped = vec![Skipped {
            target: "memo".into(),
            reason: "NotSupported: engine memcached has no snapshots".into(),
        }];
        let err =
            fleet_run("f".into(), 3, Some(selector.clone()), (Vec::new(), skipped)).unwrap_err();
        assert_eq!(err.error_type(), "TargetNotFound");
        assert!(
            err.to_string().contains(
                "the selector backup=daily matched no replication group or standalone cluster that can be backed up \
                 in this region; matched but not supported: memo (NotSupported: engine memcached has no snapshots)"
            ),
            "{err}"
        );
        let target = |i: usize| child(&format!("c{i}"), "replicationGroupId", &Map::new());
        let many: Vec<_> = (0..=MAX_FLEET_TARGETS).map(target).collect();
        let err = fleet_run("f".into(), 3, Some(selector.clone()), (many, Vec::new())).unwrap_err();
        assert_eq!(err.error_type(), "NotSupported");
        let run = fleet_run("f".into(), 3, Some(selector), (vec![target(1)], Vec::new())).unwrap();
        assert_eq!((run.target_count, run.max_concurrency), (1, 3));
    }

    #[test]
    fn a_fleet_beyond_an_inline_map_moves_its_targets_to_the_bucket() {
        let targets: Vec<_> = (0..3)
            .map(|i| child(&format!("c{i}"), "replicationGroupId", &Map::new()))
            .collect();
        let mut config = Config {
            fleet_inline_max_targets: 3,
            default_bucket: Some("acme-backups".into()),
            ..Config::default()
        };
        let mut run = fleet_run("f".into(), 2, None, (targets.clone(), Vec::new())).unwrap();
        assert_eq!(spill_targets(&mut run, &config, "x").unwrap(), None);
        assert_eq!(run.targets.len(), 3, "an inline fleet keeps its targets");
        config.fleet_inline_max_targets = 2;
        let (object, body) = spill_targets(&mut run, &config, "x").unwrap().unwrap();
        assert_eq!(
            (object.bucket.as_str(), object.key.as_str()),
            ("acme-backups", "fleet-runs/f/x/targets.json")
        );
        assert_eq!(
            serde_json::from_str::<Vec<FleetTarget>>(&body).unwrap(),
            targets
        );
        assert!(run.targets.is_empty());
        assert_eq!((run.target_count, run.targets_object), (3, Some(object)));
        config.default_bucket = None;
        let mut run = fleet_run("f".into(), 2, None, (targets, Vec::new())).unwrap();
        assert_eq!(
            spill_targets(&mut run, &config, "x")
                .unwrap_err()
                .error_type(),
            "NotSupported"
        );
    }
}
