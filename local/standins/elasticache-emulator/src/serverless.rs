//! ElastiCache Serverless caches: DescribeServerlessCaches, CreateServerlessCacheSnapshot,
//! DescribeServerlessCacheSnapshots, ExportServerlessCacheSnapshot, DeleteServerlessCacheSnapshot, and for restores
//! CreateServerlessCache (`SnapshotArnsToRestore`) and DeleteServerlessCache (Amazon ElastiCache API Reference;
//! shapes, codes and HTTP statuses as in botocore's `elasticache/2015-02-02/service-2.json`).
//!
//! A Valkey or Redis OSS cache is one `redis-server` (one shard) or a small Redis Cluster of `shards` primaries with
//! the slots split evenly; a Memcached cache runs no process (there is no memcached here): it is described, snapshots
//! of it hold no data, and what AWS refuses for it (export, `UserGroupId`) is refused.
//!
//! What AWS does not document, and what the emulator chose:
//! - **Status case.** The model lists `ServerlessCache.Status` as "CREATING, AVAILABLE, DELETING, CREATE-FAILED and
//!   MODIFYING"; the API Reference's only serverless example with a status (CopyServerlessCacheSnapshot) writes the
//!   snapshot's `"Status": "creating"`, and ElastiCache writes every other status lower-case: the emulator answers
//!   lower-case for both (see [`crate::topology::SERVERLESS_STATUSES`]).
//! - **Snapshot statuses.** `ServerlessCacheSnapshot.Status` has no documented values: `creating`, `available`,
//!   `failed` (the snapshot could not be taken), `exporting` (ExportServerlessCacheSnapshot running) and `deleting`
//!   (the answer of DeleteServerlessCacheSnapshot) — the values node-based snapshots use, and `exporting` as this
//!   project's reference lists it for exports.
//! - **A second snapshot while one is being taken** is refused with `InvalidServerlessCacheStateFault` (which code
//!   AWS sends is undocumented; the cache's own status stays `available`: the model has no `snapshotting` for it).
//! - **The quota** is [`SNAPSHOT_QUOTA_PER_DAY`] manual snapshots per cache in any 24 hours (User Guide, "Snapshot
//!   and restore": "24 per serverless cache" a day), counted on CreateServerlessCacheSnapshot calls accepted (a final
//!   snapshot of DeleteServerlessCache is not counted); the 25th is `ServerlessCacheSnapshotQuotaExceededFault`.
//! - **Export object names** are not documented: [`export_keys`] follows a template (`--serverless-export-key`,
//!   `ECB_EMULATOR_SERVERLESS_EXPORT_KEY`; default [`DEFAULT_EXPORT_KEY`], one object per shard as node-based exports
//!   name theirs). An existing object under one of the names is refused as CopySnapshot refuses it.
//! - **Restores** from several RDBs (a multi-shard backup) give a cache of as many shards; each key goes to the shard
//!   owning its slot (loaded into a temporary redis-server, then DUMP/RESTORE), so any split of keys across objects
//!   restores. A key in two RDBs fails the restore (`create-failed`).
//! - **Events** (DescribeEvents, SourceType `serverless-cache` / `serverless-cache-snapshot`): texts undocumented,
//!   see [`crate::events`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use time::OffsetDateTime;

use crate::app::App;
use crate::export::{ExportPart, check_export_bucket, objects_present, upload_parts};
use crate::groups::{self, SLOTS, Seed};
use crate::nodes::{self, NodeOptions, NodeProcess, connect};
use crate::params::{Params, int_param, list_param, page_tokens, param, required, tags_param};
use crate::state::{
    ApiError, ExportRecord, ServerlessCache, ServerlessPart, ServerlessSnapshot, Shard, State,
};
use crate::state::{
    serverless_cache_not_found as cache_not_found,
    serverless_snapshot_not_found as snapshot_not_found,
};
use crate::topology::{GroupSpec, ServerlessSpec, default_major_version};
use crate::xml::{self, Xml};

/// Manual snapshots one serverless cache may be given in any 24 hours (ElastiCache User Guide, "Snapshot and
/// restore": "24 per serverless cache" per day).
pub const SNAPSHOT_QUOTA_PER_DAY: usize = 24;

/// The default export object key template: one object per shard, `<snapshot>-0001.rdb`, ... (as node-based exports
/// are named, User Guide "Exporting a backup"; serverless naming is undocumented).
pub const DEFAULT_EXPORT_KEY: &str = "{snapshot}-{shard}.rdb";

/// `FullEngineVersion` of a Memcached cache (no process runs; the version the emulator reports for Memcached).
const MEMCACHED_VERSION: &str = "1.6.22";

/// Checks an export key template: it names `{snapshot}` (else every export would write the same objects) and no
/// placeholder but `{snapshot}` and `{shard}`.
///
/// # Errors
/// What is wrong with it.
pub fn check_export_key_template(template: &str) -> Result<(), String> {
    if !template.contains("{snapshot}") {
        return Err(format!(
            "serverless export key template {template:?} must contain {{snapshot}}"
        ));
    }
    let rest = template.replace("{snapshot}", "").replace("{shard}", "");
    if rest.contains('{') || rest.contains('}') {
        return Err(format!(
            "serverless export key template {template:?}: only {{snapshot}} and {{shard}} may be used"
        ));
    }
    Ok(())
}

/// The object keys of an export of `snapshot` with `shards` shards: `template` with `{snapshot}` the snapshot name
/// and `{shard}` the shard number on 4 digits (`0001`, ...), one key per shard.
///
/// # Errors
/// A template without `{shard}` for more than one shard (the objects would overwrite each other): an emulator
/// configuration error, not an AWS behaviour.
pub fn export_keys(template: &str, snapshot: &str, shards: usize) -> Result<Vec<String>, String> {
    if shards > 1 && !template.contains("{shard}") {
        return Err(format!(
            "Emulator configuration: the serverless export key template {template:?} (ECB_EMULATOR_SERVERLESS_EXPORT_KEY) \
             has no {{shard}} placeholder, so it cannot name the {shards} objects of a {shards}-shard snapshot."
        ));
    }
    Ok((1..=shards.max(1))
        .map(|i| {
            template
                .replace("{snapshot}", snapshot)
                .replace("{shard}", &format!("{i:04}"))
        })
        .collect())
}

