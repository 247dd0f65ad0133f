# The functions' roles and policies are modules/region's (module.primary in lambda.tf, module.dr in dr.tf).

# The state machine may only invoke the step functions.
data "aws_iam_policy_document" "states_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["states.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "state_machine" {
  count = local.create_role["state-machine"] ? 1 : 0

  name                 = "${var.name}-state-machine-${local.region}"
  assume_role_policy   = data.aws_iam_policy_document.states_assume.json
  path                 = var.role_path
  permissions_boundary = var.role_permissions_boundary
  tags                 = var.tags
}

# What every state machine role needs besides invoking its steps: logging and tracing.
data "aws_iam_policy_document" "states_common" {
  # Vended logs delivery for the state machine's CloudWatch logging (Step Functions Developer Guide, "Logging").
  statement {
    sid = "Logging"
    actions = [
      "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
      "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
    ]
    resources = ["*"] # These log-delivery actions do not support resource-level permissions.
  }

  statement {
    sid       = "Traces"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"]
    resources = ["*"]
  }
}

data "aws_iam_policy_document" "state_machine" {
  source_policy_documents = [data.aws_iam_policy_document.states_common.json]

  statement {
    sid       = "InvokeSteps"
    actions   = ["lambda:InvokeFunction"]
    resources = [for k in local.backup_functions : module.primary.functions[k].arn]
  }

}

resource "aws_iam_role_policy" "state_machine" {
  count = local.create_role["state-machine"] ? 1 : 0

  name   = "invoke-steps"
  role   = aws_iam_role.state_machine[0].id
  policy = data.aws_iam_policy_document.state_machine.json
}

# The restore state machine may only invoke the restore steps.
resource "aws_iam_role" "restore_machine" {
  count = local.create_role["restore-machine"] ? 1 : 0

  name                 = "${var.name}-restore-machine-${local.region}"
  assume_role_policy   = data.aws_iam_policy_document.states_assume.json
  path                 = var.role_path
  permissions_boundary = var.role_permissions_boundary
  tags                 = var.tags
}

data "aws_iam_policy_document" "restore_machine" {
  source_policy_documents = [data.aws_iam_policy_document.states_common.json]

  statement {
    sid       = "InvokeRestoreSteps"
    actions   = ["lambda:InvokeFunction"]
    resources = [for k in local.restore_functions : module.primary.functions[k].arn]
  }

}

resource "aws_iam_role_policy" "restore_machine" {
  count = local.create_role["restore-machine"] ? 1 : 0

  name   = "invoke-restore-steps"
  role   = aws_iam_role.restore_machine[0].id
  policy = data.aws_iam_policy_document.restore_machine.json
}

# The fleet state machine may invoke its one step and start (and follow) executions of the backup state machine.
# `.sync` follows a child through an EventBridge rule Step Functions manages (Step Functions Developer Guide, "IAM
# policies for AWS Step Functions" (stepfunctions-iam), Synchronous: StartExecution on the state machine,
# DescribeExecution and StopExecution on `execution:<stateMachineName>:*`, and PutTargets/PutRule/DescribeRule on that
# one rule). A fleet larger than an inline Map runs as a Distributed Map, whose child workflow executions are
# executions of the fleet state machine itself (Developer Guide, "IAM policies for using Distributed Map states"
# (iam-policies-eg-dist-map): StartExecution on `stateMachine:<stateMachineName>`, DescribeExecution (and, in the
# guide's earlier version, StopExecution) on `execution:<stateMachineName>:*`), reading its items from and writing
# its results to fleet-runs/ in the bucket ("ItemReader" and "ResultWriter" IAM policies). It may start no other state
# machine, and follow no other executions.
resource "aws_iam_role" "fleet_machine" {
  count = local.create_role["fleet-machine"] ? 1 : 0

  name                 = "${var.name}-fleet-machine-${local.region}"
  assume_role_policy   = data.aws_iam_policy_document.states_assume.json
  path                 = var.role_path
  permissions_boundary = var.role_permissions_boundary
  tags                 = var.tags
}

data "aws_iam_policy_document" "fleet_machine" {
  source_policy_documents = [data.aws_iam_policy_document.states_common.json]

  statement {
    sid       = "InvokeFleetSteps"
    actions   = ["lambda:InvokeFunction"]
    resources = [for k in local.fleet_functions : module.primary.functions[k].arn]
  }

  statement {
    sid       = "StartBackups"
    actions   = ["states:StartExecution"]
    resources = [local.state_machine_arn]
  }

  statement {
    sid       = "FollowBackups"
    actions   = ["states:DescribeExecution", "states:StopExecution"]
    resources = [local.executions_arn]
  }

  statement {
    sid       = "StartMapRunChildren"
    actions   = ["states:StartExecution"]
    resources = [aws_sfn_state_machine.fleet.arn]
  }

  statement {
    sid       = "FollowMapRunChildren"
    actions   = ["states:DescribeExecution", "states:StopExecution"]
    resources = [local.fleet_executions_arn]
  }

  statement {
    sid       = "ReadTargetsWriteResults"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:ListMultipartUploadParts", "s3:AbortMultipartUpload"]
    resources = ["${local.bucket_arn}/${local.fleet_runs_prefix}/*"]
  }

  statement {
    sid       = "SyncRule"
    actions   = ["events:PutTargets", "events:PutRule", "events:DescribeRule"]
    resources = ["arn:${local.partition}:events:${local.region}:${local.account_id}:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule"]
  }
}

resource "aws_iam_role_policy" "fleet_machine" {
  count = local.create_role["fleet-machine"] ? 1 : 0

  name   = "run-fleet"
  role   = aws_iam_role.fleet_machine[0].id
  policy = data.aws_iam_policy_document.fleet_machine.json
}
