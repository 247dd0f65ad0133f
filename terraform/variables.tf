variable "name" {
  description = "Name prefix for every resource (functions, roles, state machine, schedules, rules)."
  type        = string
  default     = "elasticache-backup"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,31}[a-z0-9]$", var.name))
    error_message = "name must be 3-33 characters (IAM role names, <name>-<function>-<region>, may have 64; the bucket name, <name>-<account>-<region>, 63): lower-case letters, digits and hyphens, starting with a letter."
  }
}

variable "role_path" {
  description = "Path of every IAM role the module creates (organisations that require one)."
  type        = string
  default     = "/"

  validation {
    condition     = can(regex("^/([A-Za-z0-9+=,.@_-]+/)*$", var.role_path)) && length(var.role_path) <= 512
    error_message = "role_path must start and end with / (e.g. /service-roles/), at most 512 characters of letters, digits and +=,.@_-."
  }
}

variable "role_permissions_boundary" {
  description = "ARN of a managed policy set as the permissions boundary of every IAM role the module creates; null = none."
  type        = string
  default     = null

  validation {
    condition     = var.role_permissions_boundary == null ? true : can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/", var.role_permissions_boundary))
    error_message = "role_permissions_boundary must be an IAM policy ARN (arn:<partition>:iam::<account>:policy/...) or null."
  }
}

variable "secret_recovery_window_days" {
  description = "Recovery window of the Slack and PagerDuty secrets after a destroy, days: 0 (deleted at once, so the same name can be created again) or 7-30."
  type        = number
  default     = 30

  validation {
    condition     = var.secret_recovery_window_days == 0 || (var.secret_recovery_window_days >= 7 && var.secret_recovery_window_days <= 30)
    error_message = "secret_recovery_window_days must be 0 or from 7 to 30 (Secrets Manager's rule)."
  }
}

variable "existing_role_arns" {
  description = "Use these IAM roles instead of creating them, keyed by function name (create-snapshot, ..., delete-group, retention, fleet, evidence), state-machine, restore-machine, fleet-machine or scheduler. Each must trust its service (lambda, states or scheduler.amazonaws.com) and grant what output role_policies_json gives for its key. Roles in a dr_region are always created."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k, a in var.existing_role_arns : contains(concat(["create-snapshot", "check-snapshot", "export-snapshot", "check-export", "verify-export", "delete-snapshot", "notify", "resolve-backup", "create-group", "check-group", "verify-restore", "delete-group", "retention", "fleet", "evidence"], ["state-machine", "restore-machine", "fleet-machine", "scheduler"]), k) && can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/", a))])
    error_message = "existing_role_arns keys must be a function name (create-snapshot, check-snapshot, export-snapshot, check-export, verify-export, delete-snapshot, notify, resolve-backup, create-group, check-group, verify-restore, delete-group, retention, fleet, evidence), state-machine, restore-machine, fleet-machine or scheduler, and each value an IAM role ARN (arn:<partition>:iam::<account>:role/...)."
  }
}

variable "function_overrides" {
  description = "Per function (keyed by name: create-snapshot, ..., delete-group): memory_size (MB, 128-10240) and timeout (seconds, 1-900) instead of the module's sizing. VerifyExport and ResolveBackup read whole backups: give them more memory (CPU), not less."
  type = map(object({
    memory_size = optional(number)
    timeout     = optional(number)
  }))
  default = {}

  validation {
    condition     = alltrue([for k, o in var.function_overrides : contains(["create-snapshot", "check-snapshot", "export-snapshot", "check-export", "verify-export", "delete-snapshot", "notify", "resolve-backup", "create-group", "check-group", "verify-restore", "delete-group", "retention", "fleet", "evidence"], k)])
    error_message = "function_overrides keys must be function names: create-snapshot, check-snapshot, export-snapshot, check-export, verify-export, delete-snapshot, notify, resolve-backup, create-group, check-group, verify-restore, delete-group, retention, fleet, evidence."
  }
  validation {
    condition     = alltrue([for k, o in var.function_overrides : o.memory_size == null ? true : (o.memory_size >= 128 && o.memory_size <= 10240 && floor(o.memory_size) == o.memory_size)])
    error_message = "function_overrides memory_size must be whole MB from 128 to 10240 (Lambda's range)."
  }
  validation {
    condition     = alltrue([for k, o in var.function_overrides : o.timeout == null ? true : (o.timeout >= 1 && o.timeout <= 900 && floor(o.timeout) == o.timeout)])
    error_message = "function_overrides timeout must be whole seconds from 1 to 900 (Lambda's maximum)."
  }
}

variable "logs_kms_key_arn" {
  description = "KMS key ARN encrypting the functions' and state machines' CloudWatch log groups; null = CloudWatch Logs' default encryption. The key policy must allow logs.<region>.amazonaws.com (CloudWatch Logs User Guide, \"Encrypt log data in CloudWatch Logs using AWS KMS\")."
  type        = string
  default     = null

  validation {
    condition     = var.logs_kms_key_arn == null ? true : can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.logs_kms_key_arn))
    error_message = "logs_kms_key_arn must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>) or null."
  }
}

