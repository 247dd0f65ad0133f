# Alerts go to the notify function: failed runs (EventBridge, Step Functions status changes), ElastiCache events
# (node-based clusters through their SNS notification topic; serverless caches through EventBridge), and the "no
# successful backup" alarm (SNS).

resource "aws_secretsmanager_secret" "slack_webhook" {
  name        = "${var.name}/slack-webhook-url"
  description = "Slack incoming-webhook URL for ${var.name} alerts. Set the value outside Terraform (README, Alerts)."
  # 0 lets a destroyed deployment be re-created at once under the same name.
  recovery_window_in_days = var.secret_recovery_window_days
  # checkov:skip=CKV_AWS_149:The AWS managed key protects a webhook URL adequately; a customer key adds cost and a key policy to manage.
  # checkov:skip=CKV2_AWS_57:A Slack webhook URL cannot be rotated by a Lambda rotator; rotate by replacing the webhook.
  tags = var.tags
}

resource "aws_secretsmanager_secret" "pagerduty_routing_key" {
  name                    = "${var.name}/pagerduty-routing-key"
  description             = "PagerDuty Events API v2 routing key for ${var.name} alerts. Set the value outside Terraform (README, Alerts)."
  recovery_window_in_days = var.secret_recovery_window_days
  # checkov:skip=CKV_AWS_149:The AWS managed key protects a routing key adequately; a customer key adds cost and a key policy to manage.
  # checkov:skip=CKV2_AWS_57:A PagerDuty routing key cannot be rotated by a Lambda rotator; rotate it in PagerDuty.
  tags = var.tags
}

resource "aws_cloudwatch_event_rule" "execution_status" {
  name        = "${var.name}-execution-status"
  description = "Finished executions of ${local.state_machine}, ${local.restore_machine} and ${local.fleet_machine}${local.dr ? ", and of ${local.restore_machine} in ${var.dr_region}" : ""} (failures page, successes resolve)."
  # The DR region's restore machine's events arrive here forwarded by its rule (dr.tf), still naming that machine.
  event_pattern = jsonencode({
    source        = ["aws.states"]
    "detail-type" = ["Step Functions Execution Status Change"]
    detail = {
      stateMachineArn = concat(
        [aws_sfn_state_machine.this.arn, aws_sfn_state_machine.restore.arn, aws_sfn_state_machine.fleet.arn],
        aws_sfn_state_machine.dr_restore[*].arn,
      )
      status = ["FAILED", "TIMED_OUT", "ABORTED", "SUCCEEDED"]
    }
  })
  tags = var.tags
}

