{{- define "gitops.env" -}}
{{- if not (has .Values.environment (list "dev" "staging" "prod")) -}}
{{- fail (printf "environment must be dev, staging or prod, not %q" .Values.environment) -}}
{{- end -}}
{{- .Values.environment -}}
{{- end -}}