variable "dr_logs_kms_key_arn" {
  description = "With dr_region: the KMS key ARN (in the DR region) for the log groups there; null = default encryption."
  type        = string
  default     = null

  validation {
    condition     = var.dr_logs_kms_key_arn == null ? true : can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.dr_logs_kms_key_arn))
    error_message = "dr_logs_kms_key_arn must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>) or null."
  }
}

variable "account_id" {
  description = "AWS account id of the deployment; null = read from STS (aws_caller_identity). Setting it lets a plan run without credentials."
  type        = string
  default     = null

  validation {
    condition     = var.account_id == null ? true : can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be 12 digits."
  }
}

variable "lambda_artifacts_dir" {
  description = "Directory holding the cargo-lambda zips, one <function>/bootstrap.zip per function (`make build` writes target/lambda). Defaults to the repository's target/lambda."
  type        = string
  default     = null

  # Without this, a missing zip surfaces only at apply, in CreateFunction, after roles, bucket and secrets exist.
  validation {
    condition     = var.artifacts_s3_bucket != null || alltrue([for k in keys(local.functions) : fileexists("${coalesce(var.lambda_artifacts_dir, local.default_artifacts_dir)}/${k}/bootstrap.zip")])
    error_message = join("\n", [for k in keys(local.functions) : "${coalesce(var.lambda_artifacts_dir, local.default_artifacts_dir)}/${k}/bootstrap.zip ${local.artifact_missing}." if !fileexists("${coalesce(var.lambda_artifacts_dir, local.default_artifacts_dir)}/${k}/bootstrap.zip")])
  }
}

variable "artifacts_s3_bucket" {
  description = "Deploy the functions from this S3 bucket (in the deployment's region) instead of lambda_artifacts_dir: `make publish-artifacts BUCKET=<bucket> PREFIX=<artifacts_s3_key_prefix>` uploads <prefix><function>/bootstrap.zip and its base64 SHA-256 (<...>.zip.base64sha256), which Terraform reads as the code hash. null = local zips."
  type        = string
  default     = null

  validation {
    condition     = var.artifacts_s3_bucket == null ? true : can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.artifacts_s3_bucket))
    error_message = "artifacts_s3_bucket must be an S3 bucket name (3-63 lower-case letters, digits, dots and hyphens) or null."
  }
}

variable "artifacts_s3_key_prefix" {
  description = "Key prefix of the zips in artifacts_s3_bucket (and dr_artifacts_s3_bucket), e.g. elasticache-backup/v1.4.0/; empty or ending in /."
  type        = string
  default     = "elasticache-backup/"

  validation {
    condition     = var.artifacts_s3_key_prefix == "" || (endswith(var.artifacts_s3_key_prefix, "/") && !startswith(var.artifacts_s3_key_prefix, "/"))
    error_message = "artifacts_s3_key_prefix must be empty or end with / (and not start with /), e.g. elasticache-backup/v1.4.0/."
  }
}

variable "dr_artifacts_s3_bucket" {
  description = "With artifacts_s3_bucket and dr_region: the bucket in the DR region holding the same zips under the same prefix (Lambda reads code only from a bucket in the function's region)."
  type        = string
  default     = null

  validation {
    condition     = var.dr_artifacts_s3_bucket == null || var.artifacts_s3_bucket != null
    error_message = "dr_artifacts_s3_bucket needs artifacts_s3_bucket (the primary region's zips) as well."
  }
  validation {
    condition     = var.dr_region == null || var.artifacts_s3_bucket == null || var.dr_artifacts_s3_bucket != null
    error_message = "dr_region with artifacts_s3_bucket needs dr_artifacts_s3_bucket: a bucket in ${coalesce(var.dr_region, "the DR region")} holding the same zips under ${var.artifacts_s3_key_prefix} (Lambda reads code only from its own region)."
  }
}

variable "architecture" {
  description = "Instruction set of the Lambda functions: arm64 (Graviton, the default) or x86_64. Must match the zips: `make build ARCH=<this>` (cargo-lambda's --arm64 or --x86-64)."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64 (the value Lambda's Architectures takes)."
  }
}

