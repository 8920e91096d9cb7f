# Three zones named by ID (the same physical zones in every account), so the set never grows by itself.
data "aws_availability_zones" "available" {
  state = "available"

  filter {
    name   = "zone-id"
    values = ["use1-az1", "use1-az2", "use1-az4"]
  }
}

locals {
  environment = "dev"
  name        = "anthill-${local.environment}"
  region      = "us-east-1"

  tags = {
    Project     = "anthill"
    Environment = local.environment
    Stack       = "platform"
    Owner       = "platform-team"
    ManagedBy   = "terraform"
  }
}

module "monitoring" {
  source = "../../../modules/monitoring"

  name           = local.name
  retention_days = 365
  alarm_emails   = var.alarm_emails

  tags = local.tags
}

module "networking" {
  source = "../../../modules/networking"

  name                    = local.name
  cidr                    = "10.10.0.0/16"
  azs                     = data.aws_availability_zones.available.names
  single_nat_gateway      = true
  databricks_subnets      = true
  cluster_name            = local.name
  kms_key_arn             = module.monitoring.kms_key_arn
  flow_log_retention_days = 365

  tags = local.tags
}

module "data_lake" {
  source = "../../../modules/data-lake"

  name                   = local.name
  layout                 = "buckets"
  force_destroy          = true
  key_administrator_arns = var.admin_role_arns
  unity_catalog = {
    role_name         = "${local.name}-unity-catalog"
    external_id       = var.databricks_account_id
    aws_principal_arn = var.databricks_unity_catalog_principal_arn
  }

  tags = local.tags
}

module "eks" {
  source = "../../../modules/eks"

  name                         = local.name
  kubernetes_version           = var.kubernetes_version
  vpc_id                       = module.networking.vpc_id
  subnet_ids                   = module.networking.private_subnet_ids
  endpoint_public_access_cidrs = var.eks_public_access_cidrs
  admin_role_arns              = var.admin_role_arns
  log_retention_days           = 365
  node_groups = {
    system = { instance_types = ["m6i.large"], min_size = 2, max_size = 4, desired_size = 2 }
  }
  lake = {
    kms_key_arn   = module.data_lake.kms_key_arn
    bronze_bucket = module.data_lake.layer_locations["bronze"].bucket
    bronze_prefix = module.data_lake.layer_locations["bronze"].prefix
  }

  tags = local.tags
}

module "databricks_workspace" {
  source = "../../../modules/databricks-workspace"
  providers = {
    databricks = databricks.account
  }

  name                  = local.name
  databricks_account_id = var.databricks_account_id
  vpc_id                = module.networking.vpc_id
  subnet_ids            = module.networking.databricks_subnet_ids
  access_log_bucket     = module.data_lake.access_log_bucket_name
  force_destroy         = true

  tags = local.tags
}

module "platform_bootstrap" {
  source = "../../../modules/platform-bootstrap"

  chart_path        = "${path.root}/../../../../charts/anthill"
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
