{{/* Names and labels. */}}
{{- define "custos.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "custos.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "custos.selectorLabels" -}}
app.kubernetes.io/name: {{ include "custos.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "custos.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "custos.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "custos.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "custos.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "custos.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* Paths inside the pod. Secrets and ConfigMaps are mounted as directories. */}}
{{- define "custos.paths" -}}
config: /etc/custos/custos.yaml
tlsDir: /etc/custos/tls
auditKeyDir: /etc/custos/audit-key
vaultCADir: /etc/custos/vault-ca
vaultAppRoleDir: /etc/custos/vault-approle
vaultTokenDir: /etc/custos/vault-token
vaultJWTDir: /var/run/secrets/vault
{{- end -}}

{{/*
custos.policyItems: the policy files as a list of {key, path}, key being the
ConfigMap key (a path's "/" written "__") and path the file's place under the
policy directory. Refuses paths that would leave the directory or collide.
*/}}
{{- define "custos.policyItems" -}}
{{- $items := list -}}
{{- $seen := dict -}}
{{- range $path, $_ := .Values.policies.files -}}
{{- if or (hasPrefix "/" $path) (regexMatch "(^|/)\\.\\.($|/)" $path) (not (regexMatch "^[-._a-zA-Z0-9/]+$" $path)) (hasSuffix "/" $path) (contains "//" $path) -}}
{{- fail (printf "policies.files: %q must be a relative path of letters, digits, '-', '_', '.' and '/' inside the policy directory" $path) -}}
{{- end -}}
{{- $key := replace "/" "__" $path -}}
{{- if hasKey $seen $key -}}
{{- fail (printf "policies.files: %q and %q map to the same ConfigMap key %q" (get $seen $key) $path $key) -}}
{{- end -}}
{{- $_ := set $seen $key $path -}}
{{- $items = append $items (dict "key" $key "path" $path) -}}
{{- end -}}
{{- toJson $items -}}
{{- end -}}

{{/* custos.check: refuses values that cannot make a working, compliant gateway. */}}
{{- define "custos.check" -}}
{{- $v := .Values -}}
{{- if not $v.config.tenants -}}
{{- fail "config.tenants is required: at least one tenant with its apps and key hashes (from `custos keys create`)" -}}
{{- end -}}
{{- if not $v.config.endpoints -}}
{{- fail "config.endpoints is required: at least one provider endpoint" -}}
{{- end -}}
{{- if and $v.audit.signingKey.existingSecret $v.audit.vaultTransitKey -}}
{{- fail "audit: set either signingKey.existingSecret or vaultTransitKey, not both" -}}
{{- end -}}
{{- if not (or $v.audit.signingKey.existingSecret $v.audit.vaultTransitKey) -}}
{{- fail "audit: checkpoints are signed: set audit.signingKey.existingSecret (a Secret holding a key from `custos audit keygen`) or audit.vaultTransitKey" -}}
{{- end -}}
{{- if and $v.audit.vaultTransitKey (not $v.vault.auth.method) -}}
{{- fail "audit.vaultTransitKey needs vault.auth.method" -}}
{{- end -}}
{{- $method := $v.vault.auth.method -}}
{{- if not (has $method (list "" "approle" "kubernetes" "token")) -}}
{{- fail (printf "vault.auth.method: %q is not approle, kubernetes or token" $method) -}}
{{- end -}}
{{- if and $method (not $v.vault.address) -}}
{{- fail "vault.address is required with vault.auth.method" -}}
{{- end -}}
{{- if and (eq $method "approle") (not $v.vault.auth.approle.existingSecret) -}}
{{- fail "vault.auth.approle.existingSecret is required for AppRole auth (a Secret with the role id and secret id)" -}}
{{- end -}}
{{- if and (eq $method "kubernetes") (not $v.vault.auth.kubernetes.role) -}}
{{- fail "vault.auth.kubernetes.role is required for Kubernetes auth" -}}
{{- end -}}
{{- if and (eq $method "token") (not $v.vault.auth.token.existingSecret) -}}
{{- fail "vault.auth.token.existingSecret is required for token auth" -}}
{{- end -}}
{{- if and $v.tls.enabled (not $v.tls.existingSecret) -}}
{{- fail "tls.existingSecret is required when tls.enabled (a kubernetes.io/tls Secret)" -}}
{{- end -}}
{{- if not (has $v.tracing.protocol (list "http" "grpc")) -}}
{{- fail (printf "tracing.protocol: %q is not http or grpc" $v.tracing.protocol) -}}
{{- end -}}
{{- if lt (int $v.terminationGracePeriodSeconds) (add (int $v.preStopSleepSeconds) 35 | int) -}}
{{- fail (printf "terminationGracePeriodSeconds (%d) must be at least preStopSleepSeconds (%d) + 35: Custos drains requests for up to 30 s after SIGTERM, then signs the audit head" (int $v.terminationGracePeriodSeconds) (int $v.preStopSleepSeconds)) -}}
{{- end -}}
{{- $ledger := $v.accounting.ledger -}}
{{- if not (has $ledger (list "" "bbolt" "postgres")) -}}
{{- fail (printf "accounting.ledger: %q is not bbolt or postgres" $ledger) -}}
{{- end -}}
{{- if eq $ledger "postgres" -}}
{{- $pg := $v.accounting.postgres -}}
{{- if not $pg.dsn -}}
{{- fail "accounting.postgres.dsn is required for the postgres ledger" -}}
{{- end -}}
{{- if regexMatch "(?i)(password=|://[^/@]*:[^/@]*@)" $pg.dsn -}}
{{- fail "accounting.postgres.dsn must not carry a password: it is read from Vault (accounting.postgres.password)" -}}
{{- end -}}
{{- if not (and $pg.password.mount $pg.password.path $pg.password.field) -}}
{{- fail "accounting.postgres.password needs mount, path and field (a Vault KV v2 secret)" -}}
{{- end -}}
{{- if not $method -}}
{{- fail "accounting.postgres.password is read from Vault: set vault.auth.method" -}}
{{- end -}}
{{- end -}}
{{- if and (eq $ledger "bbolt") (gt (int $v.replicaCount) 1) -}}
{{- fail "accounting.ledger bbolt is one ledger per replica: with replicaCount > 1 use postgres" -}}
{{- end -}}
{{- end -}}

