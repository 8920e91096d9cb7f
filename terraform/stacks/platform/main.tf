# The platform stack of one environment: every environment root under environments/<env>/platform calls
# this module with its own values; the wiring between the modules lives here only.

# Zones named by ID (the same physical zones in every account), so the set never grows by itself.
data "aws_availability_zones" "available" {
  state = "available"

  filter {
    name   = "zone-id"
    values = var.availability_zone_ids
  }
}

data "aws_region" "current" {}

locals {
  name = "anthill-${var.environment}"
}

module "monitoring" {
  source = "../../modules/monitoring"

  name         = local.name
  alarm_emails = var.alarm_emails
  budget       = var.budget

  tags = var.tags
}

module "networking" {
  source = "../../modules/networking"

  name                    = local.name
  cidr                    = var.cidr
  azs                     = data.aws_availability_zones.available.names
  single_nat_gateway      = var.single_nat_gateway
  databricks_subnets      = true
  cluster_name            = local.name
  kms_key_arn             = module.monitoring.kms_key_arn
  flow_log_retention_days = var.log_retention_days

  tags = var.tags
}

module "data_lake" {
  source = "../../modules/data-lake"

  name                   = local.name
  tenant_namespaces      = var.tenant_namespaces
  force_destroy          = var.force_destroy
  key_administrator_arns = var.admin_role_arns

  tags = var.tags
}

module "eks" {
  source = "../../modules/eks"

  name                         = local.name
  kubernetes_version           = var.kubernetes_version
  vpc_id                       = module.networking.vpc_id
  subnet_ids                   = module.networking.private_subnet_ids
  endpoint_public_access_cidrs = var.eks_public_access_cidrs
  admin_role_arns              = var.admin_role_arns
  log_retention_days           = var.log_retention_days
  node_groups                  = var.node_groups
  tenant_namespaces            = var.tenant_namespaces
  lake = {
    bucket_name = module.data_lake.lake_bucket_name
    kms_key_arn = module.data_lake.kms_key_arn
  }

  tags = var.tags
}

# Container logs to CloudWatch (the CloudWatch Observability add-on's Fluent Bit), and alarms on the operator's
# log lines: failed runs, reconcile errors, and a silent operator.
module "container_logs" {
  source = "../../modules/container-logs"

  name              = local.name
  cluster_name      = module.eks.cluster_name
  oidc_provider_arn = module.eks.oidc_provider_arn
  kms_key_arn       = module.monitoring.kms_key_arn
  alarm_topic_arn   = module.monitoring.alarm_topic_arn
  retention_days    = var.log_retention_days

  tags = var.tags
}

module "databricks_workspace" {
  source = "../../modules/databricks-workspace"
  # With a providers map, every provider the module needs is named, not only the aliased one.
  providers = {
    aws        = aws
    databricks = databricks.account
    time       = time
  }

  name                     = local.name
  databricks_account_id    = var.databricks_account_id
  vpc_id                   = module.networking.vpc_id
  subnet_ids               = module.networking.databricks_subnet_ids
  access_log_bucket        = module.data_lake.access_log_bucket_name
  force_destroy            = var.force_destroy
  metastore_id             = var.databricks_metastore_id
  admin_service_principals = [var.innovation_service_principal]
  user_groups              = [var.engineers_group, var.analysts_group]
  budget = {
    monthly_usd  = var.databricks_monthly_budget_usd
    alert_emails = var.budget_alert_emails
  }

  tags = var.tags
}

# Unity Catalog's way into the lake, inside the workspace: the platform owns the credential and the
# locations; the innovation stack builds its catalogs on them.
module "databricks_lake_access" {
  source = "../../modules/databricks-lake-access"
  providers = {
    aws        = aws
    databricks = databricks.workspace
    time       = time
  }

  name                  = local.name
  metastore_id          = module.databricks_workspace.metastore_id
  workspace_id          = module.databricks_workspace.workspace_id
  tenant_namespaces     = var.tenant_namespaces
  unity_catalog_iam_arn = var.databricks_unity_catalog_principal_arn
  innovation_principal  = var.innovation_service_principal
  lake = {
    bucket_name = module.data_lake.lake_bucket_name
    kms_key_arn = module.data_lake.kms_key_arn
  }
  managed_storage = {
    bucket_name = module.data_lake.catalog_bucket_name
  }

  tags = var.tags
}

module "platform_bootstrap" {
  source = "../../modules/platform-bootstrap"
  providers = {
    helm = helm
  }

  environment       = var.environment
  gitops_chart_path = "${path.module}/../../../gitops/bootstrap"
  repository_url    = var.gitops_repository_url
  revision          = var.gitops_revision
  auto_sync         = var.gitops_auto_sync
  tenant_namespaces = var.tenant_namespaces
  argocd = {
    repository   = "https://argoproj.github.io/argo-helm"
    version      = var.argocd_chart_version
    values_files = ["${path.module}/../../../gitops/argocd/argocd-values.yaml"]
  }

  # Nodes and add-ons first: the releases wait for their pods to become ready.
  depends_on = [module.eks]
}
