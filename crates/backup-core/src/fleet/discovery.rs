//! Discovery: which of the caches a selector matched become children, and which are skipped and why.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::document::{FleetRun, FleetTarget, MAX_FLEET_TARGETS, Selector, Skipped, TargetsObject};
use crate::Config;
use crate::error::BackupError;
use crate::resources::{CacheClusterInfo, ReplicationGroupInfo, ServerlessCacheInfo};

/// A resource's tags as discovery reads them (`ListTagsForResource`): `None` for one gone since it was listed.
pub type Tags = Option<Vec<(String, String)>>;

/// Every cache of the region discovery reads, with its tags (`ListTagsForResource`; each `*_tags[i]` those of
/// the `i`-th cache of its kind).
#[derive(Debug, Clone, Default)]
pub struct Candidates {
    /// `DescribeReplicationGroups`.
    pub groups: Vec<ReplicationGroupInfo>,
    /// Tags of each group.
    pub group_tags: Vec<Tags>,
    /// `DescribeCacheClusters` of clusters in no group.
    pub clusters: Vec<CacheClusterInfo>,
    /// Tags of each cluster.
    pub cluster_tags: Vec<Tags>,
    /// `DescribeServerlessCaches`.
    pub serverless: Vec<ServerlessCacheInfo>,
    /// Tags of each serverless cache.
    pub serverless_tags: Vec<Tags>,
}

