package scheduler

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/eosweep/eosweep/coordinator/store"
	"github.com/eosweep/eosweep/coordinator/store/storetest"
	"github.com/eosweep/eosweep/engine"
	"github.com/eosweep/eosweep/engine/enginetest"
	"github.com/eosweep/eosweep/internal/fakeclock"
	"github.com/eosweep/eosweep/internal/testwait"
)

const fourTrials = "name: four\nmodel: single\ngrid: {eta: [0.5, 1, 1.5, 2]}\nparams: {steps: 5}\n"

// newTestScheduler starts a scheduler on st (default: a fresh store). With a
// clock, the clock drives both deadlines and the expiry loop: nothing
// expires until the test calls expireAfter (or clk.Tick).
func newTestScheduler(t *testing.T, st *store.Store, clk *fakeclock.Clock, cfg Config) *Scheduler {
	t.Helper()
	if st == nil {
		st = storetest.MustOpen(t)
	}
	if cfg.LeaseTTL == 0 {
		cfg.LeaseTTL = time.Minute
	}
	if clk != nil {
		cfg.Now, cfg.Ticks = clk.Now, clk.Ticks()
	}
	s, err := New(st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func openStore(t testing.TB, path string) *store.Store {
	t.Helper()
	st, err := store.Open(path, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func tempDB(t testing.TB) string { return filepath.Join(t.TempDir(), "s.db") }

// fixtureDB copies the store file testdata/name to a temporary path and
// returns that path.
func fixtureDB(t testing.TB, name string) string {
	t.Helper()
	old, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	path := tempDB(t)
	if err := os.WriteFile(path, old, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// restart closes s and st and opens the store at path again under a new
// scheduler (closed at the test's end), as a coordinator's restart does.
func restart(t *testing.T, s *Scheduler, st *store.Store, path string) (*Scheduler, *store.Store) {
	t.Helper()
	s.Close()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st = openStore(t, path)
	t.Cleanup(func() { _ = st.Close() })
	return newTestScheduler(t, st, nil, Config{}), st
}

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

// expireAfter moves clk by d as a running expiry loop sees it: a pass at
// least every quarter TTL (a longer gap is a pause of the coordinator, which
// re-arms every deadline), the last one at the end.
func expireAfter(s *Scheduler, clk *fakeclock.Clock, d time.Duration) {
	step := s.cfg.LeaseTTL / 4
	for ; d > step; d -= step {
		clk.Advance(step)
		s.expire()
	}
	clk.Advance(d)
	s.expire()
}

// tickAfter is expireAfter through the expiry loop: it moves clk by d in
// steps of at most a quarter TTL with a tick after each.
func tickAfter(t *testing.T, s *Scheduler, clk *fakeclock.Clock, d time.Duration) {
	t.Helper()
	step := s.cfg.LeaseTTL / 4
	for ; d > step; d -= step {
		clk.Advance(step)
		clk.Tick(t)
	}
	clk.Advance(d)
	clk.Tick(t)
}

// goodResult is a valid result for a trial of fourTrials, ending at bias.
func goodResult(bias float64) engine.Result {
	r := enginetest.Result(5)
	r.FinalBias, r.MinBias, r.Trajectory[1].Bias = bias, bias, bias
	return r
}

func deliverOne(t *testing.T, s *Scheduler, l Lease, r engine.Result) Receipt {
	t.Helper()
	out, err := s.Deliver([]Delivery{{Sweep: l.Sweep, Trial: l.Trial, Token: l.Token, Result: r}})
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

// waitSweep waits for cond to hold of a sweep, checking it at every change
// the scheduler announces (SweepInfo.Changed), for up to 10 s.
func waitSweep(t *testing.T, s *Scheduler, id, what string, cond func(SweepInfo) bool) SweepInfo {
	t.Helper()
	var info SweepInfo
	testwait.Until(t, what, 10*time.Second, func() (bool, <-chan struct{}) {
		var err error
		if info, err = s.Sweep(id); err != nil {
			t.Fatal(err)
		}
		return cond(info), info.Changed
	})
	return info
}
