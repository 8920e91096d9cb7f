variable "environment" {
  description = "Environment name (`dev`, `staging`, `prod`); the catalog is `anthill_<environment>`."
  type        = string

  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "environment is one of dev, staging, prod."
  }
}

variable "platform" {
  description = "The platform stack's outputs this stack builds on (the root passes the platform state's `platform` output)."
  type = object({
    databricks_workspace_id = string
    catalog_storage_root    = string
    lake_external_locations = map(string)
  })
}

variable "human_write_access" {
  description = "Whether the engineers may write bronze and silver. No default: prod says false (humans read only), dev and staging true."
  type        = bool
}

variable "engineers_group" {
  description = "Databricks account group of the data engineers."
  type        = string
  default     = "anthill-data-engineers"
}

variable "analysts_group" {
  description = "Databricks account group of the analysts."
  type        = string
  default     = "anthill-analysts"
}

variable "spark_version" {
  description = "Databricks runtime the job cluster policy pins (Spark 4.0, as the medallion jobs are built for)."
  type        = string
  default     = "17.3.x-scala2.13"
}

variable "job_node_types" {
  description = "Node types the job cluster policy allows."
  type        = list(string)
}

variable "job_max_workers" {
  description = "Most workers a job cluster may scale to under the policy."
  type        = number
}

variable "tags" {
  description = "Custom tags the cluster policy forces onto every job cluster (Databricks objects take no AWS tags)."
  type        = map(string)
  default     = {}
}

variable "sql_warehouse" {
  description = "Size, most clusters and auto-stop minutes of the BI consumers' serverless SQL warehouse (see modules/databricks-unity-catalog)."
  type = object({
    cluster_size     = optional(string, "2X-Small")
    max_num_clusters = optional(number, 1)
    auto_stop_mins   = optional(number, 10)
  })
  default = {}
}

variable "share_recipient" {
  description = "Recipient of a Delta Sharing share of the gold schema; null (the default) shares nothing."
  type = object({
    name                               = string
    data_recipient_global_metastore_id = optional(string)
  })
  default = null
}