variable "schedules" {
  description = "Backup schedules, keyed by a short name. Each starts a backup on an EventBridge Scheduler cron expression in an IANA time zone. Give exactly one of replication_group_id, cache_cluster_id, serverless_cache_name (the backup state machine), selector (ElastiCache tags: every replication group, standalone cluster and serverless cache carrying all of them, found at each run) or targets (a list, each entry with exactly one of replication_group_id, cache_cluster_id and serverless_cache_name); the last two start the fleet state machine, max_concurrency (1-40, default 10) backups at once, each target a child backup execution that alerts for itself. verify_budget_seconds (1-840, default 720) is how long one VerifyShard invocation checks before it hands a checkpoint to the next: lower it only to bound each invocation's time. rpo_hours (1-8760, default 25: a daily schedule plus an hour for the run) is the recovery point objective the evidence report holds each target to (output evidence_policy)."
  type = map(object({
    schedule_expression   = string
    timezone              = optional(string, "UTC")
    replication_group_id  = optional(string)
    cache_cluster_id      = optional(string)
    serverless_cache_name = optional(string)
    selector              = optional(map(string))
    targets = optional(list(object({
      replication_group_id  = optional(string)
      cache_cluster_id      = optional(string)
      serverless_cache_name = optional(string)
    })))
    max_concurrency          = optional(number)
    bucket                   = optional(string)
    snapshot_timeout_seconds = optional(number)
    export_timeout_seconds   = optional(number)
    keep_source_snapshot     = optional(bool, false)
    verify_budget_seconds    = optional(number)
    enabled                  = optional(bool, true)
    rpo_hours                = optional(number, 25)
  }))
  default = {}

  validation {
    condition     = alltrue([for k, s in var.schedules : can(regex("^(cron\\(\\S+ \\S+ \\S+ \\S+ \\S+ \\S+\\)|rate\\([1-9][0-9]* (minute|minutes|hour|hours|day|days)\\)|at\\([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\))$", s.schedule_expression))])
    error_message = "schedule_expression must be cron(minutes hours day-of-month month day-of-week year) with six fields, rate(N unit) or at(yyyy-mm-ddThh:mm:ss), e.g. cron(0 3 * * ? *)."
  }

  validation {
    condition     = alltrue([for k, s in var.schedules : !startswith(s.schedule_expression, "cron(") || try(length([for i in [2, 4] : i if split(" ", trimsuffix(trimprefix(s.schedule_expression, "cron("), ")"))[i] == "?"]) == 1, true)])
    error_message = "schedule_expression cron(...) must have ? in exactly one of day-of-month (3rd field) and day-of-week (5th field), as EventBridge Scheduler requires: cron(0 3 * * ? *) or cron(0 3 ? * MON-FRI *)."
  }

  validation {
    condition     = alltrue([for k, s in var.schedules : can(regex("^[A-Za-z0-9_-]+$", k)) && length("${var.name}-${k}") <= 64])
    error_message = "Each schedule key must be letters, digits, _ or - and short enough that <name>-<key>, the schedule's name, has at most 64 characters."
  }

  validation {
    condition     = alltrue([for k, s in var.schedules : s.bucket == null])
    error_message = "A schedule's bucket is not supported: every run writes to the module's bucket (bucket_name), the only one its IAM and bucket policy cover. Use one module instance per bucket."
  }

  validation {
    condition     = alltrue([for k, s in var.schedules : can(regex("^(UTC|[A-Z][A-Za-z_]+(/[A-Za-z0-9_+-]+){1,2})$", s.timezone))])
    error_message = "timezone must be an IANA time zone name such as UTC, Asia/Seoul or America/Argentina/Buenos_Aires."
  }

  validation {
    condition     = alltrue([for k, s in var.schedules : length([for v in [s.replication_group_id, s.cache_cluster_id, s.serverless_cache_name, s.selector, s.targets] : v if v != null]) == 1])
    error_message = "Each schedule needs exactly one of replication_group_id, cache_cluster_id, serverless_cache_name, selector and targets."
  }

  validation {
    condition     = alltrue([for k, s in var.schedules : s.selector == null ? true : length(s.selector) >= 1 && length(s.selector) <= 10 && alltrue([for tk, tv in s.selector : length(tk) >= 1 && length(tk) <= 128 && length(tv) <= 256])])
    error_message = "A schedule's selector must name 1-10 ElastiCache tags, keys of 1-128 and values of at most 256 characters: selector = { backup = \"daily\" }."
  }

  validation {
    condition = alltrue([for k, s in var.schedules : s.targets == null ? true : length(s.targets) >= 1 && length(s.targets) <= 150 && alltrue([
      for t in s.targets : length([for v in [t.replication_group_id, t.cache_cluster_id, t.serverless_cache_name] : v if v != null]) == 1 && can(regex("^[A-Za-z]([A-Za-z0-9]|-[A-Za-z0-9]){0,49}$", coalesce(t.replication_group_id, t.cache_cluster_id, t.serverless_cache_name, "-"))) && length(coalesce(t.replication_group_id, t.serverless_cache_name, "-")) <= 40 && length(coalesce(t.cache_cluster_id, "-")) <= 50
    ])])
    error_message = "A schedule's targets must list 1-150 entries, each with exactly one of replication_group_id (1-40), cache_cluster_id (1-50) and serverless_cache_name (1-40): letters, digits or hyphens, starting with a letter, no double or trailing hyphen."
  }

  validation {
    condition     = alltrue([for k, s in var.schedules : s.max_concurrency == null ? true : (s.selector != null || s.targets != null) && s.max_concurrency >= 1 && s.max_concurrency <= 40 && floor(s.max_concurrency) == s.max_concurrency])
    error_message = "max_concurrency is for fleet schedules (selector or targets) and must be a whole number from 1 to 40 (an inline Map runs at most 40 iterations at once)."
  }

  validation {
    condition = alltrue([for k, s in var.schedules : alltrue([
      s.replication_group_id == null ? true : can(regex("^[A-Za-z]([A-Za-z0-9]|-[A-Za-z0-9]){0,39}$", s.replication_group_id)) && length(s.replication_group_id) <= 40,
      s.cache_cluster_id == null ? true : can(regex("^[A-Za-z]([A-Za-z0-9]|-[A-Za-z0-9]){0,49}$", s.cache_cluster_id)) && length(s.cache_cluster_id) <= 50,
    ])])
    error_message = "replication_group_id (1-40) / cache_cluster_id (1-50) must be letters, digits or hyphens, start with a letter, with no double or trailing hyphen."
  }

  # ServerlessCacheName: AWS documents no format, only that it "is stored as a lowercase string" (Amazon ElastiCache
  # API Reference, CreateServerlessCache, ServerlessCacheName; the botocore elasticache 2015-02-02 model says the
  # same, and the CloudFormation AWS::ElastiCache::ServerlessCache reference adds no constraint). Checked here by the
  # project's ElastiCache id rule (the one replication group ids and snapshot names follow: 1-40 characters, starting
  # with a letter, letters, digits and hyphens, no "--", no trailing "-"), which also bounds the name at the 40
  # characters third-party constructs enforce (UNCONFIRMED: a name AWS accepts outside this rule would be refused here).
  validation {
    condition     = alltrue([for k, s in var.schedules : s.serverless_cache_name == null ? true : can(regex("^[A-Za-z]([A-Za-z0-9]|-[A-Za-z0-9]){0,39}$", s.serverless_cache_name)) && length(s.serverless_cache_name) <= 40])
    error_message = "serverless_cache_name must name a serverless cache by the ElastiCache id rule: 1-40 letters, digits or hyphens, starting with a letter, with no double or trailing hyphen (ElastiCache stores it lower-cased), e.g. sessions-cache."
  }

  validation {
    condition = alltrue([for k, s in var.schedules : alltrue([
      for t in [s.snapshot_timeout_seconds, s.export_timeout_seconds] : t == null ? true : (t >= 60 && t <= 79200 && floor(t) == t)
    ])])
    error_message = "snapshot_timeout_seconds and export_timeout_seconds must be whole seconds from 60 to 79200 (both must fit in the execution's 48 h)."
  }

  validation {
    condition     = alltrue([for k, s in var.schedules : s.verify_budget_seconds == null ? true : (s.verify_budget_seconds >= 1 && s.verify_budget_seconds <= 840 && floor(s.verify_budget_seconds) == s.verify_budget_seconds)])
    error_message = "verify_budget_seconds must be whole seconds from 1 to 840: how long one VerifyShard invocation checks before it hands a checkpoint to the next (VerifyShard stops at 900 s)."
  }

  validation {
    condition     = alltrue([for k, s in var.schedules : s.rpo_hours >= 1 && s.rpo_hours <= 8760 && floor(s.rpo_hours) == s.rpo_hours])
    error_message = "A schedule's rpo_hours (the recovery point objective the evidence report checks: the longest gap allowed between two verified backups of each target) must be whole hours from 1 to 8760 (a year); the default 25 is a daily schedule plus an hour for the run."
  }
}

