output "state_machine_arn" {
  description = "ARN of the backup state machine."
  value       = aws_sfn_state_machine.this.arn
}

output "bucket_name" {
  description = "Export bucket name."
  value       = local.bucket_name
}

output "bucket_arn" {
  description = "Export bucket ARN."
  value       = local.bucket_arn
}

output "function_names" {
  description = "Lambda function names, keyed by function (create-snapshot, …, notify)."
  value       = { for k, f in module.primary.functions : k => f.function_name }
}

output "events_topic_arn" {
  description = "SNS topic for ElastiCache notifications: set it as your clusters' NotificationTopicArn."
  value       = aws_sns_topic.events.arn
}

output "slack_webhook_secret_arn" {
  description = "Secret to hold the Slack incoming-webhook URL (set its value outside Terraform)."
  value       = aws_secretsmanager_secret.slack_webhook.arn
}

output "pagerduty_routing_key_secret_arn" {
  description = "Secret to hold the PagerDuty Events v2 routing key (set its value outside Terraform)."
  value       = aws_secretsmanager_secret.pagerduty_routing_key.arn
}

output "schedule_names" {
  description = "EventBridge Scheduler schedule names, keyed like var.schedules."
  value       = { for k, s in aws_scheduler_schedule.backup : k => s.name }
}

output "start_execution_command" {
  description = "Start a backup by hand (replace the id)."
  value       = "aws stepfunctions start-execution --state-machine-arn ${aws_sfn_state_machine.this.arn} --name manual-$(date -u +%Y%m%dT%H%M%SZ) --input '{\"replicationGroupId\": \"REPLACE-ME\"}'"
}

output "notify_dead_letter_queue_url" {
  description = "Alerts that could not be delivered after Lambda's retries wait here (check it if Slack or PagerDuty was down)."
  value       = aws_sqs_queue.notify_dlq.url
}

output "restore_state_machine_arn" {
  description = "ARN of the restore state machine (restores and drills; input: see docs/operations.md, \"Restore a backup\")."
  value       = aws_sfn_state_machine.restore.arn
}

output "fleet_state_machine_arn" {
  description = "ARN of the fleet state machine: input {\"selector\": {\"tags\": {...}}} or {\"targets\": [...]}, with maxConcurrency and the backup options (docs/operations.md, Fleets); one child execution of the backup state machine per target."
  value       = aws_sfn_state_machine.fleet.arn
}

output "dr_bucket_name" {
  description = "The DR region's replica of the export bucket (dr_region), or null."
  value       = local.dr ? aws_s3_bucket.dr[0].bucket : null
}

output "dr_restore_state_machine_arn" {
  description = "The restore state machine in the DR region (dr_region), or null: start restores and drills there against dr_bucket_name."
  value       = local.dr ? aws_sfn_state_machine.dr_restore[0].arn : null
}

output "ops_topic_arn" {
  description = "SNS topic of the alarms about notify itself (dead-letter queues, errors); subscribe here if ops_alert_email is not set."
  value       = aws_sns_topic.ops.arn
}

output "staleness_alarm_names" {
  description = "Per scheduled target, the composite alarm \"no verified backup in N hours\"."
  value       = { for t, a in aws_cloudwatch_composite_alarm.stale : t => a.alarm_name }
}

output "function_arns" {
  description = "Lambda function ARNs, keyed by function (create-snapshot, ..., delete-group)."
  value       = { for k, f in module.primary.functions : k => f.arn }
}

output "role_arns" {
  description = "IAM role ARNs (created or given in existing_role_arns), keyed by function name, state-machine, restore-machine, fleet-machine and scheduler (null without schedules or drills)."
  value       = local.role_arns
}

output "role_policies_json" {
  description = "The inline policy each role needs, keyed like role_arns: attach it to a role you pass in existing_role_arns (the module attaches it to the roles it creates)."
  value = merge(
    { for k in keys(local.functions) : k => module.primary.policies[k].json },
    {
      state-machine   = data.aws_iam_policy_document.state_machine.json
      restore-machine = data.aws_iam_policy_document.restore_machine.json
      fleet-machine   = data.aws_iam_policy_document.fleet_machine.json
      scheduler       = local.scheduled ? data.aws_iam_policy_document.scheduler.json : null
    },
  )
}

output "log_group_arns" {
  description = "CloudWatch log group ARNs, keyed by function, plus state-machine, restore-machine and fleet-machine (execution logs)."
  value = merge(
    { for k, g in module.primary.log_groups : k => g.arn },
    {
      state-machine   = aws_cloudwatch_log_group.state_machine.arn
      restore-machine = aws_cloudwatch_log_group.restore_machine.arn
      fleet-machine   = aws_cloudwatch_log_group.fleet_machine.arn
    },
  )
}

output "dead_letter_queue_urls" {
  description = "SQS dead-letter queue URLs: notify (alerts Lambda could not deliver) and schedule (starts EventBridge Scheduler could not deliver; null without schedules or with schedule_dead_letter_queue = false)."
  value = {
    notify   = aws_sqs_queue.notify_dlq.url
    schedule = try(aws_sqs_queue.schedule_dlq[0].url, null)
  }
}

output "bucket_policy_json" {
  description = "The export bucket's policy (TLS only; ElastiCache's regional principal's export grants, which also cover its seeding reads in seeding mode bucket-policy). With create_bucket = false, merge it into your bucket's policy: without it exports fail with ExportRejected."
  value       = data.aws_iam_policy_document.exports.json
}

output "seeding" {
  description = "Per region where restores run (this region, and dr_region): mode (seeding_mode as applied: bucket-policy or object-acl), seed_bucket_name (object-acl: the bucket restores seed from, else null) and elasticache_canonical_user (object-acl: the grantee of each seed copy's READ and READ_ACP, else null)."
  value = { for r, c in local.seed_contexts : (r == "primary" ? local.region : var.dr_region) => {
    mode                       = c.mode
    seed_bucket_name           = c.seed_bucket
    elasticache_canonical_user = c.mode == "object-acl" ? local.elasticache_canonical_user : null
  } }
}

output "dashboard_name" {
  description = "The CloudWatch dashboard of the backups (dashboard = true), or null."
  value       = try(aws_cloudwatch_dashboard.this[0].dashboard_name, null)
}

output "retention_schedule_name" {
  description = "The retention schedule (var.retention), or null."
  value       = try(aws_scheduler_schedule.retention[0].name, null)
}

output "vault" {
  description = "The vault this deployment replicates verified backups to (var.vault as given: account_id, bucket, region, kms_key_arn), or null."
  value       = var.vault
}

output "vault_replication_role_arn" {
  description = "With a vault: the role S3 replicates the export bucket as (<name>-vault-replication under role_path), the one the vault module's replication_role_arn names; null without a vault."
  value       = local.vault ? local.vault_replication_role_arn : null
}

output "vault_reader_role_arns" {
  description = "The roles that read a vault: resolve-backup's (restores, in this region and in dr_region) and evidence's (the report lists the vault): the vault module's reader_role_arns. Known before the roles exist, so the vault module can be applied first."
  value       = local.vault_reader_role_arns
}

output "evidence_policy" {
  description = "The evidence policy (JSON): per schedule its expression, time zone, rpoHours, targets (lower-cased ids; [] with a selector) and selector; per drill its expression, time zone, target, rtoMinutes and vault; and bucket, drBucket and vaultBucket (null when absent). The evidence report judges every target against it."
  value       = local.evidence_policy
}
