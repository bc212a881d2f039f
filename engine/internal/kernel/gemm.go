// Package kernel holds the dense float64 matrix kernels of the relu model.
//
// The one product the model needs is C = A·Bᵀ with A and B row-major and
// sharing their contiguous inner dimension k: every entry of C is a dot
// product of a row of A with a row of B. Keeping k contiguous in both operands
// means nothing is packed or transposed per call: the network's first layer W
// (m×d) is used as stored, and the data is kept once as X (n×d) and once as Xᵀ
// (d×n).
//
// GemmNT tiles C into 4×3 blocks. On amd64 with AVX2 and FMA an assembly
// micro-kernel computes a block with twelve 4-wide accumulators; elsewhere (or
// with the purego build tag) a pure-Go twin does, and the tests hold the two
// against a naive reference.
package kernel

import (
	"fmt"
	"math"
)

// Tile sizes of the micro-kernel: a block of C is tileM rows of A by tileN rows of B.
const (
	tileM = 4
	tileN = 3
)

// GemmNT sets C = A·Bᵀ, where A is m×k with row stride lda, B is n×k with row
// stride ldb and C is m×n with row stride ldc, all row-major. It allocates
// nothing. It panics if a slice is too short for its shape, like a BLAS would.
//
// The result does not depend on the micro-kernel in use: each entry is the
// same sequence of fused multiply-adds (see dot4) in assembly and in Go.
func GemmNT(m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int) {
	checkMat("a", a, m, k, lda)
	checkMat("b", b, n, k, ldb)
	checkMat("c", c, m, n, ldc)
	if m == 0 || n == 0 {
		return
	}
	k4 := k &^ 3 // the micro-kernel's part; the tail k4..k is added below
	switch {
	case k4 == 0:
		for i := range m {
			clear(c[i*ldc : i*ldc+n])
		}
	case m < tileM || n < tileN:
		smallGemm(m, n, k4, a, lda, b, ldb, c, ldc)
	default:
		// Full tiles; a partial last tile in either direction is replaced by
		// the full tile ending at the last row, which recomputes a few entries
		// with bit-identical results.
		blocks := m / tileM
		for j := 0; j < n; j += tileN {
			j := min(j, n-tileN)
			b0, b1, b2 := b[j*ldb:], b[(j+1)*ldb:], b[(j+2)*ldb:]
			panel(a, lda, blocks, b0, b1, b2, k4, c[j:], ldc)
			if m%tileM != 0 {
				i := m - tileM
				panel(a[i*lda:], lda, 1, b0, b1, b2, k4, c[i*ldc+j:], ldc)
			}
		}
	}
	if k4 == k {
		return
	}
	for i := range m {
		ai, ci := a[i*lda+k4:i*lda+k], c[i*ldc:i*ldc+n]
		for j := range ci {
			v, bj := ci[j], b[j*ldb+k4:j*ldb+k]
			for q, x := range ai {
				v = math.FMA(x, bj[q], v)
			}
			ci[j] = v
		}
	}
}

// smallGemm is C = A·Bᵀ over k (a positive multiple of 4) for matrices with
// fewer rows than a tile, entry by entry.
func smallGemm(m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int) {
	for i := range m {
		for j := range n {
			c[i*ldc+j] = dot4(a[i*lda:i*lda+k], b[j*ldb:j*ldb+k])
		}
	}
}

func checkMat(name string, x []float64, rows, cols, ld int) {
	if rows < 0 || cols < 0 || ld < cols {
		panic(fmt.Sprintf("kernel: %s: bad shape %d×%d with stride %d", name, rows, cols, ld))
	}
	if rows > 0 && cols > 0 && len(x) < (rows-1)*ld+cols {
		panic(fmt.Sprintf("kernel: %s: length %d is short for %d×%d with stride %d", name, len(x), rows, cols, ld))
	}
}

// panelGo is the pure-Go micro-kernel. For each of blocks blocks of four
// rows of a (row stride lda) it sets c[4i+r][s] (row stride ldc) to
// Σ_{q<k} a_{4i+r}[q]·b_s[q], for k a positive multiple of 4. It performs the
// assembly kernel's exact arithmetic (see dot4), so the two agree bit for bit.
func panelGo(a []float64, lda, blocks int, b0, b1, b2 []float64, k int, c []float64, ldc int) {
	bs := [tileN][]float64{b0[:k], b1[:k], b2[:k]}
	for r := range tileM * blocks {
		ar, cr := a[r*lda:r*lda+k], c[r*ldc:r*ldc+tileN]
		for s, bv := range bs {
			cr[s] = dot4(ar, bv)
		}
	}
}

// dot4 is Σ a[q]·b[q] over len(a), a multiple of 4, summed the way a 4-lane
// FMA loop does: lane l accumulates q ≡ l (mod 4) with fused multiply-adds,
// and the lanes are reduced as (l0+l1)+(l2+l3).
func dot4(a, b []float64) float64 {
	b = b[:len(a)]
	var l0, l1, l2, l3 float64
	for q := 0; q+3 < len(a); q += 4 {
		l0 = math.FMA(a[q], b[q], l0)
		l1 = math.FMA(a[q+1], b[q+1], l1)
		l2 = math.FMA(a[q+2], b[q+2], l2)
		l3 = math.FMA(a[q+3], b[q+3], l3)
	}
	return (l0 + l1) + (l2 + l3)
}
