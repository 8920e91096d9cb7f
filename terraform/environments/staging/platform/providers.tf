provider "aws" {
  region              = local.region
  allowed_account_ids = [var.aws_account_id]

  default_tags {
    tags = local.tags
  }
}

# Account-level Databricks API; DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET come from the environment.
provider "databricks" {
  alias      = "account"
  host       = "https://accounts.cloud.databricks.com"
  account_id = var.databricks_account_id
}

# The environment's workspace, once the account-level provider made it; same service principal (the
# workspace's creator, so its admin).
provider "databricks" {
  alias = "workspace"
  host  = module.platform.databricks_workspace_url
}

# The cluster's API is private: run from inside the VPC or list the runner's CIDRs (docs/terraform.md).
provider "helm" {
  kubernetes = {
    host                   = module.platform.cluster_endpoint
    cluster_ca_certificate = base64decode(module.platform.cluster_certificate_authority_data)
    exec = {
      api_version = "client.authentication.k8s.io/v1beta1"
      command     = "aws"
      args        = ["eks", "get-token", "--cluster-name", module.platform.cluster_name, "--region", local.region]
    }
  }
}
