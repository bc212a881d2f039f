package scheduler

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eosweep/eosweep/coordinator/store"
)

// TestStoredStatesMatchMemory: with leases expiring while late results arrive
// and trials are re-leased, every trial's stored record ends in the state the
// scheduler holds (a DONE trial stored as PENDING or LEASED would run again
// after a restart).
func TestStoredStatesMatchMemory(t *testing.T) {
	t.Parallel()
	var expired atomic.Int64
	s := newTestScheduler(t, nil, nil, Config{LeaseTTL: 10 * time.Millisecond, MaxAttempts: 1000,
		Observer: expiryCount{n: &expired}})
	sw := submit(t, s, "model: single\ngrid: {eta: {linspace: [0.1, 3, 40]}, seed: {range: [0, 10]}}\nparams: {steps: 5}\n")
	crowd{workers: 16, batch: 3, wait: 5 * time.Millisecond, copies: 1,
		pause: func(_, n int) time.Duration { return time.Duration(8+n%5) * time.Millisecond }, // around the TTL
	}.run(t, s, sw.ID, 400)
	// Close waits for the expiry pass in flight, whose records may not be
	// stored yet; every Lease and Deliver call has returned, so its writes are.
	s.Close()
	if expired.Load() == 0 {
		t.Fatal("no lease expired: the test did not race late results against expiry")
	}
	mem, _ := s.Trials(sw.ID)
	stored, err := s.st.Trials(sw.ID)
	if err != nil {
		t.Fatal(err)
	}
	bad := 0
	for i, tr := range mem {
		if stored[i].State != tr.State {
			bad++
			t.Errorf("trial %s: memory %v (attempt %d), store %v (attempt %d)", tr.ID, tr.State, tr.Attempt, stored[i].State, stored[i].Attempt)
		}
		if tr.State != store.Done {
			t.Errorf("trial %s not DONE: %v", tr.ID, tr.State)
		}
	}
	if bad > 0 {
		t.Fatalf("%d of %d stored trial states differ from memory", bad, len(mem))
	}
}

// crowd is a crowd of workers racing one scheduler on the real clock.
type crowd struct {
	workers, batch int
	wait           time.Duration                // Lease's long poll
	pause          func(w, n int) time.Duration // worker w's work on its n-th lease
	copies         int                          // times each result is delivered
}

// run lets the crowd lease, pause and deliver until the sweep has total
// trials DONE (or 20 s pass), and waits for every worker to stop.
func (c crowd) run(t *testing.T, s *Scheduler, sweep string, total int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for w := range c.workers {
		wg.Go(func() {
			for n := 0; ctx.Err() == nil; n++ {
				ls, err := s.Lease(ctx, fmt.Sprint("w", w), c.batch, c.wait)
				if err != nil {
					t.Error(err)
					return
				}
				if len(ls) == 0 && progress(t, s, sweep).Done == total {
					return
				}
				time.Sleep(c.pause(w, n))
				var ds []Delivery
				for _, l := range ls {
					d := Delivery{Sweep: l.Sweep, Trial: l.Trial, Token: l.Token, Result: goodResult(-l.Params["eta"])}
					for range c.copies {
						ds = append(ds, d)
					}
				}
				if _, err := s.Deliver(ds); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}
