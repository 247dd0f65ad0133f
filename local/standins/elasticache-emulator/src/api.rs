//! The HTTP API: the ElastiCache Query protocol on `POST /`, and a control API under `/_emulator/` for tests.
//!
//! Actions: DescribeReplicationGroups, DescribeCacheClusters, CreateSnapshot, DescribeSnapshots, CopySnapshot,
//! DeleteSnapshot, DescribeEvents (see [`crate::events`]), DescribeCacheParameters and DescribeCacheSubnetGroups (see
//! [`crate::configuration`]), and for restores CreateReplicationGroup, DeleteReplicationGroup, ListTagsForResource (see
//! [`crate::restore`]), the serverless actions DescribeServerlessCaches, CreateServerlessCacheSnapshot,
//! DescribeServerlessCacheSnapshots, ExportServerlessCacheSnapshot, DeleteServerlessCacheSnapshot,
//! CreateServerlessCache and DeleteServerlessCache (see [`crate::serverless`]) (Amazon ElastiCache API Reference, version 2015-02-02). Shapes, error codes and HTTP statuses follow
//! botocore's `elasticache/2015-02-02/service-2.json`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Form, State as AxState};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::app::App;
use crate::export::{ExportPart, check_export_bucket, objects_present, upload_parts};
use crate::nodes;
use crate::params::{Params, page, param, required, tags_param};
use crate::shapes::{write_group, write_snapshot};
use crate::state::{ApiError, Damage, ExportRecord, Fault, Group, Node, Snapshot};
use crate::xml;
use crate::{configuration, errors, events, restore, serverless};

/// The router.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", post(query))
        .route("/_emulator/faults", post(add_fault).delete(clear_faults))
        .route("/_emulator/state", get(state_json))
        .route("/_emulator/errors", get(errors_json))
        .with_state(app)
}

type ApiResult = Result<String, ApiError>;

async fn query(
    AxState(app): AxState<Arc<App>>,
    headers: HeaderMap,
    Form(params): Form<Params>,
) -> Response {
    let rid = app.request_id();
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let action = params.get("Action").cloned().unwrap_or_default();
    let injected = app.lock().take_error_fault(&action);
    let was_injected = injected.is_some();
    let result = match injected {
        Some((err, false)) => Err(err),
        // The call takes effect, then the caller sees an error (a lost answer).
        Some((err, true)) => dispatch(&app, &action, &params, &rid, &user_agent)
            .await
            .and(Err(err)),
        None => dispatch(&app, &action, &params, &rid, &user_agent).await,
    };
    if let Err(e) = &result
        && !was_injected
        && !errors::listed(&action, &e.code)
    {
        // An answer the error table (and so the model-fidelity test) does not know of.
        tracing::warn!(action, code = %e.code, "error not in errors::ERRORS");
        app.lock()
            .log("UnlistedError", json!({ "action": action, "code": e.code }));
    }
    respond(&action, &rid, result)
}

async fn dispatch(
    app: &Arc<App>,
    action: &str,
    params: &Params,
    rid: &str,
    user_agent: &str,
) -> Result<String, ApiError> {
    let (app, params, rid) = (app.clone(), params.clone(), rid.to_string());
    let user_agent = user_agent.to_string();
    {
        match action {
            "DescribeReplicationGroups" => describe_replication_groups(&app, &params, &rid),
            "DescribeCacheClusters" => describe_cache_clusters(&app, &params, &rid),
            "DescribeSnapshots" => describe_snapshots(&app, &params, &rid),
            "CreateSnapshot" => create_snapshot(&app, &params, &rid),
            "CopySnapshot" => copy_snapshot(&app, &params, &rid).await,
            "DeleteSnapshot" => delete_snapshot(&app, &params, &rid, &user_agent).await,
            "DescribeEvents" => events::describe_events(&app, &params, &rid),
            "DescribeCacheParameters" => {
                configuration::describe_cache_parameters(&app, &params, &rid)
            }
            "DescribeCacheSubnetGroups" => {
                configuration::describe_cache_subnet_groups(&app, &params, &rid)
            }
            "CreateReplicationGroup" => {
                restore::create_replication_group(&app, &params, &rid).await
            }
            "DeleteReplicationGroup" => restore::delete_replication_group(&app, &params, &rid),
            "ListTagsForResource" => restore::list_tags_for_resource(&app, &params, &rid),
            "AddTagsToResource" => restore::add_tags_to_resource(&app, &params, &rid),
            "DescribeServerlessCaches" => {
                serverless::describe_serverless_caches(&app, &params, &rid)
            }
            "CreateServerlessCacheSnapshot" => {
                serverless::create_serverless_cache_snapshot(&app, &params, &rid)
            }
            "DescribeServerlessCacheSnapshots" => {
                serverless::describe_serverless_cache_snapshots(&app, &params, &rid)
            }
            "ExportServerlessCacheSnapshot" => {
                serverless::export_serverless_cache_snapshot(&app, &params, &rid).await
            }
            "DeleteServerlessCacheSnapshot" => {
                serverless::delete_serverless_cache_snapshot(&app, &params, &rid, &user_agent).await
            }
            "CreateServerlessCache" => {
                serverless::create_serverless_cache(&app, &params, &rid).await
            }
            "DeleteServerlessCache" => serverless::delete_serverless_cache(&app, &params, &rid),
            other => Err(ApiError {
                code: "InvalidAction".into(),
                status: 400,
                message: format!("Unknown action {other:?}."),
            }),
        }
    }
}