/// The slot of a key (Redis Cluster specification: CRC16-XMODEM of the key, or of its hash tag, modulo 16384).
pub fn key_slot(key: &[u8]) -> u16 {
    let tagged = key.iter().position(|&b| b == b'{').and_then(|open| {
        let rest = &key[open + 1..];
        rest.iter()
            .position(|&b| b == b'}')
            .filter(|close| *close > 0)
            .map(|close| &rest[..close])
    });
    let mut crc: u16 = 0;
    for &b in tagged.unwrap_or(key) {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc % (SLOTS as u16)
}

// -- shapes ----------------------------------------------------------------------------------------------------------

/// One `ServerlessCache` element named `element` (`member` in DescribeServerlessCaches' list, `ServerlessCache` in
/// Create/DeleteServerlessCache), members in the model's order.
fn write_cache(x: &mut Xml, st: &State, c: &ServerlessCache, element: &str) {
    let status = st.serverless_status(c);
    x.open(element)
        .text("ServerlessCacheName", &c.spec.id)
        .text("Description", &c.description)
        .time("CreateTime", c.created)
        .text("Status", &status)
        .text("Engine", &c.spec.engine)
        .text("MajorEngineVersion", c.spec.major_version())
        .opt("FullEngineVersion", c.full_engine_version.as_deref());
    write_usage_limits(x, &c.usage_limits);
    x.opt("KmsKeyId", c.spec.kms_key_id.as_deref()).text(
        "StorageEncryptionType",
        if c.spec.kms_key_id.is_some() {
            "sse-kms"
        } else {
            "sse-elasticache"
        },
    );
    x.open("SecurityGroupIds");
    for id in &c.spec.security_group_ids {
        x.text("SecurityGroupId", id);
    }
    x.close("SecurityGroupIds");
    if status != "creating"
        && let Some(port) = c
            .shards
            .first()
            .and_then(|s| s.nodes.first())
            .and_then(|n| n.port)
    {
        // The unreachable fault applies to serverless caches too (an endpoint nothing listens on).
        let port = if st.unreachable.contains(&c.spec.id) {
            1
        } else {
            port
        };
        x.endpoint("Endpoint", port)
            .endpoint("ReaderEndpoint", port);
    }
    x.text("ARN", st.arn("serverlesscache", &c.spec.id))
        .opt("UserGroupId", c.spec.user_group_id.as_deref());
    x.open("SubnetIds");
    for id in &c.spec.subnet_ids {
        x.text("SubnetId", id);
    }
    x.close("SubnetIds")
        .opt(
            "SnapshotRetentionLimit",
            c.spec.snapshot_retention_limit.map(|n| n.to_string()),
        )
        .opt("DailySnapshotTime", c.spec.daily_snapshot_time.as_deref())
        .close(element);
}

/// `CacheUsageLimits` as the request gave it (`DataStorage` needs its `Unit`: `GB`, the model's only value).
fn write_usage_limits(x: &mut Xml, limits: &BTreeMap<String, String>) {
    if limits.is_empty() {
        return;
    }
    x.open("CacheUsageLimits");
    for (part, fields) in [
        ("DataStorage", &["Maximum", "Minimum"][..]),
        ("ECPUPerSecond", &["Maximum", "Minimum"][..]),
    ] {
        let get = |f: &str| limits.get(&format!("{part}.{f}"));
        if fields.iter().all(|f| get(f).is_none()) && get("Unit").is_none() {
            continue;
        }
        x.open(part);
        for f in fields {
            x.opt(f, get(f));
        }
        if part == "DataStorage" {
            x.text("Unit", get("Unit").map_or("GB", String::as_str));
        }
        x.close(part);
    }
    x.close("CacheUsageLimits");
}

/// One `ServerlessCacheSnapshot` element (members in the model's order; `BytesUsedForCache`, a string of bytes, once
/// the snapshot is taken).
fn write_snapshot(x: &mut Xml, st: &State, s: &ServerlessSnapshot) {
    x.open("ServerlessCacheSnapshot")
        .text("ServerlessCacheSnapshotName", &s.name)
        .text("ARN", st.arn("serverlesscachesnapshot", &s.name))
        .opt("KmsKeyId", s.kms_key_id.as_deref())
        .text("SnapshotType", &s.snapshot_type)
        .text("Status", &s.status)
        .time("CreateTime", s.created);
    if s.status != "creating" {
        x.text("BytesUsedForCache", s.bytes().to_string());
    }
    x.open("ServerlessCacheConfiguration")
        .text("ServerlessCacheName", &s.cache)
        .text("Engine", &s.engine)
        .text("MajorEngineVersion", &s.major_engine_version)
        .close("ServerlessCacheConfiguration")
        .close("ServerlessCacheSnapshot");
}

fn snapshot_response(action: &str, rid: &str, st: &State, s: &ServerlessSnapshot) -> String {
    xml::response(action, rid, |x| write_snapshot(x, st, s))
}

// -- describe --------------------------------------------------------------------------------------------------------

/// `DescribeServerlessCaches` (API Reference): one cache by `ServerlessCacheName` (`ServerlessCacheNotFoundFault`,
/// 404, when there is none), or all; `MaxResults` (default 50; the emulator accepts 1-100, the bounds are not
/// documented) and `NextToken`.
pub fn describe_serverless_caches(app: &App, p: &Params, rid: &str) -> Result<String, ApiError> {
    let st = app.lock();
    let caches: Vec<&ServerlessCache> = match param(p, "ServerlessCacheName") {
        Some(name) => {
            let name = name.to_ascii_lowercase();
            vec![
                st.serverless
                    .get(&name)
                    .ok_or_else(|| cache_not_found(&name))?,
            ]
        }
        None => st.serverless.values().collect(),
    };
    let (caches, next) = page_tokens(caches, p, (1, 100, 50))?;
    Ok(xml::response("DescribeServerlessCaches", rid, |x| {
        x.opt("NextToken", next.as_deref()).open("ServerlessCaches");
        for c in caches {
            write_cache(x, &st, c, "member");
        }
        x.close("ServerlessCaches");
    }))
}

/// `DescribeServerlessCacheSnapshots` (API Reference): every snapshot, or those of `ServerlessCacheName` (a cache
/// that does not exist: `ServerlessCacheNotFoundFault`), or the one named `ServerlessCacheSnapshotName` (none:
/// `ServerlessCacheSnapshotNotFoundFault`, 404); `SnapshotType` `manual` or `automated`; `MaxResults` ("a maximum of
/// 50", default 50) and `NextToken`.
pub fn describe_serverless_cache_snapshots(
    app: &App,
    p: &Params,
    rid: &str,
) -> Result<String, ApiError> {
    let st = app.lock();
    let cache = param(p, "ServerlessCacheName").map(str::to_ascii_lowercase);
    if let Some(c) = &cache
        && !st.serverless.contains_key(c)
    {
        return Err(cache_not_found(c));
    }
    let kind = param(p, "SnapshotType");
    if let Some(k) = kind
        && k != "manual"
        && k != "automated"
    {
        return Err(ApiError::new(
            "InvalidParameterValue",
            format!("Invalid value for SnapshotType: {k}. Valid values: manual, automated."),
        ));
    }
    let name = param(p, "ServerlessCacheSnapshotName").map(str::to_ascii_lowercase);
    let selected: Vec<&ServerlessSnapshot> = st
        .serverless_snapshots
        .values()
        .filter(|s| name.as_ref().is_none_or(|n| &s.name == n))
        .filter(|s| cache.as_ref().is_none_or(|c| &s.cache == c))
        .filter(|s| kind.is_none_or(|k| s.snapshot_type == k))
        .collect();
    if let Some(n) = &name
        && selected.is_empty()
    {
        return Err(snapshot_not_found(n));
    }
    let (selected, next) = page_tokens(selected, p, (1, 50, 50))?;
    Ok(xml::response(
        "DescribeServerlessCacheSnapshots",
        rid,
        |x| {
            x.opt("NextToken", next.as_deref())
                .open("ServerlessCacheSnapshots");
            for s in selected {
                write_snapshot(x, &st, s);
            }
            x.close("ServerlessCacheSnapshots");
        },
    ))
}

// -- snapshots -------------------------------------------------------------------------------------------------------

/// `CreateServerlessCacheSnapshot` (API Reference): a real BGSAVE on every shard's redis-server; the snapshot reads
/// `creating` until every RDB is written and at least `snapshot_min_seconds` passed, then `available` (or `failed`).
/// Refusals: `ServerlessCacheSnapshotAlreadyExistsFault`, `ServerlessCacheNotFoundFault` (404),
/// `InvalidServerlessCacheStateFault` (the cache not `available`, or a snapshot of it being taken: the code for the
/// latter is undocumented), `ServerlessCacheSnapshotQuotaExceededFault` (the 25th in 24 hours),
/// `TagQuotaPerResourceExceeded`, `InvalidParameterValue` (a required parameter missing).
pub fn create_serverless_cache_snapshot(
    app: &Arc<App>,
    p: &Params,
    rid: &str,
) -> Result<String, ApiError> {
    let name = required(p, "ServerlessCacheSnapshotName")?.to_ascii_lowercase();
    let cache_name = required(p, "ServerlessCacheName")?.to_ascii_lowercase();
    let tags = tags_param(p);
    let mut st = app.lock();
    if st.serverless_snapshots.contains_key(&name) {
        return Err(ApiError::new(
            "ServerlessCacheSnapshotAlreadyExistsFault",
            format!("Serverless cache snapshot {name} already exists."),
        ));
    }
    let cache = st
        .serverless
        .get(&cache_name)
        .ok_or_else(|| cache_not_found(&cache_name))?;
    let status = st.serverless_status(cache);
    if status != "available" {
        return Err(ApiError::new(
            "InvalidServerlessCacheStateFault",
            format!("Serverless cache {cache_name} is not in available state ({status})."),
        ));
    }
    if let Some(other) = st
        .serverless_snapshots
        .values()
        .find(|s| s.cache == cache_name && s.status == "creating")
    {
        // Which code AWS answers for a snapshot requested while another is being taken is not documented.
        return Err(ApiError::new(
            "InvalidServerlessCacheStateFault",
            format!(
                "Serverless cache {cache_name} is being snapshotted ({}); try again when it completes.",
                other.name
            ),
        ));
    }
    let now = OffsetDateTime::now_utc();
    let recent = st
        .serverless_snapshot_times
        .get(&cache_name)
        .map_or(0, |t| {
            t.iter()
                .filter(|at| now - **at < time::Duration::hours(24))
                .count()
        });
    if recent >= SNAPSHOT_QUOTA_PER_DAY {
        return Err(ApiError::new(
            "ServerlessCacheSnapshotQuotaExceededFault",
            format!(
                "Serverless cache {cache_name} already has {recent} manual snapshots in the last 24 hours; at most {SNAPSHOT_QUOTA_PER_DAY} are allowed."
            ),
        ));
    }
    if tags.len() > 50 {
        return Err(ApiError::new(
            "TagQuotaPerResourceExceeded",
            "The request cannot be processed because it would cause the resource to have more than the allowed number of tags. The maximum number of tags permitted on a resource is 50.",
        ));
    }
    let snap = new_snapshot(&name, cache, param(p, "KmsKeyId"), tags, now);
    let fail = st.take_fail_snapshot(&cache_name);
    let min = st.settings.snapshot_min_seconds + st.slow_snapshot.take().unwrap_or(0.0);
    st.serverless_snapshot_times
        .entry(cache_name.clone())
        .or_default()
        .push(now);
    st.log(
        "CreateServerlessCacheSnapshot",
        json!({ "snapshotName": name, "serverlessCacheName": cache_name, "shards": snap.parts.len() }),
    );
    let body = snapshot_response("CreateServerlessCacheSnapshot", rid, &st, &snap);
    st.serverless_snapshots.insert(name.clone(), snap);
    drop(st);
    tokio::spawn(take_snapshot(app.clone(), name, fail, min));
    Ok(body)
}

/// A `creating` snapshot of `cache`, one part per shard.
fn new_snapshot(
    name: &str,
    cache: &ServerlessCache,
    kms_key_id: Option<&str>,
    tags: Vec<(String, String)>,
    now: OffsetDateTime,
) -> ServerlessSnapshot {
    ServerlessSnapshot {
        name: name.to_string(),
        cache: cache.spec.id.clone(),
        engine: cache.spec.engine.clone(),
        major_engine_version: cache.spec.major_version(),
        status: "creating".into(),
        snapshot_type: "manual".into(),
        created: now,
        kms_key_id: kms_key_id.map(str::to_string),
        tags,
        parts: cache
            .shards
            .iter()
            .filter_map(|s| s.nodes.first())
            .map(|n| ServerlessPart {
                port: n.port,
                dir: n.dir.clone(),
                rdb: None,
                size: 0,
            })
            .collect(),
    }
}

/// BGSAVE on each shard of the snapshot `name`, keep the RDBs, then `available` (or `failed`) once `min_seconds`
/// passed; the outcome goes to the journal (`ServerlessSnapshotFinished`, and so to the event log).
async fn take_snapshot(app: Arc<App>, name: String, fail: bool, min_seconds: f64) {
    let started = Instant::now();
    let (parts, cache, dest_dir) = {
        let st = app.lock();
        let Some(s) = st.serverless_snapshots.get(&name) else {
            return;
        };
        (
            s.parts.clone(),
            s.cache.clone(),
            st.settings.snapshot_dir.join("serverless").join(&name),
        )
    };
    let mut done = Vec::new();
    let mut error = std::fs::create_dir_all(&dest_dir)
        .err()
        .map(|e| format!("create {}: {e}", dest_dir.display()));
    for (i, part) in parts.iter().enumerate() {
        if error.is_some() {
            break;
        }
        let Some(port) = part.port else { continue };
        let dest = dest_dir.join(format!("{:04}.rdb", i + 1));
        match nodes::bgsave(port, Duration::from_secs(600)).await {
            Ok(()) => match std::fs::copy(part.dir.join("dump.rdb"), &dest) {
                Ok(size) => done.push((i, dest, size)),
                Err(e) => error = Some(format!("keep RDB of shard {}: {e}", i + 1)),
            },
            Err(e) => error = Some(e),
        }
    }
    let remaining = Duration::from_secs_f64(min_seconds.max(0.0)).saturating_sub(started.elapsed());
    tokio::time::sleep(remaining).await;
    let mut st = app.lock();
    let status = if fail || error.is_some() {
        "failed"
    } else {
        "available"
    };
    if let Some(s) = st.serverless_snapshots.get_mut(&name) {
        for (i, path, size) in done {
            if let Some(part) = s.parts.get_mut(i) {
                part.rdb = Some(path);
                part.size = size;
            }
        }
        s.status = status.into();
    }
    let reason = error.or(fail.then(|| "injected failSnapshot".to_string()));
    st.log(
        "ServerlessSnapshotFinished",
        json!({ "snapshotName": name, "serverlessCacheName": cache, "status": status, "error": reason }),
    );
}

/// `ExportServerlessCacheSnapshot` (API Reference; "Available for Valkey and Redis OSS only"; the bucket "must also
/// be in same region"): answers the snapshot `exporting`; after the export delay each shard's RDB is uploaded under
/// [`export_keys`], and the snapshot is `available` again. Refusals: `ServerlessCacheSnapshotNotFoundFault` (404),
/// `InvalidServerlessCacheSnapshotStateFault` (not `available`), `InvalidParameterValue` (a Memcached snapshot, a
/// missing bucket or an existing object, as CopySnapshot words them; a template that cannot name the objects).
/// Injected faults as for CopySnapshot: `slowExport`, `damageExport`/`corruptExport`, `failExport`.
pub async fn export_serverless_cache_snapshot(
    app: &Arc<App>,
    p: &Params,
    rid: &str,
) -> Result<String, ApiError> {
    let name = required(p, "ServerlessCacheSnapshotName")?.to_ascii_lowercase();
    let bucket = required(p, "S3BucketName")?.to_string();
    let (keys, count) = {
        let st = app.lock();
        let s = st
            .serverless_snapshots
            .get(&name)
            .ok_or_else(|| snapshot_not_found(&name))?;
        if s.engine == "memcached" {
            return Err(ApiError::new(
                "InvalidParameterValue",
                "Exporting a serverless cache snapshot to Amazon S3 is available for Valkey and Redis OSS only.",
            ));
        }
        available(s)?;
        let keys = export_keys(&st.settings.serverless_export_key, &name, s.parts.len())
            .map_err(|e| ApiError::new("InvalidParameterValue", e))?;
        (keys, s.parts.len())
    };
    check_export_bucket(app, &bucket, &keys).await?;
    let mut st = app.lock();
    let fail = {
        let s = st
            .serverless_snapshots
            .get(&name)
            .ok_or_else(|| snapshot_not_found(&name))?;
        available(s)?;
        let s = s.clone();
        st.take_fail_serverless_export(&s)
    };
    let delay = st
        .slow_export
        .take()
        .unwrap_or(st.settings.export_delay_seconds);
    let damage = st.damage_export.take();
    let Some(s) = st.serverless_snapshots.get_mut(&name) else {
        return Err(snapshot_not_found(&name));
    };
    s.status = "exporting".into();
    let described = s.clone();
    st.serverless_exports.push(ExportRecord {
        snapshot: name.clone(),
        bucket: bucket.clone(),
        keys: keys.clone(),
    });
    st.log(
        "ExportServerlessCacheSnapshot",
        json!({ "snapshotName": name, "serverlessCacheName": described.cache, "bucket": bucket, "keys": keys, "delaySeconds": delay }),
    );
    let body = snapshot_response("ExportServerlessCacheSnapshot", rid, &st, &described);
    drop(st);
    let template = app.lock().settings.serverless_export_key.clone();
    let app = app.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs_f64(delay)).await;
        let parts: Vec<ExportPart> = described
            .parts
            .iter()
            .enumerate()
            .map(|(i, part)| ExportPart {
                label: format!("shard {:04}", i + 1),
                rdb: part.rdb.clone(),
            })
            .collect();
        let misnumbered = |i: usize| {
            export_keys(&template, &name, count + 1)
                .ok()
                .and_then(|k| k.get(i + 1).cloned())
                .unwrap_or_default()
        };
        let (written, error) = match fail {
            Some(reason) => (Vec::new(), Some(reason)),
            None => upload_parts(&app, &bucket, &parts, &keys, &misnumbered, damage).await,
        };
        let mut st = app.lock();
        if error.is_none() && damage == Some(crate::state::Damage::Misnumbered) {
            for record in st
                .serverless_exports
                .iter_mut()
                .filter(|e| e.snapshot == name && e.bucket == bucket && e.keys == keys)
            {
                record.keys.clone_from(&written);
            }
        }
        if let Some(s) = st.serverless_snapshots.get_mut(&name)
            && s.status == "exporting"
        {
            s.status = "available".into();
        }
        st.log(
            "ServerlessExportFinished",
            json!({ "snapshotName": name, "serverlessCacheName": described.cache, "bucket": bucket, "keys": keys, "error": error }),
        );
    });
    Ok(body)
}

