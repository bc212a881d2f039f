package scheduler

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eosweep/eosweep/internal/fakeclock"
)

// recorder is an Observer that keeps what it is told.
type recorder struct {
	mu       sync.Mutex
	verdicts map[Verdict]int
	leased   int
	grants   int
	expired  int
}

func (r *recorder) Delivered(rs []Receipt) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.verdicts == nil {
		r.verdicts = map[Verdict]int{}
	}
	for _, rc := range rs {
		r.verdicts[rc.Verdict]++
	}
}

func (r *recorder) Leased(n int, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if d < 0 {
		panic("negative grant time")
	}
	r.leased += n
	r.grants++
}

func (r *recorder) LeasesExpired(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.expired += n
}

func (r *recorder) snapshot() (map[Verdict]int, int, int, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	v := map[Verdict]int{}
	for k, n := range r.verdicts {
		v[k] = n
	}
	return v, r.leased, r.grants, r.expired
}

// The observer is told of every expired lease once and of nothing else; the
// fake clock's ticks drive the expiry loop.
func TestObserverCountsExpiredLeases(t *testing.T) {
	t.Parallel()
	clk := fakeclock.New()
	obs := &recorder{}
	s := newTestScheduler(t, nil, clk, Config{LeaseTTL: 10 * time.Second, Observer: obs})
	sw := submit(t, s, fourTrials)
	ls := lease(t, s, 3)
	// One lease is kept alive by a heartbeat, one finishes, one expires.
	tickAfter(t, s, clk, 8*time.Second)
	if lost, err := s.Heartbeat("w", []LeaseRef{{ls[0].Sweep, ls[0].Trial, ls[0].Token}}); err != nil || len(lost) != 0 {
		t.Fatalf("heartbeat lost %v, %v", lost, err)
	}
	if r := deliverOne(t, s, ls[1], goodResult(-1)); r.Verdict != Accepted {
		t.Fatalf("delivery: %+v", r)
	}
	if _, _, _, got := obs.snapshot(); got != 0 {
		t.Fatalf("observer counted %d expired leases before any deadline passed", got)
	}
	tickAfter(t, s, clk, 3*time.Second)
	if p := progress(t, s, sw.ID); p.Pending != 2 || p.Leased != 1 {
		t.Fatalf("after the tick past the deadline: %+v, want one lease expired and the heartbeated one kept", p)
	}
	clk.Tick(t) // more ticks must not count it again
	clk.Tick(t)
	if _, _, _, got := obs.snapshot(); got != 1 {
		t.Fatalf("observer counted %d expired leases, want 1", got)
	}
}

// The observer is told every receipt's verdict (stored, duplicate, rejected,
// error recorded, released) and every grant, where the scheduler decides them.
func TestObserverCountsVerdictsAndGrants(t *testing.T) {
	t.Parallel()
	clk := fakeclock.New()
	obs := &recorder{}
	s := newTestScheduler(t, nil, clk, Config{LeaseTTL: time.Minute, Observer: obs})
	submit(t, s, fourTrials)
	ls := lease(t, s, 4)
	ds := []Delivery{
		{Sweep: ls[0].Sweep, Trial: ls[0].Trial, Token: ls[0].Token, Result: goodResult(-1)},
		{Sweep: ls[0].Sweep, Trial: ls[0].Trial, Token: ls[0].Token, Result: goodResult(-1)}, // duplicate
		{Sweep: ls[1].Sweep, Trial: ls[1].Trial, Token: "1.forged", Result: goodResult(-1)},  // rejected
		{Sweep: ls[2].Sweep, Trial: ls[2].Trial, Token: ls[2].Token, Failure: "boom"},
		{Sweep: ls[3].Sweep, Trial: ls[3].Trial, Token: ls[3].Token, Release: true},
	}
	if _, err := s.Deliver(ds); err != nil {
		t.Fatal(err)
	}
	// A call with nothing to write is observed too.
	if _, err := s.Deliver(ds[1:3]); err != nil {
		t.Fatal(err)
	}
	verdicts, leased, grants, _ := obs.snapshot()
	want := map[Verdict]int{Accepted: 1, Duplicate: 2, Rejected: 2, FailureRecorded: 1, Released: 1}
	for v, n := range want {
		if verdicts[v] != n {
			t.Errorf("verdict %d observed %d times, want %d (all: %v)", v, verdicts[v], n, verdicts)
		}
	}
	if leased != 4 {
		t.Errorf("observed %d leases granted, want 4", leased)
	}
	if grants < 1 {
		t.Errorf("observed %d grants, want at least 1", grants)
	}
}

// expiryCount is an Observer that counts expired leases alone.
type expiryCount struct {
	nopObserver
	n *atomic.Int64
}

func (e expiryCount) LeasesExpired(n int) { e.n.Add(int64(n)) }
