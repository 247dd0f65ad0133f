//! Deciding whether an export is complete from what S3 holds — the source snapshot's status alone is not evidence.

use crate::BackupRun;
use crate::backup::run::ExportedObject;
use crate::error::BackupError;
use crate::model::Timestamp;
use crate::ports::ExportStore;
use crate::resources::{BucketFacts, StoredObject};

/// Clock slack allowed between the snapshot's recorded start and an object's `LastModified`, seconds.
pub const CLOCK_SLACK_SECONDS: i64 = 60;

/// [`CLOCK_SLACK_SECONDS`] as a duration.
pub fn clock_slack() -> time::Duration {
    time::Duration::seconds(CLOCK_SLACK_SECONDS)
}

/// Lists the run's export objects and assesses them against the run's shard count; objects older than the
/// snapshot's start (less [`CLOCK_SLACK_SECONDS`]) do not count. A node-based export's objects are
/// `<exportName>-<id>.rdb` ([`is_shard_key`]); a serverless export's are any `.rdb` under the export name
/// ([`is_serverless_export_key`]), and until its export is complete (`source.shardCount` 0) how many there are is
/// not known.
///
/// # Errors
/// `InvalidInput` when the document lacks `request`, `exportName` or `source`; the store's errors
/// (`ExportRejected` for a missing bucket, `Throttled`, `AwsError`).
pub async fn inspect<E: ExportStore + ?Sized>(
    store: &E,
    run: &BackupRun,
) -> Result<ExportAssessment, BackupError> {
    let bucket = &run.request()?.bucket;
    let export_name = run.export_name()?;
    let source = run.source()?;
    let shards = source.shard_count;
    let not_before = run.snapshot.as_ref().map(|s| s.started_at - clock_slack());
    if source.is_serverless() {
        let listing = store.list(bucket, export_name).await?;
        return Ok(assess_with(
            export_name,
            shards,
            &listing,
            not_before,
            is_serverless_export_key,
        ));
    }
    let listing = store.list(bucket, &format!("{export_name}-")).await?;
    Ok(assess(export_name, shards, &listing, not_before))
}

/// True for the keys a serverless export may have written: `ExportServerlessCacheSnapshot` chooses the object names
/// and AWS does not document them (aws-facts §1.7, §2.1), so any `.rdb` object named after the snapshot counts:
/// `<export_name>.rdb`, `<export_name>-<id>.rdb` (as node-based exports: 1–64 ASCII letters or digits) or
/// `<export_name>/<path>.rdb`. Like [`is_shard_key`], a suffix with `-` is another export's object.
pub fn is_serverless_export_key(export_name: &str, key: &str) -> bool {
    let Some(rest) = key.strip_prefix(export_name) else {
        return false;
    };
    if rest == ".rdb" || is_shard_key(export_name, key) {
        return true;
    }
    rest.strip_prefix('/')
        .and_then(|path| path.strip_suffix(".rdb"))
        .is_some_and(|p| !p.is_empty() && !p.split('/').any(|part| part.is_empty() || part == ".."))
}

/// True when `key` is one of the objects of the export named `export_name` (serverless or node-based, see
/// [`is_serverless_export_key`] and [`is_shard_key`]).
pub fn is_export_key(export_name: &str, key: &str, serverless: bool) -> bool {
    if serverless {
        is_serverless_export_key(export_name, key)
    } else {
        is_shard_key(export_name, key)
    }
}

/// What S3 holds for one export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportAssessment {
    /// Non-empty, fresh shard objects `<export>-<suffix>.rdb`, sorted by key.
    pub objects: Vec<ExportedObject>,
    /// Shard objects of size 0.
    pub empty: Vec<String>,
    /// Shard objects written before this run's snapshot was started (left by an earlier run).
    pub stale: Vec<String>,
    /// Every shard object, when there are more than the source has node groups: the export is not the shape the
    /// run recorded (which of them is which shard cannot be told by name), so it is not complete however many
    /// objects there are.
    pub extra: Vec<String>,
    /// Number of shards expected.
    pub expected: u32,
}

