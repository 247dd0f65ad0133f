//! Each rule with a passing and a failing case.

use time::macros::datetime;

use super::*;
use crate::doctor::expr::parse;
use crate::doctor::facts::*;

const REGION: &str = "us-east-1";
const TOPIC: &str = "arn:aws:sns:us-east-1:1:events";

fn policy(actions: &[&str]) -> String {
    serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "us-east-1.elasticache-snapshot.amazonaws.com"}, "Action": actions,
        "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"]}]})
    .to_string()
}

fn detail() -> TargetDetail {
    TargetDetail {
        topics: vec![("g-001".into(), Some(TOPIC.into()))],
        snapshot_window: Some("02:30-03:30".into()),
        retention_limit: 0,
        min_replicas: 1,
        reserved_memory_percent: vec![("default.redis7".into(), Look::Found(Some(25)))],
        subnet_groups: vec![(
            "app".into(),
            Look::Found(("vpc-1".into(), vec!["subnet-1".into()])),
        )],
    }
}

/// A correct deployment's facts.
fn good() -> Facts {
    let now = datetime!(2026-12-04 02:00 UTC);
    Facts {
        region: REGION.into(),
        now,
        events_topic_arn: Some(TOPIC.into()),
        machines: vec![MachineFact {
            label: "backup",
            arn: Some("arn:m".into()),
            status: Look::Found("ACTIVE".into()),
        }],
        functions: vec![FunctionFact {
            key: "verify-restore".into(),
            name: "f".into(),
            vpc: Look::Found(VpcFact {
                vpc_id: Some("vpc-1".into()),
                subnets: vec!["subnet-1".into()],
                security_groups: vec!["sg".into()],
            }),
        }],
        bucket: Some(BucketFact {
            name: "b".into(),
            policy: Look::Found(policy(EXPORT_ACTIONS)),
        }),
        seeding: vec![SeedingFact {
            region: REGION.into(),
            mode: "bucket-policy".into(),
            seed_bucket: None,
        }],
        secrets: vec![SecretFact {
            output: "slack_webhook_secret_arn",
            arn: Some("arn:s".into()),
            set: Look::Found(true),
        }],
        schedules: vec![ScheduleFact {
            key: "g".into(),
            name: "s".into(),
            found: Look::Found(ScheduleDetail {
                enabled: true,
                expression: "cron(0 3 * * ? *)".into(),
                timezone: "UTC".into(),
                expr: parse("cron(0 3 * * ? *)", "UTC"),
                start: None,
                targets: vec![TargetRef {
                    id: "g".into(),
                    group: true,
                }],
                selector: false,
            }),
        }],
        alarms: vec![AlarmFact {
            name: "a".into(),
            state: Look::Found("OK".into()),
        }],
        queues: vec![QueueFact {
            key: "notify".into(),
            url: "u".into(),
            messages: Look::Found(0),
        }],
        targets: vec![TargetFact {
            target: TargetRef {
                id: "g".into(),
                group: true,
            },
            schedule: Some(("g".into(), parse("cron(0 3 * * ? *)", "UTC"))),
            detail: Look::Found(detail()),
            last_backup: Some(now - Duration::hours(23)),
        }],
        unreadable_manifests: Vec::new(),
        backups_unlisted: None,
    }
}

/// The worst level of `check`'s findings; a check that says nothing fails the test (an `Ok` must be said).
fn level_of(facts: &Facts, check: &str) -> Level {
    judge(facts)
        .iter()
        .filter(|f| f.check == check)
        .map(|f| f.level)
        .max()
        .unwrap_or_else(|| panic!("no {check} finding at all"))
}

fn target_detail(facts: &mut Facts) -> &mut TargetDetail {
    match &mut facts.targets[0].detail {
        Look::Found(d) => d,
        _ => unreachable!(),
    }
}

#[test]
fn a_correct_deployment_is_all_ok() {
    let findings = judge(&good());
    assert!(
        findings.iter().all(|f| f.level == Level::Ok),
        "{findings:#?}"
    );
}

#[test]
fn a_missing_or_deleting_state_machine_is_an_error() {
    let mut f = good();
    f.machines[0].status = Look::Missing;
    assert_eq!(level_of(&f, "state-machine"), Level::Error);
    f.machines[0].status = Look::Found("DELETING".into());
    assert_eq!(level_of(&f, "state-machine"), Level::Error);
}

#[test]
fn a_missing_function_is_an_error() {
    let mut f = good();
    f.functions[0].vpc = Look::Missing;
    assert_eq!(level_of(&f, "function"), Level::Error);
}

#[test]
fn verify_restore_outside_the_vpc_or_without_one_is_an_error() {
    let mut f = good();
    f.functions[0].vpc = Look::Found(VpcFact {
        vpc_id: Some("vpc-2".into()),
        subnets: vec!["subnet-9".into()],
        security_groups: vec!["sg".into()],
    });
    assert_eq!(level_of(&f, "verify-restore-vpc"), Level::Error);
    f.functions[0].vpc = Look::Found(VpcFact::default());
    assert_eq!(level_of(&f, "verify-restore-vpc"), Level::Error);
}

#[test]
fn a_policy_without_an_export_action_or_without_the_regional_principal_is_an_error() {
    let mut f = good();
    f.bucket.as_mut().unwrap().policy = Look::Found(policy(&[
        "s3:GetObject",
        "s3:ListBucket",
        "s3:GetBucketAcl",
    ]));
    assert_eq!(level_of(&f, "bucket-policy"), Level::Error);
    f.region = "eu-west-1".into();
    f.seeding[0].region = "eu-west-1".into();
    f.bucket.as_mut().unwrap().policy = Look::Found(policy(EXPORT_ACTIONS));
    assert_eq!(level_of(&f, "bucket-policy"), Level::Error);
    assert_eq!(level_of(&f, "seeding"), Level::Error);
    f.bucket.as_mut().unwrap().policy = Look::Missing;
    assert_eq!(level_of(&f, "bucket-policy"), Level::Error);
}

