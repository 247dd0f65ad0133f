# The disaster-recovery region (dr_region, provider aws.dr): every object of the export bucket, manifests included,
# is replicated to a bucket there that ElastiCache in that region may read for seeding, and the restore state machine
# runs there too, against that bucket.

resource "aws_s3_bucket" "dr" {
  count    = local.dr ? 1 : 0
  provider = aws.dr

  bucket = local.dr_bucket_name

  # checkov:skip=CKV_AWS_18:Access logging needs a second bucket the user owns; CloudTrail data events are the better audit trail here.
  # checkov:skip=CKV_AWS_144:This bucket is the replica; replicating it again would add a third copy.
  # checkov:skip=CKV_AWS_145:Seeding a cluster reads SSE-S3 objects only.
  # checkov:skip=CKV2_AWS_62:No consumer of object-created events.
  # checkov:skip=CKV2_AWS_61:Replicas follow the source's lifecycle through replicated deletions being disabled; expire them with the retention tooling.
  tags = var.tags
}

resource "aws_s3_bucket_ownership_controls" "dr" {
  count    = local.dr ? 1 : 0
  provider = aws.dr
  bucket   = aws_s3_bucket.dr[0].id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "dr" {
  count                   = local.dr ? 1 : 0
  provider                = aws.dr
  bucket                  = aws_s3_bucket.dr[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "dr" {
  count    = local.dr ? 1 : 0
  provider = aws.dr
  bucket   = aws_s3_bucket.dr[0].id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "dr" {
  count    = local.dr ? 1 : 0
  provider = aws.dr
  bucket   = aws_s3_bucket.dr[0].id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

# With object_lock_days the replicas are locked too: S3 replicates an Object Lock source only into a destination with
# Object Lock enabled (S3 User Guide, "Replication failure reasons": DstBucketObjectLockConfigMissing), and a replica
# keeps its source version's retention ("Object Lock considerations", "Using Object Lock with S3 Replication"). As
# on the primary bucket, no default retention: only what verify-export locks is locked.
resource "aws_s3_bucket_object_lock_configuration" "dr" {
  count    = local.dr && var.object_lock_days != null ? 1 : 0
  provider = aws.dr
  bucket   = aws_s3_bucket.dr[0].id
  # Enables Object Lock on the (versioned) bucket in place; it cannot be turned off again.
  object_lock_enabled = "Enabled"

  depends_on = [aws_s3_bucket_versioning.dr]
}

# TLS only; in a DR region whose seeding mode is bucket-policy (an opt-in region), ElastiCache there reads the replicas
# to seed a cluster through its regional principal ("Seeding a new self-designed cluster with an externally created
# backup"). In object-acl mode restores there seed from the DR region's seed bucket instead (below).
data "aws_iam_policy_document" "dr" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    resources = [local.dr_bucket_arn, "${local.dr_bucket_arn}/*"]
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  dynamic "statement" {
    for_each = local.dr_seeding_mode == "bucket-policy" ? ["${var.dr_region}.elasticache-snapshot.amazonaws.com"] : []
    content {
      sid    = "ElastiCacheSeedRead"
      effect = "Allow"
      principals {
        type        = "Service"
        identifiers = [statement.value]
      }
      actions   = ["s3:GetObject", "s3:ListBucket", "s3:GetBucketAcl"]
      resources = [local.dr_bucket_arn, "${local.dr_bucket_arn}/*"]
    }
  }
}

resource "aws_s3_bucket_policy" "dr" {
  count    = local.dr ? 1 : 0
  provider = aws.dr
  bucket   = aws_s3_bucket.dr[0].id
  policy   = data.aws_iam_policy_document.dr.json

  depends_on = [aws_s3_bucket_public_access_block.dr]
}

# The DR region's seed bucket, when its seeding mode is object-acl: as the primary region's (bucket.tf), for the
# restores that run there.
resource "aws_s3_bucket" "dr_seed" {
  count    = local.dr_seeding_mode == "object-acl" ? 1 : 0
  provider = aws.dr

  bucket        = local.dr_seed_bucket_name
  force_destroy = false

  lifecycle {
    precondition {
      condition     = local.elasticache_canonical_user != null
      error_message = "seeding_mode object-acl grants ElastiCache's canonical user, whose id in partition ${local.partition} this module does not know (it knows ${join(", ", keys(local.elasticache_canonical_users))}): set seeding_mode = \"bucket-policy\"."
    }
  }

  # checkov:skip=CKV_AWS_18:A one-day scratch copy of objects whose reads are in the DR bucket's audit trail (CloudTrail data events); access logs need a second bucket.
  # checkov:skip=CKV_AWS_21:Copies live a day and are re-made from the versioned DR bucket on every restore; versioning would keep expired copies.
  # checkov:skip=CKV_AWS_144:Seeding reads a bucket in the cluster's region; replicating scratch copies adds nothing.
  # checkov:skip=CKV_AWS_145:Seeding a cluster reads SSE-S3 objects only (ElastiCache User Guide, seeding an externally created backup).
  # checkov:skip=CKV2_AWS_62:No consumer of object-created events; the restore state machine tracks its copies.
  tags = var.tags
}

resource "aws_s3_bucket_ownership_controls" "dr_seed" {
  count    = length(aws_s3_bucket.dr_seed)
  provider = aws.dr
  bucket   = aws_s3_bucket.dr_seed[0].id
  # checkov:skip=CKV2_AWS_65:ElastiCache's seeding reads in the default regions are granted by an object ACL (User Guide, seeding an externally created backup), which needs ACLs enabled; the bucket ACL stays private and public access is blocked.
  rule {
    object_ownership = "BucketOwnerPreferred"
  }
}

resource "aws_s3_bucket_acl" "dr_seed" {
  count    = length(aws_s3_bucket.dr_seed)
  provider = aws.dr
  bucket   = aws_s3_bucket.dr_seed[0].id
  acl      = "private"

  depends_on = [aws_s3_bucket_ownership_controls.dr_seed]
}

resource "aws_s3_bucket_public_access_block" "dr_seed" {
  count                   = length(aws_s3_bucket.dr_seed)
  provider                = aws.dr
  bucket                  = aws_s3_bucket.dr_seed[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "dr_seed" {
  count    = length(aws_s3_bucket.dr_seed)
  provider = aws.dr
  bucket   = aws_s3_bucket.dr_seed[0].id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "dr_seed" {
  count    = length(aws_s3_bucket.dr_seed)
  provider = aws.dr
  bucket   = aws_s3_bucket.dr_seed[0].id

  rule {
    id     = "expire-seed-copies"
    status = "Enabled"
    filter {}
    expiration {
      days = 1
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

data "aws_iam_policy_document" "dr_seed" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    resources = [local.dr_seed_bucket_arn, "${local.dr_seed_bucket_arn}/*"]
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "dr_seed" {
  count    = length(aws_s3_bucket.dr_seed)
  provider = aws.dr
  bucket   = aws_s3_bucket.dr_seed[0].id
  policy   = data.aws_iam_policy_document.dr_seed.json

  depends_on = [aws_s3_bucket_public_access_block.dr_seed]
}

# Replication from the export bucket: every object, manifests and restore reports included; deletions are not
# replicated, so losing the primary bucket's objects never loses the DR copies.
data "aws_iam_policy_document" "replication_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }
  }
}

# With a vault the export bucket's one replication configuration runs as the vault's role (vault.tf), which is also
# given these DR grants; this role exists only for a DR region without a vault.
resource "aws_iam_role" "replication" {
  count                = local.dr && !local.vault ? 1 : 0
  name                 = "${var.name}-replication-${local.region}"
  assume_role_policy   = data.aws_iam_policy_document.replication_assume.json
  path                 = var.role_path
  permissions_boundary = var.role_permissions_boundary
  tags                 = var.tags
}

data "aws_iam_policy_document" "replication" {
  statement {
    sid       = "ReadSource"
    actions   = ["s3:GetReplicationConfiguration", "s3:ListBucket"]
    resources = [local.bucket_arn]
  }
  statement {
    sid       = "ReadSourceObjects"
    actions   = ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"]
    resources = ["${local.bucket_arn}/*"]
  }
  # Locked versions replicate with their retention, which the role reads (S3 User Guide, "Object Lock
  # considerations", "Using Object Lock with S3 Replication").
  dynamic "statement" {
    for_each = var.object_lock_days != null ? ["${local.bucket_arn}/*"] : []
    content {
      sid       = "ReadSourceLocks"
      actions   = ["s3:GetObjectRetention", "s3:GetObjectLegalHold"]
      resources = [statement.value]
    }
  }
  statement {
    sid       = "WriteReplicas"
    actions   = ["s3:ReplicateObject", "s3:ReplicateTags"]
    resources = ["${local.dr_bucket_arn}/*"]
  }
}

resource "aws_iam_role_policy" "replication" {
  count  = local.dr && !local.vault ? 1 : 0
  name   = "replicate-to-dr"
  role   = aws_iam_role.replication[0].id
  policy = data.aws_iam_policy_document.replication.json
}

# The export bucket's replication configuration (to the DR bucket and to the vault) is in vault.tf.

# The restore steps in the DR region: the same zips and the same least-privilege statements, pointed at the DR
# bucket and the DR region's resources, with the DR region's seeding (its mode, its seed bucket: seed_contexts.dr).
locals {
  dr_functions = {
    for k in(local.dr ? local.restore_functions : []) : k => merge(local.functions[k], {
      env = merge(
        { for ek, ev in local.functions[k].env : ek => (ek == "BACKUP_BUCKET" ? local.dr_bucket_name : ev) if !contains(["SEEDING_MODE", "SEED_BUCKET"], ek) },
        { for ek, ev in local.seeding_env.dr : ek => ev if contains(keys(local.functions[k].env), "SEEDING_MODE") && (ek == "SEEDING_MODE" || k == "resolve-backup") },
      )
      statements = concat(jsondecode(replace(replace(jsonencode(local.functions[k].statements),
      local.bucket_arn, local.dr_bucket_arn), ":${local.region}:", ":${var.dr_region}:")), try(local.functions[k].seeding.dr, []), try(local.functions[k].vault, []))
    })
  }
}

# The DR region's restore steps, their roles and log groups: modules/region through aws.dr, as module.primary (lambda.tf).
module "dr" {
  source = "./modules/region"
  count  = local.dr ? 1 : 0
  providers = {
    aws = aws.dr
  }

  name   = var.name
  region = var.dr_region
  functions = { for k, f in local.dr_functions : k => {
    description = f.description
    timeout     = coalesce(try(var.function_overrides[k].timeout, null), f.timeout)
    memory_size = coalesce(try(var.function_overrides[k].memory_size, null), f.memory)
    environment = f.env
    statements  = f.statements
  } }
  architecture = var.architecture
  # Lambda reads code only from a bucket in its own region: dr_artifacts_s3_bucket (variables.tf checks it is set).
  artifacts = {
    s3_bucket = var.dr_artifacts_s3_bucket
    s3_keys   = local.artifact_key
    zips      = local.artifact_zip
    hashes    = local.artifact_hash
  }
  log_retention_days        = var.log_retention_days
  logs_kms_key_arn          = var.dr_logs_kms_key_arn
  role_path                 = var.role_path
  role_permissions_boundary = var.role_permissions_boundary
  tags                      = var.tags
}

resource "aws_iam_role" "dr_restore_machine" {
  count                = local.dr ? 1 : 0
  name                 = "${var.name}-restore-machine-${var.dr_region}"
  assume_role_policy   = data.aws_iam_policy_document.states_assume.json
  path                 = var.role_path
  permissions_boundary = var.role_permissions_boundary
  tags                 = var.tags
}

data "aws_iam_policy_document" "dr_restore_machine" {
  source_policy_documents = [data.aws_iam_policy_document.states_common.json]

  statement {
    sid       = "InvokeRestoreSteps"
    actions   = ["lambda:InvokeFunction"]
    resources = local.dr ? [for k in local.restore_functions : module.dr[0].functions[k].arn] : ["arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:none"]
  }

}

resource "aws_iam_role_policy" "dr_restore_machine" {
  count  = local.dr ? 1 : 0
  name   = "invoke-restore-steps"
  role   = aws_iam_role.dr_restore_machine[0].id
  policy = data.aws_iam_policy_document.dr_restore_machine.json
}

resource "aws_cloudwatch_log_group" "dr_restore_machine" {
  count    = local.dr ? 1 : 0
  provider = aws.dr

  name              = "/aws/vendedlogs/states/${local.restore_machine}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.dr_logs_kms_key_arn
  # checkov:skip=CKV_AWS_158:Encrypted with the caller's KMS key when one is given (logs_kms_key_arn); logs hold run metadata only, so the default encryption is the default.
  tags = var.tags
}

resource "aws_sfn_state_machine" "dr_restore" {
  count    = local.dr ? 1 : 0
  provider = aws.dr

  name     = local.restore_machine
  type     = "STANDARD"
  role_arn = aws_iam_role.dr_restore_machine[0].arn

  definition = jsonencode(jsondecode(replace(templatefile("${path.module}/restore.asl.json", {
    for k in local.restore_functions : "${replace(k, "-", "_")}_arn" => module.dr[0].functions[k].arn
  }), local.asl_integration_prefix, local.states_integration_prefix)))

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.dr_restore_machine[0].arn}:*"
    include_execution_data = true
    level                  = "ERROR"
  }

  tracing_configuration {
    enabled = true
  }

  tags = var.tags
}

# Alerts for the DR restore state machine: its status changes are events on the DR region's default bus, which the
# primary region's notify never sees. This rule forwards them to the primary region's default bus, where the
# execution_status rule (alerts.tf) lists the DR machine and hands them to notify. Cross-Region event bus targets
# need a role that may events:PutEvents on the receiving bus; a bus in the same account needs no bus policy
# (EventBridge User Guide, "Sending and receiving events between AWS Regions"). UNCONFIRMED: that every commercial
# Region may be the receiving one (the feature started with us-east-1, us-west-2 and eu-west-1 as receivers).
resource "aws_cloudwatch_event_rule" "dr_execution_status" {
  count    = local.dr ? 1 : 0
  provider = aws.dr

  name        = "${var.name}-dr-execution-status"
  description = "Finished executions of ${local.restore_machine} in ${var.dr_region}, forwarded to ${local.region}'s default bus for notify."
  event_pattern = jsonencode({
    source        = ["aws.states"]
    "detail-type" = ["Step Functions Execution Status Change"]
    detail = {
      stateMachineArn = [aws_sfn_state_machine.dr_restore[0].arn]
      status          = ["FAILED", "TIMED_OUT", "ABORTED", "SUCCEEDED"]
    }
  })
  tags = var.tags
}

data "aws_iam_policy_document" "events_assume" {
  # Who may attach this role to a rule is limited by iam:PassRole, which only this account's principals can hold.
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "dr_events" {
  count                = local.dr ? 1 : 0
  name                 = "${var.name}-dr-events-${var.dr_region}"
  assume_role_policy   = data.aws_iam_policy_document.events_assume.json
  path                 = var.role_path
  permissions_boundary = var.role_permissions_boundary
  tags                 = var.tags
}

data "aws_iam_policy_document" "dr_events" {
  statement {
    sid       = "PutEventsOnThePrimaryBus"
    actions   = ["events:PutEvents"]
    resources = [local.primary_event_bus_arn]
  }
}

resource "aws_iam_role_policy" "dr_events" {
  count  = local.dr ? 1 : 0
  name   = "forward-to-primary-bus"
  role   = aws_iam_role.dr_events[0].id
  policy = data.aws_iam_policy_document.dr_events.json
}

resource "aws_cloudwatch_event_target" "dr_to_primary_bus" {
  count    = local.dr ? 1 : 0
  provider = aws.dr

  rule     = aws_cloudwatch_event_rule.dr_execution_status[0].name
  arn      = local.primary_event_bus_arn
  role_arn = aws_iam_role.dr_events[0].arn
  # Default retry policy: up to 24 hours and 185 attempts (EventBridge User Guide, "Event retry policy").
}
