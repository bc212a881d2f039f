package scheduler

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/eosweep/eosweep/coordinator/boundary"
	"github.com/eosweep/eosweep/coordinator/spec"
	"github.com/eosweep/eosweep/coordinator/store"
	"github.com/eosweep/eosweep/engine"
	"github.com/eosweep/eosweep/internal/testwait"
)

const (
	// reuse12 and reuse18 share 12 trials: the same η × seed points.
	reuse12 = "name: a\nmodel: single\ngrid:\n  eta: [0.5, 1, 3]\n  seed: [0, 1, 2, 3]\nparams: {steps: 5}\n"
	reuse18 = "name: b\nmodel: single\ngrid:\n  eta: [0.5, 1, 3]\n  seed: [0, 1, 2, 3, 4, 5]\nparams: {steps: 5}\n"
)

// runAll leases every trial the scheduler hands out and delivers the
// engine's result for it; it returns how many trials ran.
func runAll(t *testing.T, s *Scheduler) int {
	t.Helper()
	ran := 0
	for {
		ls := lease(t, s, 64)
		if len(ls) == 0 {
			return ran
		}
		for _, l := range ls {
			tr, err := spec.NewTrial(l.Model, l.Params)
			if err != nil {
				t.Fatal(err)
			}
			r, err := engine.Run(context.Background(), tr.Config)
			if err != nil {
				t.Fatal(err)
			}
			if rc := deliverOne(t, s, l, r); rc.Verdict != Accepted {
				t.Fatalf("deliver %s: %+v", l.Trial, rc)
			}
			ran++
		}
	}
}

// TestReuseAcrossSweeps: a sweep sharing 12 of its 18 trials with one in the
// store runs 6; the 12 are DONE at submit with results bit-identical to a
// recomputation (but for its wall time), and the sweep record counts them.
func TestReuseAcrossSweeps(t *testing.T) {
	t.Parallel()
	s := newTestScheduler(t, nil, nil, Config{})
	a := submit(t, s, reuse12)
	if ran := runAll(t, s); ran != 12 {
		t.Fatalf("first sweep ran %d trials, want 12", ran)
	}
	b := submit(t, s, reuse18)
	if b.Reused != 12 {
		t.Fatalf("second sweep reused %d, want 12", b.Reused)
	}
	if p := progress(t, s, b.ID); p.Done != 12 || p.Pending != 6 {
		t.Fatalf("second sweep at submit: %+v", p)
	}
	if ran := runAll(t, s); ran != 6 {
		t.Fatalf("second sweep ran %d trials, want 6", ran)
	}
	trials, err := s.Trials(b.ID)
	if err != nil {
		t.Fatal(err)
	}
	results, err := s.st.ResultsFor(trials)
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range trials {
		if tr.State != store.Done {
			t.Fatalf("trial %s: %v", tr.ID, tr.State)
		}
		again, err := spec.NewTrial(b.Model, tr.Params)
		if err != nil {
			t.Fatal(err)
		}
		want, err := engine.Run(context.Background(), again.Config)
		if err != nil {
			t.Fatal(err)
		}
		got := results[tr.ID]
		got.WallMS, want.WallMS = 0, 0 // the run's time, not its result
		gotJSON, _ := json.Marshal(got)
		wantJSON, _ := json.Marshal(want)
		if string(gotJSON) != string(wantJSON) {
			t.Fatalf("trial %s: stored %s\nrecomputed %s", tr.ID, gotJSON, wantJSON)
		}
	}
	// The first sweep keeps its own results.
	if p := progress(t, s, a.ID); p.Done != 12 {
		t.Fatalf("first sweep %+v", p)
	}
	if stored, err := s.st.Sweep(b.ID); err != nil || stored.Reused != 12 {
		t.Fatalf("stored sweep %+v, %v", stored, err)
	}
}

