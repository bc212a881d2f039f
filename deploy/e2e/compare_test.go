package e2e

import (
	"slices"
	"testing"

	"github.com/eosweep/eosweep/deploy/internal/trialscsv"
)

// readTrials maps each trial's parameters to its results (wall_ms blanked),
// failing on a trial listed twice.
func readTrials(t *testing.T, path string) map[string][]string {
	t.Helper()
	tr, err := trialscsv.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	for key, n := range tr.Listed {
		if n > 1 {
			t.Errorf("%s: trial %s listed %d times", path, key, n)
		}
	}
	return tr.Results
}

// compareTrials checks that both files hold the same n trials with equal
// results, field by field.
func compareTrials(t *testing.T, cluster, embedded string, n int) {
	t.Helper()
	a, b := readTrials(t, cluster), readTrials(t, embedded)
	if len(a) != n || len(b) != n {
		t.Fatalf("cluster has %d trials, embedded %d, want %d each", len(a), len(b), n)
	}
	diff := 0
	for key, ra := range a {
		rb, ok := b[key]
		if !ok {
			t.Errorf("trial %s missing from the embedded run", key)
			continue
		}
		if !slices.Equal(ra, rb) {
			diff++
			if diff <= 3 {
				t.Errorf("trial %s differs:\ncluster  %v\nembedded %v", key, ra, rb)
			}
		}
	}
	if diff > 0 {
		t.Errorf("%d of %d trials differ between the cluster and the embedded run", diff, n)
	}
}
