package deploy

import (
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chartutil"
	corev1 "k8s.io/api/core/v1"
)

// chartCase is one way of installing the chart that must render.
type chartCase struct {
	name     string
	files    []string // -f files, relative to deploy/
	overlays []string // YAML applied after the files
	policies bool     // also ship the repository's policies (policy-values.sh)
	check    func(t *testing.T, r *rendered, c *parsedConfig)
}

var chartCases = []chartCase{
	{
		name:     "defaults",
		overlays: []string{siteValues()},
		check:    checkDefaults,
	},
	{
		name:  "production",
		files: []string{productionFile},
		check: checkProduction,
	},
	{
		name:     "production with policies and the PostgreSQL ledger",
		files:    []string{productionFile},
		policies: true,
		overlays: []string{`
accounting:
  ledger: postgres
  postgres:
    dsn: postgres://custos@postgres.db.svc:5432/custos?sslmode=verify-full
    password: {mount: secret, path: custos/postgres, field: password}
tracing: {otlpEndpoint: "otel-collector.observability.svc:4317", protocol: grpc}
`},
		check: checkPoliciesAndLedger,
	},
	{
		name:     "production without the shared ledger",
		files:    []string{productionFile},
		overlays: []string{"accounting: {ledger: \"\", finance: [], holdTTL: \"\"}"},
		check:    checkPerReplicaWarning,
	},
	{
		name: "kubernetes auth",
		overlays: []string{siteValues(), `
vault:
  address: https://vault.internal:8200
  auth:
    method: kubernetes
    kubernetes: {role: custos}
`},
		check: checkKubernetesAuth,
	},
	{
		name: "token auth, no metrics, no persistence",
		overlays: []string{siteValues(), `
metrics: {enabled: false}
persistence: {enabled: false}
podDisruptionBudget: {enabled: false}
vault:
  address: http://vault.dev.svc:8200
  auth:
    method: token
    token: {existingSecret: custos-vault-token}
`},
		check: checkMinimal,
	},
}

func TestChartRenders(t *testing.T) {
	for _, tc := range chartCases {
		t.Run(tc.name, func(t *testing.T) {
			files := tc.files
			if tc.policies {
				files = append(append([]string(nil), files...), policyValuesFile(t))
			}
			vals := mergeValues(t, files, tc.overlays)
			out, err := renderChart(t, vals)
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			r := decode(t, out)
			c := checkConfigMap(t, r)
			checkWorkload(t, r, c)
			checkSecurity(t, r)
			checkMounts(t, r, c)
			checkServices(t, r, c)
			tc.check(t, r, c)
			lintChart(t, vals)
		})
	}
}

func checkDefaults(t *testing.T, r *rendered, c *parsedConfig) {
	if n := *r.sts.Spec.Replicas; n != 1 {
		t.Errorf("replicas %d, want 1", n)
	}
	if c.cfg.Listen != "0.0.0.0:8080" {
		t.Errorf("listen %q, want 0.0.0.0:8080", c.cfg.Listen)
	}
	if got := c.pendingString("metrics", "listen"); got != "0.0.0.0:9090" {
		t.Errorf("metrics.listen %q, want 0.0.0.0:9090 (metrics on by default)", got)
	}
	if got := c.pendingString("metrics", "path"); got != "/metrics" {
		t.Errorf("metrics.path %q, want /metrics", got)
	}
	for _, s := range []string{"tracing", "accounting"} {
		if c.has(s) {
			t.Errorf("%s rendered by default; it must be off until configured", s)
		}
	}
	if c.cfg.Policy.Dir != "" || r.configMaps["custos-policies"] != nil {
		t.Error("default install must serve the embedded policies, not a ConfigMap")
	}
	if c.cfg.Vault.Configured() || c.cfg.TLS.Enabled() {
		t.Error("default install configures neither Vault nor TLS")
	}
	// The checkpoints (the anchor of the audit chain's head) are on a claim
	// of their own by default: Custos requires them outside development.
	wantClaims(t, r, map[string]string{"audit": "10Gi", "checkpoints": "1Gi"})
	if pdb := r.pdb; pdb == nil || pdb.Spec.MaxUnavailable == nil || pdb.Spec.MaxUnavailable.IntValue() != 1 || pdb.Spec.MinAvailable != nil {
		t.Errorf("default PDB must be maxUnavailable 1 (a single replica can still be drained): %+v", r.pdb)
	}
	if r.monitor != nil || r.netpol != nil {
		t.Error("ServiceMonitor and NetworkPolicy are opt-in")
	}
	if strings.Contains(r.notes, "signed checkpoints have no second location") {
		t.Error("NOTES warn of missing checkpoints, which are on by default")
	}
}

