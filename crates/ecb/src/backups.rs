//! `ecb backups` and `ecb show`: the verified backups, read from their manifests in the bucket (the contract
//! between backup and everything after it, docs/design.md §4), with the newest restore or drill report next to
//! each (`<exportName>.restore-<execution>.json`) and when retention will remove it.
//!
//! S3: `ListObjectsV2` (prefix `ecb-`, paginated) and `GetObject` (Amazon S3 API Reference).

use std::collections::BTreeMap;

use backup_core::backup::manifest::Manifest;
use backup_core::resources::StoredObject;
use backup_core::retention::facts::ManifestFacts;
use backup_core::retention::plan::{RetentionRequest, plan};
use futures_util::{StreamExt, TryStreamExt};
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;

use crate::app::App;
use crate::cli::{BackupsArgs, ShowArgs};
use crate::error::{CliError, CliResult};
use crate::progress::bytes;
use crate::retention::{self, Policy};
use crate::table;

/// Objects read at once.
const READS_IN_FLIGHT: usize = 16;

/// One backup as the table and `--json` give it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupRow {
    /// `s3://bucket/<export>.manifest.json`.
    pub manifest: String,
    /// The export name.
    pub export_name: String,
    /// The target (replication group or node).
    pub target: String,
    /// When the data was taken (`Manifest::data_time`).
    #[serde(with = "time::serde::rfc3339")]
    pub data_time: OffsetDateTime,
    /// When every object was verified.
    #[serde(with = "time::serde::rfc3339")]
    pub verified_at: OffsetDateTime,
    /// Shard objects.
    pub shards: u64,
    /// Keys over all shards.
    pub keys: u64,
    /// Bytes over all shards.
    pub size_bytes: u64,
    /// The newest restore or drill of it: kind, verdict, RTO.
    pub last_drill: Option<DrillRow>,
    /// When retention removes it ([`retention_of`]).
    pub retention: String,
}

/// A restore or drill report's gist.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DrillRow {
    /// `drill` or `restore`.
    pub kind: String,
    /// `verified` or `mismatch`.
    pub verdict: String,
    /// The measured recovery time, seconds.
    pub rto_seconds: Option<u64>,
    /// The report's key.
    pub report: String,
}

/// When retention removes each backup, by the retention function's own plan
/// ([`backup_core::retention::plan::plan`]: per target kind, id and creation time, the newest always kept) under
/// `policy` at `now`, keyed by export name: `next retention run` for a set the plan deletes now; `kept (newest N)`
/// for one of the `keepLast` newest; else `after <data time + keepDays>` (the earliest: it goes then if `keepLast`
/// newer backups exist by then). Without a policy, nothing (the bucket's lifecycle rule applies).
pub fn retention_of(
    policy: Option<(&Policy, &RetentionRequest)>,
    listing: &[StoredObject],
    manifests: &BTreeMap<String, ManifestFacts>,
    now: OffsetDateTime,
) -> BTreeMap<String, String> {
    let Some((policy, request)) = policy else {
        return BTreeMap::new();
    };
    let dry = if policy.schedule_dry_run == Some(true) {
        " (schedule is a dry run)"
    } else {
        ""
    };
    let data_time: BTreeMap<&str, OffsetDateTime> = manifests
        .values()
        .map(|m| (m.export_name.as_str(), m.data_time))
        .collect();
    let mut out = BTreeMap::new();
    for target in plan(listing, manifests, request, now).targets {
        for name in target.deleted {
            out.insert(name, format!("next retention run{dry}"));
        }
        for (rank, name) in target.kept.into_iter().enumerate() {
            let text = if rank < request.keep_last as usize {
                format!("kept (newest {})", request.keep_last)
            } else {
                data_time
                    .get(name.as_str())
                    .and_then(|t| t.checked_add(time::Duration::days(i64::from(request.keep_days))))
                    .map_or_else(
                        || "kept".to_string(),
                        |until| format!("after {}{dry}", table::time(until)),
                    )
            };
            out.insert(name, text);
        }
    }
    out
}

