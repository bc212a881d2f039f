package k8s

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

const namespace = "eosweep"

// manifests is every object of the directory, decoded.
type manifests struct {
	services     []*corev1.Service
	secrets      map[string]*corev1.Secret
	statefulSets []*appsv1.StatefulSet
	deployments  []*appsv1.Deployment
	namespaces   []*corev1.Namespace
	priorities   map[string]*schedulingv1.PriorityClass
	volumes      []*corev1.PersistentVolume
}

// newObject returns an empty object of the Go type for apiVersion and kind.
func newObject(apiVersion, kind string) (any, error) {
	switch apiVersion + "/" + kind {
	case "v1/Namespace":
		return &corev1.Namespace{}, nil
	case "v1/Service":
		return &corev1.Service{}, nil
	case "v1/Secret":
		return &corev1.Secret{}, nil
	case "apps/v1/StatefulSet":
		return &appsv1.StatefulSet{}, nil
	case "apps/v1/Deployment":
		return &appsv1.Deployment{}, nil
	case "scheduling.k8s.io/v1/PriorityClass":
		return &schedulingv1.PriorityClass{}, nil
	case "v1/PersistentVolume":
		return &corev1.PersistentVolume{}, nil
	}
	return nil, fmt.Errorf("no API type known for %s %s", apiVersion, kind)
}

var docSep = regexp.MustCompile(`(?m)^---\s*$`)

// decodeStrict decodes one YAML document into its API type, refusing unknown
// and duplicate fields.
func decodeStrict(doc []byte) (any, error) {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return nil, fmt.Errorf("read kind: %w", err)
	}
	obj, err := newObject(tm.APIVersion, tm.Kind)
	if err != nil {
		return nil, err
	}
	if err := yaml.UnmarshalStrict(doc, obj); err != nil {
		return nil, fmt.Errorf("%s: %w", tm.Kind, err)
	}
	return obj, nil
}

// loadManifests decodes the YAML files matching glob: "*.yaml" is what
// `kubectl apply -f deploy/k8s/` applies.
func loadManifests(t *testing.T, glob string) manifests {
	t.Helper()
	files, err := filepath.Glob(glob)
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests found (%v)", err)
	}
	m := manifests{secrets: map[string]*corev1.Secret{}, priorities: map[string]*schedulingv1.PriorityClass{}}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range docSep.Split(string(b), -1) {
			if strings.TrimSpace(stripComments(doc)) == "" {
				continue
			}
			obj, err := decodeStrict([]byte(doc))
			if err != nil {
				t.Fatalf("%s document %d: %v", f, i, err)
			}
			m.add(t, f, obj)
		}
	}
	return m
}

func (m *manifests) add(t *testing.T, file string, obj any) {
	t.Helper()
	var meta metav1.ObjectMeta
	switch o := obj.(type) {
	case *corev1.Namespace:
		m.namespaces = append(m.namespaces, o)
		return
	case *schedulingv1.PriorityClass:
		m.priorities[o.Name] = o
		clusterScoped(t, file, o.ObjectMeta)
		return
	case *corev1.PersistentVolume:
		m.volumes = append(m.volumes, o)
		clusterScoped(t, file, o.ObjectMeta)
		return
	case *corev1.Service:
		m.services, meta = append(m.services, o), o.ObjectMeta
	case *corev1.Secret:
		m.secrets[o.Name], meta = o, o.ObjectMeta
	case *appsv1.StatefulSet:
		m.statefulSets, meta = append(m.statefulSets, o), o.ObjectMeta
	case *appsv1.Deployment:
		m.deployments, meta = append(m.deployments, o), o.ObjectMeta
	}
	if meta.Namespace != namespace {
		t.Errorf("%s: %s is in namespace %q, want %q", file, meta.Name, meta.Namespace, namespace)
	}
}

func clusterScoped(t *testing.T, file string, meta metav1.ObjectMeta) {
	t.Helper()
	if meta.Namespace != "" {
		t.Errorf("%s: %s is cluster-scoped but names namespace %q", file, meta.Name, meta.Namespace)
	}
}

