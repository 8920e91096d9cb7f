output "kms_key_arn" {
  description = "ARN of the KMS key encrypting the lake and the catalog's managed storage."
  value       = try(aws_kms_key.this.arn, null)
}

output "kms_key_id" {
  description = "ID of the KMS key encrypting the lake and the catalog's managed storage."
  value       = try(aws_kms_key.this.key_id, null)
}

output "lake_bucket_name" {
  description = "Name of the lake bucket (`<name>-lake`)."
  value       = try(aws_s3_bucket.this["lake"].id, null)
}

output "lake_bucket_arn" {
  description = "ARN of the lake bucket."
  value       = try(aws_s3_bucket.this["lake"].arn, null)
}

output "lake_uri" {
  description = "`s3://` URI of the lake, no trailing slash; a tenant namespace's lake is `<lake_uri>/<namespace>`."
  value       = try("s3://${aws_s3_bucket.this["lake"].id}", null)
}

output "catalog_bucket_name" {
  description = "Name of the bucket holding Unity Catalog's managed storage (`<name>-catalog`), apart from the lake."
  value       = try(aws_s3_bucket.this["catalog"].id, null)
}

output "catalog_bucket_arn" {
  description = "ARN of the catalog's managed-storage bucket."
  value       = try(aws_s3_bucket.this["catalog"].arn, null)
}

output "access_log_bucket_name" {
  description = "Bucket receiving the S3 server access logs of both buckets."
  value       = try(aws_s3_bucket.logs.id, null)
}
