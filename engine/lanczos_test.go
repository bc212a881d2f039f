package engine

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// symOperator is dst = A·v for a dense symmetric A with a chosen spectrum:
// A = Q·diag(eig)·Qᵀ, Q a random orthogonal matrix.
func symOperator(t *testing.T, eig []float64, seed uint64) func(dst, v []float64) {
	t.Helper()
	n := len(eig)
	r := rand.New(rand.NewPCG(seed, 3))
	g := mat.NewDense(n, n, nil)
	for i := range n {
		for j := range n {
			g.Set(i, j, r.NormFloat64())
		}
	}
	var qr mat.QR
	qr.Factorize(g)
	var q mat.Dense
	qr.QTo(&q)
	var a mat.Dense
	a.Mul(&q, mat.NewDiagDense(n, eig))
	a.Mul(&a, q.T())
	return func(dst, v []float64) {
		mat.NewVecDense(n, dst).MulVec(&a, mat.NewVecDense(n, v))
	}
}

func TestLanczosTop(t *testing.T) {
	t.Parallel()
	spread := make([]float64, 200) // λ_max = 10 well separated from [−1, 1]
	for i := range spread {
		spread[i] = -1 + 2*float64(i)/float64(len(spread)-1)
	}
	spread[len(spread)-1] = 10
	negative := []float64{-50, -3, -1, 0.5, 2} // λ_max is not the largest in magnitude
	lowRank := make([]float64, 40)             // rank 2: Lanczos meets an invariant subspace
	lowRank[0], lowRank[1] = 4, -2
	cases := []struct {
		name string
		eig  []float64
		k    int
		tol  float64
	}{
		{"separated top, k=20 of 200", spread, 20, 1e-10},
		{"negative eigenvalues, k = dim", negative, 5, 1e-12},
		{"negative eigenvalues, k > dim", negative, 50, 1e-12},
		{"rank 2, early stop", lowRank, 20, 1e-12},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := c.eig[0]
			for _, e := range c.eig {
				want = max(want, e)
			}
			l := newLanczos(len(c.eig), c.k, 1)
			got := l.top(symOperator(t, c.eig, 5))
			if math.Abs(got-want) > c.tol*math.Abs(want) {
				t.Errorf("top = %.15g, want %.15g", got, want)
			}
		})
	}
}

// TestLanczosBelowTop checks the Ritz value approaches λ_max from below as k
// grows, for a spectrum with no gap (slow convergence), as theory says.
func TestLanczosBelowTop(t *testing.T) {
	t.Parallel()
	eig := make([]float64, 300)
	for i := range eig {
		eig[i] = float64(i) / 299
	}
	op := symOperator(t, eig, 9)
	prev := math.Inf(-1)
	for _, k := range []int{2, 5, 10, 20, 40} {
		got := newLanczos(len(eig), k, 2).top(op)
		if got > 1+1e-12 || got < prev-1e-12 {
			t.Errorf("k=%d: top %v, want nondecreasing in k and ≤ 1 (previous %v)", k, got, prev)
		}
		prev = got
	}
	if prev < 0.99 {
		t.Errorf("k=40: top %v, want within 1%% of 1", prev)
	}
}

func TestLanczosNonFinite(t *testing.T) {
	t.Parallel()
	l := newLanczos(4, 4, 1)
	got := l.top(func(dst, v []float64) {
		copy(dst, v)
		dst[2] = math.Inf(1)
	})
	if !math.IsNaN(got) {
		t.Errorf("top with an infinite product = %v, want NaN", got)
	}
}

func TestLanczosAllocatesNothing(t *testing.T) {
	l := newLanczos(50, 20, 1)
	op := func(dst, v []float64) {
		for i := range v {
			dst[i] = float64(i) * v[i]
		}
	}
	if n := testing.AllocsPerRun(10, func() { l.top(op) }); n != 0 {
		t.Errorf("top allocates %v times per call", n)
	}
}
