//! Restores: CreateReplicationGroup seeded from S3 objects (`SnapshotArns`) or from a kept snapshot
//! (`SnapshotName`), DeleteReplicationGroup, ListTagsForResource (Amazon ElastiCache API Reference; shapes, codes
//! and statuses as in botocore's `elasticache/2015-02-02/service-2.json`).
//!
//! A new group reads `creating` (its nodes `creating`) while real redis-server nodes are started from the RDB files
//! (at least `snapshot_min_seconds`); then `available`, or `create-failed` with its nodes `restore-failed` when a
//! node refuses its file. Seeding from S3 is refused, as ElastiCache refuses it, unless ElastiCache may read the
//! object by the documented route of the region's kind ([`SeedingRoute`]): an object ACL granting its canonical user
//! `READ` and `READ_ACP` ([`acl_readable`], default regions) or a bucket policy for the regional service principal
//! ([`seed_readable`], opt-in regions); and the object is SSE-S3.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::app::App;
use crate::groups::{self, Seed};
use crate::params::{
    Params, int_param, list_param, param, required, struct_list_param, tags_param,
};
use crate::shapes::write_group;
use crate::state::{ApiError, Group, SeedingRoute};
use crate::topology::GroupSpec;
use crate::xml;

/// ElastiCache's canonical user id for object grants in the default (non opt-in) regions (User Guide, "Seeding a new
/// self-designed cluster with an externally created backup").
pub const ELASTICACHE_CANONICAL_USER: &str =
    "540804c33a284a299d2547575ce1010f2312ef3da9b3a053c8bc45bf233e4353";

/// `(bucket, key)` of an S3 object ARN `arn:aws:s3:::bucket/key`.
///
/// # Errors
/// `InvalidParameterValue` as ElastiCache words it for an ARN that is not an S3 object path (an ElastiCache snapshot
/// ARN, say).
pub fn s3_object(arn: &str) -> Result<(String, String), ApiError> {
    arn.strip_prefix("arn:aws:s3:::")
        .and_then(|rest| rest.split_once('/'))
        .filter(|(b, k)| !b.is_empty() && !k.is_empty() && !k.contains(','))
        .map(|(b, k)| (b.to_string(), k.to_string()))
        .ok_or_else(|| {
            ApiError::new(
                "InvalidParameterValue",
                format!("Must specify an object path for the S3 ARN: {arn}"),
            )
        })
}

/// Whether the bucket policy lets ElastiCache read `key` by the opt-in regions' route: an `Allow` statement with
/// `s3:GetObject` (or `s3:*`) on the object (exactly, or by a `*` suffix) for the regional service principal
/// `<region>.elasticache-snapshot.amazonaws.com`. A statement for ElastiCache's canonical user does not count: no AWS
/// page documents that route (the default regions' is an object ACL, [`acl_readable`]).
pub fn seed_readable(policy: &str, region: &str, bucket: &str, key: &str) -> bool {
    let Ok(doc) = serde_json::from_str::<Value>(policy) else {
        return false;
    };
    let service = format!("{region}.elasticache-snapshot.amazonaws.com");
    let object = format!("arn:{}:s3:::{bucket}/{key}", partition(region));
    let many = |v: &Value| -> Vec<String> {
        match v {
            Value::String(s) => vec![s.clone()],
            Value::Array(a) => a
                .iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        }
    };
    let statements = match &doc["Statement"] {
        Value::Array(a) => a.clone(),
        s @ Value::Object(_) => vec![s.clone()],
        _ => Vec::new(),
    };
    statements.iter().any(|s| {
        let allow = s["Effect"] == "Allow";
        let action = many(&s["Action"])
            .iter()
            .any(|a| a == "s3:GetObject" || a == "s3:*");
        let resource = many(&s["Resource"])
            .iter()
            .any(|r| r == &object || r.strip_suffix('*').is_some_and(|p| object.starts_with(p)));
        let principal = many(&s["Principal"]["Service"]).contains(&service);
        allow && action && resource && principal
    })
}

/// Whether an object's ACL grants ElastiCache's canonical user of the region's partition `READ` (or
/// `FULL_CONTROL`) on the object, the default regions' route ("grant … read access to the object and its
/// permissions"; `READ_ACP` is part of the documented grant and is required here too).
pub fn acl_readable(grants: &[(String, String)], region: &str) -> bool {
    let id = canonical_user(region);
    let has = |p: &str| {
        grants
            .iter()
            .any(|(g, perm)| g == id && (perm == p || perm == "FULL_CONTROL"))
    };
    has("READ") && has("READ_ACP")
}

