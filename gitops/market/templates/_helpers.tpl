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

{{- /* A MarketFeed or MarketStream of the tenant (dict "root" $ "kind" KIND "item" ITEM), in wave 1 after the
CRDs and the operator: its spec with the lake, the ServiceAccount and the key Secret set by the chart. */}}
{{- define "market.source" -}}
{{- $root := .root }}
apiVersion: anthill.io/v1alpha1
kind: {{ .kind }}
metadata:
  name: {{ .item.name }}
  namespace: {{ $root.Values.namespace }}
  labels:
    {{- include "market.labels" $root | nindent 4 }}
  annotations:
    argocd.argoproj.io/sync-wave: "1"
    argocd.argoproj.io/sync-options: SkipDryRunOnMissingResource=true
spec:
  {{- $spec := mergeOverwrite (deepCopy .item.spec) (dict
        "destination" (dict "uri" (include "market.lake" $root))
        "serviceAccountName" $root.Values.serviceAccounts.ingest
        "apiKeySecretRef" $root.Values.apiKeySecret) }}
  {{- toYaml $spec | nindent 2 }}
{{- end }}
