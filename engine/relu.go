package engine

import (
	"fmt"
	"math"

	"github.com/eosweep/eosweep/engine/internal/kernel"
)

// relu is the two-layer symmetric ReLU network:
// f(x) = Σ_{i<m} a_i·g_b(⟨w_i, x⟩), g_b(s) = ReLU(s+b) − ReLU(−s+b), one bias b
// shared by all neurons, trained θ = (W, a, b) laid out as W (m×d, row-major),
// then a (m), then b. Loss L = (1/n)·Σ_k ℓ(y_k·f(x_k)), ℓ logistic.
//
// Everything is batched over the samples as matrix products with the data
// kept twice, as X (n×d) and as Xᵀ (d×n), so that every product is
// kernel.GemmNT with a contiguous inner dimension: Zᵀ = W·Xᵀ (m×n, k = d) on the
// way in, ∇_W = Dᵀ·X (m×d, k = n) on the way back. The Hessian-vector product
// (relu_hvp.go) costs the same two products.
//
// Per neuron i and sample k, with z = ⟨w_i, x_k⟩, p = [z+b > 0], q = [b−z > 0]:
// g = ReLU(z+b) − ReLU(b−z), ∂g/∂z = p+q, ∂g/∂b = p−q, and every second
// derivative of g vanishes almost everywhere.
type relu struct {
	n, d, m, nTest int
	x, xt          []float64 // training inputs as X (n×d) and Xᵀ (d×n)
	y              []float64 // training labels ±1
	xTest, yTest   []float64 // test inputs (nTest×d) and labels
	theta0         []float64 // θ₀, drawn at construction

	// State of the last forward pass, at the θ it was given.
	z    []float64 // m×n: z[i·n+k] = ⟨w_i, x_k⟩
	f    []float64 // n network outputs
	r    []float64 // n: ∂L/∂f_k = y_k·ℓ'(y_k f_k)/n
	h    []float64 // n: ∂²L/∂f_k² = ℓ″(y_k f_k)/n
	back []float64 // m×n: the signal sent back to Zᵀ (∂L/∂Zᵀ, or its HVP analogue)

	zv    []float64 // m×n: V·Xᵀ for a direction V (HVP)
	jv    []float64 // n: the directional derivative of f (HVP)
	zTest []float64 // m×nTest: W·X_testᵀ (accuracy)

	lz    *lanczos
	hvpAt []float64 // the θ the Lanczos operator multiplies at
	apply func(dst, v []float64)
}

func init() {
	registerModel(ModelReLU, func(c Config) (model, error) { return newReLU(c) })
}

// newReLU draws the data (shared with sparse) and θ₀ of cfg:
// w_i ~ N(0, w_scale²·I_d/d), a_i ~ N(0, a_scale²/m), b = b0.
func newReLU(cfg Config) (*relu, error) {
	if cfg.D < 1 || cfg.Width < 1 || cfg.N < 1 {
		return nil, fmt.Errorf("relu: d = %d, width = %d, n = %d: %w: each must be ≥ 1", cfg.D, cfg.Width, cfg.N, ErrBadParam)
	}
	x, y, xTest, yTest := sparseData(cfg)
	m, d := cfg.Width, cfg.D
	theta0 := make([]float64, m*d+m+1)
	r := newRNG("relu/init", cfg.Seed, uint64(m), uint64(d))
	normals(r, theta0[:m*d], cfg.WScale/math.Sqrt(float64(d)))
	normals(r, theta0[m*d:m*d+m], cfg.AScale/math.Sqrt(float64(m)))
	theta0[m*d+m] = cfg.B0
	return newReLUFromData(x, y, xTest, yTest, theta0, m, cfg.LanczosIters, cfg.Seed), nil
}

// newReLUFromData builds the model on given data (X n×d, Xtest, labels ±1)
// and θ₀ (m neurons), with Lanczos of k iterations seeded by seed.
func newReLUFromData(x, y, xTest, yTest, theta0 []float64, m, k int, seed uint64) *relu {
	n := len(y)
	d := len(x) / n
	nTest := len(yTest)
	xt := make([]float64, d*n)
	for k := range n {
		for j := range d {
			xt[j*n+k] = x[k*d+j]
		}
	}
	md := &relu{
		n: n, d: d, m: m, nTest: nTest,
		x: x, xt: xt, y: y, xTest: xTest, yTest: yTest, theta0: theta0,
		z: make([]float64, m*n), f: make([]float64, n), r: make([]float64, n),
		h: make([]float64, n), back: make([]float64, m*n),
		zv: make([]float64, m*n), jv: make([]float64, n),
		zTest: make([]float64, m*nTest),
		hvpAt: make([]float64, len(theta0)),
	}
	md.lz = newLanczos(len(theta0), k, seed)
	md.apply = func(dst, v []float64) { md.hvp(dst, md.hvpAt, v) }
	return md
}

func (md *relu) dim() int { return md.m*md.d + md.m + 1 }

func (md *relu) init(theta []float64) { copy(theta, md.theta0) }

// split returns the views W (m×d), a (m) and b of θ.
func (md *relu) split(theta []float64) (w, a []float64, b float64) {
	md0 := md.m * md.d
	return theta[:md0], theta[md0 : md0+md.m], theta[md0+md.m]
}

// forward computes Zᵀ, the outputs f, the loss and, if derivs, the loss
// derivatives r and h at θ.
func (md *relu) forward(theta []float64, derivs bool) float64 {
	n, m := md.n, md.m
	w, a, b := md.split(theta)
	kernel.GemmNT(m, n, md.d, w, md.d, md.x, md.d, md.z, n)
	f := md.f[:n]
	clear(f)
	for i, ai := range a {
		kernel.AccAct(f, md.z[i*n:(i+1)*n], ai, b)
	}
	inv := 1 / float64(n)
	sum := newLogisticSum()
	for k, yk := range md.y[:n] {
		d1, d2 := sum.add(yk * f[k])
		if derivs {
			md.r[k] = yk * d1 * inv
			md.h[k] = d2 * inv
		}
	}
	return sum.sum() * inv
}

func (md *relu) loss(theta []float64) float64 { return md.forward(theta, false) }

// grad is backprop: ∂L/∂a_i = Σ_k r_k g_ik, ∂L/∂b = Σ_ik r_k a_i (p−q)_ik, and
// ∇_W = Dᵀ·X with D_ik = r_k a_i (p+q)_ik.
func (md *relu) grad(dst, theta []float64) float64 {
	loss := md.forward(theta, true)
	n, m, d := md.n, md.m, md.d
	_, a, b := md.split(theta)
	gw, ga, _ := md.split(dst)
	r := md.r[:n]
	var gbias float64
	for i, ai := range a {
		sg, sdb := kernel.BackAct(md.back[i*n:(i+1)*n], md.z[i*n:(i+1)*n], r, ai, b)
		ga[i] = sg
		gbias += ai * sdb
	}
	dst[m*d+m] = gbias
	kernel.GemmNT(m, d, n, md.back, n, md.xt, n, gw, d)
	return loss
}

// sharpness is λ_max(∇²L(θ)) by Lanczos on exact Hessian-vector products.
func (md *relu) sharpness(theta []float64) float64 {
	copy(md.hvpAt, theta)
	md.forward(theta, true)
	return md.lz.top(md.apply)
}

func (md *relu) bias(theta []float64) float64 { return theta[len(theta)-1] }
