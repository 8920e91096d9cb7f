output "kms_key_arn" {
  description = "ARN of the KMS key encrypting the lake."
  value       = try(aws_kms_key.this.arn, null)
}

output "kms_key_id" {
  description = "ID of the KMS key encrypting the lake."
  value       = try(aws_kms_key.this.key_id, null)
}

output "bucket_names" {
  description = "Lake bucket names, by bucket key (a layer, or `lake` with the prefixes layout)."
  value       = { for key, bucket in aws_s3_bucket.this : key => bucket.id }
}

output "bucket_arns" {
  description = "Lake bucket ARNs, by bucket key."
  value       = { for key, bucket in aws_s3_bucket.this : key => bucket.arn }
}

output "layer_uris" {
  description = "`s3://` URI of each layer (what MarketFeed destinations and MedallionPipeline lakes point at)."
  value = {
    for layer, location in local.locations :
    layer => trimsuffix("s3://${try(aws_s3_bucket.this[location.bucket].id, "")}/${location.prefix}", "/")
  }
}

output "layer_locations" {
  description = "Bucket and key prefix of each layer, for IAM policies scoped to one layer."
  value = {
    for layer, location in local.locations :
    layer => { bucket = try(aws_s3_bucket.this[location.bucket].id, null), prefix = location.prefix }
  }
}

output "access_log_bucket_name" {
  description = "Bucket receiving the lake's S3 server access logs."
  value       = try(aws_s3_bucket.logs.id, null)
}

output "unity_catalog_role_arn" {
  description = "ARN of the IAM role Unity Catalog's storage credential uses; null when none was asked for."
  value       = try(aws_iam_role.unity_catalog[0].arn, null)
}
