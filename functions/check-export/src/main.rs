//! `check-export`: is every shard's `.rdb` in S3, non-empty? → export status and the next wait.

use backup_core::aws::{ElastiCacheSnapshots, S3ExportStore};
use backup_core::{Config, Deps, SystemClock};
use lambda_runtime::{Error, run, service_fn, tracing};

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
        probe: (),
        secrets: (),
        config,
    };
    run(service_fn(|event| function_handler(event, &deps))).await
}