variable "create_bucket" {
  description = "Create the export bucket. When false, bucket_name must name an existing versioned bucket in this account and region whose policy includes output bucket_policy_json (ElastiCache's export and seeding grants); backup_retention_days, noncurrent_version_retention_days, object_lock_days and dr_region are then refused (they configure a bucket the module does not own)."
  type        = bool
  default     = true
}

variable "bucket_name" {
  description = "Export bucket name (DNS-compliant; ElastiCache cannot use other names). Default: <name>-<account id>-<region>."
  type        = string
  default     = null

  validation {
    condition     = var.bucket_name == null ? true : can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be 3-63 characters of lower-case letters, digits, dots and hyphens, beginning and ending with a letter or digit."
  }
}

variable "backup_retention_days" {
  description = "Days after which the bucket's lifecycle expires current objects; null = 35, at least 14. Without retention: every object, backups (exports, manifests, restore reports) included, a target's last backup too; 14 days leave a week after the longest staleness alarm (no_success_alarm_hours <= 168) to act before the last good backup expires. With retention: only fleet-runs/ and retention-reports/; a backup stays until the retention function deletes it. Noncurrent versions expire after noncurrent_version_retention_days either way. Only with create_bucket."
  type        = number
  default     = null

  validation {
    condition     = var.backup_retention_days == null || var.create_bucket
    error_message = "backup_retention_days configures the module's bucket: with create_bucket = false set the lifecycle on your own bucket and leave this null."
  }

  validation {
    condition     = var.backup_retention_days == null ? true : var.backup_retention_days >= 14 && var.backup_retention_days <= 3650 && floor(var.backup_retention_days) == var.backup_retention_days
    error_message = "backup_retention_days must be a whole number of days from 14 to 3650: without retention the lifecycle also expires a target's last backup, and the longest staleness alarm (no_success_alarm_hours, 168) must leave a week to act before it goes."
  }
}