func checkProduction(t *testing.T, r *rendered, c *parsedConfig) {
	if n := *r.sts.Spec.Replicas; n != 3 {
		t.Errorf("replicas %d, want 3", n)
	}
	if pdb := r.pdb; pdb == nil || pdb.Spec.MinAvailable == nil || pdb.Spec.MinAvailable.IntValue() != 2 || pdb.Spec.MaxUnavailable != nil {
		t.Errorf("production PDB must be minAvailable 2: %+v", r.pdb)
	}
	wantClaims(t, r, map[string]string{"audit": "50Gi", "checkpoints": "1Gi"})
	if c.cfg.Audit.CheckpointFile == "" || c.cfg.Audit.VaultTransitKey != "custos-audit" || c.cfg.Audit.SigningKeyFile != "" {
		t.Errorf("production audit: checkpoint file %q, transit key %q, key file %q",
			c.cfg.Audit.CheckpointFile, c.cfg.Audit.VaultTransitKey, c.cfg.Audit.SigningKeyFile)
	}
	if !c.cfg.TLS.Enabled() {
		t.Error("production terminates TLS")
	}
	a := c.cfg.Vault.Auth
	if a.Method != "approle" || a.RoleIDFile == "" || a.SecretIDFile == "" || c.cfg.Vault.CAFile == "" {
		t.Errorf("production Vault auth: %+v, ca %q", a, c.cfg.Vault.CAFile)
	}
	if p := r.sts.Spec.PersistentVolumeClaimRetentionPolicy; p == nil || p.WhenDeleted != "Retain" || p.WhenScaled != "Retain" {
		t.Errorf("audit claims must be retained: %+v", p)
	}
	if r.monitor == nil || len(r.monitor.Spec.Endpoints) != 1 || r.monitor.Spec.Endpoints[0].Port != "metrics" ||
		r.monitor.Spec.Endpoints[0].Path != "/metrics" || r.monitor.Spec.Selector.MatchLabels["custos.io/service"] != "main" {
		t.Errorf("production ServiceMonitor: %+v", r.monitor)
	}
	checkNetworkPolicy(t, r)
	if len(r.sts.Spec.Template.Spec.TopologySpreadConstraints) != 2 {
		t.Error("production spreads replicas over zones and nodes")
	}
	if c.cfg.Accounting.Ledger != "postgres" || c.cfg.Accounting.Replicas != 3 || len(c.cfg.Accounting.Finance) != 1 {
		t.Errorf("the production example's three replicas share the PostgreSQL ledger: %+v", c.cfg.Accounting)
	}
	if strings.Contains(r.notes, "kept per replica") {
		t.Error("NOTES warn of per-replica accounting though the ledger is shared")
	}
}

// checkPerReplicaWarning: several replicas without the shared ledger are
// warned of in NOTES.
func checkPerReplicaWarning(t *testing.T, r *rendered, c *parsedConfig) {
	if !strings.Contains(r.notes, "kept per replica") || c.cfg.Accounting.Ledger != "" {
		t.Errorf("NOTES must warn that accounting is per replica without the PostgreSQL ledger: %q", r.notes)
	}
}

func checkNetworkPolicy(t *testing.T, r *rendered) {
	np := r.netpol
	if np == nil {
		t.Fatal("production renders a NetworkPolicy")
	}
	if len(np.Spec.Ingress) != 2 {
		t.Fatalf("NetworkPolicy ingress rules: %d, want api and metrics", len(np.Spec.Ingress))
	}
	for i, port := range []string{"api", "metrics"} {
		in := np.Spec.Ingress[i]
		if len(in.Ports) != 1 || in.Ports[0].Port.String() != port || len(in.From) == 0 {
			t.Errorf("ingress rule %d: %+v, want port %s from the configured peers", i, in, port)
		}
	}
}

