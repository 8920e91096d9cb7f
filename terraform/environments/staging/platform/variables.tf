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

variable "admin_role_arns" {
  description = "IAM roles of the platform team and the CI apply role: EKS cluster admins and lake key administrators."
  type        = list(string)
}