fn respond(action: &str, rid: &str, result: Result<String, ApiError>) -> Response {
    match result {
        Ok(body) => (StatusCode::OK, [(header::CONTENT_TYPE, "text/xml")], body).into_response(),
        Err(e) => {
            tracing::info!(action, code = %e.code, "error answer");
            let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
            (
                status,
                [(header::CONTENT_TYPE, "text/xml")],
                xml::error(&e.code, &e.message, e.status < 500, rid),
            )
                .into_response()
        }
    }
}

fn describe_replication_groups(app: &App, p: &Params, rid: &str) -> ApiResult {
    let st = app.lock();
    let groups: Vec<&Group> = match param(p, "ReplicationGroupId") {
        Some(id) => {
            let id = id.to_ascii_lowercase();
            vec![st.groups.get(&id).ok_or_else(|| {
                ApiError::new(
                    "ReplicationGroupNotFoundFault",
                    format!("Replication group {id} not found."),
                )
            })?]
        }
        None => st.groups.values().collect(),
    };
    let (groups, marker) = page(groups, p, 20, 100)?;
    Ok(xml::paged(
        "DescribeReplicationGroups",
        rid,
        marker.as_deref(),
        "ReplicationGroups",
        &groups,
        |x, g| write_group(x, &st, g),
    ))
}

