# Both with the analytics team's service principal (DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET).
provider "databricks" {
  alias      = "account"
  host       = "https://accounts.cloud.databricks.com"
  account_id = var.databricks_account_id
}

provider "databricks" {
  alias = "workspace"
  host  = data.terraform_remote_state.platform.outputs.platform.databricks_workspace_url
}
