output "alarm_topic_arn" {
  description = "ARN of the SNS topic the alarms and the budget notify."
  value       = try(aws_sns_topic.alarms.arn, null)
}

output "kms_key_arn" {
  description = "ARN of the KMS key encrypting logs and alarms (pass it to other modules' log groups)."
  value       = try(aws_kms_key.this.arn, null)
}

output "budget_name" {
  description = "Name of the monthly cost budget, or null when there is none."
  value       = try(aws_budgets_budget.this[0].name, null)
}
