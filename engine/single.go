package engine

import "math"

// single is the single-neuron linear network: θ = (x, y),
// F = ℓ_sym(x·y), x₀ given, y₀ ~ N(0, init_scale²). Its order parameter is
// |x| − x₀ (≈0 below η* = 8/x₀², negative above).
type single struct {
	x0, y0 float64
	hess   [4]float64
	work   [4]float64
}

func init() {
	registerModel(ModelSingle, func(c Config) (model, error) { return newSingle(c), nil })
}

func newSingle(c Config) *single {
	r := newRNG("single/init", c.Seed)
	return &single{x0: c.X0, y0: c.InitScale * r.NormFloat64()}
}

func (m *single) dim() int { return 2 }

func (m *single) init(theta []float64) { theta[0], theta[1] = m.x0, m.y0 }

func (m *single) loss(theta []float64) float64 {
	l, _, _ := symLogistic(theta[0] * theta[1])
	return l
}

func (m *single) grad(dst, theta []float64) float64 {
	x, y := theta[0], theta[1]
	l, d1, _ := symLogistic(x * y)
	dst[0], dst[1] = d1*y, d1*x
	return l
}

// hessian writes the 2×2 Hessian: [ℓ″y², ℓ″xy + ℓ'; ℓ″xy + ℓ', ℓ″x²].
func (m *single) hessian(dst, theta []float64) {
	x, y := theta[0], theta[1]
	_, d1, d2 := symLogistic(x * y)
	dst[0], dst[1] = d2*y*y, d2*x*y+d1
	dst[2], dst[3] = dst[1], d2*x*x
}

func (m *single) sharpness(theta []float64) float64 {
	m.hessian(m.hess[:], theta)
	return symEigMax(m.hess[:], 2, m.work[:])
}

func (m *single) bias(theta []float64) float64 { return math.Abs(theta[0]) - m.x0 }

func (m *single) accuracy([]float64) (train, test float64) { return 0, 0 }

func (m *single) dead([]float64) bool { return false }

func (m *single) dump(d Dump, theta0, theta []float64) {
	d["x0"] = scalar(theta0[0])
	d["y0"] = scalar(theta0[1])
	d["x"] = scalar(theta[0])
	d["y"] = scalar(theta[1])
}

// scalar is a 0-d Array.
func scalar(v float64) Array { return Array{Shape: []int{}, Data: []float64{v}} }

// vector is a 1-d Array holding a copy of v.
func vector(v []float64) Array {
	return Array{Shape: []int{len(v)}, Data: append([]float64(nil), v...)}
}

// matrix is a 2-d rows×cols Array holding a copy of v (row-major).
func matrix(v []float64, rows, cols int) Array {
	return Array{Shape: []int{rows, cols}, Data: append([]float64(nil), v[:rows*cols]...)}
}
