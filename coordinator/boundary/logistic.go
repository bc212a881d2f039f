package boundary

import (
	"math"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"
	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// Fit kinds of the logistic boundary (Group.Fit).
const (
	// FitMLE: the maximum-likelihood fit exists; EtaStar is where the fitted
	// probability is ½ and CI is the 95% profile-likelihood interval.
	FitMLE = "mle"
	// FitSeparated: the learned and unlearned trials are separated in η (the
	// usual case for deterministic models such as single and mean), so the
	// likelihood has no maximum (the slope runs to infinity) and every η* in the
	// gap between the classes is equally likely. EtaStar is the log-midpoint of
	// the gap and CI is the gap itself; when the classes meet at one η (some
	// seeds learned there, some not), EtaStar is that η and CI runs to its
	// neighbouring grid points.
	FitSeparated = "separated"
	// FitNone: no trial or only one class; EtaStar and CI are 0.
	FitNone = "none"
)

// ciLevel is the coverage of every interval the package reports.
const ciLevel = 0.95

type logisticFit struct {
	etaStar float64
	ci      Interval
	kind    string
	slope   float64 // d logit / d log η (FitMLE only)
}

// fitLogistic fits learned ~ σ(β(log η − log η*)) over individual trials
// (x = log η). For the maximum-likelihood case, η* and its interval are
// clipped to the observed η range: a boundary outside the data is not
// estimated by extrapolation.
func fitLogistic(x []float64, y []bool) logisticFit {
	minL, maxL := math.Inf(1), math.Inf(-1) // range of the learned trials
	minU, maxU := math.Inf(1), math.Inf(-1) // range of the unlearned trials
	for i, v := range x {
		if y[i] {
			minL, maxL = math.Min(minL, v), math.Max(maxL, v)
		} else {
			minU, maxU = math.Min(minU, v), math.Max(maxU, v)
		}
	}
	switch {
	case math.IsInf(minL, 1) || math.IsInf(minU, 1):
		return logisticFit{kind: FitNone}
	case maxU <= minL:
		return separated(x, maxU, minL)
	case maxL <= minU: // learned below, unlearned above: separated the other way
		return separated(x, maxL, minU)
	}
	return fitLogisticMLE(x, y)
}

// separated is the boundary of classes separated by the gap [lo, hi] in log η.
func separated(x []float64, lo, hi float64) logisticFit {
	if lo < hi {
		return logisticFit{kind: FitSeparated, etaStar: math.Exp((lo + hi) / 2), ci: Interval{math.Exp(lo), math.Exp(hi)}}
	}
	below, above := lo, hi
	for _, v := range x {
		if v < lo && (below == lo || v > below) {
			below = v
		}
		if v > hi && (above == hi || v < above) {
			above = v
		}
	}
	return logisticFit{kind: FitSeparated, etaStar: math.Exp(lo), ci: Interval{math.Exp(below), math.Exp(above)}}
}

// fitLogisticMLE maximises the likelihood with gonum's Newton method on
// standardised log η, then bounds η* by the profile likelihood: the set of μ
// whose profile deviance 2(ℓ̂ − max_β ℓ(β, μ)) is below the χ²₁ 95% quantile.
// Trials at the same η are pooled into binomial counts.
func fitLogisticMLE(x []float64, y []bool) logisticFit {
	mx, sx := stat.MeanStdDev(x, nil)
	if !(sx > 0) {
		sx = 1
	}
	bins := binomials(x, y, mx, sx)
	nll := func(p []float64) float64 { return -bins.logLik(p[0], p[1], 0) }
	n := float64(len(x))
	prob := optimize.Problem{Func: nll, Grad: bins.nllGrad, Hess: bins.nllHess}
	res, err := optimize.Minimize(prob, []float64{0, 1}, &optimize.Settings{GradientThreshold: 1e-9 * n}, &optimize.Newton{})
	if res == nil || !isFinite(res.X[0]) || !isFinite(res.X[1]) || res.X[1] == 0 {
		return logisticFit{kind: FitNone}
	}
	if err != nil { // a line search that stalls at the optimum reports failure: check the gradient
		g := make([]float64, 2)
		bins.nllGrad(g, res.X)
		if math.Hypot(g[0], g[1]) > 1e-6*n {
			return logisticFit{kind: FitNone}
		}
	}
	a, b := res.X[0], res.X[1]
	zmin, zmax := (minOf(x)-mx)/sx, (maxOf(x)-mx)/sx
	mu := math.Min(math.Max(-a/b, zmin), zmax)
	llHat := -res.F
	q := distuv.ChiSquared{K: 1}.Quantile(ciLevel)
	warm := b // profiles at nearby μ have nearby slopes: start Newton there
	inside := func(m float64) bool {
		var ll float64
		ll, warm = bins.profile(m, warm)
		return 2*(llHat-ll) < q
	}
	lo := profileEdge(inside, mu, zmin)
	warm = b
	hi := profileEdge(inside, mu, zmax)
	back := func(m float64) float64 { return math.Exp(mx + sx*m) }
	return logisticFit{kind: FitMLE, etaStar: back(mu), ci: Interval{back(lo), back(hi)}, slope: b / sx}
}

// binomial counts the learned (nl) and unlearned (nu) trials at one
// standardised log η, z.
type binomial struct{ z, nl, nu float64 }

type binomialData []binomial

func binomials(x []float64, y []bool, mx, sx float64) binomialData {
	at := map[float64]int{}
	var out binomialData
	for i, v := range x {
		k, ok := at[v]
		if !ok {
			k = len(out)
			at[v] = k
			out = append(out, binomial{z: (v - mx) / sx})
		}
		if y[i] {
			out[k].nl++
		} else {
			out[k].nu++
		}
	}
	return out
}

// logLik is the log-likelihood of logit = a + β(z − μ).
func (d binomialData) logLik(a, beta, mu float64) float64 {
	var f float64
	for _, c := range d {
		v := a + beta*(c.z-mu)
		f -= c.nl*softplus(-v) + c.nu*softplus(v)
	}
	return f
}

// profileEdge returns the end of the interval {m : inside(m)} between the
// centre c (inside) and the limit: the limit itself when it is inside,
// otherwise the crossing found by bisection.
func profileEdge(inside func(float64) bool, c, limit float64) float64 {
	if inside(limit) {
		return limit
	}
	in, out := c, limit
	for range 45 {
		m := (in + out) / 2
		if inside(m) {
			in = m
		} else {
			out = m
		}
	}
	return (in + out) / 2
}

// nllGrad writes the gradient of −logLik(a, β, 0) at p = (a, β) into g.
func (d binomialData) nllGrad(g, p []float64) {
	g[0], g[1] = 0, 0
	for _, c := range d {
		w := c.nu*sigmoid(p[0]+p[1]*c.z) - c.nl*sigmoid(-p[0]-p[1]*c.z)
		g[0] += w
		g[1] += w * c.z
	}
}

// nllHess writes the Hessian of −logLik(a, β, 0) at p = (a, β) into h.
func (d binomialData) nllHess(h *mat.SymDense, p []float64) {
	var h00, h01, h11 float64
	for _, c := range d {
		q := sigmoid(p[0] + p[1]*c.z)
		w := (c.nl + c.nu) * q * (1 - q)
		h00 += w
		h01 += w * c.z
		h11 += w * c.z * c.z
	}
	h.SetSym(0, 0, h00)
	h.SetSym(0, 1, h01)
	h.SetSym(1, 1, h11)
}

// profile is max over β of the log-likelihood of logit = β(z − μ), found by
// Newton's method with backtracking from beta0 (the log-likelihood is concave
// in β). It returns the maximum and the maximising β.
func (d binomialData) profile(mu, beta0 float64) (float64, float64) {
	beta, cur := beta0, d.logLik(0, beta0, mu)
	if l0 := d.logLik(0, 0, mu); l0 > cur {
		beta, cur = 0, l0
	}
	for range 100 {
		var g, h float64
		for _, c := range d {
			t := c.z - mu
			q := sigmoid(beta * t)
			g += t * (c.nl*(1-q) - c.nu*q)
			h -= (c.nl + c.nu) * t * t * q * (1 - q)
		}
		if h >= 0 || g == 0 {
			break
		}
		step := -g / h
		for range 60 {
			if next := d.logLik(0, beta+step, mu); next >= cur {
				beta, cur = beta+step, next
				break
			}
			step /= 2
		}
		if math.Abs(step) < 1e-10*(1+math.Abs(beta)) {
			break
		}
	}
	return cur, beta
}

// softplus is log(1 + eᵛ) without overflow.
func softplus(v float64) float64 {
	if v > 0 {
		return v + math.Log1p(math.Exp(-v))
	}
	return math.Log1p(math.Exp(v))
}

func sigmoid(v float64) float64 {
	if v >= 0 {
		return 1 / (1 + math.Exp(-v))
	}
	e := math.Exp(v)
	return e / (1 + e)
}

func minOf(v []float64) float64 {
	m := math.Inf(1)
	for _, x := range v {
		m = math.Min(m, x)
	}
	return m
}

func maxOf(v []float64) float64 {
	m := math.Inf(-1)
	for _, x := range v {
		m = math.Max(m, x)
	}
	return m
}