func checkPoliciesAndLedger(t *testing.T, r *rendered, c *parsedConfig) {
	checkPolicyConfigMap(t, r, c)
	if got := c.pendingString("accounting", "ledger"); got != "postgres" {
		t.Errorf("accounting.ledger %q, want postgres", got)
	}
	if got := c.pendingString("accounting", "postgres", "dsn"); !strings.HasPrefix(got, "postgres://custos@") {
		t.Errorf("accounting.postgres.dsn %q", got)
	}
	if got := c.pendingString("accounting", "postgres", "password", "path"); got != "custos/postgres" {
		t.Errorf("accounting.postgres.password.path %q", got)
	}
	// Every replica leases its share of the shared limits: the chart says
	// how many there are.
	if sts := r.sts; c.cfg.Accounting.Replicas != int(*sts.Spec.Replicas) || c.cfg.Accounting.Ledger != "postgres" {
		t.Errorf("accounting %+v for %d replicas", c.cfg.Accounting, *sts.Spec.Replicas)
	}
	if got := c.pendingString("tracing", "protocol"); got != "grpc" {
		t.Errorf("tracing.protocol %q, want grpc", got)
	}
	if strings.Contains(r.notes, "kept per replica") {
		t.Error("with the PostgreSQL ledger, NOTES must not warn about per-replica accounting")
	}
}

func checkKubernetesAuth(t *testing.T, r *rendered, c *parsedConfig) {
	a := c.cfg.Vault.Auth
	if a.Method != "kubernetes" || a.KubernetesRole != "custos" || a.JWTFile == "" {
		t.Fatalf("kubernetes auth: %+v", a)
	}
	v := volumeFor(t, r, a.JWTFile)
	if v.Projected == nil || len(v.Projected.Sources) != 1 || v.Projected.Sources[0].ServiceAccountToken == nil {
		t.Fatalf("jwt_file %s must come from a projected service-account token", a.JWTFile)
	}
	tok := v.Projected.Sources[0].ServiceAccountToken
	if tok.Audience != "vault" || tok.ExpirationSeconds == nil || *tok.ExpirationSeconds <= 0 {
		t.Errorf("projected token: audience %q, expiration %v", tok.Audience, tok.ExpirationSeconds)
	}
	if r.serviceAccount == nil || r.sts.Spec.Template.Spec.ServiceAccountName != r.serviceAccount.Name {
		t.Error("the pod runs as the chart's ServiceAccount, the one Vault's role is bound to")
	}
}

func checkMinimal(t *testing.T, r *rendered, c *parsedConfig) {
	if c.has("metrics") || r.kinds["ServiceMonitor"] != 0 {
		t.Error("metrics disabled, yet rendered")
	}
	for _, p := range r.container(t).Ports {
		if p.Name == "metrics" {
			t.Error("metrics disabled, yet the container exposes a metrics port")
		}
	}
	if len(r.sts.Spec.VolumeClaimTemplates) != 0 {
		t.Error("persistence disabled, yet claims are templated")
	}
	if v := volumeFor(t, r, c.cfg.Audit.Path); v.EmptyDir == nil {
		t.Errorf("without persistence the audit log is on an emptyDir, got %+v", v.VolumeSource)
	}
	if !strings.Contains(r.notes, "lost with the pod") {
		t.Error("NOTES must warn that the audit log is lost without persistence")
	}
	if r.pdb != nil {
		t.Error("PDB disabled, yet rendered")
	}
	if v := volumeFor(t, r, c.cfg.Vault.Auth.TokenFile); v.Secret == nil || v.Secret.SecretName != "custos-vault-token" {
		t.Errorf("token_file must come from Secret custos-vault-token: %+v", v.VolumeSource)
	}
}

