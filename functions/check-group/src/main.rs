//! `check-group`: the restored group's status (and its nodes') and the next wait.
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
