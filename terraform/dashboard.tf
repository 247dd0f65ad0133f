# A CloudWatch dashboard of the backups: per target (every target that ever published, found with SEARCH, so manual
# runs and new targets appear without a change here) the last verified backup, duration, export size and key count;
# executions by status; the functions' errors and durations; the dead-letter queues; the alarms.
# Metric names: backup_core::metrics (local/checks/test_consistency.py keeps them equal).

locals {
  dashboard_name = "${var.name}-${local.region}" # Dashboards are account-wide: the region keeps two deployments apart.
  # Per-target series of one of the backup's metrics (CloudWatch User Guide, "Use search expressions in graphs").
  per_target = { for m, stat in {
    BackupDurationSeconds = "Maximum"
    ExportBytes           = "Maximum"
    KeyCount              = "Maximum"
    VerifiedBackups       = "Sum"
    BackupRunsStarted     = "Sum"
  } : m => [[{ expression = "SEARCH('{${local.metric_namespace},Target} MetricName=\"${m}\"', '${stat}', 86400)", id = lower(m), label = "" }]] }
  state_machine_arns = {
    backup  = "arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:${local.state_machine}"
    restore = "arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:${local.restore_machine}"
  }
  dead_letter_queues = concat([aws_sqs_queue.notify_dlq.name], [for q in aws_sqs_queue.schedule_dlq : q.name])
  dashboard_alarms = concat(
    [for t, a in aws_cloudwatch_composite_alarm.stale : "arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:${a.alarm_name}"],
    [for k, a in aws_cloudwatch_metric_alarm.dead_letters : "arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:${a.alarm_name}"],
    ["arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:${aws_cloudwatch_metric_alarm.notify_errors.alarm_name}"],
  )

  dashboard_widgets = [
    {
      type = "log", x = 0, y = 0, width = 12, height = 6
      properties = {
        title  = "Last verified backup per target (oldest first)"
        region = local.region
        view   = "table"
        # DeleteSnapshot prints one EMF record per verified backup (backup_core::metrics::verified_backup).
        query = "SOURCE '${module.primary.log_groups["delete-snapshot"].name}' | filter ispresent(VerifiedBackups) | stats max(@timestamp) as last_verified, count(*) as verified_backups, max(BackupDurationSeconds) as longest_seconds by Target | sort last_verified asc"
      }
    },
    {
      type = "alarm", x = 12, y = 0, width = 12, height = 6
      properties = {
        title  = "Alarms: no verified backup per target, dead letters, notify errors"
        alarms = local.dashboard_alarms
      }
    },
    {
      type = "metric", x = 0, y = 6, width = 12, height = 6
      properties = {
        title   = "Backup duration per target (seconds, daily maximum)"
        region  = local.region
        view    = "timeSeries"
        period  = 86400
        metrics = local.per_target["BackupDurationSeconds"]
      }
    },
    {
      type = "metric", x = 12, y = 6, width = 12, height = 6
      properties = {
        title   = "Verified backups and runs started per target (daily)"
        region  = local.region
        view    = "timeSeries"
        period  = 86400
        metrics = concat(local.per_target["VerifiedBackups"], local.per_target["BackupRunsStarted"])
      }
    },
    {
      type = "metric", x = 0, y = 12, width = 12, height = 6
      properties = {
        title   = "Export size per target (bytes, daily maximum)"
        region  = local.region
        view    = "timeSeries"
        period  = 86400
        metrics = local.per_target["ExportBytes"]
      }
    },
    {
      type = "metric", x = 12, y = 12, width = 12, height = 6
      properties = {
        title   = "Key count per target (daily maximum)"
        region  = local.region
        view    = "timeSeries"
        period  = 86400
        metrics = local.per_target["KeyCount"]
      }
    },
    {
      type = "metric", x = 0, y = 18, width = 12, height = 6
      properties = {
        title   = "Executions by status"
        region  = local.region
        view    = "timeSeries"
        stacked = true
        stat    = "Sum"
        period  = 3600
        # One row per machine and status (setproduct, not flatten, which would also flatten each row).
        metrics = [for p in setproduct(keys(local.state_machine_arns), ["ExecutionsSucceeded", "ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"]) :
          ["AWS/States", p[1], "StateMachineArn", local.state_machine_arns[p[0]], { label = "${p[0]} ${trimprefix(p[1], "Executions")}" }]
        ]
      }
    },
    {
      type = "metric", x = 12, y = 18, width = 12, height = 6
      properties = {
        title   = "Dead-letter queue depth (messages)"
        region  = local.region
        view    = "timeSeries"
        stat    = "Maximum"
        period  = 300
        metrics = [for q in local.dead_letter_queues : ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", q]]
      }
    },
    {
      type = "metric", x = 0, y = 24, width = 12, height = 6
      properties = {
        title   = "Function errors"
        region  = local.region
        view    = "timeSeries"
        stat    = "Sum"
        period  = 3600
        metrics = [for k, f in module.primary.functions : ["AWS/Lambda", "Errors", "FunctionName", f.function_name, { label = k }]]
      }
    },
    {
      type = "metric", x = 12, y = 24, width = 12, height = 6
      properties = {
        title   = "Function duration (milliseconds, maximum)"
        region  = local.region
        view    = "timeSeries"
        stat    = "Maximum"
        period  = 3600
        metrics = [for k, f in module.primary.functions : ["AWS/Lambda", "Duration", "FunctionName", f.function_name, { label = k }]]
      }
    },
    {
      type = "text", x = 0, y = 30, width = 24, height = 2
      properties = {
        # The monthly evidence reports (functions/evidence), in the S3 console.
        markdown = "**Audit evidence**: monthly reports (per target: runs, verified backups, drills, retention deletions, RPO/RTO met) in [s3://${local.bucket_name}/evidence/](https://${local.region}.console.aws.amazon.com/s3/buckets/${local.bucket_name}?prefix=evidence/)"
      }
    },
  ]
}

resource "aws_cloudwatch_dashboard" "this" {
  count = var.dashboard ? 1 : 0

  dashboard_name = local.dashboard_name
  dashboard_body = jsonencode({ widgets = local.dashboard_widgets })
}
