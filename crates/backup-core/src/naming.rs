//! Deterministic names for the ElastiCache snapshot and the S3 export of a run.
//!
//! ElastiCache stores `SnapshotName` lower-cased; the console and CLI constrain it to 1–40 characters, `[a-z0-9-]`,
//! starting with a letter, no `--`, no trailing `-` (ElastiCache User Guide, "Making manual backups",
//! `--snapshot-name`; API reference `CreateSnapshot`). The name is derived from the target and the execution id, so a
//! retried step or a duplicated start of the same execution finds its own snapshot instead of making a second one
//! (each one counts against the 20 manual snapshots per node per 24 h).

use sha2::{Digest, Sha256};

/// Longest snapshot name ElastiCache accepts, in characters.
pub const MAX_SNAPSHOT_NAME_LEN: usize = 40;
/// Prefix of every snapshot this tool creates, so operators can tell them apart from others.
pub const SNAPSHOT_PREFIX: &str = "ecb";
/// Tag CreateSnapshot gives every snapshot this tool creates, valued with the execution's ARN: with the
/// [`SNAPSHOT_PREFIX`] name it tells the sweeper a snapshot is its own (a snapshot named `ecb-…` by hand has no tag).
pub const SNAPSHOT_TAG: &str = "elasticache-backup:execution";
/// Tag key CreateSnapshot also gives every snapshot: the source's creation time (RFC 3339; see
/// [`crate::backup::run::Source::created_at`]), so the sweeper can tell a snapshot of a group from one of the group later
/// re-created under the same id.
pub const SOURCE_CREATED_TAG: &str = "elasticache-backup:source-created";
const HASH_HEX_LEN: usize = 8;

/// Which kind of id the run targets, part of the name's hash input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    /// A `ReplicationGroupId`.
    ReplicationGroup,
    /// A `CacheClusterId`.
    CacheCluster,
    /// A `ServerlessCacheName` (ElastiCache Serverless).
    ServerlessCache,
}

