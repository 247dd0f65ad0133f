# Alerts go to the notify function: failed runs (EventBridge, Step Functions status changes), ElastiCache snapshot
# events (EventBridge and SNS), and the "no successful backup" alarm (SNS).

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
  description = "Finished executions of ${local.state_machine}, ${local.restore_machine} and ${local.fleet_machine} (failures page, successes resolve)."
  event_pattern = jsonencode({
    source        = ["aws.states"]
    "detail-type" = ["Step Functions Execution Status Change"]
    detail = {
      stateMachineArn = [aws_sfn_state_machine.this.arn, aws_sfn_state_machine.restore.arn, aws_sfn_state_machine.fleet.arn]
      status          = ["FAILED", "TIMED_OUT", "ABORTED", "SUCCEEDED"]
    }
  })
  tags = var.tags
}

resource "aws_cloudwatch_event_rule" "snapshot_events" {
  name        = "${var.name}-elasticache-snapshots"
  description = "ElastiCache snapshot failures (page) and completions (info) of this deployment's targets and snapshots."
  # Only what this deployment backs up: this project's snapshots (`ecb-…`), each scheduled target and its member
  # nodes (`orders-001`, `orders-0001-001`); not the region's other clusters and their automatic backups.
  event_pattern = jsonencode({
    source        = ["aws.elasticache"]
    "detail-type" = ["Snapshot Created", "Snapshot Creation Failed", "Snapshot Export Failed", "Snapshot Copy Failed"]
    detail = {
      SourceIdentifier = concat(
        [{ prefix = "ecb-" }],
        [for t in local.scheduled_targets : t],
        [for t in local.scheduled_targets : { prefix = "${t}-" }],
      )
    }
  })
  tags = var.tags
}

resource "aws_cloudwatch_event_target" "notify" {
  for_each = {
    execution_status = aws_cloudwatch_event_rule.execution_status.name
    snapshot_events  = aws_cloudwatch_event_rule.snapshot_events.name
  }

  rule = each.value
  arn  = aws_lambda_function.this["notify"].arn

  retry_policy {
    maximum_event_age_in_seconds = 3600
    maximum_retry_attempts       = 10
  }
}

resource "aws_lambda_permission" "events" {
  for_each = {
    execution_status = aws_cloudwatch_event_rule.execution_status.arn
    snapshot_events  = aws_cloudwatch_event_rule.snapshot_events.arn
  }

  statement_id  = "events-${each.key}"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this["notify"].function_name
  principal     = "events.amazonaws.com"
  source_arn    = each.value
}

# Point your clusters' NotificationTopicArn here (ElastiCache requires an unencrypted topic in the same account and
# region); the "no successful backup" alarm publishes here too.
resource "aws_sns_topic" "events" {
  name = "${var.name}-events"
  # checkov:skip=CKV_AWS_26:ElastiCache cannot publish to an encrypted topic (it shows as inactive); messages carry cluster ids only.
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

  statement {
    sid     = "ElastiCacheNotifications"
    actions = ["sns:Publish"]
    principals {
      type        = "Service"
      identifiers = ["elasticache.amazonaws.com"]
    }
    resources = [aws_sns_topic.events.arn]
    # ElastiCache User Guide, "Event notifications and Amazon SNS": ElastiCache sets `aws:SourceOwner`; a topic
    # whose policy tests `aws:SourceAccount` shows as inactive.
    condition {
      test     = "StringEquals"
      variable = "aws:SourceOwner"
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
  endpoint  = aws_lambda_function.this["notify"].arn
}

resource "aws_lambda_permission" "sns" {
  statement_id  = "sns-events"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this["notify"].function_name
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
  dimensions          = { FunctionName = aws_lambda_function.this["notify"].function_name }
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
  dimensions          = { FunctionName = aws_lambda_function.this["retention"].function_name }
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
