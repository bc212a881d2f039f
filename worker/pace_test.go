package worker

import (
	"testing"
	"time"
)

func TestPacerDepth(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		trial, rtt time.Duration // one sample each; 0: none
		want       int
	}{
		{"nothing measured", 0, 0, 1},
		{"no round trip yet", time.Millisecond, 0, 1},
		{"minute-long trials", time.Minute, time.Millisecond, 1},
		{"trials of four round trips", 4 * time.Millisecond, time.Millisecond, 1},
		{"trials of one round trip", time.Millisecond, time.Millisecond, 4},
		{"trials of a third of a round trip", time.Millisecond, 3 * time.Millisecond / 4, 3},
		{"microsecond trials", 2 * time.Microsecond, 500 * time.Microsecond, 1000},
		{"capped", time.Microsecond, time.Second, MaxAutoPrefetch},
	}
	for _, tt := range tests {
		var p pacer
		if tt.trial > 0 {
			p.trialRan(tt.trial)
		}
		if tt.rtt > 0 {
			p.roundTrip(tt.rtt)
		}
		if got := p.depth(); got != tt.want {
			t.Errorf("%s: depth = %d, want %d", tt.name, got, tt.want)
		}
	}
}

// The averages move by an eighth of each new sample's difference: one slow
// round trip does not make the queue four times deeper.
func TestPacerAverages(t *testing.T) {
	t.Parallel()
	var p pacer
	p.trialRan(time.Millisecond)
	p.roundTrip(time.Millisecond)
	p.roundTrip(9 * time.Millisecond)
	if p.rtt != 2*time.Millisecond {
		t.Errorf("rtt = %v after samples 1 ms, 9 ms; want 2 ms", p.rtt)
	}
	if got := p.depth(); got != 8 {
		t.Errorf("depth = %d, want 8", got)
	}
	p.leased(200)
	if got := p.maxHeld(); got != MaxHeldBytes/200 {
		t.Errorf("maxHeld = %d, want %d", got, MaxHeldBytes/200)
	}
}