/// `InvalidServerlessCacheSnapshotStateFault` unless the snapshot is `available`.
fn available(s: &ServerlessSnapshot) -> Result<(), ApiError> {
    if s.status == "available" {
        Ok(())
    } else {
        Err(ApiError::new(
            "InvalidServerlessCacheSnapshotStateFault",
            format!(
                "Serverless cache snapshot {} is not in available state ({}).",
                s.name, s.status
            ),
        ))
    }
}

/// `DeleteServerlessCacheSnapshot` (API Reference): answers the snapshot `deleting` and removes it with its RDBs.
/// Refusals: `ServerlessCacheSnapshotNotFoundFault` (404), `InvalidServerlessCacheSnapshotStateFault` (`creating` or
/// `exporting`). The journal records, for the tests' deletion invariant, which export objects were in S3 at that
/// moment (as DeleteSnapshot does).
pub async fn delete_serverless_cache_snapshot(
    app: &Arc<App>,
    p: &Params,
    rid: &str,
    user_agent: &str,
) -> Result<String, ApiError> {
    let name = required(p, "ServerlessCacheSnapshotName")?.to_ascii_lowercase();
    let exports: Vec<ExportRecord> = {
        let st = app.lock();
        let s = st
            .serverless_snapshots
            .get(&name)
            .ok_or_else(|| snapshot_not_found(&name))?;
        if s.status == "creating" || s.status == "exporting" {
            return Err(ApiError::new(
                "InvalidServerlessCacheSnapshotStateFault",
                format!(
                    "Serverless cache snapshot {name} is not in a deletable state ({}).",
                    s.status
                ),
            ));
        }
        st.serverless_exports
            .iter()
            .filter(|e| e.snapshot == name)
            .cloned()
            .collect()
    };
    let verified = objects_present(app, &exports).await;
    let mut st = app.lock();
    let Some(mut s) = st.serverless_snapshots.remove(&name) else {
        return Err(snapshot_not_found(&name));
    };
    for part in &s.parts {
        if let Some(path) = &part.rdb {
            let _ = std::fs::remove_file(path);
        }
    }
    s.status = "deleting".into();
    st.log(
        "DeleteServerlessCacheSnapshot",
        json!({ "snapshotName": name, "serverlessCacheName": s.cache, "exportObjects": verified, "userAgent": user_agent }),
    );
    Ok(snapshot_response(
        "DeleteServerlessCacheSnapshot",
        rid,
        &st,
        &s,
    ))
}

