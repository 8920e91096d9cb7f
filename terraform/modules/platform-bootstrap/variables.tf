variable "chart_path" {
  description = "Path of the Anthill Helm chart (`charts/anthill` in this repository, relative to the stack or absolute)."
  type        = string
}

variable "namespace" {
  description = "Namespace of the Anthill operator."
  type        = string
  default     = "anthill-system"
}

variable "image" {
  description = "Operator image: repository and tag (the chart's `image.repository` and `image.tag`)."
  type = object({
    repository = string
    tag        = string
  })
}

variable "operator_role_arn" {
  description = "IAM role of the operator's ServiceAccount (IRSA), set as `serviceAccount.annotations.\"eks.amazonaws.com/role-arn\"`."
  type        = string
}

variable "extra_values" {
  description = "More values files for the Anthill chart, as YAML documents (per-environment settings), applied after the ones above."
  type        = list(string)
  default     = []
}

variable "argocd" {
  description = "Argo CD release: chart repository, exact chart version, namespace and extra YAML values; null installs none."
  type = object({
    repository = string
    version    = string
    namespace  = optional(string, "argocd")
    values     = optional(list(string), [])
  })
}

variable "timeout_seconds" {
  description = "Seconds each release may take to become ready before the apply fails (and rolls back)."
  type        = number
  default     = 600
}
