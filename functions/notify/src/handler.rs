//! The notify handler: parse the event, enrich a failed execution from its history, deliver to each configured sink.
//!
//! Both sinks are optional and independent: one failing does not stop the other. The handler fails (so Lambda
//! retries the asynchronous invocation) only if a configured sink could not be reached after its own retries.

use backup_core::ports::ExecutionHistory;
use lambda_runtime::LambdaEvent;
use serde_json::{Value, json};

use crate::alert::{self, Alert, Notice};
use crate::delivery::budget_end;
use crate::deps::Deps;
use crate::error::NotifyError;
use crate::ledger::event_id;
use crate::secrets::Secrets;
use crate::{sinks, target};

/// Handles one event. Returns a summary: `{"alerts": [{"title", "action", "slack", "pagerduty"}], "ignored": [...]}`.
///
/// # Errors
/// [`NotifyError::Delivery`] when a configured sink failed after its retries (Lambda then retries the invocation;
/// PagerDuty's `dedup_key` keeps a repeat from opening a second incident).
#[tracing::instrument(skip_all, fields(request_id = %event.context.request_id))]
pub async fn function_handler<H: ExecutionHistory, S: Secrets>(
    event: LambdaEvent<Value>,
    deps: &Deps<H, S>,
) -> Result<Value, NotifyError> {
    let mut alerts: Vec<Alert> = Vec::new();
    let mut ignored = Vec::new();
    for notice in alert::parse(&event.payload) {
        match alert_of(notice, deps).await {
            Ok(a) => alerts.push(a),
            Err(reason) => ignored.push(reason),
        }
    }
    target::normalize(&mut alerts, deps.lookup.as_deref()).await;

    let event_id = event_id(&event.payload);
    let deadline = budget_end(&event.context);
    let mut report = Vec::new();
    let mut failures = Vec::new();
    for (i, a) in alerts.iter().enumerate() {
        tracing::info!(title = %a.title, action = ?a.action, target = %a.target, "alert");
        let done = sinks::deliver(a, i, event_id.as_deref(), deps, deadline).await;
        for (sink, e) in done.failures() {
            tracing::error!(sink, error = %e, "delivery failed");
            failures.push(format!("{sink}: {e}"));
        }
        report.push(done.report(a));
    }
    if !failures.is_empty() {
        return Err(NotifyError::Delivery(failures.join("; ")));
    }
    Ok(json!({"alerts": report, "ignored": ignored}))
}

