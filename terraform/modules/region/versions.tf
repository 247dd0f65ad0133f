terraform {
  # optional() attribute defaults (functions[*].statements[*].conditions).
  required_version = ">= 1.3"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.32 added aws_lambda_function.logging_config.
      version = ">= 5.32, < 7"
    }
  }
}
