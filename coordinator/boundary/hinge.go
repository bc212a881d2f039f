package boundary

import (
	"math"
	"sort"

	"gonum.org/v1/gonum/stat/distuv"
)

// HingeForms returns the names of the shapes tried for the onset fit, in the
// order they are tried: drop = 0 below the breakpoint θ and, above it, with
// h = (t − θ)₊:
//
//	"log-linear"     c·h,          t = log η
//	"linear"         c·h,          t = η
//	"log-quadratic"  c₁·h + c₂·h², t = log η (c₁ ≥ 0; c₂ of either sign)
//
// The onset is fitted in two stages (see fitOnset): a global fit of every
// form under two noise models — constant variance, and relative errors (the
// spread over seeds ∝ δ + |drop|, δ = relativeFloor × the median positive
// drop) — then local constant-variance refits to the trials with η up to
// twice the estimate. OnsetForm names the form of the final fit ("+relative"
// when the global fit had to stand). Each fit is weighted least squares with
// the breakpoint profiled (the coefficients are linear given θ; θ is scanned
// over the observed range and polished by golden-section search); the pair
// with the smallest BIC (n·log(RSS_w/n) + Σ log v_i + k·log n, k =
// coefficients + 1, plus 1 for the relative model) is kept. The onset
// interval is the profile interval of the breakpoint in the final fit,
// {θ : RSS_w(θ) ≤ RSS_w,min·(1 + F₁,ₙ₋ₖ(0.95)/(n−k))}, the usual F-test
// inversion for a change point; it reflects the fit's noise, not the error of
// the hinge shape. None of this depends on bias_eps.
func HingeForms() []string {
	out := make([]string, len(hingeForms))
	for i, f := range hingeForms {
		out[i] = f.name
	}
	return out
}

// OnsetNone is Group.OnsetForm when the drop does not grow with η in the data.
const OnsetNone = "none"

type hingeForm struct {
	name   string
	logX   bool
	degree int
}

// hingeForms are the forms HingeForms names: whether t = log η, and the
// degree of the polynomial in h.
var hingeForms = []hingeForm{{"log-linear", true, 1}, {"linear", false, 1}, {"log-quadratic", true, 2}}

// hingeGrid is the number of breakpoints scanned before polishing.
const hingeGrid = 800

type hingeFit struct {
	onset float64
	ci    Interval
	form  string
	rss   float64
	bic   float64
}

// onsetWindow bounds the local fit: trials with η up to onsetWindow × the
// current onset estimate.
const onsetWindow = 2

// fitOnset locates the onset in two stages. First every form under both noise
// models over all trials, best by BIC: a start that far-out chaos does not
// pull much. Then, as the onset is a local feature, the constant-variance
// forms refitted to the trials with η ≤ onsetWindow × the estimate, repeated
// until the estimate stops moving (at most 10 times). Measured on this
// engine's mean and sparse sweeps the final onsets are within 4% of theory;
// the global fit alone misses by up to 16% (chaos at large η in the mean
// model) and the constant-variance global fit by up to 5× (the sparse
// network's collapse at η = 2e-2, d = 400).
// With fewer than 4 points, or no growth, the form is OnsetNone and the
// onset 0.
func fitOnset(x, drop []float64) hingeFit {
	h := fitForms(x, drop, noiseModels(drop))
	for range 10 {
		if h.form == OnsetNone {
			break
		}
		lim := math.Log(h.onset * onsetWindow)
		var xw, dw []float64
		for i, v := range x {
			if v <= lim {
				xw, dw = append(xw, v), append(dw, drop[i])
			}
		}
		next := fitForms(xw, dw, noiseModels(dw)[:1])
		if next.form == OnsetNone {
			break // too few points in the window: keep the global estimate
		}
		moved := next.onset != h.onset
		h = next
		if !moved {
			break
		}
	}
	return h
}

// fitForms fits every form under every noise model and keeps the best by BIC.
func fitForms(x, drop []float64, models []noiseModel) hingeFit {
	best := hingeFit{form: OnsetNone, bic: math.Inf(1)}
	if len(x) < 4 {
		return best
	}
	for _, nm := range models {
		for _, f := range hingeForms {
			h, ok := f.fit(x, drop, nm.w)
			if !ok {
				continue
			}
			h.bic += nm.logDet + float64(nm.params)*math.Log(float64(len(x)))
			if nm.name != "" {
				h.form += "+" + nm.name
			}
			if h.bic < best.bic {
				best = h
			}
		}
	}
	return best
}

// noiseModel is a model of the variance of the drop: weights w_i = 1/v_i up
// to a common scale, and Σ log v_i, which enters the Gaussian likelihood.
type noiseModel struct {
	name   string
	params int // parameters beyond the hinge's
	w      []float64
	logDet float64
}

// relativeFloor is the floor δ of the relative noise model as a fraction of
// the median positive drop. It is fixed, not fitted: with δ free the
// likelihood grows without bound as δ → 0 (points below the onset are fitted
// exactly). Too small a floor lets the slow drift of the drop just below η*
// (gradient descent departing from gradient flow) decide the onset; too large
// a floor (e.g. a fraction of the largest drop, which chaos far above η* can
// make enormous) lets the far points decide it. Measured on this engine's
// mean (m = 1..16) and sparse (d = 100..400) sweeps, 0.3 gives the local
// stage a start it converges from.
const relativeFloor = 0.3

