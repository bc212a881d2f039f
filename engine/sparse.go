package engine

import (
	"math"
	"slices"
)

// sparse is the paper's Figure 1 network: first layer fixed to
// ±e_i (2d neurons), one shared bias, θ = (a⁺, a⁻, b),
// f(x) = a⁺·Σ_i ReLU(x_i + b) + a⁻·Σ_i ReLU(−x_i + b), logistic loss averaged
// over the n training samples. Init a⁺, a⁻ ~ N(0, init_scale²/(2d)), b = b0.
//
// A step costs O(n) in practice, not O(nd): each row is sorted once with its
// prefix and suffix sums, so P = Σ_i ReLU(x_i+b), M = Σ_i ReLU(−x_i+b) and the
// active counts come from two positions in the sorted row, and each row keeps
// its positions from one call to the next (b moves little per step).
type sparse struct {
	d, n                int
	X, y, Xtest, ytest  []float64
	sorted              []float64 // n×d, each row of X ascending
	pre, suf            []float64 // n×(d+1): sums of the first j / of sorted[j:] of each row
	lo, hi              []int     // per row: #{x_i ≤ −b} and #{x_i < b} at the last b seen
	aPlus0, aMinus0, b0 float64
	hess, work          [9]float64
}

func init() {
	registerModel(ModelSparse, func(c Config) (model, error) { return newSparse(c), nil })
}

func newSparse(c Config) *sparse {
	m := &sparse{d: c.Width, n: c.N, b0: c.B0}
	m.X, m.y, m.Xtest, m.ytest = sparseData(c)
	r := newRNG("sparse/init", c.Seed, uint64(c.Width))
	scale := c.InitScale / math.Sqrt(2*float64(c.Width)) // the paper's N(0, 1/(2d)) at init_scale 1
	m.aPlus0 = scale * r.NormFloat64()
	m.aMinus0 = scale * r.NormFloat64()

	d, n := m.d, m.n
	m.sorted = slices.Clone(m.X)
	m.pre = make([]float64, n*(d+1))
	m.suf = make([]float64, n*(d+1))
	m.lo = make([]int, n)
	m.hi = make([]int, n)
	for k := range n {
		s := m.sorted[k*d : (k+1)*d]
		slices.Sort(s)
		pre, suf := m.pre[k*(d+1):(k+1)*(d+1)], m.suf[k*(d+1):(k+1)*(d+1)]
		for j, v := range s {
			pre[j+1] = pre[j] + v
		}
		for j := d - 1; j >= 0; j-- {
			suf[j] = suf[j+1] + s[j]
		}
	}
	return m
}

func (m *sparse) dim() int { return 3 }

func (m *sparse) init(theta []float64) {
	theta[0], theta[1], theta[2] = m.aPlus0, m.aMinus0, m.b0
}

// row returns, for training row k at bias b, P = Σ_i ReLU(x_i+b),
// M = Σ_i ReLU(−x_i+b) and the active counts cP = #{x_i > −b}, cM = #{x_i < b}
// (the derivatives of P and M in b), walking the row's remembered positions.
func (m *sparse) row(k int, b float64) (p, mm, cp, cm float64) {
	d := m.d
	s := m.sorted[k*d : (k+1)*d : (k+1)*d]
	j, q := m.lo[k], m.hi[k]
	for j < d && s[j] <= -b {
		j++
	}
	for j > 0 && s[j-1] > -b {
		j--
	}
	for q < d && s[q] < b {
		q++
	}
	for q > 0 && s[q-1] >= b {
		q--
	}
	m.lo[k], m.hi[k] = j, q
	base := k * (d + 1)
	cp, cm = float64(d-j), float64(q)
	p = m.suf[base+j] + b*cp
	mm = b*cm - m.pre[base+q]
	return p, mm, cp, cm
}

func (m *sparse) loss(theta []float64) float64 {
	ap, am, b := theta[0], theta[1], theta[2]
	acc := newLogisticSum()
	for k, yk := range m.y[:m.n] {
		p, mm, _, _ := m.row(k, b)
		acc.add(yk * (ap*p + am*mm))
	}
	return acc.sum() / float64(m.n)
}

