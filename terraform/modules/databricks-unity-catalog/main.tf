locals {
  catalog = "${var.catalog_prefix}_${var.environment}"
  layers  = ["bronze", "silver", "gold"]

  # Privileges on a schema. Humans write bronze and silver only where `human_write_access` holds (never in
  # prod) and only ever read gold; analysts read gold; the jobs read bronze and write silver and gold.
  read        = ["USE_SCHEMA", "SELECT", "EXECUTE", "READ_VOLUME"]
  write       = ["USE_SCHEMA", "SELECT", "EXECUTE", "READ_VOLUME", "MODIFY", "CREATE_TABLE", "CREATE_VOLUME", "WRITE_VOLUME", "CREATE_FUNCTION"]
  human_write = var.human_write_access ? local.write : local.read
  jobs        = [for key, principal in databricks_service_principal.jobs : principal.application_id]
  deployer    = databricks_service_principal.wheel_deployer.application_id

  # The wheel volume: the jobs (and the engineers, to inspect) read it; only the deployer writes it.
  wheel_volume_grants = concat(
    [{ principal = var.engineers_group, privileges = ["READ_VOLUME"] }],
    [for id in local.jobs : { principal = id, privileges = ["READ_VOLUME"] }],
    [{ principal = local.deployer, privileges = ["READ_VOLUME", "WRITE_VOLUME"] }],
  )

  schema_grants = {
    bronze = concat(
      [{ principal = var.engineers_group, privileges = local.human_write }],
      [for id in local.jobs : { principal = id, privileges = local.read }],
    )
    silver = concat(
      [{ principal = var.engineers_group, privileges = local.human_write }],
      [for id in local.jobs : { principal = id, privileges = local.write }],
    )
    gold = concat(
      [{ principal = var.engineers_group, privileges = local.read }],
      [{ principal = var.analysts_group, privileges = local.read }],
      [for id in local.jobs : { principal = id, privileges = local.write }],
    )
  }

  # Files on the tenants' lakes (the platform's read-only external locations): the jobs read bronze by
  # path; engineers read, and define external tables over them where humans may write.
  location_privileges = merge(
    { for id in local.jobs : id => ["READ_FILES"] },
    { (var.engineers_group) = var.human_write_access ? ["READ_FILES", "CREATE_EXTERNAL_TABLE"] : ["READ_FILES"] },
  )
  location_grants = {
    for pair in setproduct(keys(var.lake_external_locations), keys(local.location_privileges)) :
    "${pair[0]}/${pair[1]}" => {
      location   = var.lake_external_locations[pair[0]]
      principal  = pair[1]
      privileges = local.location_privileges[pair[1]]
    }
  }
}

# ---------------------------------------------------------------------------------------------------
# The environment's catalog: isolated, bound to this environment's workspace alone, stored in the
# platform's managed storage (never under an external location for files).
# ---------------------------------------------------------------------------------------------------

resource "databricks_catalog" "this" {
  name           = local.catalog
  comment        = "Anthill ${var.environment}: bronze, silver and gold market data"
  storage_root   = "${trimsuffix(var.managed_storage_root, "/")}/${local.catalog}"
  isolation_mode = "ISOLATED"
  properties     = { environment = var.environment }
}

resource "databricks_workspace_binding" "catalog" {
  securable_type = "catalog"
  securable_name = databricks_catalog.this.name
  workspace_id   = var.workspace_id
}

resource "databricks_schema" "layer" {
  for_each = toset(local.layers)

  catalog_name = databricks_catalog.this.name
  name         = each.key
  comment      = "Anthill ${each.key} layer"
}

resource "databricks_service_principal" "jobs" {
  for_each = var.job_service_principals

  display_name = each.value.display_name
}

resource "databricks_grants" "catalog" {
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

# One grant per location and principal: the platform stack grants this stack's own principal on the same
# locations, and `databricks_grants` (all principals at once) would take that away.
resource "databricks_grant" "lake_files" {
  for_each = local.location_grants

  external_location = each.value.location
  principal         = each.value.principal
  privileges        = each.value.privileges
}

# Job clusters: Unity Catalog access mode, a pinned runtime, bounded size, auto-termination, cost tags.
resource "databricks_cluster_policy" "jobs" {
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
  catalog_name = databricks_catalog.this.name
  name         = var.wheel_volume.schema
  comment      = "Anthill build artifacts: the anthill-spark wheel the jobs install"
}

resource "databricks_volume" "wheels" {
  catalog_name = databricks_catalog.this.name
  schema_name  = databricks_schema.artifacts.name
  name         = var.wheel_volume.name
  volume_type  = "MANAGED"
  comment      = "anthill-spark wheels by version and content hash, and each version's CURRENT pointer"
}

resource "databricks_service_principal" "wheel_deployer" {
  display_name = var.wheel_volume.deployer_display_name
}

resource "databricks_grants" "artifacts" {
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
  volume = databricks_volume.wheels.id

  dynamic "grant" {
    for_each = local.wheel_volume_grants

    content {
      principal  = grant.value.principal
      privileges = grant.value.privileges
    }
  }
}

# ---------------------------------------------------------------------------------------------------
# BI: a serverless SQL warehouse for the analysts' tools (Power BI), stopped when idle
# ---------------------------------------------------------------------------------------------------

resource "databricks_sql_endpoint" "bi" {
  name                      = "${local.catalog}-bi"
  cluster_size              = var.sql_warehouse.cluster_size
  max_num_clusters          = var.sql_warehouse.max_num_clusters
  auto_stop_mins            = var.sql_warehouse.auto_stop_mins
  enable_serverless_compute = true
  warehouse_type            = "PRO"

  tags {
    dynamic "custom_tags" {
      for_each = merge(var.tags, { environment = var.environment })

      content {
        key   = custom_tags.key
        value = custom_tags.value
      }
    }
  }
}

resource "databricks_permissions" "bi_warehouse" {
  sql_endpoint_id = databricks_sql_endpoint.bi.id

  access_control {
    group_name       = var.analysts_group
    permission_level = "CAN_USE"
  }

  access_control {
    group_name       = var.engineers_group
    permission_level = "CAN_USE"
  }
}

# ---------------------------------------------------------------------------------------------------
# Delta Sharing of the gold schema, only when a recipient is named
# ---------------------------------------------------------------------------------------------------

resource "databricks_share" "gold" {
  count = var.share_recipient == null ? 0 : 1

  name = "${local.catalog}_gold"

  object {
    name             = databricks_schema.layer["gold"].id
    data_object_type = "SCHEMA"
    comment          = "Every current and future table of ${local.catalog}.gold"
  }
}

resource "databricks_recipient" "this" {
  count = var.share_recipient == null ? 0 : 1

  name                               = var.share_recipient.name
  comment                            = "Receives ${local.catalog}_gold"
  authentication_type                = var.share_recipient.data_recipient_global_metastore_id == null ? "TOKEN" : "DATABRICKS"
  data_recipient_global_metastore_id = var.share_recipient.data_recipient_global_metastore_id
}

resource "databricks_grant" "share" {
  count = var.share_recipient == null ? 0 : 1

  share      = databricks_share.gold[0].name
  principal  = databricks_recipient.this[0].name
  privileges = ["SELECT"]
}