/// The ARN partition of `region`.
fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// ElastiCache's canonical user id in `region`'s partition (User Guide, seeding; GovCloud User Guide; Getting
/// Started with Amazon Web Services in China, ElastiCache).
fn canonical_user(region: &str) -> &'static str {
    match partition(region) {
        "aws-cn" => "b14d6a125bdf69854ed8ef2e71d8a20b7c490f252229b806e514966e490b8d83",
        "aws-us-gov" => "40fa568277ad703bd160f66ae4f83fc9dfdfd06c2f1b5060ca22442ac3ef8be6",
        _ => ELASTICACHE_CANONICAL_USER,
    }
}

/// Where the new group's data comes from.
enum Source {
    /// S3 objects, one per shard: `(bucket, key)`.
    Objects(Vec<(String, String)>),
    /// A kept snapshot's RDB files, one per shard.
    Snapshot(String, Vec<PathBuf>),
}

/// `CreateReplicationGroup`.
pub async fn create_replication_group(
    app: &Arc<App>,
    p: &Params,
    rid: &str,
) -> Result<String, ApiError> {
    let id = required(p, "ReplicationGroupId")?.to_ascii_lowercase();
    required(p, "ReplicationGroupDescription")?;
    let arns = list_param(p, "SnapshotArns");
    let snapshot_name = param(p, "SnapshotName").map(str::to_ascii_lowercase);
    let node_groups = struct_list_param(p, "NodeGroupConfiguration");
    let num_node_groups = int_param(p, "NumNodeGroups")?;
    let replicas = int_param(p, "ReplicasPerNodeGroup")?.unwrap_or(0);
    let engine = param(p, "Engine").unwrap_or("redis").to_ascii_lowercase();
    let cluster_mode = param(p, "ClusterMode").is_some_and(|m| m.eq_ignore_ascii_case("enabled"))
        || num_node_groups.is_some_and(|n| n > 1)
        || node_groups.len() > 1
        || param(p, "CacheParameterGroupName").is_some_and(|g| g.contains("cluster.on"));
    let shards = num_node_groups
        .or_else(|| u32::try_from(node_groups.len()).ok().filter(|n| *n > 0))
        .unwrap_or(1);
    let tags: Vec<(String, String)> = tags_param(p);
    if !arns.is_empty() && snapshot_name.is_some() {
        return Err(ApiError::new(
            "InvalidParameterCombination",
            "Only one of SnapshotArns and SnapshotName may be specified.",
        ));
    }
    // botocore elasticache 2015-02-02, CreateReplicationGroupMessage.AutomaticFailoverEnabled: "must be enabled for
    // Valkey or Redis OSS (cluster mode enabled) replication groups. Default: false". Code and text as AWS answers
    // (hashicorp/terraform#16960, aws-cloudformation/aws-cloudformation-templates#487).
    let automatic_failover = param(p, "AutomaticFailoverEnabled").is_some_and(|v| v == "true");
    if cluster_mode && !automatic_failover {
        return Err(ApiError::new(
            "InvalidParameterValue",
            "Redis with cluster mode enabled cannot be created with auto failover turned off.",
        ));
    }
    // Multi-AZ needs automatic failover (User Guide, "Minimizing downtime with Multi-AZ"; the text is the emulator's).
    if param(p, "MultiAZEnabled").is_some_and(|v| v == "true") && !automatic_failover {
        return Err(ApiError::new(
            "InvalidParameterCombination",
            "Multi-AZ can only be enabled together with automatic failover.",
        ));
    }
    let slots = if cluster_mode {
        let slots: Vec<Option<(u16, u16)>> = node_groups
            .iter()
            .map(|ng| ng.get("Slots").and_then(|s| parse_slots(s)))
            .collect();
        if !arns.is_empty() && (slots.len() != shards as usize || slots.iter().any(Option::is_none))
        {
            return Err(ApiError::new(
                "InvalidParameterCombination",
                "Slots must be provided when restoring from snapshot ARNs with cluster mode enabled",
            ));
        }
        slots.into_iter().collect::<Option<Vec<_>>>()
    } else {
        if shards != 1 {
            return Err(ApiError::new(
                "InvalidParameterCombination",
                "A replication group with cluster mode disabled has exactly one node group.",
            ));
        }
        None
    };

    // User-supplied NodeGroupIds are kept (botocore model, `NodeGroupConfiguration.NodeGroupId`: "Either the ElastiCache
    // supplied 4-digit id or a user supplied id"), when every shard has one.
    let node_group_ids: Vec<String> = if cluster_mode
        && !node_groups.is_empty()
        && node_groups
            .iter()
            .all(|ng| ng.get("NodeGroupId").is_some_and(|id| !id.is_empty()))
    {
        node_groups
            .iter()
            .filter_map(|ng| ng.get("NodeGroupId").cloned())
            .collect()
    } else {
        Vec::new()
    };
    let source = if let Some(name) = snapshot_name {
        let mut parts = app.lock().available_snapshot_mut(&name)?.nodes.clone();
        parts.sort_by(|a, b| a.node_group_id.cmp(&b.node_group_id));
        // Each node group of the request gets the snapshot's node group of the same NodeGroupId, whatever order
        // NodeGroupConfiguration lists them in (by position when the request names none, or names others).
        let named = node_group_ids.len() == parts.len()
            && node_group_ids.iter().all(|id| {
                parts
                    .iter()
                    .any(|n| n.node_group_id.as_deref() == Some(id.as_str()))
            });
        if named {
            parts.sort_by_key(|n| {
                node_group_ids
                    .iter()
                    .position(|id| n.node_group_id.as_deref() == Some(id.as_str()))
            });
        }
        let files: Option<Vec<PathBuf>> = parts.iter().map(|n| n.rdb.clone()).collect();
        Source::Snapshot(name, files.unwrap_or_default())
    } else if arns.is_empty() {
        Source::Objects(Vec::new())
    } else {
        let objects = arns
            .iter()
            .map(|a| s3_object(a))
            .collect::<Result<Vec<_>, _>>()?;
        check_seed_objects(app, &objects).await?;
        Source::Objects(objects)
    };
    let seeds = match &source {
        Source::Objects(o) => o.len(),
        Source::Snapshot(_, f) => f.len(),
    };
    if seeds > 0 && seeds != shards as usize {
        return Err(ApiError::new(
            "InvalidParameterValue",
            format!(
                "{seeds} RDB files were given for {shards} node groups; give one per node group."
            ),
        ));
    }

    let spec = GroupSpec {
        id: id.clone(),
        engine,
        cluster_mode,
        shards,
        replicas_per_shard: replicas,
        data_tiering: false,
        tags: Default::default(),
        snapshot_window: None,
        snapshot_retention_limit: 0,
        notification_topic_arn: None,
        parameter_group: None,
        cache_subnet_group: None,
    };
    let (body, min_seconds) = {
        let mut st = app.lock();
        if st.groups.contains_key(&id) || st.standalone.contains_key(&id) {
            return Err(ApiError::new(
                "ReplicationGroupAlreadyExists",
                format!("Replication group {id} already exists."),
            ));
        }
        let seed = Seed {
            rdbs: Vec::new(),
            slots: slots.clone(),
            node_group_ids: node_group_ids.clone(),
        };
        let group = Group {
            shards: groups::plan_shards(&spec, &st.settings.node_dir, &seed),
            spec: spec.clone(),
            created: OffsetDateTime::now_utc(),
            status: Some("creating".into()),
            tags: tags.clone(),
        };
        if let Source::Snapshot(name, _) = &source
            && let Some(s) = st.snapshots.get_mut(name)
        {
            s.status = "restoring".into();
        }
        st.log(
            "CreateReplicationGroup",
            json!({
                "replicationGroupId": id, "clusterMode": cluster_mode, "shards": shards, "replicas": replicas,
                "automaticFailover": automatic_failover,
                "multiAz": param(p, "MultiAZEnabled") == Some("true"),
                "snapshotArns": arns, "snapshotName": match &source { Source::Snapshot(n, _) => Some(n.clone()), _ => None },
                "slots": slots.as_ref().map(|s| s.iter().map(|(a, b)| format!("{a}-{b}")).collect::<Vec<_>>()),
                "tags": tags.iter().map(|(k, v)| json!({"key": k, "value": v})).collect::<Vec<_>>(),
            }),
        );
        let body = xml::response("CreateReplicationGroup", rid, |x| {
            write_group(x, &st, &group)
        });
        st.groups.insert(id.clone(), group);
        (body, st.settings.snapshot_min_seconds)
    };
    tokio::spawn(restore_worker(
        app.clone(),
        spec,
        source,
        Seed {
            rdbs: Vec::new(),
            slots,
            node_group_ids,
        },
        min_seconds,
    ));
    Ok(body)
}

