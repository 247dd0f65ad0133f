//! [`BackupError`]: every way a step can fail, with the stable `error_type` names the state machine matches.
//!
//! The names are a contract with `terraform/backup.asl.json` (Retry/Catch `ErrorEquals`); see docs/design.md §5.
//! A Rust type name never reaches Step Functions: the Lambda error's name is [`BackupError::error_type`] and its
//! message [`BackupError::lambda_error_message`].

/// Boxed source error kept for logs (`#[source]`), never flattened early.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A failed step. The variant decides what the state machine does (see [`BackupError::error_type`]).
///
/// The variant's name *is* the `error_type` (derived with `strum`), and [`BackupError::ERROR_TYPES`] lists them all:
/// the contract test `tests/contracts.rs` checks every `ErrorEquals` of every ASL file against that list.
#[derive(Debug, thiserror::Error, strum::IntoStaticStr, strum::VariantNames)]
pub enum BackupError {
    /// The execution input fails validation. Caught → the execution fails. Nothing was created.
    #[error("invalid input: `{field}` {rule}")]
    InvalidInput {
        /// The input field at fault, as spelt in the execution input (e.g. `replicationGroupId`).
        field: String,
        /// The rule it breaks.
        rule: String,
    },
    /// The cluster (or snapshot) is in an operation that excludes ours: status not `available`,
    /// `InvalidCacheClusterState`, `InvalidReplicationGroupState`, `InvalidSnapshotState`. Retried with backoff.
    #[error("{message}")]
    ClusterBusy {
        /// What was busy and why.
        message: String,
        /// The AWS error, if one was returned.
        #[source]
        source: Option<BoxError>,
    },
    /// AWS throttled the call and the SDK's own retries were exhausted. Retried with backoff.
    #[error("{message}")]
    Throttled {
        /// The operation and AWS message.
        message: String,
        /// The AWS error.
        #[source]
        source: Option<BoxError>,
    },
    /// `CacheClusterNotFound` / `ReplicationGroupNotFoundFault`.
    #[error("{message}")]
    TargetNotFound {
        /// Which id was not found.
        message: String,
        /// The AWS error.
        #[source]
        source: Option<BoxError>,
    },
    /// Data tiering, Memcached, `SnapshotFeatureNotSupportedFault`: found before anything is created.
    #[error("{message}")]
    NotSupported {
        /// Why the target cannot be backed up by export.
        message: String,
        /// The AWS error, if one was returned.
        #[source]
        source: Option<BoxError>,
    },
    /// `SnapshotQuotaExceededFault`: 20 manual snapshots per node per rolling 24 h.
    #[error("{message}")]
    SnapshotQuotaExceeded {
        /// The AWS message.
        message: String,
        /// The AWS error.
        #[source]
        source: Option<BoxError>,
    },
    /// The snapshot reached status `failed`, vanished, or is not ours.
    #[error("{message}")]
    SnapshotFailed {
        /// What happened to which snapshot.
        message: String,
    },
    /// The snapshot was not `available` by its deadline.
    #[error("{message}")]
    SnapshotTimeout {
        /// Snapshot, status and deadline.
        message: String,
    },
    /// CopySnapshot to the bucket was refused (wrong region, missing bucket, not owned, permissions, key exists),
    /// or the bucket vanished while checking. The AWS code and message are kept.
    #[error("{message}")]
    ExportRejected {
        /// The AWS code and message.
        message: String,
        /// The AWS error.
        #[source]
        source: Option<BoxError>,
    },
    /// Not every shard's `.rdb` was in S3, non-empty, by the export deadline.
    #[error("{message}")]
    ExportTimeout {
        /// What was found and what is missing.
        message: String,
    },
    /// An exported `.rdb` failed its end-to-end check (truncated, corrupt, bad CRC-64): the source snapshot is kept.
    #[error("{message}")]
    ExportCorrupt {
        /// The object and what is wrong with it, with the offset.
        message: String,
    },
    /// An exported `.rdb` is in an RDB format this version of the checker does not read: a newer RDB version (or
    /// magic) than it knows, or an opcode/value type it does not know (a newer engine, or corruption: the message
    /// says both). Not called corrupt, since the backup may well be good: upgrade elasticache-backup. The source
    /// snapshot is kept.
    #[error("{message}")]
    UnsupportedRdbFormat {
        /// The object, the RDB version (magic and number) and what was not understood, with the offset.
        message: String,
    },
    /// The delete step found the export incomplete: the source snapshot is kept.
    #[error("{message}")]
    ExportIncomplete {
        /// What was found and what is missing.
        message: String,
    },
    /// Restore: the manifest (or the latest verified backup of the source) is not there, or an object it lists is
    /// missing. Nothing was created.
    #[error("{message}")]
    BackupNotFound {
        /// What was looked for where.
        message: String,
    },
    /// Restore: an object's size or SHA-256 differs from the manifest. Nothing was created.
    #[error("{message}")]
    BackupCorrupt {
        /// The object and what differs.
        message: String,
    },
    /// Restore: the target replication group id already exists (`ReplicationGroupAlreadyExists` for a group this
    /// execution did not create). Nothing is touched.
    #[error("{message}")]
    TargetExists {
        /// The id.
        message: String,
    },
    /// Restore: AWS refused CreateReplicationGroup (parameters, quotas, seed not readable); the AWS message kept.
    #[error("{message}")]
    RestoreRejected {
        /// The AWS code and message.
        message: String,
        /// The AWS error.
        #[source]
        source: Option<BoxError>,
    },
    /// Restore: the group reached `create-failed` or a node `restore-failed`. A `create-failed` group (and a drill's
    /// group) is deleted; any other is kept, tagged `elasticache-backup:restore-verdict=unverified`.
    #[error("{message}")]
    RestoreFailed {
        /// Group and statuses.
        message: String,
    },
    /// Restore: the group was not `available` by its deadline. A drill's group is deleted; a restore's is kept
    /// (it may still become `available`), tagged `unverified`.
    #[error("{message}")]
    RestoreTimeout {
        /// Group, status, deadline.
        message: String,
    },
    /// Restore: the restored data does not match the manifest (keys missing beyond those with a TTL, a sampled key
    /// missing or of another type); the report says what. A drill's group is deleted; a restore's is kept, tagged
    /// `elasticache-backup:restore-verdict=mismatch`, for a person to judge.
    #[error("{message}")]
    RestoreMismatch {
        /// Expected and found.
        message: String,
    },
    /// Restore: VerifyRestore could not reach the restored group over the Redis protocol (no route, a security group,
    /// TLS or AUTH refused, a timeout), so its data is unverified. Distinct from [`BackupError::RestoreMismatch`]:
    /// nothing says the data is wrong. A drill's group is deleted; a restore's is kept, tagged
    /// `elasticache-backup:restore-verdict=unverified`. Retried a few times (a new endpoint may take a moment).
    #[error("{message}")]
    RestoreUnreachable {
        /// The node and what failed.
        message: String,
    },
    /// AWS answered with a client error (4xx) that no other variant models: AccessDenied, a validation error, a
    /// configuration the call cannot work with. Not retried: repeating the call cannot help. Caught → the execution
    /// fails.
    #[error("{message}")]
    AwsRejected {
        /// The operation, code and message.
        message: String,
        /// The SDK error.
        #[source]
        source: Option<BoxError>,
    },
    /// Any other AWS failure: a 5xx answer, a timeout, a connection failure. Transient: every Task retries it (a few
    /// times, with backoff), then it is caught → the execution fails.
    #[error("{message}")]
    AwsError {
        /// The operation, code and message.
        message: String,
        /// The SDK error.
        #[source]
        source: Option<BoxError>,
    },
}

