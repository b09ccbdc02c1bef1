{{/* Chart name, truncated to 63 characters. */}}
{{- define "porthole.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: fullnameOverride, or release name (with the chart name unless the release name contains it). */}}
{{- define "porthole.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "porthole.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Standard labels on every object. */}}
{{- define "porthole.labels" -}}
helm.sh/chart: {{ include "porthole.chart" . }}
{{ include "porthole.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: porthole
{{- end }}

{{- define "porthole.selectorLabels" -}}
app.kubernetes.io/name: {{ include "porthole.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end }}

{{/* Labels selecting the relay's pods: the relay Deployment's, or the operator's when it runs the relay. */}}
{{- define "porthole.relaySelectorLabels" -}}
{{- if eq .Values.relay.mode "Separate" }}
app.kubernetes.io/name: {{ include "porthole.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: relay
{{- else }}
{{- include "porthole.selectorLabels" . }}
{{- if include "porthole.leaderElection" . }}
porthole.dev/relay-leader: "true"
{{- end }}
{{- end }}
{{- end }}

{{/* Standard labels of the relay's own objects (Separate mode). */}}
{{- define "porthole.relayLabels" -}}
helm.sh/chart: {{ include "porthole.chart" . }}
{{ include "porthole.relaySelectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: porthole
{{- end }}

{{- define "porthole.relayServiceAccountName" -}}
{{- printf "%s-relay" (include "porthole.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "porthole.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "porthole.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "porthole.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "porthole.agentImage" -}}
{{- printf "%s:%s" .Values.agent.image.repository (default .Chart.AppVersion .Values.agent.image.tag) }}
{{- end }}

{{/* Leader election whenever more than one replica runs. */}}
{{- define "porthole.leaderElection" -}}
{{- if gt (int .Values.replicaCount) 1 }}true{{- end }}
{{- end }}

{{- define "porthole.relayService" -}}
{{- printf "%s-relay" (include "porthole.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "porthole.leaseName" -}}
{{- printf "%s-leader" (include "porthole.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The port users outside the cluster dial, when exposed. */}}
{{- define "porthole.externalPort" -}}
{{- if gt (int .Values.relay.external.port) 0 }}{{ .Values.relay.external.port }}
{{- else if eq .Values.relay.external.type "Ingress" }}443
{{- else }}{{ .Values.relay.clientPort }}
{{- end }}
{{- end }}
