# The vault (var.vault; terraform/modules/vault applied in the vault account): the export bucket replicates every
# object of a verified backup, and nothing else, to a bucket in another account that keeps it under Object Lock in
# COMPLIANCE mode. The rule filters on the tag WriteManifest puts on a backup's objects once it is proven
# (elasticache-backup:verified=true), so an export that failed verification never reaches the vault.

locals {
  vault = var.vault != null
  # Placeholders without a vault (nothing is granted on them: every use is behind local.vault).
  vault_bucket_arn  = "arn:${local.partition}:s3:::${try(var.vault.bucket, "none")}"
  vault_region      = try(var.vault.region, local.region)
  vault_kms_key_arn = try(var.vault.kms_key_arn, "arn:${local.partition}:kms:${local.region}:${local.account_id}:key/none")
  # Deterministic names, so that the vault module (applied first, in the other account) can name the roles before
  # they exist: arn:<partition>:iam::<account>:role<role_path><name>-vault-replication.
  vault_replication_role_name = "${var.name}-vault-replication"
  vault_replication_role_arn  = "arn:${local.partition}:iam::${local.account_id}:role${var.role_path}${local.vault_replication_role_name}"
  vault_batch_role_name       = "${var.name}-vault-batch"
  vault_batch_role_arn        = "arn:${local.partition}:iam::${local.account_id}:role${var.role_path}${local.vault_batch_role_name}"
  # The roles that read the vault to restore from it: resolve-backup's, in this region and in dr_region (the vault
  # module's reader_role_arns).
  vault_reader_role_arns = concat(
    [lookup(var.existing_role_arns, "resolve-backup", "arn:${local.partition}:iam::${local.account_id}:role${var.role_path}${var.name}-resolve-backup-${local.region}")],
    local.dr ? ["arn:${local.partition}:iam::${local.account_id}:role${var.role_path}${var.name}-resolve-backup-${var.dr_region}"] : [],
    # The evidence function lists the vault to say which backups are in it.
    [lookup(var.existing_role_arns, "evidence", "arn:${local.partition}:iam::${local.account_id}:role${var.role_path}${var.name}-evidence-${local.region}")],
  )
  # The tag the vault's rule filters on (backup_core::naming::VERIFIED_TAG_KEY, value "true").
  verified_tag_key = "elasticache-backup:verified"
  # VAULT_BUCKET and VAULT_REGION: resolve-backup, verify-export and evidence are told where the vault is.
  vault_env = local.vault ? { VAULT_BUCKET = var.vault.bucket, VAULT_REGION = var.vault.region } : {}
}

# The live replication role: S3 assumes it to replicate the export bucket's objects (S3 User Guide, "Setting up
# permissions for live replication").
resource "aws_iam_role" "vault_replication" {
  count                = local.vault ? 1 : 0
  name                 = local.vault_replication_role_name
  assume_role_policy   = data.aws_iam_policy_document.replication_assume.json
  path                 = var.role_path
  permissions_boundary = var.role_permissions_boundary
  tags                 = var.tags
}