variable "noncurrent_version_retention_days" {
  description = "Days a replaced or deleted (noncurrent) object version is kept before it expires; null = 7. Only with create_bucket."
  type        = number
  default     = null

  validation {
    condition     = var.noncurrent_version_retention_days == null || var.create_bucket
    error_message = "noncurrent_version_retention_days configures the module's bucket: with create_bucket = false set the lifecycle on your own bucket and leave this null."
  }

  validation {
    condition     = var.noncurrent_version_retention_days == null ? true : var.noncurrent_version_retention_days >= 1 && var.noncurrent_version_retention_days <= 3650 && floor(var.noncurrent_version_retention_days) == var.noncurrent_version_retention_days
    error_message = "noncurrent_version_retention_days must be a whole number of days from 1 to 3650."
  }
}

variable "object_lock_days" {
  description = "Lock each verified backup (its shard objects and manifest) with S3 Object Lock for this many days, in object_lock_mode; null = off. The bucket gets Object Lock without a default retention, so ElastiCache's own uploads need no integrity header: the lock is set per object version by WriteManifest (PutObjectRetention) once the backup is proven. Deletions (lifecycle, retention) still only add delete markers; a locked version stays until its date. Object Lock cannot be turned off once on. Only with create_bucket."
  type        = number
  default     = null

  validation {
    condition     = var.object_lock_days == null || var.create_bucket
    error_message = "object_lock_days configures the module's bucket: with create_bucket = false enable Object Lock on your own bucket and leave this null."
  }

  validation {
    condition     = var.object_lock_days == null ? true : (var.object_lock_days >= 1 && var.object_lock_days <= 3650 && floor(var.object_lock_days) == var.object_lock_days)
    error_message = "object_lock_days must be null or a whole number of days from 1 to 3650."
  }
}

variable "object_lock_mode" {
  description = "Retention mode of the per-object lock (object_lock_days): GOVERNANCE (users with s3:BypassGovernanceRetention can still shorten or remove it) or COMPLIANCE (nobody, the root user included, can until the date passes). S3 User Guide, \"Object Lock\", Retention modes."
  type        = string
  default     = "GOVERNANCE"

  validation {
    condition     = contains(["GOVERNANCE", "COMPLIANCE"], var.object_lock_mode)
    error_message = "object_lock_mode must be GOVERNANCE or COMPLIANCE (S3 Object Lock's retention modes, in capitals)."
  }
}

variable "seeding_mode" {
  description = "How ElastiCache gets read access to the .rdb objects a restore seeds a group from (ElastiCache User Guide, \"Seeding a new self-designed cluster with an externally created backup\"): bucket-policy (the regional elasticache-snapshot principal reads the export bucket, as documented for opt-in regions) or object-acl (restores copy the shard objects into a seed bucket with ACLs enabled and grant ElastiCache's canonical user READ and READ_ACP on each copy, as documented for the default regions). null = by region, for this region and dr_region each: opt-in regions bucket-policy, every other region (GovCloud and China included) object-acl. Output seeding shows the result."
  type        = string
  default     = null

  validation {
    condition     = var.seeding_mode == null ? true : contains(["bucket-policy", "object-acl"], var.seeding_mode)
    error_message = "seeding_mode must be null (by region: opt-in regions bucket-policy, others object-acl), \"bucket-policy\" or \"object-acl\", the two routes the ElastiCache seeding guide documents."
  }
}

variable "seed_bucket_name" {
  description = "Name of this region's seed bucket when its seeding mode is object-acl; null = <bucket_name>-seed (or, past 63 characters, the bucket name cut short with a hash). The DR region's is derived from its replica bucket's name."
  type        = string
  default     = null

  validation {
    condition     = var.seed_bucket_name == null ? true : can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.seed_bucket_name)) && !strcontains(var.seed_bucket_name, "..")
    error_message = "seed_bucket_name must be 3-63 characters of lower-case letters, digits, dots and hyphens, beginning and ending with a letter or digit, without two adjacent dots (S3 bucket naming rules)."
  }
}

variable "snapshot_timeout_seconds" {
  description = "Default deadline for a snapshot to become available, seconds (functions' SNAPSHOT_TIMEOUT_SECONDS)."
  type        = number
  default     = 3600

  validation {
    condition     = var.snapshot_timeout_seconds >= 60 && var.snapshot_timeout_seconds <= 79200
    error_message = "snapshot_timeout_seconds must be from 60 to 79200 (both deadlines must fit in the execution's 48 h)."
  }
}

variable "export_timeout_seconds" {
  description = "Default deadline for every shard's .rdb to be in S3, seconds (functions' EXPORT_TIMEOUT_SECONDS)."
  type        = number
  default     = 3600

  validation {
    condition     = var.export_timeout_seconds >= 60 && var.export_timeout_seconds <= 79200
    error_message = "export_timeout_seconds must be from 60 to 79200 (both deadlines must fit in the execution's 48 h)."
  }
}

