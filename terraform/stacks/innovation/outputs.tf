# Each root re-exports these as one `innovation` output object: `terraform output -json innovation`.

output "catalog_name" {
  description = "Unity Catalog catalog of the environment: MedallionPipeline `spec.catalog.name`."
  value       = module.unity_catalog.catalog_name
}

output "schema_names" {
  description = "Bronze, silver and gold schemas: `spec.catalog.silverSchema` and `goldSchema`."
  value       = module.unity_catalog.schema_names
}

output "job_service_principal_ids" {
  description = "Application IDs of the jobs' service principals (their OAuth secrets go in DatabricksConnection Secrets)."
  value       = module.unity_catalog.job_service_principal_ids
}

output "job_cluster_policy_id" {
  description = "Cluster policy for the pipelines' job clusters."
  value       = module.unity_catalog.job_cluster_policy_id
}

output "wheel_volume_path" {
  description = "Volume the release workflow deploys the anthill-spark wheel to: the chart's `databricks.wheelVolume`."
  value       = module.unity_catalog.wheel_volume_path
}

output "wheel_deployer_application_id" {
  description = "Application ID of the wheel deployer's service principal (the release workflow's DATABRICKS_CLIENT_ID)."
  value       = module.unity_catalog.wheel_deployer_application_id
}

output "sql_warehouse_id" {
  description = "SQL warehouse of the BI consumers (Power BI connects to `/sql/1.0/warehouses/<id>`)."
  value       = module.unity_catalog.sql_warehouse_id
}

output "share_name" {
  description = "Delta Sharing share of the gold schema; null when no recipient is named."
  value       = module.unity_catalog.share_name
}