#[test]
fn s3_star_grants_every_action() {
    assert_eq!(
        missing_grants(
            &policy(&["s3:*"]),
            "us-east-1.elasticache-snapshot.amazonaws.com",
            "b",
            EXPORT_ACTIONS
        ),
        Ok(vec![])
    );
}

#[test]
fn an_object_acl_seed_bucket_with_acls_disabled_or_missing_is_an_error() {
    let mut f = good();
    f.seeding[0] = SeedingFact {
        region: REGION.into(),
        mode: "object-acl".into(),
        seed_bucket: Some((
            "seed".into(),
            Look::Found(Some("BucketOwnerPreferred".into())),
        )),
    };
    assert_eq!(level_of(&f, "seeding"), Level::Ok);
    f.seeding[0].seed_bucket = Some((
        "seed".into(),
        Look::Found(Some("BucketOwnerEnforced".into())),
    ));
    assert_eq!(level_of(&f, "seeding"), Level::Error);
    f.seeding[0].seed_bucket = Some(("seed".into(), Look::Missing));
    assert_eq!(level_of(&f, "seeding"), Level::Error);
}

#[test]
fn an_unset_secret_is_an_error() {
    let mut f = good();
    f.secrets[0].set = Look::Found(false);
    assert_eq!(level_of(&f, "secret"), Level::Error);
}

#[test]
fn a_disabled_schedule_is_an_error_and_an_enabled_one_shows_its_next_run() {
    let f = good();
    let ok = judge(&f)
        .into_iter()
        .find(|x| x.check == "schedule")
        .unwrap();
    assert!(
        ok.finding.contains("next run 2026-12-04T03:00:00Z"),
        "{}",
        ok.finding
    );
    let mut f = good();
    if let Look::Found(d) = &mut f.schedules[0].found {
        d.enabled = false;
    }
    assert_eq!(level_of(&f, "schedule"), Level::Error);
}

#[test]
fn an_alarm_in_alarm_is_an_error() {
    let mut f = good();
    f.alarms[0].state = Look::Found("ALARM".into());
    assert_eq!(level_of(&f, "alarm"), Level::Error);
}

#[test]
fn a_message_in_a_dead_letter_queue_is_an_error() {
    let mut f = good();
    f.queues[0].messages = Look::Found(2);
    assert_eq!(level_of(&f, "dead-letter-queue"), Level::Error);
}

#[test]
fn a_cluster_without_the_alert_topic_is_a_warning() {
    let mut f = good();
    target_detail(&mut f).topics[0].1 = None;
    assert_eq!(level_of(&f, "notification-topic"), Level::Warning);
}

#[test]
fn reserved_memory_below_25_percent_is_a_warning() {
    let mut f = good();
    target_detail(&mut f).reserved_memory_percent[0].1 = Look::Found(Some(10));
    assert_eq!(level_of(&f, "reserved-memory"), Level::Warning);
}

#[test]
fn a_group_without_replicas_is_a_warning() {
    let mut f = good();
    target_detail(&mut f).min_replicas = 0;
    assert_eq!(level_of(&f, "replica"), Level::Warning);
}

#[test]
fn automatic_backups_are_a_warning_and_their_window_is_judged_against_the_schedule() {
    let mut f = good();
    target_detail(&mut f).retention_limit = 1;
    assert_eq!(level_of(&f, "automatic-backups"), Level::Warning);
    assert_eq!(level_of(&f, "snapshot-window"), Level::Warning);
    target_detail(&mut f).snapshot_window = Some("08:00-09:00".into());
    assert_eq!(level_of(&f, "snapshot-window"), Level::Ok);
}

#[test]
fn an_old_or_missing_backup_is_a_warning_then_an_error() {
    let mut f = good();
    f.targets[0].last_backup = Some(f.now - Duration::hours(30));
    assert_eq!(level_of(&f, "last-backup"), Level::Warning);
    f.targets[0].last_backup = Some(f.now - Duration::hours(60));
    assert_eq!(level_of(&f, "last-backup"), Level::Error);
    f.targets[0].last_backup = None;
    assert_eq!(level_of(&f, "last-backup"), Level::Error);
}

#[test]
fn a_bucket_that_cannot_be_listed_is_one_error_not_one_per_target() {
    let mut f = good();
    f.targets[0].last_backup = None;
    f.backups_unlisted = Some("ListObjectsV2 s3://b/ecb-: AccessDenied".into());
    let last: Vec<_> = judge(&f)
        .into_iter()
        .filter(|x| x.check == "last-backup")
        .collect();
    assert_eq!(last.len(), 1, "{last:?}");
    assert_eq!(last[0].level, Level::Error);
    assert!(last[0].finding.contains("AccessDenied"), "{last:?}");
}

#[test]
fn a_missing_target_is_an_error() {
    let mut f = good();
    f.targets[0].detail = Look::Missing;
    assert_eq!(level_of(&f, "target"), Level::Error);
}

#[test]
fn a_schedule_input_names_its_targets() {
    let (t, sel) = targets_of_input(
        &serde_json::json!({"targets": [{"cacheClusterId": "c"}, {"replicationGroupId": "g"}], "selector": {"tags": {}}}),
    );
    assert_eq!(
        t,
        vec![
            TargetRef {
                id: "c".into(),
                group: false
            },
            TargetRef {
                id: "g".into(),
                group: true
            }
        ]
    );
    assert!(sel);
}
