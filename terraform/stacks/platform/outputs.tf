# Each root re-exports these as one `platform` output object: `terraform output -json platform`, and the
# innovation stack reads them from state as `outputs.platform.<name>`.

output "aws_region" {
  description = "AWS region of the environment."
  value       = data.aws_region.current.region
}

output "vpc_id" {
  description = "VPC of the environment."
  value       = module.networking.vpc_id
}

output "nat_public_ips" {
  description = "Egress IPs of the environment (for allow-lists of the market-data API)."
  value       = module.networking.nat_public_ips
}

output "cluster_name" {
  description = "EKS cluster name (`aws eks update-kubeconfig --name ...`)."
  value       = module.eks.cluster_name
}

output "cluster_endpoint" {
  description = "EKS API endpoint."
  value       = module.eks.cluster_endpoint
}

output "cluster_certificate_authority_data" {
  description = "Base64 CA certificate of the EKS API (the root's Helm provider connects with it)."
  value       = module.eks.cluster_certificate_authority_data
}

output "tenant_namespaces" {
  description = "Kubernetes namespaces of the tenants: each has its lake under `<lake_uri>/<namespace>` and its own ingest and Spark roles."
  value       = var.tenant_namespaces
}

output "lake_uri" {
  description = "`s3://anthill-<environment>-lake`, no trailing slash: the platform's lake; a tenant namespace's lake URI (MarketFeed `spec.destination.uri`, MedallionPipeline `spec.lake.uri`) is `<lake_uri>/<namespace>`."
  value       = module.data_lake.lake_uri
}

output "lake_bucket_name" {
  description = "Name of the lake bucket (`anthill-<environment>-lake`)."
  value       = module.data_lake.lake_bucket_name
}

output "lake_kms_key_arn" {
  description = "KMS key of the lake and of the catalogs' managed storage."
  value       = module.data_lake.kms_key_arn
}

output "operator_role_arn" {
  description = "IAM role of the operator's ServiceAccount (`anthill-system/anthill-operator`): reads every tenant's `_state` and `_manifests`."
  value       = module.eks.operator_role_arn
}

output "ingest_role_arn" {
  description = "IAM role of the `anthill-ingest` ServiceAccount, by tenant namespace: writes that namespace's `bronze`, `_state`, `_manifests` and `_quarantine`."
  value       = module.eks.ingest_role_arn
}

output "spark_role_arn" {
  description = "IAM role of the `anthill-spark` ServiceAccount, by tenant namespace: reads that namespace's `bronze`, writes its `silver` and `gold`."
  value       = module.eks.spark_role_arn
}

output "databricks_workspace_id" {
  description = "Databricks workspace ID (read by the innovation stack)."
  value       = module.databricks_workspace.workspace_id
}

output "databricks_workspace_url" {
  description = "Databricks workspace URL (`https://...`): DatabricksConnection `spec.host`, the innovation stack's workspace provider host."
  value       = module.databricks_workspace.workspace_url
}

output "databricks_budget_id" {
  description = "ID of the workspace's monthly Databricks budget."
  value       = module.databricks_workspace.budget_id
}

output "unity_catalog_role_arn" {
  description = "IAM role behind the Unity Catalog storage credential."
  value       = module.databricks_lake_access.unity_catalog_role_arn
}

output "storage_credential_name" {
  description = "Unity Catalog storage credential of the lake and the managed storage."
  value       = module.databricks_lake_access.storage_credential_name
}

output "lake_external_locations" {
  description = "Read-only Unity Catalog external location over each tenant namespace's lake, by namespace (the innovation stack grants READ_FILES on them)."
  value       = module.databricks_lake_access.lake_external_locations
}

output "catalog_storage_root" {
  description = "`s3://` URI of the managed storage, apart from the lake: the `storage_root` of the innovation stack's catalog."
  value       = module.databricks_lake_access.managed_storage_root
}

output "log_group_names" {
  description = "Log groups the cluster's log shipper writes to, by kind (`application`: every container's lines, the operator's among them)."
  value       = module.container_logs.log_group_names
}

output "alarm_topic_arn" {
  description = "SNS topic of the alarms and the budget."
  value       = module.monitoring.alarm_topic_arn
}
