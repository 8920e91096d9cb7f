{{/* Chart name, cut to the 63 characters of a label value. */}}
{{- define "anthill.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Prefix of every resource name: the release name, plus the chart name unless the release name holds it.
Cut to 54 characters so that "<fullname>-operator" stays within 63.
*/}}
{{- define "anthill.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 54 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 54 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 54 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Name of the operator's Deployment, Service, ClusterRole and their kin. */}}
{{- define "anthill.operator.fullname" -}}
{{- printf "%s-operator" (include "anthill.fullname" .) }}
{{- end }}

{{- define "anthill.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every object. helm.sh/chart changes with every chart version, so it is never in a selector. */}}
{{- define "anthill.labels" -}}
helm.sh/chart: {{ include "anthill.chart" . }}
{{ include "anthill.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: anthill
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Labels that select the operator's pods: stable across upgrades. */}}
{{- define "anthill.selectorLabels" -}}
app.kubernetes.io/name: {{ include "anthill.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end }}

{{- define "anthill.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "anthill.operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
A ServiceAccount's annotations from its values (`roleArn`, `annotations`): the IRSA role as
eks.amazonaws.com/role-arn, then the rest; empty when there are none.
*/}}
{{- define "anthill.serviceAccountAnnotations" -}}
{{- $annotations := .annotations | default dict }}
{{- if .roleArn }}
{{- $annotations = merge (dict "eks.amazonaws.com/role-arn" .roleArn) $annotations }}
{{- end }}
{{- with $annotations }}
{{- toYaml . }}
{{- end }}
{{- end }}

{{- define "anthill.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* Namespaces where the operator may get Secrets: the watched ones and the extra ones, once each. */}}
{{- define "anthill.secretNamespaces" -}}
{{- concat .Values.watchNamespaces .Values.secretNamespaces | uniq | sortAlpha | toJson }}
{{- end }}

{{/*
Annotations on the CRDs: Helm keeps them on uninstall; Argo CD applies them before the operator (wave -1)
and, like Helm, never prunes or deletes them.
*/}}
{{- define "anthill.crdAnnotations" -}}
helm.sh/resource-policy: keep
argocd.argoproj.io/sync-wave: "-1"
argocd.argoproj.io/sync-options: Delete=false,Prune=false
{{- end }}
