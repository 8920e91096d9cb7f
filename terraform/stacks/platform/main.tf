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
  layout                 = "buckets"
  force_destroy          = var.force_destroy
  key_administrator_arns = var.admin_role_arns
  unity_catalog = {
    role_name         = "${local.name}-unity-catalog"
    external_id       = var.databricks_account_id
    aws_principal_arn = var.databricks_unity_catalog_principal_arn
  }

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
  lake = {
    kms_key_arn   = module.data_lake.kms_key_arn
    bronze_bucket = module.data_lake.layer_locations["bronze"].bucket
    bronze_prefix = module.data_lake.layer_locations["bronze"].prefix
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
  }

  name                  = local.name
  databricks_account_id = var.databricks_account_id
  vpc_id                = module.networking.vpc_id
  subnet_ids            = module.networking.databricks_subnet_ids
  access_log_bucket     = module.data_lake.access_log_bucket_name
  force_destroy         = var.force_destroy

  tags = var.tags
}

module "platform_bootstrap" {
  source = "../../modules/platform-bootstrap"
  providers = {
    helm = helm
  }

  chart_path        = "${path.module}/../../../charts/anthill"
  operator_role_arn = module.eks.operator_role_arn
  image = {
    repository = var.operator_image.repository
    tag        = var.operator_image.tag
  }
  argocd = {
    repository = "https://argoproj.github.io/argo-helm"
    version    = var.argocd_chart_version
  }

  # Nodes and add-ons first: the releases wait for their pods to become ready.
  depends_on = [module.eks]
}
