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
mod delivery;
mod error;
mod handler;
mod history;
mod ledger;
mod pagerduty;
mod secrets;
mod slack;

use std::time::Duration;

use backup_core::config::Env;
use lambda_runtime::{Error, run, service_fn, tracing};

use crate::handler::{Config, Deps, function_handler};
use crate::history::SfnHistory;
use crate::ledger::DeliveryLedger;
use backup_core::aws::{ElastiCacheSnapshots, S3ExportStore, SecretsManager};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let config = Config::load(&Env::process()).expect("invalid function configuration");
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .user_agent("elasticache-backup-notify")
        .build()
        .expect("HTTP client");
    let s3 = S3ExportStore::new(aws_sdk_s3::Client::new(&sdk));
    let ledger = match std::env::var("DELIVERY_LEDGER_BUCKET") {
        Ok(bucket) if !bucket.trim().is_empty() => DeliveryLedger::with_bucket(s3, bucket),
        _ => DeliveryLedger::<S3ExportStore>::in_memory(),
    };
    let deps = Deps::new(
        SfnHistory::new(aws_sdk_sfn::Client::new(&sdk)),
        SecretsManager::new(aws_sdk_secretsmanager::Client::new(&sdk)),
        http,
        config,
    )
    .with_lookup(ElastiCacheSnapshots::new(aws_sdk_elasticache::Client::new(
        &sdk,
    )))
    .with_ledger(ledger);
    deps.warm_up().await;
    run(service_fn(|event| function_handler(event, &deps))).await
}