fn describe_cache_clusters(app: &App, p: &Params, rid: &str) -> ApiResult {
    let st = app.lock();
    let show_nodes = param(p, "ShowCacheNodeInfo") == Some("true");
    let not_in_groups = param(p, "ShowCacheClustersNotInReplicationGroups") == Some("true");
    let mut all: Vec<(&Node, Option<&Group>, String)> = Vec::new();
    for g in st.groups.values() {
        for n in g.shards.iter().flat_map(|s| &s.nodes) {
            all.push((n, Some(g), g.spec.engine.clone()));
        }
    }
    for s in st.standalone.values() {
        all.push((&s.node, None, s.spec.engine.clone()));
    }
    all.sort_by(|a, b| a.0.cache_cluster_id.cmp(&b.0.cache_cluster_id));
    let selected: Vec<_> = match param(p, "CacheClusterId") {
        Some(id) => {
            let id = id.to_ascii_lowercase();
            let found: Vec<_> = all
                .into_iter()
                .filter(|(n, _, _)| n.cache_cluster_id == id)
                .collect();
            if found.is_empty() {
                return Err(ApiError::new(
                    "CacheClusterNotFound",
                    format!("CacheCluster {id} not found."),
                ));
            }
            found
        }
        None => all
            .into_iter()
            .filter(|(_, g, _)| !(not_in_groups && g.is_some()))
            .collect(),
    };
    let (selected, marker) = page(selected, p, 20, 100)?;
    Ok(xml::response("DescribeCacheClusters", rid, |x| {
        x.opt("Marker", marker.as_deref());
        x.open("CacheClusters");
        for (n, g, engine) in selected {
            x.open("CacheCluster")
                .text("CacheClusterId", &n.cache_cluster_id);
            if g.is_some_and(|g| g.spec.cluster_mode)
                && let Some(port) = g
                    .and_then(|g| g.shards.first())
                    .and_then(|s| s.nodes.first())
                    .and_then(|n| n.port)
            {
                x.endpoint("ConfigurationEndpoint", port);
            }
            x.text("CacheNodeType", crate::state::NODE_TYPE)
                .text("Engine", &engine)
                .text("EngineVersion", &n.engine_version)
                .text("CacheClusterStatus", st.node_status(n))
                .text("NumCacheNodes", "1")
                .text(
                    "PreferredAvailabilityZone",
                    format!("{}a", st.settings.region),
                )
                .time("CacheClusterCreateTime", n.created);
            if show_nodes {
                x.open("CacheNodes")
                    .open("CacheNode")
                    .text("CacheNodeId", "0001")
                    .text("CacheNodeStatus", "available");
                x.time("CacheNodeCreateTime", n.created);
                if let Some(port) = n.port {
                    let unreachable = g.is_some_and(|g| st.unreachable.contains(&g.spec.id));
                    x.endpoint("Endpoint", if unreachable { 1 } else { port });
                }
                x.text("ParameterGroupStatus", "in-sync")
                    .close("CacheNode")
                    .close("CacheNodes");
            }
            if let Some(g) = g {
                configuration::write_cluster_settings(x, &g.spec);
            }
            x.opt("ReplicationGroupId", g.map(|g| g.spec.id.as_str()))
                .text(
                    "SnapshotRetentionLimit",
                    g.map_or(0, |g| g.spec.snapshot_retention_limit).to_string(),
                )
                .opt(
                    "SnapshotWindow",
                    g.and_then(|g| g.spec.snapshot_window.as_deref()),
                )
                .text("AuthTokenEnabled", "false")
                .text("TransitEncryptionEnabled", "false")
                .text("AtRestEncryptionEnabled", "false")
                .text("ARN", st.arn("cluster", &n.cache_cluster_id))
                .close("CacheCluster");
        }
        x.close("CacheClusters");
    }))
}

fn describe_snapshots(app: &App, p: &Params, rid: &str) -> ApiResult {
    let st = app.lock();
    if let Some(cc) = param(p, "CacheClusterId")
        && st.node(&cc.to_ascii_lowercase()).is_none()
    {
        return Err(ApiError::new(
            "CacheClusterNotFound",
            format!("CacheCluster {cc} not found."),
        ));
    }
    let source = param(p, "SnapshotSource");
    if source.is_some_and(|s| s != "system" && s != "user") {
        return Err(ApiError::new(
            "InvalidParameterValue",
            "SnapshotSource must be system or user.",
        ));
    }
    let name = param(p, "SnapshotName").map(str::to_ascii_lowercase);
    let rg = param(p, "ReplicationGroupId").map(str::to_ascii_lowercase);
    let cc = param(p, "CacheClusterId").map(str::to_ascii_lowercase);
    let selected: Vec<&Snapshot> = st
        .snapshots
        .values()
        .filter(|s| name.as_ref().is_none_or(|n| &s.name == n))
        .filter(|s| {
            rg.as_ref()
                .is_none_or(|r| s.replication_group_id.as_ref() == Some(r))
        })
        .filter(|s| {
            cc.as_ref()
                .is_none_or(|c| s.cache_cluster_id.as_ref() == Some(c))
        })
        .filter(|_| source != Some("system"))
        .collect();
    if let Some(n) = &name
        && selected.is_empty()
    {
        return Err(ApiError::new(
            "SnapshotNotFoundFault",
            format!("Snapshot {n} not found."),
        ));
    }
    let (selected, marker) = page(selected, p, 20, 50)?;
    let node_group_config = param(p, "ShowNodeGroupConfig") == Some("true");
    Ok(xml::paged(
        "DescribeSnapshots",
        rid,
        marker.as_deref(),
        "Snapshots",
        &selected,
        |x, s| write_snapshot(x, &st, s, node_group_config),
    ))
}