variable "log_retention_days" {
  description = "CloudWatch Logs retention for the functions and the state machine."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of CloudWatch Logs' values: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "schedule_dead_letter_queue" {
  description = "Create an SQS dead-letter queue for schedule invocations that EventBridge Scheduler could not deliver after its retries."
  type        = bool
  default     = true
}

variable "no_success_alarm_hours" {
  description = "Per scheduled target: page (through notify) when no backup of it was verified for this many hours although runs were started. null = no staleness alarms."
  type        = number
  default     = 26

  validation {
    condition     = var.no_success_alarm_hours == null ? true : (var.no_success_alarm_hours >= 1 && var.no_success_alarm_hours <= 168 && floor(var.no_success_alarm_hours) == var.no_success_alarm_hours)
    error_message = "no_success_alarm_hours must be null or from 1 to 168 (CloudWatch alarms evaluate at most 7 days)."
  }
}

variable "ops_alert_email" {
  description = "E-mail address subscribed to the ops topic, which gets the alarms about notify itself (dead-letter queues, errors) without going through notify. null = subscribe yourself (output ops_topic_arn). The address must confirm the subscription."
  type        = string
  default     = null

  validation {
    condition     = var.ops_alert_email == null ? true : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.ops_alert_email))
    error_message = "ops_alert_email must be an e-mail address (name@example.com) or null."
  }
}

