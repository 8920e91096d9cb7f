# The innovation stack of one environment: Unity Catalog objects on top of what the platform stack made.
# Every environment root under environments/<env>/innovation calls this module with its own values and the
# platform stack's outputs, which the root reads from the platform state.

module "unity_catalog" {
  source = "../../modules/databricks-unity-catalog"
  providers = {
    databricks.account   = databricks.account
    databricks.workspace = databricks.workspace
  }

  environment      = var.environment
  metastore_id     = var.databricks_metastore_id
  workspace_id     = var.platform.databricks_workspace_id
  storage_role_arn = var.platform.unity_catalog_role_arn
  layer_uris       = var.platform.lake_layer_uris
  engineers_group  = var.engineers_group
  analysts_group   = var.analysts_group
  cluster_policy = {
    spark_version = var.spark_version
    node_types    = var.job_node_types
    max_workers   = var.job_max_workers
  }

  tags = var.tags
}
