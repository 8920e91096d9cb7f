# What CI passes as TF_VAR_*: account-specific values stay out of the repository.
variable "aws_account_id" {
  description = "AWS account of this environment; the provider refuses any other."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.aws_account_id))
    error_message = "aws_account_id must be 12 digits."
  }
}

variable "databricks_account_id" {
  description = "Databricks account ID (a UUID)."
  type        = string
}

variable "databricks_metastore_id" {
  description = "Unity Catalog metastore of the region, assigned to the environment's workspace."
  type        = string
}

variable "innovation_service_principal" {
  description = "Application ID of the innovation stack's account service principal (its DATABRICKS_CLIENT_ID)."
  type        = string
}

variable "budget_alert_emails" {
  description = "Who is e-mailed when the environment's monthly Databricks budget is exceeded."
  type        = list(string)
}

variable "admin_role_arns" {
  description = "IAM roles of the platform team and the CI apply role: EKS cluster admins and lake key administrators."
  type        = list(string)
}