/// Every object under `prefix` in `bucket`: key, size and last-modified time.
///
/// # Errors
/// `NotFound` (`NoSuchBucket`), `Aws`.
pub async fn list_keys(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
) -> CliResult<Vec<StoredObject>> {
    let mut out = Vec::new();
    let mut pages = s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            CliError::aws(
                &format!("ListObjectsV2 s3://{bucket}/{prefix}"),
                e,
                &["NoSuchBucket"],
            )
        })?;
        for o in page.contents() {
            if let Some(k) = o.key() {
                out.push(StoredObject {
                    key: k.to_string(),
                    size_bytes: o.size().and_then(|n| u64::try_from(n).ok()).unwrap_or(0),
                    last_modified: o.last_modified().map(crate::sfn::instant),
                });
            }
        }
    }
    Ok(out)
}

/// The bytes of `s3://bucket/key`.
///
/// # Errors
/// `NotFound` (`NoSuchKey`, `NoSuchBucket`), `Aws`.
pub async fn get(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> CliResult<Vec<u8>> {
    let out = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| {
            CliError::aws(
                &format!("GetObject s3://{bucket}/{key}"),
                e,
                &["NoSuchKey", "NoSuchBucket"],
            )
        })?;
    let body = out.body.collect().await.map_err(|e| {
        CliError::Aws(format!(
            "GetObject s3://{bucket}/{key}: reading the body: {e}"
        ))
    })?;
    Ok(body.into_bytes().to_vec())
}

/// `ecb backups`.
///
/// # Errors
/// `Usage` without a bucket; `NotFound`, `Aws`.
pub async fn list(app: &App, args: &BackupsArgs) -> CliResult<()> {
    let bucket = app.deployment.bucket()?.to_string();
    let s3 = app.s3();
    let keys = list_keys(&s3, &bucket, &backup_core::retention::run::listing_prefix()).await?;
    let manifests: Vec<&str> = keys
        .iter()
        .map(|o| o.key.as_str())
        .filter(|k| k.ends_with(".manifest.json"))
        .collect();
    let read: Vec<Option<(String, Result<Manifest, String>)>> =
        futures_util::stream::iter(manifests.into_iter().map(|key| {
            let (s3, bucket) = (s3.clone(), bucket.clone());
            async move {
                // A manifest deleted since the listing (retention running) is no backup any more.
                match get(&s3, &bucket, key).await {
                    Ok(bytes) => Ok(Some((key.to_string(), Manifest::from_json(&bytes)))),
                    Err(CliError::NotFound(_)) => Ok(None),
                    Err(e) => Err(e),
                }
            }
        }))
        .buffer_unordered(READS_IN_FLIGHT)
        .try_collect()
        .await?;
    let mut unreadable = Vec::new();
    let mut by_target: BTreeMap<String, Vec<(String, Manifest)>> = BTreeMap::new();
    let mut facts = BTreeMap::new();
    for (key, parsed) in read.into_iter().flatten() {
        match parsed {
            Ok(m) => {
                facts.insert(key.clone(), ManifestFacts::of(&m));
                let target = m
                    .target_identity()
                    .map_or_else(|| "?".to_string(), |t| t.id);
                if args
                    .target
                    .as_deref()
                    .is_none_or(|t| t.eq_ignore_ascii_case(&target))
                {
                    by_target.entry(target).or_default().push((key, m));
                }
            }
            Err(e) => unreadable.push(format!("{key}: {e}")),
        }
    }
    let policy = retention::policy(app, args.keep_last, args.keep_days).await?;
    let request = policy
        .as_ref()
        .map(|p| p.request(app.deployment.bucket.as_deref()))
        .transpose()?;
    let now = OffsetDateTime::now_utc();
    let retention = retention_of(policy.as_ref().zip(request.as_ref()), &keys, &facts, now);
    let mut rows = Vec::new();
    for (target, sets) in by_target {
        for (key, m) in sets {
            let last_drill = last_report(&s3, &bucket, &keys, &m.export_name).await?;
            rows.push(BackupRow {
                manifest: format!("s3://{bucket}/{key}"),
                export_name: m.export_name.clone(),
                target: target.clone(),
                data_time: m.data_time(),
                verified_at: m.verified_at,
                shards: m.objects.len() as u64,
                keys: m.totals.keys,
                size_bytes: m.totals.bytes,
                last_drill,
                retention: retention
                    .get(&m.export_name)
                    .cloned()
                    .unwrap_or_else(|| "-".into()),
            });
        }
    }
    rows.sort_by_key(|r| std::cmp::Reverse(r.data_time));
    if app.global.json {
        table::print_json(
            &serde_json::json!({"bucket": bucket, "backups": rows, "unreadableManifests": unreadable}),
        );
        return Ok(());
    }
    if rows.is_empty() {
        crate::table::out(format!(
            "no verified backups in s3://{bucket}{}",
            args.target
                .as_deref()
                .map(|t| format!(" for {t}"))
                .unwrap_or_default()
        ));
    } else {
        let mut t = table::new(&[
            "data time",
            "target",
            "shards",
            "keys",
            "size",
            "verified",
            "last drill",
            "retention",
            "backup",
        ]);
        for r in &rows {
            let drill = r.last_drill.as_ref().map_or_else(
                || "-".to_string(),
                |d| {
                    format!(
                        "{} {}{}",
                        d.kind,
                        d.verdict,
                        d.rto_seconds
                            .map(|s| format!(", RTO {s} s"))
                            .unwrap_or_default()
                    )
                },
            );
            t.add_row(vec![
                table::time(r.data_time),
                r.target.clone(),
                r.shards.to_string(),
                r.keys.to_string(),
                bytes(r.size_bytes),
                table::time(r.verified_at),
                drill,
                r.retention.clone(),
                r.export_name.clone(),
            ]);
        }
        crate::table::out(&t);
    }
    for u in &unreadable {
        eprintln!("unreadable manifest (its set is kept whole by retention): {u}");
    }
    Ok(())
}

