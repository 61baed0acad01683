package deploy

import (
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// drainSeconds is how long `custos serve` drains requests after SIGTERM.
const drainSeconds = 30

func portOf(t *testing.T, hostport string) int32 {
	t.Helper()
	_, p, err := net.SplitHostPort(hostport)
	if err != nil {
		t.Fatalf("%q is not host:port", hostport)
	}
	n, err := strconv.ParseInt(p, 10, 32)
	if err != nil {
		t.Fatalf("%q: bad port", hostport)
	}
	return int32(n)
}

func containerPort(ctr *corev1.Container, name string) (int32, bool) {
	for _, p := range ctr.Ports {
		if p.Name == name {
			return p.ContainerPort, true
		}
	}
	return 0, false
}

// checkWorkload checks the container's command, ports, probes, graceful
// termination and resources against the rendered configuration.
func checkWorkload(t *testing.T, r *rendered, c *parsedConfig) {
	ctr := r.container(t)
	if want := []string{"serve", "--config", "/etc/custos/custos.yaml"}; !slices.Equal(ctr.Args, want) {
		t.Errorf("args %v, want %v", ctr.Args, want)
	}
	if api, ok := containerPort(ctr, "api"); !ok || api != portOf(t, c.cfg.Listen) {
		t.Errorf("container port api %d does not match listen %s", api, c.cfg.Listen)
	}
	metrics, ok := containerPort(ctr, "metrics")
	if listen := c.pendingString("metrics", "listen"); (listen != "") != ok || (ok && metrics != portOf(t, listen)) {
		t.Errorf("container port metrics %d (exposed %v) does not match metrics.listen %q", metrics, ok, listen)
	}
	scheme := corev1.URISchemeHTTP
	if c.cfg.TLS.Enabled() {
		scheme = corev1.URISchemeHTTPS
	}
	for name, p := range map[string]struct {
		probe *corev1.Probe
		path  string
	}{"startup": {ctr.StartupProbe, "/healthz"}, "liveness": {ctr.LivenessProbe, "/healthz"}, "readiness": {ctr.ReadinessProbe, "/readyz"}} {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("%s probe missing or not HTTP GET", name)
			continue
		}
		g := p.probe.HTTPGet
		if g.Path != p.path || g.Port.String() != "api" || g.Scheme != scheme {
			t.Errorf("%s probe GET %s %s port %s, want %s %s port api", name, g.Scheme, g.Path, g.Port.String(), scheme, p.path)
		}
	}
	checkTermination(t, r, ctr)
	checkResources(t, ctr)
	if r.sts.Spec.UpdateStrategy.Type != "RollingUpdate" {
		t.Errorf("update strategy %q", r.sts.Spec.UpdateStrategy.Type)
	}
}

// checkTermination: endpoints deregister during the preStop sleep, then the
// gateway drains; the grace period covers both.
func checkTermination(t *testing.T, r *rendered, ctr *corev1.Container) {
	if ctr.Lifecycle == nil || ctr.Lifecycle.PreStop == nil || ctr.Lifecycle.PreStop.Sleep == nil {
		t.Fatal("no preStop sleep: the pod would get SIGTERM while still listed as an endpoint")
	}
	sleep := ctr.Lifecycle.PreStop.Sleep.Seconds
	grace := r.sts.Spec.Template.Spec.TerminationGracePeriodSeconds
	if grace == nil {
		t.Fatal("no termination grace period")
	}
	if sleep <= 0 || *grace <= sleep+drainSeconds {
		t.Errorf("preStop sleep %ds, grace period %ds: the grace period must exceed the sleep plus the %ds drain", sleep, *grace, drainSeconds)
	}
}

func checkResources(t *testing.T, ctr *corev1.Container) {
	req, lim := ctr.Resources.Requests, ctr.Resources.Limits
	for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if q := req[res]; q.IsZero() {
			t.Errorf("no %s request", res)
		}
		if q := lim[res]; q.IsZero() {
			t.Errorf("no %s limit", res)
		}
	}
	if r, l := req[corev1.ResourceMemory], lim[corev1.ResourceMemory]; l.Cmp(r) < 0 {
		t.Errorf("memory limit %s below request %s", l.String(), r.String())
	}
}

