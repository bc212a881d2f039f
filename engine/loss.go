package engine

import "math"

// The two losses of DESIGN §2, each with its first and second derivatives,
// stable for large |s| (no overflow, no cancellation).

// logistic returns ℓ(s) = log(1+e^{−s}), ℓ'(s) = −1/(1+e^{s}) and
// ℓ″(s) = e^{−|s|}/(1+e^{−|s|})².
func logistic(s float64) (l, d1, d2 float64) {
	e := math.Exp(-math.Abs(s)) // in (0, 1]: never overflows
	p := 1 / (1 + e)            // sigmoid(|s|)
	if s >= 0 {
		l = math.Log1p(e)
		d1 = -e * p // −sigmoid(−s)
	} else {
		l = -s + math.Log1p(e)
		d1 = -p
	}
	d2 = e * p * p
	return l, d1, d2
}

// logisticD returns ℓ'(s) and ℓ″(s) only, skipping the logarithm.
func logisticD(s float64) (d1, d2 float64) {
	e := math.Exp(-math.Abs(s))
	p := 1 / (1 + e)
	if s >= 0 {
		d1 = -e * p
	} else {
		d1 = -p
	}
	return d1, e * p * p
}

// symLogistic returns ℓ_sym(s) = log(2cosh(s/2)) = |s|/2 + log(1+e^{−|s|}),
// ℓ_sym'(s) = ½tanh(s/2) and ℓ_sym″(s) = ¼sech²(s/2) = e^{−|s|}/(1+e^{−|s|})².
func symLogistic(s float64) (l, d1, d2 float64) {
	e := math.Exp(-math.Abs(s))
	p := 1 / (1 + e)
	l = math.Abs(s)/2 + math.Log1p(e)
	d1 = 0.5 * math.Tanh(s/2)
	d2 = e * p * p
	return l, d1, d2
}

// logisticSum accumulates Σ_k ℓ(s_k) and hands out ℓ'(s_k), ℓ″(s_k), taking
// one exponential per term and one logarithm per logisticChunk terms:
// ℓ(s) = max(−s, 0) + log(1+e^{−|s|}) and Σ log(1+e_k) = log Π(1+e_k), each
// factor in (1, 2], so a chunk's product cannot overflow. The absolute error of
// the sum is a few ulps per term, like summing ℓ(s_k) one by one.
type logisticSum struct {
	hinge, logs, prod float64
	k                 int
}

const logisticChunk = 512 // 2^512 is far below the float64 range

func newLogisticSum() logisticSum { return logisticSum{prod: 1} }

// add accumulates ℓ(s) and returns ℓ'(s) and ℓ″(s).
func (a *logisticSum) add(s float64) (d1, d2 float64) {
	e := math.Exp(-math.Abs(s))
	q := 1 + e
	p := 1 / q
	if s >= 0 {
		d1 = -e * p
	} else {
		d1 = -p
		a.hinge -= s
	}
	a.prod *= q
	if a.k++; a.k == logisticChunk {
		a.logs += math.Log(a.prod)
		a.prod, a.k = 1, 0
	}
	return d1, e * p * p
}

// sum returns Σ ℓ(s_k) over the terms added so far.
func (a *logisticSum) sum() float64 { return a.hinge + a.logs + math.Log(a.prod) }
