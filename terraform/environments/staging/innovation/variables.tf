# What CI passes as TF_VAR_*: account-specific values stay out of the repository.
variable "databricks_account_id" {
  description = "Databricks account ID (a UUID)."
  type        = string
}

variable "databricks_metastore_id" {
  description = "Unity Catalog metastore of the region."
  type        = string
}
