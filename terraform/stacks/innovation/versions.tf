terraform {
  required_version = ">= 1.10.0"

  # Minimums, as in every module: the environment roots pin exactly.
  required_providers {
    # The workspace-level configuration (the environment's workspace URL), passed in by the root.
    databricks = {
      source  = "databricks/databricks"
      version = ">= 1.85.0"
    }
  }
}
