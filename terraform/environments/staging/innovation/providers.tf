# Credentials of both: DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET of the analytics team's
# service principal (account admin for the metastore assignment, workspace admin for the rest).
provider "databricks" {
  alias      = "account"
  host       = "https://accounts.cloud.databricks.com"
  account_id = var.databricks_account_id
}

provider "databricks" {
  alias = "workspace"
  host  = data.terraform_remote_state.platform.outputs.databricks_workspace_url
}
