resource "helm_release" "anthill" {
  name             = "anthill"
  chart            = var.chart_path
  namespace        = var.namespace
  create_namespace = true
  atomic           = true
  timeout          = var.timeout_seconds

  values = concat([
    yamlencode({
      image = {
        repository = var.image.repository
        tag        = var.image.tag
      }
      serviceAccount = {
        annotations = { "eks.amazonaws.com/role-arn" = var.operator_role_arn }
      }
    })
  ], var.extra_values)
}

resource "helm_release" "argocd" {
  count = var.argocd == null ? 0 : 1

  name             = "argocd"
  repository       = var.argocd.repository
  chart            = "argo-cd"
  version          = var.argocd.version
  namespace        = var.argocd.namespace
  create_namespace = true
  atomic           = true
  timeout          = var.timeout_seconds

  values = var.argocd.values
}