/// Checks that ElastiCache may read each seed object `(bucket, key)` (CreateReplicationGroup `SnapshotArns`,
/// CreateServerlessCache `SnapshotArnsToRestore`): by the seeding route of the region's kind ([`SeedingRoute`]), the
/// object present and SSE-S3 (User Guide, "Seeding a new self-designed cluster with an externally created backup").
///
/// # Errors
/// `InvalidParameterValue` "Unable to fetch metadata from S3 ...", as ElastiCache words it.
pub async fn check_seed_objects(app: &App, objects: &[(String, String)]) -> Result<(), ApiError> {
    let region = app.lock().settings.region.clone();
    for (bucket, key) in objects {
        let unreadable = || {
            ApiError::new(
                "InvalidParameterValue",
                format!(
                    "Unable to fetch metadata from S3 for bucket: {bucket} and object: {key}. Please verify the input."
                ),
            )
        };
        let route = app.lock().settings.seeding_route;
        let readable = match route {
            SeedingRoute::BucketPolicy => app
                .s3
                .get_bucket_policy()
                .bucket(bucket)
                .send()
                .await
                .ok()
                .and_then(|out| out.policy)
                .is_some_and(|p| seed_readable(&p, &region, bucket, key)),
            SeedingRoute::ObjectAcl => app
                .s3
                .get_object_acl()
                .bucket(bucket)
                .key(key)
                .send()
                .await
                .ok()
                .is_some_and(|acl| {
                    let grants: Vec<(String, String)> = acl
                        .grants()
                        .iter()
                        .filter_map(|g| {
                            Some((
                                g.grantee()?.id()?.to_string(),
                                g.permission()?.as_str().to_string(),
                            ))
                        })
                        .collect();
                    acl_readable(&grants, &region)
                }),
        };
        let head = app.s3.head_object().bucket(bucket).key(key).send().await;
        // "ElastiCache supports only SSE-S3 for seeding" (User Guide): an SSE-KMS object cannot be read.
        let sse_s3 = head.as_ref().is_ok_and(|h| {
            h.server_side_encryption()
                .is_none_or(|e| e.as_str() == "AES256")
        });
        if !readable || head.is_err() || !sse_s3 {
            return Err(unreadable());
        }
    }
    Ok(())
}

