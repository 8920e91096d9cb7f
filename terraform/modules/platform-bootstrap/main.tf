# Terraform installs what Argo CD cannot install for itself, once: Argo CD, and from gitops/bootstrap the
# cluster's registration, the AppProject and the ApplicationSet. Argo CD alone then owns the Anthill chart
# and the tenants' manifests; Terraform hands it what only Terraform knows through
# gitops/envs/<env>/generated/ (anthill dev gitops-values), never through a release of its own.

resource "helm_release" "argocd" {
  name             = "argocd"
  repository       = var.argocd.repository
  chart            = "argo-cd"
  version          = var.argocd.version
  namespace        = var.argocd.namespace
  create_namespace = true
  atomic           = true
  timeout          = var.timeout_seconds

  # The anthill.io health checks first, so sync waves wait on the operator's conditions.
  values = concat([for path in var.argocd.values_files : file(path)], var.argocd.values)
}

resource "helm_release" "gitops" {
  name      = "anthill-gitops"
  chart     = var.gitops_chart_path
  namespace = var.argocd.namespace
  atomic    = true
  timeout   = var.timeout_seconds

  values = [
    yamlencode({
      environment       = var.environment
      repoURL           = var.repository_url
      revision          = var.revision
      autoSync          = var.auto_sync
      operatorNamespace = var.operator_namespace
      tenantNamespaces  = var.tenant_namespaces
    })
  ]

  # The AppProject and ApplicationSet are Argo CD's kinds: its CRDs must exist first.
  depends_on = [helm_release.argocd]
}
