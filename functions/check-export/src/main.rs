//! `check-export`: is every shard's `.rdb` in S3, non-empty? → export status and the next wait.

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