func stripComments(doc string) string {
	var b strings.Builder
	for line := range strings.Lines(doc) {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line)
		}
	}
	return b.String()
}

// The decoder really is strict: an unknown or a duplicate field is an error.
func TestDecodeIsStrict(t *testing.T) {
	bad := map[string]string{
		"unknown field":   "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replicaz: 3}\n",
		"duplicate field": "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nmetadata: {name: y}\n",
		"unknown kind":    "apiVersion: v1\nkind: Pood\nmetadata: {name: x}\n",
		"wrong type":      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replicas: many}\n",
	}
	for name, doc := range bad {
		if _, err := decodeStrict([]byte(doc)); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
	if _, err := decodeStrict([]byte("apiVersion: v1\nkind: Service\nmetadata: {name: x}\n")); err != nil {
		t.Errorf("valid document refused: %v", err)
	}
}

func TestManifestsDecodeStrictly(t *testing.T) {
	m := loadManifests(t, "*.yaml")
	if len(m.namespaces) != 1 || m.namespaces[0].Name != namespace {
		t.Errorf("want one Namespace %q, got %d", namespace, len(m.namespaces))
	}
	if len(m.statefulSets) != 1 || len(m.deployments) != 1 {
		t.Fatalf("want one StatefulSet and one Deployment, got %d and %d", len(m.statefulSets), len(m.deployments))
	}
	if got := len(m.secrets); got != 2 {
		t.Errorf("want the token and TLS secrets, got %d secrets", got)
	}
}

// podTemplates returns every workload's name, selector and pod template.
func (m manifests) podTemplates() map[string]struct {
	selector *metav1.LabelSelector
	pod      corev1.PodTemplateSpec
} {
	out := map[string]struct {
		selector *metav1.LabelSelector
		pod      corev1.PodTemplateSpec
	}{}
	for _, s := range m.statefulSets {
		out[s.Name] = struct {
			selector *metav1.LabelSelector
			pod      corev1.PodTemplateSpec
		}{s.Spec.Selector, s.Spec.Template}
	}
	for _, d := range m.deployments {
		out[d.Name] = struct {
			selector *metav1.LabelSelector
			pod      corev1.PodTemplateSpec
		}{d.Spec.Selector, d.Spec.Template}
	}
	return out
}

// Check the pieces refer to each other: selectors, ports, probes, secrets, mounts.
func TestManifestsAreConsistent(t *testing.T) {
	m := loadManifests(t, "*.yaml")
	for name, w := range m.podTemplates() {
		sel, err := metav1.LabelSelectorAsSelector(w.selector)
		if err != nil || !sel.Matches(labels.Set(w.pod.Labels)) {
			t.Errorf("%s: selector %v does not match its pod labels %v (%v)", name, w.selector, w.pod.Labels, err)
		}
		checkPod(t, name, w.pod.Spec, m.secrets)
	}
	for _, svc := range m.services {
		checkService(t, svc, m)
	}
	sts := m.statefulSets[0]
	headless := false
	for _, svc := range m.services {
		headless = headless || (svc.Name == sts.Spec.ServiceName && svc.Spec.ClusterIP == corev1.ClusterIPNone)
	}
	if !headless {
		t.Errorf("StatefulSet serviceName %q is not a headless Service", sts.Spec.ServiceName)
	}
	if sts.Spec.Replicas == nil || *sts.Spec.Replicas != 1 {
		t.Errorf("coordinator StatefulSet must have exactly 1 replica")
	}
	if len(sts.Spec.VolumeClaimTemplates) != 1 {
		t.Fatalf("coordinator needs one PersistentVolumeClaim template")
	}
	if !mounted(sts.Spec.Template.Spec.Containers[0], sts.Spec.VolumeClaimTemplates[0].Name) {
		t.Errorf("coordinator does not mount its PersistentVolumeClaim")
	}
}

