package scheduler

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/eosweep/eosweep/coordinator/store"
	"github.com/eosweep/eosweep/coordinator/store/storetest"
	"github.com/eosweep/eosweep/engine"
)

const fourTrials = "name: four\nmodel: single\ngrid: {eta: [0.5, 1, 1.5, 2]}\nparams: {steps: 5}\n"

// clock is a manual clock for lease deadlines.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Unix(1_000_000, 0)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newTestScheduler(t *testing.T, st *store.Store, clk *clock, cfg Config) *Scheduler {
	t.Helper()
	if st == nil {
		st = storetest.MustOpen(t)
	}
	if cfg.LeaseTTL == 0 {
		cfg.LeaseTTL = time.Minute
	}
	if clk != nil {
		cfg.Now = clk.Now
	}
	s, err := New(st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func openStore(t *testing.T, path string) *store.Store {
	t.Helper()
	st, err := store.Open(path, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func tempDB(t *testing.T) string { return filepath.Join(t.TempDir(), "s.db") }

func submit(t *testing.T, s *Scheduler, yaml string) store.Sweep {
	t.Helper()
	sw, _, err := s.Submit([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return sw
}

func lease(t *testing.T, s *Scheduler, n int) []Lease {
	t.Helper()
	ls, err := s.Lease(context.Background(), "w", n, 0)
	if err != nil {
		t.Fatal(err)
	}
	return ls
}

// goodResult is a valid result for a trial of fourTrials.
func goodResult(bias float64) engine.Result {
	return engine.Result{FinalBias: bias, MinBias: bias, StepsRun: 5, WallMS: 1,
		Trajectory: []engine.Point{{Step: 0, Loss: 0.7}, {Step: 5, Loss: 0.6, Bias: bias, Sharpness: 1}}}
}

func reportOne(t *testing.T, s *Scheduler, l Lease, r engine.Result) Outcome {
	t.Helper()
	out, err := s.Report([]Report{{Sweep: l.Sweep, Trial: l.Trial, Token: l.Token, Result: r}})
	if err != nil {
		t.Fatal(err)
	}
	return out[0]
}

func progress(t *testing.T, s *Scheduler, id string) Progress {
	t.Helper()
	info, err := s.Sweep(id)
	if err != nil {
		t.Fatal(err)
	}
	return info.Progress
}

// eventually polls cond for up to 5 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
