package engine

import (
	"math"
	"math/rand/v2"
	"testing"
)

// refSparse evaluates the sparse model straight from its definition, in O(nd):
// loss, gradient and Hessian, for comparison with the sorted fast path.
func refSparse(X, y []float64, d int, theta []float64) (l float64, g, H []float64) {
	ap, am, b := theta[0], theta[1], theta[2]
	n := len(y)
	g, H = make([]float64, 3), make([]float64, 9)
	for k := range n {
		var p, mm, cp, cm float64
		for _, x := range X[k*d : (k+1)*d] {
			if x+b > 0 {
				p += x + b
				cp++
			}
			if -x+b > 0 {
				mm += -x + b
				cm++
			}
		}
		s := y[k] * (ap*p + am*mm)
		lk := math.Log1p(math.Exp(-math.Abs(s))) + math.Max(-s, 0)
		sig := 1 / (1 + math.Exp(s)) // −ℓ'(s)
		d1, d2 := -sig, sig*(1-sig)
		l += lk
		v := []float64{p, mm, ap*cp + am*cm}
		for i := range 3 {
			g[i] += d1 * y[k] * v[i]
			for j := range 3 {
				H[i*3+j] += d2 * v[i] * v[j]
			}
		}
		H[2] += d1 * y[k] * cp
		H[6] += d1 * y[k] * cp
		H[5] += d1 * y[k] * cm
		H[7] += d1 * y[k] * cm
	}
	for i := range g {
		g[i] /= float64(n)
	}
	for i := range H {
		H[i] /= float64(n)
	}
	return l / float64(n), g, H
}

// TestSparseFastPathMatchesReference walks b far and near, up and down, so the
// remembered row positions move in both directions and across whole rows.
func TestSparseFastPathMatchesReference(t *testing.T) {
	t.Parallel()
	c := mustResolve(t, ModelSparse, map[string]float64{"eta": 1, "width": 50, "n": 40, "n_test": 10})
	m := newSparse(c)
	r := rand.New(rand.NewPCG(9, 10))
	g := make([]float64, 3)
	H := make([]float64, 9)
	for _, b := range []float64{0, -0.3, 2.5, -4, 0.01, -0.01, -0.0101, 50, -50, 0.7, 0.6999, -1.2} {
		theta := []float64{r.NormFloat64(), r.NormFloat64(), b}
		wl, wg, wH := refSparse(m.X, m.y, m.d, theta)
		l := m.grad(g, theta)
		m.hessian(H, theta)
		if math.Abs(l-wl) > 1e-13*math.Max(1, wl) {
			t.Errorf("b=%g: loss %.17g, reference %.17g", b, l, wl)
		}
		if e := relErr(g, wg); e > 1e-12 {
			t.Errorf("b=%g: gradient %v, reference %v (rel err %.2g)", b, g, wg, e)
		}
		if e := relErr(H, wH); e > 1e-12 {
			t.Errorf("b=%g: Hessian %v, reference %v (rel err %.2g)", b, H, wH, e)
		}
		dead := m.dead(theta)
		if want := b <= -maxAbs(m.X); dead != want {
			t.Errorf("b=%g: dead = %v, want %v (max |x| = %g)", b, dead, want, maxAbs(m.X))
		}
	}
}

func TestSparseAccuracy(t *testing.T) {
	t.Parallel()
	c := mustResolve(t, ModelSparse, map[string]float64{"eta": 1, "width": 30, "n": 50, "n_test": 40})
	m := newSparse(c)
	theta := []float64{0.8, -0.5, -0.4}
	count := func(X, y []float64) float64 {
		right := 0
		for k := range y {
			f := 0.0
			for _, x := range X[k*m.d : (k+1)*m.d] {
				f += theta[0]*math.Max(x+theta[2], 0) + theta[1]*math.Max(-x+theta[2], 0)
			}
			if y[k]*f > 0 {
				right++
			}
		}
		return float64(right) / float64(len(y))
	}
	train, test := m.accuracy(theta)
	if want := count(m.X, m.y); train != want {
		t.Errorf("train accuracy %g, direct count %g", train, want)
	}
	if want := count(m.Xtest, m.ytest); test != want {
		t.Errorf("test accuracy %g, direct count %g", test, want)
	}
}
