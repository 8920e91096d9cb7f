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
    unity_catalog_role_arn  = string
    lake_layer_uris         = map(string)
  })
}

variable "databricks_metastore_id" {
  description = "Unity Catalog metastore of the region, assigned to the environment's workspace."
  type        = string
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
