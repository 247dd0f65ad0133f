resource "aws_cloudwatch_log_group" "state_machine" {
  name              = "/aws/vendedlogs/states/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.logs_kms_key_arn
  # checkov:skip=CKV_AWS_158:Encrypted with the caller's KMS key when one is given (logs_kms_key_arn); logs hold run metadata only, so the default encryption is the default.
  tags = var.tags
}

resource "aws_sfn_state_machine" "this" {
  name     = local.state_machine
  type     = "STANDARD"
  role_arn = local.role_arns["state-machine"]

  # The raw file stays valid JSON (placeholders sit inside strings); decoding and re-encoding the render makes a
  # broken template fail at plan. Service integrations are rendered in this partition (locals.tf).
  definition = jsonencode(jsondecode(replace(templatefile("${path.module}/backup.asl.json", {
    for k in local.backup_functions : "${replace(k, "-", "_")}_arn" => module.primary.functions[k].arn
  }), local.asl_integration_prefix, local.states_integration_prefix)))

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.state_machine.arn}:*"
    include_execution_data = true
    level                  = "ERROR"
  }

  tracing_configuration {
    enabled = true
  }

  tags = var.tags
}

resource "aws_cloudwatch_log_group" "restore_machine" {
  name              = "/aws/vendedlogs/states/${local.restore_machine}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.logs_kms_key_arn
  # checkov:skip=CKV_AWS_158:Encrypted with the caller's KMS key when one is given (logs_kms_key_arn); logs hold run metadata only, so the default encryption is the default.
  tags = var.tags
}

# Restores and drills (terraform/restore.asl.json): resolve a verified backup, create a group from it, verify it.
resource "aws_sfn_state_machine" "restore" {
  name     = local.restore_machine
  type     = "STANDARD"
  role_arn = local.role_arns["restore-machine"]

  definition = jsonencode(jsondecode(replace(templatefile("${path.module}/restore.asl.json", {
    for k in local.restore_functions : "${replace(k, "-", "_")}_arn" => module.primary.functions[k].arn
  }), local.asl_integration_prefix, local.states_integration_prefix)))

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.restore_machine.arn}:*"
    include_execution_data = true
    level                  = "ERROR"
  }

  tracing_configuration {
    enabled = true
  }

  tags = var.tags
}

resource "aws_cloudwatch_log_group" "fleet_machine" {
  name              = "/aws/vendedlogs/states/${local.fleet_machine}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.logs_kms_key_arn
  # checkov:skip=CKV_AWS_158:Encrypted with the caller's KMS key when one is given (logs_kms_key_arn); logs hold run metadata only, so the default encryption is the default.
  tags = var.tags
}

# Fleets (terraform/fleet.asl.json): discover the targets of a tag selector (or take a list) and run one child
# execution of the backup state machine per target, at most maxConcurrency at once.
resource "aws_sfn_state_machine" "fleet" {
  name     = local.fleet_machine
  type     = "STANDARD"
  role_arn = local.role_arns["fleet-machine"]

  definition = jsonencode(jsondecode(replace(templatefile("${path.module}/fleet.asl.json", merge(
    { for k in local.fleet_functions : "${replace(k, "-", "_")}_arn" => module.primary.functions[k].arn },
    { backup_state_machine_arn = aws_sfn_state_machine.this.arn },
  )), local.asl_integration_prefix, local.states_integration_prefix)))

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.fleet_machine.arn}:*"
    include_execution_data = true
    level                  = "ERROR"
  }

  tracing_configuration {
    enabled = true
  }

  tags = var.tags
}
