{{/* Chart name, truncated to 63 characters (a DNS label). */}}
{{- define "clientvpn-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: <release>-<chart>, or the release name when it already contains the chart name. */}}
{{- define "clientvpn-operator.fullname" -}}
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

{{- define "clientvpn-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every object. */}}
{{- define "clientvpn-operator.labels" -}}
helm.sh/chart: {{ include "clientvpn-operator.chart" . }}
{{ include "clientvpn-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: clientvpn-operator
{{- end }}

{{/* Selector labels: name and instance only (a Deployment selector is immutable). */}}
{{- define "clientvpn-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "clientvpn-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "clientvpn-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "clientvpn-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "clientvpn-operator.leaseName" -}}
{{- default (include "clientvpn-operator.fullname" .) .Values.leaderElection.leaseName }}
{{- end }}

{{- define "clientvpn-operator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
What the operator does with Kubernetes objects, wherever it watches: its own resources (and
their status and finalizers), events about them, the ConfigMaps it writes (exported client
configuration) and the Secrets that hold certificates, user profiles and revocation records.
Nothing else: no Pods, no cluster-scoped objects.
*/}}
{{- define "clientvpn-operator.rules" -}}
- apiGroups: ["clientvpn.io"]
  resources: ["clientvpnendpoints"]
  verbs: ["get", "list", "watch", "patch", "update"]
# get/patch/update by the endpoint controller; patch (server-side apply of revocationList and
# connections, field manager clientvpn-operator-access) by the users controller.
- apiGroups: ["clientvpn.io"]
  resources: ["clientvpnendpoints/status"]
  verbs: ["get", "patch", "update"]
- apiGroups: ["clientvpn.io"]
  resources: ["clientvpnendpoints/finalizers"]
  verbs: ["update"]
# ClientVpnUser: watched; the finalizer clientvpn.io/revoke by merge patch; status by
# server-side apply. finalizers/update lets the operator set blockOwnerDeletion on the user's
# <name>-vpn Secret (as for endpoints).
- apiGroups: ["clientvpn.io"]
  resources: ["clientvpnusers"]
  verbs: ["get", "list", "watch", "patch"]
- apiGroups: ["clientvpn.io"]
  resources: ["clientvpnusers/status"]
  verbs: ["patch"]
- apiGroups: ["clientvpn.io"]
  resources: ["clientvpnusers/finalizers"]
  verbs: ["update"]
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["get", "create", "patch"]
# Secrets holding certificates (spec.serverCertificate, clientRootCertificateChainSecretRef,
# a ClientVpnUser's certificateSecretRef), user profiles and revocation records:
#   get          read the kubernetes.io/tls Secret a spec names (e.g. written by cert-manager),
#                the client CA, and an endpoint's <endpoint>-revocations record;
#   list, watch  a metadata-only watch notices renewals within seconds (no key material cached);
#   create       a user's new <name>-vpn Secret, the first server-side apply of a managed CA's
#                <name>-ca / <name>-server, and the first <endpoint>-revocations record;
#   patch        later server-side applies of those (renewed certificates, new profiles);
#   update       the revocation record is replaced with optimistic concurrency
#                (resourceVersion), so that two writers never lose a revoked serial.
# No delete (owner references garbage-collect every Secret the operator writes with its object).
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "list", "watch", "create", "patch", "update"]
{{- end }}