// -- caches ----------------------------------------------------------------------------------------------------------

/// Where the data of a new cache comes from.
#[derive(Debug, Default)]
struct Sources {
    /// S3 objects `(bucket, key)`, fetched by the worker.
    objects: Vec<(String, String)>,
    /// RDB files of kept snapshots, linked into the seed directory at once (a later deletion does not take them).
    files: Vec<PathBuf>,
}

/// `CreateServerlessCache` (API Reference): the cache reads `creating` (at least `snapshot_min_seconds`) while its
/// redis-server(s) start, loaded from `SnapshotArnsToRestore` (S3 object ARNs, read as CreateReplicationGroup's
/// `SnapshotArns` are; serverless snapshot ARNs `…:serverlesscachesnapshot:<name>`; node-based snapshot ARNs
/// `…:snapshot:<name>`), then `available`, or `create-failed` when an RDB does not load. Refusals:
/// `InvalidParameterValue` (`ServerlessCacheName` or `Engine` missing, an unknown engine, an ARN that names nothing
/// restorable, a snapshot of another engine, `SnapshotRetentionLimit` over 35, an S3 object ElastiCache may not
/// read), `InvalidParameterCombination` (`UserGroupId` for Memcached: "Available for Valkey and Redis OSS only"),
/// `ServerlessCacheAlreadyExistsFault`, `TagQuotaPerResourceExceeded`.
pub async fn create_serverless_cache(
    app: &Arc<App>,
    p: &Params,
    rid: &str,
) -> Result<String, ApiError> {
    let name = required(p, "ServerlessCacheName")?.to_ascii_lowercase();
    let engine = required(p, "Engine")?.to_ascii_lowercase();
    if !["redis", "valkey", "memcached"].contains(&engine.as_str()) {
        return Err(ApiError::new(
            "InvalidParameterValue",
            format!("Invalid value for Engine: {engine}. Valid values: redis, valkey, memcached."),
        ));
    }
    let tags = tags_param(p);
    if tags.len() > 50 {
        return Err(ApiError::new(
            "TagQuotaPerResourceExceeded",
            "The request cannot be processed because it would cause the resource to have more than the allowed number of tags. The maximum number of tags permitted on a resource is 50.",
        ));
    }
    let retention = int_param(p, "SnapshotRetentionLimit")?;
    if retention.is_some_and(|n| n > 35) {
        return Err(ApiError::new(
            "InvalidParameterValue",
            "SnapshotRetentionLimit must be between 0 and 35 days.",
        ));
    }
    if engine == "memcached" && param(p, "UserGroupId").is_some() {
        return Err(ApiError::new(
            "InvalidParameterCombination",
            "UserGroupId is available for Valkey and Redis OSS only.",
        ));
    }
    if app.lock().serverless.contains_key(&name) {
        return Err(ApiError::new(
            "ServerlessCacheAlreadyExistsFault",
            format!("Serverless cache {name} already exists."),
        ));
    }
    let arns = list_param(p, "SnapshotArnsToRestore");
    let seed_dir = app
        .lock()
        .settings
        .node_dir
        .join("serverless")
        .join(format!("{name}-seeds-{rid}"));
    let mut sources = Sources::default();
    for arn in &arns {
        if arn.contains(":s3:::") {
            if engine == "memcached" {
                return Err(ApiError::new(
                    "InvalidParameterValue",
                    "A Memcached serverless cache cannot be restored from an RDB file.",
                ));
            }
            sources.objects.push(crate::restore::s3_object(arn)?);
        } else {
            sources.files.extend(snapshot_files(app, arn, &engine)?);
        }
    }
    crate::restore::check_seed_objects(app, &sources.objects).await?;
    let usage_limits: BTreeMap<String, String> = p
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("CacheUsageLimits.")
                .map(|rest| (rest.to_string(), v.clone()))
        })
        .collect();
    let spec = ServerlessSpec {
        id: name.clone(),
        engine: engine.clone(),
        major_engine_version: Some(
            param(p, "MajorEngineVersion")
                .unwrap_or(default_major_version(&engine))
                .to_string(),
        ),
        shards: 1,
        tags: Default::default(),
        status: None,
        security_group_ids: list_param(p, "SecurityGroupIds"),
        subnet_ids: list_param(p, "SubnetIds"),
        user_group_id: param(p, "UserGroupId").map(str::to_string),
        kms_key_id: param(p, "KmsKeyId").map(str::to_string),
        daily_snapshot_time: param(p, "DailySnapshotTime").map(str::to_string),
        snapshot_retention_limit: retention,
    };
    // Link the kept RDBs now: the snapshot may be deleted while the cache is being created.
    let mut files = Vec::new();
    if !sources.files.is_empty() {
        std::fs::create_dir_all(&seed_dir).map_err(|e| {
            ApiError::new(
                "InvalidParameterValue",
                format!("emulator: seed directory: {e}"),
            )
        })?;
        for (i, f) in sources.files.iter().enumerate() {
            let dest = seed_dir.join(format!("kept-{:04}.rdb", i + 1));
            let _ = std::fs::remove_file(&dest);
            std::fs::hard_link(f, &dest)
                .or_else(|_| std::fs::copy(f, &dest).map(|_| ()))
                .map_err(|e| {
                    ApiError::new(
                        "InvalidParameterValue",
                        format!("emulator: keep {}: {e}", f.display()),
                    )
                })?;
            files.push(dest);
        }
    }
    let (body, min_seconds) = {
        let mut st = app.lock();
        if st.serverless.contains_key(&name) {
            // Created by a concurrent call meanwhile: this call's links (its own directory) go.
            let _ = std::fs::remove_dir_all(&seed_dir);
            return Err(ApiError::new(
                "ServerlessCacheAlreadyExistsFault",
                format!("Serverless cache {name} already exists."),
            ));
        }
        let cache = ServerlessCache {
            spec: spec.clone(),
            description: param(p, "Description").unwrap_or_default().to_string(),
            shards: Vec::new(),
            created: OffsetDateTime::now_utc(),
            status: "creating".into(),
            tags,
            full_engine_version: None,
            usage_limits,
        };
        st.log(
            "CreateServerlessCache",
            json!({ "serverlessCacheName": name, "engine": engine, "snapshotArnsToRestore": arns }),
        );
        let body = xml::response("CreateServerlessCache", rid, |x| {
            write_cache(x, &st, &cache, "ServerlessCache")
        });
        st.serverless.insert(name.clone(), cache);
        (body, st.settings.snapshot_min_seconds)
    };
    tokio::spawn(create_worker(
        app.clone(),
        spec,
        sources.objects,
        files,
        seed_dir,
        min_seconds,
    ));
    Ok(body)
}

