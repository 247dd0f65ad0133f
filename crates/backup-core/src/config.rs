//! Function configuration, read from the environment once, at cold start: [`Env`] is the one loader every function
//! uses (the backup steps through [`Config`], notify through its own settings), so a bad value fails the cold start
//! with the variable's name instead of a run half-way through.

use std::env;

use crate::partition::{Partition, SeedingMode};
use std::ops::RangeInclusive;

/// Most targets an inline Map carries. The fleet document (targets, then one result per target) must stay within
/// Step Functions' 256 KiB payload, and `States.DataLimitExceeded` cannot be caught. A failed child's result holds
/// its DescribeExecution answer with its cause nested three JSON strings deep: about 3 KB with a cause of
/// [`crate::error::MAX_LAMBDA_ERROR_MESSAGE_BYTES`] (measured by a test: 150 such failures are ~460 KB, 60 are
/// ~185 KB). A larger fleet runs as a Distributed Map, its lists and results in S3 (`crate::fleet` module documentation).
pub const MAX_INLINE_TARGETS: usize = 60;
/// Default deadline for a snapshot to become `available`, in seconds.
pub const DEFAULT_SNAPSHOT_TIMEOUT_SECONDS: u64 = 3600;
/// Default deadline for every shard's `.rdb` to appear in S3 after CopySnapshot, in seconds.
pub const DEFAULT_EXPORT_TIMEOUT_SECONDS: u64 = 3600;
/// Default size of one ranged `GetObject` of VerifyExport, MiB.
pub const DEFAULT_VERIFY_PART_MIB: u64 = 8;
/// Default number of ranged `GetObject` requests VerifyExport keeps in flight.
pub const DEFAULT_VERIFY_PARALLEL_PARTS: u64 = 4;
/// Default time one VerifyShard invocation checks before it pauses with a checkpoint, seconds (12 of the 15
/// minutes Lambda gives it).
pub const DEFAULT_VERIFY_BUDGET_SECONDS: u64 = 720;
/// Shortest accepted verification budget per invocation, seconds.
pub const MIN_VERIFY_BUDGET_SECONDS: u64 = 1;
/// Longest accepted verification budget per invocation (14 minutes), seconds: VerifyShard's own time limit is 900 s
/// (the Lambda maximum, `TimeoutSeconds` of the VerifyShard state), and a checkpoint must be written before it.
pub const MAX_VERIFY_BUDGET_SECONDS: u64 = 840;

/// A variable that is set but breaks its rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}={value:?}: {rule}")]
pub struct ConfigError {
    /// The environment variable.
    pub variable: String,
    /// Its value.
    pub value: String,
    /// The rule it breaks.
    pub rule: String,
}

/// Typed access to environment variables; an empty or blank value counts as unset.
pub struct Env<F> {
    lookup: F,
}

impl Env<fn(&str) -> Option<String>> {
    /// The process environment.
    pub fn process() -> Self {
        Self {
            lookup: |k| env::var(k).ok(),
        }
    }
}

impl<F: Fn(&str) -> Option<String>> Env<F> {
    /// Variables from `lookup` (a map in tests).
    pub fn from_lookup(lookup: F) -> Self {
        Self { lookup }
    }

