terraform {
  # Cross-variable validations (retention_days against nothing else, reader_role_arns against source_account_id).
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.32: the floor of the main module; every resource here is older.
      version = ">= 5.32, < 7"
    }
  }
}
