data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  # Bucket key -> layers stored there: one bucket per layer, or one `lake` bucket for all.
  buckets = var.layout == "buckets" ? { for layer in var.layers : layer => [layer] } : { lake = var.layers }
  # Where each layer lives, as bucket plus key prefix ("" when the layer owns the bucket).
  locations = {
    for layer in var.layers : layer => {
      bucket = var.layout == "buckets" ? layer : "lake"
      prefix = var.layout == "buckets" ? "" : "${layer}/"
    }
  }
}

# ---------------------------------------------------------------------------------------------------
# Encryption key
# ---------------------------------------------------------------------------------------------------

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

  dynamic "statement" {
    for_each = length(var.key_administrator_arns) > 0 ? [1] : []

    content {
      sid = "KeyAdministrators"
      actions = [
        "kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*",
        "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource", "kms:UntagResource",
        "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion",
      ]
      resources = ["*"]

      principals {
        type        = "AWS"
        identifiers = var.key_administrator_arns
      }
    }
  }
}

resource "aws_kms_key" "this" {
  description             = "${var.name} data lake"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms.json

  tags = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name}-lake"
  target_key_id = aws_kms_key.this.key_id
}

# ---------------------------------------------------------------------------------------------------
# Access logs: S3 server access logging only delivers to SSE-S3 buckets, so this one cannot use the key.
# ---------------------------------------------------------------------------------------------------

resource "aws_s3_bucket" "logs" {
  #checkov:skip=CKV_AWS_18:this is the access-log target; logging it into itself would loop
  #checkov:skip=CKV_AWS_144:access logs are not replicated; the data they describe is versioned
  #checkov:skip=CKV_AWS_145:S3 server access logging delivers only to SSE-S3 buckets, not SSE-KMS
  #checkov:skip=CKV2_AWS_62:nothing consumes access-log events
  bucket        = "${var.name}-lake-access-logs"
  force_destroy = var.force_destroy

  tags = var.tags
}

resource "aws_s3_bucket_public_access_block" "logs" {
  bucket                  = aws_s3_bucket.logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "logs" {
  bucket = aws_s3_bucket.logs.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_versioning" "logs" {
  bucket = aws_s3_bucket.logs.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id

  rule {
    id     = "expire-access-logs"
    status = "Enabled"

    filter {}

    expiration {
      days = var.access_log_retention_days
    }

    noncurrent_version_expiration {
      noncurrent_days = 1
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

data "aws_iam_policy_document" "logs" {
  statement {
    sid       = "S3ServerAccessLogsFromTheLake"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.logs.arn}/*"]

    principals {
      type        = "Service"
      identifiers = ["logging.s3.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.logs.arn, "${aws_s3_bucket.logs.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "logs" {
  bucket = aws_s3_bucket.logs.id
  policy = data.aws_iam_policy_document.logs.json

  depends_on = [aws_s3_bucket_public_access_block.logs]
}

# ---------------------------------------------------------------------------------------------------
# Lake buckets
# ---------------------------------------------------------------------------------------------------

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_144:bronze is re-ingestible from the market-data API and silver/gold rebuild from it; versioning covers mistakes, cross-region copies are not worth their cost
  #checkov:skip=CKV2_AWS_62:the pipelines run on schedules; nothing listens to object events
  for_each = local.buckets

  bucket        = "${var.name}-${each.key}"
  force_destroy = var.force_destroy

  tags = merge(var.tags, { "anthill.io/layers" = join("-", each.value) })
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each = aws_s3_bucket.this

  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.this.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_versioning" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_logging" "this" {
  for_each = aws_s3_bucket.this

  bucket        = each.value.id
  target_bucket = aws_s3_bucket.logs.id
  target_prefix = "${each.value.id}/"
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id

  rule {
    id     = "noncurrent-versions-and-stale-uploads"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  dynamic "rule" {
    for_each = { for layer in local.buckets[each.key] : layer => lookup(var.transitions, layer, []) if length(lookup(var.transitions, layer, [])) > 0 }

    content {
      id     = "${rule.key}-transitions"
      status = "Enabled"

      filter {
        prefix = local.locations[rule.key].prefix
      }

      dynamic "transition" {
        for_each = rule.value

        content {
          days          = transition.value.days
          storage_class = transition.value.storage_class
        }
      }
    }
  }
}

data "aws_iam_policy_document" "tls_only" {
  for_each = aws_s3_bucket.this

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [each.value.arn, "${each.value.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  statement {
    sid       = "DenyOldTls"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [each.value.arn, "${each.value.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "NumericLessThan"
      variable = "s3:TlsVersion"
      values   = ["1.2"]
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id
  policy = data.aws_iam_policy_document.tls_only[each.key].json

  depends_on = [aws_s3_bucket_public_access_block.this]
}

# ---------------------------------------------------------------------------------------------------
# Unity Catalog's way into the lake
# ---------------------------------------------------------------------------------------------------

locals {
  unity_catalog_role_arn = var.unity_catalog == null ? null : "arn:${local.partition}:iam::${local.account_id}:role/${var.unity_catalog.role_name}"
}

data "aws_iam_policy_document" "unity_catalog_assume" {
  count = var.unity_catalog == null ? 0 : 1

  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type = "AWS"
      # Databricks requires the role to trust itself as well as its Unity Catalog master role.
      identifiers = [var.unity_catalog.aws_principal_arn, local.unity_catalog_role_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "sts:ExternalId"
      values   = [var.unity_catalog.external_id]
    }
  }
}

resource "aws_iam_role" "unity_catalog" {
  count = var.unity_catalog == null ? 0 : 1

  name               = var.unity_catalog.role_name
  assume_role_policy = data.aws_iam_policy_document.unity_catalog_assume[0].json

  tags = var.tags
}

data "aws_iam_policy_document" "unity_catalog" {
  count = var.unity_catalog == null ? 0 : 1

  statement {
    sid       = "LakeObjects"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = [for bucket in aws_s3_bucket.this : "${bucket.arn}/*"]
  }

  statement {
    sid       = "LakeBuckets"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"]
    resources = [for bucket in aws_s3_bucket.this : bucket.arn]
  }

  statement {
    sid       = "LakeKey"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*"]
    resources = [aws_kms_key.this.arn]
  }

  statement {
    sid       = "AssumeSelf"
    actions   = ["sts:AssumeRole"]
    resources = [local.unity_catalog_role_arn]
  }
}

resource "aws_iam_role_policy" "unity_catalog" {
  count = var.unity_catalog == null ? 0 : 1

  name   = "lake-access"
  role   = aws_iam_role.unity_catalog[0].id
  policy = data.aws_iam_policy_document.unity_catalog[0].json
}
