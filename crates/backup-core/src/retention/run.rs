//! One retention run, as the `retention` Lambda steps through it: the request ([`request_of`]), the manifests read
//! ([`ManifestsRead`]), the books ([`Books`]: the plan, the report being written, the tally of every deletion), and
//! the end ([`Books::finish`], [`RetentionReport::into_result`]). The Lambda only reads, deletes and writes.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::Config;
use crate::backup::manifest::Manifest;
use crate::error::BackupError;
use crate::model::Timestamp;
use crate::naming::{SNAPSHOT_PREFIX, manifest_key};
use crate::resources::StoredObject;
use crate::retention::facts::{ManifestFacts, complete_identity, known_creations};
use crate::retention::plan::{
    Plan, REPORT_PREFIX, RetentionReport, RetentionRequest, export_of_shard, plan, validate,
};
use crate::retention::sweep::{self, Candidate, KeptSnapshot, SweepReport, Swept};

/// The creation times recorded per target (kind and id), oldest first ([`known_creations`]).
pub type KnownCreations = BTreeMap<(&'static str, String), Vec<Timestamp>>;

/// The invocation's input as a checked [`RetentionRequest`] and the bucket it names (`bucket`, else
/// `config.default_bucket`).
///
/// # Errors
/// `InvalidInput`: `input` when the payload is not a request (an unknown field, a wrong type), the field out of
/// its range ([`validate`]), `bucket` when neither the request nor `BACKUP_BUCKET` names one.
pub fn request_of(
    payload: Value,
    config: &Config,
) -> Result<(RetentionRequest, String), BackupError> {
    let request: RetentionRequest = serde_json::from_value(payload)
        .map_err(|e| BackupError::invalid_input("input", e.to_string()))?;
    validate(&request)?;
    let bucket = request
        .bucket
        .clone()
        .or_else(|| config.default_bucket.clone())
        .ok_or_else(|| {
            BackupError::invalid_input("bucket", "required (no BACKUP_BUCKET is set)")
        })?;
    Ok((request, bucket))
}

/// The prefix a retention run lists in the bucket: every backup set's objects (`ecb-`).
pub fn listing_prefix() -> String {
    format!("{SNAPSHOT_PREFIX}-")
}

/// The keys of `listing` that are manifests, to read.
pub fn manifest_keys(listing: &[StoredObject]) -> impl Iterator<Item = &str> {
    listing
        .iter()
        .map(|o| o.key.as_str())
        .filter(|k| k.ends_with(".manifest.json"))
}

/// The manifests of the bucket as they are read: the facts of each readable one (`manifest key → facts`), and the
/// keys of those that are not readable manifests (their sets are kept whole).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ManifestsRead {
    /// Readable manifests: key → facts.
    pub manifests: BTreeMap<String, ManifestFacts>,
    /// Keys of objects that are not readable manifests, sorted once [`ManifestsRead::finish`]ed.
    pub unreadable: Vec<String>,
}

impl ManifestsRead {
    /// Takes the read of manifest `key`: `None` when it was deleted since the listing (no set any more), else its
    /// parse ([`Manifest::from_json`]). A manifest that does not parse, or names another export than its key, is
    /// unreadable (and logged).
    pub fn take(&mut self, key: &str, parsed: Option<Result<Manifest, String>>) {
        match parsed {
            None => {}
            Some(Ok(m)) if manifest_key(&m.export_name) == key => {
                self.manifests
                    .insert(key.to_string(), ManifestFacts::of(&m));
            }
            Some(Ok(m)) => {
                tracing::warn!(manifest = %key, export_name = %m.export_name, "manifest names another export: its set is kept, not judged");
                self.unreadable.push(key.to_string());
            }
            Some(Err(e)) => {
                tracing::warn!(manifest = %key, error = %e, "manifest unreadable: its set is kept, not judged");
                self.unreadable.push(key.to_string());
            }
        }
    }

    /// Every read taken: the unreadable keys in order.
    pub fn finish(mut self) -> Self {
        self.unreadable.sort();
        self
    }
}

