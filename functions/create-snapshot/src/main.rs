//! `create-snapshot`: validates the execution input, picks the node to snapshot and calls CreateSnapshot.
//! Configuration: see [`backup_core::Config`] (`BACKUP_BUCKET`, `SNAPSHOT_TIMEOUT_SECONDS`, `EXPORT_TIMEOUT_SECONDS`).

mod handler;

#[tokio::main]
async fn main() -> Result<(), aws_adapters::start::Error> {
    aws_adapters::start::serve(
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
