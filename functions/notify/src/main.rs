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
//! | `SLACK_NOTIFY_SUCCESS` | `true` to post succeeded runs to Slack too (default: only PagerDuty resolves) |

mod alert;
mod delivery;
mod error;
mod handler;
mod history;
mod pagerduty;
mod secrets;
mod slack;

use std::time::Duration;

use backup_core::config::Env;
use lambda_runtime::{Error, run, service_fn, tracing};

use crate::handler::{Config, Deps, function_handler};
use crate::history::SfnHistory;
use backup_core::aws::SecretsManager;

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
    let deps = Deps::new(
        SfnHistory::new(aws_sdk_sfn::Client::new(&sdk)),
        SecretsManager::new(aws_sdk_secretsmanager::Client::new(&sdk)),
        http,
        config,
    );
    run(service_fn(|event| function_handler(event, &deps))).await
}