fn create_snapshot(app: &Arc<App>, p: &Params, rid: &str) -> ApiResult {
    let name = required(p, "SnapshotName")?;
    let mut st = app.lock();
    let plan = st.plan_snapshot(
        name,
        param(p, "ReplicationGroupId"),
        param(p, "CacheClusterId"),
    )?;
    let mut snap = plan.snapshot.clone();
    snap.tags = tags_param(p);
    st.log(
        "CreateSnapshot",
        json!({
            "snapshotName": snap.name,
            "replicationGroupId": snap.replication_group_id,
            "cacheClusterId": snap.cache_cluster_id,
            "nodes": snap.nodes.iter().map(|n| n.cache_cluster_id.clone()).collect::<Vec<_>>(),
        }),
    );
    st.snapshots.insert(snap.name.clone(), snap.clone());
    let min = st.settings.snapshot_min_seconds + st.slow_snapshot.take().unwrap_or(0.0);
    let body = xml::response("CreateSnapshot", rid, |x| {
        write_snapshot(x, &st, &snap, false)
    });
    drop(st);
    tokio::spawn(snapshot_worker(app.clone(), snap, plan.fail, min));
    Ok(body)
}

/// BGSAVE on each node of the snapshot, keep the RDBs, then `available` (or `failed`) once `min_seconds` passed.
async fn snapshot_worker(app: Arc<App>, snap: Snapshot, fail: bool, min_seconds: f64) {
    let started = Instant::now();
    let dest_dir = app.lock().settings.snapshot_dir.join(&snap.name);
    let mut done = Vec::new();
    let mut error = None;
    if let Err(e) = std::fs::create_dir_all(&dest_dir) {
        error = Some(format!("create {}: {e}", dest_dir.display()));
    }
    for n in &snap.nodes {
        if error.is_some() {
            break;
        }
        let Some(port) = n.port else { continue };
        match nodes::bgsave(port, Duration::from_secs(600)).await {
            Ok(()) => {
                let dest = dest_dir.join(format!("{}.rdb", n.cache_cluster_id));
                match std::fs::copy(n.dir.join("dump.rdb"), &dest) {
                    Ok(size) => done.push((n.cache_cluster_id.clone(), dest, size)),
                    Err(e) => error = Some(format!("keep RDB of {}: {e}", n.cache_cluster_id)),
                }
            }
            Err(e) => error = Some(e),
        }
    }
    let remaining = Duration::from_secs_f64(min_seconds.max(0.0)).saturating_sub(started.elapsed());
    tokio::time::sleep(remaining).await;
    let mut st = app.lock();
    let now = time::OffsetDateTime::now_utc();
    let status = if fail || error.is_some() {
        "failed"
    } else {
        "available"
    };
    if let Some(s) = st.snapshots.get_mut(&snap.name) {
        for (cc, path, size) in done {
            if let Some(n) = s.nodes.iter_mut().find(|n| n.cache_cluster_id == cc) {
                n.rdb = Some(path);
                n.size = size;
                n.created = Some(now);
            }
        }
        s.status = status.into();
    }
    let reason = error.or(fail.then(|| "injected failSnapshot".to_string()));
    st.log(
        "SnapshotFinished",
        json!({ "snapshotName": snap.name, "status": status, "error": reason }),
    );
}

