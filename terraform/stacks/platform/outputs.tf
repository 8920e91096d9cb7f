# Each root re-exports these as one `platform` output object: `terraform output -json platform`, and the
# innovation stack reads them from state as `outputs.platform.<name>`.

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

output "operator_role_arn" {
  description = "Chart value `serviceAccount.annotations.\"eks.amazonaws.com/role-arn\"` of the operator."
  value       = module.eks.operator_role_arn
}

output "ingest_role_arn" {
  description = "IAM role for the ingest pods' ServiceAccount (the role-arn annotation of that ServiceAccount)."
  value       = module.eks.ingest_role_arn
}

output "lake_layer_uris" {
  description = "`s3://` URI per layer: MarketFeed `spec.destination.uri` (bronze) and MedallionPipeline `spec.lake.uri`."
  value       = module.data_lake.layer_uris
}

output "lake_kms_key_arn" {
  description = "KMS key of the lake."
  value       = module.data_lake.kms_key_arn
}

output "unity_catalog_role_arn" {
  description = "IAM role behind the Unity Catalog storage credential (read by the innovation stack)."
  value       = module.data_lake.unity_catalog_role_arn
}

output "databricks_workspace_id" {
  description = "Databricks workspace ID (read by the innovation stack)."
  value       = module.databricks_workspace.workspace_id
}

output "databricks_workspace_url" {
  description = "Databricks workspace URL: DatabricksConnection `spec.host` (read by the innovation stack)."
  value       = module.databricks_workspace.workspace_url
}

output "log_group_names" {
  description = "Log groups the cluster's log shipper writes to, by kind (`application`: every container's lines, the operator's among them)."
  value       = module.container_logs.log_group_names
}

output "alarm_topic_arn" {
  description = "SNS topic of the alarms and the budget."
  value       = module.monitoring.alarm_topic_arn
}
