package k8s

import (
	"fmt"
	"path"
	"slices"
	"testing"
)

// local/data-pv.yaml is a PersistentVolume that binds the coordinator's claim
// on a cluster without a provisioner: big enough, same access mode and class,
// pre-bound to the claim the StatefulSet makes, on an absolute host path.
func TestLocalVolumeBindsTheCoordinatorClaim(t *testing.T) {
	t.Parallel()
	m := loadManifests(t, "*.yaml")
	local := loadManifests(t, "local/*.yaml")
	if len(local.volumes) != 1 {
		t.Fatalf("want one PersistentVolume in local/, got %d", len(local.volumes))
	}
	if len(m.volumes) != 0 {
		t.Errorf("the directory applied as a whole must not hold a PersistentVolume (it is cluster-specific)")
	}
	pv, sts := local.volumes[0], m.statefulSets[0]
	claim := sts.Spec.VolumeClaimTemplates[0]
	if want := fmt.Sprintf("%s-%s-0", claim.Name, sts.Name); pv.Spec.ClaimRef == nil ||
		pv.Spec.ClaimRef.Name != want || pv.Spec.ClaimRef.Namespace != namespace {
		t.Errorf("PersistentVolume %s: claimRef %+v, want %s/%s", pv.Name, pv.Spec.ClaimRef, namespace, want)
	}
	if got, want := pv.Spec.Capacity["storage"], claim.Spec.Resources.Requests["storage"]; got.Cmp(want) < 0 {
		t.Errorf("PersistentVolume %s holds %s, the claim asks for %s", pv.Name, got.String(), want.String())
	}
	for _, mode := range claim.Spec.AccessModes {
		if !slices.Contains(pv.Spec.AccessModes, mode) {
			t.Errorf("PersistentVolume %s lacks access mode %s", pv.Name, mode)
		}
	}
	claimClass := ""
	if claim.Spec.StorageClassName != nil {
		claimClass = *claim.Spec.StorageClassName
	}
	if pv.Spec.StorageClassName != claimClass {
		t.Errorf("PersistentVolume %s has class %q, the claim %q", pv.Name, pv.Spec.StorageClassName, claimClass)
	}
	if hp := pv.Spec.HostPath; hp == nil || !path.IsAbs(hp.Path) {
		t.Errorf("PersistentVolume %s: want a hostPath on an absolute path", pv.Name)
	}
}
