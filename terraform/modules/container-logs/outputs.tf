output "log_group_names" {
  description = "The add-on's log groups, by kind (`application`: every container's lines; `dataplane`, `host`, `performance`)."
  value       = { for kind, group in aws_cloudwatch_log_group.this : kind => group.name }
}

output "role_arn" {
  description = "ARN of the IRSA role of the add-on's agent and Fluent Bit."
  value       = try(aws_iam_role.this.arn, null)
}

output "addon_version" {
  description = "Version of the installed add-on."
  value       = try(aws_eks_addon.this.addon_version, null)
}

output "alarm_arns" {
  description = "ARNs of the alarms on the operator's log lines, by key (`run-failed`, `operator-errors`, `operator-silent`)."
  value       = { for key, alarm in aws_cloudwatch_metric_alarm.this : key => alarm.arn }
}

output "metric_namespace" {
  description = "CloudWatch namespace of the metrics the filters count."
  value       = local.metric_namespace
}
