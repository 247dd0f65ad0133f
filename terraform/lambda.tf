# The code hash published beside each zip (`make publish-artifacts`), when the zips come from S3.
data "aws_s3_object" "artifact_hash" {
  for_each = local.artifacts_from_s3 ? local.artifact_key : {}

  bucket = var.artifacts_s3_bucket
  key    = "${each.value}.base64sha256"
}

# The functions of this region, their roles and log groups (modules/region, as in the DR region: dr.tf).
module "primary" {
  source = "./modules/region"

  name   = var.name
  region = local.region
  functions = { for k, f in local.functions : k => {
    description = f.description
    timeout     = coalesce(try(var.function_overrides[k].timeout, null), f.timeout)
    memory_size = coalesce(try(var.function_overrides[k].memory_size, null), f.memory)
    environment = f.env
    statements  = local.function_statements[k]
  } }
  existing_role_arns = { for k in keys(local.functions) : k => var.existing_role_arns[k] if !local.create_role[k] }
  architecture       = var.architecture
  artifacts = {
    s3_bucket = var.artifacts_s3_bucket
    s3_keys   = local.artifact_key
    zips      = local.artifact_zip
    hashes    = local.artifact_hash
  }
  log_retention_days        = var.log_retention_days
  logs_kms_key_arn          = var.logs_kms_key_arn
  role_path                 = var.role_path
  role_permissions_boundary = var.role_permissions_boundary
  # VerifyRestore connects to the restored group inside its VPC.
  vpc_configs = var.verify_restore_vpc != null ? { verify-restore = var.verify_restore_vpc } : {}
  # An alert that notify could not deliver after Lambda's asynchronous retries is kept, not dropped.
  dead_letter_target_arns = { notify = aws_sqs_queue.notify_dlq.arn }
  tags                    = var.tags
}

resource "aws_sqs_queue" "notify_dlq" {
  name                      = "${var.name}-notify-dlq"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
  tags                      = var.tags
}
