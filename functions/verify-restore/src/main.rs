//! `verify-restore`: compares the restored group's keys with the manifest and writes the report next to it.
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
                .with_probe(aws.probe())
                .with_secrets(aws.secrets()))
        },
        handler::function_handler,
    )
    .await
}