/// The kept RDB files a snapshot ARN names: a serverless snapshot (`…:serverlesscachesnapshot:<name>`) or a
/// node-based one (`…:snapshot:<name>`), `available`, of an engine the new cache can load.
///
/// # Errors
/// `InvalidParameterValue` for anything else (which code AWS answers for a missing or busy snapshot here is not
/// documented; the model lists no snapshot error for CreateServerlessCache).
fn snapshot_files(app: &App, arn: &str, engine: &str) -> Result<Vec<PathBuf>, ApiError> {
    let invalid = |why: String| ApiError::new("InvalidParameterValue", why);
    let st = app.lock();
    let prefix = format!(
        "arn:aws:elasticache:{}:{}:",
        st.settings.region, st.settings.account
    );
    let Some(rest) = arn.strip_prefix(&prefix) else {
        return Err(invalid(format!(
            "Invalid snapshot ARN {arn}: not an S3 object, serverless cache snapshot or snapshot of this account and region."
        )));
    };
    let memcached = engine == "memcached";
    if let Some(name) = rest.strip_prefix("serverlesscachesnapshot:") {
        let name = name.to_ascii_lowercase();
        let s = st
            .serverless_snapshots
            .get(&name)
            .ok_or_else(|| invalid(format!("Serverless cache snapshot {name} not found.")))?;
        if s.status != "available" {
            return Err(invalid(format!(
                "Serverless cache snapshot {name} is not available ({}).",
                s.status
            )));
        }
        if (s.engine == "memcached") != memcached {
            return Err(invalid(format!(
                "Serverless cache snapshot {name} is of engine {}, which cannot be restored into {engine}.",
                s.engine
            )));
        }
        return Ok(s.parts.iter().filter_map(|part| part.rdb.clone()).collect());
    }
    if let Some(name) = rest.strip_prefix("snapshot:") {
        let name = name.to_ascii_lowercase();
        let s = st
            .snapshots
            .get(&name)
            .ok_or_else(|| invalid(format!("Snapshot {name} not found.")))?;
        if s.status != "available" {
            return Err(invalid(format!(
                "Snapshot {name} is not available ({}).",
                s.status
            )));
        }
        if memcached {
            return Err(invalid(format!(
                "Snapshot {name} holds RDB files, which a Memcached serverless cache cannot load."
            )));
        }
        let mut nodes = s.nodes.clone();
        nodes.sort_by(|a, b| a.node_group_id.cmp(&b.node_group_id));
        return Ok(nodes.iter().filter_map(|n| n.rdb.clone()).collect());
    }
    Err(invalid(format!(
        "Invalid snapshot ARN {arn}: not an S3 object, serverless cache snapshot or snapshot."
    )))
}

