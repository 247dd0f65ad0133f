resource "aws_cloudwatch_log_group" "this" {
  for_each = var.functions

  name              = "/aws/lambda/${var.name}-${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.logs_kms_key_arn
  # checkov:skip=CKV_AWS_158:Encrypted with the caller's KMS key when one is given (logs_kms_key_arn, dr_logs_kms_key_arn); logs hold run metadata only, so the default encryption is the default.
  tags = var.tags
}

resource "aws_lambda_function" "this" {
  for_each = var.functions

  function_name    = "${var.name}-${each.key}"
  description      = each.value.description
  role             = local.role_arns[each.key]
  runtime          = "provided.al2023"
  architectures    = [var.architecture]
  handler          = "bootstrap"
  filename         = var.artifacts.s3_bucket == null ? var.artifacts.zips[each.key] : null
  s3_bucket        = var.artifacts.s3_bucket
  s3_key           = var.artifacts.s3_bucket == null ? null : var.artifacts.s3_keys[each.key]
  source_code_hash = var.artifacts.hashes[each.key]
  timeout          = each.value.timeout
  memory_size      = each.value.memory_size

  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.this[each.key].name
    application_log_level = "INFO"
    system_log_level      = "WARN"
  }

  dynamic "environment" {
    for_each = length(each.value.environment) > 0 ? [each.value.environment] : []
    content {
      variables = environment.value
    }
  }

  tracing_config {
    mode = "Active"
  }

  # VerifyRestore connects to the restored group inside its VPC.
  dynamic "vpc_config" {
    for_each = contains(keys(var.vpc_configs), each.key) ? [var.vpc_configs[each.key]] : []
    content {
      subnet_ids         = vpc_config.value.subnet_ids
      security_group_ids = vpc_config.value.security_group_ids
    }
  }

  # An alert that notify could not deliver after Lambda's asynchronous retries is kept, not dropped.
  dynamic "dead_letter_config" {
    for_each = contains(keys(var.dead_letter_target_arns), each.key) ? [var.dead_letter_target_arns[each.key]] : []
    content {
      target_arn = dead_letter_config.value
    }
  }

  # checkov:skip=CKV_AWS_116:The step functions are invoked synchronously by Step Functions, which retries and catches their errors; notify has a DLQ.
  # checkov:skip=CKV_AWS_117:The functions call only public AWS APIs and webhooks; a VPC adds NAT cost and no protection here. VerifyRestore takes the caller's VPC (verify_restore_vpc; in the DR region the caller's to attach).
  # checkov:skip=CKV_AWS_173:Environment holds ARNs and numbers, no secrets (those stay in Secrets Manager).
  # checkov:skip=CKV_AWS_272:Code signing needs a signing profile the user must create first; zips come from the user's own build.
  # checkov:skip=CKV_AWS_115:Concurrency stays account-managed; executions are few and a reservation would cap the account.
  tags = var.tags
}
