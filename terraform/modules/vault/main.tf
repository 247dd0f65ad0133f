# The vault: a bucket in another account that receives, by replication from the source account's backup bucket, only
# the objects of verified backups (tag elasticache-backup:verified=true), and keeps them under Object Lock in
# COMPLIANCE mode. Applied with the vault account's provider; the source account can write replicas into it and
# nothing else: no deletion, no change of its policy, lifecycle, lock or encryption.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  # `id` is the region name in provider v5 and v6.
  region     = data.aws_region.current.id
  bucket_arn = "arn:${local.partition}:s3:::${var.bucket_name}"
  # The accounts the grantees belong to: a principal is named by its account, and the role by an aws:PrincipalArn
  # condition, because S3 and KMS refuse a policy naming a role that does not exist ("Invalid principal in policy",
  # https://repost.aws/knowledge-center/s3-invalid-principal-in-policy-error; KMS: MalformedPolicyDocumentException,
  # AWS KMS Developer Guide, "Key policies", Principal) and the source module creates its roles after this module.
  # A condition on aws:PrincipalArn (IAM User Guide, "AWS global condition context keys") needs no existing role
  # and still matches the role once it is created (a role ARN in Principal is stored as the role's unique id,
  # which a re-created role does not have: IAM User Guide, "AWS JSON policy elements: Principal", IAM roles).
  replication_account = "arn:${local.partition}:iam::${var.source_account_id}:root"
  reader_accounts     = distinct([for a in var.reader_role_arns : "arn:${local.partition}:iam::${split(":", a)[4]}:root"])
  # S3 uses the key only on behalf of requests to this region's S3 (AWS KMS Developer Guide, "kms:ViaService").
  via_s3 = "s3.${local.region}.amazonaws.com"

  # What the source account may never do to the vault, whatever it is granted elsewhere: delete an object or a
  # version (or their tags), or change the bucket's policy, lifecycle, lock, encryption, ownership, public access
  # block, replication or ACLs, or delete the bucket. (Object Lock in COMPLIANCE mode already refuses deleting a
  # locked version to everyone; this also covers versions past their date and the bucket's configuration.)
  denied_to_source = [
    "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:DeleteObjectTagging", "s3:DeleteObjectVersionTagging",
    "s3:BypassGovernanceRetention", "s3:PutObjectLegalHold", "s3:PutObjectAcl", "s3:PutObjectVersionAcl",
    "s3:DeleteBucket", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:PutLifecycleConfiguration",
    "s3:PutBucketObjectLockConfiguration", "s3:PutEncryptionConfiguration", "s3:PutBucketOwnershipControls",
    "s3:PutBucketPublicAccessBlock", "s3:PutReplicationConfiguration", "s3:PutBucketAcl",
  ]
}

resource "aws_s3_bucket" "this" {
  bucket = var.bucket_name
  # Object Lock at creation (S3 User Guide, "Configuring S3 Object Lock"): a bucket created with it is versioned and
  # can never turn it off; the default retention is aws_s3_bucket_object_lock_configuration below.
  object_lock_enabled = true

  # checkov:skip=CKV_AWS_18:Access logging needs a further bucket in the vault account; CloudTrail data events of the vault account are the audit trail.
  # checkov:skip=CKV_AWS_144:The vault is the copy: it is itself the destination of a cross-account replication.
  # checkov:skip=CKV2_AWS_62:No consumer of object-created events; replication metrics (RTC) watch the arrivals.
  tags = var.tags
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id
  # Replicas belong to the vault account (S3 User Guide, "Changing the replica owner": the bucket owner enforced
  # setting "mimics the existing owner override behavior"); the source's rule also asks for the override.
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket                  = aws_s3_bucket.this.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id
  # Required of a replication destination and by Object Lock; it cannot be suspended while Object Lock is on.
  versioning_configuration {
    status = "Enabled"
  }
}

# Every new version is locked for retention_days in COMPLIANCE mode unless its source version carries its own
# retention (S3 User Guide, "What does Amazon S3 replicate?": a replica of an object without retention gets "the
# destination bucket's default retention period"). A COMPLIANCE lock cannot be shortened or removed by anyone, the
# root user included, until it passes (S3 User Guide, "Object Lock", Retention modes).
resource "aws_s3_bucket_object_lock_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    default_retention {
      mode = "COMPLIANCE"
      days = var.retention_days
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

resource "aws_kms_key" "this" {
  description             = "Default encryption of the elasticache-backup vault ${var.bucket_name}"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_days
  policy                  = data.aws_iam_policy_document.key.json
  tags                    = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${replace(var.bucket_name, ".", "-")}"
  target_key_id = aws_kms_key.this.key_id
}

# Default SSE-KMS with the vault's key and S3 Bucket Keys. What it covers (S3 User Guide, "Replicating encrypted
# objects", "How default bucket encryption affects replication"): objects written unencrypted; replicas of SSE-S3
# source objects (every ElastiCache export is SSE-S3) "use the same type of encryption as the source objects", so
# they stay SSE-S3; replicas of SSE-KMS sources are encrypted with the key the source rule names (this one).
resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.this.arn
    }
    bucket_key_enabled = true
  }
}