/// A retention run's books: what goes ([`Plan`]), the report as the run writes it, and what the sweep reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Books {
    /// What the plan deletes and keeps.
    pub plan: Plan,
    /// The report, filled in as the run goes.
    pub report: RetentionReport,
    /// The creation times recorded per target.
    pub known: KnownCreations,
    /// The readable manifests (`key → facts`), identities completed.
    manifests: BTreeMap<String, ManifestFacts>,
    /// Bytes of each listed object, by key.
    sizes: BTreeMap<String, u64>,
    /// Snapshots whose deletion was refused.
    refused: BTreeSet<String>,
}

impl Books {
    /// Plans the run from the bucket's `listing` and its manifests `read` at `now`: identities completed from the
    /// creation times manifests record, the objects of a set whose manifest cannot be read left out (its set is
    /// kept whole: neither a set nor orphans), then [`plan`]; the report carries the policy and the plan.
    pub fn open(
        listing: Vec<StoredObject>,
        read: ManifestsRead,
        request: &RetentionRequest,
        bucket: &str,
        now: Timestamp,
    ) -> Self {
        let ManifestsRead {
            mut manifests,
            unreadable,
        } = read;
        let known = known_creations(&manifests);
        for m in manifests.values_mut() {
            let at = m.data_time;
            if let Some(t) = m.target.as_mut() {
                complete_identity(t, at, &known);
            }
        }
        let unreadable_exports: BTreeSet<String> = unreadable
            .iter()
            .filter_map(|k| k.strip_suffix(".manifest.json").map(str::to_string))
            .collect();
        let listing: Vec<StoredObject> = listing
            .into_iter()
            .filter(|o| export_of_shard(&o.key).is_none_or(|e| !unreadable_exports.contains(e)))
            .collect();
        let plan = plan(&listing, &manifests, request, now);
        let sizes = listing.into_iter().map(|o| (o.key, o.size_bytes)).collect();
        let report = RetentionReport {
            dry_run: request.dry_run,
            bucket: bucket.to_string(),
            at: now,
            policy: BTreeMap::from([
                ("keepLast".to_string(), request.keep_last),
                ("keepDays".to_string(), request.keep_days),
                ("graceHours".to_string(), request.grace_hours),
                (
                    "snapshotMinAgeHours".to_string(),
                    request.snapshot_min_age_hours,
                ),
            ]),
            targets: plan.targets.clone(),
            orphans_deleted: plan.orphans_deleted.clone(),
            orphans_kept: plan.orphans_kept.clone(),
            unreadable_manifests: unreadable,
            snapshots: SweepReport::default(),
            objects_deleted: 0,
            bytes_deleted: 0,
            errors: Vec::new(),
            report_key: String::new(),
        };
        Self {
            plan,
            report,
            known,
            manifests,
            sizes,
            refused: BTreeSet::new(),
        }
    }

    /// The objects to delete, in order: each doomed set's keys (manifest first), then each orphan alone.
    pub fn doomed(&self) -> Vec<Vec<String>> {
        self.plan
            .delete
            .iter()
            .map(|s| s.keys.clone())
            .chain(self.plan.orphans_deleted.iter().map(|k| vec![k.clone()]))
            .collect()
    }

    /// Counts the deletion of `key`, the `index`-th object of its set: `outcome` `None` in a dry run (it would be
    /// deleted), else the `DeleteObject` answer. A failure goes to the report's errors. Answers whether to go on
    /// with the set: not after a failed manifest (the first key), so that the set stays whole and is tried again.
    pub fn tally(
        &mut self,
        index: usize,
        key: &str,
        outcome: Option<Result<(), BackupError>>,
    ) -> bool {
        match outcome {
            Some(Err(e)) => {
                self.report.errors.push(format!("{key}: {e}"));
                return index != 0;
            }
            Some(Ok(())) => tracing::info!(key = %key, "deleted"),
            None => {}
        }
        self.report.objects_deleted += 1;
        self.report.bytes_deleted += self.sizes.get(key).copied().unwrap_or(0);
        true
    }

