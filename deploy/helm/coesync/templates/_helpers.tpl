{{- define "coesync.name" -}}coesync{{- end -}}

{{- define "coesync.fullname" -}}
{{- if contains "coesync" .Release.Name -}}{{ .Release.Name | trunc 63 | trimSuffix "-" }}{{- else -}}{{ printf "%s-coesync" .Release.Name | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- end -}}

{{- define "coesync.postgres" -}}{{ if or .Values.database.url .Values.database.existingSecretKey }}true{{ end }}{{- end -}}

{{- define "coesync.labels" -}}
app.kubernetes.io/name: coesync
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "coesync.selector" -}}
app.kubernetes.io/name: coesync
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: server
{{- end -}}

{{- define "coesync.image" -}}
{{- if .Values.image.digest -}}{{ .Values.image.repository }}@{{ .Values.image.digest }}{{- else -}}{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}{{- end -}}
{{- end -}}

{{- define "coesync.podSecurity" -}}
automountServiceAccountToken: false
securityContext:
  runAsNonRoot: true
  runAsUser: 65532
  runAsGroup: 65532
  fsGroup: 65532
  seccompProfile: {type: RuntimeDefault}
{{- end -}}

{{- define "coesync.containerSecurity" -}}
securityContext:
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  capabilities: {drop: ["ALL"]}
{{- end -}}

{{- define "coesync.databaseEnv" -}}
{{- if .Values.database.existingSecretKey }}
- name: COESYNC_DATABASE_URL
  valueFrom:
    secretKeyRef: {name: {{ .Values.secret.name }}, key: {{ .Values.database.existingSecretKey }}}
{{- else if .Values.database.url }}
- name: COESYNC_DATABASE_URL
  valueFrom:
    secretKeyRef: {name: {{ include "coesync.fullname" . }}-database, key: COESYNC_DATABASE_URL}
{{- else }}
- name: COESYNC_DATABASE_URL
  value: /data/coesync.db
{{- end }}
{{- end -}}
