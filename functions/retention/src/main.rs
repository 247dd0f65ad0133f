//! `retention`: keeps, per target, the `keepLast` newest verified backups and every one within `keepDays`, and
//! deletes the rest as whole sets; then sweeps the snapshots failed runs kept; dry-run unless told otherwise. Started by its EventBridge Scheduler schedule.

use backup_core::aws::{ElastiCacheSnapshots, S3ExportStore};
use backup_core::{Config, Deps, SystemClock};
use lambda_runtime::{Error, run, service_fn, tracing};

mod handler;
mod sweep;
use handler::function_handler;

/// The SDK app name of this function's AWS calls.
const APP_NAME: &str = "elasticache-backup-retention";

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let config = Config::from_env().expect("invalid function configuration");
    // The app name marks this function's calls (User-Agent `app/…`): its DeleteSnapshot calls are the sweeper's.
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .app_name(aws_config::AppName::new(APP_NAME).expect("a valid app name"))
        .load()
        .await;
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
