package engine

import "math"

// symEigMax returns the largest eigenvalue of the n×n symmetric matrix a
// (row-major, only read) by cyclic Jacobi rotations on work (len ≥ n²).
// Meant for the small dense Hessians (n up to a few dozen); it allocates nothing.
func symEigMax(a []float64, n int, work []float64) float64 {
	w := work[:n*n]
	copy(w, a[:n*n])
	for sweep := 0; sweep < 64; sweep++ {
		off, diag := 0.0, 0.0
		for i := range n {
			diag += w[i*n+i] * w[i*n+i]
			for j := i + 1; j < n; j++ {
				off += w[i*n+j] * w[i*n+j]
			}
		}
		if off <= 1e-30*diag || off == 0 {
			break
		}
		for p := 0; p < n-1; p++ {
			for q := p + 1; q < n; q++ {
				jacobiRotate(w, n, p, q)
			}
		}
	}
	top := math.Inf(-1)
	for i := range n {
		top = max(top, w[i*n+i])
	}
	return top
}

// jacobiRotate zeroes w[p][q] (and w[q][p]) by a Jacobi rotation in the (p, q) plane.
func jacobiRotate(w []float64, n, p, q int) {
	apq := w[p*n+q]
	if apq == 0 {
		return
	}
	app, aqq := w[p*n+p], w[q*n+q]
	theta := (aqq - app) / (2 * apq)
	t := math.Copysign(1, theta) / (math.Abs(theta) + math.Sqrt(theta*theta+1))
	c := 1 / math.Sqrt(t*t+1)
	s := t * c
	for k := range n {
		akp, akq := w[k*n+p], w[k*n+q]
		w[k*n+p] = c*akp - s*akq
		w[k*n+q] = s*akp + c*akq
	}
	for k := range n {
		apk, aqk := w[p*n+k], w[q*n+k]
		w[p*n+k] = c*apk - s*aqk
		w[q*n+k] = s*apk + c*aqk
	}
	w[p*n+q], w[q*n+p] = 0, 0
}
