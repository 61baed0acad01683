package deploy

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/cli/values"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/getter"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	"helm.sh/helm/v3/pkg/releaseutil"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

const (
	chartDir       = "helm/custos"
	productionFile = "helm/custos/values-production.yaml"
	release        = "custos"
	namespace      = "custos"
)

// testKube is the cluster version the chart is rendered for: the oldest the
// chart supports (the preStop sleep action needs 1.30).
var testKube = chartutil.KubeVersion{Version: "v1.30.0", Major: "1", Minor: "30"}

// placeholderHash is a key hash no key matches (the SHA-256 of a text that is
// not a Custos key), as a site would put the hash from `custos keys create`.
func placeholderHash(label string) string {
	sum := sha256.Sum256([]byte("placeholder, not a key: " + label))
	return hex.EncodeToString(sum[:])
}

// siteValues is what every site adds to the defaults: tenants with their key
// hashes, endpoints and the audit signing key Secret.
func siteValues() string {
	return fmt.Sprintf(`
config:
  tenants:
    - id: dev
      apps:
        - id: dev
          purpose: development
          keys: [{id: k_dev, sha256: %q}]
  endpoints:
    - name: local-llm
      kind: openai
      provider: vllm
      base_url: http://vllm.models.svc:8000/v1
      region: eu-west
      models: [llama-3.1-70b]
      keyless: true
audit:
  signingKey: {existingSecret: custos-audit-key}
`, placeholderHash("dev"))
}

// policyValuesFile runs deploy/helm/policy-values.sh over the repository's
// policy folder and returns the values file it printed.
func policyValuesFile(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("sh", "helm/policy-values.sh", "../policies").Output()
	if err != nil {
		t.Fatalf("policy-values.sh: %v", err)
	}
	p := filepath.Join(t.TempDir(), "policy-values.yaml")
	if err := os.WriteFile(p, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// mergeValues merges value files and YAML overlays the way `helm -f` does.
func mergeValues(t *testing.T, files []string, overlays []string) map[string]any {
	t.Helper()
	all := append([]string(nil), files...)
	for i, o := range overlays {
		p := filepath.Join(t.TempDir(), fmt.Sprintf("overlay-%d.yaml", i))
		if err := os.WriteFile(p, []byte(o), 0o600); err != nil {
			t.Fatal(err)
		}
		all = append(all, p)
	}
	vals, err := (&values.Options{ValueFiles: all}).MergeValues(getter.Providers{})
	if err != nil {
		t.Fatalf("values: %v", err)
	}
	return vals
}

func loadChart(t *testing.T) *chart.Chart {
	t.Helper()
	c, err := loader.Load(chartDir)
	if err != nil {
		t.Fatalf("loading the chart: %v", err)
	}
	return c
}

// renderChart renders the chart as `helm install` would on testKube.
func renderChart(t *testing.T, vals map[string]any) (map[string]string, error) {
	t.Helper()
	c := loadChart(t)
	if !chartutil.IsCompatibleRange(c.Metadata.KubeVersion, testKube.Version) {
		t.Fatalf("chart kubeVersion %q refuses %s", c.Metadata.KubeVersion, testKube.Version)
	}
	caps := chartutil.DefaultCapabilities.Copy()
	caps.KubeVersion = testKube
	opts := chartutil.ReleaseOptions{Name: release, Namespace: namespace, Revision: 1, IsInstall: true}
	rv, err := chartutil.ToRenderValues(c, vals, opts, caps)
	if err != nil {
		return nil, err
	}
	return engine.Render(c, rv)
}

// serviceMonitor is the part of the Prometheus Operator's ServiceMonitor the
// chart writes; decoding is strict, so a misspelt field fails.
type serviceMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Selector          metav1.LabelSelector `json:"selector"`
		NamespaceSelector struct {
			MatchNames []string `json:"matchNames"`
		} `json:"namespaceSelector"`
		Endpoints []struct {
			Port          string `json:"port"`
			Path          string `json:"path"`
			Interval      string `json:"interval"`
			ScrapeTimeout string `json:"scrapeTimeout"`
		} `json:"endpoints"`
	} `json:"spec"`
}

// rendered is every object of one render, decoded into its API type.
type rendered struct {
	notes          string
	kinds          map[string]int
	sts            *appsv1.StatefulSet
	services       map[string]*corev1.Service
	configMaps     map[string]*corev1.ConfigMap
	serviceAccount *corev1.ServiceAccount
	pdb            *policyv1.PodDisruptionBudget
	netpol         *networkingv1.NetworkPolicy
	monitor        *serviceMonitor
}

func (r *rendered) container(t *testing.T) *corev1.Container {
	t.Helper()
	cs := r.sts.Spec.Template.Spec.Containers
	if len(cs) != 1 || cs[0].Name != "custos" {
		t.Fatalf("want one container named custos, got %d", len(cs))
	}
	return &cs[0]
}

// decode decodes every rendered document strictly (unknown fields fail) into
// its Kubernetes API type.
func decode(t *testing.T, files map[string]string) *rendered {
	t.Helper()
	r := &rendered{kinds: map[string]int{}, services: map[string]*corev1.Service{}, configMaps: map[string]*corev1.ConfigMap{}}
	for name, text := range files {
		if strings.HasSuffix(name, "NOTES.txt") {
			r.notes = text
			continue
		}
		for _, doc := range releaseutil.SplitManifests(text) {
			if strings.TrimSpace(doc) == "" {
				continue
			}
			decodeDoc(t, name, doc, r)
		}
	}
	if r.sts == nil {
		t.Fatal("no StatefulSet rendered")
	}
	return r
}

func decodeDoc(t *testing.T, name, doc string, r *rendered) {
	t.Helper()
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	r.kinds[tm.Kind]++
	var obj any
	switch tm.Kind {
	case "StatefulSet":
		r.sts = &appsv1.StatefulSet{}
		obj = r.sts
	case "Service":
		s := &corev1.Service{}
		obj = s
		defer func() { r.services[s.Name] = s }()
	case "ConfigMap":
		cm := &corev1.ConfigMap{}
		obj = cm
		defer func() { r.configMaps[cm.Name] = cm }()
	case "ServiceAccount":
		r.serviceAccount = &corev1.ServiceAccount{}
		obj = r.serviceAccount
	case "PodDisruptionBudget":
		r.pdb = &policyv1.PodDisruptionBudget{}
		obj = r.pdb
	case "NetworkPolicy":
		r.netpol = &networkingv1.NetworkPolicy{}
		obj = r.netpol
	case "ServiceMonitor":
		r.monitor = &serviceMonitor{}
		obj = r.monitor
	default:
		t.Fatalf("%s: unexpected kind %q", name, tm.Kind)
	}
	if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
		t.Fatalf("%s: %s does not decode strictly: %v\n%s", name, tm.Kind, err, doc)
	}
}

// lintChart runs `helm lint` (chart file, values, templates) with vals and
// fails on any warning or error.
func lintChart(t *testing.T, vals map[string]any) {
	t.Helper()
	l := lint.AllWithKubeVersion(chartDir, vals, namespace, &testKube)
	for _, m := range l.Messages {
		if m.Severity >= support.WarningSev {
			t.Errorf("helm lint: %s", m.Error())
		}
	}
}
