package k8s

import (
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// smallestNode is the node the default manifests must fit on: 2 CPUs, as
// kind and minikube default to.
var smallestNode = resource.MustParse("2")

// The coordinator's PriorityClass exists and outranks every worker, so that
// workers scaled past the cluster's CPUs never keep it Pending.
func TestCoordinatorOutranksWorkers(t *testing.T) {
	t.Parallel()
	m := loadManifests(t, "*.yaml")
	coord := m.statefulSets[0].Spec.Template.Spec
	pc, ok := m.priorities[coord.PriorityClassName]
	if coord.PriorityClassName == "" || !ok {
		t.Fatalf("coordinator priorityClassName %q is not a PriorityClass of the manifests", coord.PriorityClassName)
	}
	if pc.GlobalDefault {
		t.Errorf("PriorityClass %s must not be the cluster's global default", pc.Name)
	}
	if pc.PreemptionPolicy != nil && *pc.PreemptionPolicy == corev1.PreemptNever {
		t.Errorf("PriorityClass %s must be allowed to preempt workers", pc.Name)
	}
	for _, d := range m.deployments {
		worker := int32(0)
		if name := d.Spec.Template.Spec.PriorityClassName; name != "" {
			wpc, ok := m.priorities[name]
			if !ok {
				t.Fatalf("%s: priorityClassName %q is not a PriorityClass of the manifests", d.Name, name)
			}
			worker = wpc.Value
		}
		if pc.Value <= worker {
			t.Errorf("coordinator priority %d does not outrank %s's %d", pc.Value, d.Name, worker)
		}
	}
}

// The coordinator and the default number of workers fit together on a 2-CPU
// node, every container states its CPU and memory requests, and a worker runs
// no more trials at once than the CPUs it requests (rounded up): --parallel
// must be explicit, since its default is every CPU of the node.
func TestDefaultReplicasFitTheSmallestNode(t *testing.T) {
	t.Parallel()
	m := loadManifests(t, "*.yaml")
	total := resource.Quantity{}
	for name, w := range m.podTemplates() {
		replicas := int64(1)
		for _, d := range m.deployments {
			if d.Name == name && d.Spec.Replicas != nil {
				replicas = int64(*d.Spec.Replicas)
			}
		}
		for _, c := range w.pod.Spec.Containers {
			cpu, mem := c.Resources.Requests[corev1.ResourceCPU], c.Resources.Requests[corev1.ResourceMemory]
			if cpu.IsZero() || mem.IsZero() {
				t.Errorf("%s/%s: requests no CPU or no memory", name, c.Name)
			}
			for range replicas {
				total.Add(cpu)
			}
		}
	}
	if total.Cmp(smallestNode) > 0 {
		t.Errorf("the default replicas request %s CPUs, more than a %s-CPU node has", total.String(), smallestNode.String())
	}
	for _, d := range m.deployments {
		for _, c := range d.Spec.Template.Spec.Containers {
			parallel := 0
			for _, a := range c.Args {
				if v, ok := strings.CutPrefix(a, "--parallel="); ok {
					parallel, _ = strconv.Atoi(v)
				}
			}
			cpu := c.Resources.Requests[corev1.ResourceCPU]
			cores := (cpu.MilliValue() + 999) / 1000
			if parallel == 0 {
				t.Errorf("%s/%s: no --parallel: its default is every CPU of the node, not the %s requested", d.Name, c.Name, cpu.String())
			} else if parallel < 1 || int64(parallel) > cores {
				t.Errorf("%s/%s: --parallel=%d with a request of %s CPU: give --parallel between 1 and %d", d.Name, c.Name, parallel, cpu.String(), cores)
			}
		}
	}
}
