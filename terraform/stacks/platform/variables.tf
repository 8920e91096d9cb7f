variable "environment" {
  description = "Environment name (`dev`, `staging`, `prod`); every resource is named `anthill-<environment>`."
  type        = string

  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "environment is one of dev, staging, prod."
  }
}

variable "availability_zone_ids" {
  description = "Zone IDs (not names: the same physical zones in every account) of the three zones the VPC spans, in the provider's region."
  type        = list(string)

  validation {
    condition     = length(var.availability_zone_ids) == 3
    error_message = "the platform spans three availability zones."
  }
}

variable "cidr" {
  description = "IPv4 CIDR block of the environment's VPC (distinct per environment, so they can be peered)."
  type        = string
}

variable "single_nat_gateway" {
  description = "One NAT gateway for all zones (cheaper, outside prod) instead of one per zone (prod). No default: every environment says which."
  type        = bool
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete the lake's and the workspace's buckets with their objects (dev only)."
  type        = bool
  default     = false
}

variable "node_groups" {
  description = "EKS managed node groups, by name (see modules/eks)."
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

variable "log_retention_days" {
  description = "Days the cluster, flow and workload logs are kept in CloudWatch."
  type        = number
  default     = 365
}

variable "databricks_account_id" {
  description = "Databricks account ID (a UUID) the workspace belongs to."
  type        = string
}

variable "databricks_metastore_id" {
  description = "Unity Catalog metastore of the region (created once per region by the account admins), assigned to the environment's workspace."
  type        = string
}

variable "databricks_unity_catalog_principal_arn" {
  description = "Unity Catalog master role the lake's storage-credential role trusts; null takes the one Databricks documents for the partition (set it only where Databricks documents another)."
  type        = string
  default     = null
}

variable "innovation_service_principal" {
  description = "Application ID of the innovation stack's account service principal: made workspace admin, may create catalogs and shares, use the managed storage and grant files access on the lake."
  type        = string
}

variable "engineers_group" {
  description = "Databricks account group of the data engineers, given access to the workspace (the innovation stack grants them data)."
  type        = string
  default     = "anthill-data-engineers"
}

variable "analysts_group" {
  description = "Databricks account group of the analysts and BI consumers, given access to the workspace."
  type        = string
  default     = "anthill-analysts"
}

variable "databricks_monthly_budget_usd" {
  description = "Monthly Databricks budget of the environment's workspace, in list-price USD. No default: every environment says its own."
  type        = number
}

variable "budget_alert_emails" {
  description = "Who is e-mailed when the workspace's monthly Databricks budget is exceeded (at least one)."
  type        = list(string)
}

variable "tenant_namespaces" {
  description = "Kubernetes namespaces of the tenants. Each owns `s3://anthill-<environment>-lake/<namespace>` (its lake URI), an ingest and a Spark IAM role scoped to it, and a read-only Unity Catalog external location over it."
  type        = list(string)
  default     = ["market"]
}

variable "admin_role_arns" {
  description = "IAM roles of the platform team and the CI apply role: EKS cluster admins and lake key administrators."
  type        = list(string)
}

variable "eks_public_access_cidrs" {
  description = "CIDRs allowed to the EKS API's public endpoint; empty keeps it private (reach it from inside the VPC)."
  type        = list(string)
  default     = []
}

variable "kubernetes_version" {
  description = "Kubernetes minor version of the cluster."
  type        = string
  default     = "1.34"
}

variable "gitops_repository_url" {
  description = "Git repository Argo CD syncs the environment from (the only source its AppProject allows)."
  type        = string
  default     = "https://github.com/anthill-platform/anthill.git"
}

variable "gitops_revision" {
  description = "Git revision the environment's Argo CD Application follows."
  type        = string
  default     = "main"
}

variable "gitops_auto_sync" {
  description = "Whether Argo CD syncs every change to the environment by itself; false (prod) waits for someone to press Sync."
  type        = bool
  default     = true
}

variable "argocd_chart_version" {
  description = "Exact version of the argo-cd Helm chart."
  type        = string
  default     = "9.1.0"
}

variable "alarm_emails" {
  description = "Who the failure alarms e-mail."
  type        = list(string)
  default     = []
}

variable "budget" {
  description = "The environment's monthly AWS cost budget (null: none): `amount` in USD, `emails`, `thresholds_percent` of actual and forecast spend, `cost_filter_tags`; it notifies the alarm topic."
  type = object({
    amount             = number
    emails             = optional(list(string), [])
    thresholds_percent = optional(list(number), [80, 100])
    cost_filter_tags   = optional(map(string), {})
  })
  default = null
}

variable "tags" {
  description = "Tags of every taggable resource (the root's provider also sets them as default tags)."
  type        = map(string)
  default     = {}
}
