# Two clusters on different schedules (Seoul business night and UTC), Slack and PagerDuty alerts, and, with
# vault_account_id set, a vault in a second account that receives every verified backup.
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

# The vault account (vault_account_id): a role there that Terraform assumes to apply the vault module. Without a
# vault no resource uses this provider.
provider "aws" {
  alias  = "vault"
  region = var.region
  dynamic "assume_role" {
    for_each = var.vault_account_id != null ? [var.vault_admin_role_name] : []
    content {
      role_arn = "arn:${data.aws_partition.current.partition}:iam::${var.vault_account_id}:role/${assume_role.value}"
    }
  }
}

data "aws_partition" "current" {}

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

variable "vault_account_id" {
  description = "Another account to keep a vault of the verified backups in (Object Lock, compliance mode); null = no vault."
  type        = string
  default     = null
}

variable "vault_admin_role_name" {
  description = "The role in the vault account that Terraform assumes to create the vault."
  type        = string
  default     = "OrganizationAccountAccessRole"
}

locals {
  name = "elasticache-backup"
  # The roles the backup module creates have deterministic names, so the vault (applied in the same run, before
  # them) can name them: <name>-vault-replication replicates, <name>-resolve-backup-<region> restores.
  account_id = coalesce(var.account_id, try(data.aws_caller_identity.current[0].account_id, null))
}

data "aws_caller_identity" "current" {
  count = var.account_id == null ? 1 : 0
}

# The vault, in the vault account (terraform/modules/vault): its bucket policy and key policy admit the backup
# account's replication role and its restore roles by name, before they exist.
module "vault" {
  source = "../../modules/vault"
  count  = var.vault_account_id != null ? 1 : 0
  providers = {
    aws = aws.vault
  }

  bucket_name          = "${local.name}-vault-${var.vault_account_id}-${var.region}"
  source_account_id    = local.account_id
  replication_role_arn = "arn:${data.aws_partition.current.partition}:iam::${local.account_id}:role/${local.name}-vault-replication"
  reader_role_arns     = ["arn:${data.aws_partition.current.partition}:iam::${local.account_id}:role/${local.name}-resolve-backup-${var.region}"]
  retention_days       = 35

  tags = {
    owner = "platform"
  }
}

module "elasticache_backup" {
  source = "../.."

  # No DR region in this example: the DR provider slot takes the default provider (set dr_region and pass
  # aws.dr = aws.<your DR region provider> to replicate the backups and deploy restores there).
  providers = {
    aws    = aws
    aws.dr = aws
  }

  name                 = local.name
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
      # The evidence report holds orders to a verified backup at least every 25 hours (the default).
      rpo_hours = 25
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

  # Verified backups replicate to the vault (the vault module's output vault), or no vault (null).
  vault = try(module.vault[0].vault, null)

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

output "vault" {
  description = "The vault (bucket, account, region, key), or null."
  value       = module.elasticache_backup.vault
}

output "vault_restore_read_grant" {
  description = "What the vault lets the restore roles read (null without a vault)."
  value       = try(module.vault[0].restore_read_grant, null)
}
