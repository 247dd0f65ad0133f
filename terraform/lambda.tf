# The code hash published beside each zip (`make publish-artifacts`), when the zips come from S3.
data "aws_s3_object" "artifact_hash" {
  for_each = local.artifacts_from_s3 ? local.artifact_key : {}

  bucket = var.artifacts_s3_bucket
  key    = "${each.value}.base64sha256"
}

resource "aws_cloudwatch_log_group" "function" {
  for_each = local.functions

  name              = "/aws/lambda/${var.name}-${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.logs_kms_key_arn
  # checkov:skip=CKV_AWS_158:Encrypted with the caller's KMS key when one is given (logs_kms_key_arn); logs hold run metadata only, so the default encryption is the default.
  tags = var.tags
}

resource "aws_lambda_function" "this" {
  for_each = local.functions

  function_name    = "${var.name}-${each.key}"
  description      = each.value.description
  role             = local.role_arns[each.key]
  runtime          = "provided.al2023"
  architectures    = [var.architecture]
  handler          = "bootstrap"
  filename         = local.artifacts_from_s3 ? null : local.artifact_zip[each.key]
  s3_bucket        = var.artifacts_s3_bucket
  s3_key           = local.artifacts_from_s3 ? local.artifact_key[each.key] : null
  source_code_hash = local.artifact_hash[each.key]
  timeout          = coalesce(try(var.function_overrides[each.key].timeout, null), each.value.timeout)
  memory_size      = coalesce(try(var.function_overrides[each.key].memory_size, null), each.value.memory)

  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.function[each.key].name
    application_log_level = "INFO"
    system_log_level      = "WARN"
  }

  dynamic "environment" {
    for_each = length(each.value.env) > 0 ? [each.value.env] : []
    content {
      variables = environment.value
    }
  }

  tracing_config {
    mode = "Active"
  }

  # VerifyRestore connects to the restored group inside its VPC.
  dynamic "vpc_config" {
    for_each = each.key == "verify-restore" && var.verify_restore_vpc != null ? [var.verify_restore_vpc] : []
    content {
      subnet_ids         = vpc_config.value.subnet_ids
      security_group_ids = vpc_config.value.security_group_ids
    }
  }

  # An alert that notify could not deliver after Lambda's asynchronous retries is kept, not dropped.
  dynamic "dead_letter_config" {
    for_each = each.key == "notify" ? [aws_sqs_queue.notify_dlq.arn] : []
    content {
      target_arn = dead_letter_config.value
    }
  }

  lifecycle {
    # Without this, the missing zip surfaces only at apply, in CreateFunction, after roles, bucket and secrets exist.
    precondition {
      condition     = local.artifacts_from_s3 || fileexists(local.artifact_zip[each.key])
      error_message = "${local.artifact_zip[each.key]} ${local.artifact_missing}."
    }
  }

  # checkov:skip=CKV_AWS_116:The step functions are invoked synchronously by Step Functions, which retries and catches their errors; notify has a DLQ.
  # checkov:skip=CKV_AWS_117:The functions call only public AWS APIs and webhooks; a VPC adds NAT cost and no protection here.
  # checkov:skip=CKV_AWS_173:Environment holds ARNs and numbers, no secrets (those stay in Secrets Manager).
  # checkov:skip=CKV_AWS_272:Code signing needs a signing profile the user must create first; zips come from the user's own build.
  # checkov:skip=CKV_AWS_115:Concurrency stays account-managed; executions are few and a reservation would cap the account.
  tags = var.tags
}

resource "aws_sqs_queue" "notify_dlq" {
  name                      = "${var.name}-notify-dlq"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
  tags                      = var.tags
}
