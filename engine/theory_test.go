package engine

import (
	"context"
	"math"
	"testing"
)

// Theory lines of the models (README, "Models").

func TestSingleTheoryLine(t *testing.T) {
	t.Parallel()
	for _, x0 := range []float64{1.5, 2, 3} {
		star := 8 / (x0 * x0)
		below := runT(t, ModelSingle, map[string]float64{"eta": 0.9 * star, "x0": x0})
		if below.FinalBias <= -1e-3 {
			t.Errorf("x0=%g, η = 0.9·8/x0²: |x_T| − x0 = %g, want > −1e-3", x0, below.FinalBias)
		}
		above := runT(t, ModelSingle, map[string]float64{"eta": 1.05 * star, "x0": x0})
		if above.EOSRatio < 0.9 || above.EOSRatio > 1 {
			t.Errorf("x0=%g, η = 1.05·8/x0²: η·S/2 = %g, want in [0.9, 1]", x0, above.EOSRatio)
		}
		if above.FinalBias >= -1e-3 {
			t.Errorf("x0=%g, η = 1.05·8/x0²: |x_T| − x0 = %g, want x to shrink", x0, above.FinalBias)
		}
		// S₀ at θ₀ is exactly 8/x0², so the largest η·S/2 of the run is the
		// initial 1.05 (measured: 1.0500 for x0 = 1.5, 2, 3) while the final one
		// has settled below 1.
		if above.MaxEOSRatio < 1.045 || above.MaxEOSRatio > 1.06 || above.MaxEOSRatio <= above.EOSRatio {
			t.Errorf("x0=%g, η = 1.05·8/x0²: max η·S/2 = %g (final %g), want in [1.045, 1.06] and above the final",
				x0, above.MaxEOSRatio, above.EOSRatio)
		}
	}
}

// TestSparseEdgeOfStability: for sparse at its defaults and η = 8e-4, just
// above 8π/d² ≈ 6.3e-4, the sharpness climbs until η·S/2 reaches ≈1 (measured
// for seed 0: max 0.9976, while the final η·S/2 has fallen to 0.8275).
func TestSparseEdgeOfStability(t *testing.T) {
	t.Parallel()
	r := runT(t, ModelSparse, map[string]float64{"eta": 8e-4, "seed": 0})
	if math.Abs(r.MaxEOSRatio-1) > 0.03 {
		t.Errorf("sparse η = 8e-4 seed 0: max η·S/2 = %.4f, want within 0.03 of 1", r.MaxEOSRatio)
	}
	if r.EOSRatio > 0.95 {
		t.Errorf("sparse η = 8e-4 seed 0: final η·S/2 = %.4f, want below 0.95", r.EOSRatio)
	}
}

func TestMeanTheoryLine(t *testing.T) {
	t.Parallel()
	for _, m := range []int{1, 4, 16} {
		star := 16 * math.Pi / float64(m)
		for _, seed := range []float64{0, 1} {
			p := map[string]float64{"width": float64(m), "seed": seed}
			p["eta"] = 0.95 * star
			if r := runT(t, ModelMean, p); r.FinalBias <= -2e-3 {
				t.Errorf("m=%d seed %g, η = 0.95·16π/m: b_T = %g, want > −2e-3", m, seed, r.FinalBias)
			}
			p["eta"] = 1.05 * star
			if r := runT(t, ModelMean, p); r.FinalBias >= -0.01 {
				t.Errorf("m=%d seed %g, η = 1.05·16π/m: b_T = %g, want < −0.01", m, seed, r.FinalBias)
			}
		}
	}
}

