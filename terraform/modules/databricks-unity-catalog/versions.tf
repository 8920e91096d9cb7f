terraform {
  required_version = ">= 1.10.0"

  required_providers {
    # Two configurations: `databricks.account` (accounts console) assigns the metastore;
    # `databricks.workspace` (the workspace URL) owns everything inside the workspace.
    databricks = {
      source                = "databricks/databricks"
      version               = ">= 1.85.0"
      configuration_aliases = [databricks.account, databricks.workspace]
    }
  }
}
