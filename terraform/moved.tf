# Addresses the functions, their roles and log groups had before they became modules/region (issue 23): an existing
# deployment moves them in state instead of destroying and re-creating them. Each resource keeps its for_each key
# (the function's name); the DR region's module is counted (local.dr), so its instance is [0].

moved {
  from = aws_cloudwatch_log_group.function
  to   = module.primary.aws_cloudwatch_log_group.this
}

moved {
  from = aws_iam_role.function
  to   = module.primary.aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.function
  to   = module.primary.aws_iam_role_policy.this
}

moved {
  from = aws_lambda_function.this
  to   = module.primary.aws_lambda_function.this
}

moved {
  from = aws_cloudwatch_log_group.dr_function
  to   = module.dr[0].aws_cloudwatch_log_group.this
}

moved {
  from = aws_iam_role.dr_function
  to   = module.dr[0].aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.dr_function
  to   = module.dr[0].aws_iam_role_policy.this
}

moved {
  from = aws_lambda_function.dr
  to   = module.dr[0].aws_lambda_function.this
}
