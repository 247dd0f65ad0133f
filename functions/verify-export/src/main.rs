//! `verify-export`: streams each exported `.rdb` from S3 through the RDB checker and writes the manifest.

use backup_core::SystemClock;
use backup_core::aws::S3ExportStore;
use lambda_runtime::{Error, run, service_fn, tracing};

mod handler;
use handler::{Deps, function_handler};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let deps = Deps {
        exports: S3ExportStore::new(aws_sdk_s3::Client::new(&sdk)),
        clock: SystemClock,
    };
    run(service_fn(|event| function_handler(event, &deps))).await
}
