package scheduler

import (
	"testing"

	"github.com/eosweep/eosweep/coordinator/store"
)

// TestMainStoreMigratesAndResumes opens testdata/main-schema1.db, a store
// written by the eosweep binary before schema 2 (`eosweep run` of a 6-trial
// single sweep, η ∈ {1, 1.5} × seeds 0–2, steps 20): it migrates, the finished
// sweep stays finished and nothing of it runs again, and a new sweep reuses
// the 4 of its trials that the old file holds (η = 2 is not stored, so 2 run).
func TestMainStoreMigratesAndResumes(t *testing.T) {
	t.Parallel()
	st := openStore(t, fixtureDB(t, "main-schema1.db"))
	defer st.Close()
	s := newTestScheduler(t, st, nil, Config{})
	defer s.Close() // before the store closes
	sweeps := s.Sweeps()
	if len(sweeps) != 1 || sweeps[0].Sweep.State != store.SweepDone || sweeps[0].Progress.Done != 6 || sweeps[0].Progress.Total != 6 {
		t.Fatalf("loaded %+v; want one DONE sweep of 6 done trials", sweeps)
	}
	if n := runAll(t, s); n != 0 {
		t.Fatalf("ran %d trials of a finished sweep", n)
	}
	more := submit(t, s, "name: more\nmodel: single\ngrid: {eta: [1.0, 1.5, 2.0], seed: [0, 1]}\nparams: {steps: 20}\n")
	if more.Reused != 4 {
		t.Fatalf("%d reused from the migrated store, want 4", more.Reused)
	}
	if n := runAll(t, s); n != 2 {
		t.Fatalf("ran %d, want 2", n)
	}
}

// TestMainSchema2StoreResumes opens testdata/main-schema2.db, a store written
// by the eosweep binary of main before the trial-id index was written behind
// its results (c0164b4: `eosweep run` of sweep a, η ∈ {1, 1.5} × seeds 0–2,
// then sweep b, η ∈ {1.5, 2} × seeds 0–2, which reused a's 3 trials of
// η = 1.5; steps 20). Both sweeps stay finished and nothing runs again; a new
// sweep reuses the 9 stored trials of its 12 (η = 2.5 runs), and after a
// restart a sweep of those 12 reuses them all.
func TestMainSchema2StoreResumes(t *testing.T) {
	t.Parallel()
	path := fixtureDB(t, "main-schema2.db")
	st := openStore(t, path)
	s := newTestScheduler(t, st, nil, Config{})
	sweeps := s.Sweeps()
	if len(sweeps) != 2 {
		t.Fatalf("loaded %d sweeps, want 2", len(sweeps))
	}
	for _, sw := range sweeps {
		if sw.Sweep.State != store.SweepDone || sw.Progress.Done != 6 {
			t.Fatalf("loaded %+v %+v; want DONE with 6 done trials", sw.Sweep, sw.Progress)
		}
	}
	if n := runAll(t, s); n != 0 {
		t.Fatalf("ran %d trials of finished sweeps", n)
	}
	const grid = "model: single\ngrid: {eta: [1.0, 1.5, 2.0, 2.5], seed: [0, 1, 2]}\nparams: {steps: 20}\n"
	more := submit(t, s, "name: more\n"+grid)
	if more.Reused != 9 {
		t.Fatalf("%d reused from the old store, want 9", more.Reused)
	}
	if n := runAll(t, s); n != 3 {
		t.Fatalf("ran %d, want 3", n)
	}
	s, _ = restart(t, s, st, path)
	again := submit(t, s, "name: again\n"+grid)
	if again.Reused != 12 {
		t.Fatalf("after a restart %d reused, want 12", again.Reused)
	}
	if n := runAll(t, s); n != 0 {
		t.Fatalf("ran %d, want 0", n)
	}
}
