data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.region
}

# One key for the platform's logs and alarms; CloudWatch Logs, and CloudWatch alarms and AWS Budgets (publishing
# to the encrypted topic) are let in by the key policy.
data "aws_iam_policy_document" "kms" {
  #checkov:skip=CKV_AWS_109:a key policy's Resource "*" is the key itself, and the account root must keep kms:* or the key becomes unmanageable
  #checkov:skip=CKV_AWS_111:a key policy's Resource "*" is the key itself; writes are limited to the listed principals
  #checkov:skip=CKV_AWS_356:a key policy cannot name its own key ARN; "*" is the documented form
  statement {
    sid       = "AccountRootAdministers"
    actions   = ["kms:*"]
    resources = ["*"] # a key policy's resource is always the key itself

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid       = "CloudWatchLogsEncrypt"
    actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }

    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*"]
    }
  }

  statement {
    sid       = "CloudWatchAlarmsPublish"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com", "budgets.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_kms_key" "this" {
  description             = "${var.name} logs and alarms"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms.json

  tags = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name}-monitoring"
  target_key_id = aws_kms_key.this.key_id
}

resource "aws_sns_topic" "alarms" {
  name              = "${var.name}-alarms"
  kms_master_key_id = aws_kms_key.this.arn

  tags = var.tags
}

# The topic's own policy: the account administers it; CloudWatch alarms and AWS Budgets of this account publish.
data "aws_iam_policy_document" "alarms" {
  statement {
    sid       = "AccountAdministers"
    actions   = ["SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission", "SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish"]
    resources = [aws_sns_topic.alarms.arn]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid       = "AlarmsAndBudgetsPublish"
    actions   = ["SNS:Publish"]
    resources = [aws_sns_topic.alarms.arn]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com", "budgets.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_sns_topic_policy" "alarms" {
  arn    = aws_sns_topic.alarms.arn
  policy = data.aws_iam_policy_document.alarms.json
}

resource "aws_sns_topic_subscription" "email" {
  for_each = toset(var.alarm_emails)

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = each.value
}

# A monthly cost budget for the environment: AWS Budgets notifies the alarm topic (and `budget.emails`) when the
# actual or forecast spend crosses each threshold.
resource "aws_budgets_budget" "this" {
  count = var.budget == null ? 0 : 1

  name         = "${var.name}-monthly"
  budget_type  = "COST"
  limit_amount = format("%.2f", var.budget.amount)
  limit_unit   = "USD"
  time_unit    = "MONTHLY"

  dynamic "cost_filter" {
    for_each = length(var.budget.cost_filter_tags) > 0 ? [var.budget.cost_filter_tags] : []
    content {
      name   = "TagKeyValue"
      values = [for key, value in cost_filter.value : format("user:%s$%s", key, value)]
    }
  }

  dynamic "notification" {
    for_each = [for pair in setproduct(["ACTUAL", "FORECASTED"], var.budget.thresholds_percent) : { type = pair[0], threshold = pair[1] }]
    content {
      comparison_operator        = "GREATER_THAN"
      threshold                  = notification.value.threshold
      threshold_type             = "PERCENTAGE"
      notification_type          = notification.value.type
      subscriber_sns_topic_arns  = [aws_sns_topic.alarms.arn]
      subscriber_email_addresses = var.budget.emails
    }
  }

  tags = var.tags

  depends_on = [aws_sns_topic_policy.alarms]
}
