terraform {
  # 1.11: the module's tests mock values at plan (override_during); cross-variable validations need 1.9.
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.32 added aws_lambda_function.logging_config; v6 works (no attribute it deprecates is used).
      version = ">= 5.32, < 7"
      # aws.dr: the DR region's provider (dr_region); pass the default provider when no DR region is used.
      configuration_aliases = [aws.dr]
    }
  }
}