impl BackupError {
    /// The stable name Step Functions sees as the error (Lambda `errorType`): the variant's name, e.g.
    /// `ClusterBusy`.
    pub fn error_type(&self) -> &'static str {
        self.into()
    }

    /// Every `error_type` this enum can produce, derived from the variants.
    pub const ERROR_TYPES: &'static [&'static str] = <Self as strum::VariantNames>::VARIANTS;

    /// Shorthand for [`BackupError::InvalidInput`].
    pub fn invalid_input(field: impl Into<String>, rule: impl Into<String>) -> Self {
        Self::InvalidInput {
            field: field.into(),
            rule: rule.into(),
        }
    }

    /// The message together with its source chain, for `errorMessage`.
    pub fn full_message(&self) -> String {
        use std::error::Error as _;
        let mut msg = self.to_string();
        let mut cur = self.source();
        while let Some(s) = cur {
            let text = s.to_string();
            if !msg.contains(&text) {
                msg.push_str(": ");
                msg.push_str(&text);
            }
            cur = s.source();
        }
        msg
    }
}

/// Longest `errorMessage` a function returns, bytes (cut between characters, ending in `…`). It bounds the cause of
/// every failed execution, and so what a fleet's inline Map carries per failed child
/// ([`crate::fleet::MAX_INLINE_TARGETS`]); the whole message is in the function's log.
pub const MAX_LAMBDA_ERROR_MESSAGE_BYTES: usize = 1536;

