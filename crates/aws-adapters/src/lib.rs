//! Every implementation of a `backup-core` port, and the start-up every Lambda shares.
//!
//! One Cargo feature per external dependency, so each function links only what it uses:
//!
//! | feature | module | port(s) | AWS API / protocol |
//! |---|---|---|---|
//! | `elasticache` | [`elasticache`] | `Snapshots`, `Groups`, `Inventory`, `EventLog` | Amazon ElastiCache API |
//! | `s3` | [`s3`] | `ExportStore`, `ExportBucket`, `ObjectReader`, `ObjectDeleter`, `SeedCopier`, `ObjectLocker`, `VerifiedTagger`, `ReportPublisher` | Amazon S3 API |
//! | `s3control` | [`s3control`] | `BatchReplicator` | Amazon S3 Control API (`CreateJob`: S3 Batch Replication) |
//! | `secrets` | [`secrets`] | `Secrets` | AWS Secrets Manager `GetSecretValue` |
//! | `sfn` | [`sfn`] | `ExecutionHistory`, `Executions` | AWS Step Functions `GetExecutionHistory`, `ListExecutions`, `DescribeExecution` |
//! | `verify` | [`verify`] | `Verifier` | S3 ranged `GetObject` + `rdb-check` |
//! | `probe` | [`probe`] | `DataProbe` | Redis protocol (`INFO keyspace`, `TYPE`) |
//! | `lambda` | [`start`] | — | `lambda_runtime`, `aws-config` |
//!
//! SDK errors are translated in the adapters ([`sdk`]), on modeled variants first, never on text; the domain only
//! sees `backup_core::BackupError`.

#[cfg(feature = "elasticache")]
pub mod elasticache;
#[cfg(feature = "probe")]
pub mod probe;
#[cfg(feature = "s3")]
pub mod s3;
#[cfg(feature = "s3control")]
pub mod s3control;
#[cfg(feature = "sdk")]
pub mod sdk;
#[cfg(feature = "secrets")]
pub mod secrets;
#[cfg(feature = "elasticache")]
pub mod serverless;
#[cfg(feature = "sfn")]
pub mod sfn;
#[cfg(feature = "lambda")]
pub mod start;
#[cfg(feature = "verify")]
pub mod verify;

#[cfg(feature = "elasticache")]
pub use elasticache::ElastiCacheSnapshots;
#[cfg(feature = "probe")]
pub use probe::RedisProbe;
#[cfg(feature = "s3")]
pub use s3::S3ExportStore;
#[cfg(feature = "s3control")]
pub use s3control::S3BatchJobs;
#[cfg(feature = "secrets")]
pub use secrets::SecretsManager;
#[cfg(feature = "sfn")]
pub use sfn::{SfnExecutions, SfnHistory};
#[cfg(feature = "verify")]
pub use verify::S3RdbVerifier;