# ElastiCache's EventBridge snapshot events ("Snapshot Created", "Snapshot Export Failed", …) are documented for
# serverless caches (ElastiCache User Guide, "Serverless events", red-ug/serverless-events.html); node-based clusters
# report snapshots and exports through their SNS notification topic (the events topic below) and DescribeEvents,
# which CheckExport reads to fail fast on a refused export. This rule stays for what EventBridge does deliver.
# ElastiCache snapshot events of what this deployment backs up, and nothing else: this project's snapshots (`ecb-…`),
# each scheduled target itself, and its member nodes. EventBridge matches strings exactly or by prefix, suffix or
# `*` wildcard (EventBridge User Guide, "Content filtering in event patterns"): no digit class, no `?`, and the
# alternatives of one field are OR-ed (no "prefix but not …"). So a node is matched by the prefix `<target>-00`:
# - cluster mode disabled: the members are `<group>-001` … `-006` (a primary and at most 5 replicas), and a CMD
#   backup is taken from a member, so its events name the node (`-00` covers up to `-009`; that ElastiCache never
#   numbers a replacement member past that is UNCONFIRMED);
# - cluster mode enabled: a backup is taken of the whole group (ElastiCache User Guide, "Making manual backups":
#   no shard-level backups), so its events name the group, matched exactly; node ids `<group>-0001-001` of shards
#   0001-0099 match the prefix too.
# It cannot match another group's ids unless that one's name is `<target>-00…`: not `orders-eu-001`, `orders-2`,
# `orders-01` or their nodes. UNCONFIRMED: which id SourceIdentifier carries for each event (no AWS sample).
# - serverless caches (serverless_cache_name): the detail-types are the same four (Amazon EventBridge events
#   reference, "Amazon ElastiCache events", events-ref-elasticache.html; the ElastiCache User Guide's "Serverless
#   cache events" says serverless events reach EventBridge), with `detail` fields EventCategories, EventID, Message,
#   SourceArn, SourceIdentifier and SourceType (the EventBridge schema, as the CDK's generated aws.elasticache event
#   patterns spell it). A serverless cache has no member nodes: its name is matched exactly, and a snapshot of this
#   project by the `ecb-` prefix. UNCONFIRMED: whether a serverless snapshot event's SourceIdentifier is the cache
#   (SourceType serverless-cache) or the snapshot (serverless-cache-snapshot); either is matched.
locals {
  snapshot_targets = sort(tolist(local.scheduled_targets))
  # PutRule takes an EventPattern of at most 4096 characters (EventBridge API Reference; the AWS provider checks it
  # at plan): targets are spread over as many rules as needed. A target adds at most 2 x its length + 20 characters
  # (`"t",{"prefix":"t-00"},`); the rest of the pattern stays under 300.
  snapshot_targets_per_rule = floor((4096 - 300) / (2 * max(0, [for t in local.snapshot_targets : length(t)]...) + 20))
  snapshot_rule_targets     = length(local.snapshot_targets) == 0 ? [[]] : chunklist(local.snapshot_targets, local.snapshot_targets_per_rule)
}

resource "aws_cloudwatch_event_rule" "snapshot_events" {
  count = length(local.snapshot_rule_targets)

  name        = "${var.name}-elasticache-snapshots${count.index == 0 ? "" : "-${count.index + 1}"}"
  description = "ElastiCache snapshot failures (page) and completions (info) of this deployment's ${count.index == 0 ? "snapshots and " : ""}targets${length(local.snapshot_rule_targets) > 1 ? " (${count.index + 1} of ${length(local.snapshot_rule_targets)})" : ""}."
  event_pattern = jsonencode({
    source        = ["aws.elasticache"]
    "detail-type" = ["Snapshot Created", "Snapshot Creation Failed", "Snapshot Export Failed", "Snapshot Copy Failed"]
    detail = {
      SourceIdentifier = concat(
        count.index == 0 ? [{ prefix = "ecb-" }] : [],
        flatten([for t in local.snapshot_rule_targets[count.index] : concat([t], contains(local.scheduled_node_targets, t) ? [{ prefix = "${t}-00" }] : [])]),
      )
    }
  })
  tags = var.tags
}

moved {
  from = aws_cloudwatch_event_rule.snapshot_events
  to   = aws_cloudwatch_event_rule.snapshot_events[0]
}

locals {
  # notify's rules; the first snapshot rule keeps the key it had when it was the only one.
  notify_rules = merge(
    { execution_status = aws_cloudwatch_event_rule.execution_status },
    { for i, r in aws_cloudwatch_event_rule.snapshot_events : (i == 0 ? "snapshot_events" : "snapshot_events_${i + 1}") => r },
  )
}

resource "aws_cloudwatch_event_target" "notify" {
  for_each = { for k, r in local.notify_rules : k => r.name }

  rule = each.value
  arn  = module.primary.functions["notify"].arn

  retry_policy {
    maximum_event_age_in_seconds = 3600
    maximum_retry_attempts       = 10
  }
}

resource "aws_lambda_permission" "events" {
  for_each = { for k, r in local.notify_rules : k => r.arn }

  statement_id  = "events-${each.key}"
  action        = "lambda:InvokeFunction"
  function_name = module.primary.functions["notify"].function_name
  principal     = "events.amazonaws.com"
  source_arn    = each.value
}

