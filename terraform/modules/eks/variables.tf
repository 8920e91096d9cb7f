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
  description = "The lake the workloads reach: its bucket (a tenant namespace's lake is `s3://<bucket>/<namespace>`) and its KMS key."
  type = object({
    bucket_name = string
    kms_key_arn = string
  })
}

variable "tenant_namespaces" {
  description = "Kubernetes namespaces of the tenants: each gets an ingest role and a Spark role scoped to `<namespace>/` of the lake."
  type        = list(string)
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

variable "ingest_service_account" {
  description = "Name of the ServiceAccount ingest pods run as in every tenant namespace (writes bronze, `_state`, `_manifests`, `_quarantine` of that namespace)."
  type        = string
  default     = "anthill-ingest"
}

variable "spark_service_account" {
  description = "Name of the ServiceAccount Spark pods run as in every tenant namespace (reads bronze, writes silver and gold of that namespace)."
  type        = string
  default     = "anthill-spark"
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
