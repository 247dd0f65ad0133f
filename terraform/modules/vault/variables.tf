variable "bucket_name" {
  description = "Name of the vault bucket (in the vault account, in this provider's region). Pass the same name as the source module's vault.bucket."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name)) && !strcontains(var.bucket_name, "..") && !can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+$", var.bucket_name))
    error_message = "bucket_name must follow the S3 bucket naming rules: 3-63 lower-case letters, digits, dots and hyphens, beginning and ending with a letter or digit, no two adjacent dots, not an IP address."
  }
}

variable "source_account_id" {
  description = "The account the backups come from (where the elasticache-backup module runs): its replication role may write replicas, and every principal of it is denied deleting objects or changing the bucket's policy, lifecycle, lock or encryption."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.source_account_id))
    error_message = "source_account_id must be a 12-digit AWS account id."
  }
}

variable "replication_role_arn" {
  description = "ARN of the source account's replication role: the source module creates it as <name>-vault-replication under its role_path (output vault_replication_role_arn), so it can be written down before it exists: arn:<partition>:iam::<source account>:role<role_path><name>-vault-replication. The policies name it in an aws:PrincipalArn condition, so it need not exist when this module is applied."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/([A-Za-z0-9+=,.@_-]+/)*[A-Za-z0-9+=,.@_-]{1,64}$", var.replication_role_arn))
    error_message = "replication_role_arn must be an IAM role ARN: arn:<partition>:iam::<source account>:role/<path/><name>-vault-replication."
  }
  validation {
    condition     = try(split(":", var.replication_role_arn)[4] == var.source_account_id, false)
    error_message = "replication_role_arn must be a role of source_account_id (the source module's <name>-vault-replication)."
  }
}

variable "reader_role_arns" {
  description = "Roles that may read the vault (read-only: s3:GetObject, s3:GetObjectVersion, s3:GetObjectTagging, s3:ListBucket, and kms:Decrypt through S3): the source module's resolve-backup roles, <name>-resolve-backup-<region> under its role_path, in this region and in its dr_region (restores), and its <name>-evidence-<region> role (the evidence report lists the vault): the source output vault_reader_role_arns. Named in an aws:PrincipalArn condition, so they need not exist yet."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.reader_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/([A-Za-z0-9+=,.@_-]+/)*[A-Za-z0-9+=,.@_-]{1,64}$", a))])
    error_message = "reader_role_arns must be IAM role ARNs (arn:<partition>:iam::<account>:role/<path/><name>)."
  }
}

variable "retention_days" {
  description = "Default Object Lock retention of every replica, days, in COMPLIANCE mode: until it passes nobody (the vault account's root user included) can delete or overwrite a version or shorten its retention. A replica whose source version carries its own retention keeps that instead (S3 User Guide, \"What does Amazon S3 replicate?\")."
  type        = number
  default     = 35

  validation {
    condition     = var.retention_days >= 1 && var.retention_days <= 36500 && floor(var.retention_days) == var.retention_days
    error_message = "retention_days must be a whole number of days from 1 to 36500 (S3 Object Lock's default retention takes Days from 1 to 100 years)."
  }
}

variable "noncurrent_version_retention_days" {
  description = "Days after which a noncurrent version's lifecycle expiration is due; null = no lifecycle. Object Lock still holds every version until its retention date: S3 expires a locked version only after that date."
  type        = number
  default     = null

  validation {
    condition     = var.noncurrent_version_retention_days == null ? true : (var.noncurrent_version_retention_days >= 1 && var.noncurrent_version_retention_days <= 36500 && floor(var.noncurrent_version_retention_days) == var.noncurrent_version_retention_days)
    error_message = "noncurrent_version_retention_days must be null or a whole number of days from 1 to 36500."
  }
}

variable "kms_deletion_window_days" {
  description = "Waiting period before the vault key is deleted after a destroy, days (7-30). Replicas encrypted with it are unreadable once it is gone."
  type        = number
  default     = 30

  validation {
    condition     = var.kms_deletion_window_days >= 7 && var.kms_deletion_window_days <= 30 && floor(var.kms_deletion_window_days) == var.kms_deletion_window_days
    error_message = "kms_deletion_window_days must be a whole number from 7 to 30 (KMS's PendingWindowInDays)."
  }
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
