//go:build amd64 && !purego

package kernel

import "golang.org/x/sys/cpu"

// hasAVX2FMA reports whether the assembly micro-kernel can run here.
var hasAVX2FMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// useAsm selects the assembly micro-kernel; tests switch it off to check the
// pure-Go twin.
var useAsm = hasAVX2FMA

// panelAVX2 is panelGo in AVX2/FMA assembly, on raw pointers: row r of a is
// at a + r·lda, row r of c at c + r·ldc. It reads k elements (k > 0, a
// multiple of 4) of each row of a and of b0, b1, b2.
//
//go:noescape
func panelAVX2(a *float64, lda, blocks int, b0, b1, b2 *float64, k int, c *float64, ldc int)

func panel(a []float64, lda, blocks int, b0, b1, b2 []float64, k int, c []float64, ldc int) {
	if !useAsm {
		panelGo(a, lda, blocks, b0, b1, b2, k, c, ldc)
		return
	}
	// The bounds the assembly relies on, checked once per call.
	_ = a[(tileM*blocks-1)*lda+k-1]
	_, _, _ = b0[k-1], b1[k-1], b2[k-1]
	_ = c[(tileM*blocks-1)*ldc+tileN-1]
	panelAVX2(&a[0], lda, blocks, &b0[0], &b1[0], &b2[0], k, &c[0], ldc)
}