# Point your clusters' NotificationTopicArn here (ElastiCache requires an unencrypted topic in the same account and
# region: ElastiCache User Guide, "Event notifications and Amazon SNS"); the "no successful backup" alarm publishes
# here too.
resource "aws_sns_topic" "events" {
  name = "${var.name}-events"
  # checkov:skip=CKV_AWS_26:ElastiCache cannot publish to an encrypted topic (the topic shows as inactive: User Guide, Event notifications and Amazon SNS); messages carry cluster ids only.
  tags = var.tags
}

# CloudWatch alarms of this account may publish to each topic (events: staleness; ops: alarms about notify).
data "aws_iam_policy_document" "alarms_publish" {
  for_each = { events = aws_sns_topic.events.arn, ops = aws_sns_topic.ops.arn }

  statement {
    sid     = "CloudWatchAlarms"
    actions = ["sns:Publish"]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
    resources = [each.value]
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

data "aws_iam_policy_document" "events_topic" {
  source_policy_documents = [data.aws_iam_policy_document.alarms_publish["events"].json]

  # The statement ElastiCache's guide asks for, as written there (ElastiCache User Guide, "Managing ElastiCache Amazon
  # SNS notifications", SNS topic access policy requirement): any principal, SNS:Publish, on the condition that
  # AWS:SourceOwner is this account. ElastiCache does not support aws:SourceAccount there: a topic whose policy tests
  # it cannot be published to and is set inactive.
  statement {
    sid     = "ElastiCacheNotifications"
    actions = ["SNS:Publish"]
    principals {
      type        = "AWS"
      identifiers = ["*"]
    }
    resources = [aws_sns_topic.events.arn]
    condition {
      test     = "StringEquals"
      variable = "AWS:SourceOwner"
      values   = [local.account_id]
    }
  }
}

resource "aws_sns_topic_policy" "events" {
  arn    = aws_sns_topic.events.arn
  policy = data.aws_iam_policy_document.events_topic.json
}

resource "aws_sns_topic_subscription" "notify" {
  topic_arn = aws_sns_topic.events.arn
  protocol  = "lambda"
  endpoint  = module.primary.functions["notify"].arn
}

resource "aws_lambda_permission" "sns" {
  statement_id  = "sns-events"
  action        = "lambda:InvokeFunction"
  function_name = module.primary.functions["notify"].function_name
  principal     = "sns.amazonaws.com"
  source_arn    = aws_sns_topic.events.arn
}

# Staleness per scheduled target: "no verified backup of <target> in N hours". The backup publishes, per target,
# `BackupRunsStarted` (CreateSnapshot) and `VerifiedBackups` (DeleteSnapshot) as embedded metrics. The composite
# alarm pages only when no backup was verified in N hours AND a run was started in them, so a new deployment is quiet
# until its first scheduled run is due and has run. It sends no OK action: the target's next successful execution
# resolves the same incident (notify keys both by the target). A schedule that stops starting runs at all is the
# schedule dead-letter queue's alarm below.
resource "aws_cloudwatch_metric_alarm" "no_verified_backup" {
  for_each = var.no_success_alarm_hours == null ? toset([]) : local.scheduled_targets
  # checkov:skip=CKV_AWS_319:A part of the composite alarm "stale", which carries the action; this one alone must not page.

  alarm_name          = "${var.name}-no-verified-backup-in-${var.no_success_alarm_hours}h-${each.key}"
  alarm_description   = "No verified backup of ${each.key} in ${var.no_success_alarm_hours} hours (part of the composite alarm)."
  namespace           = local.metric_namespace
  metric_name         = "VerifiedBackups"
  dimensions          = { Target = each.key }
  statistic           = "Sum"
  period              = 3600
  evaluation_periods  = var.no_success_alarm_hours
  datapoints_to_alarm = var.no_success_alarm_hours
  comparison_operator = "LessThanThreshold"
  threshold           = 1
  treat_missing_data  = "breaching"
  actions_enabled     = false
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "runs_started" {
  for_each = var.no_success_alarm_hours == null ? toset([]) : local.scheduled_targets
  # checkov:skip=CKV_AWS_319:A part of the composite alarm "stale", which carries the action; this one alone must not page.

  alarm_name          = "${var.name}-backup-started-in-${var.no_success_alarm_hours}h-${each.key}"
  alarm_description   = "A backup of ${each.key} was started in the last ${var.no_success_alarm_hours} hours (part of the composite alarm)."
  namespace           = local.metric_namespace
  metric_name         = "BackupRunsStarted"
  dimensions          = { Target = each.key }
  statistic           = "Sum"
  period              = 3600
  evaluation_periods  = var.no_success_alarm_hours
  datapoints_to_alarm = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = 1
  treat_missing_data  = "notBreaching"
  actions_enabled     = false
  tags                = var.tags
}

resource "aws_cloudwatch_composite_alarm" "stale" {
  for_each = var.no_success_alarm_hours == null ? toset([]) : local.scheduled_targets

  # notify keys the page by the text after `-no-verified-backup-`: the target.
  alarm_name        = "${var.name}-no-verified-backup-${each.key}"
  alarm_description = "No verified backup of ${each.key} in ${var.no_success_alarm_hours} hours although backups were started."
  alarm_rule        = "ALARM(\"${aws_cloudwatch_metric_alarm.no_verified_backup[each.key].alarm_name}\") AND ALARM(\"${aws_cloudwatch_metric_alarm.runs_started[each.key].alarm_name}\")"
  alarm_actions     = [aws_sns_topic.events.arn]
  tags              = var.tags
}

# Notify watches itself through a path that does not go through notify: an SNS topic with an e-mail subscription.
resource "aws_sns_topic" "ops" {
  name = "${var.name}-ops"
  # checkov:skip=CKV_AWS_26:CloudWatch alarms cannot publish to a topic encrypted with the AWS managed key; messages carry alarm names only.
  tags = var.tags
}

resource "aws_sns_topic_subscription" "ops_email" {
  count     = var.ops_alert_email == null ? 0 : 1
  topic_arn = aws_sns_topic.ops.arn
  protocol  = "email"
  endpoint  = var.ops_alert_email
}

resource "aws_sns_topic_policy" "ops" {
  arn    = aws_sns_topic.ops.arn
  policy = data.aws_iam_policy_document.alarms_publish["ops"].json
}

resource "aws_cloudwatch_metric_alarm" "dead_letters" {
  for_each = merge(
    { notify = aws_sqs_queue.notify_dlq.name },
    length(aws_sqs_queue.schedule_dlq) > 0 ? { schedule = aws_sqs_queue.schedule_dlq[0].name } : {},
  )

  alarm_name          = "${var.name}-${each.key}-dead-letters"
  alarm_description   = "Messages in ${each.value}: ${each.key == "notify" ? "alerts notify could not deliver (secrets unset, key revoked, sink down)" : "scheduled backups EventBridge Scheduler could not start"}."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = each.value }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.ops.arn]
  ok_actions          = [aws_sns_topic.ops.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "notify_errors" {
  alarm_name          = "${var.name}-notify-errors"
  alarm_description   = "The notify function failed (an alert may not have reached Slack or PagerDuty)."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = module.primary.functions["notify"].function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.ops.arn]
  ok_actions          = [aws_sns_topic.ops.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "retention_errors" {
  count = var.retention != null ? 1 : 0

  alarm_name          = "${var.name}-retention-errors"
  alarm_description   = "The retention function failed (bad input, or deletions refused: see its report under retention-reports/)."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = module.primary.functions["retention"].function_name }
  statistic           = "Sum"
  period              = 3600
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.ops.arn]
  ok_actions          = [aws_sns_topic.ops.arn]
  tags                = var.tags
}
