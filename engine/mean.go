package engine

import "math"

// mean is the paper's reduced mean-output model:
// θ = (a₁…a_m, b), F = ℓ_sym(σ(b)·Σa) with σ(b) = bΦ(b) + φ(b),
// σ' = Φ, σ″ = φ. Init a_i ~ N(0, init_scale²/m), b = b0.
type mean struct {
	m  int
	b0 float64
	a0 []float64
}

func init() {
	registerModel(ModelMean, func(c Config) (model, error) { return newMean(c), nil })
}

func newMean(c Config) *mean {
	r := newRNG("mean/init", c.Seed, uint64(c.Width))
	a0 := make([]float64, c.Width)
	normals(r, a0, c.InitScale/math.Sqrt(float64(c.Width)))
	return &mean{m: c.Width, b0: c.B0, a0: a0}
}

// gaussPhi returns Φ(b), φ(b) and σ(b) = bΦ(b) + φ(b).
func gaussPhi(b float64) (cdf, pdf, sig float64) {
	cdf = 0.5 * math.Erfc(-b/math.Sqrt2)
	pdf = math.Exp(-b*b/2) / math.Sqrt(2*math.Pi)
	return cdf, pdf, b*cdf + pdf
}

func (m *mean) dim() int { return m.m + 1 }

func (m *mean) init(theta []float64) {
	copy(theta, m.a0)
	theta[m.m] = m.b0
}

// sumA returns Σa.
func (m *mean) sumA(theta []float64) float64 {
	u := 0.0
	for _, a := range theta[:m.m] {
		u += a
	}
	return u
}

func (m *mean) loss(theta []float64) float64 {
	_, _, sig := gaussPhi(theta[m.m])
	l, _, _ := symLogistic(sig * m.sumA(theta))
	return l
}

func (m *mean) grad(dst, theta []float64) float64 {
	u := m.sumA(theta)
	cdf, _, sig := gaussPhi(theta[m.m])
	l, d1, _ := symLogistic(sig * u)
	ga := d1 * sig
	for i := range m.m {
		dst[i] = ga
	}
	dst[m.m] = d1 * cdf * u
	return l
}

// curvature returns the distinct Hessian entries: h_aa (every a_i a_j entry),
// h_ab (every a_i b entry) and h_bb.
func (m *mean) curvature(theta []float64) (haa, hab, hbb float64) {
	u := m.sumA(theta)
	cdf, pdf, sig := gaussPhi(theta[m.m])
	_, d1, d2 := symLogistic(sig * u)
	haa = d2 * sig * sig
	hab = d2*sig*cdf*u + d1*cdf
	hbb = d2*cdf*cdf*u*u + d1*pdf*u
	return haa, hab, hbb
}

// hessian writes the dense (m+1)×(m+1) Hessian into dst (row-major).
func (m *mean) hessian(dst, theta []float64) {
	haa, hab, hbb := m.curvature(theta)
	n := m.m + 1
	for i := range m.m {
		for j := range m.m {
			dst[i*n+j] = haa
		}
		dst[i*n+m.m], dst[m.m*n+i] = hab, hab
	}
	dst[m.m*n+m.m] = hbb
}

// sharpness is λ_max of the Hessian, from its 2×2 restriction to span{1_a/√m, e_b};
// the Hessian vanishes on the rest (the a-directions orthogonal to 1).
func (m *mean) sharpness(theta []float64) float64 {
	haa, hab, hbb := m.curvature(theta)
	p, q, r := float64(m.m)*haa, math.Sqrt(float64(m.m))*hab, hbb
	top := (p+r)/2 + math.Hypot((p-r)/2, q)
	if m.m > 1 {
		top = max(top, 0)
	}
	return top
}

func (m *mean) bias(theta []float64) float64 { return theta[m.m] }

func (m *mean) accuracy([]float64) (train, test float64) { return 0, 0 }

func (m *mean) dead([]float64) bool { return false }

func (m *mean) dump(d Dump, theta0, theta []float64) {
	d["a0"] = vector(theta0[:m.m])
	d["b0"] = scalar(theta0[m.m])
	d["a"] = vector(theta[:m.m])
	d["b"] = scalar(theta[m.m])
}
