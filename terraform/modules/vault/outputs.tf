output "bucket_name" {
  description = "The vault bucket's name."
  value       = aws_s3_bucket.this.bucket
}

output "bucket_arn" {
  description = "The vault bucket's ARN."
  value       = local.bucket_arn
}

output "kms_key_arn" {
  description = "ARN of the vault's KMS key (default encryption of the bucket; the replica key of the source's rule)."
  value       = aws_kms_key.this.arn
}

output "vault" {
  description = "The value to pass as the source module's vault input: account_id, bucket, region, kms_key_arn."
  value = {
    account_id  = local.account_id
    bucket      = aws_s3_bucket.this.bucket
    region      = local.region
    kms_key_arn = aws_kms_key.this.arn
  }
}

output "restore_read_grant" {
  description = "The cross-account read grant the restore roles (reader_role_arns) got: what the bucket policy allows them (object_actions on bucket_arn/*, bucket_actions on bucket_arn), what the key policy allows them (kms_actions on kms_key_arn, through S3 only), and identity_policy_json, the policy each reader role needs in its own account as well (cross-account access needs both sides; the source module attaches it to its resolve-backup roles itself)."
  value = {
    reader_role_arns = var.reader_role_arns
    bucket_arn       = local.bucket_arn
    object_actions   = ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging"]
    bucket_actions   = ["s3:ListBucket"]
    kms_key_arn      = aws_kms_key.this.arn
    kms_actions      = ["kms:Decrypt"]
    identity_policy_json = jsonencode({
      Version = "2012-10-17"
      Statement = [
        { Sid = "ReadVaultObjects", Effect = "Allow", Action = ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging"], Resource = "${local.bucket_arn}/*" },
        { Sid = "ListVault", Effect = "Allow", Action = "s3:ListBucket", Resource = local.bucket_arn },
        { Sid = "DecryptVaultObjects", Effect = "Allow", Action = "kms:Decrypt", Resource = aws_kms_key.this.arn },
      ]
    })
  }
}
