//go:build amd64 && !purego

package kernel

import "golang.org/x/sys/cpu"

// hasAVX2FMA reports whether the assembly kernels can run here.
var hasAVX2FMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// useAsm selects the assembly kernels; tests switch it off to check the
// pure-Go twins.
var useAsm = hasAVX2FMA

// The assembly kernels. Each reads and writes exactly the entries its Go twin
// does; the Go wrappers below check the bounds once per call.

//go:noescape
func panelAVX2(a *float64, lda, blocks int, b0, b1, b2 *float64, k int, c *float64, ldc int)

//go:noescape
func accActAVX2(f, z []float64, a, b float64)

//go:noescape
func backActAVX2(d, z, r []float64, a, b float64) (sg, sdb float64)

//go:noescape
func jvpActAVX2(jv, z, zv []float64, a, u, b, c float64)

//go:noescape
func hvpBackAVX2(back, z, zv, s, r []float64, a, u, b, c float64) (sa, sb float64)

// panel is panelGo, in assembly when available: row r of a is at a[r·lda:],
// row r of c at c[r·ldc:].
func panel(a []float64, lda, blocks int, b0, b1, b2 []float64, k int, c []float64, ldc int) {
	if !useAsm {
		panelGo(a, lda, blocks, b0, b1, b2, k, c, ldc)
		return
	}
	_ = a[(tileM*blocks-1)*lda+k-1]
	_, _, _ = b0[k-1], b1[k-1], b2[k-1]
	_ = c[(tileM*blocks-1)*ldc+tileN-1]
	panelAVX2(&a[0], lda, blocks, &b0[0], &b1[0], &b2[0], k, &c[0], ldc)
}

// The row-kernel bodies take slices of equal length, a positive multiple of 4
// (the exported wrappers in act.go guarantee it).

func accActBody(f, z []float64, a, b float64) {
	if useAsm {
		accActAVX2(f, z, a, b)
		return
	}
	accActGo(f, z, a, b)
}

func backActBody(d, z, r []float64, a, b float64) (sg, sdb float64) {
	if useAsm {
		return backActAVX2(d, z, r, a, b)
	}
	return backActGo(d, z, r, a, b)
}

func jvpActBody(jv, z, zv []float64, a, u, b, c float64) {
	if useAsm {
		jvpActAVX2(jv, z, zv, a, u, b, c)
		return
	}
	jvpActGo(jv, z, zv, a, u, b, c)
}

func hvpBackBody(back, z, zv, s, r []float64, a, u, b, c float64) (sa, sb float64) {
	if useAsm {
		return hvpBackAVX2(back, z, zv, s, r, a, u, b, c)
	}
	return hvpBackGo(back, z, zv, s, r, a, u, b, c)
}
