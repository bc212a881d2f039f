package engine

import (
	"math"
	"slices"
	"testing"
)

func TestSparseDataNoiseless(t *testing.T) {
	t.Parallel()
	c := mustResolve(t, ModelSparse, map[string]float64{"eta": 1, "width": 7, "n": 400, "n_test": 5, "lam": 2.5, "noise": 0})
	X, y, _, _ := sparseData(c)
	plus, hits := 0, make([]int, 7)
	for k, yk := range y {
		nonzero := 0
		for j, x := range X[k*7 : (k+1)*7] {
			if x != 0 {
				nonzero++
				hits[j]++
				if x != 2.5*yk {
					t.Fatalf("row %d: x_%d = %g, want λ·y = %g", k, j, x, 2.5*yk)
				}
			}
		}
		if nonzero != 1 {
			t.Fatalf("row %d has %d nonzero entries, want 1", k, nonzero)
		}
		if yk == 1 {
			plus++
		}
	}
	// 400 fair coin flips: 200 ± 10 (1σ); j uniform over 7: 57 ± 7 each.
	if plus < 160 || plus > 240 {
		t.Errorf("%d of 400 labels are +1: not uniform", plus)
	}
	for j, h := range hits {
		if h < 25 || h > 90 {
			t.Errorf("coordinate %d carries the signal %d times of 400: not uniform", j, h)
		}
	}
}

func TestSparseDataNoiseMoments(t *testing.T) {
	t.Parallel()
	c := mustResolve(t, ModelSparse, map[string]float64{"eta": 1, "width": 50, "n": 400, "n_test": 0, "lam": 0, "noise": 1.5})
	X, _, Xt, _ := sparseData(c)
	if len(Xt) != 0 {
		t.Fatalf("n_test = 0 gave %d test values", len(Xt))
	}
	var sum, sq float64
	for _, x := range X {
		sum += x
		sq += x * x
	}
	n := float64(len(X))
	mean, variance := sum/n, sq/n-(sum/n)*(sum/n)
	// 20000 draws of N(0, 2.25): the mean has sd 0.011, the variance sd 0.022.
	if math.Abs(mean) > 0.05 || math.Abs(variance-2.25) > 0.1 {
		t.Errorf("noise mean %g, variance %g; want 0, 2.25", mean, variance)
	}
}

// TestSparseDataDeterminism: data depends on the seed and the data parameters
// only, so every η, every relu width and every model of one seed share it.
func TestSparseDataDeterminism(t *testing.T) {
	t.Parallel()
	base := map[string]float64{"eta": 0.1, "d": 20, "n": 30, "n_test": 10, "width": 4, "lam": 3, "noise": 1}
	data := func(model string, change map[string]float64) [][]float64 {
		p := map[string]float64{}
		for k, v := range base {
			p[k] = v
		}
		if model == ModelSparse {
			p["width"] = p["d"]
			delete(p, "d")
		}
		for k, v := range change {
			p[k] = v
		}
		X, y, Xt, yt := sparseData(mustResolve(t, model, p))
		return [][]float64{X, y, Xt, yt}
	}
	same := func(a, b [][]float64) bool {
		for i := range a {
			if !slices.Equal(a[i], b[i]) {
				return false
			}
		}
		return true
	}
	ref := data(ModelReLU, nil)
	if !same(ref, data(ModelReLU, map[string]float64{"eta": 3, "width": 9})) {
		t.Error("relu data changed with η or the width")
	}
	if !same(ref, data(ModelSparse, map[string]float64{"eta": 3})) {
		t.Error("sparse and relu data differ for the same seed and data parameters")
	}
	if same(ref, data(ModelReLU, map[string]float64{"seed": 1})) {
		t.Error("relu data did not change with the seed")
	}
	other := data(ModelReLU, map[string]float64{"n_test": 11})
	if !slices.Equal(ref[0], other[0]) || slices.Equal(ref[2], other[2][:len(ref[2])]) {
		t.Error("n_test should change the test set only")
	}
}
