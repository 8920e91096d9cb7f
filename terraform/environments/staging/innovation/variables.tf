variable "databricks_account_id" {
  description = "Databricks account ID (a UUID); CI passes it as TF_VAR_databricks_account_id."
  type        = string
}

variable "databricks_metastore_id" {
  description = "Unity Catalog metastore of the region; CI passes it as TF_VAR_databricks_metastore_id."
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
