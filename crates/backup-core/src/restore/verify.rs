//! What the restored group holds compared with the backup: which node of each shard is read ([`shard_member`],
//! [`node_access`]), which sampled keys are asked for ([`SampleBatch`]), and the comparison ([`compare`] into a
//! [`RestoreVerification`], [`RestoreVerification::verdict`]).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::backup::{BackupInfo, BackupShard};
use crate::error::BackupError;
use crate::model::{KeySample, NodeRole, Timestamp};
use crate::resources::{
    CacheClusterInfo, Endpoint, NodeAccess, ReplicationGroupInfo, Secret, ServerlessCacheInfo,
};

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

/// The node of the restored `group` to read `shard` (the `index`-th of the backup) from: the shard's node group by
/// `NodeGroupId`, else the `index`-th node group; its primary, else its first member. Returns its `CacheClusterId`.
///
/// # Errors
/// `RestoreMismatch` when the group has no such shard, or the shard no node.
pub fn shard_member<'g>(
    group: &'g ReplicationGroupInfo,
    index: usize,
    shard: &BackupShard,
) -> Result<&'g str, BackupError> {
    let node_group = group
        .node_groups
        .iter()
        .find(|ng| ng.id == shard.node_group_id)
        .or_else(|| group.node_groups.get(index))
        .ok_or_else(|| BackupError::RestoreMismatch {
            message: format!("the restored group has no shard {}", shard.node_group_id),
        })?;
    let member = node_group
        .members
        .iter()
        .find(|m| m.current_role == Some(NodeRole::Primary))
        .or_else(|| node_group.members.first())
        .ok_or_else(|| BackupError::RestoreMismatch {
            message: format!(
                "shard {} of the restored group has no node",
                shard.node_group_id
            ),
        })?;
    Ok(&member.cache_cluster_id)
}

/// How to reach `node` over the Redis protocol: its endpoint, with TLS when the group has in-transit encryption and
/// the restore's AUTH token when it has one.
///
/// # Errors
/// `RestoreUnreachable` when the node reports no endpoint.
pub fn node_access(
    node: CacheClusterInfo,
    tls: bool,
    auth: Option<Secret>,
) -> Result<NodeAccess, BackupError> {
    let endpoint = node
        .endpoint
        .ok_or_else(|| BackupError::RestoreUnreachable {
            message: format!("node {} reports no endpoint", node.id),
        })?;
    Ok(NodeAccess {
        endpoint,
        tls,
        auth,
    })
}

/// How to reach restored serverless cache `cache`: its `Endpoint`, one address for the whole cache (a serverless
/// cache is one logical cluster), with TLS as [`serverless_tls`] decides. No AUTH token: a serverless cache has
/// none (access is by user group, which the verification does not log in to).
///
/// # Errors
/// `RestoreUnreachable` when the cache reports no endpoint.
pub fn serverless_access(cache: &ServerlessCacheInfo) -> Result<NodeAccess, BackupError> {
    let endpoint = cache
        .endpoint
        .clone()
        .ok_or_else(|| BackupError::RestoreUnreachable {
            message: format!("serverless cache {} reports no endpoint", cache.name),
        })?;
    Ok(NodeAccess {
        tls: serverless_tls(&endpoint),
        endpoint,
        auth: None,
    })
}

/// Whether a serverless cache's endpoint is reached over TLS. ElastiCache Serverless accepts TLS connections only
/// (User Guide, "In-transit encryption (TLS) in ElastiCache"), and `ServerlessCache` has no in-transit encryption
/// field to read, unlike a group's `TransitEncryptionEnabled`: so always, except for an endpoint on a loopback
/// address (`127.0.0.0/8`, `::1`, `localhost`), which no ElastiCache cache has (its endpoint is a VPC endpoint's
/// DNS name) and only a local stand-in reports — the local emulator, which serves plain TCP.
pub fn serverless_tls(endpoint: &Endpoint) -> bool {
    let host = endpoint
        .address
        .trim_start_matches('[')
        .trim_end_matches(']');
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    !loopback
}

/// The sampled keys of one database of a shard, asked for in one `TYPE` round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleBatch {
    /// The database.
    pub db: u64,
    /// The keys, in sample order.
    pub keys: Vec<String>,
    /// Their types in the backup, in the same order.
    pub types: Vec<String>,
}

impl SampleBatch {
    /// One batch per database `shard`'s sample holds, databases in ascending order.
    pub fn of(shard: &BackupShard) -> Vec<Self> {
        let dbs: BTreeSet<u64> = shard.sample.iter().map(|k| k.db).collect();
        dbs.into_iter()
            .map(|db| {
                let keys: Vec<&KeySample> = shard.sample.iter().filter(|k| k.db == db).collect();
                Self {
                    db,
                    keys: keys.iter().map(|k| k.key.clone()).collect(),
                    types: keys.iter().map(|k| k.key_type.clone()).collect(),
                }
            })
            .collect()
    }

    /// `(db/key, expected type, found type)` of each key, given the types `found` in the restored shard (in key
    /// order; a key left without a type is not checked), as [`ShardFound::samples`] holds them.
    pub fn checks(&self, found: Vec<String>) -> Vec<(String, String, String)> {
        self.keys
            .iter()
            .zip(&self.types)
            .zip(found)
            .map(|((key, want), got)| (format!("{}/{key}", self.db), want.clone(), got))
            .collect()
    }
}