// TestReuseAllDoneFinishes: a sweep whose every trial is reused is DONE.
func TestReuseAllDoneFinishes(t *testing.T) {
	t.Parallel()
	s := newTestScheduler(t, nil, nil, Config{})
	submit(t, s, reuse18)
	runAll(t, s)
	b := submit(t, s, reuse12)
	if b.Reused != 12 {
		t.Fatalf("reused %d", b.Reused)
	}
	waitState(t, s, b.ID, store.SweepDone)
}

// TestReuseAfterMigration: a store of schema 1 (no trial-id index, as
// today's main writes it) opens, is migrated (its results indexed, nothing
// rewritten), resumes, and its results are reused by a new sweep.
func TestReuseAfterMigration(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "old.db")
	st := openStore(t, path)
	s, err := New(st, Config{})
	if err != nil {
		t.Fatal(err)
	}
	a := submit(t, s, reuse12)
	ls := lease(t, s, 12)
	for _, l := range ls[:8] { // 8 of 12 done, 4 leased when it stops
		tr, _ := spec.NewTrial(l.Model, l.Params)
		r, _ := engine.Run(context.Background(), tr.Config)
		if rc := deliverOne(t, s, l, r); rc.Verdict != Accepted {
			t.Fatal(rc)
		}
	}
	s.Close()
	before, err := st.Results(a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	// Make it a schema-1 file.
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket([]byte("trial_ids")); err != nil {
			return err
		}
		return tx.Bucket([]byte("meta")).Put([]byte("schema"), []byte("1"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	st = openStore(t, path)
	t.Cleanup(func() { _ = st.Close() })
	s = newTestScheduler(t, st, nil, Config{ReleaseOnLoad: true})
	after, err := st.Results(a.ID)
	if err != nil || len(after) != 8 {
		t.Fatalf("after migration %d results, %v", len(after), err)
	}
	for id, r := range before {
		if x, _ := json.Marshal(after[id]); string(x) != string(mustJSON(t, r)) {
			t.Fatalf("result %s changed by the migration", id)
		}
	}
	if p := progress(t, s, a.ID); p.Done != 8 || p.Pending != 4 {
		t.Fatalf("resumed %+v", p)
	}
	b := submit(t, s, reuse18)
	if b.Reused != 8 {
		t.Fatalf("reused %d after migration, want 8", b.Reused)
	}
	if ran := runAll(t, s); ran != 4+10 {
		t.Fatalf("ran %d, want 4 (first sweep) + 10 (second)", ran)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// waitState waits for the sweep's state (on its change notifications).
func waitState(t *testing.T, s *Scheduler, id string, want store.SweepState) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		info, err := s.Sweep(id)
		if err != nil {
			t.Fatal(err)
		}
		if info.Sweep.State == want {
			return
		}
		select {
		case <-info.Changed:
		case <-timeout:
			t.Fatalf("sweep %s is %v, want %v", id, info.Sweep.State, want)
		}
	}
}

// TestDeleteSweep: a running sweep is refused; a cancelled or finished one
// goes with its trials and results, from the scheduler, the store and a
// restart; the sweep that reused its results keeps them, and a new sweep
// still reuses them (the index points at the copy that is left).
func TestDeleteSweep(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "s.db")
	st := openStore(t, path)
	s, err := New(st, Config{})
	if err != nil {
		t.Fatal(err)
	}
	a := submit(t, s, reuse12)
	runAll(t, s)
	waitState(t, s, a.ID, store.SweepDone)
	b := submit(t, s, reuse18) // reuses a's 12, runs 6
	if _, err := s.Delete(b.ID); !errors.Is(err, ErrSweepRunning) {
		t.Fatalf("delete a running sweep: %v, want ErrSweepRunning", err)
	}
	runAll(t, s)
	waitState(t, s, b.ID, store.SweepDone)
	// b's copies of a's results are what the index names now: deleting b
	// points it back at a's.
	if _, err := s.Delete(b.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sweep(b.ID); !errors.Is(err, ErrUnknownSweep) {
		t.Fatalf("deleted sweep: %v", err)
	}
	if n, err := s.st.ResultCount(b.ID); err != nil || n != 0 {
		t.Fatalf("deleted sweep's results: %d, %v", n, err)
	}
	if tr, err := s.st.Trials(b.ID); err != nil || len(tr) != 0 {
		t.Fatalf("deleted sweep's trials: %d, %v", len(tr), err)
	}
	if n, err := s.st.ResultCount(a.ID); err != nil || n != 12 {
		t.Fatalf("the other sweep's results: %d, %v", n, err)
	}
	c := submit(t, s, "name: c\nmodel: single\ngrid:\n  eta: [0.5, 1, 3]\n  seed: [0, 1, 4]\nparams: {steps: 5}\n")
	if c.Reused != 6 {
		t.Fatalf("after the delete a new sweep reused %d, want 6 (seeds 0 and 1, from the sweep left; seed 4 was the deleted one's)", c.Reused)
	}
	s, _ = restart(t, s, st, path)
	if _, err := s.Sweep(b.ID); !errors.Is(err, ErrUnknownSweep) {
		t.Fatalf("deleted sweep after restart: %v", err)
	}
	if len(s.Sweeps()) != 2 {
		t.Fatalf("sweeps after restart: %d, want 2", len(s.Sweeps()))
	}
	if _, err := s.Delete("nope"); !errors.Is(err, ErrUnknownSweep) {
		t.Fatalf("delete an unknown sweep: %v", err)
	}
}

// fixedRefiner plans the same points every round.
type fixedRefiner []map[string]float64

func (r fixedRefiner) Plan(*spec.Spec, []boundary.Trial) ([]map[string]float64, error) { return r, nil }

// TestReuseInRefinementRound: a refinement round's trial that the store
// already holds a result for (here from an earlier sweep of the same model
// and parameters) is DONE when the round is planned, with that result, and
// counted as reused; the sweep then finishes without running it. Before,
// rounds ran every trial they planned.
func TestReuseInRefinementRound(t *testing.T) {
	t.Parallel()
	st := openStore(t, tempDB(t))
	t.Cleanup(func() { st.Close() })
	s := newTestScheduler(t, st, nil, Config{Refiner: fixedRefiner{{"eta": 1.5, "seed": 0, "steps": 5}, {"eta": 2.5, "seed": 0, "steps": 5}}})
	p := submit(t, s, "name: p\nmodel: single\ngrid: {eta: [1.5], seed: [0]}\nparams: {steps: 5}\n")
	if ran := runAll(t, s); ran != 1 {
		t.Fatalf("the first sweep ran %d trials, want 1", ran)
	}
	waitState(t, s, p.ID, store.SweepDone)
	a := submit(t, s, "name: a\nmodel: single\ngrid: {eta: [1, 2], seed: [0]}\nparams: {steps: 5}\nboundary: {refine: {rounds: 1, tolerance: 0.01}}\n")
	if ran := runAll(t, s); ran != 2 {
		t.Fatalf("the grid ran %d trials, want 2", ran)
	}
	testwait.Poll(t, "round 1 to be planned", 10*time.Second, func() bool {
		info, err := s.Sweep(a.ID)
		return err == nil && info.Sweep.Round == 1
	})
	if ran := runAll(t, s); ran != 1 {
		t.Fatalf("round 1 ran %d trials, want 1 (η = 2.5; η = 1.5 is stored)", ran)
	}
	waitState(t, s, a.ID, store.SweepDone)
	info, err := s.Sweep(a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if info.Sweep.Reused != 1 || info.Progress.Done != 4 {
		t.Fatalf("sweep %+v progress %+v: want 1 reused and 4 done", info.Sweep, info.Progress)
	}
	got, err := st.Results(a.ID)
	if err != nil {
		t.Fatal(err)
	}
	want, err := st.Results(p.ID)
	if err != nil {
		t.Fatal(err)
	}
	for id, r := range want {
		if !reflect.DeepEqual(got[id], r) {
			t.Fatalf("reused result of %s differs from the stored one", id)
		}
	}
}
