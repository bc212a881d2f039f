package scheduler

import (
	"os"
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
	old, err := os.ReadFile("testdata/main-schema1.db")
	if err != nil {
		t.Fatal(err)
	}
	path := tempDB(t)
	if err := os.WriteFile(path, old, 0o600); err != nil {
		t.Fatal(err)
	}
	st := openStore(t, path)
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
