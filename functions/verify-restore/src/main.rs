//! `verify-restore`: compares the restored group's keys with the manifest and writes the report next to it.
//! Configuration: see [`backup_core::Config`].

use backup_core::aws::{ElastiCacheSnapshots, S3ExportStore, SecretsManager};
use backup_core::{Config, Deps, SystemClock};
use lambda_runtime::{Error, run, service_fn, tracing};
use redis_probe::RedisProbe;

mod handler;
use handler::function_handler;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let config = Config::from_env().expect("invalid function configuration");
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let deps = Deps {
        snapshots: ElastiCacheSnapshots::new(aws_sdk_elasticache::Client::new(&sdk)),
        exports: S3ExportStore::new(aws_sdk_s3::Client::new(&sdk)),
        verifier: (),
        clock: SystemClock,
        probe: RedisProbe,
        secrets: SecretsManager::new(aws_sdk_secretsmanager::Client::new(&sdk)),
        config,
    };
    run(service_fn(|event| function_handler(event, &deps))).await
}