func (m *sparse) grad(dst, theta []float64) float64 {
	ap, am, b := theta[0], theta[1], theta[2]
	var gp, gm, gb float64
	acc := newLogisticSum()
	for k, yk := range m.y[:m.n] {
		p, mm, cp, cm := m.row(k, b)
		d1, _ := acc.add(yk * (ap*p + am*mm))
		c := d1 * yk
		gp += c * p
		gm += c * mm
		gb += c * (ap*cp + am*cm)
	}
	inv := 1 / float64(m.n)
	dst[0], dst[1], dst[2] = gp*inv, gm*inv, gb*inv
	return acc.sum() * inv
}

// hessian writes the 3×3 Hessian (exact where b is not at a kink):
// (1/n)Σ ℓ″·v vᵀ with v = (P, M, a⁺cP + a⁻cM), plus (1/n)Σ ℓ'·y·(cP, cM) in
// the (a⁺, b) and (a⁻, b) entries.
func (m *sparse) hessian(dst, theta []float64) {
	ap, am, b := theta[0], theta[1], theta[2]
	var h [9]float64
	for k, yk := range m.y[:m.n] {
		p, mm, cp, cm := m.row(k, b)
		d1, d2 := logisticD(yk * (ap*p + am*mm))
		v := [3]float64{p, mm, ap*cp + am*cm}
		for i := range 3 {
			for j := i; j < 3; j++ {
				h[i*3+j] += d2 * v[i] * v[j]
			}
		}
		h[2] += d1 * yk * cp
		h[5] += d1 * yk * cm
	}
	inv := 1 / float64(m.n)
	for i := range 3 {
		for j := i; j < 3; j++ {
			dst[i*3+j] = h[i*3+j] * inv
			dst[j*3+i] = h[i*3+j] * inv
		}
	}
}

func (m *sparse) sharpness(theta []float64) float64 {
	m.hessian(m.hess[:], theta)
	return symEigMax(m.hess[:], 3, m.work[:])
}

func (m *sparse) bias(theta []float64) float64 { return theta[2] }

func (m *sparse) accuracy(theta []float64) (train, test float64) {
	ap, am, b := theta[0], theta[1], theta[2]
	right := 0
	for k, yk := range m.y[:m.n] {
		p, mm, _, _ := m.row(k, b)
		if yk*(ap*p+am*mm) > 0 {
			right++
		}
	}
	train = float64(right) / float64(m.n)
	if len(m.ytest) == 0 {
		return train, 0
	}
	right = 0
	for k, yk := range m.ytest {
		p, mm := reluSums(m.Xtest[k*m.d:(k+1)*m.d], b)
		if yk*(ap*p+am*mm) > 0 {
			right++
		}
	}
	return train, float64(right) / float64(len(m.ytest))
}

// reluSums returns Σ_i ReLU(x_i+b) and Σ_i ReLU(−x_i+b) directly, in O(d).
func reluSums(x []float64, b float64) (p, mm float64) {
	for _, v := range x {
		p += max(v+b, 0)
		mm += max(-v+b, 0)
	}
	return p, mm
}

// dead reports whether every neuron is off on every training sample:
// b ≤ −|x_i| for all entries, so the output is identically 0.
func (m *sparse) dead(theta []float64) bool {
	b := theta[2]
	for k := range m.n {
		if _, _, cp, cm := m.row(k, b); cp != 0 || cm != 0 {
			return false
		}
	}
	return true
}

func (m *sparse) dump(d Dump, theta0, theta []float64) {
	d["X"] = matrix(m.X, m.n, m.d)
	d["y"] = vector(m.y)
	d["X_test"] = matrix(m.Xtest, len(m.ytest), m.d)
	d["y_test"] = vector(m.ytest)
	d["a_plus0"], d["a_minus0"], d["b0"] = scalar(theta0[0]), scalar(theta0[1]), scalar(theta0[2])
	d["a_plus"], d["a_minus"], d["b"] = scalar(theta[0]), scalar(theta[1]), scalar(theta[2])
}
