//! `delete-group`: deletes a drill's group (or one ElastiCache reports create-failed), keeps and tags any other that
//! this restore execution created (tag checked); nothing else.
//! Configuration: see [`backup_core::Config`].

use backup_core::aws::ElastiCacheSnapshots;
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
        exports: (),
        verifier: (),
        clock: SystemClock,
        probe: (),
        secrets: (),
        config,
    };
    run(service_fn(|event| function_handler(event, &deps))).await
}
