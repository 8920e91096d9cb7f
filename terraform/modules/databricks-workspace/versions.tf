terraform {
  required_version = ">= 1.10.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.28"
    }
    # The account-level provider (host: the accounts console, `account_id` set).
    databricks = {
      source  = "databricks/databricks"
      version = ">= 1.85.0"
    }
    time = {
      source  = "hashicorp/time"
      version = ">= 0.13.0"
    }
  }
}