/// Downloads the seed objects into `dir`, one file each (`0001.rdb`, `0002.rdb`, ... in the order given).
///
/// # Errors
/// A GetObject or file error, as text (the restore then ends `create-failed`).
pub async fn fetch_seed_objects(
    app: &App,
    objects: &[(String, String)],
    dir: &std::path::Path,
) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let mut files = Vec::new();
    for (i, (bucket, key)) in objects.iter().enumerate() {
        let out = app
            .s3
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| {
                format!(
                    "GetObject {key}: {}",
                    aws_sdk_s3::error::DisplayErrorContext(&e)
                )
            })?;
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .into_bytes();
        let path = dir.join(format!("{:04}.rdb", i + 1));
        std::fs::write(&path, &bytes).map_err(|e| e.to_string())?;
        files.push(path);
    }
    Ok(files)
}

fn parse_slots(s: &str) -> Option<(u16, u16)> {
    let (a, b) = s.split_once('-')?;
    let (a, b) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
    (a <= b && b < 16384).then_some((a, b))
}

/// Fetches the seeds, starts the nodes, and settles the group `available` or `create-failed`.
async fn restore_worker(
    app: Arc<App>,
    spec: GroupSpec,
    source: Source,
    seed: Seed,
    min_seconds: f64,
) {
    let started = Instant::now();
    let (node_dir, redis_server) = {
        let st = app.lock();
        (
            st.settings.node_dir.clone(),
            st.settings.redis_server.clone(),
        )
    };
    let seed_dir = node_dir.join(format!("{}-seeds", spec.id));
    let result = async {
        let rdbs = match &source {
            Source::Snapshot(_, files) => files.clone(),
            Source::Objects(objects) => fetch_seed_objects(&app, objects, &seed_dir).await?,
        };
        groups::start_group(&spec, &node_dir, &redis_server, &Seed { rdbs, ..seed }).await
    }
    .await;
    let _ = std::fs::remove_dir_all(&seed_dir);
    let remaining = Duration::from_secs_f64(min_seconds.max(0.0)).saturating_sub(started.elapsed());
    tokio::time::sleep(remaining).await;
    let mut st = app.lock();
    if let Source::Snapshot(name, _) = &source
        && let Some(s) = st.snapshots.get_mut(name)
        && s.status == "restoring"
    {
        s.status = "available".into();
    }
    let Some(group) = st.groups.get_mut(&spec.id) else {
        return;
    };
    match result {
        Ok((started_group, processes)) => {
            group.shards = started_group.shards;
            group.status = None;
            app.processes().insert(spec.id.clone(), processes);
            st.log(
                "ReplicationGroupAvailable",
                json!({ "replicationGroupId": spec.id }),
            );
        }
        Err(e) => {
            group.status = Some("create-failed".into());
            st.log(
                "ReplicationGroupCreateFailed",
                json!({ "replicationGroupId": spec.id, "error": e }),
            );
        }
    }
}