/// Fetches the seeds, starts the cache, and settles it `available` or `create-failed`.
async fn create_worker(
    app: Arc<App>,
    mut spec: ServerlessSpec,
    objects: Vec<(String, String)>,
    mut files: Vec<PathBuf>,
    seed_dir: PathBuf,
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
    let result = async {
        if !objects.is_empty() {
            files.extend(
                crate::restore::fetch_seed_objects(&app, &objects, &seed_dir.join("s3")).await?,
            );
        }
        // As many shards as the backup had objects (a multi-shard backup restores into a multi-shard cache).
        spec.shards = u32::try_from(files.len()).unwrap_or(1).clamp(1, 16);
        start_cache(&spec, &node_dir, &redis_server, &files).await
    }
    .await;
    let _ = std::fs::remove_dir_all(&seed_dir);
    let remaining = Duration::from_secs_f64(min_seconds.max(0.0)).saturating_sub(started.elapsed());
    tokio::time::sleep(remaining).await;
    let mut st = app.lock();
    let Some(cache) = st.serverless.get_mut(&spec.id) else {
        return;
    };
    match result {
        Ok(Started {
            shards,
            processes,
            version,
        }) => {
            cache.shards = shards;
            cache.full_engine_version = version;
            cache.spec.shards = spec.shards;
            cache.status = "available".into();
            app.processes().insert(process_key(&spec.id), processes);
            st.log(
                "ServerlessCacheAvailable",
                json!({ "serverlessCacheName": spec.id, "shards": spec.shards }),
            );
        }
        Err(e) => {
            cache.status = "create-failed".into();
            st.log(
                "ServerlessCacheCreateFailed",
                json!({ "serverlessCacheName": spec.id, "error": e }),
            );
        }
    }
}