    /// The trimmed value, or `None` when unset or blank.
    pub fn string(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    /// A whole number within `range`, `default` when unset.
    ///
    /// # Errors
    /// [`ConfigError`] naming the variable and the range.
    pub fn number(
        &self,
        name: &str,
        default: u64,
        range: RangeInclusive<u64>,
    ) -> Result<u64, ConfigError> {
        let Some(value) = self.string(name) else {
            return Ok(default);
        };
        match value.parse::<u64>() {
            Ok(n) if range.contains(&n) => Ok(n),
            _ => Err(ConfigError {
                variable: name.to_string(),
                rule: format!(
                    "must be a whole number from {} to {}",
                    range.start(),
                    range.end()
                ),
                value,
            }),
        }
    }

    /// A positive whole number of seconds, `default` when unset.
    ///
    /// # Errors
    /// [`ConfigError`] naming the variable.
    pub fn seconds(&self, name: &str, default: u64) -> Result<u64, ConfigError> {
        self.number(name, default, 1..=u64::MAX)
            .map_err(|e| ConfigError {
                rule: "must be a positive integer number of seconds".into(),
                ..e
            })
    }

    /// `true` or `false` (any case), `default` when unset.
    ///
    /// # Errors
    /// [`ConfigError`] naming the variable.
    pub fn flag(&self, name: &str, default: bool) -> Result<bool, ConfigError> {
        match self.string(name) {
            None => Ok(default),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(value) => Err(ConfigError {
                variable: name.to_string(),
                value,
                rule: "must be true or false".into(),
            }),
        }
    }
}

/// Settings of the backup step functions.
///
/// | variable | meaning | default |
/// |---|---|---|
/// | `BACKUP_BUCKET` | export bucket used when the execution input names none | none (input must name one) |
/// | `SNAPSHOT_TIMEOUT_SECONDS` | default snapshot deadline, seconds | 3600 |
/// | `EXPORT_TIMEOUT_SECONDS` | default export deadline, seconds | 3600 |
/// | `VERIFY_PART_MIB` | bytes per ranged GetObject of VerifyExport, MiB, 1–1024 | 8 |
/// | `VERIFY_PARALLEL_PARTS` | ranged GetObject requests in flight, 1–64 (memory ≈ part × parallel) | 4 |
/// | `VERIFY_BUDGET_SECONDS` | default seconds one VerifyShard invocation checks before it pauses with a checkpoint, 1–840 | 720 |
/// | `FLEET_INLINE_MAX_TARGETS` | a fleet of more targets runs as a Distributed Map (its lists in `BACKUP_BUCKET`), 0–60 | 60 |
/// | `AWS_REGION` | the function's region (set by Lambda); the export bucket must be in it | — |
/// | `SEEDING_MODE` | how ElastiCache reads a restore's seed objects: `bucket-policy` or `object-acl` ([`SeedingMode`]) | by region ([`SeedingMode::for_region`]) |
/// | `SEED_BUCKET` | the bucket (ACLs enabled) ResolveBackup copies seed objects into (`object-acl`) | — |
/// | `OBJECT_LOCK_MODE` | `GOVERNANCE` or `COMPLIANCE`: WriteManifest locks a verified backup's objects | — (no lock) |
/// | `OBJECT_LOCK_DAYS` | days a verified backup stays locked, 1–36500 (with `OBJECT_LOCK_MODE`) | — |
/// | `VAULT_BUCKET` | the vault bucket in another account: restores may read from it; WriteManifest starts its replication | — (no vault) |
/// | `VAULT_REPLICATION_ROLE_ARN` | the S3 Batch Operations role WriteManifest passes to its Batch Replication job | — |
/// | `ACCOUNT_ID` | this account's id, which S3 Control requests name (`x-amz-account-id`) | — |
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Default export bucket (`BACKUP_BUCKET`).
    pub default_bucket: Option<String>,
    /// Default snapshot deadline in seconds.
    pub snapshot_timeout_seconds: u64,
    /// Default export deadline in seconds.
    pub export_timeout_seconds: u64,
    /// Bytes per ranged read when verifying.
    pub verify_part_bytes: u64,
    /// Ranged reads in flight when verifying.
    pub verify_parallel_parts: usize,
    /// Default seconds one VerifyShard invocation checks before it pauses (the input's `verifyBudgetSeconds`).
    pub verify_budget_seconds: u64,
    /// The function's region (`AWS_REGION`, set by Lambda): the export bucket must be in it.
    pub region: Option<String>,
    /// Most targets a fleet runs in an inline Map; more run in a Distributed Map (`crate::fleet`).
    pub fleet_inline_max_targets: usize,
    /// `SEEDING_MODE`, when set (else the region's documented route, see [`Config::seeding_mode`]).
    pub seeding_mode: Option<SeedingMode>,
    /// `SEED_BUCKET`: where ResolveBackup copies seed objects in `object-acl` mode.
    pub seed_bucket: Option<String>,
    /// Per-object Object Lock retention set on a verified backup (`OBJECT_LOCK_MODE`, `OBJECT_LOCK_DAYS`).
    pub object_lock: Option<ObjectLock>,
    /// `VAULT_BUCKET`: the cross-account vault bucket verified backups replicate to ([`Vault`]), or `None`.
    pub vault: Option<Vault>,
}

