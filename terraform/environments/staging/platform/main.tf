# staging's platform stack: terraform/stacks/platform with staging's values. Only what differs between
# environments is written here; the wiring is the stack's.
locals {
  environment = "staging"
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
  cidr                  = "10.20.0.0/16"
  single_nat_gateway    = true # one NAT for all zones
  node_groups = {
    system = { instance_types = ["m6i.large"], min_size = 2, max_size = 6, desired_size = 3 }
  }

  admin_role_arns               = var.admin_role_arns
  databricks_account_id         = var.databricks_account_id
  databricks_metastore_id       = var.databricks_metastore_id
  innovation_service_principal  = var.innovation_service_principal
  databricks_monthly_budget_usd = 1000
  budget_alert_emails           = var.budget_alert_emails
  # The account is the environment's own, so the AWS budget needs no tag filter.
  budget = { amount = 3000, emails = var.budget_alert_emails }

  tags = local.tags
}
