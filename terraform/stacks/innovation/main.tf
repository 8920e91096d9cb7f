# The innovation stack of one environment: Unity Catalog objects on top of what the platform stack made.
# The platform owns the workspace, its metastore assignment, the storage credential, the external
# locations and who may enter the workspace; this stack owns the catalog, its schemas and grants, the jobs'
# principals, the cluster policy, the wheel volume, the BI warehouse and the share. Every environment root
# under environments/<env>/innovation calls it with its own values and the platform stack's outputs,
# which the root reads from the platform state.

module "unity_catalog" {
  source = "../../modules/databricks-unity-catalog"
  providers = {
    databricks = databricks
  }

  environment             = var.environment
  workspace_id            = var.platform.databricks_workspace_id
  managed_storage_root    = var.platform.catalog_storage_root
  lake_external_locations = var.platform.lake_external_locations
  human_write_access      = var.human_write_access
  engineers_group         = var.engineers_group
  analysts_group          = var.analysts_group
  cluster_policy = {
    spark_version = var.spark_version
    node_types    = var.job_node_types
    max_workers   = var.job_max_workers
  }
  sql_warehouse   = var.sql_warehouse
  share_recipient = var.share_recipient

  tags = var.tags
}
