//! `resolve-backup`: finds the backup to restore (manifest or the newest verified one), checks its objects, refuses an existing target.
//! Configuration: see [`backup_core::Config`].

mod handler;

#[tokio::main]
async fn main() -> Result<(), aws_adapters::start::Error> {
    aws_adapters::start::serve(
        async |aws| {
            Ok(aws
                .deps()
                .with_snapshots(aws.elasticache())
                .with_exports(aws.s3())
                .with_verifier(aws.verifier()))
        },
        handler::function_handler,
    )
    .await
}
