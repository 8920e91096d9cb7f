variable "environment" {
  description = "Environment of the cluster (`dev`, `staging`, `prod`): Argo CD registers it as `anthill-<environment>` and syncs `charts/anthill/values-<environment>.yaml` and `gitops/envs/<environment>/`."
  type        = string

  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "environment must be dev, staging or prod."
  }
}

variable "gitops_chart_path" {
  description = "Path of the chart holding the cluster registration, AppProject and ApplicationSet (`gitops/bootstrap` in this repository)."
  type        = string
}

variable "repository_url" {
  description = "Git repository Argo CD syncs from (the only source its AppProject allows)."
  type        = string
}

variable "revision" {
  description = "Git revision (branch, tag or commit) the environment's Application follows."
  type        = string
  default     = "main"
}

variable "auto_sync" {
  description = "Whether Argo CD syncs every change by itself (and prunes and self-heals); false waits for someone to press Sync."
  type        = bool
}

variable "operator_namespace" {
  description = "Namespace of the Anthill operator."
  type        = string
  default     = "anthill-system"
}

variable "tenant_namespaces" {
  description = "Namespaces the environment's feeds and pipelines may be deployed to (the ones Terraform's IRSA roles trust)."
  type        = list(string)
}

variable "argocd" {
  description = "Argo CD release: chart repository, exact chart version, namespace, values files (paths, e.g. `gitops/argocd/argocd-values.yaml`) and extra YAML values applied after them."
  type = object({
    repository   = string
    version      = string
    namespace    = optional(string, "argocd")
    values_files = optional(list(string), [])
    values       = optional(list(string), [])
  })
}

variable "timeout_seconds" {
  description = "Seconds each release may take to become ready before the apply fails (and rolls back)."
  type        = number
  default     = 600
}
