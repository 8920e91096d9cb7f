terraform {
  required_version = ">= 1.10.0"

  # Minimums, as in every module: the environment roots pin exactly.
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.28"
    }
    # The account-level configuration (accounts console, `account_id` set), passed in by the root.
    databricks = {
      source                = "databricks/databricks"
      version               = ">= 1.85.0"
      configuration_aliases = [databricks.account]
    }
    helm = {
      source  = "hashicorp/helm"
      version = ">= 3.0.0"
    }
  }
}
