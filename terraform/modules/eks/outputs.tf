output "cluster_name" {
  description = "Name of the EKS cluster."
  value       = try(module.cluster.cluster_name, null)
}

output "cluster_arn" {
  description = "ARN of the EKS cluster."
  value       = try(module.cluster.cluster_arn, null)
}

output "cluster_endpoint" {
  description = "Endpoint of the Kubernetes API server (private unless public CIDRs were given)."
  value       = try(module.cluster.cluster_endpoint, null)
}

output "cluster_certificate_authority_data" {
  description = "Base64 CA certificate of the API server."
  value       = try(module.cluster.cluster_certificate_authority_data, null)
}

output "cluster_security_group_id" {
  description = "Security group of the control plane."
  value       = try(module.cluster.cluster_security_group_id, null)
}

output "node_security_group_id" {
  description = "Security group shared by the nodes."
  value       = try(module.cluster.node_security_group_id, null)
}

output "oidc_provider_arn" {
  description = "ARN of the cluster's IAM OIDC provider (for more IRSA roles)."
  value       = try(module.cluster.oidc_provider_arn, null)
}

output "cloudwatch_log_group_name" {
  description = "CloudWatch log group of the control-plane logs."
  value       = try(module.cluster.cloudwatch_log_group_name, null)
}

output "operator_role_arn" {
  description = "IAM role for the operator's ServiceAccount (`serviceAccount.annotations.\"eks.amazonaws.com/role-arn\"` in the chart)."
  value       = try(aws_iam_role.operator.arn, null)
}

output "ingest_role_arn" {
  description = "IAM role of the ingest ServiceAccount, by tenant namespace."
  value       = { for ns, role in aws_iam_role.ingest : ns => role.arn }
}

output "spark_role_arn" {
  description = "IAM role of the Spark ServiceAccount, by tenant namespace."
  value       = { for ns, role in aws_iam_role.spark : ns => role.arn }
}
