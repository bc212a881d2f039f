package engine

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// Finite-difference helpers shared by the derivative tests.

// fdGrad returns the central-difference gradient of f at theta.
func fdGrad(f func([]float64) float64, theta []float64, h float64) []float64 {
	x := append([]float64(nil), theta...)
	g := make([]float64, len(x))
	for i := range x {
		xi := x[i]
		x[i] = xi + h
		fp := f(x)
		x[i] = xi - h
		fm := f(x)
		x[i] = xi
		g[i] = (fp - fm) / (2 * h)
	}
	return g
}

// fdHessian returns the n×n central-difference Jacobian of the gradient at theta
// (row i = ∂∇F/∂θ_i), not symmetrised.
func fdHessian(grad func(dst, theta []float64) float64, theta []float64, h float64) []float64 {
	n := len(theta)
	x := append([]float64(nil), theta...)
	gp, gm := make([]float64, n), make([]float64, n)
	H := make([]float64, n*n)
	for i := range x {
		xi := x[i]
		x[i] = xi + h
		grad(gp, x)
		x[i] = xi - h
		grad(gm, x)
		x[i] = xi
		for j := range n {
			H[i*n+j] = (gp[j] - gm[j]) / (2 * h)
		}
	}
	return H
}

// relErr is ‖a − b‖₂ / ‖b‖₂ (or ‖a − b‖₂ when b = 0).
func relErr(a, b []float64) float64 {
	var num, den float64
	for i := range a {
		num += (a[i] - b[i]) * (a[i] - b[i])
		den += b[i] * b[i]
	}
	if den == 0 {
		return math.Sqrt(num)
	}
	return math.Sqrt(num / den)
}

// gonumEigMax is the largest eigenvalue of the symmetric part of the n×n matrix a.
func gonumEigMax(t *testing.T, a []float64, n int) float64 {
	t.Helper()
	s := mat.NewSymDense(n, nil)
	for i := range n {
		for j := i; j < n; j++ {
			s.SetSym(i, j, (a[i*n+j]+a[j*n+i])/2)
		}
	}
	var es mat.EigenSym
	if !es.Factorize(s, false) {
		t.Fatal("gonum EigenSym did not converge")
	}
	v := es.Values(nil)
	return v[len(v)-1]
}
