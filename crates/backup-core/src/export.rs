//! Deciding whether an export is complete from what S3 holds — the source snapshot's status alone is not evidence.

use crate::BackupRun;
use crate::error::BackupError;
use crate::naming::shard_object_key;
use crate::ports::{BucketFacts, ExportStore, StoredObject};
use crate::run::{ExportedObject, Timestamp};

/// Clock slack allowed between the snapshot's recorded start and an object's `LastModified`, seconds.
pub const CLOCK_SLACK_SECONDS: i64 = 60;

/// Lists the run's export objects (prefix `<exportName>-` in the request's bucket) and assesses them against the
/// run's shard count; objects older than the snapshot's start (less [`CLOCK_SLACK_SECONDS`]) do not count.
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
    let shards = run.source()?.shard_count;
    let not_before = run
        .snapshot
        .as_ref()
        .map(|s| s.started_at - time::Duration::seconds(CLOCK_SLACK_SECONDS));
    let listing = store.list(bucket, &format!("{export_name}-")).await?;
    let node_groups: Vec<String> = run
        .source()?
        .shards
        .iter()
        .map(|s| s.node_group_id.clone())
        .collect();
    Ok(assess_either(
        export_name,
        shards,
        &node_groups,
        &listing,
        not_before,
    ))
}

/// Assesses `listing` against both namings of the shard objects AWS might use, and returns the one that fits: the
/// export guide documents `<name>-0001.rdb` for one shard only, so whether `-NNNN` counts the shards (`0001` …
/// `000N`) or is each shard's `NodeGroupId` (which may skip numbers after a scale-in: `0001, 0003, 0004`) is
/// UNCONFIRMED. Complete under either is complete; otherwise the closer one (fewest missing and unexpected keys;
/// the count on a tie) is reported. The `NodeGroupId` naming applies only when every id is four digits and there
/// is one per shard.
pub fn assess_either(
    export_name: &str,
    shard_count: u32,
    node_group_ids: &[String],
    listing: &[StoredObject],
    not_before: Option<Timestamp>,
) -> ExportAssessment {
    let by_count = assess(export_name, shard_count, listing, not_before);
    let four_digits = |id: &String| id.len() == 4 && id.bytes().all(|b| b.is_ascii_digit());
    if node_group_ids.len() != shard_count as usize || !node_group_ids.iter().all(four_digits) {
        return by_count;
    }
    let keys: Vec<String> = node_group_ids
        .iter()
        .map(|id| format!("{export_name}-{id}.rdb"))
        .collect();
    let by_id = assess_keys(export_name, &keys, listing, not_before);
    let off = |a: &ExportAssessment| a.missing.len() + a.extra.len();
    if by_count.is_complete() || (!by_id.is_complete() && off(&by_count) <= off(&by_id)) {
        by_count
    } else {
        by_id
    }
}

/// What S3 holds for one export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportAssessment {
    /// Non-empty, fresh shard objects `<export>-NNNN.rdb`, sorted by key.
    pub objects: Vec<ExportedObject>,
    /// Expected keys (`-0001` … `-000N`) that are absent.
    pub missing: Vec<String>,
    /// Shard objects of size 0.
    pub empty: Vec<String>,
    /// Shard objects written before this run's snapshot was started (left by an earlier run).
    pub stale: Vec<String>,
    /// Shard-shaped keys beyond the expected ones (`-0004` for three shards): the export is not the shape the run
    /// recorded, so it is not complete however many objects there are.
    pub extra: Vec<String>,
    /// Number of shards expected.
    pub expected: u32,
}

impl ExportAssessment {
    /// Complete only when the non-empty, fresh shard objects are exactly the expected keys `-0001` … `-000N`: none
    /// missing, empty, stale or extra (counting objects is not enough: `-0001, -0003, -0004` for three shards is
    /// three objects and not complete).
    pub fn is_complete(&self) -> bool {
        self.expected > 0
            && self.missing.is_empty()
            && self.empty.is_empty()
            && self.stale.is_empty()
            && self.extra.is_empty()
            && self.objects.len() == self.expected as usize
    }

    /// One line for errors and logs: what was found and what is missing.
    pub fn describe(&self) -> String {
        let mut parts = vec![format!(
            "{} of {} shard objects present",
            self.objects.len(),
            self.expected
        )];
        if !self.missing.is_empty() {
            parts.push(format!("missing {}", self.missing.join(", ")));
        }
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
                "unexpected shard objects {} (the source has {} shards)",
                self.extra.join(", "),
                self.expected
            ));
        }
        parts.join("; ")
    }
}

