variable "name" {
  description = "Name of the EKS cluster (e.g. `anthill-dev`)."
  type        = string
}

variable "kubernetes_version" {
  description = "Kubernetes minor version of the control plane and node groups (e.g. `1.34`)."
  type        = string
}

variable "vpc_id" {
  description = "VPC the cluster runs in."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets for the control-plane network interfaces and the nodes."
  type        = list(string)
}

variable "endpoint_public_access_cidrs" {
  description = "CIDRs allowed to reach the API server's public endpoint; empty (the default) keeps the endpoint private only."
  type        = list(string)
  default     = []
}

variable "admin_role_arns" {
  description = "IAM roles granted cluster admin through EKS access entries (the platform team, the CI deploy role)."
  type        = list(string)
  default     = []
}

variable "node_groups" {
  description = "Managed node groups, by name."
  type = map(object({
    instance_types = list(string)
    capacity_type  = optional(string, "ON_DEMAND")
    min_size       = number
    max_size       = number
    desired_size   = number
    disk_size      = optional(number, 50)
    labels         = optional(map(string), {})
  }))
}

variable "addons" {
  description = "EKS add-ons by name, with an exact version or null for the newest one compatible with the cluster. The platform needs no persistent volumes, so no storage driver by default."
  type        = map(string)
  default = {
    "coredns"                = null
    "kube-proxy"             = null
    "vpc-cni"                = null
    "eks-pod-identity-agent" = null
  }
}

variable "log_retention_days" {
  description = "Days the control-plane logs are kept in CloudWatch."
  type        = number
  default     = 365
}

variable "lake" {
  description = "The lake the workloads reach: its KMS key and where bronze is (bucket and key prefix, `\"\"` when bronze owns the bucket)."
  type = object({
    kms_key_arn   = string
    bronze_bucket = string
    bronze_prefix = string
  })
}

variable "operator_service_account" {
  description = "Namespace and name of the operator's ServiceAccount (read-only on the feeds' state)."
  type = object({
    namespace = string
    name      = string
  })
  default = {
    namespace = "anthill-system"
    name      = "anthill-operator"
  }
}

variable "ingest_service_accounts" {
  description = "Namespaces and names of the ServiceAccounts ingest pods run as (write bronze only)."
  type = list(object({
    namespace = string
    name      = string
  }))
  default = [{ namespace = "market", name = "anthill-ingest" }]
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
