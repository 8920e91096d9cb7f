# The platform stack's outputs (workspace, lake, storage role): this stack only reads them.
data "terraform_remote_state" "platform" {
  backend = "s3"

  config = {
    bucket = "anthill-terraform-state-staging"
    key    = "platform/terraform.tfstate"
    region = "us-east-1"
  }
}

locals {
  environment = "staging"
  platform    = data.terraform_remote_state.platform.outputs

  # Databricks objects take no AWS tags; the cluster policy forces these onto every job cluster.
  tags = {
    Project     = "anthill"
    Environment = local.environment
    Stack       = "innovation"
    Owner       = "analytics-team"
    ManagedBy   = "terraform"
  }
}

module "unity_catalog" {
  source = "../../../modules/databricks-unity-catalog"
  providers = {
    databricks.account   = databricks.account
    databricks.workspace = databricks.workspace
  }

  environment      = local.environment
  metastore_id     = var.databricks_metastore_id
  workspace_id     = local.platform.databricks_workspace_id
  storage_role_arn = local.platform.unity_catalog_role_arn
  layer_uris       = local.platform.lake_layer_uris
  engineers_group  = var.engineers_group
  analysts_group   = var.analysts_group
  cluster_policy = {
    spark_version = var.spark_version
    node_types    = ["m6i.xlarge", "m6i.2xlarge"]
    max_workers   = 8
  }

  tags = local.tags
}