// wantClaims checks the StatefulSet's volume claim templates: names, sizes,
// ReadWriteOnce.
func wantClaims(t *testing.T, r *rendered, want map[string]string) {
	t.Helper()
	got := map[string]corev1.PersistentVolumeClaim{}
	for _, pvc := range r.sts.Spec.VolumeClaimTemplates {
		got[pvc.Name] = pvc
	}
	if len(got) != len(want) {
		t.Errorf("claim templates %v, want %v", keys(got), want)
	}
	for name, size := range want {
		pvc, ok := got[name]
		if !ok {
			t.Errorf("no claim template %q", name)
			continue
		}
		if q := pvc.Spec.Resources.Requests[corev1.ResourceStorage]; q.String() != size {
			t.Errorf("claim %s: size %s, want %s", name, q.String(), size)
		}
		if len(pvc.Spec.AccessModes) != 1 || pvc.Spec.AccessModes[0] != corev1.ReadWriteOnce {
			t.Errorf("claim %s: access modes %v, want [ReadWriteOnce]", name, pvc.Spec.AccessModes)
		}
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestChartRefuses: values that cannot make a working, compliant gateway stop
// the render with a message naming the value.
func TestChartRefuses(t *testing.T) {
	cases := []struct {
		name     string
		files    []string
		overlays []string
		want     string
	}{
		{"no site values", nil, nil, "config.tenants is required"},
		{"misspelt value", nil, []string{siteValues(), "replicas: 3"}, "additional properties 'replicas' not allowed"},
		{"bad duration", nil, []string{siteValues(), "audit: {checkpointInterval: 5 minutes}"}, "checkpointInterval"},
		{"no endpoints", nil, []string{siteValues(), "config: {endpoints: []}"}, "config.endpoints is required"},
		{"no signing key", nil, []string{siteValues(), "audit: {signingKey: {existingSecret: ''}}"}, "checkpoints are signed"},
		{"two signing keys", nil, []string{siteValues(), "audit: {vaultTransitKey: custos-audit}"}, "not both"},
		{"grace period shorter than the drain", nil, []string{siteValues(), "terminationGracePeriodSeconds: 30"}, "must be at least"},
		{"AppRole without its Secret", nil, []string{siteValues(), "vault: {address: 'https://v:8200', auth: {method: approle}}"}, "approle.existingSecret is required"},
		{"Vault without an address", nil, []string{siteValues(), "vault: {auth: {method: kubernetes, kubernetes: {role: custos}}}"}, "vault.address is required"},
		{"TLS without its Secret", nil, []string{siteValues(), "tls: {enabled: true}"}, "tls.existingSecret is required"},
		{"unknown tracing protocol", nil, []string{siteValues(), "tracing: {otlpEndpoint: 'c:4317', protocol: thrift}"}, "tracing.protocol"},
		{"chart-managed section passed through", nil, []string{siteValues(), "config: {audit: {path: /tmp/a.db}}"}, "not a pass-through section"},
		{"policy path leaving the directory", nil, []string{siteValues(), "policies: {files: {'../x.rego': 'package x'}}"}, "must be a relative path"},
		{"policy paths colliding", nil, []string{siteValues(), "policies: {files: {'a/b.rego': 'package a', 'a__b.rego': 'package b'}}"}, "same ConfigMap key"},
		{"password in the DSN", []string{productionFile}, []string{`
accounting: {ledger: postgres, postgres: {dsn: 'postgres://custos:s3cret@db:5432/custos', password: {mount: secret, path: custos/pg, field: password}}}`}, "must not carry a password"},
		{"ledger password not in Vault", []string{productionFile}, []string{`
accounting: {ledger: postgres, postgres: {dsn: 'postgres://custos@db:5432/custos', password: {mount: '', path: '', field: ''}}}`}, "needs mount, path and field"},
		{"bbolt ledger for several replicas", []string{productionFile}, []string{"accounting: {ledger: bbolt}"}, "use postgres"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := renderChart(t, mergeValues(t, tc.files, tc.overlays))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("render error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// The preStop sleep action needs Kubernetes 1.30: older clusters are refused
// by the chart's kubeVersion rather than failing at pod creation.
func TestChartKubeVersion(t *testing.T) {
	c := loadChart(t)
	for v, want := range map[string]bool{"v1.29.9": false, "v1.30.0": true, "v1.34.1": true} {
		if got := chartutil.IsCompatibleRange(c.Metadata.KubeVersion, v); got != want {
			t.Errorf("kubeVersion %q accepts %s: %v, want %v", c.Metadata.KubeVersion, v, got, want)
		}
	}
}
