{{/*
Named helpers of the lwm2m-bridge chart: names and labels, the environment the bridge reads
(src/config/env.ts), the Secret's keys, and the checks that stop rendering on unusable values.
*/}}

{{/* ---------------------------------------------------------------- names and labels */}}

{{- define "lwm2m-bridge.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "lwm2m-bridge.fullname" -}}
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

{{- define "lwm2m-bridge.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "lwm2m-bridge.selectorLabels" -}}
app.kubernetes.io/name: {{ include "lwm2m-bridge.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "lwm2m-bridge.labels" -}}
helm.sh/chart: {{ include "lwm2m-bridge.chart" . }}
{{ include "lwm2m-bridge.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "lwm2m-bridge.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "lwm2m-bridge.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "lwm2m-bridge.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "lwm2m-bridge.profilesConfigMapName" -}}
{{- default (printf "%s-profiles" (include "lwm2m-bridge.fullname" .)) .Values.existingProfilesConfigMap }}
{{- end }}

{{- define "lwm2m-bridge.hasProfiles" -}}
{{- if or .Values.existingProfilesConfigMap (gt (len .Values.profiles) 0) }}true{{ end }}
{{- end }}

{{/* ---------------------------------------------------------------- values as environment strings */}}

{{/* A value as the bridge reads it: integers without exponent (YAML numbers are float64 in Helm). */}}
{{- define "lwm2m-bridge.envString" -}}
{{- if and (kindIs "float64" .) (eq (float64 (int64 .)) .) }}{{ int64 . }}
{{- else }}{{ toString . }}
{{- end }}
{{- end }}

{{/* A list or a comma-separated string, as one comma-separated string. */}}
{{- define "lwm2m-bridge.commaList" -}}
{{- if kindIs "slice" . }}{{ join "," . }}{{ else }}{{ toString . }}{{ end }}
{{- end }}

{{/*
Every non-secret variable the ConfigMap sets, as a YAML map of strings. Empty values are left out
(the bridge treats an empty variable as unset). extraEnv holds only names without a value of their
own (values.schema.json), so nothing here is set twice.
*/}}
{{- define "lwm2m-bridge.configEnv" -}}
{{- $v := .Values }}
{{- $e := dict }}
{{- $_ := set $e "COAP_HOST" $v.coap.host }}
{{- $_ := set $e "COAP_PORT" (include "lwm2m-bridge.envString" $v.coap.port) }}
{{- $_ := set $e "COAPS_PORT" (ternary (include "lwm2m-bridge.envString" $v.coaps.port) "-1" $v.coaps.enabled) }}
{{- $_ := set $e "HTTP_HOST" $v.http.host }}
{{- $_ := set $e "HTTP_PORT" (include "lwm2m-bridge.envString" $v.http.port) }}
{{- $_ := set $e "LOG_LEVEL" $v.logLevel }}
{{- $_ := set $e "UDP_SOCKET_THREAD" $v.udpSocketThread }}
{{- $_ := set $e "SHUTDOWN_TIMEOUT_MS" (include "lwm2m-bridge.envString" $v.shutdownTimeoutMs) }}
{{- $_ := set $e "SHUTDOWN_DRAIN_MS" (include "lwm2m-bridge.envString" $v.shutdownDrainMs) }}
{{- $_ := set $e "DTLS_CID_LENGTH" (include "lwm2m-bridge.envString" $v.dtls.cidLength) }}
{{- $_ := set $e "DTLS_SESSION_TTL_MS" (include "lwm2m-bridge.envString" $v.dtls.sessionTtlMs) }}
{{- $_ := set $e "REDIS_URL" (include "lwm2m-bridge.commaList" (default "" $v.redis.url)) }}
{{- $_ := set $e "REDIS_CLUSTER" (toString $v.redis.cluster) }}
{{- $_ := set $e "REDIS_TLS" (toString $v.redis.tls) }}
{{- $_ := set $e "REDIS_KEY_PREFIX" $v.redis.keyPrefix }}
{{- $_ := set $e "KAFKA_BROKERS" (include "lwm2m-bridge.commaList" (default "" $v.kafka.brokers)) }}
{{- $_ := set $e "KAFKA_CLIENT_ID" $v.kafka.clientId }}
{{- $_ := set $e "KAFKA_TOPIC_PREFIX" $v.kafka.topicPrefix }}
{{- $_ := set $e "KAFKA_TOPIC_TELEMETRY" $v.kafka.topics.telemetry }}
{{- $_ := set $e "KAFKA_TOPIC_ATTRIBUTES" $v.kafka.topics.attributes }}
{{- $_ := set $e "KAFKA_TOPIC_EVENTS" $v.kafka.topics.events }}
{{- $_ := set $e "KAFKA_TOPIC_RPC_REQUESTS" $v.kafka.topics.rpcRequests }}
{{- $_ := set $e "KAFKA_TOPIC_RPC_RESPONSES" $v.kafka.topics.rpcResponses }}
{{- $_ := set $e "KAFKA_TOPIC_DEVICES" $v.kafka.topics.devices }}
{{- $_ := set $e "KAFKA_TOPIC_PROFILES" $v.kafka.topics.profiles }}
{{- $_ := set $e "KAFKA_SSL" (toString $v.kafka.ssl.enabled) }}
{{- $_ := set $e "KAFKA_SASL_MECHANISM" $v.kafka.sasl.mechanism }}
{{- $_ := set $e "KAFKA_MAX_BUFFERED_RECORDS" (include "lwm2m-bridge.envString" $v.kafka.maxBufferedRecords) }}
{{- $_ := set $e "KAFKA_MAX_BUFFERED_BYTES" (include "lwm2m-bridge.envString" $v.kafka.maxBufferedBytes) }}
{{- $_ := set $e "RPC_DEFAULT_TIMEOUT_MS" (include "lwm2m-bridge.envString" $v.rpc.defaultTimeoutMs) }}
{{- $_ := set $e "LWM2M_QUEUE_AWAKE_MS" (include "lwm2m-bridge.envString" $v.rpc.queueAwakeMs) }}
{{- $_ := set $e "INSTANCE_HEARTBEAT_MS" (include "lwm2m-bridge.envString" $v.rpc.heartbeatMs) }}
{{- $_ := set $e "KAFKA_RPC_SESSION_TIMEOUT_MS" (include "lwm2m-bridge.envString" $v.rpc.sessionTimeoutMs) }}
{{- $_ := set $e "KAFKA_RPC_GROUP_ID" $v.rpc.groupId }}
{{- $_ := set $e "PROFILE_RULES" (toJson $v.profileRules) }}
{{- if include "lwm2m-bridge.hasProfiles" . }}
{{- $_ := set $e "PROFILES_DIR" $v.profilesMountPath }}
{{- end }}
{{- range $name, $value := $v.extraEnv }}
{{- $_ := set $e $name (include "lwm2m-bridge.envString" $value) }}
{{- end }}
{{- range $name, $value := $e }}
{{- if eq (toString $value) "" }}{{ $_ := unset $e $name }}{{ end }}
{{- end }}
{{- toYaml $e }}
{{- end }}

{{/* ---------------------------------------------------------------- secrets */}}

{{- define "lwm2m-bridge.secretName" -}}
{{- default (include "lwm2m-bridge.fullname" .) .Values.existingSecret }}
{{- end }}

{{/* Secret keys read as environment variables. */}}
{{- define "lwm2m-bridge.scalarSecretKeys" -}}
HTTP_API_TOKEN DTLS_SHARED_SECRET REDIS_PASSWORD KAFKA_SASL_USERNAME KAFKA_SASL_PASSWORD
{{- end }}

{{/* Secret keys holding PEM text, mounted as files; the variable holds the file's path. */}}
{{- define "lwm2m-bridge.fileSecretKeys" -}}
DTLS_SERVER_KEY DTLS_SERVER_CERT DTLS_TRUSTED_CA KAFKA_SSL_CA KAFKA_SSL_CERT KAFKA_SSL_KEY
{{- end }}

{{/* Scalar keys that must exist (a pod with one missing does not start): space-separated. */}}
{{- define "lwm2m-bridge.requiredSecretKeys" -}}
HTTP_API_TOKEN
{{- if .Values.coaps.enabled }} DTLS_SHARED_SECRET{{ end }}
{{- if .Values.kafka.sasl.mechanism }} KAFKA_SASL_USERNAME KAFKA_SASL_PASSWORD{{ end }}
{{- end }}

{{/* PEM keys present in the Secret: the chart's non-empty values, or existingSecretFiles. */}}
{{- define "lwm2m-bridge.presentFileKeys" -}}
{{- $present := list }}
{{- if .Values.existingSecret }}
{{- $present = .Values.existingSecretFiles }}
{{- else }}
{{- range $key := splitList " " (include "lwm2m-bridge.fileSecretKeys" .) }}
{{- if index $.Values.secrets $key }}{{ $present = append $present $key }}{{ end }}
{{- end }}
{{- end }}
{{- join " " $present }}
{{- end }}

{{/* env entries for the scalar secret keys. */}}
{{- define "lwm2m-bridge.secretEnv" -}}
{{- $required := splitList " " (include "lwm2m-bridge.requiredSecretKeys" .) }}
{{- range $key := splitList " " (include "lwm2m-bridge.scalarSecretKeys" .) }}
{{- if or $.Values.existingSecret (index $.Values.secrets $key) }}
- name: {{ $key }}
  valueFrom:
    secretKeyRef:
      name: {{ include "lwm2m-bridge.secretName" $ }}
      key: {{ $key }}
      {{- if $.Values.existingSecret }}
      optional: {{ not (has $key $required) }}
      {{- end }}
{{- end }}
{{- end }}
{{- range $key := splitList " " (include "lwm2m-bridge.presentFileKeys" .) }}
{{- if $key }}
- name: {{ $key }}
  value: {{ printf "%s/%s" $.Values.secretFilesMountPath $key | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/* ---------------------------------------------------------------- pod spec pieces */}}

{{/* Probes on the HTTP port: /healthz (alive, and start-up), /readyz/serving (not shutting down; Redis
and Kafka are left out on purpose: their outage must not empty the Service, see values.yaml). */}}
{{- define "lwm2m-bridge.probes" -}}
{{- $p := .Values.probes -}}
startupProbe:
  httpGet:
    path: /healthz
    port: http
  periodSeconds: {{ $p.startup.periodSeconds }}
  timeoutSeconds: {{ $p.startup.timeoutSeconds }}
  failureThreshold: {{ $p.startup.failureThreshold }}
livenessProbe:
  httpGet:
    path: /healthz
    port: http
  periodSeconds: {{ $p.liveness.periodSeconds }}
  timeoutSeconds: {{ $p.liveness.timeoutSeconds }}
  failureThreshold: {{ $p.liveness.failureThreshold }}
readinessProbe:
  httpGet:
    path: /readyz/serving
    port: http
  periodSeconds: {{ $p.readiness.periodSeconds }}
  timeoutSeconds: {{ $p.readiness.timeoutSeconds }}
  failureThreshold: {{ $p.readiness.failureThreshold }}
  successThreshold: {{ $p.readiness.successThreshold }}
{{- end }}

{{/* One spread constraint per topology key, over this release's pods. */}}
{{- define "lwm2m-bridge.topologySpread" -}}
{{- $t := .Values.topologySpread }}
{{- if and $t.enabled $t.topologyKeys }}
topologySpreadConstraints:
{{- range $key := $t.topologyKeys }}
  - maxSkew: {{ $t.maxSkew }}
    topologyKey: {{ $key }}
    whenUnsatisfiable: {{ $t.whenUnsatisfiable }}
    labelSelector:
      matchLabels:
        {{- include "lwm2m-bridge.selectorLabels" $ | nindent 8 }}
    matchLabelKeys:
      - pod-template-hash
{{- end }}
{{- end }}
{{- end }}

{{/* ---------------------------------------------------------------- checks */}}

{{/*
Fails rendering with a message naming the values when the release could not work. Single values
(required ones, types, ranges, secrets needed or forbidden) are checked by values.schema.json,
which `helm lint` applies too; these are the checks across values that a schema cannot express.
*/}}
{{- define "lwm2m-bridge.validate" -}}
{{- $v := .Values }}
{{- $files := splitList " " (include "lwm2m-bridge.presentFileKeys" .) }}
{{- if ne (has "KAFKA_SSL_CERT" $files) (has "KAFKA_SSL_KEY" $files) }}
{{- fail "secrets.KAFKA_SSL_CERT and secrets.KAFKA_SSL_KEY go together (mutual TLS towards Kafka needs both)" }}
{{- end }}
{{- if and (has "DTLS_SERVER_CERT" $files) (not (has "DTLS_SERVER_KEY" $files)) }}
{{- fail "secrets.DTLS_SERVER_CERT needs secrets.DTLS_SERVER_KEY (the certificate's private key)" }}
{{- end }}
{{- $shutdown := div (add (int64 $v.shutdownTimeoutMs) 999) 1000 }}
{{- $needed := add (int64 $v.lifecycle.preStopSleepSeconds) $shutdown (int64 $v.shutdownMarginSeconds) }}
{{- if lt (int64 $v.terminationGracePeriodSeconds) $needed }}
{{- fail (printf "terminationGracePeriodSeconds=%d is too short: it must be at least lifecycle.preStopSleepSeconds (%d) + shutdownTimeoutMs/1000 (%d) + shutdownMarginSeconds (%d) = %d, or pods are killed before they have flushed" (int64 $v.terminationGracePeriodSeconds) (int64 $v.lifecycle.preStopSleepSeconds) $shutdown (int64 $v.shutdownMarginSeconds) $needed) }}
{{- end }}
{{- if has $v.http.host (list "127.0.0.1" "localhost" "::1") }}
{{- fail (printf "http.host=%s is a loopback address: the kubelet's probes and Prometheus reach the pod from outside it (use 0.0.0.0, or :: for IPv6)" $v.http.host) }}
{{- end }}
{{- if gt (int64 $v.shutdownDrainMs) (int64 $v.shutdownTimeoutMs) }}
{{- fail (printf "shutdownDrainMs=%d exceeds shutdownTimeoutMs=%d: the drain is part of the shutdown budget" (int64 $v.shutdownDrainMs) (int64 $v.shutdownTimeoutMs)) }}
{{- end }}
{{- if and $v.metrics.serviceMonitor.enabled $v.metrics.podMonitor.enabled }}
{{- fail "metrics.serviceMonitor.enabled and metrics.podMonitor.enabled are both true: every pod would be scraped twice; enable one" }}
{{- end }}
{{- if and $v.existingProfilesConfigMap (gt (len $v.profiles) 0) }}
{{- fail "profiles and existingProfilesConfigMap are both set: give the profile files in one place" }}
{{- end }}
{{- end }}

{{/* ---------------------------------------------------------------- monitoring */}}

{{/* Relabeling every monitor applies: job is the release's full name, whatever scrapes it. */}}
{{- define "lwm2m-bridge.monitorRelabelings" -}}
- action: replace
  targetLabel: job
  replacement: {{ include "lwm2m-bridge.fullname" . }}
{{- end }}

{{/* PromQL matchers of this release's series. */}}
{{- define "lwm2m-bridge.ruleSelector" -}}
{{- default (printf "job=%q,namespace=%q" (include "lwm2m-bridge.fullname" .) .Release.Namespace) .Values.metrics.prometheusRule.selector }}
{{- end }}
