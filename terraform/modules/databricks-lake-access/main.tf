data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  # Unity Catalog names take no hyphens: anthill-dev -> anthill_dev.
  prefix    = replace(var.name, "-", "_")
  role_name = "${var.name}-unity-catalog"
  # The ARN written as a string, not read from the role: the role's trust policy needs the storage
  # credential's external ID, so the credential is created first, naming a role that does not exist yet.
  role_arn = "arn:${local.partition}:iam::${local.account_id}:role/${local.role_name}"

  # One read-only external location per tenant namespace, over exactly the lake URI that namespace's
  # workloads write (s3://<lake>/<namespace>); the catalogs' managed storage is another bucket.
  lake_locations       = { for ns in var.tenant_namespaces : ns => "s3://${var.lake.bucket_name}/${ns}" }
  managed_storage_root = "s3://${var.managed_storage.bucket_name}"
}

# ---------------------------------------------------------------------------------------------------
# The storage credential and its IAM role (the provider's documented order: credential, then role)
# ---------------------------------------------------------------------------------------------------

resource "databricks_storage_credential" "this" {
  name           = "${local.prefix}_lake"
  metastore_id   = var.metastore_id
  isolation_mode = "ISOLATION_MODE_ISOLATED"
  comment        = "${var.name}: the lake (read) and the catalogs' managed storage, managed by Terraform"

  aws_iam_role {
    role_arn = local.role_arn
  }
}

# Trusts Unity Catalog's master role and, for Databricks' self-assume check, the account root on the
# condition that the caller is this very role: no principal names the role before it exists. Both
# statements require the external ID Databricks generated for this credential.
data "databricks_aws_unity_catalog_assume_role_policy" "this" {
  aws_account_id        = local.account_id
  aws_partition         = local.partition
  role_name             = local.role_name
  external_id           = databricks_storage_credential.this.aws_iam_role[0].external_id
  unity_catalog_iam_arn = var.unity_catalog_iam_arn
}

resource "aws_iam_role" "this" {
  name               = local.role_name
  description        = "Unity Catalog storage credential ${local.prefix}_lake: reads the lake, owns the catalogs' managed storage"
  assume_role_policy = data.databricks_aws_unity_catalog_assume_role_policy.this.json

  tags = var.tags
}

# Read, write and delete on the managed-storage bucket (with its key, the self-assume and file events):
# the provider's policy for a Unity Catalog storage bucket.
data "databricks_aws_unity_catalog_policy" "managed_storage" {
  aws_account_id = local.account_id
  aws_partition  = local.partition
  bucket_name    = var.managed_storage.bucket_name
  role_name      = local.role_name
  kms_name       = var.lake.kms_key_arn
}

# The lake itself is read-only to Unity Catalog: the cluster's ingest and Spark roles write it.
data "aws_iam_policy_document" "this" {
  source_policy_documents = [data.databricks_aws_unity_catalog_policy.managed_storage.json]

  statement {
    sid       = "ReadTenantLakes"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = [for ns in var.tenant_namespaces : "arn:${local.partition}:s3:::${var.lake.bucket_name}/${ns}/*"]
  }

  statement {
    sid       = "ListTenantLakes"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = ["arn:${local.partition}:s3:::${var.lake.bucket_name}"]
  }
}

resource "aws_iam_role_policy" "this" {
  name   = "unity-catalog-storage"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this.json
}

# IAM is eventually consistent: Databricks validates an external location by assuming the role at once,
# and a role a few seconds old fails that check. The provider's guides wait after the role.
resource "time_sleep" "wait_for_role" {
  create_duration = "30s"

  triggers = {
    role_arn = aws_iam_role.this.arn
    policy   = aws_iam_role_policy.this.policy
  }
}

# ---------------------------------------------------------------------------------------------------
# External locations: the tenants' lakes (files, read-only) and the managed storage (catalog roots)
# ---------------------------------------------------------------------------------------------------

resource "databricks_external_location" "lake" {
  for_each = local.lake_locations

  name            = "${local.prefix}_lake_${replace(each.key, "-", "_")}"
  url             = each.value
  credential_name = databricks_storage_credential.this.id
  read_only       = true
  isolation_mode  = "ISOLATION_MODE_ISOLATED"
  comment         = "Namespace ${each.key}'s lake (bronze, _state, _manifests; path-based silver and gold), read-only"

  depends_on = [time_sleep.wait_for_role]
}

resource "databricks_external_location" "managed_storage" {
  name            = "${local.prefix}_managed_storage"
  url             = local.managed_storage_root
  credential_name = databricks_storage_credential.this.id
  isolation_mode  = "ISOLATION_MODE_ISOLATED"
  comment         = "Managed storage of ${var.name}'s catalogs; no lake files here"

  depends_on = [time_sleep.wait_for_role]
}

# Isolated securables are usable only from the workspaces bound to them: this environment's.
resource "databricks_workspace_binding" "storage_credential" {
  securable_type = "storage_credential"
  securable_name = databricks_storage_credential.this.name
  workspace_id   = var.workspace_id
}

resource "databricks_workspace_binding" "external_location" {
  for_each = merge(
    { for ns, location in databricks_external_location.lake : "lake-${ns}" => location.name },
    { managed-storage = databricks_external_location.managed_storage.name },
  )

  securable_type = "external_location"
  securable_name = each.value
  workspace_id   = var.workspace_id
}

# ---------------------------------------------------------------------------------------------------
# What the innovation stack's principal may do with them. One `databricks_grant` per securable and
# principal: the innovation stack grants its own principals on the same securables without a fight.
# ---------------------------------------------------------------------------------------------------

resource "databricks_grant" "metastore" {
  metastore  = var.metastore_id
  principal  = var.innovation_principal
  privileges = ["CREATE_CATALOG", "CREATE_SHARE", "CREATE_RECIPIENT"]
}

resource "databricks_grant" "managed_storage" {
  external_location = databricks_external_location.managed_storage.id
  principal         = var.innovation_principal
  privileges        = ["CREATE_MANAGED_STORAGE"]
}

# MANAGE lets the innovation stack grant READ_FILES on the lake to its jobs and groups.
resource "databricks_grant" "lake" {
  for_each = databricks_external_location.lake

  external_location = each.value.id
  principal         = var.innovation_principal
  privileges        = ["READ_FILES", "CREATE_EXTERNAL_TABLE", "MANAGE"]
}