variable "slack_notify_success" {
  description = "Also post succeeded runs to Slack (PagerDuty incidents are resolved either way)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}

variable "drills" {
  description = "Scheduled DR drills, keyed by a short name: each restores the newest verified backup of replication_group_id into a new group (drill: true), or of serverless_cache_name (an ElastiCache Serverless cache; exactly one of the two) into a new serverless cache, verifies it against the manifest, writes a report with the RTO and deletes what it created. node_type, cache_subnet_group_name and security_group_ids override a group source's (use a small node type and the VPC that verify_restore_vpc reaches); subnet_ids and security_group_ids a serverless cache's. rto_minutes (1-10080, default 60) is the recovery time objective the evidence report holds the drill to; vault = true restores the newest verified backup from the vault bucket (needs vault) instead of the export bucket. Needs verify_restore_vpc."
  type = map(object({
    replication_group_id    = optional(string)
    serverless_cache_name   = optional(string)
    subnet_ids              = optional(list(string))
    schedule_expression     = string
    timezone                = optional(string, "UTC")
    node_type               = optional(string)
    cache_subnet_group_name = optional(string)
    security_group_ids      = optional(list(string))
    enabled                 = optional(bool, true)
    rto_minutes             = optional(number, 60)
    vault                   = optional(bool, false)
  }))
  default = {}

  validation {
    condition     = alltrue([for d in var.drills : (d.replication_group_id == null) != (d.serverless_cache_name == null)])
    error_message = "Each drill needs exactly one of replication_group_id and serverless_cache_name (the source whose newest verified backup it restores)."
  }
  validation {
    condition     = alltrue([for d in var.drills : d.replication_group_id == null || (can(regex("^[a-zA-Z][a-zA-Z0-9-]{0,39}$", d.replication_group_id)) && !endswith(coalesce(d.replication_group_id, "x"), "-") && !strcontains(coalesce(d.replication_group_id, "x"), "--"))])
    error_message = "Each drill's replication_group_id must follow the ElastiCache id rules: 1-40 letters, digits and hyphens, starting with a letter, no trailing or double hyphen."
  }
  validation {
    condition     = alltrue([for d in var.drills : d.serverless_cache_name == null || (can(regex("^[a-zA-Z][a-zA-Z0-9-]{0,39}$", d.serverless_cache_name)) && !endswith(coalesce(d.serverless_cache_name, "x"), "-") && !strcontains(coalesce(d.serverless_cache_name, "x"), "--"))])
    error_message = "Each drill's serverless_cache_name must follow the ElastiCache id rules: 1-40 letters, digits and hyphens, starting with a letter, no trailing or double hyphen."
  }
  validation {
    condition     = alltrue([for d in var.drills : d.serverless_cache_name == null || (d.node_type == null && d.cache_subnet_group_name == null)])
    error_message = "A serverless drill (serverless_cache_name) restores into a serverless cache, which has no node_type or cache_subnet_group_name: give subnet_ids and security_group_ids instead."
  }
  validation {
    condition     = alltrue([for d in var.drills : d.replication_group_id == null || d.subnet_ids == null])
    error_message = "subnet_ids is for a serverless drill (serverless_cache_name); a group drill takes cache_subnet_group_name."
  }
  validation {
    condition     = alltrue([for k, d in var.drills : can(regex("^(cron\\(\\S+ \\S+ \\S+ \\S+ \\S+ \\S+\\)|rate\\([1-9][0-9]* (minute|minutes|hour|hours|day|days)\\)|at\\([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\))$", d.schedule_expression))])
    error_message = "Each drill's schedule_expression must be cron(minutes hours day-of-month month day-of-week year) with six fields, rate(N unit) or at(yyyy-mm-ddThh:mm:ss), as EventBridge Scheduler takes it."
  }
  validation {
    condition     = alltrue([for k, d in var.drills : !startswith(d.schedule_expression, "cron(") || try(length([for i in [2, 4] : i if split(" ", trimsuffix(trimprefix(d.schedule_expression, "cron("), ")"))[i] == "?"]) == 1, true)])
    error_message = "A drill's cron(...) must have ? in exactly one of day-of-month (3rd field) and day-of-week (5th field), as EventBridge Scheduler requires: cron(0 4 ? * SUN *)."
  }
  validation {
    condition     = alltrue([for k, d in var.drills : can(regex("^[A-Za-z0-9_-]+$", k)) && length("${var.name}-drill-${k}") <= 64])
    error_message = "Each drill key must be letters, digits, _ or - and short enough that <name>-drill-<key>, the schedule's name, has at most 64 characters."
  }
  validation {
    condition     = alltrue([for k, d in var.drills : can(regex("^(UTC|[A-Z][A-Za-z_]+(/[A-Za-z0-9_+-]+){1,2})$", d.timezone))])
    error_message = "A drill's timezone must be an IANA time zone name such as UTC, Asia/Seoul or America/Argentina/Buenos_Aires."
  }
  validation {
    condition     = alltrue([for d in var.drills : d.rto_minutes >= 1 && d.rto_minutes <= 10080 && floor(d.rto_minutes) == d.rto_minutes])
    error_message = "A drill's rto_minutes (the recovery time objective the evidence report checks: from the drill's start until the restored data is verified) must be whole minutes from 1 to 10080 (a week)."
  }
  validation {
    condition     = var.vault != null || alltrue([for d in var.drills : !d.vault])
    error_message = "A drill with vault = true restores from the vault bucket: set the module's vault input (the vault module's output vault), or leave the drill's vault false."
  }
  validation {
    condition     = length(var.drills) == 0 || var.verify_restore_vpc != null
    error_message = "drills need verify_restore_vpc: VerifyRestore reaches a restored group only from inside its VPC (ElastiCache has no public endpoints), so without it every drill would fail as RestoreUnreachable."
  }
}

variable "verify_restore_vpc" {
  description = "Subnets and security groups VerifyRestore runs in, so it can reach restored groups over the Redis protocol (the groups' security groups must allow it). Required by drills. null = no VPC: VerifyRestore then reaches no group (ElastiCache has no public endpoints), so a restore creates its group but cannot verify it: it fails RestoreUnreachable and keeps the group, tagged elasticache-backup:restore-verdict=unverified."
  type = object({
    subnet_ids         = list(string)
    security_group_ids = list(string)
  })
  default = null
}

variable "restore_auth_token_secret_arns" {
  description = "Secrets Manager secrets a restore may read as a new group's AUTH token (authTokenSecretArn in the restore input). null = secrets named <name>-restore-auth-*."
  type        = list(string)
  default     = null

  validation {
    condition     = var.restore_auth_token_secret_arns == null ? true : alltrue([for a in var.restore_auth_token_secret_arns : can(regex("^arn:aws[a-z-]*:secretsmanager:", a))])
    error_message = "restore_auth_token_secret_arns must be Secrets Manager secret ARNs."
  }
}

variable "dr_region" {
  description = "A disaster-recovery region (the caller passes its provider as aws.dr): the export bucket's objects, manifests included, are replicated to a bucket there with the bucket policy ElastiCache needs for seeding, and the restore state machine is deployed there too, so a drill or a real restore runs in the DR region. null = none. Needs create_bucket."
  type        = string
  default     = null

  validation {
    condition     = var.dr_region == null || var.create_bucket
    error_message = "dr_region replicates the module's bucket: it needs create_bucket = true (replicate your own bucket yourself otherwise)."
  }

  validation {
    condition     = var.dr_region == null ? true : can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.dr_region))
    error_message = "dr_region must be an AWS region name such as ap-northeast-1."
  }
}

variable "dashboard" {
  description = "Create a CloudWatch dashboard (<name>-<region>) of the backups: per target last verified backup, duration, export size and key count; executions by status; function errors and durations; dead-letter queues; alarms."
  type        = bool
  default     = true
}