    /// Judges the kept snapshots (`candidates`, or why they could not be listed) against the sets that stay
    /// ([`sweep::plan`]), into the report; a failed listing goes to the report's errors.
    pub fn sweep(&mut self, candidates: Result<Vec<Candidate>, BackupError>, min_age_hours: u32) {
        let gone: BTreeSet<&str> = self
            .plan
            .delete
            .iter()
            .map(|s| s.export_name.as_str())
            .collect();
        let staying: BTreeMap<String, ManifestFacts> = std::mem::take(&mut self.manifests)
            .into_iter()
            .filter(|(_, m)| !gone.contains(m.export_name.as_str()))
            .collect();
        match candidates {
            Ok(candidates) => {
                self.report.snapshots = sweep::plan(
                    &candidates,
                    &staying,
                    &self.known,
                    min_age_hours,
                    self.report.at,
                );
            }
            Err(e) => self.report.errors.push(format!("DescribeSnapshots: {e}")),
        }
        for kept in &self.report.snapshots.kept {
            tracing::info!(snapshot = %kept.name, reason = %kept.reason, "snapshot kept");
        }
    }

    /// The snapshots the sweep deletes (or, in a dry run, would).
    pub fn swept(&self) -> Vec<Swept> {
        self.report.snapshots.deleted.clone()
    }

    /// Notes the `DeleteSnapshot` answer for `swept` (`None` in a dry run): logged, or a refusal in the report's
    /// errors (the snapshot is then reported kept, by [`Books::finish`]).
    pub fn snapshot_deleted<T>(&mut self, swept: &Swept, outcome: Option<Result<T, BackupError>>) {
        match outcome {
            None => {
                tracing::info!(snapshot = %swept.name, later_backup = %swept.later_backup, "snapshot would be deleted");
            }
            Some(Ok(_)) => {
                tracing::info!(snapshot = %swept.name, later_backup = %swept.later_backup, "snapshot deleted");
            }
            Some(Err(e)) => {
                self.report.errors.push(format!("{}: {e}", swept.name));
                self.refused.insert(swept.name.clone());
            }
        }
    }

    /// The report, done: a snapshot whose deletion was refused is reported kept (it is still there), and the
    /// report's key set (`retention-reports/<RFC 3339 time>.json`); with it the pretty JSON to write there (also
    /// logged).
    ///
    /// # Errors
    /// `InvalidInput` (`report`) should the report not serialise.
    pub fn finish(mut self) -> Result<(RetentionReport, String), BackupError> {
        let refused = std::mem::take(&mut self.refused);
        let report = &mut self.report;
        let (deleted, refused): (Vec<_>, Vec<_>) = std::mem::take(&mut report.snapshots.deleted)
            .into_iter()
            .partition(|s| !refused.contains(&s.name));
        report.snapshots.deleted = deleted;
        report
            .snapshots
            .kept
            .extend(refused.into_iter().map(|s| KeptSnapshot {
                name: s.name,
                reason: "DeleteSnapshot was refused (see errors)".into(),
            }));
        report.report_key = format!(
            "{REPORT_PREFIX}{}.json",
            report
                .at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default()
        );
        let body = serde_json::to_string_pretty(&report)
            .map_err(|e| BackupError::invalid_input("report", e.to_string()))?;
        tracing::info!(report = %body, "retention");
        Ok((self.report, body))
    }
}