impl RestoreVerification {
    /// The step's verdict on restored group `group_id`, once the report is at `report_uri`.
    ///
    /// # Errors
    /// `RestoreMismatch` when the data differs: keys found and expected, those that may have expired, the sampled
    /// keys wrong (the first named), and the report.
    pub fn verdict(&self, group_id: &str, report_uri: &str) -> Result<(), BackupError> {
        if self.matches {
            return Ok(());
        }
        Err(BackupError::RestoreMismatch {
            message: format!(
                "restored group {group_id} holds {} keys, the backup {} ({} with a TTL may have expired); {} of {} sampled keys wrong{}; report {report_uri}",
                self.keys_found,
                self.keys_expected,
                self.keys_expired,
                self.samples_missing.len(),
                self.samples_checked,
                self.samples_missing
                    .first()
                    .map(|m| format!(" (e.g. {m})"))
                    .unwrap_or_default()
            ),
        })
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

    #[test]
    fn each_shard_is_read_from_its_primary_and_a_missing_endpoint_is_unreachable() {
        use crate::resources::{NodeGroupInfo, NodeGroupMemberInfo};
        let member = |id: &str, role| NodeGroupMemberInfo {
            cache_cluster_id: id.into(),
            current_role: role,
        };
        let group = ReplicationGroupInfo {
            node_groups: vec![NodeGroupInfo {
                id: "0001".into(),
                members: vec![
                    member("r-1", Some(NodeRole::Replica)),
                    member("p-1", Some(NodeRole::Primary)),
                ],
                slots: None,
            }],
            ..ReplicationGroupInfo::default()
        };
        let b = backup(1, 0);
        assert_eq!(shard_member(&group, 0, &b.shards[0]).unwrap(), "p-1");
        let empty = ReplicationGroupInfo::default();
        assert_eq!(
            shard_member(&empty, 0, &b.shards[0])
                .unwrap_err()
                .error_type(),
            "RestoreMismatch"
        );
        let node = CacheClusterInfo {
            id: "p-1".into(),
            ..CacheClusterInfo::default()
        };
        assert_eq!(
            node_access(node, true, None).unwrap_err().error_type(),
            "RestoreUnreachable"
        );
    }

    #[test]
    fn a_serverless_endpoint_is_read_over_tls_unless_it_is_a_local_stand_in() {
        let cache = |address: &str| ServerlessCacheInfo {
            name: "orders-sl".into(),
            endpoint: Some(Endpoint {
                address: address.into(),
                port: 6379,
            }),
            ..ServerlessCacheInfo::default()
        };
        let aws = serverless_access(&cache(
            "orders-sl-abc123.serverless.use1.cache.amazonaws.com",
        ))
        .unwrap();
        assert!(aws.tls && aws.auth.is_none());
        for local in ["127.0.0.1", "127.3.2.1", "localhost", "::1", "[::1]"] {
            assert!(!serverless_access(&cache(local)).unwrap().tls, "{local}");
        }
        assert!(serverless_access(&cache("10.0.0.12")).unwrap().tls);
        let none = ServerlessCacheInfo {
            name: "orders-sl".into(),
            ..ServerlessCacheInfo::default()
        };
        assert_eq!(
            serverless_access(&none).unwrap_err().error_type(),
            "RestoreUnreachable"
        );
    }

    #[test]
    fn samples_are_asked_for_per_database_and_checked_in_order() {
        let mut b = backup(1, 0);
        let sample = |db, key: &str, key_type: &str| KeySample {
            db,
            key: key.into(),
            key_type: key_type.into(),
        };
        b.shards[0].sample = vec![
            sample(1, "a", "hash"),
            sample(0, "b", "string"),
            sample(1, "c", "list"),
        ];
        let batches = SampleBatch::of(&b.shards[0]);
        assert_eq!(batches.iter().map(|b| b.db).collect::<Vec<_>>(), [0, 1]);
        assert_eq!(batches[1].keys, ["a", "c"]);
        assert_eq!(
            batches[1].checks(vec!["hash".into(), "none".into()]),
            [
                ("1/a".to_string(), "hash".to_string(), "hash".to_string()),
                ("1/c".to_string(), "list".to_string(), "none".to_string())
            ]
        );
    }

    #[test]
    fn a_mismatch_names_the_counts_the_first_wrong_sample_and_the_report() {
        let at = datetime!(2026-11-22 04:00 UTC);
        let samples = vec![("0/user:1".into(), "hash".into(), "none".into())];
        let v = compare(&backup(100, 0), &found(100, samples), at);
        let err = v.verdict("orders-r", "s3://b/r.json").unwrap_err();
        assert_eq!(
            err.to_string(),
            BackupError::RestoreMismatch {
                message: "restored group orders-r holds 100 keys, the backup 100 (0 with a TTL may have expired); 1 of 1 sampled keys wrong (e.g. 0/user:1: expected hash, found none); report s3://b/r.json".into()
            }
            .to_string()
        );
        assert!(
            compare(&backup(1, 0), &found(1, Vec::new()), at)
                .verdict("g", "r")
                .is_ok()
        );
    }
}
