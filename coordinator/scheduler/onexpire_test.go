package scheduler

import (
	"sync/atomic"
	"testing"
	"time"
)

// OnExpire is told of every expired lease, once, and of nothing else.
func TestOnExpireCountsExpiredLeases(t *testing.T) {
	t.Parallel()
	clk := newClock()
	var expired atomic.Int64
	s := newTestScheduler(t, nil, clk, Config{LeaseTTL: 10 * time.Second, OnExpire: func(n int) { expired.Add(int64(n)) }})
	sw := submit(t, s, fourTrials)
	ls := lease(t, s, 3)
	// One lease is kept alive by a heartbeat, one finishes, one expires.
	clk.Advance(8 * time.Second)
	if lost, err := s.Heartbeat("w", []LeaseRef{{ls[0].Sweep, ls[0].Trial, ls[0].Token}}); err != nil || len(lost) != 0 {
		t.Fatalf("heartbeat lost %v, %v", lost, err)
	}
	if o := reportOne(t, s, ls[1], goodResult(-1)); o.Status != Accepted {
		t.Fatalf("report: %+v", o)
	}
	clk.Advance(3 * time.Second)
	eventually(t, "one lease expiry", func() bool { return progress(t, s, sw.ID).Pending == 2 })
	time.Sleep(50 * time.Millisecond) // more expiry ticks must not count it again
	if got := expired.Load(); got != 1 {
		t.Fatalf("OnExpire counted %d expired leases, want 1", got)
	}
}
