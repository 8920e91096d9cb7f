variable "name" {
  description = "Name prefix of the buckets and the key (e.g. `anthill-dev`: buckets `anthill-dev-lake` and `anthill-dev-catalog`); bucket names are global, so include the environment."
  type        = string
}

variable "tenant_namespaces" {
  description = "Kubernetes namespaces of the tenants; each owns the prefix `<namespace>/` of the lake (its lake URI is `s3://<lake>/<namespace>`)."
  type        = list(string)

  validation {
    condition     = length(var.tenant_namespaces) > 0 && alltrue([for ns in var.tenant_namespaces : can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", ns))])
    error_message = "tenant_namespaces holds at least one Kubernetes namespace name (a DNS label)."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days an overwritten or deleted object version is kept (re-runs rewrite bronze objects in place)."
  type        = number
  default     = 30
}

variable "transitions" {
  description = "Storage-class transitions per medallion layer, applied under `<namespace>/<layer>/` of every tenant: after `days`, objects move to `storage_class`. Layers not listed stay in STANDARD."
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

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
