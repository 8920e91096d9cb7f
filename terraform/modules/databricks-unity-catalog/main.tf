locals {
  catalog = "${var.catalog_prefix}_${var.environment}"
  layers  = ["bronze", "silver", "gold"]

  # Privileges on each schema, by principal kind. Engineers write bronze and silver and read gold;
  # analysts read gold only; the jobs read bronze and write silver and gold.
  read     = ["USE_SCHEMA", "SELECT", "EXECUTE", "READ_VOLUME"]
  write    = ["USE_SCHEMA", "SELECT", "EXECUTE", "READ_VOLUME", "MODIFY", "CREATE_TABLE", "CREATE_VOLUME", "WRITE_VOLUME", "CREATE_FUNCTION"]
  jobs     = [for key, principal in databricks_service_principal.jobs : principal.application_id]
  deployer = databricks_service_principal.wheel_deployer.application_id

  # The wheel volume: the jobs (and the engineers, to inspect) read it; only the deployer writes it.
  wheel_volume_grants = concat(
    [{ principal = var.engineers_group, privileges = ["READ_VOLUME"] }],
    [for id in local.jobs : { principal = id, privileges = ["READ_VOLUME"] }],
    [{ principal = local.deployer, privileges = ["READ_VOLUME", "WRITE_VOLUME"] }],
  )

  schema_grants = {
    bronze = concat(
      [{ principal = var.engineers_group, privileges = local.write }],
      [for id in local.jobs : { principal = id, privileges = local.read }],
    )
    silver = concat(
      [{ principal = var.engineers_group, privileges = local.write }],
      [for id in local.jobs : { principal = id, privileges = local.write }],
    )
    gold = concat(
      [{ principal = var.engineers_group, privileges = local.read }],
      [{ principal = var.analysts_group, privileges = local.read }],
      [for id in local.jobs : { principal = id, privileges = local.write }],
    )
  }

  location_grants = {
    bronze = concat(
      [{ principal = var.engineers_group, privileges = ["READ_FILES", "CREATE_EXTERNAL_TABLE"] }],
      [for id in local.jobs : { principal = id, privileges = ["READ_FILES"] }],
    )
    silver = concat(
      [{ principal = var.engineers_group, privileges = ["READ_FILES", "WRITE_FILES", "CREATE_EXTERNAL_TABLE"] }],
      [for id in local.jobs : { principal = id, privileges = ["READ_FILES", "WRITE_FILES", "CREATE_EXTERNAL_TABLE"] }],
    )
    gold = concat(
      [{ principal = var.engineers_group, privileges = ["READ_FILES"] }],
      [for id in local.jobs : { principal = id, privileges = ["READ_FILES", "WRITE_FILES", "CREATE_EXTERNAL_TABLE"] }],
    )
  }
}

resource "databricks_metastore_assignment" "this" {
  provider = databricks.account

  metastore_id = var.metastore_id
  workspace_id = var.workspace_id
}

resource "databricks_storage_credential" "lake" {
  provider = databricks.workspace

  name    = "${local.catalog}_lake"
  comment = "Anthill ${var.environment} lake, managed by Terraform"

  aws_iam_role {
    role_arn = var.storage_role_arn
  }

  depends_on = [databricks_metastore_assignment.this]
}

resource "databricks_external_location" "layer" {
  provider = databricks.workspace
  for_each = toset(local.layers)

  name            = "${local.catalog}_${each.key}"
  url             = var.layer_uris[each.key]
  credential_name = databricks_storage_credential.lake.name
  comment         = "Anthill ${var.environment} ${each.key} layer"
}

resource "databricks_catalog" "this" {
  provider = databricks.workspace

  name         = local.catalog
  comment      = "Anthill ${var.environment}: bronze, silver and gold market data"
  storage_root = databricks_external_location.layer["silver"].url
  properties   = { environment = var.environment }
}

resource "databricks_schema" "layer" {
  provider = databricks.workspace
  for_each = toset(local.layers)

  catalog_name = databricks_catalog.this.name
  name         = each.key
  comment      = "Anthill ${each.key} layer"
  storage_root = databricks_external_location.layer[each.key].url
}

resource "databricks_service_principal" "jobs" {
  provider = databricks.workspace
  for_each = var.job_service_principals

  display_name = each.value.display_name
}

