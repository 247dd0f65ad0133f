# Alerts go to the notify function: failed runs (EventBridge, Step Functions status changes), ElastiCache snapshot
# events (EventBridge and SNS), and the "no successful backup" alarm (SNS).

resource "aws_secretsmanager_secret" "slack_webhook" {
  name        = "${var.name}/slack-webhook-url"
  description = "Slack incoming-webhook URL for ${var.name} alerts. Set the value outside Terraform (README, Alerts)."
  # checkov:skip=CKV_AWS_149:The AWS managed key protects a webhook URL adequately; a customer key adds cost and a key policy to manage.
  # checkov:skip=CKV2_AWS_57:A Slack webhook URL cannot be rotated by a Lambda rotator; rotate by replacing the webhook.
  tags = var.tags
}

resource "aws_secretsmanager_secret" "pagerduty_routing_key" {
  name        = "${var.name}/pagerduty-routing-key"
  description = "PagerDuty Events API v2 routing key for ${var.name} alerts. Set the value outside Terraform (README, Alerts)."
  # checkov:skip=CKV_AWS_149:The AWS managed key protects a routing key adequately; a customer key adds cost and a key policy to manage.
  # checkov:skip=CKV2_AWS_57:A PagerDuty routing key cannot be rotated by a Lambda rotator; rotate it in PagerDuty.
  tags = var.tags
}

resource "aws_cloudwatch_event_rule" "execution_status" {
  name        = "${var.name}-execution-status"
  description = "Finished executions of ${local.state_machine} and ${local.restore_machine} (failures page, successes resolve)."
  event_pattern = jsonencode({
    source        = ["aws.states"]
    "detail-type" = ["Step Functions Execution Status Change"]
    detail = {
      stateMachineArn = [aws_sfn_state_machine.this.arn, aws_sfn_state_machine.restore.arn]
      status          = ["FAILED", "TIMED_OUT", "ABORTED", "SUCCEEDED"]
    }
  })
  tags = var.tags
}

resource "aws_cloudwatch_event_rule" "snapshot_events" {
  name        = "${var.name}-elasticache-snapshots"
  description = "ElastiCache snapshot failures (page) and completions (info)."
  event_pattern = jsonencode({
    source        = ["aws.elasticache"]
    "detail-type" = ["Snapshot Created", "Snapshot Creation Failed", "Snapshot Export Failed", "Snapshot Copy Failed"]
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

data "aws_iam_policy_document" "events_topic" {
  statement {
    sid     = "CloudWatchAlarms"
    actions = ["sns:Publish"]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
    resources = [aws_sns_topic.events.arn]
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }

  statement {
    sid     = "ElastiCacheNotifications"
    actions = ["sns:Publish"]
    principals {
      type        = "Service"
      identifiers = ["elasticache.amazonaws.com"]
    }
    resources = [aws_sns_topic.events.arn]
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
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

resource "aws_cloudwatch_metric_alarm" "no_success" {
  count = var.no_success_alarm_hours == null ? 0 : 1

  alarm_name          = "${var.name}-no-successful-backup"
  alarm_description   = "No successful ${local.state_machine} execution in ${var.no_success_alarm_hours} hours."
  namespace           = "AWS/States"
  metric_name         = "ExecutionsSucceeded"
  dimensions          = { StateMachineArn = aws_sfn_state_machine.this.arn }
  statistic           = "Sum"
  period              = 3600
  evaluation_periods  = var.no_success_alarm_hours
  comparison_operator = "LessThanThreshold"
  threshold           = 1
  treat_missing_data  = "breaching"
  alarm_actions       = [aws_sns_topic.events.arn]
  ok_actions          = [aws_sns_topic.events.arn]
  tags                = var.tags
}
