//! `notify`: Step Functions failures and ElastiCache snapshot events → Slack and PagerDuty.
//!
//! Configuration (environment; each sink is optional and independent):
//! | variable | meaning |
//! |---|---|
//! | `SLACK_WEBHOOK_SECRET_ARN` | Secrets Manager secret holding the Slack incoming-webhook URL |
//! | `PAGERDUTY_ROUTING_KEY_SECRET_ARN` | Secrets Manager secret holding the PagerDuty Events v2 routing key |
//! | `PAGERDUTY_EVENTS_URL` | Events API endpoint (default `https://events.pagerduty.com/v2/enqueue`) |
//! | `STATE_MACHINE_ARN` | only this state machine's executions are reported (default: any) |
//! | `RESTORE_STATE_MACHINE_ARN` | the restore state machine: its executions alert as restores, keyed `drill/<source>` |
//! | `DR_RESTORE_STATE_MACHINE_ARN` | the DR region's restore state machine (empty: none): its executions alert as restores too, their history read in that region |
//! | `FLEET_STATE_MACHINE_ARN` | the fleet state machine: its executions alert as fleets, keyed `fleet/<name>` (a failed target alerts through its own child backup execution) |
//! | `SLACK_NOTIFY_SUCCESS` | `true` to post succeeded runs to Slack too (default: only PagerDuty resolves) |
//! | `DELIVERY_LEDGER_BUCKET` | bucket for the delivery ledger (`notify-ledger/…` markers): a retried event skips the sinks that already took it |

mod alert;
mod config;
mod delivery;
mod deps;
mod error;
mod handler;
mod ledger;
mod pagerduty;
mod secrets;
mod sinks;
mod slack;
mod target;

use std::time::Duration;

use aws_adapters::S3ExportStore;
use backup_core::config::Env;

use crate::config::Config;
use crate::deps::Deps;
use crate::handler::function_handler;
use crate::ledger::DeliveryLedger;

#[tokio::main]
async fn main() -> Result<(), aws_adapters::start::Error> {
    aws_adapters::start::serve(
        async |aws| {
            let config = Config::load(&Env::process())
                .map_err(|e| format!("invalid function configuration: {e}"))?;
            let http = reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .user_agent("elasticache-backup-notify")
                .build()?;
            let ledger = match std::env::var("DELIVERY_LEDGER_BUCKET") {
                Ok(bucket) if !bucket.trim().is_empty() => {
                    DeliveryLedger::with_bucket(aws.s3(), bucket)
                }
                _ => DeliveryLedger::<S3ExportStore>::in_memory(),
            };
            let deps = Deps::new(aws.history(), aws.secrets(), http, config)
                .with_lookup(aws.elasticache())
                .with_ledger(ledger);
            deps.warm_up().await;
            Ok(deps)
        },
        function_handler,
    )
    .await
}