/// The caches a selector matched, judged: every replication group, then every standalone cluster, then every
/// serverless cache whose tags carry every selector tag, as a child input ([`judge_group`], [`judge_cluster`],
/// [`judge_serverless`]) or a [`Skipped`] record; the labels then made unique ([`qualify_labels`]).
pub fn judge_matches(
    selector: &Selector,
    options: &Map<String, Value>,
    candidates: Candidates,
) -> (Vec<FleetTarget>, Vec<Skipped>) {
    let mut judged = Vec::new();
    for (g, tags) in candidates.groups.iter().zip(candidates.group_tags) {
        if tags.is_some_and(|t| selector.matches(&t)) {
            judged.push(judge_group(g, options));
        }
    }
    for (c, tags) in candidates.clusters.iter().zip(candidates.cluster_tags) {
        if tags.is_some_and(|t| selector.matches(&t)) {
            judged.push(judge_cluster(c, options));
        }
    }
    for (c, tags) in candidates.serverless.iter().zip(candidates.serverless_tags) {
        if tags.is_some_and(|t| selector.matches(&t)) {
            judged.push(judge_serverless(c, options));
        }
    }
    let (mut targets, mut skipped) = (Vec::new(), Vec::new());
    for j in judged {
        match j {
            Ok(t) => targets.push(t),
            Err(s) => skipped.push(s),
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
                "fleet {name}: the selector {} matched no replication group, standalone cluster or serverless \
                 cache that can be backed up in this region{why}",
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
/// Prefix of a serverless cache's `target` label when a replication group or standalone cluster of the same id is
/// in the same fleet.
pub const SERVERLESS_CACHE_LABEL_PREFIX: &str = "serverless-cache/";

/// Makes every target's label unique: a replication group, a standalone cluster and a serverless cache may share
/// an id (three namespaces), and are three targets; the cluster's label then reads `cache-cluster/<id>`, the
/// serverless cache's `serverless-cache/<id>` (their inputs are unchanged). Without this, the summary would merge
/// their results under one label.
pub fn qualify_labels(targets: &mut [FleetTarget]) {
    let of_kind = |targets: &[FleetTarget], kind: &str| -> BTreeSet<String> {
        targets
            .iter()
            .filter(|t| t.input.get(kind).is_some())
            .map(|t| t.target.clone())
            .collect()
    };
    let groups = of_kind(targets, "replicationGroupId");
    let clusters = of_kind(targets, "cacheClusterId");
    for t in targets.iter_mut() {
        if t.input.get("cacheClusterId").is_some() && groups.contains(&t.target) {
            t.target = format!("{CACHE_CLUSTER_LABEL_PREFIX}{}", t.target);
        } else if t.input.get("serverlessCacheName").is_some()
            && (groups.contains(&t.target) || clusters.contains(&t.target))
        {
            t.target = format!("{SERVERLESS_CACHE_LABEL_PREFIX}{}", t.target);
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

/// `engine` when it is Memcached (any case), which has no exportable snapshots.
fn memcached(engine: Option<&str>) -> Option<&str> {
    engine.filter(|e| e.eq_ignore_ascii_case("memcached"))
}

/// The [`Skipped`] record of cache `target`, for `reason`.
fn skip(target: String, reason: String) -> Skipped {
    Skipped { target, reason }
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
    if let Some(engine) = memcached(c.engine.as_deref()) {
        return Err(skip(
            id,
            format!("NotSupported: engine {engine} has no snapshots"),
        ));
    }
    if GONE.contains(&c.status.as_str()) {
        return Err(skip(id, format!("status {}", c.status)));
    }
    Ok(child(&id, "cacheClusterId", options))
}

/// A matched serverless cache: its child, or why it is skipped (a Memcached serverless cache's snapshots cannot be
/// exported: `ExportServerlessCacheSnapshot` is "available for Valkey and Redis OSS only"; a cache being deleted is
/// gone). Statuses are compared case-insensitively (the API reference lists them upper-case).
///
/// # Errors
/// The [`Skipped`] record.
pub fn judge_serverless(
    c: &ServerlessCacheInfo,
    options: &Map<String, Value>,
) -> Result<FleetTarget, Skipped> {
    let id = c.name.to_ascii_lowercase();
    if let Some(engine) = memcached(c.engine.as_deref()) {
        return Err(skip(
            id,
            format!("NotSupported: serverless engine {engine} cannot be exported to S3"),
        ));
    }
    if GONE.contains(&c.status.to_ascii_lowercase().as_str()) {
        return Err(skip(id, format!("status {}", c.status)));
    }
    Ok(child(&id, "serverlessCacheName", options))
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
        let serverless = |name: &str, engine: &str, status: &str| ServerlessCacheInfo {
            name: name.into(),
            status: status.into(),
            engine: Some(engine.into()),
            ..Default::default()
        };
        let (targets, skipped) = judge_matches(
            &selector,
            &Map::new(),
            Candidates {
                groups: vec![group("shop"), group("weekly"), group("gone")],
                group_tags: vec![
                    daily(),
                    Some(vec![("backup".into(), "weekly".into())]),
                    None,
                ],
                clusters: vec![cluster("shop", "redis"), cluster("memo", "memcached")],
                cluster_tags: vec![daily(), daily()],
                serverless: vec![
                    serverless("shop", "valkey", "AVAILABLE"),
                    serverless("Sessions", "redis", "available"),
                    serverless("memo-sl", "memcached", "available"),
                    serverless("leaving", "redis", "DELETING"),
                    serverless("untagged", "redis", "available"),
                ],
                serverless_tags: vec![daily(), daily(), daily(), daily(), Some(Vec::new())],
            },
        );
        let labels: Vec<_> = targets.iter().map(|t| t.target.as_str()).collect();
        assert_eq!(
            labels,
            [
                "shop",
                "cache-cluster/shop",
                "serverless-cache/shop",
                "sessions"
            ]
        );
        assert_eq!(targets[3].input, json!({"serverlessCacheName": "sessions"}));
        let skipped_ids: Vec<_> = skipped.iter().map(|s| s.target.as_str()).collect();
        assert_eq!(skipped_ids, ["memo", "memo-sl", "leaving"]);
        assert!(
            skipped[1].reason.starts_with("NotSupported"),
            "{:?}",
            skipped[1]
        );
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
                "the selector backup=daily matched no replication group, standalone cluster or serverless cache \
                 that can be backed up in this region; matched but not supported: memo (NotSupported: engine memcached has no snapshots)"
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
