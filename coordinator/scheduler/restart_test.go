package scheduler

import (
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eosweep/eosweep/coordinator/boundary"
	"github.com/eosweep/eosweep/coordinator/spec"
	"github.com/eosweep/eosweep/coordinator/store"
	"github.com/eosweep/eosweep/internal/fakeclock"
)

// TestRestartReleasesAndReadopts: after a restart, LEASED trials are stored
// as PENDING; a worker that heartbeats re-adopts its lease, the others are
// queued after the hold; DONE trials are never handed out again.
func TestRestartReleasesAndReadopts(t *testing.T) {
	t.Parallel()
	path := tempDB(t)
	clk := fakeclock.New()
	st := openStore(t, path)
	s, err := New(st, Config{LeaseTTL: 10 * time.Second, Now: clk.Now, Ticks: clk.Ticks()})
	if err != nil {
		t.Fatal(err)
	}
	sw := submit(t, s, fourTrials)
	ls := lease(t, s, 3)
	if r := deliverOne(t, s, ls[0], goodResult(-1)); r.Verdict != Accepted {
		t.Fatal(r)
	}
	s.Close()
	st.Close()

	st = openStore(t, path)
	defer st.Close()
	s = newTestScheduler(t, st, clk, Config{LeaseTTL: 10 * time.Second})
	stored, _ := st.Trials(sw.ID)
	for _, tr := range stored {
		if tr.State == store.Leased {
			t.Fatalf("trial %s still LEASED in the store after restart", tr.ID)
		}
	}
	p := progress(t, s, sw.ID)
	if p.Done != 1 || p.Pending != 3 || p.Leased != 0 {
		t.Fatalf("after restart %+v", p)
	}
	// Only the never-leased trial is leasable during the hold.
	fresh := lease(t, s, 4)
	if len(fresh) != 1 || fresh[0].Trial == ls[1].Trial || fresh[0].Trial == ls[2].Trial {
		t.Fatalf("during hold leased %+v", fresh)
	}
	// ls[1]'s worker comes back: re-adopted.
	if lost, err := s.Heartbeat("w", []LeaseRef{{ls[1].Sweep, ls[1].Trial, ls[1].Token}}); err != nil || len(lost) != 0 {
		t.Fatalf("re-adopt: lost %v, %v", lost, err)
	}
	if p := progress(t, s, sw.ID); p.Leased != 2 {
		t.Fatalf("after re-adoption %+v", p)
	}
	// ls[2]'s worker never returns: queued after the hold, next attempt.
	expireAfter(s, clk, 6*time.Second)
	if lost, _ := s.Heartbeat("w", []LeaseRef{{ls[1].Sweep, ls[1].Trial, ls[1].Token}, {fresh[0].Sweep, fresh[0].Trial, fresh[0].Token}}); len(lost) != 0 {
		t.Fatalf("heartbeat lost %v", lost)
	}
	expireAfter(s, clk, 5*time.Second) // the hold has passed; the heartbeated leases have 5 s left
	again := lease(t, s, 4)
	if len(again) != 1 || again[0].Trial != ls[2].Trial || again[0].Attempt != 2 {
		t.Fatalf("after hold: %+v", again)
	}
	if r := deliverOne(t, s, ls[0], goodResult(-1)); r.Verdict != Duplicate {
		t.Fatalf("result of a DONE trial after restart: %+v", r)
	}
	if r := deliverOne(t, s, ls[1], goodResult(-1)); r.Verdict != Accepted {
		t.Fatalf("re-adopted lease's result: %+v", r)
	}
}

// stepRefiner plans one new η per round: the midpoint of the two largest η.
type stepRefiner struct{ calls chan int }

