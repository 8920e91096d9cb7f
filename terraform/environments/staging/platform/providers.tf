provider "aws" {
  region              = local.region
  allowed_account_ids = [var.aws_account_id]

  default_tags {
    tags = local.tags
  }
}

# Account-level Databricks API (workspaces, credentials, networks). Credentials: DATABRICKS_CLIENT_ID and
# DATABRICKS_CLIENT_SECRET of an account service principal, from the environment.
provider "databricks" {
  alias      = "account"
  host       = "https://accounts.cloud.databricks.com"
  account_id = var.databricks_account_id
}

# The cluster's API is private: run this stack from inside the VPC (the self-hosted runner) or list the
# runner's egress CIDRs in `eks_public_access_cidrs`.
provider "helm" {
  kubernetes = {
    host                   = module.eks.cluster_endpoint
    cluster_ca_certificate = base64decode(module.eks.cluster_certificate_authority_data)
    exec = {
      api_version = "client.authentication.k8s.io/v1beta1"
      command     = "aws"
      args        = ["eks", "get-token", "--cluster-name", module.eks.cluster_name, "--region", local.region]
    }
  }
}