impl ExportAssessment {
    /// Complete only when exactly `expected` shard objects are there, every one non-empty and fresh.
    pub fn is_complete(&self) -> bool {
        self.expected > 0
            && self.empty.is_empty()
            && self.stale.is_empty()
            && self.extra.is_empty()
            && self.objects.len() == self.expected as usize
    }

    /// For an export whose object count is not known beforehand (serverless): at least one object, none empty or
    /// stale. Whether it is all there is decided by the caller (the objects stay the same between two checks).
    pub fn has_only_sound_objects(&self) -> bool {
        !self.objects.is_empty() && self.empty.is_empty() && self.stale.is_empty()
    }

    /// One line for errors and logs: what was found and what is missing.
    pub fn describe(&self) -> String {
        let mut parts = vec![if self.expected == 0 {
            format!(
                "{} objects present (a serverless export: how many it writes is not known)",
                self.objects.len()
            )
        } else {
            format!(
                "{} of {} shard objects present",
                self.objects.len(),
                self.expected
            )
        }];
        if !self.empty.is_empty() {
            parts.push(format!("empty {}", self.empty.join(", ")));
        }
        if !self.stale.is_empty() {
            parts.push(format!(
                "older than this run's snapshot {}",
                self.stale.join(", ")
            ));
        }
        if !self.extra.is_empty() {
            parts.push(format!(
                "{} shard objects for {} node groups: {}",
                self.extra.len(),
                self.expected,
                self.extra.join(", ")
            ));
        }
        parts.join("; ")
    }
}

/// True for keys of the form `<export_name>-<suffix>.rdb` where the suffix is 1–64 ASCII letters or digits.
///
/// The export guide documents only that "ElastiCache adds an instance identifier and `.rdb`"
/// (`my-exported-backup-0001.rdb` for one shard; User Guide, "Exporting a backup"): which identifier each shard's
/// object gets is not documented, so any such suffix counts, and which object holds which node group is proven
/// from the data (slots of its keys, [`crate::slots`]). A suffix with `-`, `.` or `/` is another export's object
/// (`<export_name>-1a2b3c4d-0001.rdb` belongs to an export named `<export_name>-1a2b3c4d`), not this one's.
pub fn is_shard_key(export_name: &str, key: &str) -> bool {
    key.strip_prefix(export_name)
        .and_then(|rest| rest.strip_prefix('-'))
        .and_then(|rest| rest.strip_suffix(".rdb"))
        .is_some_and(|n| {
            (1..=64).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_alphanumeric())
        })
}

/// Assesses `listing` (objects under the export name's prefix) for an export of `shard_count` shards: exactly that
/// many shard objects ([`is_shard_key`]), each non-empty.
///
/// Objects last modified before `not_before` (the snapshot's start, less a minute of clock slack) are reported as
/// stale and not counted: they cannot have come from this run's export.
pub fn assess(
    export_name: &str,
    shard_count: u32,
    listing: &[StoredObject],
    not_before: Option<Timestamp>,
) -> ExportAssessment {
    assess_with(export_name, shard_count, listing, not_before, is_shard_key)
}