// checkSecurity: non-root, read-only root, no capabilities, seccomp, no
// privilege escalation, no service-account token.
func checkSecurity(t *testing.T, r *rendered) {
	spec := r.sts.Spec.Template.Spec
	psc := spec.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser != 65532 ||
		psc.FSGroup == nil || *psc.FSGroup != 65532 || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod securityContext: %+v", psc)
	}
	if spec.HostNetwork || spec.HostPID || spec.HostIPC {
		t.Error("the pod must not share host namespaces")
	}
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		t.Error("the Kubernetes API token must not be mounted")
	}
	if sa := r.serviceAccount; sa != nil && (sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken) {
		t.Error("the ServiceAccount must not automount its token")
	}
	sc := r.container(t).SecurityContext
	if sc == nil {
		t.Fatal("no container securityContext")
	}
	switch {
	case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
		t.Error("allowPrivilegeEscalation must be false")
	case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
		t.Error("readOnlyRootFilesystem must be true")
	case sc.Privileged == nil || *sc.Privileged:
		t.Error("privileged must be false")
	case sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot:
		t.Error("runAsNonRoot must be true")
	case sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) != 0:
		t.Errorf("capabilities must drop ALL and add none: %+v", sc.Capabilities)
	case sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault:
		t.Error("seccomp profile must be RuntimeDefault")
	}
}

// locate finds the mount a file or directory of the configuration lives on
// and the volume behind it (a claim template appears as a PVC volume).
func locate(t *testing.T, r *rendered, p string) (corev1.VolumeMount, corev1.Volume) {
	t.Helper()
	var best corev1.VolumeMount
	for _, m := range r.container(t).VolumeMounts {
		if (p == m.MountPath || strings.HasPrefix(p, m.MountPath+"/")) && len(m.MountPath) > len(best.MountPath) {
			best = m
		}
	}
	if best.Name == "" {
		t.Fatalf("%s is on no volume: the root filesystem is read-only and holds no configuration", p)
	}
	for _, v := range r.sts.Spec.Template.Spec.Volumes {
		if v.Name == best.Name {
			return best, v
		}
	}
	for _, pvc := range r.sts.Spec.VolumeClaimTemplates {
		if pvc.Name == best.Name {
			return best, corev1.Volume{Name: pvc.Name, VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: pvc.Name}}}
		}
	}
	t.Fatalf("mount %s names no volume %q", best.MountPath, best.Name)
	return best, corev1.Volume{}
}

func volumeFor(t *testing.T, r *rendered, p string) corev1.Volume {
	t.Helper()
	_, v := locate(t, r, p)
	return v
}

// provides reports whether a Secret or projected volume mounted at m has the
// file p (a volume with items has only those).
func provides(m corev1.VolumeMount, v corev1.Volume, p string) bool {
	rel := strings.TrimPrefix(p, m.MountPath+"/")
	switch {
	case v.Secret != nil && len(v.Secret.Items) > 0:
		return slices.ContainsFunc(v.Secret.Items, func(k corev1.KeyToPath) bool { return k.Path == rel })
	case v.Projected != nil:
		return slices.ContainsFunc(v.Projected.Sources, func(s corev1.VolumeProjection) bool {
			return s.ServiceAccountToken != nil && s.ServiceAccountToken.Path == rel
		})
	}
	return v.Secret != nil
}

// checkMounts: every file the configuration names is on the volume that
// must provide it, writable exactly where Custos writes.
func checkMounts(t *testing.T, r *rendered, c *parsedConfig) {
	checkVolumesUsed(t, r)
	m, v := locate(t, r, "/etc/custos/custos.yaml")
	if v.ConfigMap == nil || v.ConfigMap.Name != "custos-config" || m.SubPath != "custos.yaml" || !m.ReadOnly {
		t.Errorf("custos.yaml must be the ConfigMap custos-config, read-only: %+v", m)
	}
	am, av := locate(t, r, c.cfg.Audit.Path)
	if am.ReadOnly || (av.PersistentVolumeClaim == nil && av.EmptyDir == nil) {
		t.Errorf("audit.path %s must be on a writable claim (or emptyDir without persistence): %+v", c.cfg.Audit.Path, av.VolumeSource)
	}
	if f := c.cfg.Audit.CheckpointFile; f != "" {
		cm, cv := locate(t, r, f)
		if cm.ReadOnly || (cv.PersistentVolumeClaim == nil && av.EmptyDir == nil) || cv.Name == av.Name {
			t.Errorf("audit.checkpoint_file %s must be on a writable claim of its own (an emptyDir of its own without persistence), not the audit log's", f)
		}
	}
	files := map[string]string{
		"audit.signing_key_file":    c.cfg.Audit.SigningKeyFile,
		"tls.cert_file":             c.cfg.TLS.CertFile,
		"tls.key_file":              c.cfg.TLS.KeyFile,
		"vault.ca_file":             c.cfg.Vault.CAFile,
		"vault.auth.role_id_file":   c.cfg.Vault.Auth.RoleIDFile,
		"vault.auth.secret_id_file": c.cfg.Vault.Auth.SecretIDFile,
		"vault.auth.token_file":     c.cfg.Vault.Auth.TokenFile,
		"vault.auth.jwt_file":       c.cfg.Vault.Auth.JWTFile,
	}
	for key, f := range files {
		if f == "" {
			continue
		}
		m, v := locate(t, r, f)
		if !m.ReadOnly || !provides(m, v, f) {
			t.Errorf("%s %s: not provided read-only by a Secret or token volume (mount %s, volume %+v)", key, f, m.MountPath, v.VolumeSource)
		}
	}
	if d := c.cfg.Policy.Dir; d != "" {
		if m, _ := locate(t, r, d); m.MountPath != d || !m.ReadOnly {
			t.Errorf("policy.dir %s must be a read-only mount of its own", d)
		}
	}
}