/// The vault of this deployment (docs/design.md, "The vault"): a bucket in another account, Object Lock in
/// compliance mode, that the backup bucket replicates verified backups to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vault {
    /// The vault bucket's name (`VAULT_BUCKET`).
    pub bucket: String,
    /// The Batch Operations role WriteManifest's replication job runs as (`VAULT_REPLICATION_ROLE_ARN`); `None`
    /// where the function only reads the vault (ResolveBackup), or where no job can be started (the local stack,
    /// whose replication step stands in for S3's).
    pub replication_role_arn: Option<String>,
    /// This account's id (`ACCOUNT_ID`), which `CreateJob` names.
    pub account_id: Option<String>,
}

/// Object Lock retention WriteManifest sets on each object of a verified backup (S3 API Reference,
/// `PutObjectRetention`): a backup is locked exactly when it is proven good (docs/design.md §7c).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectLock {
    /// `GOVERNANCE` (users with `s3:BypassGovernanceRetention` may shorten it) or `COMPLIANCE` (nobody may).
    pub mode: ObjectLockMode,
    /// Days from verification until the retention ends.
    pub days: u64,
}

/// `ObjectLockRetentionMode` (S3 API Reference, `ObjectLockRetention`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::Display)]
pub enum ObjectLockMode {
    /// `GOVERNANCE`.
    #[strum(serialize = "GOVERNANCE")]
    Governance,
    /// `COMPLIANCE`.
    #[strum(serialize = "COMPLIANCE")]
    Compliance,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            default_bucket: None,
            snapshot_timeout_seconds: DEFAULT_SNAPSHOT_TIMEOUT_SECONDS,
            export_timeout_seconds: DEFAULT_EXPORT_TIMEOUT_SECONDS,
            verify_part_bytes: DEFAULT_VERIFY_PART_MIB * 1024 * 1024,
            verify_parallel_parts: DEFAULT_VERIFY_PARALLEL_PARTS as usize,
            verify_budget_seconds: DEFAULT_VERIFY_BUDGET_SECONDS,
            region: None,
            fleet_inline_max_targets: MAX_INLINE_TARGETS,
            seeding_mode: None,
            seed_bucket: None,
            object_lock: None,
            vault: None,
        }
    }
}

