variable "environment" {
  description = "Environment name (`dev`, `staging`, `prod`); the catalog is `<catalog_prefix>_<environment>`."
  type        = string
}

variable "catalog_prefix" {
  description = "Prefix of the environment's catalog name."
  type        = string
  default     = "anthill"
}

variable "workspace_id" {
  description = "Numeric ID of the environment's workspace: the only one the catalog is bound to."
  type        = string
}

variable "managed_storage_root" {
  description = "`s3://` URI of the platform's managed storage (outside every external location for files); the catalog's storage root is `<managed_storage_root>/<catalog>`."
  type        = string
}

variable "lake_external_locations" {
  description = "The platform's read-only external locations over the tenants' lakes, by namespace: the jobs and engineers get READ_FILES on them."
  type        = map(string)
}

variable "human_write_access" {
  description = "Whether the engineers may write bronze and silver (and create external tables over the lake); false makes every human read-only, as in prod."
  type        = bool
}

variable "engineers_group" {
  description = "Account group of the data engineers: read every layer; write bronze and silver where `human_write_access` holds."
  type        = string
}

variable "analysts_group" {
  description = "Account group of the analysts and BI consumers: read gold, use the SQL warehouse."
  type        = string
}

variable "job_service_principals" {
  description = "Service principals the pipelines' Databricks jobs run as, by key; each may write silver and gold, read bronze and the lake's files."
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
  description = "Custom tags the cluster policy forces onto every cluster, and the SQL warehouse carries (cost allocation)."
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

variable "sql_warehouse" {
  description = "The serverless SQL warehouse of the BI consumers: size, most clusters, and idle minutes before it stops."
  type = object({
    cluster_size     = optional(string, "2X-Small")
    max_num_clusters = optional(number, 1)
    auto_stop_mins   = optional(number, 10)
  })
  default = {}

  validation {
    condition     = var.sql_warehouse.auto_stop_mins > 0
    error_message = "the warehouse stops when idle: auto_stop_mins must be positive."
  }
}

variable "share_recipient" {
  description = "Who receives a Delta Sharing share of the gold schema; null (the default) makes no share and no recipient. With `data_recipient_global_metastore_id` the recipient is a Databricks metastore, otherwise a token (open sharing) recipient."
  type = object({
    name                               = string
    data_recipient_global_metastore_id = optional(string)
  })
  default = null
}