resource "databricks_grants" "catalog" {
  provider = databricks.workspace

  catalog = databricks_catalog.this.name

  dynamic "grant" {
    for_each = concat([var.engineers_group, var.analysts_group], local.jobs, [local.deployer])

    content {
      principal  = grant.value
      privileges = ["USE_CATALOG"]
    }
  }
}

resource "databricks_grants" "schema" {
  provider = databricks.workspace
  for_each = databricks_schema.layer

  schema = each.value.id

  dynamic "grant" {
    for_each = local.schema_grants[each.key]

    content {
      principal  = grant.value.principal
      privileges = grant.value.privileges
    }
  }
}

resource "databricks_grants" "location" {
  provider = databricks.workspace
  for_each = databricks_external_location.layer

  external_location = each.value.id

  dynamic "grant" {
    for_each = local.location_grants[each.key]

    content {
      principal  = grant.value.principal
      privileges = grant.value.privileges
    }
  }
}

# Job clusters: Unity Catalog access mode, a pinned runtime, bounded size, auto-termination, cost tags.
resource "databricks_cluster_policy" "jobs" {
  provider = databricks.workspace

  name = "${local.catalog}-jobs"
  definition = jsonencode(merge(
    {
      "spark_version"               = { type = "fixed", value = var.cluster_policy.spark_version }
      "data_security_mode"          = { type = "fixed", value = "SINGLE_USER" }
      "node_type_id"                = { type = "allowlist", values = var.cluster_policy.node_types, defaultValue = var.cluster_policy.node_types[0] }
      "driver_node_type_id"         = { type = "allowlist", values = var.cluster_policy.node_types, defaultValue = var.cluster_policy.node_types[0] }
      "autoscale.max_workers"       = { type = "range", maxValue = var.cluster_policy.max_workers, defaultValue = var.cluster_policy.max_workers }
      "autotermination_minutes"     = { type = "fixed", value = var.cluster_policy.autotermination_minutes, hidden = true }
      "aws_attributes.availability" = { type = "allowlist", values = ["SPOT_WITH_FALLBACK", "ON_DEMAND"], defaultValue = "SPOT_WITH_FALLBACK" }
      "custom_tags.environment"     = { type = "fixed", value = var.environment }
    },
    { for key, value in var.tags : "custom_tags.${key}" => { type = "fixed", value = value } },
  ))
}

resource "databricks_permissions" "jobs_policy" {
  provider = databricks.workspace

  cluster_policy_id = databricks_cluster_policy.jobs.id

  access_control {
    group_name       = var.engineers_group
    permission_level = "CAN_USE"
  }

  dynamic "access_control" {
    for_each = local.jobs

    content {
      service_principal_name = access_control.value
      permission_level       = "CAN_USE"
    }
  }
}

# ---------------------------------------------------------------------------------------------------
# The anthill-spark wheel: a managed volume in a schema of its own, written by the release workflow's
# deployer (`anthill databricks deploy`), read by the jobs that install it.
# ---------------------------------------------------------------------------------------------------

resource "databricks_schema" "artifacts" {
  provider = databricks.workspace

  catalog_name = databricks_catalog.this.name
  name         = var.wheel_volume.schema
  comment      = "Anthill build artifacts: the anthill-spark wheel the jobs install"
}

resource "databricks_volume" "wheels" {
  provider = databricks.workspace

  catalog_name = databricks_catalog.this.name
  schema_name  = databricks_schema.artifacts.name
  name         = var.wheel_volume.name
  volume_type  = "MANAGED"
  comment      = "anthill-spark wheels by version and content hash, and each version's CURRENT pointer"
}

resource "databricks_service_principal" "wheel_deployer" {
  provider = databricks.workspace

  display_name = var.wheel_volume.deployer_display_name
}

resource "databricks_grants" "artifacts" {
  provider = databricks.workspace

  schema = databricks_schema.artifacts.id

  dynamic "grant" {
    for_each = concat([var.engineers_group], local.jobs, [local.deployer])

    content {
      principal  = grant.value
      privileges = ["USE_SCHEMA"]
    }
  }
}

resource "databricks_grants" "wheels" {
  provider = databricks.workspace

  volume = databricks_volume.wheels.id

  dynamic "grant" {
    for_each = local.wheel_volume_grants

    content {
      principal  = grant.value.principal
      privileges = grant.value.privileges
    }
  }
}
