//! `delete-group`: deletes a drill's group (or one ElastiCache reports create-failed), keeps and tags any other that
//! this restore execution created (tag checked); nothing else.
//! Configuration: see [`backup_core::Config`].

mod handler;

#[tokio::main]
async fn main() -> Result<(), aws_adapters::start::Error> {
    aws_adapters::start::serve(
        async |aws| Ok(aws.deps().with_snapshots(aws.elasticache())),
        handler::function_handler,
    )
    .await
}
