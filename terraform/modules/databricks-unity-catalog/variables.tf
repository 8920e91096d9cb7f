variable "environment" {
  description = "Environment name (`dev`, `staging`, `prod`); the catalog is `<catalog_prefix>_<environment>`."
  type        = string
}

variable "catalog_prefix" {
  description = "Prefix of the environment's catalog name."
  type        = string
  default     = "anthill"
}

variable "metastore_id" {
  description = "Unity Catalog metastore of the region (created once per region by the account admins) to assign to the workspace."
  type        = string
}

variable "workspace_id" {
  description = "Numeric ID of the workspace the metastore is assigned to."
  type        = string
}

variable "storage_role_arn" {
  description = "IAM role Unity Catalog assumes to reach the lake (the platform stack's `unity_catalog_role_arn`)."
  type        = string
}

variable "layer_uris" {
  description = "`s3://` URI of each lake layer; each becomes an external location and the storage root of the schema of that name."
  type        = map(string)

  validation {
    condition     = alltrue([for layer in ["bronze", "silver", "gold"] : contains(keys(var.layer_uris), layer)])
    error_message = "layer_uris needs bronze, silver and gold."
  }
}

variable "engineers_group" {
  description = "Account group of the data engineers: write bronze and silver, read gold."
  type        = string
}

variable "analysts_group" {
  description = "Account group of the analysts: read gold."
  type        = string
}

variable "job_service_principals" {
  description = "Service principals the pipelines' Databricks jobs run as, by key; each may write silver and gold and read bronze files."
  type = map(object({
    display_name = string
  }))
  default = {
    medallion = { display_name = "anthill-medallion-jobs" }
  }
}

variable "cluster_policy" {
  description = "Limits of the job cluster policy: Spark runtime, node types, worker count and auto-termination."
  type = object({
    spark_version           = string
    node_types              = list(string)
    max_workers             = number
    autotermination_minutes = optional(number, 30)
  })
}

variable "tags" {
  description = "Custom tags the cluster policy forces onto every cluster (cost allocation)."
  type        = map(string)
  default     = {}
}

variable "wheel_volume" {
  description = "The managed volume the anthill-spark wheel is deployed to (schema and volume name in the catalog), and the display name of the service principal that deploys it."
  type = object({
    schema                = optional(string, "artifacts")
    name                  = optional(string, "wheels")
    deployer_display_name = optional(string, "anthill-wheel-deployer")
  })
  default = {}
}