/// `DeleteReplicationGroup`: `deleting`, then the nodes are stopped and the group is gone.
pub fn delete_replication_group(app: &Arc<App>, p: &Params, rid: &str) -> Result<String, ApiError> {
    let id = required(p, "ReplicationGroupId")?.to_ascii_lowercase();
    let mut st = app.lock();
    let status = match st.groups.get(&id) {
        None => {
            return Err(ApiError::new(
                "ReplicationGroupNotFoundFault",
                format!("Replication group {id} not found."),
            ));
        }
        Some(g) => st.group_status(g),
    };
    if status != "available" && status != "create-failed" {
        return Err(ApiError::new(
            "InvalidReplicationGroupState",
            format!(
                "Replication group {id} is not in available or create-failed state ({status})."
            ),
        ));
    }
    let Some(group) = st.groups.get_mut(&id) else {
        return Err(ApiError::new(
            "ReplicationGroupNotFoundFault",
            format!("Replication group {id} not found."),
        ));
    };
    group.status = Some("deleting".into());
    let dirs: Vec<PathBuf> = group
        .shards
        .iter()
        .flat_map(|s| &s.nodes)
        .map(|n| n.dir.clone())
        .collect();
    let snapshot = group.clone();
    st.log(
        "DeleteReplicationGroup",
        json!({ "replicationGroupId": id }),
    );
    let body = xml::response("DeleteReplicationGroup", rid, |x| {
        write_group(x, &st, &snapshot)
    });
    drop(st);
    let app = app.clone();
    tokio::spawn(async move {
        let processes = app.processes().remove(&id);
        if let Some(mut processes) = processes {
            for p in &mut processes {
                p.stop().await;
            }
        }
        for d in dirs {
            let _ = std::fs::remove_dir_all(d);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mut st = app.lock();
        st.groups.remove(&id);
        st.log(
            "ReplicationGroupDeleted",
            json!({ "replicationGroupId": id }),
        );
    });
    Ok(body)
}

/// The tags of the resource an ARN names (replication group, snapshot, cluster, serverless cache, serverless cache
/// snapshot), for `ListTagsForResource` and
/// `AddTagsToResource`; `None` for a member node, which carries no tags of its own here. Errors as AWS answers them
/// (`ReplicationGroupNotFoundFault`, `SnapshotNotFoundFault`, `CacheClusterNotFound`, `ServerlessCacheNotFoundFault`,
/// `ServerlessCacheSnapshotNotFoundFault`, `InvalidARN`; all in the model's lists for ListTagsForResource and
/// AddTagsToResource).
fn tags_of<'a>(st: &'a mut crate::state::State, arn: &str) -> Result<TagsOf<'a>, ApiError> {
    if let Some((_, name)) = arn.rsplit_once(":serverlesscache:") {
        let name = name.to_ascii_lowercase();
        let cache = st
            .serverless
            .get_mut(&name)
            .ok_or_else(|| crate::state::serverless_cache_not_found(&name))?;
        Ok(TagsOf::List(&mut cache.tags))
    } else if let Some((_, name)) = arn.rsplit_once(":serverlesscachesnapshot:") {
        let name = name.to_ascii_lowercase();
        let snap = st
            .serverless_snapshots
            .get_mut(&name)
            .ok_or_else(|| crate::state::serverless_snapshot_not_found(&name))?;
        Ok(TagsOf::List(&mut snap.tags))
    } else if let Some((_, id)) = arn.rsplit_once(":replicationgroup:") {
        let id = id.to_ascii_lowercase();
        let group = st.groups.get_mut(&id).ok_or_else(|| {
            ApiError::new(
                "ReplicationGroupNotFoundFault",
                format!("Replication group {id} not found."),
            )
        })?;
        Ok(TagsOf::List(&mut group.tags))
    } else if let Some((_, name)) = arn.rsplit_once(":snapshot:") {
        let name = name.to_ascii_lowercase();
        let snap = st.snapshots.get_mut(&name).ok_or_else(|| {
            ApiError::new(
                "SnapshotNotFoundFault",
                format!("Snapshot {name} not found."),
            )
        })?;
        Ok(TagsOf::List(&mut snap.tags))
    } else if let Some((_, id)) = arn.rsplit_once(":cluster:") {
        let id = id.to_ascii_lowercase();
        let member = st.groups.values().any(|g| {
            g.shards
                .iter()
                .any(|s| s.nodes.iter().any(|n| n.cache_cluster_id == id))
        });
        if let Some(c) = st.standalone.get_mut(&id) {
            Ok(TagsOf::Map(&mut c.spec.tags))
        } else if member {
            Ok(TagsOf::Member)
        } else {
            Err(ApiError::new(
                "CacheClusterNotFound",
                format!("Cache cluster {id} not found."),
            ))
        }
    } else {
        Err(ApiError::new(
            "InvalidARN",
            format!("{arn} is not a valid ARN."),
        ))
    }
}

