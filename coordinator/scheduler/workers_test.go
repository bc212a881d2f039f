package scheduler

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/eosweep/eosweep/internal/fakeclock"
)

// The registry is fed by Lease, Heartbeat and DeliverFrom: most recently
// seen first, with the leases each holds now, its stored results and
// recorded errors and their engine time, and the address a handler gave.
func TestWorkersRegistry(t *testing.T) {
	t.Parallel()
	clk := fakeclock.New()
	s := newTestScheduler(t, nil, clk, Config{MaxAttempts: 1})
	sw := submit(t, s, fourTrials)
	start := clk.Now()
	la, err := s.Lease(context.Background(), "a", 3, 0)
	if err != nil || len(la) != 3 {
		t.Fatalf("lease: %v %v", la, err)
	}
	s.WorkerAddress("a", "10.0.0.1:5000")
	clk.Advance(time.Second)
	lb, err := s.Lease(context.Background(), "b", 3, 0)
	if err != nil || len(lb) != 1 {
		t.Fatalf("lease: %v %v", lb, err)
	}
	clk.Advance(time.Second)
	if _, err := s.Heartbeat("c", nil); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	r := goodResult(-1)
	r.WallMS = 1500
	rs, err := s.DeliverFrom("a", []Delivery{
		{Sweep: sw.ID, Trial: la[0].Trial, Token: la[0].Token, Result: r},
		{Sweep: sw.ID, Trial: la[1].Trial, Token: la[1].Token, Failure: "engine: boom"},
		{Sweep: sw.ID, Trial: la[0].Trial, Token: la[0].Token, Result: r}, // duplicate: not counted
	})
	if err != nil || rs[0].Verdict != Accepted || rs[1].Verdict != FailureRecorded || rs[2].Verdict != Duplicate {
		t.Fatalf("deliver: %+v %v", rs, err)
	}
	got := s.Workers()
	want := []WorkerInfo{
		{ID: "a", Address: "10.0.0.1:5000", LastSeen: start.Add(3 * time.Second), Leases: 1, Done: 1, Failed: 1, EngineSeconds: 1.5},
		{ID: "c", LastSeen: start.Add(2 * time.Second)},
		{ID: "b", LastSeen: start.Add(time.Second), Leases: 1},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Workers:\n got %+v\nwant %+v", got, want)
	}
}

// The registry forgets the worker heard from longest ago beyond its bound.
func TestWorkersRegistryBounded(t *testing.T) {
	t.Parallel()
	clk := fakeclock.New()
	s := newTestScheduler(t, nil, clk, Config{})
	s.workers.max = 3
	for i := range 5 {
		if _, err := s.Heartbeat(fmt.Sprintf("w%d", i), nil); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Second)
	}
	if _, err := s.Heartbeat("w2", nil); err != nil { // seen again: now the most recent
		t.Fatal(err)
	}
	var ids []string
	for _, w := range s.Workers() {
		ids = append(ids, w.ID)
	}
	if fmt.Sprint(ids) != "[w2 w4 w3]" {
		t.Errorf("workers %v, want [w2 w4 w3] (w0 and w1 forgotten)", ids)
	}
	if MaxWorkers != 10000 {
		t.Errorf("MaxWorkers %d", MaxWorkers)
	}
}
