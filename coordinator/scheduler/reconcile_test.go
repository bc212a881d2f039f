package scheduler

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eosweep/eosweep/coordinator/store"
	"github.com/eosweep/eosweep/internal/fakeclock"
)

// A refinement round whose write fails (a transient store error) is retried
// with backoff on the scheduler's clock by the expiry loop's reconciliation,
// so the sweep advances instead of staying RUNNING with no work.
func TestFailedRefinementWriteIsRetried(t *testing.T) {
	t.Parallel()
	const yaml = "model: single\ngrid: {eta: [1, 2]}\nparams: {steps: 5}\nboundary: {refine: {rounds: 1, tolerance: 0.01}}\n"
	for _, c := range []struct {
		name     string
		failures int32 // writes of the round that fail
	}{
		{"one failed write", 1},
		{"three failed writes", 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			clk := fakeclock.New()
			s := newTestScheduler(t, nil, clk, Config{Refiner: stepRefiner{calls: make(chan int, 10)}})
			var left atomic.Int32
			left.Store(c.failures)
			s.hooks.persist = func(sweeps []store.Sweep, _ []store.TrialUpdate) error {
				if len(sweeps) == 1 && sweeps[0].Round == 1 && left.Add(-1) >= 0 {
					return errors.New("injected: no space left on device")
				}
				return nil
			}
			failed := make(chan error, 10)
			s.hooks.advanced = func(err error) {
				if err != nil {
					failed <- err
				}
			}
			sw := submit(t, s, yaml)
			for _, l := range lease(t, s, 2) {
				deliverOne(t, s, l, goodResult(0))
			}
			for i := range c.failures {
				select {
				case <-failed:
				case <-time.After(10 * time.Second):
					t.Fatalf("failure %d of the round's write not seen", i+1)
				}
				if p := progress(t, s, sw.ID); p.Total != 2 {
					t.Fatalf("after a failed write: %+v, want the round not added", p)
				}
				// The retry comes from the loop: a minute of ticks (the longest backoff).
				tickAfter(t, s, clk, advanceRetryMax+time.Second)
				for range reconcileEvery {
					clk.Tick(t)
				}
			}
			info := waitSweep(t, s, sw.ID, "round 1 after the failed write", func(info SweepInfo) bool { return info.Sweep.Round == 1 })
			if info.Progress.Pending != 1 || info.Sweep.State != store.SweepRunning {
				t.Fatalf("after the retry: %+v", info)
			}
		})
	}
}
