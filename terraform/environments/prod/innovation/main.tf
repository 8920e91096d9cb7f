# prod's innovation stack: terraform/stacks/innovation with prod's values, on top of prod's platform
# stack, whose outputs this root only reads.
data "terraform_remote_state" "platform" {
  backend = "s3"

  config = {
    bucket = "anthill-terraform-state-prod"
    key    = "platform/terraform.tfstate"
    region = "us-east-1"
  }
}

locals {
  environment = "prod"

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
  human_write_access = false # humans read prod; only the jobs write it
  job_node_types     = ["m6i.xlarge", "m6i.2xlarge", "r6i.2xlarge"]
  job_max_workers    = 16

  tags = local.tags
}
