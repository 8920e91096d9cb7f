variable "name" {
  description = "Name prefix (e.g. `anthill-dev`): the IAM role is `<name>-unity-catalog`, the Unity Catalog objects `<name with _>_*`."
  type        = string
}

variable "metastore_id" {
  description = "Unity Catalog metastore assigned to the workspace (the databricks-workspace module's `metastore_id`, which orders this after the assignment)."
  type        = string
}

variable "workspace_id" {
  description = "Numeric ID of the environment's workspace: the only one the credential and the external locations are bound to."
  type        = string
}

variable "lake" {
  description = "The lake bucket the tenants' external locations cover (read-only) and the KMS key of both buckets."
  type = object({
    bucket_name = string
    kms_key_arn = string
  })
}

variable "managed_storage" {
  description = "The bucket the catalogs' managed storage lives in, apart from the lake so that no external location for files overlaps it."
  type = object({
    bucket_name = string
  })
}

variable "tenant_namespaces" {
  description = "Kubernetes namespaces of the tenants: one read-only external location over `s3://<lake>/<namespace>` each."
  type        = list(string)
}

variable "unity_catalog_iam_arn" {
  description = "Unity Catalog master role Databricks documents for the partition, which the role trusts; null takes the provider's default for the partition."
  type        = string
  default     = null
}

variable "innovation_principal" {
  description = "Application ID of the innovation stack's service principal: may create catalogs, shares and recipients, use the managed storage, and grant files access on the lake."
  type        = string
}

variable "tags" {
  description = "Tags added to every AWS resource."
  type        = map(string)
  default     = {}
}
