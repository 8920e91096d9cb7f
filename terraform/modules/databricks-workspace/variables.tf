variable "name" {
  description = "Workspace name and name prefix of its AWS resources (e.g. `anthill-dev`)."
  type        = string
}

variable "databricks_account_id" {
  description = "Databricks account ID (a UUID); also the external ID the cross-account role requires."
  type        = string
}

variable "vpc_id" {
  description = "VPC the workspace's clusters run in (customer-managed VPC)."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets for the clusters, in at least two availability zones, used by no other workspace."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "Databricks needs subnets in at least two availability zones."
  }
}

variable "pricing_tier" {
  description = "Workspace pricing tier."
  type        = string
  default     = "ENTERPRISE"
}

variable "access_log_bucket" {
  description = "Bucket receiving the root bucket's S3 server access logs (the lake's log bucket)."
  type        = string
}

variable "force_destroy" {
  description = "Let `destroy` delete a non-empty root bucket (dev only)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every AWS resource and, as custom tags, to the workspace."
  type        = map(string)
  default     = {}
}

variable "metastore_id" {
  description = "Unity Catalog metastore of the region (created once per region by the account admins), assigned to the workspace."
  type        = string
}

variable "admin_service_principals" {
  description = "Application IDs of account service principals made workspace admins (the innovation stack's, which creates its principals, policies and warehouse there)."
  type        = list(string)
  default     = []
}

variable "user_groups" {
  description = "Display names of account groups given workspace access as users (data engineers, analysts)."
  type        = list(string)
  default     = []
}

variable "budget" {
  description = "Monthly budget of the workspace's Databricks usage, in list-price USD, and who is e-mailed when it is exceeded."
  type = object({
    monthly_usd  = number
    alert_emails = list(string)
  })

  validation {
    condition     = var.budget.monthly_usd > 0 && length(var.budget.alert_emails) > 0
    error_message = "budget needs a positive amount and at least one e-mail address."
  }
}
