package scheduler

import (
	"strings"
	"testing"
)

// Running sweeps share the workers: a worker leasing one trial at a time gets
// them in weighted round robin across the sweeps (each sweep in turn gives
// up to its priority trials), not the later sweep after the earlier.
func TestSweepsShareWorkers(t *testing.T) {
	t.Parallel()
	const a = "name: a\nmodel: single\ngrid: {eta: [0.5, 1, 1.5, 2]}\nparams: {steps: 5}\n"
	const b = "name: b\nmodel: single\ngrid: {eta: [0.5, 1, 1.5, 2]}\nparams: {steps: 5}\n"
	for _, c := range []struct {
		name         string
		prioA, prioB string // the priority lines of a and b (empty: default 1)
		want         string // the sweeps of the successive leases
	}{
		{"equal", "", "", "abababab"},
		{"a weighs 3", "priority: 3\n", "", "aaababbb"},
		{"b weighs 2", "", "priority: 2\n", "abbabbaa"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := newTestScheduler(t, nil, nil, Config{})
			ids := map[string]string{submit(t, s, a+c.prioA).ID: "a", submit(t, s, b+c.prioB).ID: "b"}
			var got strings.Builder
			seen := map[string]bool{}
			for range 8 {
				ls := lease(t, s, 1)
				if len(ls) != 1 {
					t.Fatalf("after %q: %d leases", got.String(), len(ls))
				}
				key := ls[0].Sweep + "/" + ls[0].Trial
				if seen[key] {
					t.Fatalf("trial %s leased twice", key)
				}
				seen[key] = true
				got.WriteString(ids[ls[0].Sweep])
			}
			if got.String() != c.want {
				t.Fatalf("leases went to %q, want %q", got.String(), c.want)
			}
		})
	}
}