/// Where a resource's tags live in the emulator's state.
enum TagsOf<'a> {
    /// A replication group's or snapshot's tags, in the order given.
    List(&'a mut Vec<(String, String)>),
    /// A standalone cluster's tags (from the topology file).
    Map(&'a mut std::collections::BTreeMap<String, String>),
    /// A member node of a replication group: no tags of its own.
    Member,
}

impl TagsOf<'_> {
    fn current(&self) -> Vec<(String, String)> {
        match self {
            Self::List(l) => (*l).clone(),
            Self::Map(m) => m.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            Self::Member => Vec::new(),
        }
    }
}

fn tag_list_response(action: &str, rid: &str, tags: &[(String, String)]) -> String {
    xml::response(action, rid, |x| {
        x.open("TagList");
        for (k, v) in tags {
            x.open("Tag").text("Key", k).text("Value", v).close("Tag");
        }
        x.close("TagList");
    })
}

/// `ListTagsForResource` of a replication group, cluster or snapshot ARN.
pub fn list_tags_for_resource(app: &Arc<App>, p: &Params, rid: &str) -> Result<String, ApiError> {
    let arn = required(p, "ResourceName")?;
    let mut st = app.lock();
    let tags = tags_of(&mut st, arn)?.current();
    Ok(tag_list_response("ListTagsForResource", rid, &tags))
}