{{/*
custos.config: the rendered custos.yaml. Paths follow the mounts of the
StatefulSet; the sections under .Values.config pass through unchanged.
*/}}
{{- define "custos.config" -}}
{{- $v := .Values -}}
{{- $p := include "custos.paths" . | fromYaml -}}
{{- $cfg := dict "listen" (printf "0.0.0.0:%d" (int $v.containerPort)) -}}
{{- if $v.tls.enabled -}}
{{- $_ := set $cfg "tls" (dict "cert_file" (printf "%s/tls.crt" $p.tlsDir) "key_file" (printf "%s/tls.key" $p.tlsDir)) -}}
{{- end -}}
{{- if $v.metrics.enabled -}}
{{- $_ := set $cfg "metrics" (dict "listen" (printf "0.0.0.0:%d" (int $v.metrics.port)) "path" $v.metrics.path) -}}
{{- end -}}
{{- if $v.tracing.otlpEndpoint -}}
{{- $_ := set $cfg "tracing" (dict "otlp_endpoint" $v.tracing.otlpEndpoint "protocol" $v.tracing.protocol) -}}
{{- end -}}
{{- $policy := dict -}}
{{- if $v.policies.files -}}
{{- $_ := set $policy "dir" $v.policies.mountPath -}}
{{- $_ := set $policy "watch" $v.policies.watch -}}
{{- end -}}
{{- with $v.policies.timeout -}}
{{- $_ := set $policy "timeout" . -}}
{{- end -}}
{{- if $policy -}}
{{- $_ := set $cfg "policy" $policy -}}
{{- end -}}
{{- $a := $v.audit -}}
{{- $audit := dict "path" (printf "%s/%s" $v.persistence.mountPath $a.file) "checkpoint_every" $a.checkpointEvery "checkpoint_interval" $a.checkpointInterval "record_client_ip" $a.recordClientIP "rotate_monthly" $a.rotateMonthly -}}
{{- if $a.signingKey.existingSecret -}}
{{- $_ := set $audit "signing_key_file" (printf "%s/%s" $p.auditKeyDir $a.signingKey.key) -}}
{{- else -}}
{{- $_ := set $audit "vault_transit_key" $a.vaultTransitKey -}}
{{- with $a.vaultTransitMount -}}
{{- $_ := set $audit "vault_transit_mount" . -}}
{{- end -}}
{{- end -}}
{{- if $a.checkpoints.enabled -}}
{{- $_ := set $audit "checkpoint_file" (printf "%s/%s" $a.checkpoints.mountPath $a.checkpoints.file) -}}
{{- end -}}
{{- $_ := set $cfg "audit" $audit -}}
{{- $vlt := $v.vault -}}
{{- if $vlt.auth.method -}}
{{- $vault := dict "address" $vlt.address -}}
{{- if $vlt.caSecret -}}
{{- $_ := set $vault "ca_file" (printf "%s/%s" $p.vaultCADir $vlt.caKey) -}}
{{- end -}}
{{- with $vlt.cacheTTL -}}
{{- $_ := set $vault "cache_ttl" . -}}
{{- end -}}
{{- with $vlt.staleWindow -}}
{{- $_ := set $vault "stale_window" . -}}
{{- end -}}
{{- $auth := dict "method" $vlt.auth.method -}}
{{- with $vlt.auth.mount -}}
{{- $_ := set $auth "mount" . -}}
{{- end -}}
{{- if eq $vlt.auth.method "approle" -}}
{{- $_ := set $auth "role_id_file" (printf "%s/%s" $p.vaultAppRoleDir $vlt.auth.approle.roleIdKey) -}}
{{- $_ := set $auth "secret_id_file" (printf "%s/%s" $p.vaultAppRoleDir $vlt.auth.approle.secretIdKey) -}}
{{- else if eq $vlt.auth.method "kubernetes" -}}
{{- $_ := set $auth "kubernetes_role" $vlt.auth.kubernetes.role -}}
{{- $_ := set $auth "jwt_file" (printf "%s/token" $p.vaultJWTDir) -}}
{{- else if eq $vlt.auth.method "token" -}}
{{- $_ := set $auth "token_file" (printf "%s/%s" $p.vaultTokenDir $vlt.auth.token.key) -}}
{{- end -}}
{{- $_ := set $vault "auth" $auth -}}
{{- $_ := set $cfg "vault" $vault -}}
{{- end -}}
{{- $acc := dict -}}
{{- with $v.accounting.ledger -}}
{{- $_ := set $acc "ledger" . -}}
{{- end -}}
{{- if eq $v.accounting.ledger "postgres" -}}
{{- $pgc := dict "dsn" $v.accounting.postgres.dsn "password" $v.accounting.postgres.password -}}
{{- with $v.accounting.postgres.maxConns -}}
{{- $_ := set $pgc "max_conns" (int .) -}}
{{- end -}}
{{- with $v.accounting.postgres.timeout -}}
{{- $_ := set $pgc "timeout" . -}}
{{- end -}}
{{- $_ := set $acc "postgres" $pgc -}}
{{- /* every replica leases its share of the shared rate limits */ -}}
{{- $_ := set $acc "replicas" (int $v.replicaCount) -}}
{{- end -}}
{{- with $v.accounting.holdTTL -}}
{{- $_ := set $acc "hold_ttl" . -}}
{{- end -}}
{{- with $v.accounting.budgets -}}
{{- $_ := set $acc "budgets" . -}}
{{- end -}}
{{- with $v.accounting.finance -}}
{{- $_ := set $acc "finance" . -}}
{{- end -}}
{{- if $acc -}}
{{- $_ := set $cfg "accounting" $acc -}}
{{- end -}}
{{- range $k := list "log" "limits" "upstream" "routing" "auditors" "tenants" "endpoints" -}}
{{- with index $v.config $k -}}
{{- $_ := set $cfg $k . -}}
{{- end -}}
{{- end -}}
{{- range $k, $_ := $v.config -}}
{{- if not (has $k (list "log" "limits" "upstream" "routing" "auditors" "tenants" "endpoints")) -}}
{{- fail (printf "config.%s: not a pass-through section (log, limits, upstream, routing, auditors, tenants, endpoints); the chart sets the others from its own values" $k) -}}
{{- end -}}
{{- end -}}
{{- toYaml $cfg -}}
{{- end -}}
