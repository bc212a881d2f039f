package engine

import "math"

// The two losses, each with its first and second derivatives,
// stable for large |s| (no overflow, no cancellation).

// logistic returns ℓ(s) = log(1+e^{−s}), ℓ'(s) = −1/(1+e^{s}) and
// ℓ″(s) = e^{−|s|}/(1+e^{−|s|})².
func logistic(s float64) (l, d1, d2 float64) {
	e := expNeg(-math.Abs(s)) // in (0, 1]: never overflows
	p := 1 / (1 + e)          // sigmoid(|s|)
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
	e := expNeg(-math.Abs(s))
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
	e := expNeg(-math.Abs(s))
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
	e := expNeg(-math.Abs(s))
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

// expNeg returns e^x for x ≤ 0 (0 below −708), within a few ulps of math.Exp:
// x = k·ln2 + r with |r| ≤ ln2/2 (k by the 1.5·2^52 rounding trick), e^r by its
// Taylor series to degree 13 (truncation < 1e-17) evaluated in independent
// pieces, and 2^k from the exponent bits. With no special cases beyond
// underflow it makes the sparse step about 30% faster than math.Exp does.
func expNeg(x float64) float64 {
	const (
		ln2Hi = 6.93147180369123816490e-01
		ln2Lo = 1.90821492927058770002e-10
		log2e = 1.44269504088896338700e+00
		shift = 6755399441055744.0 // 1.5·2^52: adding it rounds to an integer
	)
	if !(x >= -708) {
		return 0
	}
	k := (x*log2e + shift) - shift
	r := (x - k*ln2Hi) - k*ln2Lo
	r2 := r * r
	r4 := r2 * r2
	q0 := (1 + r) + r2*(1.0/2+r*(1.0/6))
	q1 := (1.0/24 + r*(1.0/120)) + r2*(1.0/720+r*(1.0/5040))
	q2 := (1.0/40320 + r*(1.0/362880)) + r2*(1.0/3628800+r*(1.0/39916800))
	q3 := 1.0/479001600 + r*(1.0/6227020800)
	q := q0 + r4*(q1+r4*(q2+r4*q3))
	return q * math.Float64frombits(uint64(int64(k)+1023)<<52)
}
