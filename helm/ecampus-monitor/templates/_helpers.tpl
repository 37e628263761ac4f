{{/* Names ------------------------------------------------------------------------------ */}}

{{- define "ecampus-monitor.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* <release>-ecampus-monitor, or the release name when it already contains the chart name. */}}
{{- define "ecampus-monitor.fullname" -}}
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

{{- define "ecampus-monitor.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels ----------------------------------------------------------------------------- */}}

{{- define "ecampus-monitor.labels" -}}
helm.sh/chart: {{ include "ecampus-monitor.chart" . }}
{{ include "ecampus-monitor.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: ecampus-monitor
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "ecampus-monitor.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ecampus-monitor.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Selector labels of one component: pass (dict "root" $ "component" "worker"). */}}
{{- define "ecampus-monitor.componentSelectorLabels" -}}
{{ include "ecampus-monitor.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "ecampus-monitor.componentLabels" -}}
{{ include "ecampus-monitor.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Names of the resources the pods share -------------------------------------------------- */}}

{{- define "ecampus-monitor.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{- define "ecampus-monitor.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "ecampus-monitor.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "ecampus-monitor.secretName" -}}
{{- default (include "ecampus-monitor.fullname" .) .Values.secrets.existingSecret }}
{{- end }}

{{- define "ecampus-monitor.routingConfigMapName" -}}
{{- if .Values.routing.existingConfigMap }}
{{- .Values.routing.existingConfigMap }}
{{- else }}
{{- include "ecampus-monitor.fullname" . }}
{{- end }}
{{- end }}

{{- define "ecampus-monitor.hasRouting" -}}
{{- if or .Values.routing.existingConfigMap .Values.routing.content }}true{{ end }}
{{- end }}

{{/* Configuration ------------------------------------------------------------------------ */}}

{{/*
Refuse values that cannot work: missing required settings, and secrets put in `config`
(it becomes a ConfigMap, readable by anyone who can read the namespace's ConfigMaps).
*/}}
{{- define "ecampus-monitor.validate" -}}
{{- if not (or .Values.secrets.existingSecret .Values.secrets.storeUrl) }}
{{- fail "secrets.storeUrl is required (mysql+pymysql://USER:PASSWORD@HOST:3306/DATABASE), or name an existing Secret in secrets.existingSecret" }}
{{- end }}
{{- if not .Values.config.kafka.bootstrap_servers }}
{{- fail "config.kafka.bootstrap_servers is required: the list of Kafka brokers, e.g. [\"kafka:9092\"]" }}
{{- end }}
{{- if and .Values.config.smtp.enabled (not .Values.config.smtp.host) }}
{{- fail "config.smtp.host is required while config.smtp.enabled is true (the SMTP relay)" }}
{{- end }}
{{- $forbidden := dict "store" (list "url") "smtp" (list "password") "http" (list "api_tokens" "session_secret" "host" "port") "kafka" (list "sasl_password") "metrics" (list "host" "port") "routing" (list "file") }}
{{- range $section, $keys := $forbidden }}
{{- $values := get $.Values.config $section }}
{{- if kindIs "map" $values }}
{{- range $keys }}
{{- if hasKey $values . }}
{{- fail (printf "config.%s.%s cannot be set in config: secrets go under `secrets`, listen addresses come from api.port/worker.metricsPort, the routing file from `routing`" $section .) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- if lt (int .Values.worker.terminationGracePeriodSeconds) 60 }}
{{- fail "worker.terminationGracePeriodSeconds must be at least 60: SIGTERM lets the worker finish its batch" }}
{{- end }}
{{- end }}

{{/* The configuration file: .Values.config, with http.public_url completed or left out. */}}
{{- define "ecampus-monitor.configYaml" -}}
{{- $config := deepCopy .Values.config }}
{{- $http := get $config "http" | default dict }}
{{- if not (get $http "public_url") }}
{{- $_ := unset $http "public_url" }}
{{- if and .Values.ingress.enabled .Values.ingress.hosts }}
{{- $scheme := ternary "https" "http" (gt (len .Values.ingress.tls) 0) }}
{{- $_ := set $http "public_url" (printf "%s://%s" $scheme (first .Values.ingress.hosts).host) }}
{{- end }}
{{- end }}
{{- if $http }}
{{- $_ := set $config "http" $http }}
{{- else }}
{{- $_ := unset $config "http" }}
{{- end }}
{{- toYaml $config }}
{{- end }}

{{/* Pod parts ------------------------------------------------------------------------------ */}}

{{/* Annotations that roll the pods when their configuration or secrets change. */}}
{{- define "ecampus-monitor.checksums" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
{{- if not .Values.secrets.existingSecret }}
checksum/secret: {{ include (print .Template.BasePath "/secret.yaml") . | sha256sum }}
{{- end }}
{{- end }}

{{/* One environment variable from the Secret: (dict "root" $ "name" ENV "key" KEYNAME "optional" BOOL). */}}
{{- define "ecampus-monitor.secretEnv" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ include "ecampus-monitor.secretName" .root }}
      key: {{ get .root.Values.secrets.keyNames .key }}
      {{- if .optional }}
      optional: true
      {{- end }}
{{- end }}

{{/* The environment of the worker and API containers (the ports are added by each). */}}
{{- define "ecampus-monitor.env" -}}
- name: ECAMPUS_MONITOR_CONFIG
  value: /etc/ecampus-monitor/config/config.yaml
{{- if include "ecampus-monitor.hasRouting" . }}
- name: ECAMPUS_MONITOR_ROUTING__FILE
  value: /etc/ecampus-monitor/routing/{{ .Values.routing.key }}
{{- end }}
{{ include "ecampus-monitor.secretEnv" (dict "root" . "name" "ECAMPUS_MONITOR_STORE__URL" "key" "storeUrl" "optional" false) }}
{{ include "ecampus-monitor.secretEnv" (dict "root" . "name" "ECAMPUS_MONITOR_SMTP__PASSWORD" "key" "smtpPassword" "optional" true) }}
{{ include "ecampus-monitor.secretEnv" (dict "root" . "name" "ECAMPUS_MONITOR_HTTP__API_TOKENS" "key" "apiTokens" "optional" true) }}
{{ include "ecampus-monitor.secretEnv" (dict "root" . "name" "ECAMPUS_MONITOR_KAFKA__SASL_PASSWORD" "key" "kafkaSaslPassword" "optional" true) }}
{{ include "ecampus-monitor.sessionSecretEnv" . }}
{{ include "ecampus-monitor.baseEnv" . }}
{{- end }}

{{/* The page's session secret: the release's own Secret (<fullname>-session), or existingSecret's. */}}
{{- define "ecampus-monitor.sessionSecretEnv" -}}
- name: ECAMPUS_MONITOR_HTTP__SESSION_SECRET
  valueFrom:
    secretKeyRef:
      {{- if .Values.secrets.existingSecret }}
      name: {{ .Values.secrets.existingSecret }}
      key: {{ .Values.secrets.keyNames.sessionSecret }}
      optional: true
      {{- else }}
      name: {{ include "ecampus-monitor.fullname" . }}-session
      key: {{ .Values.secrets.keyNames.sessionSecret }}
      {{- end }}
{{- end }}

{{- define "ecampus-monitor.baseEnv" -}}
- name: HOME
  value: /tmp
- name: TMPDIR
  value: /tmp
- name: PYTHONUNBUFFERED
  value: "1"
- name: PYTHONDONTWRITEBYTECODE
  value: "1"
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "ecampus-monitor.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
- name: config
  mountPath: /etc/ecampus-monitor/config
  readOnly: true
{{- if include "ecampus-monitor.hasRouting" . }}
- name: routing
  mountPath: /etc/ecampus-monitor/routing
  readOnly: true
{{- end }}
{{- end }}

{{- define "ecampus-monitor.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpSizeLimit }}
- name: config
  configMap:
    name: {{ include "ecampus-monitor.fullname" . }}
    items:
      - key: config.yaml
        path: config.yaml
{{- if include "ecampus-monitor.hasRouting" . }}
- name: routing
  configMap:
    name: {{ include "ecampus-monitor.routingConfigMapName" . }}
    items:
      - key: {{ .Values.routing.key }}
        path: {{ .Values.routing.key }}
{{- end }}
{{- end }}

{{/* Affinity of one component: (dict "root" $ "component" "worker" "values" .Values.worker). */}}
{{- define "ecampus-monitor.affinity" -}}
{{- if .values.affinity }}
{{- toYaml .values.affinity }}
{{- else if eq .values.podAntiAffinity "hard" }}
podAntiAffinity:
  requiredDuringSchedulingIgnoredDuringExecution:
    - topologyKey: kubernetes.io/hostname
      labelSelector:
        matchLabels:
          {{- include "ecampus-monitor.componentSelectorLabels" . | nindent 10 }}
{{- else if eq .values.podAntiAffinity "soft" }}
podAntiAffinity:
  preferredDuringSchedulingIgnoredDuringExecution:
    - weight: 100
      podAffinityTerm:
        topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            {{- include "ecampus-monitor.componentSelectorLabels" . | nindent 12 }}
{{- end }}
{{- end }}

{{/* The data of the chart's Secret (also used by the migration hook's copy). */}}
{{- define "ecampus-monitor.secretData" -}}
{{- $keys := .Values.secrets.keyNames -}}
{{ $keys.storeUrl }}: {{ .Values.secrets.storeUrl | b64enc | quote }}
{{- with .Values.secrets.smtpPassword }}
{{ $keys.smtpPassword }}: {{ . | b64enc | quote }}
{{- end }}
{{- with .Values.secrets.apiTokens }}
{{ $keys.apiTokens }}: {{ toJson . | b64enc | quote }}
{{- end }}
{{- with .Values.secrets.kafkaSaslPassword }}
{{ $keys.kafkaSaslPassword }}: {{ . | b64enc | quote }}
{{- end }}
{{- end }}
