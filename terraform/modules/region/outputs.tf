output "functions" {
  description = "The functions (aws_lambda_function), keyed by function."
  value       = aws_lambda_function.this
}

output "log_groups" {
  description = "The functions' log groups (aws_cloudwatch_log_group), keyed by function."
  value       = aws_cloudwatch_log_group.this
}

output "role_arns" {
  description = "Each function's role ARN (created, or given in existing_role_arns), keyed by function."
  value       = local.role_arns
}

output "roles" {
  description = "The roles the module created (aws_iam_role), keyed by function."
  value       = aws_iam_role.this
}

output "role_policies" {
  description = "The inline policies of the roles the module created (aws_iam_role_policy), keyed by function."
  value       = aws_iam_role_policy.this
}

output "policies" {
  description = "Each function's policy document (aws_iam_policy_document: json, statement), keyed by function, also for the roles the caller owns."
  value       = data.aws_iam_policy_document.this
}
