data "aws_partition" "current" {}

locals {
  partition = data.aws_partition.current.partition
  bucket    = "arn:${local.partition}:s3:::${var.lake.bucket_name}"
  # Keys a tenant's ingest writes under its lake URI s3://<lake>/<namespace> (crds anthill_api.lake), and the
  # layers its Spark jobs read (bronze) and write (silver, gold, path-based Delta tables).
  ingest_prefixes = ["bronze", "_state", "_manifests", "_quarantine"]
  spark_reads     = ["bronze"]
  spark_writes    = ["silver", "gold"]
  namespaces      = toset(var.tenant_namespaces)
}

module "cluster" {
  #checkov:skip=CKV_TF_1:a registry module pinned to an exact version; the registry serves it by version, not by commit
  source  = "terraform-aws-modules/eks/aws"
  version = "21.19.0"

  name               = var.name
  kubernetes_version = var.kubernetes_version

  vpc_id                       = var.vpc_id
  subnet_ids                   = var.subnet_ids
  endpoint_private_access      = true
  endpoint_public_access       = length(var.endpoint_public_access_cidrs) > 0
  endpoint_public_access_cidrs = var.endpoint_public_access_cidrs

  # Kubernetes Secrets are envelope-encrypted with a key the module creates (rotation on).
  encryption_config = { resources = ["secrets"] }

  enabled_log_types                      = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
  cloudwatch_log_group_retention_in_days = var.log_retention_days

  enable_irsa                              = true
  authentication_mode                      = "API"
  enable_cluster_creator_admin_permissions = false
  access_entries = {
    for index, arn in var.admin_role_arns : "admin-${index}" => {
      principal_arn = arn
      policy_associations = {
        admin = {
          policy_arn   = "arn:${local.partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
          access_scope = { type = "cluster" }
        }
      }
    }
  }

  addons = {
    for addon, version in var.addons : addon => {
      addon_version  = version
      most_recent    = version == null
      before_compute = addon == "vpc-cni" || addon == "eks-pod-identity-agent"
    }
  }

  eks_managed_node_groups = {
    for group, spec in var.node_groups : group => {
      instance_types = spec.instance_types
      capacity_type  = spec.capacity_type
      min_size       = spec.min_size
      max_size       = spec.max_size
      desired_size   = spec.desired_size
      labels         = spec.labels
      ami_type       = "AL2023_x86_64_STANDARD"
      block_device_mappings = {
        root = {
          device_name = "/dev/xvda"
          ebs = {
            volume_size           = spec.disk_size
            volume_type           = "gp3"
            encrypted             = true
            delete_on_termination = true
          }
        }
      }
      metadata_options = {
        http_endpoint               = "enabled"
        http_tokens                 = "required"
        http_put_response_hop_limit = 1 # pods use IRSA, never the node's role
      }
    }
  }

  tags = var.tags
}

# ---------------------------------------------------------------------------------------------------
# IRSA. The operator reads the feeds' watermarks and manifests; in each tenant namespace the ingest pods
# write that namespace's bronze and bookkeeping and the Spark pods its silver and gold. One role per
# namespace and workload: a ServiceAccount of one tenant can never reach another tenant's prefix.
# ---------------------------------------------------------------------------------------------------

# The web-identity subject each role trusts, by role: the operator's ServiceAccount in its own namespace, and
# in each tenant namespace the ingest and the Spark one.
locals {
  irsa_subjects = merge(
    { operator = "system:serviceaccount:${var.operator_service_account.namespace}:${var.operator_service_account.name}" },
    { for ns in local.namespaces : "ingest-${ns}" => "system:serviceaccount:${ns}:${var.ingest_service_account}" },
    { for ns in local.namespaces : "spark-${ns}" => "system:serviceaccount:${ns}:${var.spark_service_account}" },
  )
}