variable "retention" {
  description = "Retention by backup set (the retention function, on its own schedule): per target keep the keep_last newest verified backups and all verified within keep_days days (whichever keeps more; the newest is always kept), delete the others whole (manifest first), and exports without a manifest older than grace_hours (>= 48: longer than a backup execution can run); then it sweeps the ElastiCache snapshots failed runs kept: one named ecb-… and tagged by the backup, available, older than snapshot_min_age_hours (>= 48, default 72) and followed by a verified backup of the same target is deleted. dry_run (default true) only writes the report (retention-reports/ in the bucket). While it is deployed the bucket's lifecycle expires no backup (ecb-… objects; their noncurrent versions still expire after noncurrent_version_retention_days), so keep_last and keep_days are not capped by backup_retention_days; a dry run deletes nothing, so backups accumulate until dry_run = false. null = no retention schedule (the lifecycle expires backups after backup_retention_days)."
  type = object({
    keep_last              = number
    keep_days              = optional(number, 0)
    dry_run                = optional(bool, true)
    grace_hours            = optional(number, 48)
    snapshot_min_age_hours = optional(number, 72)
    schedule_expression    = optional(string, "cron(30 5 * * ? *)")
    timezone               = optional(string, "UTC")
  })
  default = null

  validation {
    condition     = var.retention == null ? true : (var.retention.keep_last >= 1 && var.retention.keep_last <= 1000 && floor(var.retention.keep_last) == var.retention.keep_last)
    error_message = "retention.keep_last must be a whole number from 1 to 1000 (the newest backup of a target is always kept)."
  }
  validation {
    condition     = var.retention == null ? true : (var.retention.keep_days >= 0 && var.retention.keep_days <= 3650 && floor(var.retention.keep_days) == var.retention.keep_days)
    error_message = "retention.keep_days must be a whole number of days from 0 to 3650 (the lifecycle expires no backup while retention is deployed, so backup_retention_days does not cap it)."
  }
  validation {
    condition     = var.retention == null ? true : (var.retention.grace_hours >= 48 && var.retention.grace_hours <= 8760)
    error_message = "retention.grace_hours must be from 48 to 8760: an export without a manifest may belong to a running execution for up to 44 hours."
  }
  validation {
    condition     = var.retention == null ? true : (var.retention.snapshot_min_age_hours >= 48 && var.retention.snapshot_min_age_hours <= 8760)
    error_message = "retention.snapshot_min_age_hours must be from 48 to 8760: a snapshot may belong to a running execution for up to 44 hours."
  }
  validation {
    condition     = var.retention == null ? true : (can(regex("^(cron\\(\\S+ \\S+ \\S+ \\S+ \\S+ \\S+\\)|rate\\([1-9][0-9]* (minute|minutes|hour|hours|day|days)\\))$", var.retention.schedule_expression)) && (!startswith(var.retention.schedule_expression, "cron(") || try(length([for i in [2, 4] : i if split(" ", trimsuffix(trimprefix(var.retention.schedule_expression, "cron("), ")"))[i] == "?"]) == 1, false)))
    error_message = "retention.schedule_expression must be cron(...) with six fields and ? in exactly one of day-of-month and day-of-week, or rate(N unit)."
  }
  validation {
    condition     = var.retention == null ? true : can(regex("^(UTC|[A-Z][A-Za-z_]+(/[A-Za-z0-9_+-]+){1,2})$", var.retention.timezone))
    error_message = "retention.timezone must be an IANA time zone name such as UTC or Asia/Seoul."
  }
}

variable "vault" {
  description = "A vault in another account (terraform/modules/vault, applied there first; pass its output vault): the export bucket replicates only verified backups (objects tagged elasticache-backup:verified=true) to it, never deletions, with owner override to the vault account and Replication Time Control; restores and drills may read from it. account_id (12 digits, not this account), bucket, region and kms_key_arn (the vault's key, in that account and region). null = no vault. Needs create_bucket."
  type = object({
    account_id  = string
    bucket      = string
    region      = string
    kms_key_arn = string
  })
  default = null

  validation {
    condition     = var.vault == null || var.create_bucket
    error_message = "vault replicates the module's bucket: it needs create_bucket = true (with your own bucket, add the replication rule yourself: output vault_replication_role_arn's permissions and the rule in docs/operations.md, \"Vault\")."
  }
  validation {
    condition     = var.vault == null ? true : can(regex("^[0-9]{12}$", var.vault.account_id))
    error_message = "vault.account_id must be the vault account's 12-digit id."
  }
  validation {
    condition     = var.vault == null ? true : var.vault.account_id != local.account_id
    error_message = "vault.account_id is this deployment's own account: a vault must be in another account, so that whoever holds this account cannot delete the vault's copies."
  }
  validation {
    condition     = var.vault == null ? true : can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.vault.bucket)) && !strcontains(var.vault.bucket, "..") && !can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+$", var.vault.bucket))
    error_message = "vault.bucket must follow the S3 bucket naming rules: 3-63 lower-case letters, digits, dots and hyphens, beginning and ending with a letter or digit, no two adjacent dots, not an IP address."
  }
  validation {
    condition     = var.vault == null ? true : can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.vault.region))
    error_message = "vault.region must be an AWS region name such as ap-northeast-1 (the vault bucket's region)."
  }
  validation {
    condition     = var.vault == null ? true : can(regex("^arn:aws[a-z-]*:kms:([a-z0-9-]+):([0-9]{12}):key/[a-zA-Z0-9-]+$", var.vault.kms_key_arn)) && try(split(":", var.vault.kms_key_arn)[3] == var.vault.region && split(":", var.vault.kms_key_arn)[4] == var.vault.account_id, false)
    error_message = "vault.kms_key_arn must be the vault's KMS key ARN (arn:<partition>:kms:<vault region>:<vault account>:key/<id>), in the vault's account and region: S3 encrypts replicas with a key in the destination bucket's region (S3 User Guide, \"Replicating encrypted objects\")."
  }
}
