resource "aws_sqs_queue" "schedule_dlq" {
  count = var.schedule_dead_letter_queue && length(var.schedules) > 0 ? 1 : 0

  name                      = "${var.name}-schedule-dlq"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
  tags                      = var.tags
}

data "aws_iam_policy_document" "scheduler_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "scheduler" {
  count = local.scheduled && local.create_role["scheduler"] ? 1 : 0

  name                 = "${var.name}-scheduler-${local.region}"
  assume_role_policy   = data.aws_iam_policy_document.scheduler_assume.json
  path                 = var.role_path
  permissions_boundary = var.role_permissions_boundary
  tags                 = var.tags
}

data "aws_iam_policy_document" "scheduler" {
  statement {
    sid       = "StartBackups"
    actions   = ["states:StartExecution"]
    resources = [local.state_machine_arn]
  }

  dynamic "statement" {
    for_each = length(local.fleet_schedules) > 0 ? [aws_sfn_state_machine.fleet.arn] : []
    content {
      sid       = "StartFleets"
      actions   = ["states:StartExecution"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = length(var.drills) > 0 ? [aws_sfn_state_machine.restore.arn] : []
    content {
      sid       = "StartDrills"
      actions   = ["states:StartExecution"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = var.retention != null ? [module.primary.functions["retention"].arn] : []
    content {
      sid       = "RunRetention"
      actions   = ["lambda:InvokeFunction"]
      resources = [statement.value]
    }
  }

  statement {
    sid       = "RunEvidence"
    actions   = ["lambda:InvokeFunction"]
    resources = [module.primary.functions["evidence"].arn]
  }

  dynamic "statement" {
    for_each = aws_sqs_queue.schedule_dlq
    content {
      sid       = "DeadLetters"
      actions   = ["sqs:SendMessage"]
      resources = [statement.value.arn]
    }
  }
}

resource "aws_iam_role_policy" "scheduler" {
  count = local.scheduled && local.create_role["scheduler"] ? 1 : 0

  name   = "start-backups"
  role   = aws_iam_role.scheduler[0].id
  policy = data.aws_iam_policy_document.scheduler.json
}

resource "aws_scheduler_schedule" "backup" {
  for_each = var.schedules

  name                         = "${var.name}-${each.key}"
  description                  = "Back up ${each.value.selector != null ? "the fleet tagged ${join(",", [for tk, tv in each.value.selector : "${tk}=${tv}"])}" : each.value.targets != null ? "a fleet of ${length(each.value.targets)} targets" : each.value.serverless_cache_name != null ? "the serverless cache ${each.value.serverless_cache_name}" : coalesce(each.value.replication_group_id, each.value.cache_cluster_id)} (${each.value.schedule_expression} ${each.value.timezone})"
  schedule_expression          = each.value.schedule_expression
  schedule_expression_timezone = each.value.timezone
  state                        = each.value.enabled ? "ENABLED" : "DISABLED"

  flexible_time_window {
    mode = "OFF"
  }

  # checkov:skip=CKV_AWS_297:The schedule's input holds only a cluster id, a bucket name and timeouts; the AWS owned key suffices.

  target {
    # A selector or a list runs the fleet state machine; one target, the backup state machine.
    arn      = contains(keys(local.fleet_schedules), each.key) ? aws_sfn_state_machine.fleet.arn : aws_sfn_state_machine.this.arn
    role_arn = local.role_arns["scheduler"]
    # The execution input (docs/design.md, "Execution input"; docs/operations.md, "Fleets"); unset optional fields are left out.
    input = jsonencode({ for k, v in {
      replicationGroupId  = each.value.replication_group_id
      cacheClusterId      = each.value.cache_cluster_id
      serverlessCacheName = each.value.serverless_cache_name
      selector            = each.value.selector == null ? null : { tags = each.value.selector }
      targets = each.value.targets == null ? null : [for t in each.value.targets : { for tk, tv in {
        replicationGroupId  = t.replication_group_id
        cacheClusterId      = t.cache_cluster_id
        serverlessCacheName = t.serverless_cache_name
      } : tk => tv if tv != null }]
      maxConcurrency         = each.value.max_concurrency
      name                   = contains(keys(local.fleet_schedules), each.key) ? each.key : null
      bucket                 = each.value.bucket
      snapshotTimeoutSeconds = each.value.snapshot_timeout_seconds
      exportTimeoutSeconds   = each.value.export_timeout_seconds
      keepSourceSnapshot     = each.value.keep_source_snapshot
      verifyBudgetSeconds    = each.value.verify_budget_seconds
    } : k => v if v != null })

    retry_policy {
      maximum_event_age_in_seconds = 3600
      maximum_retry_attempts       = 5
    }

    dynamic "dead_letter_config" {
      for_each = aws_sqs_queue.schedule_dlq
      content {
        arn = dead_letter_config.value.arn
      }
    }
  }
}

# DR drills: the restore state machine with drill: true on the newest verified backup of each source.
resource "aws_scheduler_schedule" "drill" {
  for_each = var.drills

  name                         = "${var.name}-drill-${each.key}"
  description                  = "DR drill of ${each.value.serverless_cache_name != null ? "the serverless cache ${each.value.serverless_cache_name}" : each.value.replication_group_id}${each.value.vault ? " from the vault" : ""} (${each.value.schedule_expression} ${each.value.timezone})"
  schedule_expression          = each.value.schedule_expression
  schedule_expression_timezone = each.value.timezone
  state                        = each.value.enabled ? "ENABLED" : "DISABLED"

  flexible_time_window {
    mode = "OFF"
  }

  # checkov:skip=CKV_AWS_297:The schedule's input holds only a cluster id and restore settings; the AWS owned key suffices.

  target {
    arn      = aws_sfn_state_machine.restore.arn
    role_arn = local.role_arns["scheduler"]
    # The restore input (docs/operations.md, "Restore a backup"); unset optional fields are left out.
    # A serverless source's drill restores into a new serverless cache (serverless: true); a vault drill restores
    # the newest verified backup in the vault bucket (bucket: the vault's).
    input = jsonencode({ for k, v in {
      replicationGroupId   = each.value.replication_group_id
      serverlessCacheName  = each.value.serverless_cache_name
      serverless           = each.value.serverless_cache_name != null ? true : null
      bucket               = each.value.vault ? try(var.vault.bucket, null) : null
      latest               = true
      drill                = true
      nodeType             = each.value.node_type
      cacheSubnetGroupName = each.value.cache_subnet_group_name
      securityGroupIds     = each.value.security_group_ids
      subnetIds            = each.value.subnet_ids
    } : k => v if v != null })

    retry_policy {
      maximum_event_age_in_seconds = 3600
      maximum_retry_attempts       = 5
    }
  }
}

# Retention by backup set (functions/retention): dry-run unless retention.dry_run = false.
resource "aws_scheduler_schedule" "retention" {
  count = var.retention != null ? 1 : 0

  name                         = "${var.name}-retention"
  description                  = "Retention: keep the ${var.retention.keep_last} newest verified backups per target and all within ${var.retention.keep_days} days${var.retention.dry_run ? " (dry run)" : ""}"
  schedule_expression          = var.retention.schedule_expression
  schedule_expression_timezone = var.retention.timezone

  flexible_time_window {
    mode = "OFF"
  }

  # checkov:skip=CKV_AWS_297:The schedule's input holds only retention numbers; the AWS owned key suffices.

  target {
    arn      = module.primary.functions["retention"].arn
    role_arn = local.role_arns["scheduler"]
    input = jsonencode({
      keepLast            = var.retention.keep_last
      keepDays            = var.retention.keep_days
      dryRun              = var.retention.dry_run
      graceHours          = var.retention.grace_hours
      snapshotMinAgeHours = var.retention.snapshot_min_age_hours
    })

    retry_policy {
      maximum_event_age_in_seconds = 3600
      maximum_retry_attempts       = 2
    }
  }
}

# The monthly audit evidence (functions/evidence): the previous calendar month's report, written to
# evidence/<yyyy-mm>.html and .json in the bucket, at 06:00 UTC on the 1st (after the night's backups). Deployed
# whenever anything is scheduled: with no schedule, drill or retention there is nothing to prove.
resource "aws_scheduler_schedule" "evidence" {
  count = local.scheduled ? 1 : 0

  name                         = "${var.name}-evidence"
  description                  = "Audit evidence: the previous calendar month's report to s3://${local.bucket_name}/evidence/<yyyy-mm>.html"
  schedule_expression          = "cron(0 6 1 * ? *)"
  schedule_expression_timezone = "UTC"

  flexible_time_window {
    mode = "OFF"
  }

  # checkov:skip=CKV_AWS_297:The schedule's input is {}; the AWS owned key suffices.

  target {
    arn      = module.primary.functions["evidence"].arn
    role_arn = local.role_arns["scheduler"]
    input    = jsonencode({})

    retry_policy {
      maximum_event_age_in_seconds = 3600
      maximum_retry_attempts       = 2
    }
  }
}
