# The export bucket: private, ACLs disabled, TLS-only, SSE-S3 (exports cannot use a customer KMS key and restores
# read SSE-S3 only), versioned, expiring (backups only without the retention function); writable by the regional
# ElastiCache export principal.
resource "aws_s3_bucket" "exports" {
  count = var.create_bucket ? 1 : 0

  bucket = local.bucket_name
  # Object Lock is enabled by aws_s3_bucket_object_lock_configuration below (PutObjectLockConfiguration works on an
  # existing versioned bucket), so turning it on later updates the bucket instead of replacing it.

  # checkov:skip=CKV_AWS_18:Access logging needs a second bucket the user owns; CloudTrail data events are the better audit trail here.
  # checkov:skip=CKV_AWS_144:Cross-region replication is a user decision (restores need the .rdb in the cluster's region).
  # checkov:skip=CKV_AWS_145:ElastiCache exports cannot be written with a customer managed KMS key, and seeding a cluster reads SSE-S3 only.
  # checkov:skip=CKV2_AWS_62:No consumer of object-created events; completeness is checked by the state machine.
  tags = var.tags
}

resource "aws_s3_bucket_ownership_controls" "exports" {
  count  = var.create_bucket ? 1 : 0
  bucket = aws_s3_bucket.exports[0].id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "exports" {
  count                   = var.create_bucket ? 1 : 0
  bucket                  = aws_s3_bucket.exports[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "exports" {
  count  = var.create_bucket ? 1 : 0
  bucket = aws_s3_bucket.exports[0].id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "exports" {
  count  = var.create_bucket ? 1 : 0
  bucket = aws_s3_bucket.exports[0].id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

# What the lifecycle removes. It cannot tell a target's last backup from an old one, so it never expires a backup
# while the retention function is deployed: retention deletes whole sets and always keeps each target's newest,
# also for a cluster no longer backed up or one whose backups have been failing for weeks. Without retention the
# lifecycle is the only deletion and expires every current object after backup_retention_days.
# Versioned bucket: an expiration or a deletion turns the current version into a noncurrent one (a delete marker on
# top), which noncurrent_version_expiration removes for good (S3 User Guide, "Expiring objects").
locals {
  backup_retention_days = coalesce(var.backup_retention_days, 35)
  # With retention: the module's own bookkeeping outside ecb-… that nothing else deletes. (notify-ledger/ has its
  # own one-day rule; fleet-runs/ holds a Distributed Map fleet's lists, retention-reports/ the retention's reports.)
  expiring_prefixes = var.retention == null ? {} : {
    fleet-runs        = "${local.fleet_runs_prefix}/"
    retention-reports = "retention-reports/"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "exports" {
  count  = var.create_bucket ? 1 : 0
  bucket = aws_s3_bucket.exports[0].id

  # Every prefix, retention or not: versions no longer current, and uploads never completed.
  rule {
    id     = "expire-noncurrent-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = coalesce(var.noncurrent_version_retention_days, 7)
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  # Without retention: every current object (exports, manifests, restore reports, fleet lists) expires.
  dynamic "rule" {
    for_each = var.retention == null ? ["expire-backups"] : []
    content {
      id     = rule.value
      status = "Enabled"
      filter {}
      expiration {
        days = local.backup_retention_days
      }
    }
  }

  # With retention: only the bookkeeping prefixes expire; ecb-… objects are the retention function's to delete.
  # A lifecycle filter takes one prefix and no negation, hence a rule per prefix (S3 User Guide, "Lifecycle
  # configuration elements").
  dynamic "rule" {
    for_each = local.expiring_prefixes
    content {
      id     = "expire-${rule.key}"
      status = "Enabled"
      filter {
        prefix = rule.value
      }
      expiration {
        days = local.backup_retention_days
      }
    }
  }

  # With a vault, in seeding mode bucket-policy: a restore's copies of the vault's shard objects
  # (restore-seeds/<execution>/), needed only until CreateReplicationGroup has read them.
  dynamic "rule" {
    for_each = local.vault && local.seeding_mode == "bucket-policy" ? ["${local.restore_seeds_prefix}/"] : []
    content {
      id     = "expire-restore-seeds"
      status = "Enabled"
      filter {
        prefix = rule.value
      }
      expiration {
        days = 1
      }
      noncurrent_version_expiration {
        noncurrent_days = 1
      }
    }
  }

  # notify's delivery ledger: a marker per delivered alert, needed only while Lambda may retry the event.
  rule {
    id     = "expire-notify-ledger"
    status = "Enabled"
    filter {
      prefix = "notify-ledger/"
    }
    expiration {
      days = 1
    }
    noncurrent_version_expiration {
      noncurrent_days = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.exports]
}

# object_lock_days: Object Lock on, and no default retention. With a default retention S3 requires an integrity header
# (Content-MD5 or an x-amz-checksum-*) on every upload (S3 User Guide, "Object Lock considerations", "Uploading
# objects to an Object Lock enabled bucket"), which nothing documents ElastiCache's export sending; without one, no
# upload needs it. A backup is locked when it is proven instead: WriteManifest (verify-export) sets each shard object's
# and the manifest's retention (PutObjectRetention, object_lock_mode, object_lock_days).
resource "aws_s3_bucket_object_lock_configuration" "exports" {
  count  = var.create_bucket && var.object_lock_days != null ? 1 : 0
  bucket = aws_s3_bucket.exports[0].id
  # Enables Object Lock on the (versioned) bucket in place; it cannot be turned off again.
  object_lock_enabled = "Enabled"

  depends_on = [aws_s3_bucket_versioning.exports]
}

data "aws_iam_policy_document" "exports" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    resources = [local.bucket_arn, "${local.bucket_arn}/*"]
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  # ElastiCache User Guide, "Exporting a backup": the bucket policy for the regional service principal. Its
  # s3:GetObject, s3:ListBucket and s3:GetBucketAcl are also what seeding asks for in seeding_mode bucket-policy
  # ("Seeding a new self-designed cluster with an externally created backup", opt-in regions); in object-acl mode
  # restores seed from the seed bucket below.
  statement {
    sid    = "ElastiCacheSnapshotExport"
    effect = "Allow"
    principals {
      type        = "Service"
      identifiers = [local.elasticache_export_principal]
    }
    actions = [
      "s3:PutObject", "s3:GetObject", "s3:ListBucket", "s3:GetBucketAcl",
      "s3:ListMultipartUploadParts", "s3:ListBucketMultipartUploads",
    ]
    resources = [local.bucket_arn, "${local.bucket_arn}/*"]
  }
}

resource "aws_s3_bucket_policy" "exports" {
  count  = var.create_bucket ? 1 : 0
  bucket = aws_s3_bucket.exports[0].id
  policy = data.aws_iam_policy_document.exports.json

  depends_on = [aws_s3_bucket_public_access_block.exports]
}

# The seed bucket (seeding_mode object-acl): in the default regions ElastiCache reads a seed .rdb through an object ACL
# granting its canonical user READ and READ_ACP ("Seeding a new self-designed cluster with an externally created
# backup"), which the export bucket (ACLs disabled) cannot hold. ResolveBackup server-side copies the verified shard
# objects here, under <restore execution>/<key>, with that grant; CreateReplicationGroup's SnapshotArns name the
# copies. Scratch space: ACLs enabled (BucketOwnerPreferred) but the bucket ACL private and public access blocked,
# TLS only, SSE-S3 (seeding reads SSE-S3 objects only), every object expired after a day.
resource "aws_s3_bucket" "seed" {
  count = local.seeding_mode == "object-acl" ? 1 : 0

  bucket        = local.seed_bucket_name
  force_destroy = false

  lifecycle {
    precondition {
      condition     = local.elasticache_canonical_user != null
      error_message = "seeding_mode object-acl grants ElastiCache's canonical user, whose id in partition ${local.partition} this module does not know (it knows ${join(", ", keys(local.elasticache_canonical_users))}): set seeding_mode = \"bucket-policy\"."
    }
  }

  # checkov:skip=CKV_AWS_18:A one-day scratch copy of objects whose reads are in the export bucket's audit trail (CloudTrail data events); access logs need a second bucket.
  # checkov:skip=CKV_AWS_21:Copies live a day and are re-made from the versioned export bucket on every restore; versioning would keep expired copies.
  # checkov:skip=CKV_AWS_144:Each region has its own seed bucket (seeding reads a bucket in the cluster's region); replicating scratch copies adds nothing.
  # checkov:skip=CKV_AWS_145:Seeding a cluster reads SSE-S3 objects only (ElastiCache User Guide, seeding an externally created backup).
  # checkov:skip=CKV2_AWS_62:No consumer of object-created events; the restore state machine tracks its copies.
  tags = var.tags
}

resource "aws_s3_bucket_ownership_controls" "seed" {
  count  = length(aws_s3_bucket.seed)
  bucket = aws_s3_bucket.seed[0].id
  # checkov:skip=CKV2_AWS_65:ElastiCache's seeding reads in the default regions are granted by an object ACL (User Guide, seeding an externally created backup), which needs ACLs enabled; the bucket ACL stays private and public access is blocked.
  rule {
    object_ownership = "BucketOwnerPreferred"
  }
}

resource "aws_s3_bucket_acl" "seed" {
  count  = length(aws_s3_bucket.seed)
  bucket = aws_s3_bucket.seed[0].id
  acl    = "private"

  depends_on = [aws_s3_bucket_ownership_controls.seed]
}

resource "aws_s3_bucket_public_access_block" "seed" {
  count                   = length(aws_s3_bucket.seed)
  bucket                  = aws_s3_bucket.seed[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "seed" {
  count  = length(aws_s3_bucket.seed)
  bucket = aws_s3_bucket.seed[0].id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "seed" {
  count  = length(aws_s3_bucket.seed)
  bucket = aws_s3_bucket.seed[0].id

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

data "aws_iam_policy_document" "seed" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    resources = [local.seed_bucket_arn, "${local.seed_bucket_arn}/*"]
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "seed" {
  count  = length(aws_s3_bucket.seed)
  bucket = aws_s3_bucket.seed[0].id
  policy = data.aws_iam_policy_document.seed.json

  depends_on = [aws_s3_bucket_public_access_block.seed]
}
