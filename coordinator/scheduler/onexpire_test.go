package scheduler

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/eosweep/eosweep/internal/fakeclock"
)

// OnExpire is told of every expired lease, once, and of nothing else; the
// fake clock's ticks drive the expiry loop.
func TestOnExpireCountsExpiredLeases(t *testing.T) {
	t.Parallel()
	clk := fakeclock.New()
	var expired atomic.Int64
	s := newTestScheduler(t, nil, clk, Config{LeaseTTL: 10 * time.Second, OnExpire: func(n int) { expired.Add(int64(n)) }})
	sw := submit(t, s, fourTrials)
	ls := lease(t, s, 3)
	// One lease is kept alive by a heartbeat, one finishes, one expires.
	clk.Advance(8 * time.Second)
	clk.Tick(t)
	if lost, err := s.Heartbeat("w", []LeaseRef{{ls[0].Sweep, ls[0].Trial, ls[0].Token}}); err != nil || len(lost) != 0 {
		t.Fatalf("heartbeat lost %v, %v", lost, err)
	}
	if r := deliverOne(t, s, ls[1], goodResult(-1)); r.Verdict != Accepted {
		t.Fatalf("delivery: %+v", r)
	}
	if got := expired.Load(); got != 0 {
		t.Fatalf("OnExpire counted %d expired leases before any deadline passed", got)
	}
	clk.Advance(3 * time.Second)
	clk.Tick(t)
	if p := progress(t, s, sw.ID); p.Pending != 2 || p.Leased != 1 {
		t.Fatalf("after the tick past the deadline: %+v, want one lease expired and the heartbeated one kept", p)
	}
	clk.Tick(t) // more ticks must not count it again
	clk.Tick(t)
	if got := expired.Load(); got != 1 {
		t.Fatalf("OnExpire counted %d expired leases, want 1", got)
	}
}
