# dev's innovation stack: terraform/stacks/innovation with dev's values, on top of dev's platform
# stack, whose outputs this root only reads.
data "terraform_remote_state" "platform" {
  backend = "s3"

  config = {
    bucket = "anthill-terraform-state-dev"
    key    = "platform/terraform.tfstate"
    region = "us-east-1"
  }
}

locals {
  environment = "dev"

  # Databricks objects take no AWS tags; the cluster policy forces these onto every job cluster.
  tags = {
    Project     = "anthill"
    Environment = local.environment
    Stack       = "innovation"
    Owner       = "analytics-team"
    ManagedBy   = "terraform"
  }
}

module "innovation" {
  source = "../../../stacks/innovation"
  providers = {
    databricks = databricks
  }

  environment        = local.environment
  platform           = data.terraform_remote_state.platform.outputs.platform
  human_write_access = true
  job_node_types     = ["m6i.xlarge"]
  job_max_workers    = 4

  tags = local.tags
}
