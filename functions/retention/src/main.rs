//! `retention`: keeps, per target, the `keepLast` newest verified backups and every one within `keepDays`, and
//! deletes the rest as whole sets; then sweeps the snapshots failed runs kept; dry-run unless told otherwise. Started by its EventBridge Scheduler schedule.

mod handler;

/// The SDK app name of this function's AWS calls: its DeleteSnapshot calls are the sweeper's (User-Agent `app/…`).
const APP_NAME: &str = "elasticache-backup-retention";

#[tokio::main]
async fn main() -> Result<(), aws_adapters::start::Error> {
    aws_adapters::start::Start::app_name(APP_NAME)
        .serve(
            async |aws| {
                Ok(aws
                    .deps()
                    .with_snapshots(aws.elasticache())
                    .with_exports(aws.s3()))
            },
            handler::function_handler,
        )
        .await
}
