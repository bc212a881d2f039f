package engine

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestLossValuesAndDerivatives(t *testing.T) {
	t.Parallel()
	for _, s := range []float64{-30, -7.5, -1, -1e-3, 0, 1e-3, 0.5, 2, 12, 30} {
		naive := math.Log(1 + math.Exp(-s))
		l, d1, d2 := logistic(s)
		if math.Abs(l-naive) > 1e-14*math.Max(1, naive) {
			t.Errorf("logistic(%g) = %.17g, want log(1+e^-s) = %.17g", s, l, naive)
		}
		f := func(x float64) float64 { v, _, _ := logistic(x); return v }
		fd := func(x float64) float64 { _, v, _ := logistic(x); return v }
		checkDeriv(t, "logistic'", s, d1, f)
		checkDeriv(t, "logistic''", s, d2, fd)
		if e1, e2 := logisticD(s); e1 != d1 || e2 != d2 {
			t.Errorf("logisticD(%g) = %g, %g; logistic gives %g, %g", s, e1, e2, d1, d2)
		}

		ls, s1, s2 := symLogistic(s)
		lm, _, _ := logistic(-s)
		if want := (l + lm) / 2; math.Abs(ls-want) > 1e-14*math.Max(1, want) {
			t.Errorf("symLogistic(%g) = %.17g, want (ℓ(s)+ℓ(−s))/2 = %.17g", s, ls, want)
		}
		g := func(x float64) float64 { v, _, _ := symLogistic(x); return v }
		gd := func(x float64) float64 { _, v, _ := symLogistic(x); return v }
		checkDeriv(t, "symLogistic'", s, s1, g)
		checkDeriv(t, "symLogistic''", s, s2, gd)
	}
}

// checkDeriv compares got with the central difference of f at s.
func checkDeriv(t *testing.T, name string, s, got float64, f func(float64) float64) {
	t.Helper()
	h := 1e-5 * math.Max(1, math.Abs(s))
	want := (f(s+h) - f(s-h)) / (2 * h)
	if math.Abs(got-want) > 1e-7*math.Max(1e-3, math.Abs(want)) {
		t.Errorf("%s(%g) = %.12g, finite difference %.12g", name, s, got, want)
	}
}

func TestLossAtZeroAndExtremes(t *testing.T) {
	t.Parallel()
	l, d1, d2 := logistic(0)
	if l != math.Ln2 || d1 != -0.5 || d2 != 0.25 {
		t.Errorf("logistic(0) = %g, %g, %g; want ln 2, −1/2, 1/4", l, d1, d2)
	}
	l, d1, d2 = symLogistic(0)
	if l != math.Ln2 || d1 != 0 || d2 != 0.25 {
		t.Errorf("symLogistic(0) = %g, %g, %g; want ln 2, 0, 1/4", l, d1, d2)
	}
	for _, s := range []float64{-1e300, -1000, 1000, 1e300} {
		for name, fn := range map[string]func(float64) (float64, float64, float64){"logistic": logistic, "symLogistic": symLogistic} {
			l, d1, d2 := fn(s)
			if !finite(l) || !finite(d1) || !finite(d2) || d2 < 0 {
				t.Errorf("%s(%g) = %g, %g, %g: want finite, ℓ″ ≥ 0", name, s, l, d1, d2)
			}
		}
	}
	if l, _, _ := logistic(-1000); l != 1000 {
		t.Errorf("logistic(−1000) = %g, want 1000", l)
	}
	if l, _, _ := logistic(800); l != 0 && l > 1e-300 {
		t.Errorf("logistic(800) = %g, want ≈ 0", l)
	}
	if _, d1, _ := symLogistic(-1000); d1 != -0.5 {
		t.Errorf("symLogistic'(−1000) = %g, want −1/2", d1)
	}
}

func TestLogisticSumMatchesTermByTerm(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 7, logisticChunk, 3*logisticChunk + 5} {
		acc := newLogisticSum()
		want := 0.0
		for k := range n {
			s := 8 * r.NormFloat64()
			if k%97 == 0 {
				s = 700 * (2*r.Float64() - 1) // a few huge margins of either sign
			}
			d1, d2 := acc.add(s)
			l, w1, w2 := logistic(s)
			want += l
			if d1 != w1 || d2 != w2 {
				t.Fatalf("n=%d term %d: derivatives %g, %g; logistic gives %g, %g", n, k, d1, d2, w1, w2)
			}
		}
		if got := acc.sum(); math.Abs(got-want) > 1e-14*float64(n)*math.Max(1, want/float64(n)) {
			t.Errorf("n=%d: sum %.17g, term by term %.17g", n, got, want)
		}
	}
}

func TestExpNegAgainstMathExp(t *testing.T) {
	t.Parallel()
	worst := 0.0
	for i := range 200001 {
		for _, x := range []float64{-708 * float64(i) / 200000, -40 * float64(i) / 200000, -1e-3 * float64(i) / 200000} {
			got, want := expNeg(x), math.Exp(x)
			worst = max(worst, math.Abs(got-want)/want)
		}
	}
	if worst > 1e-15 {
		t.Errorf("expNeg: worst relative error %.3g against math.Exp on [−708, 0]", worst)
	}
	for _, tc := range []struct{ x, want float64 }{
		{0, 1}, {math.Copysign(0, -1), 1}, {-math.Ln2, 0.5}, {-709, 0}, {-1e300, 0}, {math.Inf(-1), 0},
	} {
		if got := expNeg(tc.x); got != tc.want {
			t.Errorf("expNeg(%g) = %.17g, want %g", tc.x, got, tc.want)
		}
	}
}
