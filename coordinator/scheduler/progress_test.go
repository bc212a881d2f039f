package scheduler

import (
	"math"
	"testing"
	"time"

	"github.com/eosweep/eosweep/internal/fakeclock"
)

func TestRateMeter(t *testing.T) {
	t.Parallel()
	var m rateMeter
	t0 := time.Unix(0, 0)
	if r := m.rate(t0); r != 0 {
		t.Fatalf("empty meter: %v", r)
	}
	// 10 results per second for 60 s: the 30-s window sees 10/s.
	for i := range 600 {
		m.add(t0.Add(time.Duration(i)*100*time.Millisecond), 1)
	}
	now := t0.Add(60 * time.Second)
	if r := m.rate(now); math.Abs(r-10) > 0.5 {
		t.Fatalf("rate = %v, want ≈ 10", r)
	}
	if len(m.samples) > 130 {
		t.Fatalf("%d samples kept", len(m.samples))
	}
	// Idle for longer than the window: no rate.
	if r := m.rate(now.Add(time.Minute)); r != 0 {
		t.Fatalf("idle rate = %v", r)
	}
}

func TestProgressETA(t *testing.T) {
	t.Parallel()
	clk := fakeclock.New()
	s := newTestScheduler(t, nil, clk, Config{})
	sw := submit(t, s, fourTrials)
	ls := lease(t, s, 4)
	deliverOne(t, s, ls[0], goodResult(0))
	clk.Advance(time.Second)
	deliverOne(t, s, ls[1], goodResult(0))
	clk.Advance(time.Second)
	p := progress(t, s, sw.ID)
	// 1 result in the 2 s since the first: 0.5/s; 2 left → 4 s.
	if math.Abs(p.ResultsPerSecond-0.5) > 1e-9 || p.ETA != 4*time.Second {
		t.Fatalf("progress %+v", p)
	}
}
