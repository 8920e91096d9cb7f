output "workspace_id" {
  description = "Numeric ID of the workspace (for the metastore assignment)."
  value       = try(databricks_mws_workspaces.this.workspace_id, null)
}

output "workspace_url" {
  description = "URL of the workspace (DatabricksConnection `spec.host`, the workspace-level provider's host)."
  value       = try(databricks_mws_workspaces.this.workspace_url, null)
}

output "cross_account_role_arn" {
  description = "ARN of the cross-account role Databricks launches clusters with."
  value       = try(aws_iam_role.cross_account.arn, null)
}

output "root_bucket_name" {
  description = "Name of the workspace root bucket."
  value       = try(aws_s3_bucket.root.id, null)
}

output "security_group_id" {
  description = "Security group of the workspace's clusters."
  value       = try(aws_security_group.workspace.id, null)
}

output "network_id" {
  description = "ID of the Databricks network configuration."
  value       = try(databricks_mws_networks.this.network_id, null)
}

output "metastore_id" {
  description = "Metastore assigned to the workspace, known once the assignment exists (workspace-level Unity Catalog objects wait on it)."
  value       = try(databricks_metastore_assignment.this.metastore_id, null)
}

output "budget_id" {
  description = "ID of the workspace's monthly Databricks budget."
  value       = try(databricks_budget.this.budget_configuration_id, null)
}
