package scheduler

import (
	"testing"

	"github.com/eosweep/eosweep/coordinator/boundary"
	"github.com/eosweep/eosweep/coordinator/spec"
	"github.com/eosweep/eosweep/coordinator/store"
)

// blockingRefiner plans one new η, but only once released.
type blockingRefiner struct {
	entered, release chan struct{}
}

func (r blockingRefiner) Plan(*spec.Spec, []boundary.Trial) ([]map[string]float64, error) {
	r.entered <- struct{}{}
	<-r.release
	return []map[string]float64{{"eta": 1.5, "steps": 5}}, nil
}

// TestCancelDuringRefinementPlanning: a sweep cancelled while its next round
// is being planned stays cancelled (in memory and in the store), and
// resubmitting it runs the planned trials to the end instead of leaving them
// PENDING forever.
func TestCancelDuringRefinementPlanning(t *testing.T) {
	t.Parallel()
	const yaml = "model: single\ngrid: {eta: [1, 2]}\nparams: {steps: 5}\nboundary: {refine: {rounds: 1, tolerance: 0.01}}\n"
	st := openStore(t, tempDB(t))
	t.Cleanup(func() { st.Close() })
	ref := blockingRefiner{entered: make(chan struct{}, 1), release: make(chan struct{})}
	s := newTestScheduler(t, st, nil, Config{Refiner: ref})
	waiting := make(chan struct{})
	s.hooks.cancelWaiting = func() { close(waiting) }
	sw := submit(t, s, yaml)
	for _, l := range lease(t, s, 2) {
		deliverOne(t, s, l, goodResult(0))
	}
	<-ref.entered // round 1 is being planned
	cancelled := make(chan error, 1)
	go func() { _, err := s.Cancel(sw.ID); cancelled <- err }()
	// Planning goes on only once Cancel waits for it, or has returned
	// without waiting (then the planned round must not revive the sweep).
	var err error
	select {
	case <-waiting:
		close(ref.release)
		err = <-cancelled
	case err = <-cancelled:
		close(ref.release)
	}
	if err != nil {
		t.Fatal(err)
	}
	info := waitSweep(t, s, sw.ID, "planning to end", func(info SweepInfo) bool { return info.Sweep.Round == 1 })
	if info.Sweep.State != store.SweepCancelled || info.Progress.Pending+info.Progress.Leased != 0 {
		t.Errorf("after cancel during planning: state %v, progress %+v; want CANCELLED with nothing pending", info.Sweep.State, info.Progress)
	}
	if stored, err := st.Sweep(sw.ID); err != nil || stored.State != store.SweepCancelled {
		t.Errorf("stored sweep %+v (%v), want CANCELLED", stored, err)
	}
	if ls := lease(t, s, 4); len(ls) != 0 {
		t.Fatalf("leased %d trials of a cancelled sweep", len(ls))
	}
	submit(t, s, yaml) // resume
	ls := lease(t, s, 4)
	if len(ls) != 1 || ls[0].Params["eta"] != 1.5 {
		t.Fatalf("lease after resume %+v, want the planned η = 1.5", ls)
	}
	deliverOne(t, s, ls[0], goodResult(0))
	waitSweep(t, s, sw.ID, "DONE", func(info SweepInfo) bool { return info.Sweep.State == store.SweepDone })
}
