data "aws_region" "current" {}

# ---------------------------------------------------------------------------------------------------
# Cross-account role: Databricks' control plane launches clusters in this account with it.
# ---------------------------------------------------------------------------------------------------

data "databricks_aws_assume_role_policy" "this" {
  external_id = var.databricks_account_id
}

resource "aws_iam_role" "cross_account" {
  name               = "${var.name}-databricks-cross-account"
  description        = "Databricks control plane: launches and manages the workspace's clusters"
  assume_role_policy = data.databricks_aws_assume_role_policy.this.json

  tags = var.tags
}

# The policy Databricks documents for a customer-managed VPC (no VPC or subnet creation rights).
data "databricks_aws_crossaccount_policy" "this" {
  policy_type = "customer"
}

resource "aws_iam_role_policy" "cross_account" {
  name   = "databricks-customer-managed-vpc"
  role   = aws_iam_role.cross_account.id
  policy = data.databricks_aws_crossaccount_policy.this.json
}

# IAM is eventually consistent: Databricks validates the credentials by assuming the role at once and
# fails with "Failed credential validation" on a role seconds old. The provider's guide waits.
resource "time_sleep" "wait_for_cross_account_role" {
  create_duration = "30s"

  triggers = {
    role_arn = aws_iam_role.cross_account.arn
    policy   = aws_iam_role_policy.cross_account.policy
  }
}

resource "databricks_mws_credentials" "this" {
  credentials_name = "${var.name}-credentials"
  role_arn         = time_sleep.wait_for_cross_account_role.triggers["role_arn"]
}

# ---------------------------------------------------------------------------------------------------
# Root bucket (workspace system data; the lake lives elsewhere, behind Unity Catalog)
# ---------------------------------------------------------------------------------------------------

resource "aws_s3_bucket" "root" {
  #checkov:skip=CKV_AWS_144:workspace system data; Databricks recreates what it needs, nothing here is the lake
  #checkov:skip=CKV_AWS_145:SSE-KMS on the root bucket needs a Databricks customer-managed key configuration (an Enterprise add-on); SSE-S3 with TLS-only access is what Databricks supports by default
  #checkov:skip=CKV2_AWS_62:nothing consumes root-bucket events
  bucket        = "${var.name}-databricks-root"
  force_destroy = var.force_destroy

  tags = var.tags
}