impl RetentionReport {
    /// The run's answer once its report is written: the report, or `AwsError` naming every failed operation.
    ///
    /// # Errors
    /// `AwsError` when a deletion or the snapshot listing failed.
    pub fn into_result(self) -> Result<Self, BackupError> {
        if self.errors.is_empty() {
            return Ok(self);
        }
        Err(BackupError::AwsError {
            message: format!(
                "retention: {} operation(s) failed (report {}): {}",
                self.errors.len(),
                self.report_key,
                self.errors.join("; ")
            ),
            source: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    const NOW: Timestamp = datetime!(2026-12-01 06:00 UTC);

    fn request() -> RetentionRequest {
        request_of(
            json!({"keepLast": 2, "dryRun": false}),
            &Config {
                default_bucket: Some("acme".into()),
                ..Config::default()
            },
        )
        .unwrap()
        .0
    }

    fn object(key: &str, size_bytes: u64) -> StoredObject {
        StoredObject {
            key: key.into(),
            size_bytes,
            last_modified: None,
        }
    }

    #[test]
    fn a_request_names_its_bucket_or_takes_the_default() {
        let config = Config {
            default_bucket: Some("acme".into()),
            ..Config::default()
        };
        let (r, bucket) = request_of(json!({"keepLast": 3}), &config).unwrap();
        assert_eq!((r.keep_last, r.dry_run, bucket.as_str()), (3, true, "acme"));
        let (_, bucket) = request_of(json!({"keepLast": 3, "bucket": "other"}), &config).unwrap();
        assert_eq!(bucket, "other");
        let field = |payload: Value, config: &Config| match request_of(payload, config).unwrap_err()
        {
            BackupError::InvalidInput { field, .. } => field,
            other => panic!("expected InvalidInput, got {other:?}"),
        };
        assert_eq!(field(json!({"keepLast": 3, "x": 1}), &config), "input");
        assert_eq!(field(json!({"keepLast": 0}), &config), "keepLast");
        assert_eq!(field(json!({"keepLast": 3}), &Config::default()), "bucket");
        assert_eq!(listing_prefix(), "ecb-");
    }

    #[test]
    fn a_manifest_gone_since_the_listing_is_no_set_and_one_that_does_not_parse_is_unreadable() {
        let mut read = ManifestsRead::default();
        read.take("ecb-b.manifest.json", Some(Err("not JSON".into())));
        read.take("ecb-a.manifest.json", Some(Err("not JSON".into())));
        read.take("ecb-c.manifest.json", None);
        let read = read.finish();
        assert!(read.manifests.is_empty());
        assert_eq!(
            read.unreadable,
            ["ecb-a.manifest.json", "ecb-b.manifest.json"]
        );
        let listing = [
            object("ecb-a.manifest.json", 1),
            object("ecb-a-0001.rdb", 2),
        ];
        assert_eq!(
            manifest_keys(&listing).collect::<Vec<_>>(),
            ["ecb-a.manifest.json"]
        );
    }

    #[test]
    fn a_failed_manifest_deletion_stops_its_set_and_every_deletion_is_counted() {
        let listing = vec![object("ecb-x-0001.rdb", 10), object("ecb-y-0001.rdb", 5)];
        let mut books = Books::open(listing, ManifestsRead::default(), &request(), "acme", NOW);
        assert!(
            books.doomed().is_empty(),
            "objects without a time are young orphans, kept"
        );
        let refused = || {
            Some(Err(BackupError::AwsError {
                message: "denied".into(),
                source: None,
            }))
        };
        assert!(!books.tally(0, "ecb-x.manifest.json", refused()));
        assert!(books.tally(1, "ecb-x-0001.rdb", refused()));
        assert!(books.tally(0, "ecb-y-0001.rdb", Some(Ok(()))));
        assert!(books.tally(1, "ecb-x-0001.rdb", None));
        assert_eq!(
            (books.report.objects_deleted, books.report.bytes_deleted),
            (2, 15)
        );
        assert_eq!(books.report.errors.len(), 2);
    }

    #[test]
    fn a_refused_snapshot_deletion_is_reported_kept_and_fails_the_run() {
        let mut books = Books::open(
            Vec::new(),
            ManifestsRead::default(),
            &request(),
            "acme",
            NOW,
        );
        books.sweep(
            Err(BackupError::Throttled {
                message: "slow".into(),
                source: None,
            }),
            72,
        );
        let swept = |name: &str| Swept {
            name: name.into(),
            target: "orders".into(),
            created_at: NOW,
            later_backup: "ecb-later".into(),
        };
        books.report.snapshots.deleted = vec![swept("ecb-1"), swept("ecb-2")];
        books.snapshot_deleted::<()>(&swept("ecb-1"), Some(Ok(())));
        books.snapshot_deleted::<()>(
            &swept("ecb-2"),
            Some(Err(BackupError::AwsError {
                message: "refused".into(),
                source: None,
            })),
        );
        let (report, body) = books.finish().unwrap();
        assert_eq!(
            report.report_key,
            "retention-reports/2026-12-01T06:00:00Z.json"
        );
        assert_eq!(report.snapshots.deleted, [swept("ecb-1")]);
        assert_eq!(
            report.snapshots.kept,
            [KeptSnapshot {
                name: "ecb-2".into(),
                reason: "DeleteSnapshot was refused (see errors)".into()
            }]
        );
        assert!(body.contains("\"reportKey\""), "{body}");
        let err = report.into_result().unwrap_err();
        assert_eq!(err.error_type(), "AwsError");
        assert!(
            err.to_string().contains(
                "retention: 2 operation(s) failed (report retention-reports/2026-12-01T06:00:00Z.json)"
            ),
            "{err}"
        );
    }
}
