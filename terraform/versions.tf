terraform {
  required_version = ">= 1.7"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
      # aws.dr: the DR region's provider (dr_region); pass the default provider when no DR region is used.
      configuration_aliases = [aws.dr]
    }
  }
}