/// True for keys of the form `<export_name>-NNNN.rdb` (N ASCII digits, 4 of them).
pub fn is_shard_key(export_name: &str, key: &str) -> bool {
    key.strip_prefix(export_name)
        .and_then(|rest| rest.strip_prefix('-'))
        .and_then(|rest| rest.strip_suffix(".rdb"))
        .is_some_and(|n| n.len() == 4 && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Assesses `listing` (objects under the export name's prefix) for an export of `shard_count` shards.
///
/// Objects last modified before `not_before` (the snapshot's start, less a minute of clock slack) are reported as
/// stale and not counted: they cannot have come from this run's export.
pub fn assess(
    export_name: &str,
    shard_count: u32,
    listing: &[StoredObject],
    not_before: Option<Timestamp>,
) -> ExportAssessment {
    let expected_keys: Vec<String> = (1..=shard_count)
        .map(|i| shard_object_key(export_name, i))
        .collect();
    assess_keys(export_name, &expected_keys, listing, not_before)
}

/// Assesses `listing` against exactly `expected_keys` (see [`assess`]).
fn assess_keys(
    export_name: &str,
    expected_keys: &[String],
    listing: &[StoredObject],
    not_before: Option<Timestamp>,
) -> ExportAssessment {
    let mut objects = Vec::new();
    let mut empty = Vec::new();
    let mut stale = Vec::new();
    for o in listing.iter().filter(|o| is_shard_key(export_name, &o.key)) {
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
    let missing = expected_keys
        .iter()
        .filter(|k| !listing.iter().any(|o| &o.key == *k))
        .cloned()
        .collect();
    let mut extra: Vec<String> = listing
        .iter()
        .filter(|o| is_shard_key(export_name, &o.key) && !expected_keys.contains(&o.key))
        .map(|o| o.key.clone())
        .collect();
    extra.sort();
    ExportAssessment {
        objects,
        missing,
        empty,
        stale,
        extra,
        expected: u32::try_from(expected_keys.len()).unwrap_or(u32::MAX),
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
    fn missing_shard_is_incomplete_and_named() {
        let a = assess(
            "e",
            3,
            &[obj("e-0001.rdb", 10), obj("e-0003.rdb", 10)],
            None,
        );
        assert!(!a.is_complete());
        assert_eq!(a.missing, vec!["e-0002.rdb".to_string()]);
        assert!(a.describe().contains("missing e-0002.rdb"));
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
                obj("e-01.rdb", 9),
            ],
            None,
        );
        assert!(!a.is_complete());
        assert!(a.objects.is_empty());
    }

    #[test]
    fn three_objects_are_not_three_shards_unless_they_are_the_expected_keys() {
        let a = assess(
            "e",
            3,
            &[
                obj("e-0001.rdb", 10),
                obj("e-0003.rdb", 10),
                obj("e-0004.rdb", 10),
            ],
            None,
        );
        assert!(!a.is_complete(), "{}", a.describe());
        assert_eq!(a.missing, vec!["e-0002.rdb".to_string()]);
        assert_eq!(a.extra, vec!["e-0004.rdb".to_string()]);
        assert!(a.describe().contains("unexpected shard objects e-0004.rdb"));
    }

    #[test]
    fn an_extra_shard_object_makes_a_full_export_incomplete() {
        let a = assess(
            "e",
            2,
            &[
                obj("e-0001.rdb", 10),
                obj("e-0002.rdb", 10),
                obj("e-0003.rdb", 10),
            ],
            None,
        );
        assert!(!a.is_complete(), "{}", a.describe());
        assert_eq!(a.extra, vec!["e-0003.rdb".to_string()]);
    }

    #[test]
    fn a_stale_expected_object_beside_a_fresh_extra_is_incomplete() {
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
    fn objects_named_by_node_group_id_after_a_scale_in_are_complete_too() {
        let ids = ["0001", "0003", "0004"].map(String::from);
        let by_id = [
            obj("e-0001.rdb", 10),
            obj("e-0003.rdb", 10),
            obj("e-0004.rdb", 10),
        ];
        assert!(assess_either("e", 3, &ids, &by_id, None).is_complete());
        let by_count = [
            obj("e-0001.rdb", 10),
            obj("e-0002.rdb", 10),
            obj("e-0003.rdb", 10),
        ];
        assert!(assess_either("e", 3, &ids, &by_count, None).is_complete());
        // Without those node group ids, -0001, -0003, -0004 is not three shards.
        let plain = ["0001", "0002", "0003"].map(String::from);
        let a = assess_either("e", 3, &plain, &by_id, None);
        assert!(!a.is_complete());
        assert_eq!(a.extra, vec!["e-0004.rdb".to_string()]);
        // A mix of the two namings is neither.
        let mixed = [
            obj("e-0001.rdb", 10),
            obj("e-0002.rdb", 10),
            obj("e-0004.rdb", 10),
        ];
        assert!(!assess_either("e", 3, &ids, &mixed, None).is_complete());
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
