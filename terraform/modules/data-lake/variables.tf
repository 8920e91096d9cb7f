variable "name" {
  description = "Name prefix of the buckets and the key (e.g. `anthill-dev`); bucket names are global, so include the environment."
  type        = string
}

variable "layers" {
  description = "Medallion layers of the lake."
  type        = list(string)
  default     = ["bronze", "silver", "gold"]
}

variable "layout" {
  description = "`buckets`: one bucket per layer (IAM can scope each); `prefixes`: one bucket with a prefix per layer."
  type        = string
  default     = "buckets"

  validation {
    condition     = contains(["buckets", "prefixes"], var.layout)
    error_message = "layout must be `buckets` or `prefixes`."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days an overwritten or deleted object version is kept (re-runs rewrite bronze objects in place)."
  type        = number
  default     = 30
}

variable "transitions" {
  description = "Storage-class transitions per layer: after `days`, objects move to `storage_class`. Layers not listed stay in STANDARD."
  type = map(list(object({
    days          = number
    storage_class = string
  })))
  default = {
    bronze = [{ days = 90, storage_class = "STANDARD_IA" }, { days = 365, storage_class = "GLACIER_IR" }]
  }
}

variable "access_log_retention_days" {
  description = "Days the S3 server access logs are kept."
  type        = number
  default     = 365
}

variable "force_destroy" {
  description = "Let `destroy` delete non-empty buckets (dev only; never prod)."
  type        = bool
  default     = false
}

variable "key_administrator_arns" {
  description = "IAM principals that administer the KMS key (besides the account root, which always can)."
  type        = list(string)
  default     = []
}

variable "unity_catalog" {
  description = "IAM role Databricks Unity Catalog assumes to reach the lake; null creates none. `external_id` is the Databricks account ID; `aws_principal_arn` the Unity Catalog master role Databricks documents for your deployment."
  type = object({
    role_name         = string
    external_id       = string
    aws_principal_arn = string
  })
  default = null
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