/// [`assess`] with `belongs(export_name, key)` telling which listed keys are the export's objects. A
/// `shard_count` of 0 (a serverless export not yet complete) expects no number: such an assessment is never
/// complete and reports no extra objects.
pub fn assess_with(
    export_name: &str,
    shard_count: u32,
    listing: &[StoredObject],
    not_before: Option<Timestamp>,
    belongs: fn(&str, &str) -> bool,
) -> ExportAssessment {
    let mut objects = Vec::new();
    let mut empty = Vec::new();
    let mut stale = Vec::new();
    let shaped: Vec<&StoredObject> = listing
        .iter()
        .filter(|o| belongs(export_name, &o.key))
        .collect();
    for o in &shaped {
        if o.size_bytes == 0 {
            empty.push(o.key.clone());
        } else if matches!((o.last_modified, not_before), (Some(m), Some(nb)) if m < nb) {
            stale.push(o.key.clone());
        } else {
            objects.push(ExportedObject {
                key: o.key.clone(),
                size_bytes: o.size_bytes,
            });
        }
    }
    objects.sort_by(|a, b| a.key.cmp(&b.key));
    let mut extra: Vec<String> = if shard_count > 0 && shaped.len() > shard_count as usize {
        shaped.iter().map(|o| o.key.clone()).collect()
    } else {
        Vec::new()
    };
    extra.sort();
    ExportAssessment {
        objects,
        empty,
        stale,
        extra,
        expected: shard_count,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn obj(key: &str, size: u64) -> StoredObject {
        StoredObject {
            key: key.into(),
            size_bytes: size,
            last_modified: Some(datetime!(2026-11-22 1:00 UTC)),
        }
    }

    #[test]
    fn a_serverless_export_counts_any_rdb_object_named_after_its_snapshot() {
        for key in [
            "e.rdb",
            "e-0001.rdb",
            "e-a1.rdb",
            "e/x.rdb",
            "e/shard/0001.rdb",
        ] {
            assert!(is_serverless_export_key("e", key), "{key}");
            assert!(is_export_key("e", key, true), "{key}");
        }
        for key in [
            "e.manifest.json",
            "e-1a2b-0001.rdb",
            "e1.rdb",
            "f-0001.rdb",
            "e/.rdb",
            "e//x.rdb",
            "e/../x.rdb",
            "e-0001.rdb.tmp",
            "e.rdb/x",
        ] {
            assert!(!is_serverless_export_key("e", key), "{key}");
        }
        // A node-based export takes only `<name>-<id>.rdb`.
        assert!(!is_export_key("e", "e.rdb", false));
        assert!(is_export_key("e", "e-0001.rdb", false));
        // Until the serverless export is complete its shard count is unknown: never complete, never "extra".
        let a = assess_with(
            "e",
            0,
            &[obj("e.rdb", 10), obj("e-0001.rdb", 5)],
            None,
            is_serverless_export_key,
        );
        assert!(!a.is_complete());
        assert!(a.has_only_sound_objects());
        assert!(a.extra.is_empty());
        assert_eq!(a.objects.len(), 2);
        assert!(
            a.describe().contains("2 objects present"),
            "{}",
            a.describe()
        );
        // Afterwards it is checked as any export: exactly that many objects.
        assert!(
            assess_with(
                "e",
                2,
                &[obj("e.rdb", 10), obj("e-0001.rdb", 5)],
                None,
                is_serverless_export_key
            )
            .is_complete()
        );
        assert!(
            !assess_with(
                "e",
                1,
                &[obj("e.rdb", 10), obj("e-0001.rdb", 5)],
                None,
                is_serverless_export_key
            )
            .is_complete()
        );
        assert!(
            !assess_with("e", 0, &[obj("e.rdb", 0)], None, is_serverless_export_key)
                .has_only_sound_objects()
        );
    }

    #[test]
    fn complete_when_every_shard_is_present_and_non_empty() {
        let l = [
            obj("e-0001.rdb", 10),
            obj("e-0002.rdb", 20),
            obj("e-0003.rdb", 5),
        ];
        let a = assess("e", 3, &l, None);
        assert!(a.is_complete(), "{}", a.describe());
        assert_eq!(a.objects.len(), 3);
    }

    #[test]
    fn a_missing_shard_is_incomplete_and_counted() {
        let a = assess(
            "e",
            3,
            &[obj("e-0001.rdb", 10), obj("e-0003.rdb", 10)],
            None,
        );
        assert!(!a.is_complete());
        assert!(a.describe().contains("2 of 3 shard objects present"));
    }

    #[test]
    fn empty_object_does_not_count() {
        let a = assess("e", 1, &[obj("e-0001.rdb", 0)], None);
        assert!(!a.is_complete());
        assert_eq!(a.empty, vec!["e-0001.rdb".to_string()]);
    }

    #[test]
    fn objects_older_than_the_snapshot_do_not_count() {
        let a = assess(
            "e",
            1,
            &[obj("e-0001.rdb", 9)],
            Some(datetime!(2026-11-22 2:00 UTC)),
        );
        assert!(!a.is_complete());
        assert_eq!(a.stale.len(), 1);
    }

    #[test]
    fn other_keys_under_the_prefix_are_ignored() {
        let a = assess(
            "e",
            1,
            &[
                obj("e-0001.rdb.tmp", 9),
                obj("e-extra-0001.rdb", 9),
                obj("e-.rdb", 9),
                obj("e-0001/x.rdb", 9),
                obj("e-1a2b3c4d-0001.rdb", 9),
            ],
            None,
        );
        assert!(!a.is_complete());
        assert!(a.objects.is_empty());
        assert!(a.extra.is_empty());
    }

    #[test]
    fn any_instance_identifier_counts_and_the_number_must_match_exactly() {
        // NodeGroupIds after a scale-in, or any other identifier ElastiCache chooses.
        for keys in [
            ["e-0001.rdb", "e-0003.rdb", "e-0004.rdb"],
            ["e-0001.rdb", "e-0002.rdb", "e-0003.rdb"],
            ["e-a.rdb", "e-b.rdb", "e-shard7.rdb"],
        ] {
            let l: Vec<StoredObject> = keys.iter().map(|k| obj(k, 10)).collect();
            assert!(assess("e", 3, &l, None).is_complete(), "{keys:?}");
            let a = assess("e", 2, &l, None);
            assert!(!a.is_complete(), "{keys:?}");
            assert_eq!(a.extra.len(), 3);
            assert!(
                a.describe().contains("3 shard objects for 2 node groups"),
                "{}",
                a.describe()
            );
        }
    }

    #[test]
    fn a_stale_object_beside_a_fresh_one_is_incomplete() {
        let old = StoredObject {
            last_modified: Some(datetime!(2026-11-22 0:00 UTC)),
            ..obj("e-0001.rdb", 10)
        };
        let a = assess(
            "e",
            1,
            &[old, obj("e-0002.rdb", 10)],
            Some(datetime!(2026-11-22 0:30 UTC)),
        );
        assert!(!a.is_complete(), "{}", a.describe());
    }

    #[test]
    fn zero_shards_is_never_complete() {
        assert!(!assess("e", 0, &[], None).is_complete());
    }
}

/// ElastiCache's canonical user id, grantee of the older ACL method of export permissions (default regions; the
/// GovCloud id is [`ELASTICACHE_GOVCLOUD_CANONICAL_ID`]); ElastiCache User Guide, "Exporting a backup".
pub const ELASTICACHE_CANONICAL_ID: &str =
    "540804c33a284a299d2547575ce1010f2312ef3da9b3a053c8bc45bf233e4353";
/// See [`ELASTICACHE_CANONICAL_ID`].
pub const ELASTICACHE_GOVCLOUD_CANONICAL_ID: &str =
    "40fa568277ad703bd160f66ae4f83fc9dfdfd06c2f1b5060ca22442ac3ef8be6";

/// The export's service principal in `region` (regional: `us-east-1.elasticache-snapshot.amazonaws.com`).
pub fn export_principal(region: &str) -> String {
    format!("{region}.elasticache-snapshot.amazonaws.com")
}

/// Whether the bucket policy `policy` allows `principal` `s3:PutObject` (or `s3:*` / `*`) in an `Allow` statement.
fn policy_allows_put(policy: &str, principal: &str) -> bool {
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(policy) else {
        return false;
    };
    let as_list = |v: &serde_json::Value| -> Vec<String> {
        match v {
            serde_json::Value::String(s) => vec![s.clone()],
            serde_json::Value::Array(a) => a
                .iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        }
    };
    let statements = match &doc["Statement"] {
        serde_json::Value::Array(a) => a.clone(),
        one @ serde_json::Value::Object(_) => vec![one.clone()],
        _ => Vec::new(),
    };
    statements.iter().any(|st| {
        st["Effect"] == "Allow"
            && as_list(&st["Principal"]["Service"])
                .iter()
                .any(|p| p == principal)
            && as_list(&st["Action"])
                .iter()
                .any(|a| matches!(a.as_str(), "s3:PutObject" | "s3:*" | "*"))
    })
}

/// The preflight CreateSnapshot runs before anything is created: the export bucket must be in the function's
/// `region` (ElastiCache exports only within a region) and let ElastiCache write (a bucket policy allowing
/// `s3:PutObject` to `<region>.elasticache-snapshot.amazonaws.com`, or the older ACL grant of `WRITE` to ElastiCache's
/// canonical user); ElastiCache User Guide, "Exporting a backup". Existence and ownership were checked by
/// [`crate::ports::ExportBucket::bucket_facts`]. Returns warnings (a policy or ACL the function may not read).
///
/// # Errors
/// `InvalidInput` (field `bucket`) for a bucket in another region; `ExportRejected` when neither the policy nor the
/// ACL lets ElastiCache write.
pub fn preflight(
    bucket: &str,
    facts: &BucketFacts,
    region: &str,
) -> Result<Vec<String>, BackupError> {
    if facts.region != region {
        return Err(BackupError::invalid_input(
            "bucket",
            format!(
                "bucket {bucket} is in {}; ElastiCache exports only to a bucket in the cluster's region {region}",
                facts.region
            ),
        ));
    }
    let principal = export_principal(region);
    if facts
        .policy
        .as_deref()
        .is_some_and(|p| policy_allows_put(p, &principal))
        || facts
            .acl_writers
            .iter()
            .any(|id| id == ELASTICACHE_CANONICAL_ID || id == ELASTICACHE_GOVCLOUD_CANONICAL_ID)
    {
        return Ok(Vec::new());
    }
    if !facts.unreadable.is_empty() {
        return Ok(vec![format!(
            "could not check that ElastiCache may write to bucket {bucket} ({}); the export fails if it may not",
            facts.unreadable.join("; ")
        )]);
    }
    Err(BackupError::ExportRejected {
        message: format!(
            "bucket {bucket} does not let ElastiCache write the export: no bucket policy statement allows \
             s3:PutObject to {principal}, and the ACL grants ElastiCache's canonical user no WRITE (ElastiCache User \
             Guide, \"Exporting a backup\"; this project's Terraform writes that policy)"
        ),
        source: None,
    })
}

#[cfg(test)]
mod preflight_tests {
    use super::*;

    fn facts(region: &str, policy: Option<&str>) -> BucketFacts {
        BucketFacts {
            region: region.into(),
            policy: policy.map(str::to_string),
            ..BucketFacts::default()
        }
    }

    const POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
        "Principal":{"Service":"us-east-1.elasticache-snapshot.amazonaws.com"},
        "Action":["s3:PutObject","s3:GetObject","s3:ListBucket","s3:GetBucketAcl"],
        "Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"]}]}"#;

    #[test]
    fn a_bucket_whose_policy_lets_elasticache_write_passes() {
        assert_eq!(
            preflight("b", &facts("us-east-1", Some(POLICY)), "us-east-1").unwrap(),
            Vec::<String>::new()
        );
    }

    #[test]
    fn the_older_acl_grant_passes_too() {
        let f = BucketFacts {
            acl_writers: vec![ELASTICACHE_CANONICAL_ID.into()],
            ..facts("us-east-1", None)
        };
        assert!(preflight("b", &f, "us-east-1").is_ok());
    }

    #[test]
    fn another_region_is_invalid_input_naming_both_regions() {
        let err = preflight("b", &facts("eu-west-1", Some(POLICY)), "us-east-1").unwrap_err();
        assert_eq!(err.error_type(), "InvalidInput");
        let text = err.to_string();
        assert!(
            text.contains("bucket") && text.contains("eu-west-1") && text.contains("us-east-1"),
            "{text}"
        );
    }

    #[test]
    fn no_grant_for_elasticache_is_export_rejected() {
        for policy in [
            None,
            Some(POLICY.replace("us-east-1.elasticache", "eu-west-1.elasticache")),
            Some(POLICY.replace("\"Allow\"", "\"Deny\"")),
            Some(POLICY.replace("\"s3:PutObject\",", "")),
            Some("not json".to_string()),
        ] {
            let err =
                preflight("b", &facts("us-east-1", policy.as_deref()), "us-east-1").unwrap_err();
            assert_eq!(err.error_type(), "ExportRejected", "{policy:?}");
            assert!(
                err.to_string()
                    .contains("us-east-1.elasticache-snapshot.amazonaws.com")
            );
        }
    }

    #[test]
    fn an_unreadable_policy_warns_instead_of_refusing() {
        let f = BucketFacts {
            unreadable: vec!["GetBucketPolicy s3://b: AccessDenied".into()],
            ..facts("us-east-1", None)
        };
        let warnings = preflight("b", &f, "us-east-1").unwrap();
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("AccessDenied"));
    }
}
