variable "aws_account_id" {
  description = "AWS account of this environment; the provider refuses any other. CI passes it as TF_VAR_aws_account_id."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.aws_account_id))
    error_message = "aws_account_id must be 12 digits."
  }
}

variable "databricks_account_id" {
  description = "Databricks account ID (a UUID); CI passes it as TF_VAR_databricks_account_id."
  type        = string
}

variable "databricks_unity_catalog_principal_arn" {
  description = "The Unity Catalog master role Databricks documents for AWS commercial regions; the lake role trusts it."
  type        = string
  default     = "arn:aws:iam::414351767826:role/unity-catalog-prod-UCMasterRole-14S5ZJVKOTYTL"
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

variable "operator_image" {
  description = "Anthill operator image the chart runs (`image.repository`, `image.tag`)."
  type = object({
    repository = string
    tag        = string
  })
  default = {
    repository = "ghcr.io/anthill-platform/anthill-operator"
    tag        = "0.1.0"
  }
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