/// `AddTagsToResource`: adds `Tags` (a key already there takes the new value) to a replication group, cluster or
/// snapshot and answers the resulting `TagList` (API Reference, AddTagsToResource; at most 50 tags per resource:
/// `TagQuotaPerResourceExceeded`).
pub fn add_tags_to_resource(app: &Arc<App>, p: &Params, rid: &str) -> Result<String, ApiError> {
    let arn = required(p, "ResourceName")?;
    let new: Vec<(String, String)> = tags_param(p);
    if new.is_empty() {
        return Err(ApiError::new(
            "MissingParameter",
            "The request must contain the parameter Tags.",
        ));
    }
    let mut st = app.lock();
    let target = tags_of(&mut st, arn)?;
    let mut merged = target.current();
    for (k, v) in new {
        match merged.iter_mut().find(|(key, _)| *key == k) {
            Some(slot) => slot.1 = v,
            None => merged.push((k, v)),
        }
    }
    if merged.len() > 50 {
        return Err(ApiError::new(
            "TagQuotaPerResourceExceeded",
            "The request cannot be processed because it would cause the resource to have more than the allowed number of tags. The maximum number of tags permitted on a resource is 50.",
        ));
    }
    match target {
        TagsOf::List(l) => l.clone_from(&merged),
        TagsOf::Map(m) => *m = merged.iter().cloned().collect(),
        TagsOf::Member => {
            return Err(ApiError::new(
                "InvalidARN",
                format!("{arn} names a member node: tag its replication group."),
            ));
        }
    }
    st.log("AddTagsToResource", json!({ "resourceName": arn, "tags": merged.iter().map(|(k, v)| json!({"key": k, "value": v})).collect::<Vec<_>>() }));
    Ok(tag_list_response("AddTagsToResource", rid, &merged))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_elasticache_snapshot_arn_is_not_an_object_path() {
        let err =
            s3_object("arn:aws:elasticache:us-east-1:123456789012:snapshot:ecb-x").unwrap_err();
        assert_eq!(err.code, "InvalidParameterValue");
        assert!(err.message.contains("Must specify an object path"));
        assert_eq!(
            s3_object("arn:aws:s3:::b/dir/e-0001.rdb").unwrap(),
            ("b".to_string(), "dir/e-0001.rdb".to_string())
        );
    }

    #[test]
    fn the_seed_rule_needs_get_object_for_an_elasticache_principal() {
        let policy = |principal: &str, action: &str, resource: &str| {
            format!(
                r#"{{"Statement":[{{"Effect":"Allow","Principal":{principal},"Action":"{action}","Resource":"{resource}"}}]}}"#
            )
        };
        let svc = r#"{"Service":"us-east-1.elasticache-snapshot.amazonaws.com"}"#;
        let canonical = format!(r#"{{"CanonicalUser":"{ELASTICACHE_CANONICAL_USER}"}}"#);
        assert!(seed_readable(
            &policy(svc, "s3:GetObject", "arn:aws:s3:::b/*"),
            "us-east-1",
            "b",
            "e-0001.rdb"
        ));
        // The canonical user in a bucket policy is no documented route.
        assert!(!seed_readable(
            &policy(&canonical, "s3:GetObject", "arn:aws:s3:::b/e-0001.rdb"),
            "us-east-1",
            "b",
            "e-0001.rdb"
        ));
        // ARNs of the region's partition.
        let cn = r#"{"Service":"cn-north-1.elasticache-snapshot.amazonaws.com"}"#;
        assert!(seed_readable(
            &policy(cn, "s3:GetObject", "arn:aws-cn:s3:::b/*"),
            "cn-north-1",
            "b",
            "e-0001.rdb"
        ));
        assert!(!seed_readable(
            &policy(cn, "s3:GetObject", "arn:aws:s3:::b/*"),
            "cn-north-1",
            "b",
            "e-0001.rdb"
        ));
        assert!(!seed_readable(
            &policy(svc, "s3:PutObject", "arn:aws:s3:::b/*"),
            "us-east-1",
            "b",
            "e-0001.rdb"
        ));
        assert!(!seed_readable(
            &policy(svc, "s3:GetObject", "arn:aws:s3:::b/*"),
            "eu-west-1",
            "b",
            "e-0001.rdb"
        ));
        assert!(!seed_readable(
            &policy(svc, "s3:GetObject", "arn:aws:s3:::other/*"),
            "us-east-1",
            "b",
            "e-0001.rdb"
        ));
        assert!(!seed_readable("not json", "us-east-1", "b", "k"));
    }

    #[test]
    fn the_object_acl_rule_needs_read_and_read_acp_for_the_partitions_canonical_user() {
        let grant = |id: &str, p: &str| (id.to_string(), p.to_string());
        let both = [
            grant(ELASTICACHE_CANONICAL_USER, "READ"),
            grant(ELASTICACHE_CANONICAL_USER, "READ_ACP"),
        ];
        assert!(acl_readable(&both, "us-east-1"));
        assert!(!acl_readable(&both[..1], "us-east-1"));
        assert!(
            !acl_readable(&both, "cn-north-1"),
            "China has its own canonical id"
        );
        assert!(acl_readable(
            &[grant(ELASTICACHE_CANONICAL_USER, "FULL_CONTROL")],
            "eu-west-1"
        ));
        assert!(!acl_readable(
            &[grant("someone-else", "FULL_CONTROL")],
            "us-east-1"
        ));
    }

    #[test]
    fn slots_are_a_range_from_low_to_high() {
        assert_eq!(parse_slots("0-8191"), Some((0, 8191)));
        assert_eq!(parse_slots("9-3"), None);
    }
}
