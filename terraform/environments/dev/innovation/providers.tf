# The environment's workspace, with the innovation stack's service principal (DATABRICKS_CLIENT_ID and
# DATABRICKS_CLIENT_SECRET), which the platform stack made a workspace admin.
provider "databricks" {
  host = data.terraform_remote_state.platform.outputs.platform.databricks_workspace_url
}