# Noncurrent versions expire after noncurrent_version_retention_days, but never while locked: S3 does not remove a
# version whose retention date has not passed (S3 User Guide, "Object Lock", "How S3 Object Lock works": a locked
# version "can't be deleted or overwritten"). Current versions never expire here.
resource "aws_s3_bucket_lifecycle_configuration" "this" {
  count  = var.noncurrent_version_retention_days == null ? 0 : 1
  bucket = aws_s3_bucket.this.id

  rule {
    id     = "expire-noncurrent-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_retention_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

data "aws_iam_policy_document" "bucket" {
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

  # The source account's replication role writes replicas (S3 User Guide, "Configuring replication for buckets in
  # different accounts", the destination bucket policy: s3:ReplicateObject; s3:ReplicateTags for tagged objects;
  # s3:GetBucketVersioning and s3:PutBucketVersioning on the bucket, as its example grants) and hands their ownership
  # to this account ("Changing the replica owner": s3:ObjectOwnerOverrideToBucketOwner). No s3:ReplicateDelete:
  # deletions and delete markers never reach the vault. Versioning of an Object Lock bucket cannot be suspended
  # (S3 User Guide, "Object Lock"), so s3:PutBucketVersioning cannot weaken it.
  statement {
    sid     = "SourceReplicationWritesReplicas"
    effect  = "Allow"
    actions = ["s3:ReplicateObject", "s3:ReplicateTags", "s3:ObjectOwnerOverrideToBucketOwner"]
    principals {
      type        = "AWS"
      identifiers = [local.replication_account]
    }
    resources = ["${local.bucket_arn}/*"]
    condition {
      test     = "StringEquals"
      variable = "aws:PrincipalArn"
      values   = [var.replication_role_arn]
    }
  }

  statement {
    sid     = "SourceReplicationChecksVersioning"
    effect  = "Allow"
    actions = ["s3:GetBucketVersioning", "s3:PutBucketVersioning"]
    principals {
      type        = "AWS"
      identifiers = [local.replication_account]
    }
    resources = [local.bucket_arn]
    condition {
      test     = "StringEquals"
      variable = "aws:PrincipalArn"
      values   = [var.replication_role_arn]
    }
  }

  # Restores read the vault: the objects, their versions and tags, and the listing. Nothing else.
  dynamic "statement" {
    for_each = length(var.reader_role_arns) > 0 ? ["objects"] : []
    content {
      sid     = "ReadersReadObjects"
      effect  = "Allow"
      actions = ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging"]
      principals {
        type        = "AWS"
        identifiers = local.reader_accounts
      }
      resources = ["${local.bucket_arn}/*"]
      condition {
        test     = "StringEquals"
        variable = "aws:PrincipalArn"
        values   = var.reader_role_arns
      }
    }
  }

  dynamic "statement" {
    for_each = length(var.reader_role_arns) > 0 ? ["bucket"] : []
    content {
      sid     = "ReadersListBucket"
      effect  = "Allow"
      actions = ["s3:ListBucket"]
      principals {
        type        = "AWS"
        identifiers = local.reader_accounts
      }
      resources = [local.bucket_arn]
      condition {
        test     = "StringEquals"
        variable = "aws:PrincipalArn"
        values   = var.reader_role_arns
      }
    }
  }

  # Every principal of the source account (its root user, the replication role and the readers included): no
  # deletion, no reconfiguration. An explicit Deny wins over any Allow (IAM User Guide, "Policy evaluation logic").
  statement {
    sid     = "DenySourceAccountDeletesAndReconfiguration"
    effect  = "Deny"
    actions = local.denied_to_source
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    resources = [local.bucket_arn, "${local.bucket_arn}/*"]
    condition {
      test     = "StringEquals"
      variable = "aws:PrincipalAccount"
      values   = [var.source_account_id]
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.id
  policy = data.aws_iam_policy_document.bucket.json

  depends_on = [aws_s3_bucket_public_access_block.this]
}

data "aws_iam_policy_document" "key" {
  # checkov:skip=CKV_AWS_109:A key policy's Resource "*" is the key itself (AWS KMS Developer Guide, "Key policies"); administration stays with the vault account's root, every other grant is conditioned on aws:PrincipalArn and kms:ViaService.
  # checkov:skip=CKV_AWS_111:A key policy's Resource "*" is the key itself; the only write grants are kms:Encrypt/GenerateDataKey to the named replication role through S3.
  # checkov:skip=CKV_AWS_356:A key policy's Resource "*" is the key itself (AWS KMS Developer Guide, "Key policies"), not every resource.
  # The vault account administers its key through IAM (AWS KMS Developer Guide, "Default key policy": "Allows access
  # to the AWS account and enables IAM policies").
  statement {
    sid       = "VaultAccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"] # In a key policy, "*" is this key.
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  # The source account's replication role encrypts replicas through S3 (S3 User Guide, "Replicating encrypted
  # objects", "Granting additional permissions for the IAM role": kms:Encrypt for the replica key, kms:GenerateDataKey
  # for plaintext objects replicated into an SSE-KMS bucket, and, with S3 Bucket Keys, kms:Decrypt for the calling
  # principal; "If the KMS keys are owned by another AWS account, the owner of the KMS keys must grant these
  # permissions"). The role's own policy must allow them too.
  statement {
    sid       = "SourceReplicationEncryptsReplicas"
    actions   = ["kms:Encrypt", "kms:GenerateDataKey", "kms:Decrypt"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = [local.replication_account]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:PrincipalArn"
      values   = [var.replication_role_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = [local.via_s3]
    }
  }

  # Restores decrypt what they read, through S3 only.
  dynamic "statement" {
    for_each = length(var.reader_role_arns) > 0 ? ["readers"] : []
    content {
      sid       = "ReadersDecrypt"
      actions   = ["kms:Decrypt"]
      resources = ["*"]
      principals {
        type        = "AWS"
        identifiers = local.reader_accounts
      }
      condition {
        test     = "StringEquals"
        variable = "aws:PrincipalArn"
        values   = var.reader_role_arns
      }
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = [local.via_s3]
      }
    }
  }
}
