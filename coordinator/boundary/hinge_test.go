package boundary

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// hingeData samples drop = f(η) + N(0, noise²) for `seeds` replicates at each
// η of grid; x = log η.
func hingeData(rng *rand.Rand, grid []float64, seeds int, noise float64, f func(eta float64) float64) (x, drop []float64) {
	for _, eta := range grid {
		for range seeds {
			x = append(x, math.Log(eta))
			drop = append(drop, f(eta)+noise*rng.NormFloat64())
		}
	}
	return x, drop
}

func TestOnsetRecoversKnownBreakpoint(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		grid  []float64
		onset float64
		form  string
		f     func(eta float64) float64
	}{
		{"log-linear", logGrid(0.1, 10, 15), 1, "log-linear",
			func(eta float64) float64 { return 0.6 * math.Max(math.Log(eta), 0) }},
		{"linear", logGrid(0.25, 4, 15), 1, "linear",
			func(eta float64) float64 { return 2 * math.Max(eta-1, 0) }},
		{"log-quadratic (concave; locally any form)", logGrid(0.01, 10, 15), 0.3, "",
			func(eta float64) float64 {
				u := math.Max(math.Log(eta/0.3), 0)
				return 0.8*u - 0.08*u*u
			}},
	}
	for _, c := range cases {
		rng := rand.New(rand.NewPCG(3, 4))
		x, drop := hingeData(rng, c.grid, 3, 0.01, c.f)
		h := fitOnset(x, drop)
		if c.form != "" && h.form != c.form {
			t.Errorf("%s: chose form %q, want %q", c.name, h.form, c.form)
		}
		if math.Abs(h.onset/c.onset-1) > 0.03 {
			t.Errorf("%s: onset %g, want %g within 3%%", c.name, h.onset, c.onset)
		}
		if !(h.ci.Low <= c.onset && c.onset <= h.ci.High) {
			t.Errorf("%s: onset CI %v misses the true %g", c.name, h.ci, c.onset)
		}
	}
}

// The sparse model's measured drops (d = 200, seed 0, plateau
// −0.172): the onset lies within 5% of the paper's 8π/d².
func TestOnsetOnDesignSparseMeasurements(t *testing.T) {
	t.Parallel()
	etas := []float64{1e-4, 2e-4, 4e-4, 6e-4, 6.6e-4, 8e-4, 1.2e-3, 4e-3, 1.2e-2}
	bias := []float64{-0.172, -0.172, -0.172, -0.172, -0.204, -0.325, -0.58, -1.25, -1.71}
	var x, drop []float64
	for i, eta := range etas {
		x = append(x, math.Log(eta))
		drop = append(drop, -0.172-bias[i])
	}
	h := fitOnset(x, drop)
	theory := 8 * math.Pi / (200 * 200)
	t.Logf("onset %.4g [%.4g, %.4g] (%s), theory %.4g", h.onset, h.ci.Low, h.ci.High, h.form, theory)
	if math.Abs(h.onset/theory-1) > 0.05 {
		t.Errorf("onset %g is not within 5%% of 8π/d² = %g", h.onset, theory)
	}
}

// Coverage-ish for the onset interval over noisy replicates of a known hinge.
func TestOnsetIntervalCoverage(t *testing.T) {
	t.Parallel()
	const reps = 100
	rng := rand.New(rand.NewPCG(5, 6))
	f := func(eta float64) float64 { return 0.5 * math.Max(math.Log(eta/0.02), 0) }
	var hit int
	var width float64
	for range reps {
		x, drop := hingeData(rng, logGrid(0.005, 0.1, 10), 3, 0.05, f)
		h := fitOnset(x, drop)
		if h.ci.Low <= 0.02 && 0.02 <= h.ci.High {
			hit++
		}
		width += math.Log(h.ci.High / h.ci.Low)
	}
	t.Logf("onset CI coverage %d/%d, mean log-width %.3f", hit, reps, width/reps)
	if hit < 85 {
		t.Errorf("onset CI covers the true breakpoint in %d/%d replicates, want ≥ 85", hit, reps)
	}
}

func TestOnsetNoGrowth(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		drop []float64
	}{
		{"flat zero", []float64{0, 0, 0, 0, 0}},
		{"decreasing", []float64{0, -0.1, -0.2, -0.3, -0.4}},
		{"too few points", []float64{0, 1, 2}},
	} {
		x := []float64{0, 1, 2, 3, 4}[:len(c.drop)]
		if h := fitOnset(x, c.drop); h.form != OnsetNone || h.onset != 0 {
			t.Errorf("%s: form %q onset %g, want %q and 0", c.name, h.form, h.onset, OnsetNone)
		}
	}
}

// Seed spread proportional to the drop, and a collapse of the network at the
// largest η (a drop far off the trend, as the sparse model shows at d = 400):
// the onset is still found, while a single constant-variance fit over every
// trial is pulled far off by the collapse.
func TestOnsetWithCollapse(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 8))
	const star = 1.5e-4
	grid := append(logGrid(1e-4, 1.2e-2, 11), 1.6e-4, 1.7e-4, 1.85e-4)
	x, drop := hingeData(rng, grid, 3, 0, func(eta float64) float64 {
		return 0.37 * math.Max(math.Log(eta/star), 0)
	})
	for i := range drop {
		drop[i] *= 1 + 0.15*rng.NormFloat64()
	}
	x = append(x, math.Log(2e-2), math.Log(2e-2), math.Log(2e-2))
	drop = append(drop, 5.6, 2.9, 3.7)
	h := fitOnset(x, drop)
	t.Logf("onset %.4g [%.4g, %.4g] (%s)", h.onset, h.ci.Low, h.ci.High, h.form)
	if math.Abs(h.onset/star-1) > 0.06 { // the CI, a constant-variance fit interval, may be too narrow here
		t.Errorf("onset %g %v (%s), want within 6%% of %g", h.onset, h.ci, h.form, star)
	}
	naive := fitForms(x, drop, noiseModels(drop)[:1])
	t.Logf("one constant-variance fit over every trial: onset %.4g (%s)", naive.onset, naive.form)
	if math.Abs(naive.onset/star-1) < 0.2 {
		t.Errorf("the naive fit %g is close to %g: the collapse no longer tests the method", naive.onset, star)
	}
}

// HingeForms names the forms fitOnset tries, from the one list, in order.
func TestHingeForms(t *testing.T) {
	t.Parallel()
	want := []string{"log-linear", "linear", "log-quadratic"}
	if got := HingeForms(); !slices.Equal(got, want) {
		t.Errorf("HingeForms() = %v, want %v", got, want)
	}
}
