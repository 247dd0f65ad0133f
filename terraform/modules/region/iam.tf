data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

locals {
  created_roles = { for k, f in var.functions : k => f if !contains(keys(var.existing_role_arns), k) }
  role_arns     = merge(var.existing_role_arns, { for k, r in aws_iam_role.this : k => r.arn })
}

# IAM is global: the roles are created through this module's provider (the region's), named for the region.
resource "aws_iam_role" "this" {
  for_each = local.created_roles

  name                 = "${var.name}-${each.key}-${var.region}"
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  path                 = var.role_path
  permissions_boundary = var.role_permissions_boundary
  tags                 = var.tags
}

# Exactly the calls each handler makes, plus writing its own logs and X-Ray traces. Built for every function, also
# those whose role the caller owns (who attaches it: the root module's role_policies_json).
data "aws_iam_policy_document" "this" {
  for_each = var.functions

  dynamic "statement" {
    for_each = each.value.statements
    content {
      sid       = statement.value.sid
      actions   = statement.value.actions
      resources = statement.value.resources

      dynamic "condition" {
        for_each = statement.value.conditions
        content {
          test     = condition.value.test
          variable = condition.value.variable
          values   = condition.value.values
        }
      }
    }
  }

  statement {
    sid       = "OwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this[each.key].arn}:*"]
  }

  statement {
    sid       = "Traces"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"] # X-Ray has no resource-level permissions.
  }
}

resource "aws_iam_role_policy" "this" {
  for_each = local.created_roles

  name   = "calls"
  role   = aws_iam_role.this[each.key].id
  policy = data.aws_iam_policy_document.this[each.key].json
}
