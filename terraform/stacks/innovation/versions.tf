terraform {
  required_version = ">= 1.10.0"

  # Minimums, as in every module: the environment roots pin exactly.
  required_providers {
    # Two configurations, passed in by the root: `databricks.account` (accounts console) and
    # `databricks.workspace` (the environment's workspace URL).
    databricks = {
      source                = "databricks/databricks"
      version               = ">= 1.85.0"
      configuration_aliases = [databricks.account, databricks.workspace]
    }
  }
}