/// The key of a serverless cache's processes in [`App::processes`] (apart from replication group ids).
pub fn process_key(name: &str) -> String {
    format!("serverless/{name}")
}

/// `DeleteServerlessCache` (API Reference): answers the cache `deleting`; with `FinalSnapshotName`, a snapshot is
/// taken first (`creating`, then `available`); then its processes are stopped and it is gone. Refusals:
/// `ServerlessCacheNotFoundFault` (404), `InvalidServerlessCacheStateFault` (not `available` or `create-failed`),
/// `ServerlessCacheSnapshotAlreadyExistsFault` (the final snapshot's name is taken).
pub fn delete_serverless_cache(app: &Arc<App>, p: &Params, rid: &str) -> Result<String, ApiError> {
    let name = required(p, "ServerlessCacheName")?.to_ascii_lowercase();
    let final_snapshot = param(p, "FinalSnapshotName").map(str::to_ascii_lowercase);
    let mut st = app.lock();
    let cache = st
        .serverless
        .get(&name)
        .ok_or_else(|| cache_not_found(&name))?;
    let status = st.serverless_status(cache);
    if status != "available" && status != "create-failed" {
        return Err(ApiError::new(
            "InvalidServerlessCacheStateFault",
            format!(
                "Serverless cache {name} is not in available or create-failed state ({status})."
            ),
        ));
    }
    if st
        .serverless_snapshots
        .values()
        .any(|s| s.cache == name && (s.status == "creating" || s.status == "exporting"))
    {
        return Err(ApiError::new(
            "InvalidServerlessCacheStateFault",
            format!("Serverless cache {name} has a snapshot in progress."),
        ));
    }
    if let Some(f) = &final_snapshot
        && st.serverless_snapshots.contains_key(f)
    {
        return Err(ApiError::new(
            "ServerlessCacheSnapshotAlreadyExistsFault",
            format!("Serverless cache snapshot {f} already exists."),
        ));
    }
    let final_record = final_snapshot
        .as_ref()
        .map(|f| new_snapshot(f, cache, None, Vec::new(), OffsetDateTime::now_utc()));
    let dirs: Vec<PathBuf> = cache
        .shards
        .iter()
        .flat_map(|s| &s.nodes)
        .map(|n| n.dir.clone())
        .collect();
    let Some(cache) = st.serverless.get_mut(&name) else {
        return Err(cache_not_found(&name));
    };
    cache.status = "deleting".into();
    let described = cache.clone();
    if let Some(s) = final_record {
        st.serverless_snapshots.insert(s.name.clone(), s);
    }
    st.log(
        "DeleteServerlessCache",
        json!({ "serverlessCacheName": name, "finalSnapshotName": final_snapshot }),
    );
    let body = xml::response("DeleteServerlessCache", rid, |x| {
        write_cache(x, &st, &described, "ServerlessCache")
    });
    let min = st.settings.snapshot_min_seconds;
    drop(st);
    let app = app.clone();
    tokio::spawn(async move {
        if let Some(f) = final_snapshot {
            take_snapshot(app.clone(), f, false, min).await;
        }
        let processes = app.processes().remove(&process_key(&name));
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
        st.serverless.remove(&name);
        st.log(
            "ServerlessCacheDeleted",
            json!({ "serverlessCacheName": name }),
        );
    });
    Ok(body)
}

// -- processes -------------------------------------------------------------------------------------------------------

/// A started cache.
#[derive(Debug)]
pub struct Started {
    /// One shard per primary.
    pub shards: Vec<Shard>,
    /// Its processes (dropping one stops it).
    pub processes: Vec<NodeProcess>,
    /// `FullEngineVersion`.
    pub version: Option<String>,
}

/// Starts the processes of a serverless cache: none for Memcached; one redis-server for one shard (seeded directly
/// from the only RDB, if one); a Redis Cluster of `spec.shards` primaries with the slots split evenly otherwise, into
/// which each RDB's keys are copied to the shard owning their slot ([`load_rdb`]).
///
/// # Errors
/// A process that does not start, an RDB redis-server refuses, a key found in two RDBs.
pub async fn start_cache(
    spec: &ServerlessSpec,
    node_dir: &Path,
    redis_server: &str,
    rdbs: &[PathBuf],
) -> Result<Started, String> {
    if spec.engine == "memcached" {
        return Ok(Started {
            shards: Vec::new(),
            processes: Vec::new(),
            version: Some(MEMCACHED_VERSION.into()),
        });
    }
    let dir = node_dir.join("serverless");
    let group = GroupSpec {
        id: spec.id.clone(),
        engine: spec.engine.clone(),
        cluster_mode: spec.shards > 1,
        shards: spec.shards,
        replicas_per_shard: 0,
        data_tiering: false,
        tags: Default::default(),
        snapshot_window: None,
        snapshot_retention_limit: 0,
        notification_topic_arn: None,
        parameter_group: None,
        cache_subnet_group: None,
    };
    let direct = spec.shards == 1 && rdbs.len() == 1;
    let seed = Seed {
        rdbs: if direct { rdbs.to_vec() } else { Vec::new() },
        ..Seed::default()
    };
    let (group, processes) = groups::start_group(&group, &dir, redis_server, &seed).await?;
    if !direct {
        let targets: Vec<((u16, u16), u16)> = group
            .shards
            .iter()
            .filter_map(|s| {
                let port = s.nodes.first()?.port?;
                Some((s.slots.unwrap_or((0, (SLOTS - 1) as u16)), port))
            })
            .collect();
        for (i, rdb) in rdbs.iter().enumerate() {
            let work = dir.join(format!("{}-load-{:04}", spec.id, i + 1));
            let loaded = load_rdb(rdb, &work, redis_server, &targets).await;
            let _ = std::fs::remove_dir_all(&work);
            loaded.map_err(|e| format!("RDB {} of {}: {e}", i + 1, rdbs.len()))?;
        }
    }
    let version = group
        .shards
        .first()
        .and_then(|s| s.nodes.first())
        .map(|n| n.engine_version.clone());
    Ok(Started {
        shards: group.shards,
        processes,
        version,
    })
}