// checkService checks that the Service selects one workload and that its
// target ports are ports that workload declares.
func checkService(t *testing.T, svc *corev1.Service, m manifests) {
	t.Helper()
	var pod *corev1.PodSpec
	for _, w := range m.podTemplates() {
		if labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(w.pod.Labels)) {
			pod = &w.pod.Spec
		}
	}
	if pod == nil {
		t.Errorf("Service %s selects no workload", svc.Name)
		return
	}
	for _, p := range svc.Spec.Ports {
		if !hasPort(*pod, p.TargetPort.String()) {
			t.Errorf("Service %s: targetPort %s is not a container port", svc.Name, p.TargetPort.String())
		}
	}
}

// checkPod checks probes, secret volumes, non-root users and that every file
// named in the arguments sits on a mount.
func checkPod(t *testing.T, name string, pod corev1.PodSpec, secrets map[string]*corev1.Secret) {
	t.Helper()
	psc := pod.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
		t.Errorf("%s: pod must set runAsNonRoot", name)
	}
	for _, v := range pod.Volumes {
		if v.Secret != nil {
			checkSecretVolume(t, name, v, psc, secrets)
		}
	}
	for _, c := range pod.Containers {
		for _, probe := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe, c.StartupProbe} {
			if probe == nil {
				continue
			}
			if g := probe.GRPC; g != nil && !hasPort(pod, fmt.Sprint(g.Port)) {
				t.Errorf("%s/%s: gRPC probe on undeclared port %d", name, c.Name, g.Port)
			}
			if h := probe.HTTPGet; h != nil && !hasPort(pod, h.Port.String()) {
				t.Errorf("%s/%s: HTTP probe on undeclared port %s", name, c.Name, h.Port.String())
			}
		}
		if c.LivenessProbe == nil {
			t.Errorf("%s/%s: no liveness probe", name, c.Name)
		}
		for _, arg := range c.Args {
			_, val, ok := strings.Cut(arg, "=")
			if ok && strings.HasPrefix(val, "/") && !underMount(c, val) {
				t.Errorf("%s/%s: %s is on no volume mount", name, c.Name, arg)
			}
		}
	}
}

// checkSecretVolume checks that the secret exists, holds the projected keys,
// and is readable by the pod's user.
func checkSecretVolume(t *testing.T, name string, v corev1.Volume, psc *corev1.PodSecurityContext, secrets map[string]*corev1.Secret) {
	t.Helper()
	s, ok := secrets[v.Secret.SecretName]
	if !ok {
		t.Errorf("%s: volume %s uses unknown secret %s", name, v.Name, v.Secret.SecretName)
		return
	}
	for _, it := range v.Secret.Items {
		_, inString := s.StringData[it.Key]
		_, inData := s.Data[it.Key]
		if !inString && !inData {
			t.Errorf("%s: secret %s has no key %s", name, s.Name, it.Key)
		}
	}
	mode := int32(0o644)
	if v.Secret.DefaultMode != nil {
		mode = *v.Secret.DefaultMode
	}
	if mode&0o004 == 0 && (psc.FSGroup == nil || mode&0o040 == 0) {
		t.Errorf("%s: secret volume %s (mode %#o) is unreadable by a non-root user without fsGroup", name, v.Name, mode)
	}
}

func hasPort(pod corev1.PodSpec, port string) bool {
	for _, c := range pod.Containers {
		for _, p := range c.Ports {
			if p.Name == port || fmt.Sprint(p.ContainerPort) == port {
				return true
			}
		}
	}
	return false
}

func mounted(c corev1.Container, volume string) bool {
	for _, vm := range c.VolumeMounts {
		if vm.Name == volume {
			return true
		}
	}
	return false
}

func underMount(c corev1.Container, path string) bool {
	for _, vm := range c.VolumeMounts {
		if strings.HasPrefix(path, strings.TrimSuffix(vm.MountPath, "/")+"/") {
			return true
		}
	}
	return false
}
