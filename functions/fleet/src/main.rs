//! `fleet`: the two Lambda steps of the fleet state machine (`terraform/fleet.asl.json`): `Discover` (which targets a
//! selector or list names, each as a backup execution input) and `Summarize` (succeeded / failed / skipped).
//! Configuration: see [`backup_core::Config`] (`BACKUP_BUCKET`, where a Distributed Map fleet keeps its lists,
//! `FLEET_INLINE_MAX_TARGETS`, and the deadlines, which the children's inputs are validated against).

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