impl Config {
    /// Reads the configuration from the process environment.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first variable that breaks its rule.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::load(&Env::process())
    }

    /// Reads the configuration from `env`.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first variable that breaks its rule.
    pub fn load<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        Ok(Self {
            default_bucket: env.string("BACKUP_BUCKET"),
            snapshot_timeout_seconds: env
                .seconds("SNAPSHOT_TIMEOUT_SECONDS", DEFAULT_SNAPSHOT_TIMEOUT_SECONDS)?,
            export_timeout_seconds: env
                .seconds("EXPORT_TIMEOUT_SECONDS", DEFAULT_EXPORT_TIMEOUT_SECONDS)?,
            verify_part_bytes: env.number("VERIFY_PART_MIB", DEFAULT_VERIFY_PART_MIB, 1..=1024)?
                * 1024
                * 1024,
            verify_parallel_parts: usize::try_from(env.number(
                "VERIFY_PARALLEL_PARTS",
                DEFAULT_VERIFY_PARALLEL_PARTS,
                1..=64,
            )?)
            .unwrap_or(1),
            verify_budget_seconds: env.number(
                "VERIFY_BUDGET_SECONDS",
                DEFAULT_VERIFY_BUDGET_SECONDS,
                MIN_VERIFY_BUDGET_SECONDS..=MAX_VERIFY_BUDGET_SECONDS,
            )?,
            region: env.string("AWS_REGION"),
            fleet_inline_max_targets: usize::try_from(env.number(
                "FLEET_INLINE_MAX_TARGETS",
                MAX_INLINE_TARGETS as u64,
                0..=MAX_INLINE_TARGETS as u64,
            )?)
            .unwrap_or(MAX_INLINE_TARGETS),
            seeding_mode: env
                .string("SEEDING_MODE")
                .map(|v| {
                    SeedingMode::parse(&v).map_err(|rule| ConfigError {
                        variable: "SEEDING_MODE".into(),
                        value: v.clone(),
                        rule,
                    })
                })
                .transpose()?,
            seed_bucket: env.string("SEED_BUCKET"),
            object_lock: match env.string("OBJECT_LOCK_MODE") {
                None => None,
                Some(mode) => Some(ObjectLock {
                    mode: match mode.as_str() {
                        "GOVERNANCE" => ObjectLockMode::Governance,
                        "COMPLIANCE" => ObjectLockMode::Compliance,
                        _ => {
                            return Err(ConfigError {
                                variable: "OBJECT_LOCK_MODE".into(),
                                value: mode,
                                rule: "must be GOVERNANCE or COMPLIANCE".into(),
                            });
                        }
                    },
                    days: match env.number("OBJECT_LOCK_DAYS", 0, 1..=36500)? {
                        0 => {
                            return Err(ConfigError {
                                variable: "OBJECT_LOCK_DAYS".into(),
                                value: String::new(),
                                rule: "must be set (1 to 36500) when OBJECT_LOCK_MODE is".into(),
                            });
                        }
                        days => days,
                    },
                }),
            },
            vault: match env.string("VAULT_BUCKET") {
                None => None,
                Some(bucket) => {
                    if let Err(rule) = crate::naming::check_bucket_name(&bucket) {
                        return Err(ConfigError {
                            variable: "VAULT_BUCKET".into(),
                            value: bucket,
                            rule,
                        });
                    }
                    let account_id = env.string("ACCOUNT_ID");
                    if let Some(id) = &account_id
                        && (id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()))
                    {
                        return Err(ConfigError {
                            variable: "ACCOUNT_ID".into(),
                            value: id.clone(),
                            rule: "must be a 12-digit AWS account id".into(),
                        });
                    }
                    let replication_role_arn = env.string("VAULT_REPLICATION_ROLE_ARN");
                    if replication_role_arn.is_some() && account_id.is_none() {
                        return Err(ConfigError {
                            variable: "ACCOUNT_ID".into(),
                            value: String::new(),
                            rule: "must be set when VAULT_REPLICATION_ROLE_ARN is (S3 Control requests name the account)".into(),
                        });
                    }
                    Some(Vault {
                        bucket,
                        replication_role_arn,
                        account_id,
                    })
                }
            },
        })
    }

    /// The seeding route: `SEEDING_MODE` when set, else the documented one for the region (object ACL when the
    /// region is unknown: the default regions' route).
    pub fn seeding_mode(&self) -> SeedingMode {
        self.seeding_mode.unwrap_or_else(|| {
            self.region
                .as_deref()
                .map_or(SeedingMode::ObjectAcl, SeedingMode::for_region)
        })
    }

    /// The partition of the function's region (`aws` when unknown).
    pub fn partition(&self) -> Partition {
        self.region
            .as_deref()
            .map_or(Partition::Aws, Partition::of_region)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&'static str, &'static str)]) -> Env<impl Fn(&str) -> Option<String>> {
        let m: HashMap<&str, &str> = pairs.iter().copied().collect();
        Env::from_lookup(move |k: &str| m.get(k).map(|v| v.to_string()))
    }

    #[test]
    fn defaults_apply_when_variables_are_absent_or_blank() {
        assert_eq!(Config::load(&env(&[])).unwrap(), Config::default());
        assert_eq!(
            Config::load(&env(&[("BACKUP_BUCKET", " "), ("VERIFY_PART_MIB", "")])).unwrap(),
            Config::default()
        );
    }

    #[test]
    fn reads_every_setting() {
        let c = Config::load(&env(&[
            ("BACKUP_BUCKET", "b1"),
            ("SNAPSHOT_TIMEOUT_SECONDS", "60"),
            ("EXPORT_TIMEOUT_SECONDS", "90"),
            ("VERIFY_PART_MIB", " 16 "),
            ("VERIFY_PARALLEL_PARTS", "2"),
            ("FLEET_INLINE_MAX_TARGETS", "0"),
        ]))
        .unwrap();
        assert_eq!(c.fleet_inline_max_targets, 0);
        assert_eq!(c.default_bucket.as_deref(), Some("b1"));
        assert_eq!(
            (c.snapshot_timeout_seconds, c.export_timeout_seconds),
            (60, 90)
        );
        assert_eq!(
            (c.verify_part_bytes, c.verify_parallel_parts),
            (16 << 20, 2)
        );
    }

    #[test]
    fn a_vault_is_read_with_its_replication_role_and_account() {
        let v = Config::load(&env(&[
            ("VAULT_BUCKET", "acme-vault"),
            (
                "VAULT_REPLICATION_ROLE_ARN",
                "arn:aws:iam::111122223333:role/r",
            ),
            ("ACCOUNT_ID", "111122223333"),
        ]))
        .unwrap();
        assert_eq!(
            v.vault,
            Some(Vault {
                bucket: "acme-vault".into(),
                replication_role_arn: Some("arn:aws:iam::111122223333:role/r".into()),
                account_id: Some("111122223333".into()),
            })
        );
        let read_only = Config::load(&env(&[("VAULT_BUCKET", "acme-vault")])).unwrap();
        assert_eq!(read_only.vault.unwrap().replication_role_arn, None);
        for (pairs, variable) in [
            (&[("VAULT_BUCKET", "Acme_Vault")][..], "VAULT_BUCKET"),
            (
                &[("VAULT_BUCKET", "vlt"), ("ACCOUNT_ID", "12345")][..],
                "ACCOUNT_ID",
            ),
            (
                &[
                    ("VAULT_BUCKET", "vlt"),
                    ("VAULT_REPLICATION_ROLE_ARN", "arn:r"),
                ][..],
                "ACCOUNT_ID",
            ),
        ] {
            assert_eq!(Config::load(&env(pairs)).unwrap_err().variable, variable);
        }
    }

    #[test]
    fn a_bad_value_names_the_variable_and_the_rule() {
        let lock = Config::load(&env(&[
            ("OBJECT_LOCK_MODE", "COMPLIANCE"),
            ("OBJECT_LOCK_DAYS", "30"),
            ("SEEDING_MODE", "bucket-policy"),
            ("SEED_BUCKET", "seeds"),
        ]))
        .unwrap();
        assert_eq!(
            lock.object_lock,
            Some(ObjectLock {
                mode: ObjectLockMode::Compliance,
                days: 30
            })
        );
        assert_eq!(lock.seeding_mode(), SeedingMode::BucketPolicy);
        assert_eq!(lock.seed_bucket.as_deref(), Some("seeds"));
        for (pairs, variable) in [
            (vec![("OBJECT_LOCK_MODE", "GOVERNANCE")], "OBJECT_LOCK_DAYS"),
            (
                vec![
                    ("OBJECT_LOCK_MODE", "governance"),
                    ("OBJECT_LOCK_DAYS", "1"),
                ],
                "OBJECT_LOCK_MODE",
            ),
            (vec![("SEEDING_MODE", "acl")], "SEEDING_MODE"),
        ] {
            assert_eq!(Config::load(&env(&pairs)).unwrap_err().variable, variable);
        }
        // Unset: the region's documented route.
        let opt_in = Config::load(&env(&[("AWS_REGION", "ap-east-1")])).unwrap();
        assert_eq!(opt_in.seeding_mode(), SeedingMode::BucketPolicy);
        let default = Config::load(&env(&[("AWS_REGION", "us-gov-west-1")])).unwrap();
        assert_eq!(default.seeding_mode(), SeedingMode::ObjectAcl);
        assert_eq!(default.partition(), Partition::AwsUsGov);
        let err = Config::load(&env(&[("EXPORT_TIMEOUT_SECONDS", "soon")])).unwrap_err();
        assert_eq!(err.variable, "EXPORT_TIMEOUT_SECONDS");
        assert!(err.to_string().contains("positive integer"), "{err}");
        for (name, value) in [
            ("VERIFY_PART_MIB", "0"),
            ("VERIFY_PARALLEL_PARTS", "65"),
            ("FLEET_INLINE_MAX_TARGETS", "61"),
        ] {
            let pairs = [(name, value)];
            let err = Config::load(&env(&pairs)).unwrap_err();
            assert!(err.to_string().starts_with(name), "{err}");
        }
        assert_eq!(
            env(&[("X", "yes")]).flag("X", false).unwrap_err().rule,
            "must be true or false"
        );
        assert!(env(&[("X", "TRUE")]).flag("X", false).unwrap());
    }
}
