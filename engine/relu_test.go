package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// smallReLU builds a relu model on n samples of dimension d (the shared data
// generator, λ = 2) with m neurons, and a random point θ with bias b.
func smallReLU(t testing.TB, d, m, n int, b float64, seed uint64) (*relu, []float64) {
	t.Helper()
	x, y := sparseSample("test/relu", seed, d, n, 2, 1)
	xt, yt := sparseSample("test/relu-test", seed, d, n+3, 2, 1)
	r := rand.New(rand.NewPCG(seed, 99))
	theta := make([]float64, m*d+m+1)
	for i := range theta {
		theta[i] = r.NormFloat64() / math.Sqrt(float64(d))
	}
	for i := m * d; i < m*d+m; i++ {
		theta[i] = r.NormFloat64()
	}
	theta[m*d+m] = b
	return newReLUFromData(x, y, xt, yt, append([]float64(nil), theta...), m, m*d+m+1, seed), theta
}

func reluRandVec(seed uint64, n int) []float64 {
	r := rand.New(rand.NewPCG(seed, 7))
	v := make([]float64, n)
	for i := range v {
		v[i] = r.NormFloat64()
	}
	return v
}

func reluRelErr(got, want []float64) float64 {
	var num, den float64
	for i := range got {
		num += (got[i] - want[i]) * (got[i] - want[i])
		den += want[i] * want[i]
	}
	return math.Sqrt(num / den)
}

var reluPoints = []struct {
	name string
	b    float64
	seed uint64
}{
	{"b<0", -0.3, 1}, {"b>0", 0.4, 2}, {"b<0/seed3", -0.05, 3}, {"b>0/seed4", 1.2, 4},
}

// TestReLUGradFD holds the backprop gradient against central differences of
// the loss, at points with b < 0 (soft thresholding) and b > 0.
func TestReLUGradFD(t *testing.T) {
	t.Parallel()
	for _, p := range reluPoints {
		t.Run(p.name, func(t *testing.T) {
			md, theta := smallReLU(t, 5, 3, 7, p.b, p.seed)
			g := make([]float64, md.dim())
			loss := md.grad(g, theta)
			if l := md.loss(theta); l != loss {
				t.Fatalf("grad returned loss %v, loss() gives %v", loss, l)
			}
			fd := make([]float64, md.dim())
			const h = 1e-5
			for i := range theta {
				tp := append([]float64(nil), theta...)
				tp[i] += h
				lp := md.loss(tp)
				tp[i] -= 2 * h
				fd[i] = (lp - md.loss(tp)) / (2 * h)
			}
			if e := reluRelErr(g, fd); e > 1e-6 {
				t.Errorf("relative error %.3g > 1e-6\ngrad %v\nfd   %v", e, g, fd)
			}
		})
	}
}

// TestReLUHVPFD holds the exact Hessian-vector product against central
// differences of the gradient along random directions.
func TestReLUHVPFD(t *testing.T) {
	t.Parallel()
	for _, p := range reluPoints {
		t.Run(p.name, func(t *testing.T) {
			md, theta := smallReLU(t, 5, 3, 7, p.b, p.seed)
			n := md.dim()
			for trial := range 3 {
				v := reluRandVec(p.seed*10+uint64(trial), n)
				md.forward(theta, true)
				hv := make([]float64, n)
				md.hvp(hv, theta, v)
				const h = 1e-5
				gp, gm := make([]float64, n), make([]float64, n)
				tp := append([]float64(nil), theta...)
				axpyVec(h, v, tp)
				md.grad(gp, tp)
				tm := append([]float64(nil), theta...)
				axpyVec(-h, v, tm)
				md.grad(gm, tm)
				fd := make([]float64, n)
				for i := range fd {
					fd[i] = (gp[i] - gm[i]) / (2 * h)
				}
				if e := reluRelErr(hv, fd); e > 1e-6 {
					t.Errorf("direction %d: relative error %.3g > 1e-6", trial, e)
				}
			}
		})
	}
}

// denseHessian assembles ∇²L(θ) column by column, from HVPs (fd = false) or
// from central differences of the gradient (fd = true).
func denseHessian(md *relu, theta []float64, fd bool) *mat.SymDense {
	n := md.dim()
	h := mat.NewDense(n, n, nil)
	col, e := make([]float64, n), make([]float64, n)
	gp, gm := make([]float64, n), make([]float64, n)
	for j := range n {
		if fd {
			const step = 1e-5
			tp := append([]float64(nil), theta...)
			tp[j] += step
			md.grad(gp, tp)
			tp[j] -= 2 * step
			md.grad(gm, tp)
			for i := range col {
				col[i] = (gp[i] - gm[i]) / (2 * step)
			}
		} else {
			clear(e)
			e[j] = 1
			md.forward(theta, true)
			md.hvp(col, theta, e)
		}
		h.SetCol(j, col)
	}
	s := mat.NewSymDense(n, nil)
	for i := range n {
		for j := i; j < n; j++ {
			s.SetSym(i, j, (h.At(i, j)+h.At(j, i))/2)
		}
	}
	return s
}

func topEigen(t *testing.T, s *mat.SymDense) float64 {
	t.Helper()
	var es mat.EigenSym
	if !es.Factorize(s, false) {
		t.Fatal("EigenSym failed")
	}
	v := es.Values(nil)
	return v[len(v)-1]
}

// TestReLUHessianSymmetric checks that the HVP is the product with a symmetric
// matrix (‖H − Hᵀ‖ at rounding level), which a wrong cross term would break.
func TestReLUHessianSymmetric(t *testing.T) {
	t.Parallel()
	for _, p := range reluPoints {
		md, theta := smallReLU(t, 5, 3, 7, p.b, p.seed)
		n := md.dim()
		cols := make([][]float64, n)
		for j := range n {
			e := make([]float64, n)
			e[j] = 1
			cols[j] = make([]float64, n)
			md.forward(theta, true)
			md.hvp(cols[j], theta, e)
		}
		var asym, norm float64
		for i := range n {
			for j := range n {
				asym = max(asym, math.Abs(cols[j][i]-cols[i][j]))
				norm = max(norm, math.Abs(cols[j][i]))
			}
		}
		if asym > 1e-13*norm {
			t.Errorf("%s: max |H_ij − H_ji| = %.3g (max |H_ij| = %.3g)", p.name, asym, norm)
		}
	}
}

// TestReLULanczosDense compares the model's sharpness (Lanczos on HVPs) with
// the top eigenvalue of the dense Hessian, assembled from HVPs and from finite
// differences of the gradient.
func TestReLULanczosDense(t *testing.T) {
	t.Parallel()
	for _, p := range reluPoints {
		for _, sz := range []struct{ d, m, n int }{{5, 3, 7}, {8, 4, 30}} {
			t.Run(fmt.Sprintf("%s/d=%d,m=%d,n=%d", p.name, sz.d, sz.m, sz.n), func(t *testing.T) {
				md, theta := smallReLU(t, sz.d, sz.m, sz.n, p.b, p.seed)
				got := md.sharpness(theta)
				exact := topEigen(t, denseHessian(md, theta, false))
				if e := math.Abs(got-exact) / math.Abs(exact); e > 1e-8 {
					t.Errorf("Lanczos %.15g vs dense (HVP) %.15g: relative error %.3g > 1e-8", got, exact, e)
				}
				fd := topEigen(t, denseHessian(md, theta, true))
				if e := math.Abs(got-fd) / math.Abs(fd); e > 1e-8 {
					t.Errorf("Lanczos %.15g vs dense (FD) %.15g: relative error %.3g > 1e-8", got, fd, e)
				}
			})
		}
	}
}
