package engine

import (
	"math"
	"testing"
)

// An unstable start is not the edge of stability: for the sparse network at
// η = 1.2e-2 (19 × 8π/d²), seeds 1 and 2 start with η·S₀/2 ≈ 9.7 and 4.3,
// which GD leaves in its first step; max_eos_ratio is that start, while
// max_eos_ratio_after_init, the largest η·S/2 GD reaches after θ₀, stays
// below 1. Seed 0 starts below 1, so both maxima are the same measurement.
func TestMaxEOSRatioAfterInit(t *testing.T) {
	t.Parallel()
	const eta = 1.2e-2
	cases := []struct {
		seed             float64
		startAboveOne    bool
		afterLo, afterHi float64
	}{
		{0, false, 0.85, 1},
		{1, true, 0.85, 1},
		{2, true, 0.85, 1},
	}
	for _, c := range cases {
		p := map[string]float64{"eta": eta, "seed": c.seed}
		cfg := mustResolve(t, ModelSparse, p)
		r := runT(t, ModelSparse, p)
		checkResult(t, "sparse", cfg, r)
		start := eta * r.InitialSharpness / 2
		if c.startAboveOne != (start > 1) {
			t.Errorf("seed %g: η·S₀/2 = %.3f, want above 1: %v", c.seed, start, c.startAboveOne)
		}
		if c.startAboveOne && r.MaxEOSRatio != start {
			t.Errorf("seed %g: max_eos_ratio %.4f, want the start η·S₀/2 = %.4f", c.seed, r.MaxEOSRatio, start)
		}
		if got := r.MaxEOSRatioAfterInit; got < c.afterLo || got > c.afterHi || (c.startAboveOne && got >= start) {
			t.Errorf("seed %g: max_eos_ratio_after_init %.4f, want in [%g, %g] (start %.3f)", c.seed, got, c.afterLo, c.afterHi, start)
		}
		if !c.startAboveOne && math.Abs(r.MaxEOSRatioAfterInit-r.MaxEOSRatio) > 1e-12 {
			t.Errorf("seed %g: after_init %.6f != max %.6f though the start is below both", c.seed, r.MaxEOSRatioAfterInit, r.MaxEOSRatio)
		}
	}
}
