package scheduler

import (
	"testing"
	"time"

	"github.com/eosweep/eosweep/internal/fakeclock"
)

// A coordinator that did not run for longer than a lease TTL (SIGSTOP, a GC
// or VM pause) re-arms every lease instead of expiring it: the heartbeats sent
// meanwhile are unread. A lease that then misses its heartbeats still expires.
func TestPauseRearmsLeases(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		gap  time.Duration
	}{
		{"pause past the deadline", 25 * time.Second},
		{"pause of 0.6 TTL", 6 * time.Second}, // 8 s after the lease: a heartbeat would have come
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			clk := fakeclock.New()
			s := newTestScheduler(t, nil, clk, Config{LeaseTTL: 10 * time.Second, MaxAttempts: 1})
			sw := submit(t, s, fourTrials)
			tickAfter(t, s, clk, 2*time.Second)
			ls := lease(t, s, 2)
			tickAfter(t, s, clk, 2*time.Second)
			// The pause: one jump of the clock, then the loop's first tick.
			clk.Advance(c.gap)
			clk.Tick(t)
			if p := progress(t, s, sw.ID); p.Leased != 2 || p.Failed != 0 {
				t.Fatalf("after a pause of %v: %+v, want both leases kept", c.gap, p)
			}
			// The queued heartbeat of one worker arrives; the other worker is gone.
			if lost, err := s.Heartbeat("w", []LeaseRef{{ls[0].Sweep, ls[0].Trial, ls[0].Token}}); err != nil || len(lost) != 0 {
				t.Fatalf("heartbeat after the pause: lost %v, %v", lost, err)
			}
			tickAfter(t, s, clk, 9*time.Second)
			if p := progress(t, s, sw.ID); p.Leased != 2 {
				t.Fatalf("9 s after the pause: %+v, want both leases (a fresh TTL each)", p)
			}
			tickAfter(t, s, clk, 2*time.Second)
			if p := progress(t, s, sw.ID); p.Leased != 0 || p.Failed != 2 {
				t.Fatalf("11 s after the pause, no heartbeat since: %+v, want both expired", p)
			}
		})
	}
}

// A pause right after a restart re-arms the holds too: the worker still
// running a trial re-adopts its lease instead of finding it handed out again.
func TestPauseRearmsRestartHolds(t *testing.T) {
	t.Parallel()
	path := tempDB(t)
	st := openStore(t, path)
	defer st.Close()
	s := newTestScheduler(t, st, nil, Config{LeaseTTL: 10 * time.Second})
	sw := submit(t, s, fourTrials)
	l := lease(t, s, 1)[0]
	s.Close()
	clk := fakeclock.New()
	s = newTestScheduler(t, st, clk, Config{LeaseTTL: 10 * time.Second})
	defer s.Close()               // before the store closes
	clk.Advance(25 * time.Second) // the pause
	clk.Tick(t)
	if lost, err := s.Heartbeat("w", []LeaseRef{{l.Sweep, l.Trial, l.Token}}); err != nil || len(lost) != 0 {
		t.Fatalf("re-adoption after a pause: lost %v, %v", lost, err)
	}
	if p := progress(t, s, sw.ID); p.Leased != 1 {
		t.Fatalf("after re-adoption: %+v", p)
	}
}
