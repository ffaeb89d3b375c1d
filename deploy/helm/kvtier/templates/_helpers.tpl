{{/* The release's base name: "<release>-kvtier", or the release name when it already says kvtier. */}}
{{- define "kvtier.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "kvtier.etcdName" -}}
{{- printf "%s-etcd" (include "kvtier.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "kvtier.secretName" -}}
{{- default (printf "%s-secrets" (include "kvtier.fullname" .)) .Values.auth.existingSecret -}}
{{- end -}}

{{/* Labels every object carries besides its selector labels (which name it and its release). */}}
{{- define "kvtier.labels" -}}
app.kubernetes.io/part-of: kvtier
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "kvtier.selectorLabels" -}}
app.kubernetes.io/name: kvtier
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: sidecar
{{- end -}}

{{- define "kvtier.etcdSelectorLabels" -}}
app.kubernetes.io/name: etcd
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "kvtier.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* The etcd client URL the sidecars register with: this release's etcd, the external one, or none. */}}
{{- define "kvtier.etcdUrl" -}}
{{- if .Values.etcd.enabled -}}
{{- printf "http://%s-client.%s.svc.%s:2379" (include "kvtier.etcdName" .) .Release.Namespace .Values.clusterDomain -}}
{{- else if .Values.etcd.external -}}
{{- .Values.etcd.external -}}
{{- end -}}
{{- end -}}

{{/* Pod memory: the store's budget, the pinned staging and the overhead outside both (MiB). */}}
{{- define "kvtier.podMemory" -}}
{{- add (int .Values.store.memoryMiB) (int .Values.store.stagingMiB) (int .Values.store.overheadMiB) -}}Mi
{{- end -}}
