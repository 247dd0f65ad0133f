# Two clusters on different schedules (Seoul business night and UTC), Slack and PagerDuty alerts.
# After `terraform apply`, set the two secrets (see the outputs) and point the clusters' NotificationTopicArn at
# `events_topic_arn`.

terraform {
  required_version = ">= 1.11"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.32, < 7"
    }
  }
}

provider "aws" {
  region = var.region
}

variable "region" {
  description = "AWS region of the clusters (the export bucket must be in the same region)."
  type        = string
  default     = "ap-northeast-2"
}

variable "architecture" {
  description = "arm64 or x86_64, as the zips were built (`make build ARCH=...`; `make deploy` passes its ARCH)."
  type        = string
  default     = "arm64"
}

variable "account_id" {
  description = "Account id, if known (saves a call to STS; needed to plan offline)."
  type        = string
  default     = null
}

module "elasticache_backup" {
  source = "../.."

  # No DR region in this example: the DR provider slot takes the default provider (set dr_region and pass
  # aws.dr = aws.<your DR region provider> to replicate the backups and deploy restores there).
  providers = {
    aws    = aws
    aws.dr = aws
  }

  name                 = "elasticache-backup"
  account_id           = var.account_id
  architecture         = var.architecture
  lambda_artifacts_dir = "${path.module}/../../../target/lambda"

  schedules = {
    # A fleet: every replication group and standalone cluster tagged backup=daily when the schedule fires, five
    # at a time, each its own child backup (and its own alert).
    daily = {
      selector            = { backup = "daily" }
      max_concurrency     = 5
      schedule_expression = "cron(0 2 * * ? *)"
      timezone            = "Asia/Seoul"
    }
    orders = {
      replication_group_id = "orders"
      schedule_expression  = "cron(0 3 * * ? *)"
      timezone             = "Asia/Seoul"
    }
    sessions = {
      replication_group_id     = "sessions"
      schedule_expression      = "cron(30 18 ? * MON-FRI *)"
      timezone                 = "UTC"
      snapshot_timeout_seconds = 7200
      export_timeout_seconds   = 7200
    }
  }

  backup_retention_days  = 35
  no_success_alarm_hours = 26

  tags = {
    owner = "platform"
  }
}

output "state_machine_arn" {
  description = "The backup state machine."
  value       = module.elasticache_backup.state_machine_arn
}

output "bucket_name" {
  description = "Where the .rdb files land."
  value       = module.elasticache_backup.bucket_name
}

output "events_topic_arn" {
  description = "Set as the clusters' NotificationTopicArn."
  value       = module.elasticache_backup.events_topic_arn
}

output "slack_webhook_secret_arn" {
  description = "Put the Slack webhook URL here."
  value       = module.elasticache_backup.slack_webhook_secret_arn
}

output "pagerduty_routing_key_secret_arn" {
  description = "Put the PagerDuty routing key here."
  value       = module.elasticache_backup.pagerduty_routing_key_secret_arn
}

output "start_execution_command" {
  description = "Start a backup by hand."
  value       = module.elasticache_backup.start_execution_command
}

output "dashboard_name" {
  description = "The CloudWatch dashboard of the backups."
  value       = module.elasticache_backup.dashboard_name
}
