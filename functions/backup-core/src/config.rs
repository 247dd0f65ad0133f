//! Function configuration read from the environment once, at cold start.

use std::env;

/// Default deadline for a snapshot to become `available`, in seconds.
pub const DEFAULT_SNAPSHOT_TIMEOUT_SECONDS: u64 = 3600;
/// Default deadline for every shard's `.rdb` to appear in S3 after CopySnapshot, in seconds.
pub const DEFAULT_EXPORT_TIMEOUT_SECONDS: u64 = 3600;

/// Settings every step function reads from its environment.
///
/// | variable | meaning | default |
/// |---|---|---|
/// | `BACKUP_BUCKET` | export bucket used when the execution input names none | none (input must name one) |
/// | `SNAPSHOT_TIMEOUT_SECONDS` | default snapshot deadline, seconds | 3600 |
/// | `EXPORT_TIMEOUT_SECONDS` | default export deadline, seconds | 3600 |
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Default export bucket (`BACKUP_BUCKET`).
    pub default_bucket: Option<String>,
    /// Default snapshot deadline in seconds.
    pub snapshot_timeout_seconds: u64,
    /// Default export deadline in seconds.
    pub export_timeout_seconds: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            default_bucket: None,
            snapshot_timeout_seconds: DEFAULT_SNAPSHOT_TIMEOUT_SECONDS,
            export_timeout_seconds: DEFAULT_EXPORT_TIMEOUT_SECONDS,
        }
    }
}

impl Config {
    /// Reads the configuration from the process environment.
    ///
    /// # Errors
    /// A message naming the variable when a timeout is not a positive integer.
    pub fn from_env() -> Result<Self, String> {
        Self::from_lookup(|k| env::var(k).ok())
    }

    /// Reads the configuration through `lookup` (the environment in production, a map in tests).
    ///
    /// # Errors
    /// A message naming the variable when a timeout is not a positive integer.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let seconds = |name: &str, default: u64| -> Result<u64, String> {
            match lookup(name) {
                None => Ok(default),
                Some(v) if v.trim().is_empty() => Ok(default),
                Some(v) => match v.trim().parse::<u64>() {
                    Ok(n) if n > 0 => Ok(n),
                    _ => Err(format!(
                        "{name} must be a positive integer number of seconds, got {v:?}"
                    )),
                },
            }
        };
        Ok(Self {
            default_bucket: lookup("BACKUP_BUCKET").filter(|b| !b.trim().is_empty()),
            snapshot_timeout_seconds: seconds(
                "SNAPSHOT_TIMEOUT_SECONDS",
                DEFAULT_SNAPSHOT_TIMEOUT_SECONDS,
            )?,
            export_timeout_seconds: seconds(
                "EXPORT_TIMEOUT_SECONDS",
                DEFAULT_EXPORT_TIMEOUT_SECONDS,
            )?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn defaults_apply_when_variables_are_absent() {
        let c = Config::from_lookup(|_| None).unwrap();
        assert_eq!(c, Config::default());
    }

    #[test]
    fn reads_bucket_and_timeouts() {
        let m: HashMap<&str, &str> = [
            ("BACKUP_BUCKET", "b1"),
            ("SNAPSHOT_TIMEOUT_SECONDS", "60"),
            ("EXPORT_TIMEOUT_SECONDS", "90"),
        ]
        .into();
        let c = Config::from_lookup(|k| m.get(k).map(|v| v.to_string())).unwrap();
        assert_eq!(c.default_bucket.as_deref(), Some("b1"));
        assert_eq!(
            (c.snapshot_timeout_seconds, c.export_timeout_seconds),
            (60, 90)
        );
    }

    #[test]
    fn rejects_non_numeric_timeout_naming_the_variable() {
        let err =
            Config::from_lookup(|k| (k == "EXPORT_TIMEOUT_SECONDS").then(|| "soon".to_string()))
                .unwrap_err();
        assert!(err.contains("EXPORT_TIMEOUT_SECONDS"), "{err}");
    }
}
