//! What the restored group holds compared with the backup ([`compare`] into a [`RestoreVerification`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::backup::BackupInfo;
use crate::model::Timestamp;

/// What the restored group holds compared with the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreVerification {
    /// Keys in the backup.
    pub keys_expected: u64,
    /// Keys found (`DBSIZE` summed over the shards).
    pub keys_found: u64,
    /// Keys missing that had a TTL in the backup and may have expired since (allowed).
    pub keys_expired: u64,
    /// Counts within the allowance and every sampled key present with its type.
    #[serde(rename = "match")]
    pub matches: bool,
    /// Sampled keys checked.
    pub samples_checked: u64,
    /// Sampled keys missing or of another type (`db/key: expected type, found type`).
    #[serde(default)]
    pub samples_missing: Vec<String>,
    /// Per shard.
    pub shards: Vec<ShardCheck>,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub verified_at: Timestamp,
}

/// One shard's comparison.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShardCheck {
    /// `NodeGroupId`.
    pub node_group_id: String,
    /// Keys in the backup's object.
    pub expected: u64,
    /// `DBSIZE` of the restored shard.
    pub found: u64,
    /// Keys per database found (`INFO keyspace`).
    pub databases: BTreeMap<u64, u64>,
}

/// What one restored shard was found to hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardFound {
    /// `NodeGroupId`.
    pub node_group_id: String,
    /// Keys per database.
    pub databases: BTreeMap<u64, u64>,
    /// `(db/key, expected type, found type)` of each sampled key.
    pub samples: Vec<(String, String, String)>,
}

/// Compares what the restored shards hold with the backup: per shard, the keys found may fall short of the keys
/// in the object only by keys that had an expiry (they may have expired since; both figures are reported), never
/// exceed it, and every sampled key must be there with its type.
pub fn compare(backup: &BackupInfo, found: &[ShardFound], at: Timestamp) -> RestoreVerification {
    let mut shards = Vec::new();
    let mut matches = found.len() == backup.shards.len();
    let (mut expected_all, mut found_all, mut expired_all) = (0, 0, 0);
    let mut samples_checked = 0;
    let mut samples_missing = Vec::new();
    for (b, f) in backup.shards.iter().zip(found) {
        let keys: u64 = f.databases.values().sum();
        let short = b.keys.saturating_sub(keys);
        matches &= keys <= b.keys && short <= b.keys_with_expiry;
        expected_all += b.keys;
        found_all += keys;
        expired_all += short;
        for (key, want, got) in &f.samples {
            samples_checked += 1;
            if want != got {
                samples_missing.push(format!("{key}: expected {want}, found {got}"));
            }
        }
        shards.push(ShardCheck {
            node_group_id: b.node_group_id.clone(),
            expected: b.keys,
            found: keys,
            databases: f.databases.clone(),
        });
    }
    matches &= samples_missing.is_empty();
    RestoreVerification {
        keys_expected: expected_all,
        keys_found: found_all,
        keys_expired: expired_all,
        matches,
        samples_checked,
        samples_missing,
        shards,
        verified_at: at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::restore::backup::test_backup as backup;
    use time::macros::datetime;

    fn found(keys: u64, samples: Vec<(String, String, String)>) -> Vec<ShardFound> {
        vec![ShardFound {
            node_group_id: "0001".into(),
            databases: BTreeMap::from([(0, keys)]),
            samples,
        }]
    }

    #[test]
    fn keys_with_a_ttl_may_be_missing_others_may_not() {
        let at = datetime!(2026-11-22 04:00 UTC);
        let v = compare(&backup(100, 10), &found(95, Vec::new()), at);
        assert!(v.matches);
        assert_eq!(
            (v.keys_expected, v.keys_found, v.keys_expired),
            (100, 95, 5)
        );
        assert!(!compare(&backup(100, 10), &found(89, Vec::new()), at).matches);
        assert!(!compare(&backup(100, 10), &found(101, Vec::new()), at).matches);
        assert!(!compare(&backup(100, 10), &[], at).matches);
    }

    #[test]
    fn a_sampled_key_of_another_type_is_a_mismatch() {
        let at = datetime!(2026-11-22 04:00 UTC);
        let samples = vec![("0/user:1".into(), "hash".into(), "none".into())];
        let v = compare(&backup(100, 0), &found(100, samples), at);
        assert!(!v.matches);
        assert_eq!(
            v.samples_missing,
            vec!["0/user:1: expected hash, found none"]
        );
    }
}
