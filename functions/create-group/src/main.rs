//! `create-group`: CreateReplicationGroup seeded from the backup, tagged with the restore execution.
//! Configuration: see [`backup_core::Config`].

mod handler;

#[tokio::main]
async fn main() -> Result<(), aws_adapters::start::Error> {
    aws_adapters::start::serve(
        async |aws| {
            Ok(aws
                .deps()
                .with_snapshots(aws.elasticache())
                .with_secrets(aws.secrets()))
        },
        handler::function_handler,
    )
    .await
}