/// The newest restore or drill report of `export_name` among `keys`.
async fn last_report(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    keys: &[StoredObject],
    export_name: &str,
) -> CliResult<Option<DrillRow>> {
    let prefix = format!("{export_name}.restore-");
    let newest = keys
        .iter()
        .filter(|o| o.key.starts_with(&prefix) && o.key.ends_with(".json"))
        .max_by_key(|o| o.last_modified);
    let Some(StoredObject { key, .. }) = newest else {
        return Ok(None);
    };
    let report: Value = serde_json::from_slice(&get(s3, bucket, key).await?).unwrap_or(Value::Null);
    let text = |k: &str| {
        report
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string()
    };
    Ok(Some(DrillRow {
        kind: text("kind"),
        verdict: text("verdict"),
        rto_seconds: report.get("rtoSeconds").and_then(Value::as_u64),
        report: key.clone(),
    }))
}

/// `ecb show`: one manifest, readable (or as stored, with `--json`).
///
/// # Errors
/// `Usage` for a bare name without a bucket; `NotFound` for a missing manifest; `Failed` for one that does not
/// parse; `Aws`.
pub async fn show(app: &App, args: &ShowArgs) -> CliResult<()> {
    let uri = crate::execution::manifest_uri(&args.backup, app.deployment.bucket.as_deref())?;
    let (bucket, key) = backup_core::restore::input::parse_s3_uri(&uri)
        .map_err(|e| CliError::Usage(format!("BACKUP {uri}: {e}")))?;
    let raw = get(&app.s3(), &bucket, &key).await?;
    let m = Manifest::from_json(&raw)
        .map_err(|e| CliError::Failed(format!("{uri}: not a readable manifest: {e}")))?;
    if app.global.json {
        let doc: Value = serde_json::from_slice(&raw).unwrap_or(Value::Null);
        table::print_json(&doc);
        return Ok(());
    }
    crate::table::out(describe(&uri, &m));
    Ok(())
}

