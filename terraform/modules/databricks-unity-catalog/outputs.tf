output "catalog_name" {
  description = "Name of the environment's catalog (MedallionPipeline `spec.catalog.name`)."
  value       = try(databricks_catalog.this.name, null)
}

output "schema_names" {
  description = "Full names of the bronze, silver and gold schemas, by layer."
  value       = { for layer, schema in databricks_schema.layer : layer => schema.id }
}

output "job_service_principal_ids" {
  description = "Application IDs of the jobs' service principals, by key (what DatabricksConnection OAuth M2M credentials belong to)."
  value       = { for key, principal in databricks_service_principal.jobs : key => principal.application_id }
}

output "job_cluster_policy_id" {
  description = "ID of the cluster policy the pipelines' job clusters use."
  value       = try(databricks_cluster_policy.jobs.id, null)
}

output "wheel_volume_path" {
  description = "Path of the wheel volume, /Volumes/<catalog>/<schema>/<volume>: the chart's `databricks.wheelVolume` and `anthill databricks deploy --volume`."
  value       = try("/Volumes/${databricks_volume.wheels.catalog_name}/${databricks_volume.wheels.schema_name}/${databricks_volume.wheels.name}", null)
}

output "wheel_deployer_application_id" {
  description = "Application ID of the service principal that may write the wheel volume (the release workflow's DATABRICKS_CLIENT_ID)."
  value       = try(databricks_service_principal.wheel_deployer.application_id, null)
}

output "sql_warehouse_id" {
  description = "ID of the BI consumers' SQL warehouse (its JDBC/ODBC `httpPath` is `/sql/1.0/warehouses/<id>`)."
  value       = try(databricks_sql_endpoint.bi.id, null)
}

output "share_name" {
  description = "Name of the Delta Sharing share of the gold schema; null when no recipient is named."
  value       = try(databricks_share.gold[0].name, null)
}
