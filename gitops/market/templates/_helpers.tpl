{{/* Terraform's value `key`, or a failure naming the file that should hold it. */}}
{{- define "market.terraform" -}}
{{- $value := index .root.Values.terraform .key | default "" -}}
{{- if not $value -}}
{{- fail (printf "terraform.%s is not set: Terraform's apply writes it to gitops/envs/<env>/generated/market.yaml (anthill dev gitops-values)" .key) -}}
{{- end -}}
{{- $value -}}
{{- end -}}

{{/* The namespace's lake: <Terraform's lake_uri>/<namespace>, where its IAM roles may write. */}}
{{- define "market.lake" -}}
{{- $namespaces := .Values.terraform.tenantNamespaces | default list -}}
{{- if not (has .Values.namespace $namespaces) -}}
{{- fail (printf "namespace %q is not one of Terraform's tenant_namespaces %v: no IAM role trusts its ServiceAccounts" .Values.namespace $namespaces) -}}
{{- end -}}
{{- printf "%s/%s" (include "market.terraform" (dict "root" . "key" "lakeUri")) .Values.namespace -}}
{{- end -}}

{{- define "market.labels" -}}
app.kubernetes.io/part-of: anthill
app.kubernetes.io/managed-by: {{ .Release.Service }}
anthill.io/environment: {{ include "market.terraform" (dict "root" . "key" "environment") }}
{{- end -}}