/// The alert for one notice, an execution's enriched from its history when it failed; `Err` with why the notice
/// is ignored (another state machine's execution, a status or an event that needs no alert, an event not
/// understood).
async fn alert_of<H: ExecutionHistory, S>(
    notice: Notice,
    deps: &Deps<H, S>,
) -> Result<Alert, String> {
    match notice {
        Notice::Execution(n) => {
            let Some(machine) = deps.config.machine_of(&n.state_machine_arn) else {
                return Err(format!(
                    "execution of another state machine: {}",
                    n.state_machine_arn
                ));
            };
            let context = if n.failed() {
                match deps.history.failure_context(&n.execution_arn).await {
                    Ok(c) => Some(c),
                    Err(e) => {
                        tracing::warn!(error = %e, "execution history unavailable; alerting without it");
                        None
                    }
                }
            } else {
                None
            };
            alert::execution_alert(&n, context.as_ref(), machine)
                .ok_or_else(|| format!("execution status {}", n.status))
        }
        Notice::Snapshot(n) => {
            alert::snapshot_alert(&n).ok_or_else(|| format!("ElastiCache event {}", n.kind))
        }
        Notice::Unknown(reason) => {
            tracing::info!(reason = %reason, "event not understood; acknowledged");
            Err(reason)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::{Action, Alert};
    use crate::config::Config;
    use crate::delivery::RetryPolicy;
    use crate::{pagerduty, slack};

    use async_trait::async_trait;
    use backup_core::execution_history::FailureContext;
    use lambda_runtime::Context;
    use std::collections::HashMap;
    use std::time::Duration;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    const ROUTING_KEY: &str = "R0UT1NGKEYR0UT1NGKEYR0UT1NGKEY12";

    struct FakeHistory(Option<FailureContext>);

    #[async_trait]
    impl ExecutionHistory for FakeHistory {
        async fn failure_context(&self, _arn: &str) -> Result<FailureContext, String> {
            self.0.clone().ok_or_else(|| "AccessDenied".to_string())
        }
    }

    struct FakeSecrets(HashMap<String, String>);

    #[async_trait]
    impl Secrets for FakeSecrets {
        async fn secret_string(&self, arn: &str) -> Result<String, String> {
            self.0
                .get(arn)
                .cloned()
                .ok_or_else(|| "ResourceNotFoundException".to_string())
        }
    }

    fn failure() -> FailureContext {
        FailureContext {
            failed_state: Some("ExportSnapshot".into()),
            error: Some("ExportRejected".into()),
            cause: Some("ExportSnapshot failed for snapshot ecb-orders-5f1d2a9c: …".into()),
            task_error: Some("ExportRejected".into()),
            task_cause: Some(
                r#"{"errorType":"ExportRejected","errorMessage":"CopySnapshot ecb-orders-5f1d2a9c to s3://acme-cache-backups/ecb-orders-5f1d2a9c: InvalidParameterValue: The S3 bucket acme-cache-backups does not exist."}"#
                    .into(),
            ),
            run_document: Some(json!({"input": {"replicationGroupId": "orders"}, "snapshotName": "ecb-orders-5f1d2a9c"})),
        }
    }

    struct Sinks {
        server: MockServer,
    }

    impl Sinks {
        async fn start() -> Self {
            Self {
                server: MockServer::start().await,
            }
        }

        fn deps(&self, slack: bool, pd: bool) -> Deps<FakeHistory, FakeSecrets> {
            let mut secrets = HashMap::new();
            secrets.insert(
                "arn:slack".to_string(),
                format!("{}/slack/T000/B000/XXXX", self.server.uri()),
            );
            secrets.insert(
                "arn:pd".to_string(),
                format!(r#"{{"routingKey":"{ROUTING_KEY}"}}"#),
            );
            let config = Config {
                slack_secret_arn: slack.then(|| "arn:slack".into()),
                pagerduty_secret_arn: pd.then(|| "arn:pd".into()),
                pagerduty_url: format!("{}/v2/enqueue", self.server.uri()),
                state_machine_arn: Some(
                    "arn:aws:states:us-east-1:123456789012:stateMachine:elasticache-backup".into(),
                ),
                restore_state_machine_arn: Some(
                    "arn:aws:states:us-east-1:123456789012:stateMachine:elasticache-backup-restore"
                        .into(),
                ),
                dr_restore_state_machine_arn: Some(
                    "arn:aws:states:ap-northeast-1:123456789012:stateMachine:elasticache-backup-restore"
                        .into(),
                ),
                fleet_state_machine_arn: None,
                slack_notify_success: false,
                retry: RetryPolicy {
                    attempts: 3,
                    min_delay: Duration::from_millis(10),
                    max_delay: Duration::from_millis(20),
                    max_retry_after: Duration::from_secs(2),
                },
            };
            Deps::new(
                FakeHistory(Some(failure())),
                FakeSecrets(secrets),
                reqwest::Client::new(),
                config,
            )
        }

        async fn slack_ok(&self) {
            Mock::given(method("POST"))
                .and(path("/slack/T000/B000/XXXX"))
                .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
                .mount(&self.server)
                .await;
        }

        async fn pd_ok(&self) {
            Mock::given(method("POST"))
                .and(path("/v2/enqueue"))
                .respond_with(
                    ResponseTemplate::new(202)
                        .set_body_json(json!({"status":"success","message":"Event processed"})),
                )
                .mount(&self.server)
                .await;
        }

        async fn bodies(&self, p: &str) -> Vec<Value> {
            self.server
                .received_requests()
                .await
                .unwrap_or_default()
                .iter()
                .filter(|r| r.url.path().starts_with(p))
                .map(|r| serde_json::from_slice(&r.body).unwrap())
                .collect()
        }
    }

    fn event(file: &str) -> LambdaEvent<Value> {
        let text = std::fs::read_to_string(format!(
            "{}/../../events/notify/{file}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        LambdaEvent::new(serde_json::from_str(&text).unwrap(), Context::default())
    }

    /// Checks an Events API v2 body against PagerDuty's published schema (PagerDuty/api-schema, events-v2): required
    /// fields, enums and lengths.
    fn assert_valid_pagerduty_event(body: &Value) {
        let obj = body.as_object().expect("object");
        let allowed = [
            "routing_key",
            "event_action",
            "dedup_key",
            "payload",
            "client",
            "client_url",
            "links",
            "images",
        ];
        for k in obj.keys() {
            assert!(allowed.contains(&k.as_str()), "unknown top-level field {k}");
        }
        assert_eq!(
            body["routing_key"].as_str().map(str::len),
            Some(32),
            "routing_key must be 32 characters"
        );
        let action = body["event_action"].as_str().expect("event_action");
        assert!(["trigger", "acknowledge", "resolve"].contains(&action));
        if let Some(d) = body.get("dedup_key") {
            let d = d.as_str().expect("dedup_key string");
            assert!(!d.is_empty() && d.chars().count() <= 255);
        } else {
            assert_eq!(
                action, "trigger",
                "dedup_key is required unless event_action is trigger"
            );
        }
        if action == "trigger" {
            let p = &body["payload"];
            let summary = p["summary"].as_str().expect("payload.summary");
            assert!(!summary.is_empty() && summary.chars().count() <= 1024);
            assert!(
                ["critical", "warning", "error", "info"]
                    .contains(&p["severity"].as_str().expect("severity"))
            );
            assert!(!p["source"].as_str().expect("payload.source").is_empty());
            if let Some(t) = p.get("timestamp") {
                assert!(
                    time::OffsetDateTime::parse(
                        t.as_str().unwrap(),
                        &time::format_description::well_known::Rfc3339
                    )
                    .is_ok()
                );
            }
            if let Some(links) = body.get("links") {
                for l in links.as_array().expect("links array") {
                    assert!(
                        l["href"]
                            .as_str()
                            .is_some_and(|h| h.starts_with("https://"))
                    );
                }
            }
        }
    }

    #[tokio::test]
    async fn failed_run_pages_and_posts_with_the_step_error_cause_and_snapshot() {
        let sinks = Sinks::start().await;
        sinks.slack_ok().await;
        sinks.pd_ok().await;
        let summary = function_handler(event("sfn-failed.json"), &sinks.deps(true, true))
            .await
            .unwrap();
        assert_eq!(summary["alerts"][0]["slack"], "sent");
        assert_eq!(summary["alerts"][0]["pagerduty"], "sent");

        let pd = sinks.bodies("/v2/enqueue").await;
        assert_eq!(pd.len(), 1);
        let b = &pd[0];
        assert_valid_pagerduty_event(b);
        assert_eq!(b["event_action"], "trigger");
        assert_eq!(b["routing_key"], ROUTING_KEY);
        assert_eq!(b["dedup_key"], "elasticache-backup/us-east-1/orders");
        assert_eq!(
            b["payload"]["summary"],
            "ElastiCache backup of orders failed: ExportRejected at ExportSnapshot"
        );
        assert_eq!(b["payload"]["severity"], "critical");
        assert_eq!(b["payload"]["source"], "orders");
        assert_eq!(b["payload"]["component"], "ExportSnapshot");
        assert_eq!(b["payload"]["class"], "ExportRejected");
        assert_eq!(
            b["payload"]["custom_details"]["snapshot_name"],
            "ecb-orders-5f1d2a9c"
        );
        assert_eq!(b["payload"]["custom_details"]["snapshot_kept"], true);
        assert!(
            b["payload"]["custom_details"]["cause"]
                .as_str()
                .unwrap()
                .contains("does not exist")
        );
        assert!(b["links"][0]["href"].as_str().unwrap().contains("#/v2/executions/details/arn:aws:states:us-east-1:123456789012:execution:elasticache-backup:nightly-2026-11-22"));

        let slack = sinks.bodies("/slack").await;
        assert_eq!(slack.len(), 1);
        let m = &slack[0];
        assert!(m["text"].as_str().unwrap().starts_with(
            ":red_circle: ElastiCache backup of orders failed: ExportRejected at ExportSnapshot"
        ));
        assert_eq!(m["blocks"][0]["type"], "header");
        let fields: Vec<&str> = m["blocks"][1]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["text"].as_str().unwrap())
            .collect();
        assert_eq!(
            fields,
            [
                "*Cluster*\norders",
                "*Step*\nExportSnapshot",
                "*Error*\nExportRejected",
                "*Snapshot*\necb-orders-5f1d2a9c (kept)",
                "*Region*\nus-east-1"
            ]
        );
        assert!(
            m["blocks"][2]["text"]["text"]
                .as_str()
                .unwrap()
                .contains("The S3 bucket acme-cache-backups does not exist.")
        );
        assert!(
            m["blocks"][3]["elements"][0]["text"]
                .as_str()
                .unwrap()
                .contains("|Execution nightly-2026-11-22>")
        );
    }

    #[tokio::test]
    async fn timed_out_and_aborted_runs_page_too() {
        for file in ["sfn-timed-out.json", "sfn-aborted.json"] {
            let sinks = Sinks::start().await;
            sinks.pd_ok().await;
            function_handler(event(file), &sinks.deps(false, true))
                .await
                .unwrap();
            let pd = sinks.bodies("/v2/enqueue").await;
            assert_eq!(pd[0]["event_action"], "trigger", "{file}");
            assert_valid_pagerduty_event(&pd[0]);
        }
    }

    #[tokio::test]
    async fn a_failure_without_history_still_pages_with_what_the_event_has() {
        let sinks = Sinks::start().await;
        sinks.pd_ok().await;
        let mut deps = sinks.deps(false, true);
        deps.history = FakeHistory(None);
        function_handler(event("sfn-failed.json"), &deps)
            .await
            .unwrap();
        let b = &sinks.bodies("/v2/enqueue").await[0];
        assert_valid_pagerduty_event(b);
        assert_eq!(
            b["payload"]["summary"],
            "ElastiCache backup of orders failed: States.FAILED"
        );
        assert_eq!(b["dedup_key"], "elasticache-backup/us-east-1/orders");
    }

    #[tokio::test]
    async fn success_resolves_the_same_incident_and_stays_quiet_in_slack() {
        let sinks = Sinks::start().await;
        sinks.slack_ok().await;
        sinks.pd_ok().await;
        function_handler(event("sfn-succeeded.json"), &sinks.deps(true, true))
            .await
            .unwrap();
        let pd = sinks.bodies("/v2/enqueue").await;
        assert_eq!(
            pd,
            vec![
                json!({"routing_key": ROUTING_KEY, "event_action": "resolve", "dedup_key": "elasticache-backup/us-east-1/orders"})
            ]
        );
        assert_valid_pagerduty_event(&pd[0]);
        assert!(sinks.bodies("/slack").await.is_empty());
    }

    #[tokio::test]
    async fn snapshot_created_is_info_only_never_a_page() {
        let sinks = Sinks::start().await;
        sinks.slack_ok().await;
        sinks.pd_ok().await;
        for file in [
            "elasticache-snapshot-created.json",
            "sns-snapshot-complete.json",
        ] {
            function_handler(event(file), &sinks.deps(true, true))
                .await
                .unwrap();
        }
        assert!(sinks.bodies("/v2/enqueue").await.is_empty());
        let slack = sinks.bodies("/slack").await;
        assert_eq!(slack.len(), 2);
        assert!(
            slack[0]["text"]
                .as_str()
                .unwrap()
                .starts_with(":information_source: ElastiCache Snapshot Created: orders-002")
        );
        assert!(
            slack[1]["text"]
                .as_str()
                .unwrap()
                .contains("SnapshotComplete: orders-002")
        );
    }

    #[tokio::test]
    async fn elasticache_failure_events_page_per_cluster() {
        for (file, class) in [
            (
                "elasticache-snapshot-creation-failed.json",
                "Snapshot Creation Failed",
            ),
            (
                "elasticache-snapshot-export-failed.json",
                "Snapshot Export Failed",
            ),
            (
                "elasticache-snapshot-copy-failed.json",
                "Snapshot Copy Failed",
            ),
            ("sns-snapshot-failed.json", "ElastiCache:SnapshotFailed"),
        ] {
            let sinks = Sinks::start().await;
            sinks.pd_ok().await;
            function_handler(event(file), &sinks.deps(false, true))
                .await
                .unwrap();
            let b = &sinks.bodies("/v2/enqueue").await[0];
            assert_valid_pagerduty_event(b);
            assert_eq!(b["payload"]["class"], class, "{file}");
            assert_eq!(b["payload"]["source"], "orders-002", "{file}");
            assert_eq!(
                b["dedup_key"], "elasticache-backup/us-east-1/orders-002",
                "{file}"
            );
        }
    }

    #[tokio::test]
    async fn the_staleness_alarm_pages_under_its_target_and_its_ok_resolves() {
        let sinks = Sinks::start().await;
        sinks.pd_ok().await;
        function_handler(
            event("cloudwatch-alarm-no-verified-backup.json"),
            &sinks.deps(false, true),
        )
        .await
        .unwrap();
        let mut ok = event("cloudwatch-alarm-no-verified-backup.json");
        let mut message: Value =
            serde_json::from_str(ok.payload["Records"][0]["Sns"]["Message"].as_str().unwrap())
                .unwrap();
        message["NewStateValue"] = json!("OK");
        ok.payload["Records"][0]["Sns"]["Message"] = json!(message.to_string());
        ok.payload["Records"][0]["Sns"]["MessageId"] = json!("another-message");
        function_handler(ok, &sinks.deps(false, true))
            .await
            .unwrap();

        let pd = sinks.bodies("/v2/enqueue").await;
        assert_eq!(pd.len(), 2);
        assert_valid_pagerduty_event(&pd[0]);
        assert_eq!(pd[0]["event_action"], "trigger");
        assert_eq!(
            pd[0]["payload"]["summary"],
            "No verified ElastiCache backup of orders in time (staleness alarm)"
        );
        // The target's key: its next successful execution resolves this incident too.
        assert_eq!(
            pd[0]["dedup_key"],
            "elasticache-backup/ap-northeast-2/orders"
        );
        assert_eq!(pd[1]["event_action"], "resolve");
        assert_eq!(pd[1]["dedup_key"], pd[0]["dedup_key"]);
    }

    #[tokio::test]
    async fn an_unknown_event_is_acknowledged_without_sending() {
        let sinks = Sinks::start().await;
        let summary = function_handler(event("unknown.json"), &sinks.deps(true, true))
            .await
            .unwrap();
        assert_eq!(summary["alerts"], json!([]));
        assert!(summary["ignored"][0].as_str().unwrap().contains("aws.ec2"));
        let garbage = LambdaEvent::new(json!({"hello": [1, 2]}), Context::default());
        function_handler(garbage, &sinks.deps(true, true))
            .await
            .unwrap();
        assert!(sinks.server.received_requests().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn slack_429_is_retried_after_its_retry_after() {
        let sinks = Sinks::start().await;
        Mock::given(method("POST"))
            .and(path("/slack/T000/B000/XXXX"))
            .respond_with(
                ResponseTemplate::new(429)
                    .insert_header("Retry-After", "1")
                    .set_body_string("rate_limited"),
            )
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&sinks.server)
            .await;
        sinks.slack_ok().await;
        let started = std::time::Instant::now();
        function_handler(event("sfn-failed.json"), &sinks.deps(true, false))
            .await
            .unwrap();
        assert_eq!(sinks.bodies("/slack").await.len(), 2);
        assert!(
            started.elapsed() >= Duration::from_secs(1),
            "Retry-After not honoured: {:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn pagerduty_5xx_is_retried_until_202() {
        let sinks = Sinks::start().await;
        Mock::given(method("POST"))
            .and(path("/v2/enqueue"))
            .respond_with(ResponseTemplate::new(503))
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&sinks.server)
            .await;
        sinks.pd_ok().await;
        function_handler(event("sfn-failed.json"), &sinks.deps(false, true))
            .await
            .unwrap();
        let pd = sinks.bodies("/v2/enqueue").await;
        assert_eq!(pd.len(), 2);
        assert_eq!(
            pd[0], pd[1],
            "a retry sends the same event (same dedup_key)"
        );
    }

    #[tokio::test]
    async fn pagerduty_400_is_not_retried_and_fails_the_handler_but_slack_still_goes_out() {
        let sinks = Sinks::start().await;
        sinks.slack_ok().await;
        Mock::given(method("POST")).and(path("/v2/enqueue"))
            .respond_with(ResponseTemplate::new(400).set_body_json(json!({"status":"invalid event","message":"Event object is invalid","errors":["Length of 'routing_key' is incorrect (should be 32 characters)"]})))
            .mount(&sinks.server).await;
        let err = function_handler(event("sfn-failed.json"), &sinks.deps(true, true))
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "DeliveryFailed");
        assert!(err.to_string().contains("pagerduty: HTTP 400"), "{err}");
        assert_eq!(sinks.bodies("/v2/enqueue").await.len(), 1);
        assert_eq!(sinks.bodies("/slack").await.len(), 1);
    }

    #[tokio::test]
    async fn a_long_non_ascii_refusal_fails_that_sink_only_and_the_other_is_delivered() {
        // A proxy's error page: > 500 bytes, byte 500 inside a character (where the body used to be cut).
        let page = format!("<p>{}</p>", "访问被拒绝。Zugriff verweigert – ".repeat(20));
        assert!(page.len() > 500 && !page.is_char_boundary(500));
        for (refusing, other) in [("/v2/enqueue", "/slack"), ("/slack", "/v2/enqueue")] {
            let sinks = Sinks::start().await;
            Mock::given(method("POST"))
                .and(wiremock::matchers::path_regex(format!("^{refusing}")))
                .respond_with(
                    ResponseTemplate::new(400)
                        .set_body_raw(page.clone(), "text/html; charset=utf-8"),
                )
                .mount(&sinks.server)
                .await;
            sinks.slack_ok().await;
            sinks.pd_ok().await;
            let err = function_handler(event("sfn-failed.json"), &sinks.deps(true, true))
                .await
                .unwrap_err();
            let sink = if refusing == "/slack" {
                "slack"
            } else {
                "pagerduty"
            };
            assert!(
                err.to_string().contains(&format!("{sink}: HTTP 400")),
                "{err}"
            );
            assert!(err.to_string().contains("访问被拒绝"), "{err}");
            assert_eq!(
                sinks.bodies(refusing).await.len(),
                1,
                "a 400 is not retried"
            );
            assert_eq!(
                sinks.bodies(other).await.len(),
                1,
                "{other} still delivered"
            );
        }
    }

    #[tokio::test]
    async fn one_sink_down_does_not_stop_the_other() {
        let sinks = Sinks::start().await;
        Mock::given(method("POST"))
            .and(path("/slack/T000/B000/XXXX"))
            .respond_with(ResponseTemplate::new(500))
            .mount(&sinks.server)
            .await;
        sinks.pd_ok().await;
        let err = function_handler(event("sfn-failed.json"), &sinks.deps(true, true))
            .await
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("delivery failed: slack: HTTP 500"),
            "{err}"
        );
        assert_eq!(sinks.bodies("/slack").await.len(), 3, "3 attempts");
        assert_eq!(sinks.bodies("/v2/enqueue").await.len(), 1);
    }

    #[tokio::test]
    async fn an_unreadable_secret_fails_that_sink_only() {
        let sinks = Sinks::start().await;
        sinks.pd_ok().await;
        let mut deps = sinks.deps(true, true);
        deps.secrets.0.remove("arn:slack");
        let err = function_handler(event("sfn-failed.json"), &deps)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("secret arn:slack"), "{err}");
        assert_eq!(sinks.bodies("/v2/enqueue").await.len(), 1);
    }

    #[tokio::test]
    async fn a_failed_drill_pages_under_its_own_key_and_its_success_resolves_it() {
        let sinks = Sinks::start().await;
        sinks.pd_ok().await;
        let deps = sinks.deps(false, true);
        function_handler(event("sfn-restore-failed.json"), &deps)
            .await
            .unwrap();
        function_handler(event("sfn-restore-succeeded.json"), &deps)
            .await
            .unwrap();
        let pd = sinks.bodies("/v2/enqueue").await;
        assert_eq!(pd.len(), 2);
        assert_eq!(pd[0]["event_action"], "trigger");
        assert_eq!(
            pd[0]["dedup_key"],
            "elasticache-backup/us-east-1/drill/orders"
        );
        assert!(
            pd[0]["payload"]["summary"]
                .as_str()
                .unwrap()
                .starts_with("ElastiCache restore of drill/orders failed"),
            "{}",
            pd[0]["payload"]["summary"]
        );
        assert_eq!(pd[1]["event_action"], "resolve");
        assert_eq!(pd[1]["dedup_key"], pd[0]["dedup_key"]);
    }

    #[tokio::test]
    async fn a_failed_restore_pages_the_step_that_failed_and_that_its_group_is_kept() {
        let sinks = Sinks::start().await;
        sinks.pd_ok().await;
        let mut deps = sinks.deps(false, true);
        // As the history reads: the last task entered is the clean-up, the task that failed is VerifyRestore, and
        // only the execution's cause says what the clean-up did; the status event carries no cause here.
        deps.history = FakeHistory(Some(FailureContext {
            failed_state: Some("CleanUpFailedRestore".into()),
            error: Some("RestoreUnreachable".into()),
            cause: Some(
                "VerifyRestore failed for restore r-1: connecting to 10.0.0.5:6379: timed out. Restored group: \
                 replication group orders-r (available) is KEPT, tagged elasticache-backup:restore-verdict=unverified"
                    .into(),
            ),
            task_error: Some("RestoreUnreachable".into()),
            task_cause: Some(
                json!({"errorType": "RestoreUnreachable", "errorMessage": "connecting to 10.0.0.5:6379: timed out"})
                    .to_string(),
            ),
            run_document: None,
        }));
        let mut ev: Value = serde_json::from_str(include_str!(
            "../../../events/notify/sfn-restore-failed.json"
        ))
        .unwrap();
        ev["detail"]["input"] = json!(
            "{\"manifest\": \"s3://b/ecb-orders-1.manifest.json\", \"targetReplicationGroupId\": \"orders-r\"}"
        );
        function_handler(LambdaEvent::new(ev, Context::default()), &deps)
            .await
            .unwrap();
        let pd = sinks.bodies("/v2/enqueue").await;
        assert_eq!(pd.len(), 1);
        let details = &pd[0]["payload"]["custom_details"];
        assert_eq!(details["step"], "VerifyRestore", "{details}");
        assert!(
            details["cause"]
                .as_str()
                .unwrap()
                .contains("orders-r (available) is KEPT"),
            "{details}"
        );
    }

    #[tokio::test]
    async fn a_failed_restore_in_the_dr_region_pages_as_a_restore() {
        let sinks = Sinks::start().await;
        sinks.pd_ok().await;
        let deps = sinks.deps(false, true);
        let text = include_str!("../../../events/notify/sfn-restore-failed.json")
            .replace("us-east-1", "ap-northeast-1");
        let ev = LambdaEvent::new(serde_json::from_str(&text).unwrap(), Context::default());
        function_handler(ev, &deps).await.unwrap();
        let pd = sinks.bodies("/v2/enqueue").await;
        assert_eq!(pd.len(), 1);
        assert_eq!(
            pd[0]["dedup_key"],
            "elasticache-backup/ap-northeast-1/drill/orders"
        );
    }

    #[tokio::test]
    async fn a_failed_fleet_pages_under_its_own_key_and_its_success_resolves_it() {
        let sinks = Sinks::start().await;
        sinks.pd_ok().await;
        let mut deps = sinks.deps(false, true);
        let fleet_arn =
            "arn:aws:states:us-east-1:123456789012:stateMachine:elasticache-backup-fleet";
        // Not the backup state machine, but reported: it is the fleet's.
        deps.config.fleet_state_machine_arn = Some(fleet_arn.into());
        deps.history = FakeHistory(None); // the event's error and cause are all there is
        function_handler(event("sfn-fleet-failed.json"), &deps)
            .await
            .unwrap();
        function_handler(event("sfn-fleet-succeeded.json"), &deps)
            .await
            .unwrap();
        let pd = sinks.bodies("/v2/enqueue").await;
        assert_eq!(pd.len(), 2);
        assert_eq!(pd[0]["event_action"], "trigger");
        assert_eq!(
            pd[0]["dedup_key"],
            "elasticache-backup/us-east-1/fleet/backup=daily,team=core"
        );
        assert!(
            pd[0]["payload"]["summary"]
                .as_str()
                .unwrap()
                .starts_with("ElastiCache backup fleet of fleet/backup=daily,team=core failed: TargetNotFound at Discover"),
            "{}",
            pd[0]["payload"]["summary"]
        );
        assert_eq!(pd[1]["event_action"], "resolve");
        assert_eq!(pd[1]["dedup_key"], pd[0]["dedup_key"]);
    }

    #[tokio::test]
    async fn executions_of_another_state_machine_are_ignored() {
        let sinks = Sinks::start().await;
        let mut deps = sinks.deps(true, true);
        deps.config.state_machine_arn =
            Some("arn:aws:states:us-east-1:123456789012:stateMachine:other".into());
        let summary = function_handler(event("sfn-failed.json"), &deps)
            .await
            .unwrap();
        assert_eq!(summary["alerts"], json!([]));
        assert!(sinks.server.received_requests().await.unwrap().is_empty());
    }

    #[test]
    fn long_causes_are_cut_to_the_limits() {
        let a = Alert {
            action: Action::Trigger,
            target: "orders".into(),
            region: "us-east-1".into(),
            title: "t".repeat(2000),
            step: None,
            error: None,
            cause: Some("c".repeat(10_000)),
            snapshot_name: None,
            execution_arn: None,
            time: None,
        };
        let m = slack::message(&a);
        assert_eq!(
            m["blocks"][0]["text"]["text"]
                .as_str()
                .unwrap()
                .chars()
                .count(),
            150
        );
        assert!(
            m["blocks"][2]["text"]["text"]
                .as_str()
                .unwrap()
                .chars()
                .count()
                <= 3000
        );
        let b = pagerduty::event(&a, ROUTING_KEY).unwrap();
        assert_valid_pagerduty_event(&b);
        assert_eq!(
            b["payload"]["summary"].as_str().unwrap().chars().count(),
            1024
        );
    }

    fn with_payload(file: &str, edit: impl FnOnce(&mut Value)) -> LambdaEvent<Value> {
        let mut e = event(file);
        edit(&mut e.payload);
        e
    }

    #[tokio::test]
    async fn a_retried_event_skips_the_sink_that_already_took_it() {
        let sinks = Sinks::start().await;
        sinks.slack_ok().await;
        Mock::given(method("POST"))
            .and(path("/v2/enqueue"))
            .respond_with(ResponseTemplate::new(500))
            .mount(&sinks.server)
            .await;
        let deps = sinks.deps(true, true);
        // Lambda's first attempt and its two retries: the same event.
        for _ in 0..3 {
            let err = function_handler(event("sfn-failed.json"), &deps)
                .await
                .unwrap_err();
            assert!(err.to_string().contains("pagerduty"), "{err}");
        }
        assert_eq!(
            sinks.bodies("/slack").await.len(),
            1,
            "one Slack message, not three"
        );
        assert_eq!(
            sinks.bodies("/v2/enqueue").await.len(),
            9,
            "3 attempts × 3 invocations"
        );
        // Another event is delivered again.
        let other = with_payload("sfn-failed.json", |p| p["id"] = json!("another-event"));
        let _ = function_handler(other, &deps).await;
        assert_eq!(sinks.bodies("/slack").await.len(), 2);
    }

    #[tokio::test]
    async fn a_slow_sink_does_not_starve_the_other_within_the_time_budget() {
        let sinks = Sinks::start().await;
        sinks.pd_ok().await;
        Mock::given(method("POST"))
            .and(path("/slack/T000/B000/XXXX"))
            .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "25"))
            .mount(&sinks.server)
            .await;
        let mut deps = sinks.deps(true, true);
        deps.config.retry.max_retry_after = Duration::from_secs(30);
        let mut e = event("sfn-failed.json");
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        e.context.deadline = now_ms + 9_000; // 9 s left, 3 s margin: a 6 s budget.
        let started = std::time::Instant::now();
        let err = function_handler(e, &deps).await.unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "{:?}",
            started.elapsed()
        );
        assert!(err.to_string().contains("time budget"), "{err}");
        assert_eq!(
            sinks.bodies("/v2/enqueue").await.len(),
            1,
            "PagerDuty was paged"
        );
    }

    #[tokio::test]
    async fn one_incident_per_group_whatever_names_it() {
        use backup_core::testing::FakeSnapshots;
        let sinks = Sinks::start().await;
        sinks.pd_ok().await;
        let lookup = FakeSnapshots::cluster_mode_disabled(
            "orders",
            &[
                ("orders-001", "primary", "available"),
                ("orders-002", "replica", "available"),
            ],
        );
        let mut deps = sinks.deps(false, true).with_lookup(lookup);
        deps.history = FakeHistory(None);
        // The node-keyed ElastiCache event, an upper-case input, and an invalid input that still names the group.
        let node_event = with_payload("elasticache-snapshot-creation-failed.json", |p| {
            p["detail"]["SourceIdentifier"] = json!("orders-002");
        });
        let upper = with_payload("sfn-failed.json", |p| {
            p["id"] = json!("e2");
            p["detail"]["input"] = json!(r#"{"replicationGroupId": "Orders"}"#);
        });
        let invalid = with_payload("sfn-failed.json", |p| {
            p["id"] = json!("e3");
            p["detail"]["name"] = json!("manual-typo");
            p["detail"]["input"] = json!(r#"{"ReplicationGroupID": "ORDERS", "bucket": 3}"#);
        });
        let success = with_payload("sfn-succeeded.json", |p| {
            p["id"] = json!("e4");
            p["detail"]["input"] = json!(r#"{"replicationGroupId": "orders"}"#);
        });
        for e in [node_event, upper, invalid, success] {
            function_handler(e, &deps).await.unwrap();
        }
        let pd = sinks.bodies("/v2/enqueue").await;
        let keys: Vec<_> = pd
            .iter()
            .map(|b| b["dedup_key"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            keys,
            vec!["elasticache-backup/us-east-1/orders"; 4],
            "{keys:?}"
        );
        assert_eq!(pd[3]["event_action"], "resolve");
        // An input that names no target shares one incident, not one per execution.
        let nameless = with_payload("sfn-failed.json", |p| {
            p["id"] = json!("e5");
            p["detail"]["input"] = json!(r#"{"bucket": "b"}"#);
        });
        function_handler(nameless, &deps).await.unwrap();
        let pd = sinks.bodies("/v2/enqueue").await;
        assert_eq!(
            pd[4]["dedup_key"],
            "elasticache-backup/us-east-1/invalid-input"
        );
    }

    #[tokio::test]
    async fn a_serverless_cache_snapshot_failure_pages_under_the_caches_key() {
        use backup_core::testing::FakeSnapshots;
        let sinks = Sinks::start().await;
        sinks.slack_ok().await;
        sinks.pd_ok().await;
        // With the lookup notify has in AWS: the name is not a node, so it keys the incident as it is.
        let lookup = FakeSnapshots::cluster_mode_disabled(
            "orders",
            &[("orders-001", "primary", "available")],
        );
        let deps = sinks.deps(true, true).with_lookup(lookup);
        function_handler(
            event("elasticache-serverless-snapshot-export-failed.json"),
            &deps,
        )
        .await
        .unwrap();
        let pd = sinks.bodies("/v2/enqueue").await;
        assert_eq!(pd.len(), 1);
        assert_valid_pagerduty_event(&pd[0]);
        assert_eq!(pd[0]["event_action"], "trigger");
        assert_eq!(pd[0]["payload"]["class"], "Snapshot Export Failed");
        assert_eq!(pd[0]["payload"]["source"], "sessions");
        assert_eq!(pd[0]["dedup_key"], "elasticache-backup/us-east-1/sessions");
        let slack = sinks.bodies("/slack").await;
        assert!(
            slack[0]["text"]
                .as_str()
                .unwrap()
                .contains("Snapshot Export Failed: sessions"),
            "{}",
            slack[0]
        );
    }

    #[tokio::test]
    async fn a_serverless_cache_run_and_its_snapshot_events_share_one_incident() {
        use backup_core::testing::FakeSnapshots;
        let sinks = Sinks::start().await;
        sinks.pd_ok().await;
        let lookup = FakeSnapshots::cluster_mode_disabled(
            "orders",
            &[("orders-001", "primary", "available")],
        );
        let mut deps = sinks.deps(false, true).with_lookup(lookup);
        // The run document as far as the run got.
        deps.history = FakeHistory(Some(FailureContext {
            run_document: Some(json!({
                "input": {"serverlessCacheName": "Sessions"},
                "snapshotName": "ecb-sessions-5f1d2a9c"
            })),
            ..failure()
        }));
        // A failed execution of {"serverlessCacheName": …} (detail.input), with and without its history.
        let failed = with_payload("sfn-failed.json", |p| {
            p["id"] = json!("s1");
            p["detail"]["input"] = json!(r#"{"serverlessCacheName": "Sessions"}"#);
        });
        function_handler(failed, &deps).await.unwrap();
        deps.history = FakeHistory(None);
        let failed_without_history = with_payload("sfn-timed-out.json", |p| {
            p["id"] = json!("s2");
            p["detail"]["input"] = json!(r#"{"serverlessCacheName": "SESSIONS", "bucket": "b"}"#);
        });
        let snapshot_event =
            with_payload("elasticache-serverless-snapshot-export-failed.json", |p| {
                p["id"] = json!("s3");
            });
        let succeeded = with_payload("sfn-succeeded.json", |p| {
            p["id"] = json!("s4");
            p["detail"]["input"] = json!(r#"{"serverlessCacheName": "sessions"}"#);
        });
        for e in [failed_without_history, snapshot_event, succeeded] {
            function_handler(e, &deps).await.unwrap();
        }
        let pd = sinks.bodies("/v2/enqueue").await;
        let keys: Vec<_> = pd
            .iter()
            .map(|b| b["dedup_key"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            keys,
            vec!["elasticache-backup/us-east-1/sessions"; 4],
            "{keys:?}"
        );
        assert_eq!(
            pd[0]["payload"]["custom_details"]["snapshot_name"],
            "ecb-sessions-5f1d2a9c"
        );
        assert_eq!(pd[3]["event_action"], "resolve");
    }

    #[tokio::test]
    async fn a_create_snapshot_timeout_names_the_snapshot_it_may_have_left() {
        let sinks = Sinks::start().await;
        sinks.pd_ok().await;
        let mut deps = sinks.deps(false, true);
        deps.history = FakeHistory(None); // history unavailable: the event and the cause are all there is
        let timed_out = with_payload("sfn-failed.json", |p| {
            p["detail"]["error"] = json!("States.Timeout");
            p["detail"]["cause"] = json!(
                "CreateSnapshot failed for execution nightly-2026-11-22: (the error gave no cause)"
            );
        });
        function_handler(timed_out, &deps).await.unwrap();
        let pd = sinks.bodies("/v2/enqueue").await;
        let expected = backup_core::naming::snapshot_name(
            backup_core::naming::TargetKind::ReplicationGroup,
            "orders",
            "arn:aws:states:us-east-1:123456789012:execution:elasticache-backup:nightly-2026-11-22",
        );
        assert_eq!(
            pd[0]["payload"]["custom_details"]["snapshot_name"],
            expected.as_str(),
            "{}",
            pd[0]
        );
        assert_eq!(pd[0]["payload"]["custom_details"]["step"], "CreateSnapshot");
        // Refused before the call: no snapshot to name.
        let refused = with_payload("sfn-failed.json", |p| {
            p["id"] = json!("e2");
            p["detail"]["error"] = json!("ExportRejected");
            p["detail"]["cause"] = json!(
                "CreateSnapshot failed for execution x: bucket b does not let ElastiCache write"
            );
        });
        function_handler(refused, &deps).await.unwrap();
        let pd = sinks.bodies("/v2/enqueue").await;
        assert!(
            pd[1]["payload"]["custom_details"]
                .get("snapshot_name")
                .is_none(),
            "{}",
            pd[1]
        );
        // A serverless cache's run: the serverless snapshot's name, derived the same way.
        let serverless = with_payload("sfn-failed.json", |p| {
            p["id"] = json!("e3");
            p["detail"]["input"] = json!("{\"serverlessCacheName\": \"Sessions\"}");
            p["detail"]["error"] = json!("States.Timeout");
            p["detail"]["cause"] = json!(
                "CreateSnapshot failed for execution nightly-2026-11-22: (the error gave no cause)"
            );
        });
        function_handler(serverless, &deps).await.unwrap();
        let pd = sinks.bodies("/v2/enqueue").await;
        let expected = backup_core::naming::snapshot_name(
            backup_core::naming::TargetKind::ServerlessCache,
            "sessions",
            "arn:aws:states:us-east-1:123456789012:execution:elasticache-backup:nightly-2026-11-22",
        );
        assert_eq!(
            pd[2]["payload"]["custom_details"]["snapshot_name"],
            expected.as_str(),
            "{}",
            pd[2]
        );
    }
}
