{{/*
The chart's name, or nameOverride.
*/}}
{{- define "posture.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The release's full name: fullnameOverride, or RELEASE-posture (RELEASE alone when it already
contains the chart's name), at most 63 characters.
*/}}
{{- define "posture.fullname" -}}
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

{{/*
chart-version, for the helm.sh/chart label.
*/}}
{{- define "posture.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The labels that select the release's pods (the server's and the migration Job's).
*/}}
{{- define "posture.selectorLabels" -}}
app.kubernetes.io/name: {{ include "posture.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Every object's labels.
*/}}
{{- define "posture.labels" -}}
helm.sh/chart: {{ include "posture.chart" . }}
{{ include "posture.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
The image reference; the tag defaults to the chart's appVersion.
*/}}
{{- define "posture.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/*
The Secret and key holding the PostgreSQL URL (postgres mode).
*/}}
{{- define "posture.databaseSecretName" -}}
{{- if .Values.database.existingSecret }}
{{- .Values.database.existingSecret }}
{{- else }}
{{- include "posture.fullname" . }}
{{- end }}
{{- end }}

{{- define "posture.databaseSecretKey" -}}
{{- if .Values.database.existingSecret }}
{{- .Values.database.existingSecretKey }}
{{- else -}}
database-url
{{- end }}
{{- end }}

{{/*
Whether the chart creates its own Secret: for secretEnv, or for database.url in postgres
mode without an existing Secret.
*/}}
{{- define "posture.ownSecret" -}}
{{- if or .Values.secretEnv (and (eq .Values.mode "postgres") .Values.database.url (not .Values.database.existingSecret)) -}}
true
{{- end }}
{{- end }}

{{/*
Refuses values that cannot work (values.schema.json checks them too).
*/}}
{{- define "posture.validate" -}}
{{- if and (eq .Values.mode "postgres") (not .Values.database.existingSecret) (not .Values.database.url) }}
{{- fail "mode postgres needs database.existingSecret or database.url" }}
{{- end }}
{{- if and .Values.githubApp.existingSecret (not .Values.githubApp.appId) }}
{{- fail "githubApp.existingSecret needs githubApp.appId" }}
{{- end }}
{{- end }}

{{/*
The container's security context, shared by the server and the migration Job.
*/}}
{{- define "posture.containerSecurityContext" -}}
{{- toYaml .Values.securityContext }}
{{- end }}

{{/*
The server pod's template (the StatefulSet's in sqlite mode, the Deployment's in postgres
mode).
*/}}
{{- define "posture.podTemplate" -}}
metadata:
  labels:
    {{- include "posture.selectorLabels" . | nindent 4 }}
    app.kubernetes.io/component: server
    app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
    {{- with .Values.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    checksum/settings: {{ toYaml .Values.settings | sha256sum }}
    checksum/secret: {{ printf "%v%v" .Values.secretEnv .Values.database.url | sha256sum }}
    {{- if .Values.metricsAnnotations }}
    prometheus.io/scrape: "true"
    prometheus.io/port: "8080"
    prometheus.io/path: /metrics
    {{- end }}
    {{- with .Values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  automountServiceAccountToken: false
  enableServiceLinks: false
  {{- with .Values.serviceAccountName }}
  serviceAccountName: {{ . }}
  {{- end }}
  {{- with .Values.priorityClassName }}
  priorityClassName: {{ . }}
  {{- end }}
  {{- with .Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds }}
  securityContext:
    {{- toYaml .Values.podSecurityContext | nindent 4 }}
  containers:
    - name: posture
      image: {{ include "posture.image" . | quote }}
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      args: ["serve", "--listen", "0.0.0.0:8080"]
      ports:
        - name: http
          containerPort: 8080
          protocol: TCP
      env:
        - name: POSTURE_DATABASE_URL
          {{- if eq .Values.mode "sqlite" }}
          value: {{ .Values.database.sqliteUrl | quote }}
          {{- else }}
          valueFrom:
            secretKeyRef:
              name: {{ include "posture.databaseSecretName" . }}
              key: {{ include "posture.databaseSecretKey" . }}
          {{- end }}
        {{- if .Values.githubApp.existingSecret }}
        - name: POSTURE_GITHUB_APP_ID
          value: {{ .Values.githubApp.appId | quote }}
        - name: POSTURE_GITHUB_PRIVATE_KEY_FILE
          value: {{ printf "/etc/posture/github/%s" .Values.githubApp.key | quote }}
        {{- end }}
        {{- if .Values.settings }}
        - name: POSTURE_SETTINGS_FILE
          value: /etc/posture/settings/settings.yml
        {{- end }}
        {{- range $name, $value := .Values.env }}
        - name: {{ $name }}
          value: {{ $value | quote }}
        {{- end }}
      {{- if or .Values.existingSecret .Values.secretEnv }}
      envFrom:
        {{- with .Values.existingSecret }}
        - secretRef:
            name: {{ . }}
        {{- end }}
        {{- if .Values.secretEnv }}
        - secretRef:
            name: {{ include "posture.fullname" . }}
        {{- end }}
      {{- end }}
      volumeMounts:
        - name: tmp
          mountPath: /tmp
        {{- if eq .Values.mode "sqlite" }}
        - name: data
          mountPath: /var/lib/posture
        {{- end }}
        {{- if .Values.githubApp.existingSecret }}
        - name: github-app
          mountPath: /etc/posture/github
          readOnly: true
        {{- end }}
        {{- if .Values.settings }}
        - name: settings
          mountPath: /etc/posture/settings
          readOnly: true
        {{- end }}
      startupProbe:
        httpGet:
          path: /healthz
          port: http
        {{- toYaml .Values.probes.startup | nindent 8 }}
      livenessProbe:
        httpGet:
          path: /healthz
          port: http
        {{- toYaml .Values.probes.liveness | nindent 8 }}
      readinessProbe:
        httpGet:
          path: /readyz
          port: http
        {{- toYaml .Values.probes.readiness | nindent 8 }}
      resources:
        {{- toYaml .Values.resources | nindent 8 }}
      securityContext:
        {{- include "posture.containerSecurityContext" . | nindent 8 }}
  volumes:
    - name: tmp
      emptyDir:
        sizeLimit: {{ .Values.tmp.sizeLimit }}
    {{- if .Values.githubApp.existingSecret }}
    - name: github-app
      secret:
        secretName: {{ .Values.githubApp.existingSecret }}
        defaultMode: 288 # 0440: the pod's group (fsGroup) reads it
        items:
          - key: {{ .Values.githubApp.key }}
            path: {{ .Values.githubApp.key }}
    {{- end }}
    {{- if .Values.settings }}
    - name: settings
      configMap:
        name: {{ include "posture.fullname" . }}
    {{- end }}
  {{- with .Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- if eq .Values.mode "postgres" }}
  topologySpreadConstraints:
    {{- with .Values.topologySpreadConstraints }}
    {{- toYaml . | nindent 4 }}
    {{- else }}
    - maxSkew: 1
      topologyKey: kubernetes.io/hostname
      whenUnsatisfiable: ScheduleAnyway
      labelSelector:
        matchLabels:
          {{- include "posture.selectorLabels" . | nindent 10 }}
          app.kubernetes.io/component: server
    {{- end }}
  {{- end }}
{{- end }}
