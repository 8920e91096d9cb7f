# prod's platform stack: terraform/stacks/platform with prod's values. Only what differs between
# environments is written here; the wiring is the stack's.
locals {
  environment = "prod"
  region      = "us-east-1"

  tags = {
    Project     = "anthill"
    Environment = local.environment
    Stack       = "platform"
    Owner       = "platform-team"
    ManagedBy   = "terraform"
  }
}

module "platform" {
  source = "../../../stacks/platform"
  providers = {
    aws                  = aws
    databricks.account   = databricks.account
    databricks.workspace = databricks.workspace
    helm                 = helm
    time                 = time
  }

  environment           = local.environment
  availability_zone_ids = ["use1-az1", "use1-az2", "use1-az4"]
  cidr                  = "10.30.0.0/16"
  single_nat_gateway    = false # one NAT per zone
  gitops_auto_sync      = false # a person presses Sync in Argo CD
  node_groups = {
    system = { instance_types = ["m6i.xlarge"], min_size = 3, max_size = 9, desired_size = 3 }
  }

  admin_role_arns               = var.admin_role_arns
  databricks_account_id         = var.databricks_account_id
  databricks_metastore_id       = var.databricks_metastore_id
  innovation_service_principal  = var.innovation_service_principal
  databricks_monthly_budget_usd = 4000
  budget_alert_emails           = var.budget_alert_emails
  # The account is the environment's own, so the AWS budget needs no tag filter.
  budget = { amount = 10000, emails = var.budget_alert_emails }

  tags = local.tags
}
