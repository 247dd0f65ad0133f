//! `verify-export`: streams each exported `.rdb` from S3 through the RDB checker and writes the manifest.
//!
//! Configuration: see [`backup_core::Config`]; this function reads `VERIFY_PART_MIB` (bytes per ranged GetObject,
//! MiB, 1–1024, default 8) and `VERIFY_PARALLEL_PARTS` (requests in flight, 1–64, default 4). Memory use is about
//! their product. With a vault (`VAULT_BUCKET`, `VAULT_REPLICATION_ROLE_ARN`, `ACCOUNT_ID`), WriteManifest starts
//! the S3 Batch Replication job that carries the verified, tagged objects there.

mod handler;

#[tokio::main]
async fn main() -> Result<(), aws_adapters::start::Error> {
    aws_adapters::start::serve(
        async |aws| {
            Ok(aws
                .deps()
                .with_exports(aws_adapters::s3control::WithBatchJobs {
                    store: aws.s3(),
                    jobs: aws.batch_jobs(),
                })
                .with_verifier(aws.verifier()))
        },
        handler::function_handler,
    )
    .await
}