async fn copy_snapshot(app: &Arc<App>, p: &Params, rid: &str) -> ApiResult {
    let source = required(p, "SourceSnapshotName")?.to_ascii_lowercase();
    let target_as_given = required(p, "TargetSnapshotName")?.to_string();
    let target = target_as_given.to_ascii_lowercase();
    let bucket = param(p, "TargetBucket").map(str::to_string);
    let snap = app.lock().available_snapshot_mut(&source)?.clone();
    let Some(bucket) = bucket else {
        // A copy within ElastiCache.
        let mut st = app.lock();
        if st.snapshots.contains_key(&target) {
            return Err(ApiError::new(
                "SnapshotAlreadyExistsFault",
                format!("Snapshot {target} already exists."),
            ));
        }
        let copy = Snapshot {
            name: target.clone(),
            ..snap
        };
        st.snapshots.insert(target.clone(), copy.clone());
        st.log(
            "CopySnapshot",
            json!({ "snapshotName": source, "target": target }),
        );
        return Ok(xml::response("CopySnapshot", rid, |x| {
            write_snapshot(x, &st, &copy, false)
        }));
    };
    if snap.data_tiering {
        return Err(ApiError::new(
            "InvalidParameterValue",
            "Exporting backups of clusters using data tiering is not supported.",
        ));
    }
    let keys: Vec<String> = (1..=snap.nodes.len())
        .map(|i| format!("{target}-{i:04}.rdb"))
        .collect();
    check_export_bucket(app, &bucket, &keys).await?;
    let (job, body) = {
        let mut st = app.lock();
        let s = st.available_snapshot_mut(&source)?;
        s.status = "copying".into();
        let described = s.clone();
        let delay = st
            .slow_export
            .take()
            .unwrap_or(st.settings.export_delay_seconds);
        let damage = st.damage_export.take();
        let fail = st.take_fail_export(&described);
        st.exports.push(ExportRecord {
            snapshot: source.clone(),
            bucket: bucket.clone(),
            keys: keys.clone(),
        });
        st.log("CopySnapshot", json!({ "snapshotName": source, "target": target, "bucket": bucket, "keys": keys, "delaySeconds": delay }));
        let job = ExportJob {
            bucket,
            keys,
            target: target_as_given,
            delay,
            damage,
            fail,
        };
        let body = xml::response("CopySnapshot", rid, |x| {
            write_snapshot(x, &st, &described, false)
        });
        (job, body)
    };
    tokio::spawn(export_worker(app.clone(), snap, job));
    Ok(body)
}

/// What an accepted export does.
struct ExportJob {
    /// `TargetBucket`.
    bucket: String,
    /// The keys, `<target>-000N.rdb`.
    keys: Vec<String>,
    /// `TargetSnapshotName` as given (named by the export's event).
    target: String,
    /// Seconds before anything is uploaded.
    delay: f64,
    /// Injected damage to the first object.
    damage: Option<Damage>,
    /// Injected failure ([`crate::state::Fault::FailExport`]): nothing is uploaded, for this reason.
    fail: Option<String>,
}

/// Uploads each shard's RDB as `<target>-000N.rdb` after the delay, then returns the source to `available`; the
/// outcome goes to the journal (and so to the event log, [`crate::events`]).
async fn export_worker(app: Arc<App>, snap: Snapshot, job: ExportJob) {
    let ExportJob {
        bucket,
        keys,
        target,
        delay,
        damage,
        fail,
    } = job;
    tokio::time::sleep(Duration::from_secs_f64(delay)).await;
    let mut nodes = snap.nodes.clone();
    nodes.sort_by(|a, b| a.node_group_id.cmp(&b.node_group_id));
    let misnumbered = damage == Some(Damage::Misnumbered);
    let stem = keys
        .first()
        .and_then(|k| k.strip_suffix("-0001.rdb"))
        .unwrap_or_default()
        .to_string();
    let parts: Vec<ExportPart> = nodes
        .iter()
        .map(|n| ExportPart {
            label: n.cache_cluster_id.clone(),
            rdb: n.rdb.clone(),
        })
        .collect();
    let (written, error) = match fail {
        Some(reason) => (Vec::new(), Some(reason)),
        None => {
            upload_parts(
                &app,
                &bucket,
                &parts,
                &keys,
                &|i| format!("{stem}-{:04}.rdb", i + 2),
                damage,
            )
            .await
        }
    };
    let mut st = app.lock();
    // The deletion invariant checks the objects this export wrote under the names it gave them (renamed ones; an
    // object left out on purpose stays expected).
    if error.is_none() && misnumbered {
        for record in st
            .exports
            .iter_mut()
            .filter(|e| e.snapshot == snap.name && e.bucket == bucket && e.keys == keys)
        {
            record.keys.clone_from(&written);
        }
    }
    if let Some(s) = st.snapshots.get_mut(&snap.name)
        && s.status == "copying"
    {
        s.status = "available".into();
    }
    st.log(
        "ExportFinished",
        json!({ "snapshotName": snap.name, "target": target, "bucket": bucket, "keys": keys, "error": error }),
    );
}

