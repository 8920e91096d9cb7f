output "unity_catalog_role_arn" {
  description = "ARN of the IAM role behind the storage credential."
  value       = try(aws_iam_role.this.arn, null)
}

output "storage_credential_name" {
  description = "Name of the storage credential for the lake and the managed storage."
  value       = try(databricks_storage_credential.this.name, null)
}

output "lake_external_locations" {
  description = "Read-only external location over each tenant namespace's lake, by namespace."
  value       = { for ns, location in databricks_external_location.lake : ns => location.name }
}

output "managed_storage_location" {
  description = "Name of the external location of the catalogs' managed storage."
  value       = try(databricks_external_location.managed_storage.name, null)
}

output "managed_storage_root" {
  description = "`s3://` URI of the managed storage: the `storage_root` of the environment's catalogs."
  value       = try(databricks_external_location.managed_storage.url, null)
}