// TestInitialSharpnessTheory: 2/S₀ against each model's theory line. single
// and mean start at (almost) zero output, where S₀ is exactly the theory's.
func TestInitialSharpnessTheory(t *testing.T) {
	t.Parallel()
	cases := []struct {
		model, param string
		values       []float64
	}{
		{ModelSingle, "x0", []float64{1, 2, 3}},
		{ModelMean, "width", []float64{1, 4, 16, 20}},
	}
	for _, tc := range cases {
		for _, v := range tc.values {
			for _, seed := range []float64{0, 1, 2} {
				cfg := mustResolve(t, tc.model, map[string]float64{"eta": 1e-3, "steps": 1, "seed": seed, tc.param: v})
				r, err := Run(context.Background(), cfg)
				if err != nil {
					t.Fatal(err)
				}
				theory, _ := cfg.Theory()
				if got := 2 / r.InitialSharpness; math.Abs(got/theory-1) > 0.03 {
					t.Errorf("%s: 2/S₀ = %.5g, theory %.5g (off by %.1f%%)", cfg.Key(), got, theory, 100*(got/theory-1))
				}
			}
		}
	}
}

// sparseS0 is the sharpness of the sparse model at zero output and b = 0,
// (1/4)·λ_max(E[v vᵀ]) with v = (P, M), P = Σ_i ReLU(x_i), M = Σ_i ReLU(−x_i),
// from the exact moments of the data at finite d: d−1 pure-noise coordinates
// and one carrying λy. As d → ∞ it tends to d²σ²/(4π), the paper's 2/η*.
func sparseS0(d int, lam, noise float64) float64 {
	phi0 := 1 / math.Sqrt(2*math.Pi)
	mu := lam / noise
	tau := func(m float64) float64 { // E ReLU(m+z)², z ~ N(0,1)
		cdf, pdf, _ := gaussPhi(m)
		return (m*m+1)*cdf + m*pdf
	}
	s1 := (meanSigma(mu) + meanSigma(-mu)) / 2 // E ReLU(x) on the signal coordinate
	s2 := (tau(mu) + tau(-mu)) / 2
	k := float64(d - 1)
	mean := k*phi0 + s1
	varP := k*(0.5-phi0*phi0) + s2 - s1*s1
	covPM := -k*phi0*phi0 - s1*s1 // ReLU(x)·ReLU(−x) = 0
	return noise * noise * (2*mean*mean + varP + covPM) / 4
}

// TestSparseInitialSharpness: with a small initialisation (zero output) S₀
// matches its finite-d prediction within sampling error (n = 300: about 0.6%).
// That prediction sits 3% above the paper's d²/(4π) at d = 200, λ = 3 (the
// signal coordinate and the variance of P; 6% at d = 100), so 2/S₀ is about
// 3% below 8π/d²: we hold it to 8π/d² within 4.5% at d = 200.
// At the paper's initialisation, a± ~ N(0, 1/(2d)), the output at θ₀ is O(5),
// ℓ″ there is well below 1/4 and 2/S₀ scatters above 8π/d² (over
// seeds 0–2 at d = 200: 2.0× to 23×): the theory line is the sharpness once GD has killed
// the mean output, not at θ₀.
func TestSparseInitialSharpness(t *testing.T) {
	t.Parallel()
	for _, d := range []float64{100, 200} {
		for _, seed := range []float64{0, 1, 2} {
			p := map[string]float64{"eta": 1e-4, "steps": 1, "width": d, "seed": seed, "init_scale": 1e-3}
			cfg := mustResolve(t, ModelSparse, p)
			r := runT(t, ModelSparse, p)
			pred := sparseS0(int(d), cfg.Lam, cfg.Noise)
			if q := r.InitialSharpness / pred; math.Abs(q-1) > 0.02 {
				t.Errorf("d=%g seed %g: S₀ = %.5g, finite-d prediction %.5g (ratio %.4f)", d, seed, r.InitialSharpness, pred, q)
			}
			theory, _ := cfg.Theory()
			if q := 2 / r.InitialSharpness / theory; d == 200 && math.Abs(q-1) > 0.045 {
				t.Errorf("d=%g seed %g: 2/S₀ = %.4g, 8π/d² = %.4g (ratio %.4f)", d, seed, 2/r.InitialSharpness, theory, q)
			}
		}
	}
}