async fn delete_snapshot(app: &Arc<App>, p: &Params, rid: &str, user_agent: &str) -> ApiResult {
    let name = required(p, "SnapshotName")?.to_ascii_lowercase();
    let exports: Vec<ExportRecord> = {
        let st = app.lock();
        let s = st.snapshots.get(&name).ok_or_else(|| {
            ApiError::new(
                "SnapshotNotFoundFault",
                format!("Snapshot {name} not found."),
            )
        })?;
        if s.status != "available" && s.status != "failed" {
            return Err(ApiError::new(
                "InvalidSnapshotState",
                format!(
                    "Snapshot {name} is not in a deletable state ({}).",
                    s.status
                ),
            ));
        }
        st.exports
            .iter()
            .filter(|e| e.snapshot == name)
            .cloned()
            .collect()
    };
    // Record, for the tests' invariant, which export objects were in S3 at the moment of deletion.
    let verified = objects_present(app, &exports).await;
    let mut st = app.lock();
    let Some(mut s) = st.snapshots.remove(&name) else {
        return Err(ApiError::new(
            "SnapshotNotFoundFault",
            format!("Snapshot {name} not found."),
        ));
    };
    for n in &s.nodes {
        // A copy made within ElastiCache (CopySnapshot without TargetBucket) shares its source's files.
        if let Some(path) = &n.rdb
            && !st
                .snapshots
                .values()
                .any(|o| o.nodes.iter().any(|m| m.rdb.as_ref() == Some(path)))
        {
            let _ = std::fs::remove_file(path);
        }
    }
    s.status = "deleting".into();
    st.log(
        "DeleteSnapshot",
        json!({ "snapshotName": name, "exportObjects": verified, "userAgent": user_agent }),
    );
    Ok(xml::response("DeleteSnapshot", rid, |x| {
        write_snapshot(x, &st, &s, false)
    }))
}

async fn add_fault(AxState(app): AxState<Arc<App>>, Json(fault): Json<Fault>) -> StatusCode {
    app.lock().inject(fault);
    StatusCode::NO_CONTENT
}

async fn clear_faults(AxState(app): AxState<Arc<App>>) -> StatusCode {
    app.lock().clear_faults();
    StatusCode::NO_CONTENT
}

async fn errors_json() -> Json<Value> {
    Json(errors::table_json())
}

async fn state_json(AxState(app): AxState<Arc<App>>) -> Json<Value> {
    let st = app.lock();
    let groups: serde_json::Map<String, Value> = st
        .groups
        .values()
        .map(|g| {
            let nodes: Vec<Value> = g
                .shards
                .iter()
                .flat_map(|s| &s.nodes)
                .map(|n| json!({ "cacheClusterId": n.cache_cluster_id, "nodeGroupId": n.node_group_id, "role": n.role, "port": n.port }))
                .collect();
            (g.spec.id.clone(), json!({ "clusterMode": g.spec.cluster_mode, "status": st.group_status(g), "nodes": nodes }))
        })
        .collect();
    let snapshots: Vec<Value> = st
        .snapshots
        .values()
        .map(|s| {
            json!({
                "snapshotName": s.name, "status": s.status, "replicationGroupId": s.replication_group_id,
                "cacheClusterId": s.cache_cluster_id,
                "nodes": s.nodes.iter().map(|n| json!({"cacheClusterId": n.cache_cluster_id, "nodeGroupId": n.node_group_id, "sizeBytes": n.size})).collect::<Vec<_>>(),
            })
        })
        .collect();
    let serverless: serde_json::Map<String, Value> = st
        .serverless
        .values()
        .map(|c| {
            let ports: Vec<Option<u16>> = c
                .shards
                .iter()
                .map(|s| s.nodes.first().and_then(|n| n.port))
                .collect();
            (c.spec.id.clone(), json!({ "engine": c.spec.engine, "status": st.serverless_status(c), "ports": ports }))
        })
        .collect();
    let serverless_snapshots: Vec<Value> = st
        .serverless_snapshots
        .values()
        .map(|s| {
            json!({
                "snapshotName": s.name, "status": s.status, "serverlessCacheName": s.cache,
                "parts": s.parts.iter().map(|p| json!({ "sizeBytes": p.size, "rdb": p.rdb })).collect::<Vec<_>>(),
            })
        })
        .collect();
    Json(json!({
        "groups": groups, "snapshots": snapshots, "serverlessCaches": serverless,
        "serverlessSnapshots": serverless_snapshots, "journal": st.journal,
    }))
}