data "aws_iam_policy_document" "irsa_assume" {
  for_each = local.irsa_subjects

  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [module.cluster.oidc_provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "${module.cluster.oidc_provider}:sub"
      values   = [each.value]
    }

    condition {
      test     = "StringEquals"
      variable = "${module.cluster.oidc_provider}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "operator" {
  name               = "${var.name}-operator"
  description        = "Anthill operator (IRSA): reads the feeds' watermarks and run manifests"
  assume_role_policy = data.aws_iam_policy_document.irsa_assume["operator"].json

  tags = var.tags
}

data "aws_iam_policy_document" "operator" {
  statement {
    sid       = "ReadFeedState"
    actions   = ["s3:GetObject"]
    resources = flatten([for ns in var.tenant_namespaces : ["${local.bucket}/${ns}/_state/*", "${local.bucket}/${ns}/_manifests/*"]])
  }

  statement {
    sid       = "ListFeedState"
    actions   = ["s3:ListBucket"]
    resources = [local.bucket]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = flatten([for ns in var.tenant_namespaces : ["${ns}/_state/*", "${ns}/_manifests/*"]])
    }
  }

  statement {
    sid       = "DecryptLake"
    actions   = ["kms:Decrypt"]
    resources = [var.lake.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "operator" {
  name   = "read-feed-state"
  role   = aws_iam_role.operator.id
  policy = data.aws_iam_policy_document.operator.json
}


resource "aws_iam_role" "ingest" {
  for_each = local.namespaces

  name               = "${var.name}-ingest-${each.value}"
  description        = "Anthill ingest in namespace ${each.value} (IRSA): writes its bronze, watermarks, manifests and quarantine"
  assume_role_policy = data.aws_iam_policy_document.irsa_assume["ingest-${each.value}"].json

  tags = var.tags
}

data "aws_iam_policy_document" "ingest" {
  for_each = local.namespaces

  statement {
    sid       = "ReadWriteIngestKeys"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"]
    resources = [for prefix in local.ingest_prefixes : "${local.bucket}/${each.value}/${prefix}/*"]
  }

  statement {
    sid       = "ListIngestKeys"
    actions   = ["s3:ListBucket"]
    resources = [local.bucket]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = [for prefix in local.ingest_prefixes : "${each.value}/${prefix}/*"]
    }
  }

  statement {
    sid       = "EncryptLake"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.lake.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "ingest" {
  for_each = local.namespaces

  name   = "write-bronze"
  role   = aws_iam_role.ingest[each.value].id
  policy = data.aws_iam_policy_document.ingest[each.value].json
}


resource "aws_iam_role" "spark" {
  for_each = local.namespaces

  name               = "${var.name}-spark-${each.value}"
  description        = "Anthill Spark in namespace ${each.value} (IRSA): reads its bronze, writes its silver and gold Delta tables"
  assume_role_policy = data.aws_iam_policy_document.irsa_assume["spark-${each.value}"].json

  tags = var.tags
}

data "aws_iam_policy_document" "spark" {
  for_each = local.namespaces

  statement {
    sid       = "ReadBronze"
    actions   = ["s3:GetObject"]
    resources = [for layer in local.spark_reads : "${local.bucket}/${each.value}/${layer}/*"]
  }

  # Delta rewrites and vacuums its own files: delete is part of writing a table.
  statement {
    sid       = "ReadWriteSilverGold"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    resources = [for layer in local.spark_writes : "${local.bucket}/${each.value}/${layer}/*"]
  }

  statement {
    sid       = "ListLayers"
    actions   = ["s3:ListBucket"]
    resources = [local.bucket]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = [for layer in concat(local.spark_reads, local.spark_writes) : "${each.value}/${layer}/*"]
    }
  }

  statement {
    sid       = "EncryptLake"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.lake.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "spark" {
  for_each = local.namespaces

  name   = "read-bronze-write-silver-gold"
  role   = aws_iam_role.spark[each.value].id
  policy = data.aws_iam_policy_document.spark[each.value].json
}
