package scheduler

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eosweep/eosweep/coordinator/boundary"
	"github.com/eosweep/eosweep/coordinator/spec"
	"github.com/eosweep/eosweep/coordinator/store"
	"github.com/eosweep/eosweep/internal/fakeclock"
)

// flakyRefiner fails its first fails calls (as a refinement round whose
// save hits a full disk fails), then plans one new η.
type flakyRefiner struct {
	calls chan int
	n     *atomic.Int64
	fails int
}

func (r flakyRefiner) Plan(*spec.Spec, []boundary.Trial) ([]map[string]float64, error) {
	n := int(r.n.Add(1))
	r.calls <- n
	if n <= r.fails {
		return nil, errors.New("write /store/eosweep.db: no space left on device")
	}
	return []map[string]float64{{"eta": 1.5, "steps": 5}}, nil
}

// TestAdvanceRetriedAfterFailure: a refinement step that fails (a transient
// store error, here a refiner error, which takes the same path) is retried
// on a later expiry tick, with a backoff, instead of leaving the sweep
// RUNNING with no pending or leased trial forever (issue 9 item 5, found
// again by the fault campaign's ENOSPC windows).
func TestAdvanceRetriedAfterFailure(t *testing.T) {
	t.Parallel()
	const yaml = "model: single\ngrid: {eta: [1, 2]}\nparams: {steps: 5}\nboundary: {refine: {rounds: 1, tolerance: 0.01}}\n"
	for _, fails := range []int{1, 3} {
		clk := fakeclock.New()
		ref := flakyRefiner{calls: make(chan int, 10), n: new(atomic.Int64), fails: fails}
		s := newTestScheduler(t, nil, clk, Config{Refiner: ref})
		sw := submit(t, s, yaml)
		for _, l := range lease(t, s, 2) {
			deliverOne(t, s, l, goodResult(0))
		}
		for i := 1; i <= fails; i++ {
			if n := nextCall(t, ref.calls); n != i {
				t.Fatalf("fails=%d: refiner call %d, want %d", fails, n, i)
			}
			s.bg.Wait() // the failed step has ended
			if p := progress(t, s, sw.ID); p.Pending+p.Leased != 0 {
				t.Fatalf("fails=%d: progress %+v after a failed step", fails, p)
			}
			// Not before its backoff: a tick just short of it retries nothing.
			expireAfter(s, clk, advanceBackoff(i)-time.Millisecond)
			s.bg.Wait()
			if len(ref.calls) != 0 {
				t.Fatalf("fails=%d: retried before the backoff of %v", fails, advanceBackoff(i))
			}
			expireAfter(s, clk, time.Millisecond)
		}
		nextCall(t, ref.calls) // the call that plans the round
		waitSweep(t, s, sw.ID, "round 1 after the failed steps", func(info SweepInfo) bool { return info.Sweep.Round == 1 })
		ls := lease(t, s, 4)
		if len(ls) != 1 || ls[0].Params["eta"] != 1.5 {
			t.Fatalf("fails=%d: round 1 lease %+v, want the planned η = 1.5", fails, ls)
		}
		deliverOne(t, s, ls[0], goodResult(0))
		waitSweep(t, s, sw.ID, "DONE", func(info SweepInfo) bool { return info.Sweep.State == store.SweepDone })
	}
}

// nextCall waits up to 10 s for the refiner's next call.
func nextCall(t *testing.T, calls <-chan int) int {
	t.Helper()
	select {
	case n := <-calls:
		return n
	case <-time.After(10 * time.Second):
		t.Fatal("the refinement step was not retried: the sweep stays RUNNING with no pending or leased trial")
		return 0
	}
}