resource "aws_s3_bucket_public_access_block" "root" {
  bucket                  = aws_s3_bucket.root.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "root" {
  bucket = aws_s3_bucket.root.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "root" {
  bucket = aws_s3_bucket.root.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_versioning" "root" {
  bucket = aws_s3_bucket.root.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_logging" "root" {
  bucket        = aws_s3_bucket.root.id
  target_bucket = var.access_log_bucket
  target_prefix = "${aws_s3_bucket.root.id}/"
}

resource "aws_s3_bucket_lifecycle_configuration" "root" {
  bucket = aws_s3_bucket.root.id

  rule {
    id     = "noncurrent-versions-and-stale-uploads"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = 30
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

data "databricks_aws_bucket_policy" "root" {
  bucket = aws_s3_bucket.root.id
}

data "aws_iam_policy_document" "root" {
  source_policy_documents = [data.databricks_aws_bucket_policy.root.json]

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.root.arn, "${aws_s3_bucket.root.arn}/*"]

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

resource "aws_s3_bucket_policy" "root" {
  bucket = aws_s3_bucket.root.id
  policy = data.aws_iam_policy_document.root.json

  depends_on = [aws_s3_bucket_public_access_block.root]
}

resource "databricks_mws_storage_configurations" "this" {
  account_id                 = var.databricks_account_id
  storage_configuration_name = "${var.name}-root"
  bucket_name                = aws_s3_bucket.root.id
}

# ---------------------------------------------------------------------------------------------------
# Network: the clusters' security group and the network configuration
# ---------------------------------------------------------------------------------------------------

resource "aws_security_group" "workspace" {
  #checkov:skip=CKV2_AWS_5:attached by Databricks to the cluster instances it launches through databricks_mws_networks, which checkov cannot see
  name        = "${var.name}-databricks"
  description = "Databricks clusters: all traffic between them, HTTPS and the documented ports out"
  vpc_id      = var.vpc_id

  tags = merge(var.tags, { Name = "${var.name}-databricks" })
}

resource "aws_vpc_security_group_ingress_rule" "workspace_self" {
  security_group_id            = aws_security_group.workspace.id
  description                  = "Cluster nodes talk to each other"
  referenced_security_group_id = aws_security_group.workspace.id
  ip_protocol                  = "-1"

  tags = var.tags
}

resource "aws_vpc_security_group_egress_rule" "workspace_self" {
  security_group_id            = aws_security_group.workspace.id
  description                  = "Cluster nodes talk to each other"
  referenced_security_group_id = aws_security_group.workspace.id
  ip_protocol                  = "-1"

  tags = var.tags
}

# Ports Databricks documents for the control plane (443, 8443-8451), the legacy metastore (3306)
# and secure cluster connectivity relays (6666, 2443).
resource "aws_vpc_security_group_egress_rule" "workspace_out" {
  for_each = {
    https       = [443, 443]
    metastore   = [3306, 3306]
    relay       = [6666, 6666]
    fips-relay  = [2443, 2443]
    control-api = [8443, 8451]
  }

  security_group_id = aws_security_group.workspace.id
  description       = "Databricks ${each.key}"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = each.value[0]
  to_port           = each.value[1]

  tags = var.tags
}

resource "databricks_mws_networks" "this" {
  account_id         = var.databricks_account_id
  network_name       = "${var.name}-network"
  vpc_id             = var.vpc_id
  subnet_ids         = var.subnet_ids
  security_group_ids = [aws_security_group.workspace.id]
}

# ---------------------------------------------------------------------------------------------------
# The workspace
# ---------------------------------------------------------------------------------------------------

resource "databricks_mws_workspaces" "this" {
  account_id     = var.databricks_account_id
  workspace_name = var.name
  aws_region     = data.aws_region.current.region
  pricing_tier   = var.pricing_tier

  credentials_id           = databricks_mws_credentials.this.credentials_id
  storage_configuration_id = databricks_mws_storage_configurations.this.storage_configuration_id
  network_id               = databricks_mws_networks.this.network_id

  custom_tags = var.tags

  # Databricks checks the root bucket's policy when it creates the workspace.
  depends_on = [aws_s3_bucket_policy.root]
}

# ---------------------------------------------------------------------------------------------------
# Unity Catalog and who may enter the workspace (account level)
# ---------------------------------------------------------------------------------------------------

resource "databricks_metastore_assignment" "this" {
  metastore_id = var.metastore_id
  workspace_id = databricks_mws_workspaces.this.workspace_id
}

data "databricks_service_principal" "admin" {
  for_each = toset(var.admin_service_principals)

  application_id = each.value
}

data "databricks_group" "user" {
  for_each = toset(var.user_groups)

  display_name = each.value
}

# Account principals reach a workspace only through an assignment, which needs identity federation,
# which comes with the metastore assignment.
resource "databricks_mws_permission_assignment" "admin" {
  for_each = data.databricks_service_principal.admin

  workspace_id = databricks_mws_workspaces.this.workspace_id
  principal_id = each.value.id
  permissions  = ["ADMIN"]

  depends_on = [databricks_metastore_assignment.this]
}

resource "databricks_mws_permission_assignment" "user" {
  for_each = data.databricks_group.user

  workspace_id = databricks_mws_workspaces.this.workspace_id
  principal_id = each.value.id
  permissions  = ["USER"]

  depends_on = [databricks_metastore_assignment.this]
}

# ---------------------------------------------------------------------------------------------------
# Spend: a monthly budget on this workspace's usage, e-mailed when crossed
# ---------------------------------------------------------------------------------------------------

resource "databricks_budget" "this" {
  display_name = "${var.name} monthly"

  alert_configurations {
    time_period        = "MONTH"
    trigger_type       = "CUMULATIVE_SPENDING_EXCEEDED"
    quantity_type      = "LIST_PRICE_DOLLARS_USD"
    quantity_threshold = tostring(var.budget.monthly_usd)

    dynamic "action_configurations" {
      for_each = toset(var.budget.alert_emails)

      content {
        action_type = "EMAIL_NOTIFICATION"
        target      = action_configurations.value
      }
    }
  }

  filter {
    workspace_id {
      operator = "IN"
      values   = [databricks_mws_workspaces.this.workspace_id]
    }
  }
}
