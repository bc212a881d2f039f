package boundary

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// The MLE is a stationary point of the log-likelihood (checked by central
// finite differences, independently of the fitting code), and the profile
// deviance at each end of the CI, maximised over β by a brute-force scan,
// is the χ²₁ 95% quantile 3.841.
func TestLogisticMLEStationaryAndProfileEdges(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	x, y := logisticOutcomes(rng, logGrid(0.5, 2, 9), 8, 1.0, 6)
	f := fitLogistic(x, y)
	if f.kind != FitMLE {
		t.Fatalf("kind = %s, want %s", f.kind, FitMLE)
	}
	mu, beta := math.Log(f.etaStar), f.slope
	const h = 1e-5
	dmu := (logLik(x, y, mu+h, beta) - logLik(x, y, mu-h, beta)) / (2 * h)
	dbeta := (logLik(x, y, mu, beta+h) - logLik(x, y, mu, beta-h)) / (2 * h)
	if math.Abs(dmu) > 1e-4 || math.Abs(dbeta) > 1e-4 {
		t.Errorf("gradient at the MLE = (%g, %g), want ≈ 0", dmu, dbeta)
	}
	llHat := logLik(x, y, mu, beta)
	for _, edge := range []float64{f.ci.Low, f.ci.High} {
		best := math.Inf(-1)
		for b := 0.0; b < 4*beta; b += beta / 4000 {
			best = math.Max(best, logLik(x, y, math.Log(edge), b))
		}
		if dev := 2 * (llHat - best); math.Abs(dev-3.8415) > 0.02 {
			t.Errorf("profile deviance at CI edge %g = %.4f, want 3.8415", edge, dev)
		}
	}
	if !(f.ci.Low < f.etaStar && f.etaStar < f.ci.High) {
		t.Errorf("η* %g outside its CI %v", f.etaStar, f.ci)
	}
}

// Coverage-ish: over many synthetic sweeps with a known boundary, the 95% CI
// holds the true η* most of the time, and it shrinks as seeds are added.
func TestLogisticCoverageAndShrink(t *testing.T) {
	t.Parallel()
	const etaStar, slope, reps = 0.8, 5.0, 200
	grid := logGrid(0.4, 1.6, 9)
	meanWidth := func(seeds int) (width, coverage float64) {
		rng := rand.New(rand.NewPCG(uint64(seeds), 7))
		var n int
		for range reps {
			x, y := logisticOutcomes(rng, grid, seeds, etaStar, slope)
			f := fitLogistic(x, y)
			if f.kind == FitNone {
				t.Fatalf("%d seeds: no fit", seeds)
			}
			width += math.Log(f.ci.High / f.ci.Low)
			if f.ci.Low <= etaStar && etaStar <= f.ci.High {
				n++
			}
		}
		return width / reps, float64(n) / reps
	}
	w4, c4 := meanWidth(4)
	w40, c40 := meanWidth(40)
	t.Logf("mean log-width of the CI: %.3f with 4 seeds (coverage %.2f), %.3f with 40 seeds (coverage %.2f)", w4, c4, w40, c40)
	if c4 < 0.88 || c40 < 0.88 {
		t.Errorf("coverage %.2f (4 seeds), %.2f (40 seeds), want ≥ 0.88 for a 95%% CI", c4, c40)
	}
	if w40 > 0.5*w4 { // ∝ 1/√n: expect ≈ 0.32
		t.Errorf("CI width %.3f with 40 seeds is not well below %.3f with 4", w40, w4)
	}
}

func TestLogisticSeparationAndDegenerate(t *testing.T) {
	t.Parallel()
	lg := math.Log
	cases := []struct {
		name    string
		x       []float64
		y       []bool
		kind    string
		etaStar float64
		ci      Interval
	}{
		{"complete", []float64{lg(1), lg(2), lg(4), lg(8)}, []bool{false, false, true, true},
			FitSeparated, math.Sqrt(8), Interval{2, 4}},
		{"quasi-complete", []float64{lg(1), lg(2), lg(2), lg(4)}, []bool{false, false, true, true},
			FitSeparated, 2, Interval{1, 4}},
		{"reversed", []float64{lg(1), lg(2), lg(4)}, []bool{true, false, false},
			FitSeparated, math.Sqrt(2), Interval{1, 2}},
		{"all learned", []float64{lg(1), lg(2)}, []bool{true, true}, FitNone, 0, Interval{}},
		{"empty", nil, nil, FitNone, 0, Interval{}},
	}
	for _, c := range cases {
		f := fitLogistic(c.x, c.y)
		if f.kind != c.kind || !close(f.etaStar, c.etaStar, 1e-12) ||
			!close(f.ci.Low, c.ci.Low, 1e-12) || !close(f.ci.High, c.ci.High, 1e-12) {
			t.Errorf("%s: got %s η*=%g ci=%v, want %s η*=%g ci=%v", c.name, f.kind, f.etaStar, f.ci, c.kind, c.etaStar, c.ci)
		}
	}
}

// A boundary below the data is not extrapolated: the learned fraction is
// already above ½ at the smallest η, so η* and its interval are clipped to the
// observed range.
func TestLogisticClippedToData(t *testing.T) {
	t.Parallel()
	var x []float64
	var y []bool
	for i, learned := range []int{3, 3, 4} { // of 5 seeds at log η = 0, 1, 2
		for s := range 5 {
			x = append(x, float64(i))
			y = append(y, s < learned)
		}
	}
	f := fitLogistic(x, y)
	if f.kind != FitMLE {
		t.Fatalf("kind = %s, want %s", f.kind, FitMLE)
	}
	if f.etaStar != 1 || f.ci.Low != 1 || f.ci.High > math.Exp(2) {
		t.Errorf("η* %g ci %v, want η* = 1 (the grid's low end) and a CI inside [1, e²]", f.etaStar, f.ci)
	}
}

func close(a, b, rel float64) bool {
	return math.Abs(a-b) <= rel*math.Max(math.Abs(a), math.Abs(b)) || a == b
}

// The analytic gradient and Hessian of the binomial negative log-likelihood
// match central finite differences.
func TestBinomialDerivatives(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(9, 10))
	x, y := logisticOutcomes(rng, logGrid(0.5, 2, 7), 5, 1, 4)
	d := binomials(x, y, 0.1, 0.5)
	nll := func(p []float64) float64 { return -d.logLik(p[0], p[1], 0) }
	p := []float64{0.3, 1.7}
	g := make([]float64, 2)
	d.nllGrad(g, p)
	h := mat.NewSymDense(2, nil)
	d.nllHess(h, p)
	const e = 1e-5
	for i := range 2 {
		pp, pm := append([]float64{}, p...), append([]float64{}, p...)
		pp[i] += e
		pm[i] -= e
		if fd := (nll(pp) - nll(pm)) / (2 * e); math.Abs(fd-g[i]) > 1e-6*math.Max(1, math.Abs(fd)) {
			t.Errorf("gradient[%d] = %g, finite difference %g", i, g[i], fd)
		}
		gp, gm := make([]float64, 2), make([]float64, 2)
		d.nllGrad(gp, pp)
		d.nllGrad(gm, pm)
		for j := range 2 {
			if fd := (gp[j] - gm[j]) / (2 * e); math.Abs(fd-h.At(i, j)) > 1e-6*math.Max(1, math.Abs(fd)) {
				t.Errorf("Hessian[%d][%d] = %g, finite difference %g", i, j, h.At(i, j), fd)
			}
		}
	}
}
