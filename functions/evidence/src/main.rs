//! `evidence`: the monthly audit evidence report (HTML and JSON) of the previous calendar month, or of the month
//! the event names, written to `evidence/<yyyy-mm>.html` and `.json` in the bucket with the verified tag. Started
//! by its EventBridge Scheduler schedule (`<name>-evidence`, 06:00 UTC on the 1st).
//!
//! Configuration (environment):
//! | variable | meaning |
//! |---|---|
//! | `BACKUP_BUCKET` | the export bucket (required): read, and where the report is written |
//! | `EVIDENCE_POLICY` | the evidence policy JSON (Terraform `local.evidence_policy`); unset: RPO 25 h, no drills, and the report says so |
//! | `STATE_MACHINE_ARN` | the backup state machine, whose runs are listed |
//! | `RESTORE_STATE_MACHINE_ARN` | the restore state machine, whose drills are listed |

mod handler;

use backup_core::SystemClock;
use backup_core::config::Env;

#[tokio::main]
async fn main() -> Result<(), aws_adapters::start::Error> {
    aws_adapters::start::serve(
        async |aws| {
            let config = handler::EvidenceConfig::load(&Env::process())
                .map_err(|e| format!("invalid function configuration: {e}"))?;
            Ok(handler::EvidenceDeps {
                store: aws.s3(),
                executions: aws.executions(),
                clock: SystemClock,
                config,
            })
        },
        handler::function_handler,
    )
    .await
}