/// Loads `rdb` into a temporary redis-server in `work` and copies every key of its database 0 (DUMP, PTTL, RESTORE)
/// to the target owning the key's slot (`targets`: slot range and port of each primary).
async fn load_rdb(
    rdb: &Path,
    work: &Path,
    redis_server: &str,
    targets: &[((u16, u16), u16)],
) -> Result<(), String> {
    std::fs::create_dir_all(work)
        .and_then(|()| std::fs::copy(rdb, work.join("dump.rdb")).map(|_| ()))
        .map_err(|e| format!("stage {}: {e}", rdb.display()))?;
    let opts = NodeOptions {
        redis_server: redis_server.into(),
        cluster_enabled: false,
        replica_of: None,
    };
    let mut temp = NodeProcess::start(work, &opts).await?;
    let result = copy_keys(temp.port, targets).await;
    temp.stop().await;
    result
}

/// Copies every key of the node on `from` to its slot's target, 500 keys a round.
async fn copy_keys(from: u16, targets: &[((u16, u16), u16)]) -> Result<(), String> {
    let mut src = connect(from).await.map_err(|e| e.to_string())?;
    let mut conns = Vec::new();
    for (_, port) in targets {
        conns.push(connect(*port).await.map_err(|e| e.to_string())?);
    }
    let mut cursor: u64 = 0;
    loop {
        let (next, keys): (u64, Vec<Vec<u8>>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("COUNT")
            .arg(500)
            .query_async(&mut src)
            .await
            .map_err(|e| e.to_string())?;
        if !keys.is_empty() {
            let mut read = redis::pipe();
            for k in &keys {
                read.cmd("DUMP").arg(k).cmd("PTTL").arg(k);
            }
            let values: Vec<redis::Value> = read
                .query_async(&mut src)
                .await
                .map_err(|e| e.to_string())?;
            let mut writes: Vec<(redis::Pipeline, usize)> =
                targets.iter().map(|_| (redis::pipe(), 0)).collect();
            for (k, pair) in keys.iter().zip(values.chunks(2)) {
                let payload: Option<Vec<u8>> =
                    redis::from_redis_value(pair[0].clone()).map_err(|e| e.to_string())?;
                let ttl: i64 =
                    redis::from_redis_value(pair[1].clone()).map_err(|e| e.to_string())?;
                // Gone (expired) between SCAN and DUMP.
                let Some(payload) = payload else { continue };
                let slot = key_slot(k);
                let t = targets
                    .iter()
                    .position(|((a, b), _)| (*a..=*b).contains(&slot))
                    .ok_or_else(|| format!("no shard owns slot {slot}"))?;
                writes[t]
                    .0
                    .cmd("RESTORE")
                    .arg(k)
                    .arg(ttl.max(0))
                    .arg(payload)
                    .ignore();
                writes[t].1 += 1;
            }
            // A pipeline with no command is an error to the client: skip the shards this round gave nothing.
            for ((w, _), c) in writes
                .iter()
                .zip(conns.iter_mut())
                .filter(|((_, n), _)| *n > 0)
            {
                let () = w.query_async(c).await.map_err(|e| {
                    if e.to_string().contains("BUSYKEY") {
                        format!("a key is in two RDB files: {e}")
                    } else {
                        e.to_string()
                    }
                })?;
            }
        }
        if next == 0 {
            return Ok(());
        }
        cursor = next;
    }
}

/// Starts a serverless cache of the topology (its processes are the caller's to keep).
///
/// # Errors
/// As [`start_cache`].
pub async fn start_from_topology(
    spec: &ServerlessSpec,
    node_dir: &Path,
    redis_server: &str,
) -> Result<(ServerlessCache, Vec<NodeProcess>), String> {
    let started = start_cache(spec, node_dir, redis_server, &[]).await?;
    Ok((
        ServerlessCache {
            spec: spec.clone(),
            description: format!("emulated {} serverless cache", spec.engine),
            shards: started.shards,
            created: OffsetDateTime::now_utc(),
            status: spec.status.clone().unwrap_or_else(|| "available".into()),
            tags: spec
                .tags
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            full_engine_version: started.version,
            usage_limits: BTreeMap::new(),
        },
        started.processes,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_follow_the_cluster_specification() {
        // `CLUSTER KEYSLOT foo` is 12182; a hash tag hashes only what is inside the first braces.
        assert_eq!(key_slot(b"foo"), 12182);
        assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"user1000"));
        assert_eq!(key_slot(b"foo{}{bar}"), key_slot(b"foo{}{bar}"));
        assert_ne!(key_slot(b"foo{}{bar}"), key_slot(b"bar"));
    }

    #[test]
    fn export_keys_number_shards_and_refuse_a_template_that_cannot() {
        assert_eq!(
            export_keys(DEFAULT_EXPORT_KEY, "s1", 3).unwrap(),
            vec!["s1-0001.rdb", "s1-0002.rdb", "s1-0003.rdb"]
        );
        assert_eq!(
            export_keys("{snapshot}/backup.rdb", "s1", 1).unwrap(),
            vec!["s1/backup.rdb"]
        );
        let err = export_keys("{snapshot}.rdb", "s1", 3).unwrap_err();
        assert!(err.contains("{shard}") && err.contains("3-shard"), "{err}");
        assert!(check_export_key_template(DEFAULT_EXPORT_KEY).is_ok());
        assert!(check_export_key_template("{snapshot}/backup.rdb").is_ok());
        assert!(check_export_key_template("backup-{shard}.rdb").is_err());
        assert!(check_export_key_template("{snapshot}-{node}.rdb").is_err());
        assert!(check_export_key_template("{snapshot}").is_ok());
        assert!(check_export_key_template("{snapshot}/{oops").is_err());
    }
}