// checkVolumesUsed: every mount has a volume and every volume is mounted.
func checkVolumesUsed(t *testing.T, r *rendered) {
	defined := map[string]bool{}
	for _, v := range r.sts.Spec.Template.Spec.Volumes {
		defined[v.Name] = true
	}
	for _, pvc := range r.sts.Spec.VolumeClaimTemplates {
		if defined[pvc.Name] {
			t.Errorf("volume %s is both a pod volume and a claim template", pvc.Name)
		}
		defined[pvc.Name] = true
	}
	mounted := map[string]bool{}
	for _, m := range r.container(t).VolumeMounts {
		if !defined[m.Name] {
			t.Errorf("mount %s: no volume %q", m.MountPath, m.Name)
		}
		mounted[m.Name] = true
	}
	for name := range defined {
		if !mounted[name] {
			t.Errorf("volume %s is never mounted", name)
		}
	}
}

func selects(t *testing.T, what string, sel *metav1.LabelSelector, set map[string]string) bool {
	t.Helper()
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return !s.Empty() && s.Matches(labels.Set(set))
}

// checkServices: selectors reach the pods, ports match the container.
func checkServices(t *testing.T, r *rendered, c *parsedConfig) {
	pod := r.sts.Spec.Template.Labels
	if !selects(t, "StatefulSet", r.sts.Spec.Selector, pod) {
		t.Error("the StatefulSet's selector does not match its pods")
	}
	main, headless := r.services["custos"], r.services[r.sts.Spec.ServiceName]
	if main == nil || headless == nil || headless == main {
		t.Fatalf("want Service custos and the headless %q, got %v", r.sts.Spec.ServiceName, keys(r.services))
	}
	if headless.Spec.ClusterIP != corev1.ClusterIPNone {
		t.Errorf("governing Service %s must be headless", headless.Name)
	}
	for _, s := range []*corev1.Service{main, headless} {
		if !selects(t, s.Name, &metav1.LabelSelector{MatchLabels: s.Spec.Selector}, pod) {
			t.Errorf("Service %s does not select the pods", s.Name)
		}
	}
	want := []string{"api"}
	if c.has("metrics") {
		want = append(want, "metrics")
	}
	var got []string
	for _, p := range main.Spec.Ports {
		got = append(got, p.Name)
		if p.TargetPort.String() != p.Name {
			t.Errorf("Service port %s targets %s", p.Name, p.TargetPort.String())
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("Service ports %v, want %v", got, want)
	}
	if r.pdb != nil && !selects(t, "PDB", r.pdb.Spec.Selector, pod) {
		t.Error("the PodDisruptionBudget does not select the pods")
	}
	if r.netpol != nil && !selects(t, "NetworkPolicy", &r.netpol.Spec.PodSelector, pod) {
		t.Error("the NetworkPolicy does not select the pods")
	}
	if m := r.monitor; m != nil && (!selects(t, "ServiceMonitor", &m.Spec.Selector, main.Labels) ||
		selects(t, "ServiceMonitor", &m.Spec.Selector, headless.Labels)) {
		t.Error("the ServiceMonitor must select the main Service only (else every pod is scraped twice)")
	}
}
