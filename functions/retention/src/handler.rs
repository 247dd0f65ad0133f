//! `retention`: reads the manifests and lists the bucket and the snapshots, asks the retention plan
//! ([`backup_core::retention::plan`]) and the sweeper ([`backup_core::retention::sweep`]) what goes, deletes it unless
//! dry-run, and writes the report.

use backup_core::backup::manifest::Manifest;
use backup_core::ports::{ExportStore, Groups, Inventory, ObjectDeleter, ObjectReader, Snapshots};
use backup_core::resources::StoredObject;
use backup_core::retention::plan::{MANIFEST_READS_IN_FLIGHT, RetentionReport};
use backup_core::retention::run::{self, Books, ManifestsRead};
use backup_core::retention::sweep::Candidate;
use backup_core::{BackupError, Clock, Deps};
use lambda_runtime::LambdaEvent;

/// Handles one retention run: backup sets first, then the sweep of kept snapshots ([`backup_core::retention::sweep`]) against the
/// sets that stay.
///
/// # Errors
/// `InvalidInput` (a field out of its range, an unknown field, no bucket), `ExportRejected` (no such bucket),
/// `Throttled`, `AwsError` (also when a deletion or the snapshot listing failed: after the report is written,
/// naming what).
#[tracing::instrument(skip_all)]
pub async fn function_handler<
    S: Snapshots + Inventory + Groups,
    E: ExportStore + ObjectReader + ObjectDeleter,
    C: Clock,
>(
    event: LambdaEvent<serde_json::Value>,
    deps: &Deps<S, E, (), C>,
) -> Result<RetentionReport, BackupError> {
    let (request, bucket) = run::request_of(event.payload, &deps.config)?;
    let now = deps.clock.now();
    let listing = deps.exports.list(&bucket, &run::listing_prefix()).await?;
    let read = read_manifests(&deps.exports, &bucket, &listing).await?;
    let mut books = Books::open(listing, read, &request, &bucket, now);
    for keys in books.doomed() {
        for (i, key) in keys.iter().enumerate() {
            let outcome = match request.dry_run {
                true => None,
                false => Some(deps.exports.delete_object(&bucket, key).await),
            };
            if !books.tally(i, key, outcome) {
                break;
            }
        }
    }
    // The sweep judges kept snapshots against the sets that stay.
    books.sweep(
        sweep_candidates(&deps.snapshots).await,
        request.snapshot_min_age_hours,
    );
    for swept in books.swept() {
        let outcome = match request.dry_run {
            true => None,
            false => Some(deps.snapshots.delete_snapshot(&swept.name).await),
        };
        books.snapshot_deleted(&swept, outcome);
    }
    let (report, body) = books.finish()?;
    deps.exports
        .put_json(&bucket, &report.report_key, body)
        .await?;
    report.into_result()
}

/// Reads every manifest of `listing`, [`MANIFEST_READS_IN_FLIGHT`] at a time, keeping only its facts
/// ([`ManifestsRead`]). A manifest deleted since the listing is not a set any more.
///
/// # Errors
/// The first failed read (`Throttled`, `AwsError`, …; the SDK has retried it): the run then deletes nothing, rather
/// than judge a target without one of its backups.
async fn read_manifests<E: ObjectReader>(
    store: &E,
    bucket: &str,
    listing: &[StoredObject],
) -> Result<ManifestsRead, BackupError> {
    use futures_util::{StreamExt, TryStreamExt};
    let reads = futures_util::stream::iter(run::manifest_keys(listing).map(|key| async move {
        let bytes = store.get_object(bucket, key).await?;
        Ok::<_, BackupError>((key, bytes.map(|b| Manifest::from_json(&b))))
    }))
    .buffer_unordered(MANIFEST_READS_IN_FLIGHT);
    let mut read = ManifestsRead::default();
    let mut reads = std::pin::pin!(reads);
    while let Some((key, parsed)) = reads.try_next().await? {
        read.take(key, parsed);
    }
    Ok(read.finish())
}