data "aws_iam_policy_document" "vault_replication" {
  # With a DR region the bucket's one replication configuration runs as this role: it gets the DR grants too.
  source_policy_documents = local.dr ? [data.aws_iam_policy_document.replication.json] : []

  # The source side (S3 User Guide, "Setting up permissions for live replication": s3:GetReplicationConfiguration
  # and s3:ListBucket on the bucket; s3:GetObjectVersionForReplication, s3:GetObjectVersionAcl and
  # s3:GetObjectVersionTagging on its objects), and the locks of locked versions, which replicate with them ("Object
  # Lock considerations", "Using Object Lock with S3 Replication": s3:GetObjectRetention and s3:GetObjectLegalHold).
  statement {
    sid       = "VaultReadSource"
    actions   = ["s3:GetReplicationConfiguration", "s3:ListBucket"]
    resources = [local.bucket_arn]
  }
  statement {
    sid       = "VaultReadSourceObjects"
    actions   = ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging", "s3:GetObjectRetention", "s3:GetObjectLegalHold"]
    resources = ["${local.bucket_arn}/*"]
  }
  # The destination: replicas and their tags, owned by the vault account ("Changing the replica owner":
  # s3:ObjectOwnerOverrideToBucketOwner). No s3:ReplicateDelete: nothing is ever deleted in the vault by replication.
  statement {
    sid       = "VaultWriteReplicas"
    actions   = ["s3:ReplicateObject", "s3:ReplicateTags", "s3:ObjectOwnerOverrideToBucketOwner"]
    resources = ["${local.vault_bucket_arn}/*"]
  }
  # The vault's key, through S3 in the vault's region (S3 User Guide, "Replicating encrypted objects", "Granting
  # additional permissions for the IAM role": kms:Encrypt for the replica key, kms:GenerateDataKey for objects
  # replicated into an SSE-KMS bucket, kms:Decrypt with S3 Bucket Keys). A key of another account needs this grant
  # and the key policy's (the vault module's).
  statement {
    sid       = "VaultEncryptReplicas"
    actions   = ["kms:Encrypt", "kms:GenerateDataKey", "kms:Decrypt"]
    resources = [local.vault_kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.vault_region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "vault_replication" {
  count  = local.vault ? 1 : 0
  name   = "replicate-to-vault"
  role   = aws_iam_role.vault_replication[0].id
  policy = data.aws_iam_policy_document.vault_replication.json
}

# The Batch Replication role. Live replication evaluates an object when it is written ("What does Amazon S3
# replicate?": "Amazon S3 doesn't replicate objects retroactively"), and ElastiCache writes a shard object before it
# is verified and tagged, so WriteManifest (verify-export) starts an S3 Batch Replication job of the verified
# backup's objects (S3 User Guide, "Replicating existing objects with Batch Replication"), run by this role; the job
# sends them through the bucket's replication configuration, tag filter included. Its permissions are the guide's
# for a manifest S3 generates and does not store ("Configuring an IAM role for S3 Batch Replication").
data "aws_iam_policy_document" "batch_operations_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["batchoperations.s3.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "vault_batch" {
  count                = local.vault ? 1 : 0
  name                 = local.vault_batch_role_name
  assume_role_policy   = data.aws_iam_policy_document.batch_operations_assume.json
  path                 = var.role_path
  permissions_boundary = var.role_permissions_boundary
  tags                 = var.tags
}

data "aws_iam_policy_document" "vault_batch" {
  statement {
    sid       = "InitiateReplication"
    actions   = ["s3:InitiateReplication"]
    resources = ["${local.bucket_arn}/*"]
  }
  statement {
    sid       = "GenerateManifest"
    actions   = ["s3:GetReplicationConfiguration", "s3:PutInventoryConfiguration"]
    resources = [local.bucket_arn]
  }
}

resource "aws_iam_role_policy" "vault_batch" {
  count  = local.vault ? 1 : 0
  name   = "batch-replicate-to-vault"
  role   = aws_iam_role.vault_batch[0].id
  policy = data.aws_iam_policy_document.vault_batch.json
}

# The export bucket's replication configuration: to the DR bucket (dr_region: every object) and to the vault (only
# verified objects). A bucket has one configuration and one role, hence both rules here.
resource "aws_s3_bucket_replication_configuration" "exports" {
  count  = local.dr || local.vault ? 1 : 0
  bucket = aws_s3_bucket.exports[0].id
  role   = local.vault ? aws_iam_role.vault_replication[0].arn : aws_iam_role.replication[0].arn

  dynamic "rule" {
    for_each = local.dr ? ["to-dr-region"] : []
    content {
      id     = rule.value
      status = "Enabled"
      # Two rules need priorities; the DR rule alone keeps none (as before the vault).
      priority = local.vault ? 1 : null
      filter {}
      delete_marker_replication {
        status = "Disabled"
      }
      destination {
        bucket        = aws_s3_bucket.dr[0].arn
        storage_class = "STANDARD"
      }
    }
  }

  dynamic "rule" {
    for_each = local.vault ? [var.vault] : []
    content {
      id       = "to-vault"
      status   = "Enabled"
      priority = 2
      # Only the objects of verified backups.
      filter {
        tag {
          key   = local.verified_tag_key
          value = "true"
        }
      }
      # Required with a filter, and Disabled with a tag filter: "Amazon S3 does not support replicating delete
      # markers for tag-based rules" (S3 API Reference, "ReplicationRule", DeleteMarkerReplication). Without
      # s3:ReplicateDelete, version deletions are not replicated either.
      delete_marker_replication {
        status = "Disabled"
      }
      # The documented pair of a replica key (S3 User Guide, "Replicating encrypted objects"): SSE-KMS source objects
      # are replicated and encrypted with the vault's key. Exports are SSE-S3, and replicas of SSE-S3 objects stay
      # SSE-S3 (same page, "How default bucket encryption affects replication").
      source_selection_criteria {
        sse_kms_encrypted_objects {
          status = "Enabled"
        }
      }
      destination {
        bucket        = "arn:${local.partition}:s3:::${rule.value.bucket}"
        account       = rule.value.account_id
        storage_class = "STANDARD"
        # Replicas belong to the vault account (S3 User Guide, "Changing the replica owner"; the vault bucket is
        # also BucketOwnerEnforced).
        access_control_translation {
          owner = "Destination"
        }
        encryption_configuration {
          replica_kms_key_id = rule.value.kms_key_arn
        }
        # S3 Replication Time Control: 15 minutes is the only value, and it needs metrics with the same threshold
        # (S3 User Guide, "Replication configuration file elements"; "Meeting compliance requirements with S3 RTC").
        replication_time {
          status = "Enabled"
          time {
            minutes = 15
          }
        }
        metrics {
          status = "Enabled"
          event_threshold {
            minutes = 15
          }
        }
      }
    }
  }

  depends_on = [aws_s3_bucket_versioning.exports, aws_s3_bucket_versioning.dr, aws_s3_bucket_object_lock_configuration.dr]
}

# The evidence policy (output evidence_policy; the evidence function's EVIDENCE_POLICY): what the evidence report
# holds each target to. Per schedule its expression, time zone, RPO and targets (the ids it names, lower-cased as
# ElastiCache stores them; a selector's targets are found at run time: targets [] and the selector), per drill its
# expression, time zone, target, RTO and whether it restores from the vault; and the buckets where backups live.
locals {
  evidence_policy = jsonencode({
    schedules = [for k, s in var.schedules : {
      name               = k
      scheduleExpression = s.schedule_expression
      timezone           = s.timezone
      rpoHours           = s.rpo_hours
      targets = s.selector != null ? [] : s.targets != null ? [for t in s.targets : lower(coalesce(t.replication_group_id, t.cache_cluster_id, t.serverless_cache_name))] : [
        lower(coalesce(s.replication_group_id, s.cache_cluster_id, s.serverless_cache_name))
      ]
      selector = s.selector
    }]
    drills = [for k, d in var.drills : {
      name               = k
      scheduleExpression = d.schedule_expression
      timezone           = d.timezone
      target             = lower(coalesce(d.replication_group_id, d.serverless_cache_name))
      rtoMinutes         = d.rto_minutes
      vault              = d.vault
    }]
    bucket      = local.bucket_name
    drBucket    = local.dr ? local.dr_bucket_name : null
    vaultBucket = try(var.vault.bucket, null)
  })
}