/// Lower-cases `s` and keeps `[a-z0-9]`, turning every other run of characters into one `-`, trimmed of `-`.
pub fn slug(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// The snapshot name for a run: `ecb-<target slug>-<8 hex of SHA-256(kind, target, execution id)>`.
///
/// `execution_id` is the execution ARN (`$$.Execution.Id`), or its name when no ARN is known. The result is always a
/// valid ElastiCache snapshot name (see module doc), at most [`MAX_SNAPSHOT_NAME_LEN`] characters, and the same for
/// the same inputs.
pub fn snapshot_name(kind: TargetKind, target_id: &str, execution_id: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(match kind {
        TargetKind::ReplicationGroup => b"rg\0".as_slice(),
        TargetKind::CacheCluster => b"cc\0".as_slice(),
        TargetKind::ServerlessCache => b"sc\0".as_slice(),
    });
    hasher.update(target_id.to_ascii_lowercase().as_bytes());
    hasher.update(b"\0");
    hasher.update(execution_id.as_bytes());
    let digest = hasher.finalize();
    let hash: String = digest
        .iter()
        .take(HASH_HEX_LEN / 2)
        .map(|b| format!("{b:02x}"))
        .collect();

    let target = target_part(target_id);
    if target.is_empty() {
        format!("{SNAPSHOT_PREFIX}-{hash}")
    } else {
        format!("{SNAPSHOT_PREFIX}-{target}-{hash}")
    }
}

/// The target's part of a snapshot name: its slug, cut to fit, without a trailing `-`.
fn target_part(target_id: &str) -> String {
    let room = MAX_SNAPSHOT_NAME_LEN - SNAPSHOT_PREFIX.len() - HASH_HEX_LEN - 2;
    let target = slug(target_id);
    crate::text::clip(&target, room)
        .trim_end_matches('-')
        .to_string()
}

/// The S3 key prefix every export (and manifest) of `target_id` starts with: `ecb-<target slug>-` (a listing
/// under it may also hold other targets whose slug starts the same; read the manifests' `source`).
pub fn export_prefix(target_id: &str) -> String {
    format!("{SNAPSHOT_PREFIX}-{}-", target_part(target_id))
}

/// The export name (`TargetSnapshotName` of CopySnapshot) for a snapshot: the same string, so that the S3 objects
/// `<name>-0001.rdb`, … name the snapshot they came from. Unique per run because the snapshot name is.
pub fn export_name(snapshot_name: &str) -> String {
    snapshot_name.to_string()
}

/// Checks the S3 general purpose bucket naming rules ElastiCache needs ("Step 1: Create an Amazon S3 bucket",
/// ElastiCache User Guide, Exporting a backup: DNS-compliant, or ElastiCache can't access the file).
///
/// # Errors
/// The rule broken, as a phrase to follow the field name.
pub fn check_bucket_name(b: &str) -> Result<(), String> {
    if !(3..=63).contains(&b.len()) {
        return Err(format!("must be 3-63 characters, got {}", b.len()));
    }
    if !b
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
    {
        return Err("may contain only lower-case letters, digits, dots and hyphens".into());
    }
    let first_last_ok =
        |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !first_last_ok(b.chars().next()) || !first_last_ok(b.chars().last()) {
        return Err("must begin and end with a letter or digit".into());
    }
    if b.contains("..") || b.contains(".-") || b.contains("-.") {
        return Err("must not contain `..`, `.-` or `-.`".into());
    }
    if b.split('.').count() == 4 && b.split('.').all(|p| p.parse::<u8>().is_ok()) {
        return Err("must not be formatted as an IP address".into());
    }
    Ok(())
}

/// The S3 object tag that marks an object of a verified backup: key [`VERIFIED_TAG_KEY`], value `true`. The
/// backup bucket's replication rule to the vault filters on it (docs/design.md, "The vault").
pub const VERIFIED_TAG_KEY: &str = "elasticache-backup:verified";

/// The verified tag as a tag set of one, as [`crate::ports::VerifiedTagger`] takes it.
pub fn verified_tags() -> Vec<(String, String)> {
    vec![(VERIFIED_TAG_KEY.to_string(), "true".to_string())]
}

/// The S3 key ElastiCache writes for shard `index` (1-based) of an export: `<export name>-000N.rdb`
/// (ElastiCache User Guide, "Exporting a backup": "ElastiCache adds an instance identifier and .rdb").
pub fn shard_object_key(export_name: &str, index: u32) -> String {
    format!("{export_name}-{index:04}.rdb")
}

/// The S3 key of an export's manifest, next to its objects: `<export name>.manifest.json`
/// (see [`crate::backup::manifest::Manifest`]).
pub fn manifest_key(export_name: &str) -> String {
    format!("{export_name}.manifest.json")
}

/// The id of a drill's restored group when the input names none: `ecbr-<8 hex of SHA-256(execution id)>` (a valid
/// ElastiCache id, the same for a retried step, different per execution).
pub fn drill_group_id(execution_id: &str) -> String {
    let digest = Sha256::digest(execution_id.as_bytes());
    let hash: String = digest
        .iter()
        .take(HASH_HEX_LEN / 2)
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("ecbr-{hash}")
}

/// The S3 key of a restore's report, next to the manifest: `<export name>.restore-<execution name>.json`.
pub fn restore_report_key(export_name: &str, execution_name: &str) -> String {
    format!("{export_name}.restore-{}.json", slug(execution_name))
}

/// Longest `CacheClusterId`, characters (Amazon ElastiCache API Reference, CreateCacheCluster: "1 to 50
/// alphanumeric characters or hyphens"); a `ReplicationGroupId` or `SnapshotName` has at most 40.
pub const MAX_CACHE_CLUSTER_ID_LEN: usize = 50;

/// Checks a `CacheClusterId`: the rules of [`check_elasticache_id`], but up to [`MAX_CACHE_CLUSTER_ID_LEN`]
/// characters.
///
/// # Errors
/// The rule broken, as a phrase to follow the field name.
pub fn check_cache_cluster_id(id: &str) -> Result<(), String> {
    check_id(id, MAX_CACHE_CLUSTER_ID_LEN)
}

/// Checks the ElastiCache id rules (1–40 characters, ASCII letters, digits and hyphens, starting with a letter, no
/// `--`, no trailing `-`), case-insensitively.
///
/// # Errors
/// The rule broken, as a phrase to follow the field name.
pub fn check_elasticache_id(id: &str) -> Result<(), String> {
    check_id(id, MAX_SNAPSHOT_NAME_LEN)
}

/// Checks a `ServerlessCacheName`: the rules of [`check_elasticache_id`] (1–40 characters; the API stores it
/// lower-cased: Amazon ElastiCache API Reference, CreateServerlessCache, `ServerlessCacheName`).
///
/// # Errors
/// The rule broken, as a phrase to follow the field name.
pub fn check_serverless_cache_name(name: &str) -> Result<(), String> {
    check_id(name, MAX_SNAPSHOT_NAME_LEN)
}

/// The ElastiCache id rules with at most `max` characters. The character set is checked first: any other rule, and
/// any cut of an id that passed, then counts bytes and characters alike.
fn check_id(id: &str, max: usize) -> Result<(), String> {
    if !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err("may contain only ASCII letters, digits and hyphens".into());
    }
    if id.is_empty() || id.len() > max {
        return Err(format!("must be 1-{max} characters, got {}", id.len()));
    }
    if !id.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Err("must start with a letter".into());
    }
    if id.contains("--") {
        return Err("must not contain two consecutive hyphens".into());
    }
    if id.ends_with('-') {
        return Err("must not end with a hyphen".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn assert_valid(name: &str) {
        assert!(name.len() <= MAX_SNAPSHOT_NAME_LEN, "{name} too long");
        assert!(check_elasticache_id(name).is_ok(), "{name} invalid");
        assert_eq!(name, name.to_ascii_lowercase(), "{name} not lower-case");
    }

    #[test]
    fn snapshot_name_is_deterministic() {
        let a = snapshot_name(
            TargetKind::ReplicationGroup,
            "orders",
            "arn:aws:states:eu-west-1:1:execution:sm:run-1",
        );
        let b = snapshot_name(
            TargetKind::ReplicationGroup,
            "orders",
            "arn:aws:states:eu-west-1:1:execution:sm:run-1",
        );
        assert_eq!(a, b);
        assert!(a.starts_with("ecb-orders-"), "{a}");
        assert_valid(&a);
    }

    #[test]
    fn snapshot_name_differs_per_execution_and_target() {
        let a = snapshot_name(TargetKind::ReplicationGroup, "orders", "run-1");
        assert_ne!(
            a,
            snapshot_name(TargetKind::ReplicationGroup, "orders", "run-2")
        );
        assert_ne!(
            a,
            snapshot_name(TargetKind::ReplicationGroup, "orders-2", "run-1")
        );
        assert_ne!(
            a,
            snapshot_name(TargetKind::CacheCluster, "orders", "run-1")
        );
        assert_ne!(
            a,
            snapshot_name(TargetKind::ServerlessCache, "orders", "run-1")
        );
    }

    #[test]
    fn snapshot_name_is_case_insensitive_in_the_target() {
        assert_eq!(
            snapshot_name(TargetKind::CacheCluster, "Orders-001", "x"),
            snapshot_name(TargetKind::CacheCluster, "orders-001", "x")
        );
    }

    #[test]
    fn long_and_odd_targets_still_give_valid_names() {
        for target in [
            "a-very-long-replication-group-name-of-40c",
            "x",
            "abc-def-ghi-jkl-mno-pqr-stu-vwx-yz0-123",
            "a---b",
            "ends-with-hyphen-at-the-cut-point-xxxxxxx",
        ] {
            for exec in [
                "",
                "a:b/c d",
                "e7f2c2a4-59b3-4f4e-9f0e-2b1d0ad1bcb8",
                &"z".repeat(80),
            ] {
                assert_valid(&snapshot_name(TargetKind::ReplicationGroup, target, exec));
            }
        }
    }

    #[test]
    fn cut_point_never_leaves_double_or_trailing_hyphen() {
        // 27 characters fit; the 27th is a hyphen here.
        let name = snapshot_name(
            TargetKind::ReplicationGroup,
            "abcdefghijklmnopqrstuvwxyz-a",
            "e",
        );
        assert_valid(&name);
        assert!(!name.contains("--"), "{name}");
    }

    #[test]
    fn shard_keys_are_four_digit_one_based() {
        assert_eq!(
            shard_object_key("ecb-orders-12345678", 1),
            "ecb-orders-12345678-0001.rdb"
        );
        assert_eq!(shard_object_key("e", 12), "e-0012.rdb");
    }

    #[test]
    fn manifest_sits_next_to_the_objects() {
        assert_eq!(
            manifest_key("ecb-orders-12345678"),
            "ecb-orders-12345678.manifest.json"
        );
        assert!(manifest_key("e").starts_with("e"));
        assert!(!is_manifest_a_shard_key());
    }

    fn is_manifest_a_shard_key() -> bool {
        crate::backup::export::is_shard_key("e", &manifest_key("e"))
    }

    #[test]
    fn id_rules_name_the_problem() {
        assert!(check_elasticache_id("orders").is_ok());
        assert!(check_elasticache_id("Orders-001").is_ok());
        assert!(check_elasticache_id("").unwrap_err().contains("1-40"));
        assert!(
            check_elasticache_id(&"a".repeat(41))
                .unwrap_err()
                .contains("1-40")
        );
        assert!(
            check_elasticache_id("1orders")
                .unwrap_err()
                .contains("letter")
        );
        assert!(
            check_elasticache_id("or--ders")
                .unwrap_err()
                .contains("consecutive")
        );
        assert!(check_elasticache_id("orders-").unwrap_err().contains("end"));
        assert!(
            check_elasticache_id("or_ders")
                .unwrap_err()
                .contains("only")
        );
    }

    #[test]
    fn a_cache_cluster_id_may_have_up_to_50_characters() {
        let id50 = format!("a{}", "b".repeat(49));
        assert!(check_cache_cluster_id(&id50).is_ok());
        assert!(check_cache_cluster_id("orders-0001-002").is_ok());
        assert!(
            check_cache_cluster_id(&format!("{id50}c"))
                .unwrap_err()
                .contains("1-50")
        );
        assert!(check_cache_cluster_id(&format!("{}--x", "a".repeat(40))).is_err());
        assert!(check_cache_cluster_id(&format!("{}x-", "a".repeat(40))).is_err());
        assert!(check_cache_cluster_id(&format!("{}_x", "a".repeat(40))).is_err());
        assert!(
            check_elasticache_id(&"a".repeat(41)).is_err(),
            "a group id stays at 40"
        );
        // The snapshot name of a long node id still fits ElastiCache's 40.
        let name = snapshot_name(TargetKind::CacheCluster, &id50, "exec");
        assert!(
            name.len() <= MAX_SNAPSHOT_NAME_LEN && check_elasticache_id(&name).is_ok(),
            "{name}"
        );
    }

    #[test]
    fn a_non_ascii_id_is_refused_before_any_cut() {
        // 45 bytes, `é` on bytes 39-40: byte 40, where a 41-50 character id used to be split, is inside it.
        let id = format!("{}é{}", "a".repeat(39), "b".repeat(4));
        assert_eq!(id.len(), 45);
        assert!(!id.is_char_boundary(MAX_SNAPSHOT_NAME_LEN));
        let rule = check_cache_cluster_id(&id).unwrap_err();
        assert!(rule.contains("ASCII"), "{rule}");
        assert!(check_elasticache_id(&id).unwrap_err().contains("ASCII"));
        // The names derived from it still come out valid.
        assert_valid(&snapshot_name(TargetKind::CacheCluster, &id, "exec"));
    }

    #[test]
    fn slug_collapses_and_trims() {
        assert_eq!(slug("--A_b..C--"), "a-b-c");
        assert_eq!(slug("___"), "");
    }

    fn kind() -> impl Strategy<Value = TargetKind> {
        prop_oneof![
            Just(TargetKind::ReplicationGroup),
            Just(TargetKind::CacheCluster),
            Just(TargetKind::ServerlessCache)
        ]
    }

    proptest! {
        #[test]
        fn any_text_gives_a_valid_snapshot_name(k in kind(), target in ".*", long in ".{30,80}", exec in ".*") {
            for target in [target.as_str(), long.as_str()] {
                let name = snapshot_name(k, target, &exec);
                assert_valid(&name);
                prop_assert!(name.starts_with("ecb-"));
                if !slug(target).is_empty() {
                    prop_assert!(name.starts_with(&export_prefix(target)), "{} {}", name, export_prefix(target));
                }
            }
        }

        #[test]
        fn a_slug_is_lower_case_ascii_without_stray_hyphens(s in ".*") {
            let out = slug(&s);
            prop_assert!(out.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
            prop_assert!(!out.starts_with('-') && !out.ends_with('-') && !out.contains("--"));
        }

        #[test]
        fn an_accepted_id_is_short_ascii_and_any_text_is_answered(id in ".*", near in "[a-z0-9é-]{38,52}") {
            for id in [id.as_str(), near.as_str()] {
                if check_cache_cluster_id(id).is_ok() {
                    prop_assert!(id.is_ascii() && (1..=MAX_CACHE_CLUSTER_ID_LEN).contains(&id.len()));
                }
                if check_elasticache_id(id).is_ok() {
                    prop_assert!(id.is_ascii() && (1..=MAX_SNAPSHOT_NAME_LEN).contains(&id.len()));
                    prop_assert!(check_cache_cluster_id(id).is_ok());
                }
            }
        }

        #[test]
        fn derived_keys_take_any_text(name in ".*", exec in ".*", index in any::<u32>()) {
            prop_assert!(restore_report_key(&name, &exec).starts_with(&name));
            prop_assert!(shard_object_key(&name, index).ends_with(".rdb"));
            prop_assert!(manifest_key(&name).starts_with(&name));
            let group = drill_group_id(&exec);
            prop_assert!(check_elasticache_id(&group).is_ok(), "{}", group);
        }
    }
}
