package engine

import (
	"math"

	"gonum.org/v1/gonum/lapack/gonum"
)

// lanczos estimates the largest eigenvalue of a symmetric linear operator
// given only by its products (Hessian-vector products, for the relu model). It
// runs k Lanczos iterations with full reorthogonalisation from a fixed,
// seeded start vector and returns the largest eigenvalue of the k×k
// tridiagonal matrix. All workspace is allocated once, by newLanczos; top
// allocates nothing.
//
// With k = dim (or at an invariant subspace, where it stops early) the
// tridiagonal matrix carries the operator's spectrum exactly, up to rounding;
// with fewer iterations the top Ritz value approaches λ_max from below, fast
// when λ_max is well separated from the rest of the spectrum.
type lanczos struct {
	dim, k    int
	start     []float64 // unit start vector
	q         []float64 // (k+1)×dim orthonormal basis, row j is q_j
	w         []float64 // dim
	alpha     []float64 // k diagonal of T
	beta      []float64 // k off-diagonal of T (beta[j] links q_j and q_{j+1})
	diag, off []float64 // copies of alpha and beta for the eigensolver
}

// newLanczos returns a workspace for k iterations (capped at dim) on operators
// of dimension dim, with a start vector drawn from stream (seed).
func newLanczos(dim, k int, seed uint64) *lanczos {
	k = max(1, min(k, dim))
	l := &lanczos{
		dim: dim, k: k,
		start: make([]float64, dim),
		q:     make([]float64, (k+1)*dim),
		w:     make([]float64, dim),
		alpha: make([]float64, k), beta: make([]float64, k),
		diag: make([]float64, k), off: make([]float64, k),
	}
	normals(newRNG("lanczos/start", seed, uint64(dim)), l.start, 1)
	scaleVec(l.start, 1/math.Sqrt(dotVec(l.start, l.start)))
	return l
}

// top returns the largest eigenvalue of the Lanczos tridiagonal matrix of the
// operator apply (dst = A·v; dst and v never alias). It returns NaN if apply
// produces a non-finite value.
func (l *lanczos) top(apply func(dst, v []float64)) float64 {
	n := l.dim
	copy(l.q[:n], l.start)
	steps := 0
	scale := 0.0 // running estimate of ‖A‖ for the breakdown test
	for j := 0; j < l.k; j++ {
		qj := l.q[j*n : (j+1)*n]
		apply(l.w, qj)
		a := dotVec(qj, l.w)
		if math.IsNaN(a) || math.IsInf(a, 0) {
			return math.NaN()
		}
		l.alpha[j] = a
		steps = j + 1
		// Full reorthogonalisation against every q_i (which also removes the
		// three-term recurrence's components), repeated once when it cancelled
		// most of w (the DGKS criterion: "twice is enough").
		before := math.Sqrt(dotVec(l.w, l.w))
		l.orthogonalise(j)
		b := math.Sqrt(dotVec(l.w, l.w))
		if b < 0.7*before {
			l.orthogonalise(j)
			b = math.Sqrt(dotVec(l.w, l.w))
		}
		l.beta[j] = b
		scale = max(scale, math.Abs(a)+b)
		if j+1 == l.k || b <= 1e-12*scale {
			break // done, or an invariant subspace: T's eigenvalues are exact
		}
		next := l.q[(j+1)*n : (j+2)*n]
		for i, v := range l.w {
			next[i] = v / b
		}
	}
	copy(l.diag, l.alpha[:steps])
	copy(l.off, l.beta[:steps-1])
	if !(gonum.Implementation{}).Dsterf(steps, l.diag, l.off) {
		return math.NaN()
	}
	return l.diag[steps-1] // ascending order
}

// orthogonalise removes from w its components along q_0..q_j (modified
// Gram–Schmidt).
func (l *lanczos) orthogonalise(j int) {
	n := l.dim
	for i := 0; i <= j; i++ {
		qi := l.q[i*n : (i+1)*n]
		axpyVec(-dotVec(qi, l.w), qi, l.w)
	}
}

func dotVec(x, y []float64) float64 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+3 < len(x); i += 4 {
		s0 += x[i] * y[i]
		s1 += x[i+1] * y[i+1]
		s2 += x[i+2] * y[i+2]
		s3 += x[i+3] * y[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * y[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// axpyVec sets y += α·x.
func axpyVec(alpha float64, x, y []float64) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += alpha * v
	}
}

func scaleVec(x []float64, alpha float64) {
	for i := range x {
		x[i] *= alpha
	}
}
