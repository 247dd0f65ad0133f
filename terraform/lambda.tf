resource "aws_cloudwatch_log_group" "function" {
  for_each = local.functions

  name              = "/aws/lambda/${var.name}-${each.key}"
  retention_in_days = var.log_retention_days
  # checkov:skip=CKV_AWS_158:Logs hold run metadata only (ids, statuses); the default service-side encryption is enough.
  tags = var.tags
}

resource "aws_lambda_function" "this" {
  for_each = local.functions

  function_name    = "${var.name}-${each.key}"
  description      = each.value.description
  role             = aws_iam_role.function[each.key].arn
  runtime          = "provided.al2023"
  architectures    = [var.architecture]
  handler          = "bootstrap"
  filename         = "${local.artifacts_dir}/${each.key}/bootstrap.zip"
  source_code_hash = try(filebase64sha256("${local.artifacts_dir}/${each.key}/bootstrap.zip"), null)
  timeout          = each.value.timeout
  memory_size      = each.value.memory

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
