package e2e

import (
	"encoding/csv"
	"os"
	"slices"
	"strings"
	"testing"
)

// resultFields are the trials.csv columns that are results; the columns
// before the first of them are the trial's parameters, which identify it.
const firstResult = "final_bias"

// readTrials maps each trial's parameters to its results (wall_ms excluded),
// failing on a trial listed twice.
func readTrials(t *testing.T, path string) map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) < 1 {
		t.Fatalf("%s: %v", path, err)
	}
	head := rows[0]
	split := slices.Index(head, firstResult)
	wall := slices.Index(head, "wall_ms")
	if split < 0 || wall < 0 {
		t.Fatalf("%s: header %v lacks %s or wall_ms", path, head, firstResult)
	}
	out := map[string][]string{}
	for _, r := range rows[1:] {
		key := strings.Join(r[:split], ",")
		if _, dup := out[key]; dup {
			t.Errorf("%s: trial %s listed twice", path, key)
		}
		res := slices.Clone(r[split:])
		res[wall-split] = ""
		out[key] = res
	}
	return out
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