func (r stepRefiner) Plan(sp *spec.Spec, done []boundary.Trial) ([]map[string]float64, error) {
	r.calls <- len(done)
	var etas []float64
	for _, d := range done {
		etas = append(etas, d.Params["eta"])
	}
	sort.Float64s(etas)
	n := len(etas)
	return []map[string]float64{{"eta": (etas[n-1] + etas[n-2]) / 2, "steps": 5}, {"eta": etas[0], "steps": 5}}, nil
}

func TestRefinementRoundsSurviveRestart(t *testing.T) {
	t.Parallel()
	const yaml = "model: single\ngrid: {eta: [1, 2]}\nparams: {steps: 5}\nboundary: {refine: {rounds: 2, tolerance: 0.01}}\n"
	path := tempDB(t)
	st := openStore(t, path)
	ref := stepRefiner{calls: make(chan int, 10)}
	s, err := New(st, Config{Refiner: ref})
	if err != nil {
		t.Fatal(err)
	}
	sw := submit(t, s, yaml)
	for _, l := range lease(t, s, 2) {
		deliverOne(t, s, l, goodResult(0))
	}
	waitSweep(t, s, sw.ID, "round 1", func(info SweepInfo) bool { return info.Sweep.Round == 1 })
	if p := progress(t, s, sw.ID); p.Total != 3 || p.Pending != 1 {
		t.Fatalf("round 1 progress %+v (the existing η must not be added twice)", p)
	}
	s.Close()
	st.Close()

	st = openStore(t, path)
	defer st.Close()
	s = newTestScheduler(t, st, nil, Config{Refiner: ref})
	ls := lease(t, s, 4)
	if len(ls) != 1 || ls[0].Params["eta"] != 1.5 {
		t.Fatalf("round 1 lease after restart %+v", ls)
	}
	deliverOne(t, s, ls[0], goodResult(0))
	waitSweep(t, s, sw.ID, "round 2", func(info SweepInfo) bool { return info.Sweep.Round == 2 })
	ls = lease(t, s, 4)
	if len(ls) != 1 || ls[0].Params["eta"] != 1.75 {
		t.Fatalf("round 2 lease %+v", ls)
	}
	deliverOne(t, s, ls[0], goodResult(0))
	waitSweep(t, s, sw.ID, "DONE", func(info SweepInfo) bool { return info.Sweep.State == store.SweepDone })
	if got := len(ref.calls); got != 2 {
		t.Fatalf("refiner called %d times, want 2 (rounds: 2)", got)
	}
}

// TestConcurrentWorkersExactlyOnce: many workers lease, heartbeat and report
// (some twice, some late) while leases expire; every trial ends DONE with
// exactly one stored result.
func TestConcurrentWorkersExactlyOnce(t *testing.T) {
	t.Parallel()
	var expired atomic.Int64
	s := newTestScheduler(t, nil, nil, Config{LeaseTTL: 30 * time.Millisecond, Observer: expiryCount{n: &expired}})
	sw := submit(t, s, "model: single\ngrid: {eta: {linspace: [0.1, 3, 40]}, seed: {range: [0, 5]}}\nparams: {steps: 5}\n")
	crowd{workers: 8, batch: 7, wait: 20 * time.Millisecond, copies: 2, // every result twice
		pause: func(w, n int) time.Duration {
			if n%5 == w%5 {
				return 40 * time.Millisecond // too slow: the lease expires
			}
			return 0
		},
	}.run(t, s, sw.ID, 200)
	if expired.Load() == 0 {
		t.Fatal("no lease expired: the test did not race late results against expiry")
	}
	p := progress(t, s, sw.ID)
	res, _ := s.st.Results(sw.ID)
	trials, _ := s.Trials(sw.ID)
	if p.Done != 200 || len(res) != 200 {
		t.Fatalf("progress %+v, %d results", p, len(res))
	}
	for _, tr := range trials {
		if tr.State != store.Done || res[tr.ID].FinalBias != -tr.Params["eta"] {
			t.Fatalf("trial %+v result %+v", tr, res[tr.ID])
		}
	}
}
