package report

import "testing"

func TestLogTicks(t *testing.T) {
	t.Parallel()
	labels := func(lo, hi float64) []string {
		var out []string
		for _, tk := range logTicks(lo, hi) {
			if tk.Label != "" {
				out = append(out, tk.Label)
			}
		}
		return out
	}
	cases := []struct {
		lo, hi float64
		want   []string
	}{
		{0.45, 9, []string{"0.5", "1", "2", "5"}},                 // narrow, plain decimals
		{1e-4, 2.5e-2, []string{"10^{−4}", "10^{−3}", "10^{−2}"}}, // decades as powers
		{1.5e-4, 9e-4, []string{"2×10^{−4}", "5×10^{−4}"}},        // narrow: 2× and 5×
		{0.02, 50, []string{"0.1", "1", "10"}},
	}
	for _, c := range cases {
		got := labels(c.lo, c.hi)
		if len(got) != len(c.want) {
			t.Errorf("logTicks(%g, %g) labels %v, want %v", c.lo, c.hi, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("logTicks(%g, %g) labels %v, want %v", c.lo, c.hi, got, c.want)
				break
			}
		}
	}
	if n := len(logTicks(1e-4, 2.5e-2)); n != 9*2+2 { // 1e-4..9e-4, 1e-3..9e-3, 1e-2, 2e-2
		t.Errorf("%d ticks over [1e-4, 2.5e-2], want 20", n)
	}
}

func TestQuantityClip(t *testing.T) {
	t.Parallel()
	cases := []struct {
		q    quantity
		v    float64
		want float64
	}{
		{eosQ, 0.98, 0.98},
		{eosQ, eosCap, eosCap},
		{eosQ, 65, eosCap},
		{biasQ, 65, 65},
		{biasQ, -4, -4},
	}
	for _, c := range cases {
		if got := c.q.clip(c.v); got != c.want {
			t.Errorf("%s: clip(%v) = %v, want %v", c.q.label, c.v, got, c.want)
		}
	}
}