/// A manifest for a person: what, when, where from, totals, then a table of its shard objects.
pub fn describe(uri: &str, m: &Manifest) -> String {
    let source = m.source.as_ref();
    let target = m
        .target_identity()
        .map_or_else(|| "?".into(), |t| format!("{} {}", t.kind, t.id));
    let mut out = format!(
        "backup      {}\nmanifest    {uri} (version {})\ntarget      {target}\ndata time   {}\nverified    {}\n",
        m.export_name,
        m.manifest_version,
        table::time(m.data_time()),
        table::time(m.verified_at),
    );
    if let Some(s) = source {
        out.push_str(&format!(
            "source      {} {}, cluster mode {}, {} shard(s), node type {}\n",
            s.engine.as_deref().unwrap_or("?"),
            s.engine_version.as_deref().unwrap_or("?"),
            serde_json::to_value(s.cluster_mode)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            s.shard_count,
            s.settings.node_type.as_deref().unwrap_or("?")
        ));
    }
    if let Some(name) = &m.snapshot_name {
        out.push_str(&format!("snapshot    {name}\n"));
    }
    if let Some(exec) = &m.execution.id {
        out.push_str(&format!("execution   {exec}\n"));
    }
    out.push_str(&format!(
        "totals      {} object(s), {} keys ({} with expiry), {}\n",
        m.totals.objects,
        m.totals.keys,
        m.totals.keys_with_expiry,
        bytes(m.totals.bytes)
    ));
    let mut t = table::new(&["object", "shard", "slots", "keys", "size", "RDB", "sha256"]);
    for o in &m.objects {
        t.add_row(vec![
            o.key.clone(),
            o.node_group_id.clone().unwrap_or_else(|| "-".into()),
            o.slots.clone().unwrap_or_else(|| "-".into()),
            o.rdb.keys.to_string(),
            bytes(o.size_bytes),
            format!("{} v{}", o.rdb.magic, o.rdb.version),
            o.sha256.clone(),
        ]);
    }
    out.push_str(&t.to_string());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    use serde_json::json;

    fn manifest(export: &str, data_time: OffsetDateTime) -> (String, ManifestFacts) {
        let facts = ManifestFacts {
            export_name: export.into(),
            snapshot_name: Some(export.into()),
            target: Some(backup_core::model::TargetIdentity {
                kind: "replication-group",
                id: "orders".into(),
                created_at: String::new(),
            }),
            data_time,
            object_keys: vec![format!("{export}-0001.rdb")],
        };
        (format!("{export}.manifest.json"), facts)
    }

    #[test]
    fn retention_follows_the_functions_plan() {
        let now = datetime!(2026-12-04 00:00 UTC);
        let manifests: BTreeMap<String, ManifestFacts> = [
            manifest("ecb-orders-3", datetime!(2026-12-03 00:00 UTC)),
            manifest("ecb-orders-2", datetime!(2026-11-30 00:00 UTC)),
            manifest("ecb-orders-1", datetime!(2026-11-01 00:00 UTC)),
        ]
        .into_iter()
        .collect();
        let listing: Vec<StoredObject> = manifests
            .iter()
            .flat_map(|(k, m)| [k.clone(), m.object_keys[0].clone()])
            .map(|key| StoredObject {
                key,
                size_bytes: 1,
                last_modified: Some(now),
            })
            .collect();
        let policy = |keep_last: u32, keep_days: u32, dry: bool| Policy {
            keep_last,
            keep_days,
            schedule_dry_run: Some(dry),
            input: json!({"keepLast": keep_last, "keepDays": keep_days})
                .as_object()
                .unwrap()
                .clone(),
        };
        let p = policy(1, 7, false);
        let request = p.request(Some("my-backups")).unwrap();
        let r = retention_of(Some((&p, &request)), &listing, &manifests, now);
        assert_eq!(r["ecb-orders-3"], "kept (newest 1)");
        assert_eq!(r["ecb-orders-2"], "after 2026-12-07T00:00:00Z");
        assert_eq!(r["ecb-orders-1"], "next retention run");
        let dry = policy(1, 0, true);
        let request = dry.request(Some("my-backups")).unwrap();
        let r = retention_of(Some((&dry, &request)), &listing, &manifests, now);
        assert_eq!(
            r["ecb-orders-2"],
            "next retention run (schedule is a dry run)"
        );
        assert!(retention_of(None, &listing, &manifests, now).is_empty());
    }
}
