output "log_group_names" {
  description = "Log group names, by key (where the cluster's log shipper sends each workload's logs)."
  value       = { for key, group in aws_cloudwatch_log_group.this : key => group.name }
}

output "alarm_topic_arn" {
  description = "ARN of the SNS topic the alarms notify."
  value       = try(aws_sns_topic.alarms.arn, null)
}

output "alarm_arns" {
  description = "ARNs of the failure alarms, by key."
  value       = { for key, alarm in aws_cloudwatch_metric_alarm.failures : key => alarm.arn }
}

output "metric_namespace" {
  description = "CloudWatch namespace of the failure metrics."
  value       = local.metric_namespace
}

output "kms_key_arn" {
  description = "ARN of the KMS key encrypting logs and alarms (pass it to other modules' log groups)."
  value       = try(aws_kms_key.this.arn, null)
}