// noiseModels returns the constant-variance model and the relative-error
// model sd_i ∝ δ + |drop_i|. Above the transition the seeds spread more the
// further the bias has dropped (up to chaos or collapse far out), so these
// weights let the points near the onset decide the fit.
func noiseModels(drop []float64) []noiseModel {
	ones := make([]float64, len(drop))
	for i := range ones {
		ones[i] = 1
	}
	models := []noiseModel{{name: "", w: ones}}
	var pos []float64
	for _, d := range drop {
		if d > 0 {
			pos = append(pos, d)
		}
	}
	if len(pos) == 0 {
		return models
	}
	sort.Float64s(pos)
	delta := relativeFloor * pos[len(pos)/2]
	nm := noiseModel{name: "relative", params: 1, w: make([]float64, len(drop))}
	for i, d := range drop {
		sd := delta + math.Abs(d)
		nm.w[i] = 1 / (sd * sd)
		nm.logDet += 2 * math.Log(sd)
	}
	return append(models, nm)
}

// fit profiles the breakpoint of one form; ok is false when the drop does
// not grow above any breakpoint.
func (f hingeForm) fit(x, drop, w []float64) (hingeFit, bool) {
	t := make([]float64, len(x))
	for i, v := range x {
		t[i] = v
		if !f.logX {
			t[i] = math.Exp(v)
		}
	}
	var sdd float64
	for i, d := range drop {
		sdd += w[i] * d * d
	}
	lo, hi := minOf(t), maxOf(t)
	if !(hi > lo) || sdd == 0 {
		return hingeFit{}, false
	}
	rss := func(theta float64) float64 { return hingeRSS(t, drop, w, theta, f.degree, sdd) }
	grid := make([]float64, hingeGrid+1)
	vals := make([]float64, len(grid))
	k := 0
	for i := range grid {
		grid[i] = lo + (hi-lo)*float64(i)/hingeGrid
		vals[i] = rss(grid[i])
		if vals[i] < vals[k] {
			k = i
		}
	}
	theta := golden(rss, grid[max(k-1, 0)], grid[min(k+1, hingeGrid)])
	best := rss(theta)
	if vals[k] < best {
		theta, best = grid[k], vals[k]
	}
	if best >= sdd*(1-1e-9) {
		return hingeFit{}, false
	}
	n, p := float64(len(t)), float64(f.degree+1)
	floor := 1e-14 * sdd
	h := hingeFit{form: f.name, rss: best, bic: n*math.Log(math.Max(best, floor)/n) + p*math.Log(n)}
	ciLo, ciHi := lo, hi
	if dof := n - p; dof >= 1 {
		tq := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: dof}.Quantile(0.5 + ciLevel/2)
		limit := math.Max(best, floor) * (1 + tq*tq/dof)
		inside := func(th float64) bool { return rss(th) <= limit }
		ciLo, ciHi = theta, theta
		for i, g := range grid {
			if vals[i] <= limit {
				ciLo, ciHi = math.Min(ciLo, g), math.Max(ciHi, g)
			}
		}
		if ciLo > lo {
			ciLo = profileEdge(inside, ciLo, ciLo-(hi-lo)/hingeGrid)
		}
		if ciHi < hi {
			ciHi = profileEdge(inside, ciHi, ciHi+(hi-lo)/hingeGrid)
		}
	}
	back := func(v float64) float64 {
		if f.logX {
			return math.Exp(v)
		}
		return v
	}
	h.onset, h.ci = back(theta), Interval{back(ciLo), back(ciHi)}
	return h, true
}

// hingeRSS is the weighted residual sum of squares of the best
// non-negative-onset fit of drop on h = (t − θ)₊ (and h² when degree is 2).
// sdd = Σ w·drop².
func hingeRSS(t, drop, w []float64, theta float64, degree int, sdd float64) float64 {
	var s11, s12, s22, s1d, s2d float64
	for i, v := range t {
		h := v - theta
		if h <= 0 {
			continue
		}
		h2 := h * h
		s11 += w[i] * h2
		s12 += w[i] * h2 * h
		s22 += w[i] * h2 * h2
		s1d += w[i] * h * drop[i]
		s2d += w[i] * h2 * drop[i]
	}
	best := sdd
	if s11 > 0 && s1d > 0 { // c·h with c ≥ 0
		best = sdd - s1d*s1d/s11
	}
	if degree < 2 {
		return best
	}
	if s22 > 0 && s2d > 0 { // c₂·h² alone (the c₁ = 0 edge)
		best = math.Min(best, sdd-s2d*s2d/s22)
	}
	det := s11*s22 - s12*s12
	if det > 1e-12*s11*s22 {
		c1 := (s1d*s22 - s2d*s12) / det
		c2 := (s11*s2d - s12*s1d) / det
		if c1 >= 0 {
			best = math.Min(best, sdd-(c1*s1d+c2*s2d))
		}
	}
	return math.Max(best, 0)
}

// golden minimises f on [a, b] by golden-section search.
func golden(f func(float64) float64, a, b float64) float64 {
	const r = 0.6180339887498949
	c, d := b-r*(b-a), a+r*(b-a)
	fc, fd := f(c), f(d)
	for range 80 {
		if fc < fd {
			b, d, fd = d, c, fc
			c = b - r*(b-a)
			fc = f(c)
		} else {
			a, c, fc = c, d, fd
			d = a + r*(b-a)
			fd = f(d)
		}
	}
	return (a + b) / 2
}
