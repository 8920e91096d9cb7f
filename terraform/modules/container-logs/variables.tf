variable "name" {
  description = "Name prefix of the role, metric filters and alarms (e.g. `anthill-dev`)."
  type        = string
}

variable "cluster_name" {
  description = "EKS cluster the CloudWatch Observability add-on is installed on; its log groups are `/aws/containerinsights/<cluster_name>/*`."
  type        = string
}

variable "oidc_provider_arn" {
  description = "ARN of the cluster's IAM OIDC provider, which the add-on's IRSA role trusts."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key encrypting the log groups (the monitoring module's `kms_key_arn`)."
  type        = string
}

variable "alarm_topic_arn" {
  description = "SNS topic the alarms notify (the monitoring module's `alarm_topic_arn`)."
  type        = string
}

variable "retention_days" {
  description = "Days the log groups keep their events."
  type        = number
  default     = 365
}

variable "addon_version" {
  description = "Version of the `amazon-cloudwatch-observability` add-on; null takes the default for the cluster's Kubernetes version."
  type        = string
  default     = null
}

variable "operator" {
  description = "Where the operator's container runs (the chart's release namespace and container name): the metric filters match only its lines."
  type = object({
    namespace = optional(string, "anthill-system")
    container = optional(string, "operator")
  })
  default = {}
}

variable "alarms" {
  description = "Thresholds: `operator_errors_threshold` ERROR lines within `operator_errors_period_seconds`; a failed run alarms within `run_failed_period_seconds`; no Heartbeat line for `heartbeat_evaluation_periods` periods of `heartbeat_period_seconds` (the operator writes one every 300 s)."
  type = object({
    run_failed_period_seconds      = optional(number, 300)
    operator_errors_threshold      = optional(number, 5)
    operator_errors_period_seconds = optional(number, 900)
    heartbeat_period_seconds       = optional(number, 900)
    heartbeat_evaluation_periods   = optional(number, 2)
  })
  default = {}
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
