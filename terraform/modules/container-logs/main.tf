data "aws_partition" "current" {}

locals {
  partition = data.aws_partition.current.partition
  # The provider's host path, as the IRSA trust conditions name it (the ARN without its `...:oidc-provider/`).
  oidc_provider    = replace(var.oidc_provider_arn, "/^(.*provider/)/", "")
  metric_namespace = "Anthill/${var.name}"

  # The add-on runs Fluent Bit and the CloudWatch agent as this ServiceAccount (fixed by the add-on).
  agent_namespace       = "amazon-cloudwatch"
  agent_service_account = "cloudwatch-agent"

  # The add-on's Fluent Bit writes every container's lines to `application` as JSON records: the line itself is
  # `log`, and a line that is a JSON object is merged, parsed, under `log_processed`; the pod it came from is
  # under `kubernetes` (`namespace_name`, `container_name`, `pod_name`). The filters below match the operator's
  # JSON lines there: `event` and `severity` are the fields anthill.runs names (tests/unit/terraform checks them
  # against what the operator writes).
  operator = "$.kubernetes.namespace_name = \"${var.operator.namespace}\" && $.kubernetes.container_name = \"${var.operator.container}\""

  alarms = {
    # One line per failed feed or pipeline run. Missing data is not breaching: no datapoint means no log line
    # matched, so no run failed; logs that stop arriving altogether are the heartbeat alarm's to report.
    run-failed = {
      pattern            = "{ ${local.operator} && $.log_processed.event = \"RunFailed\" }"
      description        = "A MarketFeed or MedallionPipeline run failed (the operator's RunFailed log line names it)."
      comparison         = "GreaterThanOrEqualToThreshold"
      threshold          = 1
      period             = var.alarms.run_failed_period_seconds
      evaluation_periods = 1
      treat_missing_data = "notBreaching"
    }
    # kopf logs a reconcile that failed (and will be retried) at ERROR. Missing data is not breaching, for the
    # same reason: silence is not an error, and the heartbeat alarm watches for it.
    operator-errors = {
      pattern            = "{ ${local.operator} && $.log_processed.severity = \"error\" }"
      description        = "The operator keeps failing to reconcile (its ERROR log lines: API refusals, outages)."
      comparison         = "GreaterThanOrEqualToThreshold"
      threshold          = var.alarms.operator_errors_threshold
      period             = var.alarms.operator_errors_period_seconds
      evaluation_periods = 1
      treat_missing_data = "notBreaching"
    }
    # The operator writes a Heartbeat line every ANTHILL_HEARTBEAT_INTERVAL (300 s). Missing data is breaching:
    # no datapoint means no operator line reached CloudWatch at all, because the operator is down or the log
    # shipper is; that is exactly what this alarm is for.
    operator-silent = {
      pattern            = "{ ${local.operator} && $.log_processed.event = \"Heartbeat\" }"
      description        = "No Heartbeat line from the operator: it is down, or its logs no longer reach CloudWatch."
      comparison         = "LessThanThreshold"
      threshold          = 1
      period             = var.alarms.heartbeat_period_seconds
      evaluation_periods = var.alarms.heartbeat_evaluation_periods
      treat_missing_data = "breaching"
    }
  }
}

# The add-on's log groups, made before it so that they are encrypted and expire: left to the add-on, Fluent Bit
# creates them itself, unencrypted and kept forever.
resource "aws_cloudwatch_log_group" "this" {
  for_each = toset(["application", "dataplane", "host", "performance"])

  name              = "/aws/containerinsights/${var.cluster_name}/${each.key}"
  retention_in_days = var.retention_days
  kms_key_id        = var.kms_key_arn

  tags = var.tags
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [var.oidc_provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.oidc_provider}:sub"
      values   = ["system:serviceaccount:${local.agent_namespace}:${local.agent_service_account}"]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.oidc_provider}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = "${var.name}-cloudwatch-agent"
  description        = "CloudWatch Observability add-on (IRSA): ships container logs to CloudWatch Logs"
  assume_role_policy = data.aws_iam_policy_document.assume.json

  tags = var.tags
}

# The policy the add-on's documentation names for its agent and Fluent Bit.
resource "aws_iam_role_policy_attachment" "this" {
  role       = aws_iam_role.this.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/CloudWatchAgentServerPolicy"
}

resource "aws_eks_addon" "this" {
  cluster_name                = var.cluster_name
  addon_name                  = "amazon-cloudwatch-observability"
  addon_version               = var.addon_version
  service_account_role_arn    = aws_iam_role.this.arn
  resolve_conflicts_on_create = "OVERWRITE"
  resolve_conflicts_on_update = "PRESERVE"
  configuration_values = jsonencode({
    containerLogs = { enabled = true }
  })

  tags = var.tags

  depends_on = [aws_cloudwatch_log_group.this, aws_iam_role_policy_attachment.this]
}

resource "aws_cloudwatch_log_metric_filter" "this" {
  for_each = local.alarms

  name           = "${var.name}-${each.key}"
  log_group_name = aws_cloudwatch_log_group.this["application"].name
  pattern        = each.value.pattern

  metric_transformation {
    name          = each.key
    namespace     = local.metric_namespace
    value         = "1"
    default_value = "0"
  }
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = local.alarms

  alarm_name          = "${var.name}-${each.key}"
  alarm_description   = each.value.description
  namespace           = local.metric_namespace
  metric_name         = aws_cloudwatch_log_metric_filter.this[each.key].metric_transformation[0].name
  statistic           = "Sum"
  period              = each.value.period
  evaluation_periods  = each.value.evaluation_periods
  threshold           = each.value.threshold
  comparison_operator = each.value.comparison
  treat_missing_data  = each.value.treat_missing_data
  alarm_actions       = [var.alarm_topic_arn]
  ok_actions          = [var.alarm_topic_arn]

  tags = var.tags
}