impl BackupError {
    /// The `errorMessage` a function returns: [`BackupError::full_message`], cut to
    /// [`MAX_LAMBDA_ERROR_MESSAGE_BYTES`] between characters (ending in `…`). With [`BackupError::error_type`] it is
    /// the Lambda error Step Functions matches (the adapter crate builds `lambda_runtime::Diagnostic` from the two).
    pub fn lambda_error_message(&self) -> String {
        let message = self.full_message();
        if message.len() > MAX_LAMBDA_ERROR_MESSAGE_BYTES {
            tracing::warn!(error_type = self.error_type(), message = %message, "error message cut for Step Functions");
        }
        crate::text::ellipsize_bytes(&message, MAX_LAMBDA_ERROR_MESSAGE_BYTES)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnostic_carries_stable_name_and_message() {
        let e = BackupError::invalid_input("bucket", "must be 3-63 characters");
        assert_eq!(e.error_type(), "InvalidInput");
        assert_eq!(
            e.lambda_error_message(),
            "invalid input: `bucket` must be 3-63 characters"
        );
    }

    #[test]
    fn the_error_type_is_the_variant_name_and_is_listed() {
        let busy = BackupError::ClusterBusy {
            message: String::new(),
            source: None,
        };
        assert_eq!(busy.error_type(), "ClusterBusy");
        assert_eq!(
            BackupError::invalid_input("a", "b").error_type(),
            "InvalidInput"
        );
        assert!(BackupError::ERROR_TYPES.contains(&"ExportCorrupt"));
        assert!(BackupError::ERROR_TYPES.contains(&"UnsupportedRdbFormat"));
        assert_eq!(BackupError::ERROR_TYPES.len(), 23);
    }

    #[test]
    fn full_message_appends_source_chain() {
        let src: BoxError = "bucket policy denies PutObject".into();
        let e = BackupError::ExportRejected {
            message: "CopySnapshot refused".into(),
            source: Some(src),
        };
        assert_eq!(
            e.full_message(),
            "CopySnapshot refused: bucket policy denies PutObject"
        );
    }

    #[test]
    fn a_long_message_is_cut_to_the_byte_limit_between_characters() {
        let long = BackupError::ExportRejected {
            message: "é".repeat(5000),
            source: None,
        };
        let m = long.lambda_error_message();
        assert!(m.len() <= MAX_LAMBDA_ERROR_MESSAGE_BYTES);
        assert!(m.ends_with('…'));
        assert!(m.len() > MAX_LAMBDA_ERROR_MESSAGE_BYTES - 8);
    }
}
