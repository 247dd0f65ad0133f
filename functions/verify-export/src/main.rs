//! `verify-export`: streams each exported `.rdb` from S3 through the RDB checker and writes the manifest.
//!
//! Configuration: see [`backup_core::Config`]; this function reads `VERIFY_PART_MIB` (bytes per ranged GetObject,
//! MiB, 1–1024, default 8) and `VERIFY_PARALLEL_PARTS` (requests in flight, 1–64, default 4). Memory use is about
//! their product.

use backup_core::aws::S3ExportStore;
use backup_core::{Config, Deps, SystemClock};
use lambda_runtime::{Error, run, service_fn, tracing};
use rdb_verify::S3RdbVerifier;

mod handler;
use handler::function_handler;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let config = Config::from_env().expect("invalid function configuration");
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let s3 = aws_sdk_s3::Client::new(&sdk);
    let deps = Deps {
        snapshots: (),
        exports: S3ExportStore::new(s3.clone()),
        verifier: S3RdbVerifier::new(s3).with_config(&config),
        clock: SystemClock,
        probe: (),
        secrets: (),
        config,
    };
    run(service_fn(|event| function_handler(event, &deps))).await
}
