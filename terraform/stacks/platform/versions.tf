terraform {
  required_version = ">= 1.10.0"

  # Minimums, as in every module: the environment roots pin exactly.
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.28"
    }
    # Two configurations, passed in by the root: `databricks.account` (accounts console, `account_id`
    # set) makes the workspace; `databricks.workspace` (its URL) the Unity Catalog storage inside it.
    databricks = {
      source                = "databricks/databricks"
      version               = ">= 1.85.0"
      configuration_aliases = [databricks.account, databricks.workspace]
    }
    time = {
      source  = "hashicorp/time"
      version = ">= 0.13.0"
    }
    helm = {
      source  = "hashicorp/helm"
      version = ">= 3.0.0"
    }
  }
}
