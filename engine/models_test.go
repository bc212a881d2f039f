package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// denseModel is a model with an exact dense Hessian (single, mean, sparse).
type denseModel interface {
	model
	hessian(dst, theta []float64)
}

func mustResolve(t testing.TB, model string, p map[string]float64) Config {
	t.Helper()
	c, err := Resolve(model, p)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// derivativeCases returns small instances of each dense model and random
// points at which to check them, with the bias negative and positive.
func derivativeCases(t *testing.T) []struct {
	name   string
	m      denseModel
	points [][]float64
} {
	r := rand.New(rand.NewPCG(5, 6))
	type tc = struct {
		name   string
		m      denseModel
		points [][]float64
	}
	var cases []tc
	single := newSingle(mustResolve(t, ModelSingle, map[string]float64{"eta": 1}))
	cases = append(cases, tc{"single", single, [][]float64{{2, 0.3}, {-1.5, 0.7}, {0.5, -3}, {-0.2, -0.1}, {9, 2}}})
	for _, m := range []int{1, 3, 7} {
		mm := newMean(mustResolve(t, ModelMean, map[string]float64{"eta": 1, "width": float64(m)}))
		var pts [][]float64
		for _, b := range []float64{-1.3, -0.2, 0.4, 2} {
			p := make([]float64, m+1)
			normals(r, p[:m], 0.8)
			p[m] = b
			pts = append(pts, p)
		}
		cases = append(cases, tc{fmt.Sprintf("mean m=%d", m), mm, pts})
	}
	for _, d := range []int{5, 12} {
		sp := newSparse(mustResolve(t, ModelSparse, map[string]float64{"eta": 1, "width": float64(d), "n": 7, "n_test": 3}))
		var pts [][]float64
		for _, b := range []float64{-1.1, -0.3, 0.25, 0.9} {
			pts = append(pts, []float64{0.3 * r.NormFloat64(), 0.3 * r.NormFloat64(), b})
		}
		cases = append(cases, tc{fmt.Sprintf("sparse d=%d", d), sp, pts})
	}
	return cases
}

func TestGradientAndHessianMatchFiniteDifferences(t *testing.T) {
	t.Parallel()
	for _, tc := range derivativeCases(t) {
		n := tc.m.dim()
		g := make([]float64, n)
		H := make([]float64, n*n)
		for _, p := range tc.points {
			l := tc.m.grad(g, p)
			if want := tc.m.loss(p); math.Abs(l-want) > 1e-15*math.Abs(want) {
				t.Errorf("%s at %v: grad returns loss %.17g, loss gives %.17g", tc.name, p, l, want)
			}
			fg := fdGrad(tc.m.loss, p, 1e-5)
			if e := relErr(g, fg); e > 1e-6 {
				t.Errorf("%s at %v: gradient %v, finite differences %v (rel err %.2g)", tc.name, p, g, fg, e)
			}
			tc.m.hessian(H, p)
			fH := fdHessian(tc.m.grad, p, 1e-5)
			if e := relErr(H, fH); e > 1e-6 {
				t.Errorf("%s at %v: Hessian %v, finite differences %v (rel err %.2g)", tc.name, p, H, fH, e)
			}
			want := gonumEigMax(t, fH, n)
			if got := tc.m.sharpness(p); math.Abs(got-want) > 1e-6*math.Max(math.Abs(want), 1e-3) {
				t.Errorf("%s at %v: sharpness %.12g, top eigenvalue of the FD Hessian %.12g", tc.name, p, got, want)
			}
		}
	}
}

// TestMeanSharpnessLargeWidth checks the 2×2 reduction of the mean model's
// sharpness against the dense (m+1)×(m+1) eigenproblem at a larger width.
func TestMeanSharpnessLargeWidth(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(7, 8))
	m := newMean(mustResolve(t, ModelMean, map[string]float64{"eta": 1, "width": 40}))
	H := make([]float64, 41*41)
	for _, b := range []float64{-3, -0.5, 0, 1.5} {
		p := make([]float64, 41)
		normals(r, p[:40], 0.3)
		p[40] = b
		m.hessian(H, p)
		want := gonumEigMax(t, H, 41)
		if got := m.sharpness(p); math.Abs(got-want) > 1e-10*math.Max(math.Abs(want), 1e-6) {
			t.Errorf("b=%g: sharpness %.15g, dense eigenvalue %.15g", b, got, want)
		}
	}
}
