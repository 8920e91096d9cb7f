output "argocd_namespace" {
  description = "Namespace Argo CD runs in (and its AppProject, ApplicationSet and cluster registration)."
  value       = try(helm_release.argocd.namespace, null)
}

output "application_name" {
  description = "Name of the Argo CD Application the ApplicationSet generates for this cluster (`argocd app get <name>`)."
  value       = "anthill-${var.environment}"
}

output "argocd_chart_version" {
  description = "Version of the argo-cd chart installed."
  value       = try(helm_release.argocd.metadata.version, null)
}
