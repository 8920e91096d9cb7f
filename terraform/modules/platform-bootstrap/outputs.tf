output "anthill_release" {
  description = "Name, namespace, chart version and status of the Anthill release."
  value = {
    name      = try(helm_release.anthill.name, null)
    namespace = try(helm_release.anthill.namespace, null)
    version   = try(helm_release.anthill.metadata.version, null)
    status    = try(helm_release.anthill.status, null)
  }
}

output "argocd_namespace" {
  description = "Namespace Argo CD runs in; null when it is not installed."
  value       = try(helm_release.argocd[0].namespace, null)
}
