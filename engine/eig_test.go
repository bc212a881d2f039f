package engine

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestSymEigMaxAgainstGonum(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	work := make([]float64, 16*16)
	for n := 1; n <= 16; n++ {
		for trial := range 5 {
			a := make([]float64, n*n)
			for i := range n {
				for j := i; j < n; j++ {
					v := r.NormFloat64() * math.Pow(10, float64(trial-2))
					a[i*n+j], a[j*n+i] = v, v
				}
			}
			got := symEigMax(a, n, work)
			want := gonumEigMax(t, a, n)
			if math.Abs(got-want) > 1e-12*maxAbs(a) {
				t.Errorf("n=%d trial %d: symEigMax %.17g, gonum %.17g", n, trial, got, want)
			}
		}
	}
}

func TestSymEigMaxStructured(t *testing.T) {
	t.Parallel()
	work := make([]float64, 9)
	tests := []struct {
		name string
		a    []float64
		want float64
	}{
		{"rank one ones", []float64{1, 1, 1, 1, 1, 1, 1, 1, 1}, 3},
		{"diagonal", []float64{-2, 0, 0, 0, 5, 0, 0, 0, 1}, 5},
		{"negative definite", []float64{-1, 0, 0, 0, -2, 0, 0, 0, -3}, -1},
		{"2×2 [[2,1],[1,2]]", []float64{2, 1, 1, 2}, 3},
		{"zero", make([]float64, 9), 0},
	}
	for _, tc := range tests {
		n := int(math.Sqrt(float64(len(tc.a))))
		if got := symEigMax(tc.a, n, work); math.Abs(got-tc.want) > 1e-14 {
			t.Errorf("%s: %.17g, want %g", tc.name, got, tc.want)
		}
	}
}

func maxAbs(a []float64) float64 {
	m := 0.0
	for _, v := range a {
		m = max(m, math.Abs(v))
	}
	return m
}
