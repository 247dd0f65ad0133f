//! The notify function's configuration, read once at cold start (the variables are listed in `main.rs`), and what
//! it decides by itself: which state machine an execution belongs to.

use backup_core::config::{ConfigError, Env};

use crate::alert::Machine;
use crate::delivery::RetryPolicy;
use crate::pagerduty;

/// Configuration read once at cold start (see `main.rs` for the variables).
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Secret with the Slack webhook URL.
    pub slack_secret_arn: Option<String>,
    /// Secret with the PagerDuty routing key.
    pub pagerduty_secret_arn: Option<String>,
    /// PagerDuty Events API v2 URL.
    pub pagerduty_url: String,
    /// Only this state machine's executions are reported (and the restore state machine's).
    pub state_machine_arn: Option<String>,
    /// The restore state machine: its executions are reported as restores (`drill/<source>` incidents).
    pub restore_state_machine_arn: Option<String>,
    /// The DR region's restore state machine (`dr_region`): its executions are reported as restores too; their
    /// status changes reach this region's bus through the DR region's forwarding rule.
    pub dr_restore_state_machine_arn: Option<String>,
    /// The fleet state machine: its executions are reported as fleets (`fleet/<name>` incidents).
    pub fleet_state_machine_arn: Option<String>,
    /// Post succeeded runs to Slack.
    pub slack_notify_success: bool,
    /// Retries per sink.
    pub retry: RetryPolicy,
}

impl Config {
    /// Reads the configuration with the functions' one loader (`backup_core::config::Env`); see `main.rs` for the
    /// variables.
    ///
    /// # Errors
    /// [`ConfigError`] naming a variable that is set but invalid (`SLACK_NOTIFY_SUCCESS` not true/false).
    pub fn load<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        Ok(Self {
            slack_secret_arn: env.string("SLACK_WEBHOOK_SECRET_ARN"),
            pagerduty_secret_arn: env.string("PAGERDUTY_ROUTING_KEY_SECRET_ARN"),
            pagerduty_url: env
                .string("PAGERDUTY_EVENTS_URL")
                .unwrap_or_else(|| pagerduty::DEFAULT_EVENTS_URL.into()),
            state_machine_arn: env.string("STATE_MACHINE_ARN"),
            restore_state_machine_arn: env.string("RESTORE_STATE_MACHINE_ARN"),
            dr_restore_state_machine_arn: env.string("DR_RESTORE_STATE_MACHINE_ARN"),
            fleet_state_machine_arn: env.string("FLEET_STATE_MACHINE_ARN"),
            slack_notify_success: env.flag("SLACK_NOTIFY_SUCCESS", false)?,
            retry: RetryPolicy::default(),
        })
    }

    /// Which of the project's state machines ran an execution of `state_machine_arn`: either restore state machine
    /// (this region's or the DR region's) → [`Machine::Restore`], the fleet's → [`Machine::Fleet`], else
    /// [`Machine::Backup`]. `None` when a backup state machine is configured and this is another one: the execution
    /// is not reported.
    pub fn machine_of(&self, state_machine_arn: &str) -> Option<Machine> {
        let is = |arn: &Option<String>| arn.as_deref() == Some(state_machine_arn);
        if is(&self.restore_state_machine_arn) || is(&self.dr_restore_state_machine_arn) {
            Some(Machine::Restore)
        } else if is(&self.fleet_state_machine_arn) {
            Some(Machine::Fleet)
        } else if self
            .state_machine_arn
            .as_ref()
            .is_some_and(|arn| arn != state_machine_arn)
        {
            None
        } else {
            Some(Machine::Backup)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_is_read_with_the_shared_loader_and_refuses_a_bad_flag() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            Env::from_lookup(move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            })
        };
        let c = Config::load(&vars(&[
            ("SLACK_WEBHOOK_SECRET_ARN", "arn:slack"),
            ("SLACK_NOTIFY_SUCCESS", "TRUE"),
        ]))
        .unwrap();
        assert_eq!(c.slack_secret_arn.as_deref(), Some("arn:slack"));
        assert_eq!(c.pagerduty_secret_arn, None);
        assert!(c.slack_notify_success);
        assert_eq!(c.pagerduty_url, pagerduty::DEFAULT_EVENTS_URL);
        let err = Config::load(&vars(&[("SLACK_NOTIFY_SUCCESS", "yes")])).unwrap_err();
        assert_eq!(err.variable, "SLACK_NOTIFY_SUCCESS");
    }

    #[test]
    fn executions_are_told_apart_by_their_state_machine() {
        let c = Config {
            state_machine_arn: Some("sm:backup".into()),
            restore_state_machine_arn: Some("sm:restore".into()),
            dr_restore_state_machine_arn: Some("sm:dr-restore".into()),
            fleet_state_machine_arn: Some("sm:fleet".into()),
            ..Config::default()
        };
        assert_eq!(c.machine_of("sm:backup"), Some(Machine::Backup));
        assert_eq!(c.machine_of("sm:restore"), Some(Machine::Restore));
        assert_eq!(c.machine_of("sm:dr-restore"), Some(Machine::Restore));
        assert_eq!(c.machine_of("sm:fleet"), Some(Machine::Fleet));
        assert_eq!(c.machine_of("sm:other"), None, "another state machine");
        // Without a backup state machine configured, any other execution is a backup's.
        let any = Config::default();
        assert_eq!(any.machine_of("sm:other"), Some(Machine::Backup));
    }
}
