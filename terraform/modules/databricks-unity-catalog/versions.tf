terraform {
  required_version = ">= 1.10.0"

  required_providers {
    # The workspace-level configuration (the environment's workspace URL), passed in by the stack.
    databricks = {
      source  = "databricks/databricks"
      version = ">= 1.85.0"
    }
  }
}