/// Our snapshots (name `ecb-…`), each with its tags; a snapshot whose tags cannot be read counts as not ours.
async fn sweep_candidates<S: Inventory + Groups>(
    elasticache: &S,
) -> Result<Vec<Candidate>, BackupError> {
    let mut out = Vec::new();
    for info in elasticache.our_snapshots().await? {
        let tags = match &info.arn {
            Some(arn) => match elasticache.tags(arn).await {
                Ok(tags) => Some(tags),
                Err(e) => {
                    tracing::warn!(snapshot = %info.name, error = %e, "tags unreadable: not swept");
                    None
                }
            },
            None => None,
        };
        out.push(Candidate { info, tags });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    use backup_core::Config;
    use backup_core::model::Timestamp;
    use backup_core::naming::manifest_key;
    use backup_core::resources::SnapshotInfo;
    use backup_core::retention::plan::*;
    use backup_core::testing::{FakeExportStore, FakeSnapshots, FixedClock};
    use lambda_runtime::Context;
    use time::macros::datetime;

    const BUCKET: &str = "acme-cache-backups";
    const NOW: Timestamp = datetime!(2026-12-01 06:00 UTC);

    fn deps(store: FakeExportStore) -> Deps<FakeSnapshots, FakeExportStore, (), FixedClock> {
        Deps {
            snapshots: FakeSnapshots::default(),
            exports: store,
            verifier: (),
            clock: FixedClock::at(NOW),
            probe: (),
            secrets: (),
            config: Config {
                default_bucket: Some(BUCKET.into()),
                ..Config::default()
            },
        }
    }

    /// A verified set of `shards` objects of `group`, verified `days_ago` days before NOW, with one restore report.
    fn backup(
        store: &FakeExportStore,
        group: &str,
        hash: &str,
        shards: u32,
        days_ago: i64,
    ) -> String {
        let export = format!("ecb-{group}-{hash}");
        let at = NOW - time::Duration::days(days_ago);
        let objects: Vec<_> = (1..=shards)
            .map(|i| {
                let key = format!("{export}-{i:04}.rdb");
                store.put(BUCKET, &key, 1000, at);
                serde_json::json!({"key": key, "sizeBytes": 1000, "sha256": "00", "rdb": {"magic": "REDIS", "version": 11, "keys": 1, "keysWithExpiry": 0}})
            })
            .collect();
        let manifest = serde_json::json!({
            "manifestVersion": 3, "tool": "elasticache-backup", "exportName": export, "bucket": BUCKET,
            "snapshotName": export,
            "source": {"replicationGroupId": group, "role": "replica", "clusterMode": "disabled", "shardCount": shards},
            "verifiedAt": at.format(&time::format_description::well_known::Rfc3339).unwrap(),
            "totals": {"objects": shards, "keys": shards, "keysWithExpiry": 0, "bytes": 1000 * shards},
            "objects": objects,
        });
        store.put_bytes(
            BUCKET,
            &manifest_key(&export),
            serde_json::to_vec(&manifest).unwrap(),
            at,
        );
        store.put(BUCKET, &format!("{export}.restore-drill-1.json"), 300, at);
        export
    }

    async fn keys(store: &FakeExportStore) -> BTreeSet<String> {
        store
            .list(BUCKET, "ecb-")
            .await
            .unwrap()
            .into_iter()
            .map(|o| o.key)
            .collect()
    }

    /// The fake store, with DeleteObject of one key refused.
    struct RefusingOne(FakeExportStore, String);

    #[async_trait::async_trait]
    impl ExportStore for RefusingOne {
        async fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<StoredObject>, BackupError> {
            self.0.list(bucket, prefix).await
        }
        async fn put_json(&self, bucket: &str, key: &str, body: String) -> Result<(), BackupError> {
            self.0.put_json(bucket, key, body).await
        }
    }

    #[async_trait::async_trait]
    impl ObjectReader for RefusingOne {
        async fn get_object(
            &self,
            bucket: &str,
            key: &str,
        ) -> Result<Option<Vec<u8>>, BackupError> {
            self.0.get_object(bucket, key).await
        }
    }

    #[async_trait::async_trait]
    impl ObjectDeleter for RefusingOne {
        async fn delete_object(&self, bucket: &str, key: &str) -> Result<(), BackupError> {
            if key == self.1 {
                return Err(BackupError::AwsRejected {
                    message: format!("DeleteObject s3://{bucket}/{key}: AccessDenied"),
                    source: None,
                });
            }
            self.0.delete_object(bucket, key).await
        }
    }

    async fn run(
        store: &FakeExportStore,
        input: serde_json::Value,
    ) -> Result<RetentionReport, BackupError> {
        let d = deps(store.clone());
        function_handler(LambdaEvent::new(input, Context::default()), &d).await
    }

    #[tokio::test]
    async fn keep_last_leaves_the_newest_complete_sets_of_each_target_and_deletes_the_rest_whole() {
        let store = FakeExportStore::with_bucket(BUCKET);
        let orders: Vec<_> = (0..5)
            .map(|i| backup(&store, "orders", &format!("0000000{i}"), 1, 10 - i))
            .collect();
        let sessions: Vec<_> = (0..3)
            .map(|i| backup(&store, "sessions", &format!("1000000{i}"), 3, 9 - i))
            .collect();
        // Another target whose id starts like "orders-…": its objects must not be taken for orders' sets.
        let lookalike = backup(&store, "orders-00000000", "20000000", 1, 30);

        let dry = run(&store, serde_json::json!({"keepLast": 2}))
            .await
            .unwrap();
        assert!(dry.dry_run);
        assert_eq!(
            dry.objects_deleted,
            3 * 3 + 5,
            "3 old orders sets of 3 objects (manifest, shard, report), 1 sessions set of 5"
        );
        let before = keys(&store).await;
        assert!(
            before.contains(&manifest_key(&orders[0])),
            "a dry run deletes nothing"
        );

        let report = run(&store, serde_json::json!({"keepLast": 2, "dryRun": false}))
            .await
            .unwrap();
        let orders_report = report
            .targets
            .iter()
            .find(|t| t.target == "orders")
            .unwrap();
        assert_eq!(
            orders_report.kept,
            vec![orders[4].clone(), orders[3].clone()]
        );
        assert_eq!(
            orders_report.deleted,
            vec![orders[2].clone(), orders[1].clone(), orders[0].clone()]
        );
        let left = keys(&store).await;
        for export in orders[..3].iter().chain(&sessions[..1]) {
            let of_set = |k: &String| {
                export_of_shard(k) == Some(export.as_str())
                    || *k == manifest_key(export)
                    || k.starts_with(&format!("{export}.restore-"))
            };
            assert!(!left.iter().any(of_set), "{export} left: {left:?}");
        }
        for export in orders[3..].iter().chain(&sessions[1..]).chain([&lookalike]) {
            assert!(left.contains(&manifest_key(export)), "{export} was deleted");
            assert!(left.contains(&format!("{export}-0001.rdb")));
            assert!(left.contains(&format!("{export}.restore-drill-1.json")));
        }
        assert!(
            store.get(BUCKET, &report.report_key).is_some(),
            "the report is written"
        );
        assert!(report.report_key.starts_with(REPORT_PREFIX));
    }

    #[tokio::test]
    async fn keep_days_keeps_more_when_it_covers_more_and_the_newest_is_always_kept() {
        let store = FakeExportStore::with_bucket(BUCKET);
        let sets: Vec<_> = (0..4)
            .map(|i| backup(&store, "orders", &format!("0000000{i}"), 1, 40 - 10 * i))
            .collect();
        // Verified 40, 30, 20, 10 days ago. keepLast 1, keepDays 25: the two within 25 days.
        let report = run(&store, serde_json::json!({"keepLast": 1, "keepDays": 25}))
            .await
            .unwrap();
        assert_eq!(
            report.targets[0].kept,
            vec![sets[3].clone(), sets[2].clone()]
        );
        // A target no longer backed up keeps its newest backup whatever its age.
        let store = FakeExportStore::with_bucket(BUCKET);
        let old = backup(&store, "retired", "30000000", 1, 400);
        let report = run(
            &store,
            serde_json::json!({"keepLast": 1, "keepDays": 1, "dryRun": false}),
        )
        .await
        .unwrap();
        assert_eq!(report.targets[0].kept, vec![old]);
        assert_eq!(report.objects_deleted, 0);
    }

    #[tokio::test]
    async fn exports_without_a_manifest_go_only_after_the_grace_period() {
        let store = FakeExportStore::with_bucket(BUCKET);
        backup(&store, "orders", "00000001", 1, 1);
        store.put(
            BUCKET,
            "ecb-orders-dead0001-0001.rdb",
            500,
            NOW - time::Duration::hours(49),
        );
        store.put(
            BUCKET,
            "ecb-orders-dead0002-0001.rdb",
            500,
            NOW - time::Duration::hours(47),
        );
        store.put(
            BUCKET,
            "notes-0001.rdb",
            500,
            NOW - time::Duration::days(90),
        );
        let report = run(&store, serde_json::json!({"keepLast": 1, "dryRun": false}))
            .await
            .unwrap();
        assert_eq!(
            report.orphans_deleted,
            vec!["ecb-orders-dead0001-0001.rdb".to_string()]
        );
        assert_eq!(
            report.orphans_kept,
            vec!["ecb-orders-dead0002-0001.rdb".to_string()]
        );
        assert_eq!(report.bytes_deleted, 500);
        assert!(store.get(BUCKET, "ecb-orders-dead0001-0001.rdb").is_none());
    }

    #[tokio::test]
    async fn a_failed_manifest_deletion_keeps_the_whole_set_and_fails_the_run_after_the_report() {
        let store = FakeExportStore::with_bucket(BUCKET);
        let old = backup(&store, "orders", "00000001", 1, 5);
        let older = backup(&store, "orders", "00000000", 1, 6);
        backup(&store, "orders", "00000002", 1, 1);
        let d = Deps {
            snapshots: FakeSnapshots::default(),
            exports: RefusingOne(store.clone(), manifest_key(&old)),
            verifier: (),
            clock: FixedClock::at(NOW),
            probe: (),
            secrets: (),
            config: Config::default(),
        };
        let input = serde_json::json!({"bucket": BUCKET, "keepLast": 1, "dryRun": false});
        let err = function_handler(LambdaEvent::new(input, Context::default()), &d)
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "AwsError");
        assert!(err.to_string().contains(&manifest_key(&old)), "{err}");
        let left = keys(&store).await;
        // The set whose manifest could not be deleted is untouched; the other old set is gone.
        assert!(left.contains(&manifest_key(&old)) && left.contains(&format!("{old}-0001.rdb")));
        assert!(
            !left.contains(&manifest_key(&older)) && !left.contains(&format!("{older}-0001.rdb"))
        );
        let reports = store.list(BUCKET, REPORT_PREFIX).await.unwrap();
        assert!(reports.is_empty(), "put_json does not list in the fake");
        assert!(
            err.to_string().contains(REPORT_PREFIX),
            "the error names the report: {err}"
        );
    }

    #[tokio::test]
    async fn a_set_whose_manifest_cannot_be_read_is_kept_whole_whatever_its_age() {
        let store = FakeExportStore::with_bucket(BUCKET);
        let old = NOW - time::Duration::days(300);
        store.put_bytes(
            BUCKET,
            "ecb-orders-0bad0bad.manifest.json",
            b"{not json".to_vec(),
            old,
        );
        store.put(BUCKET, "ecb-orders-0bad0bad-0001.rdb", 1000, old);
        backup(&store, "orders", "00000001", 1, 1);
        let report = run(&store, serde_json::json!({"keepLast": 1, "dryRun": false}))
            .await
            .unwrap();
        assert_eq!(
            report.unreadable_manifests,
            vec!["ecb-orders-0bad0bad.manifest.json".to_string()]
        );
        assert!(report.orphans_deleted.is_empty(), "{report:?}");
        assert!(
            store
                .get(BUCKET, "ecb-orders-0bad0bad.manifest.json")
                .is_some()
        );
        assert!(keys(&store).await.contains("ecb-orders-0bad0bad-0001.rdb"));
    }

    #[tokio::test]
    async fn bad_input_is_refused_naming_the_field() {
        let store = FakeExportStore::with_bucket(BUCKET);
        for (input, field) in [
            (serde_json::json!({"keepLast": 0}), "keepLast"),
            (
                serde_json::json!({"keepLast": 3, "graceHours": 24}),
                "graceHours",
            ),
            (
                serde_json::json!({"keepLast": 3, "keepDays": 4000}),
                "keepDays",
            ),
            (
                serde_json::json!({"keepLast": 3, "keep": 1}),
                "unknown field `keep`",
            ),
            (serde_json::json!({}), "keepLast"),
            (
                serde_json::json!({"keepLast": 3, "snapshotMinAgeHours": 12}),
                "snapshotMinAgeHours",
            ),
        ] {
            let err = run(&store, input.clone()).await.unwrap_err();
            assert_eq!(err.error_type(), "InvalidInput", "{input}");
            assert!(err.to_string().contains(field), "{input}: {err}");
        }
    }

    /// A snapshot of `group` (`node`: a member node's), `status`, created `hours_ago`, tagged as ours or not.
    fn snapshot(
        fake: &FakeSnapshots,
        name: &str,
        group: &str,
        node: Option<&str>,
        status: &str,
        hours_ago: i64,
        ours: bool,
    ) {
        fake.insert_snapshot(SnapshotInfo {
            name: name.into(),
            status: status.into(),
            replication_group_id: Some(group.into()),
            cache_cluster_id: node.map(str::to_string),
            created: Some(NOW - time::Duration::hours(hours_ago)),
            arn: Some(format!(
                "arn:aws:elasticache:eu-west-1:123456789012:snapshot:{name}"
            )),
            ..Default::default()
        });
        if ours {
            fake.tag(
                name,
                &[(
                    backup_core::naming::SNAPSHOT_TAG,
                    "arn:aws:states:eu-west-1:123456789012:execution:elasticache-backup:x",
                )],
            );
        }
    }

    #[tokio::test]
    async fn the_sweeper_deletes_only_our_old_available_snapshots_that_a_later_verified_backup_replaces()
     {
        let store = FakeExportStore::with_bucket(BUCKET);
        let old_set = backup(&store, "orders", "00000001", 1, 5); // deleted by keepLast 1
        let newest = backup(&store, "orders", "00000002", 1, 1); // verified a day ago
        backup(&store, "sessions", "10000000", 3, 10);
        let d = deps(store.clone());
        let fake = &d.snapshots;
        snapshot(
            fake,
            "ecb-orders-aaaaaaaa",
            "orders",
            Some("orders-002"),
            "available",
            96,
            true,
        );
        snapshot(
            fake,
            "ecb-orders-bbbbbbbb",
            "orders",
            None,
            "available",
            96,
            false,
        );
        snapshot(
            fake,
            "ecb-orders-cccccccc",
            "orders",
            None,
            "available",
            48,
            true,
        );
        snapshot(
            fake,
            "ecb-sessions-dddddddd",
            "sessions",
            None,
            "available",
            96,
            true,
        );
        snapshot(
            fake,
            "ecb-orders-eeeeeeee",
            "orders",
            None,
            "creating",
            96,
            true,
        );
        // Kept on purpose by the set that stays; and by a set this run deletes (then it is just a kept snapshot).
        snapshot(fake, &newest, "orders", None, "available", 30, true);
        snapshot(fake, &old_set, "orders", None, "available", 123, true);
        snapshot(
            fake,
            "manual-orders",
            "orders",
            None,
            "available",
            500,
            true,
        );

        let input = serde_json::json!({"keepLast": 1, "snapshotMinAgeHours": 72});
        let dry = function_handler(LambdaEvent::new(input, Context::default()), &d)
            .await
            .unwrap();
        let deleted: Vec<_> = dry
            .snapshots
            .deleted
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        assert_eq!(deleted, [old_set.as_str(), "ecb-orders-aaaaaaaa"]);
        assert!(
            dry.snapshots
                .deleted
                .iter()
                .all(|s| s.target == "orders" && s.later_backup == newest)
        );
        let kept: BTreeMap<_, _> = dry
            .snapshots
            .kept
            .iter()
            .map(|k| (k.name.as_str(), k.reason.as_str()))
            .collect();
        assert_eq!(
            kept["ecb-orders-bbbbbbbb"],
            "not created by elasticache-backup (no elasticache-backup:execution tag)"
        );
        assert_eq!(kept["ecb-orders-cccccccc"], "younger than 72 h");
        assert!(
            kept["ecb-sessions-dddddddd"].starts_with(
                "no verified backup of replication-group sessions with data taken since"
            ),
            "{}",
            kept["ecb-sessions-dddddddd"]
        );
        assert_eq!(kept["ecb-orders-eeeeeeee"], "status creating");
        assert_eq!(
            kept[newest.as_str()],
            format!("kept on purpose by the verified backup {newest}")
        );
        assert!(
            !kept.contains_key("manual-orders"),
            "not named ecb-: not even listed"
        );
        assert!(
            fake.calls_of("DeleteSnapshot").is_empty(),
            "a dry run deletes nothing"
        );

        let input = serde_json::json!({"keepLast": 1, "snapshotMinAgeHours": 72, "dryRun": false});
        let report = function_handler(LambdaEvent::new(input, Context::default()), &d)
            .await
            .unwrap();
        assert_eq!(report.snapshots.deleted.len(), 2);
        assert_eq!(
            fake.calls_of("DeleteSnapshot"),
            [
                format!("DeleteSnapshot {old_set}"),
                "DeleteSnapshot ecb-orders-aaaaaaaa".to_string()
            ]
        );
    }

    #[tokio::test]
    async fn a_refused_snapshot_deletion_is_reported_kept_and_fails_the_run() {
        let store = FakeExportStore::with_bucket(BUCKET);
        backup(&store, "orders", "00000002", 1, 1);
        let d = deps(store.clone());
        snapshot(
            &d.snapshots,
            "ecb-orders-aaaaaaaa",
            "orders",
            None,
            "available",
            96,
            true,
        );
        d.snapshots.fail_next(
            "DeleteSnapshot",
            BackupError::ClusterBusy {
                message: "InvalidSnapshotState".into(),
                source: None,
            },
        );
        let input = serde_json::json!({"keepLast": 1, "dryRun": false});
        let err = function_handler(LambdaEvent::new(input, Context::default()), &d)
            .await
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("ecb-orders-aaaaaaaa: InvalidSnapshotState"),
            "{err}"
        );
        // Listing failures are reported too, and the sets are still handled.
        d.snapshots.fail_next(
            "DescribeSnapshots",
            BackupError::Throttled {
                message: "Rate exceeded".into(),
                source: None,
            },
        );
        let input = serde_json::json!({"keepLast": 1});
        let err = function_handler(LambdaEvent::new(input, Context::default()), &d)
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("DescribeSnapshots: Rate exceeded"),
            "{err}"
        );
    }

    /// A manifest of `group` whose data was taken `data_hours_ago` and verified `verified_hours_ago`, of the group
    /// created at `created` (None: not recorded).
    fn backup_at(
        store: &FakeExportStore,
        group: &str,
        hash: &str,
        data_hours_ago: i64,
        verified_hours_ago: i64,
        created: Option<&str>,
    ) -> String {
        let export = format!("ecb-{group}-{hash}");
        let rfc = |t: Timestamp| {
            t.format(&time::format_description::well_known::Rfc3339)
                .unwrap()
        };
        let data = NOW - time::Duration::hours(data_hours_ago);
        let verified = NOW - time::Duration::hours(verified_hours_ago);
        let key = format!("{export}-0001.rdb");
        store.put(BUCKET, &key, 1000, verified);
        let mut source = serde_json::json!({"replicationGroupId": group, "role": "replica", "clusterMode": "disabled", "shardCount": 1});
        if let Some(c) = created {
            source["createdAt"] = serde_json::json!(c);
        }
        let manifest = serde_json::json!({
            "manifestVersion": 3, "tool": "elasticache-backup", "exportName": export, "bucket": BUCKET,
            "snapshotName": export, "source": source,
            "snapshot": {"status": "available", "startedAt": rfc(data), "deadline": rfc(data + time::Duration::hours(1))},
            "verifiedAt": rfc(verified),
            "totals": {"objects": 1, "keys": 1, "keysWithExpiry": 0, "bytes": 1000},
            "objects": [{"key": key, "sizeBytes": 1000, "sha256": "00", "rdb": {"magic": "REDIS", "version": 11, "keys": 1, "keysWithExpiry": 0}}],
        });
        store.put_bytes(
            BUCKET,
            &manifest_key(&export),
            serde_json::to_vec(&manifest).unwrap(),
            verified,
        );
        export
    }

    #[tokio::test]
    async fn overlapping_runs_keep_the_newer_data_not_the_later_verification() {
        let store = FakeExportStore::with_bucket(BUCKET);
        // A (a fleet run) took its snapshot first but finished verifying last; B (a manual run) took newer data.
        let a = backup_at(&store, "orders", "aaaaaaaa", 10, 2, None);
        let b = backup_at(&store, "orders", "bbbbbbbb", 8, 6, None);
        let d = deps(store.clone());
        let report = function_handler(
            LambdaEvent::new(
                serde_json::json!({"keepLast": 1, "dryRun": false}),
                Context::default(),
            ),
            &d,
        )
        .await
        .unwrap();
        assert_eq!(report.targets[0].kept, [b.as_str()]);
        assert_eq!(report.targets[0].deleted, [a.as_str()]);
        let left = keys(&store).await;
        assert!(
            left.contains(&manifest_key(&b)) && !left.contains(&manifest_key(&a)),
            "{left:?}"
        );
    }

    #[tokio::test]
    async fn a_re_created_group_is_another_target_and_its_old_snapshot_survives_the_sweeper() {
        let store = FakeExportStore::with_bucket(BUCKET);
        let old_created = "2026-01-01T00:00:00Z";
        let new_created = "2026-11-20T00:00:00Z";
        // The old group's only verified backup, and two of the group re-created under the same id.
        let old = backup_at(&store, "orders", "00000001", 400, 399, Some(old_created));
        backup_at(&store, "orders", "00000002", 30, 29, Some(new_created));
        let newest = backup_at(&store, "orders", "00000003", 5, 4, Some(new_created));
        let d = deps(store.clone());
        // A snapshot a failed run of the OLD group kept (after its last backup), and one of the new group.
        for (name, created, hours) in [
            ("ecb-orders-0ld0ld00", old_created, 200),
            ("ecb-orders-0e000000", new_created, 100),
        ] {
            snapshot(&d.snapshots, name, "orders", None, "available", hours, true);
            let mut tags = d.snapshots.0.lock().unwrap().tags[name].clone();
            tags.push((
                backup_core::naming::SOURCE_CREATED_TAG.into(),
                created.into(),
            ));
            d.snapshots.0.lock().unwrap().tags.insert(name.into(), tags);
        }
        let report = function_handler(
            LambdaEvent::new(serde_json::json!({"keepLast": 1}), Context::default()),
            &d,
        )
        .await
        .unwrap();
        // Two targets: the old group keeps its only (newest) set.
        assert_eq!(report.targets.len(), 2, "{:?}", report.targets);
        assert!(
            report
                .targets
                .iter()
                .any(|t| t.created_at == old_created && t.kept == [old.clone()])
        );
        let deleted: Vec<_> = report
            .snapshots
            .deleted
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        assert_eq!(deleted, ["ecb-orders-0e000000"]);
        assert!(report.snapshots.deleted[0].later_backup == newest);
        assert!(
            report
                .snapshots
                .kept
                .iter()
                .any(|k| k.name == "ecb-orders-0ld0ld00"),
            "{:?}",
            report.snapshots.kept
        );
    }

    #[tokio::test]
    async fn a_kept_snapshot_newer_than_the_data_of_a_later_verified_backup_is_kept() {
        let store = FakeExportStore::with_bucket(BUCKET);
        // Verified after the snapshot was created, but its data is older than the snapshot's.
        backup_at(&store, "orders", "aaaaaaaa", 100, 80, None);
        let d = deps(store.clone());
        snapshot(
            &d.snapshots,
            "ecb-orders-5eeeeeee",
            "orders",
            None,
            "available",
            90,
            true,
        );
        let report = function_handler(
            LambdaEvent::new(serde_json::json!({"keepLast": 1}), Context::default()),
            &d,
        )
        .await
        .unwrap();
        assert!(
            report.snapshots.deleted.is_empty(),
            "{:?}",
            report.snapshots.deleted
        );
    }

    #[tokio::test]
    async fn a_manifest_that_cannot_be_read_fails_the_run_before_anything_is_deleted() {
        let store = FakeExportStore::with_bucket(BUCKET);
        let sets: Vec<_> = (0..4)
            .map(|i| backup(&store, "orders", &format!("0000000{i}"), 1, 10 - i))
            .collect();
        // The newest backup's manifest is throttled: judged without it, keepLast 1 would delete the next newest.
        store.fail_get.lock().unwrap().insert(
            manifest_key(&sets[3]),
            std::iter::repeat_with(|| BackupError::Throttled {
                message: "GetObject: SlowDown".into(),
                source: None,
            })
            .take(3)
            .collect(),
        );
        let before = keys(&store).await;
        let err = run(&store, serde_json::json!({"keepLast": 1, "dryRun": false}))
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "Throttled", "{err}");
        assert_eq!(keys(&store).await, before, "nothing deleted");
    }

    /// A store whose GETs take a moment and count how many run at once.
    struct Slow(
        FakeExportStore,
        std::sync::Arc<(
            std::sync::atomic::AtomicUsize,
            std::sync::atomic::AtomicUsize,
        )>,
    );

    #[async_trait::async_trait]
    impl ObjectReader for Slow {
        async fn get_object(
            &self,
            bucket: &str,
            key: &str,
        ) -> Result<Option<Vec<u8>>, BackupError> {
            use std::sync::atomic::Ordering::SeqCst;
            let now = self.1.0.fetch_add(1, SeqCst) + 1;
            self.1.1.fetch_max(now, SeqCst);
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            self.1.0.fetch_sub(1, SeqCst);
            self.0.get_object(bucket, key).await
        }
    }

    #[tokio::test]
    async fn manifests_are_read_concurrently_but_at_most_the_bound_at_once() {
        let store = FakeExportStore::with_bucket(BUCKET);
        for i in 0..100 {
            backup(&store, &format!("g{i:03}"), "00000001", 1, 1);
        }
        let counts = std::sync::Arc::default();
        let slow = Slow(store.clone(), std::sync::Arc::clone(&counts));
        let listing = store.list(BUCKET, "ecb-").await.unwrap();
        let ManifestsRead {
            manifests: facts,
            unreadable,
        } = read_manifests(&slow, BUCKET, &listing).await.unwrap();
        assert_eq!(facts.len(), 100);
        assert!(unreadable.is_empty());
        let most = counts.1.load(std::sync::atomic::Ordering::SeqCst);
        assert!(
            most > 1 && most <= MANIFEST_READS_IN_FLIGHT,
            "{most} reads at once"
        );
    }

    #[tokio::test]
    async fn backups_from_before_creation_times_were_recorded_join_their_target() {
        let store = FakeExportStore::with_bucket(BUCKET);
        let created = "2026-06-01T00:00:00Z";
        // Two backups written before the creation time was recorded, then two after; and one of an older
        // incarnation (its data predates the group's creation).
        let older_incarnation = backup_at(&store, "orders", "00000000", 24 * 200, 24 * 200, None);
        let old1 = backup_at(&store, "orders", "00000001", 96, 95, None);
        let old2 = backup_at(&store, "orders", "00000002", 72, 71, None);
        backup_at(&store, "orders", "00000003", 48, 47, Some(created));
        let newest = backup_at(&store, "orders", "00000004", 24, 23, Some(created));
        let d = deps(store.clone());
        let report = function_handler(
            LambdaEvent::new(serde_json::json!({"keepLast": 1}), Context::default()),
            &d,
        )
        .await
        .unwrap();
        let current = report
            .targets
            .iter()
            .find(|t| t.created_at == created)
            .unwrap();
        assert_eq!(current.kept, [newest.as_str()]);
        assert!(
            current.deleted.contains(&old1) && current.deleted.contains(&old2),
            "{current:?}"
        );
        let apart = report
            .targets
            .iter()
            .find(|t| t.created_at.is_empty())
            .unwrap();
        assert_eq!(apart.kept, [older_incarnation.as_str()]);
        assert_eq!(report.targets.len(), 2, "{:?}", report.targets);
    }
}
