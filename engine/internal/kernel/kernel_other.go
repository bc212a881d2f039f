//go:build !amd64 || purego

package kernel

// hasAVX2FMA is false: there are no assembly kernels on this platform.
const hasAVX2FMA = false

// useAsm is false: only the pure-Go kernels exist here.
var useAsm = false

func panel(a []float64, lda, blocks int, b0, b1, b2 []float64, k int, c []float64, ldc int) {
	panelGo(a, lda, blocks, b0, b1, b2, k, c, ldc)
}

func accActBody(f, z []float64, a, b float64) { accActGo(f, z, a, b) }

func backActBody(d, z, r []float64, a, b float64) (sg, sdb float64) {
	return backActGo(d, z, r, a, b)
}

func jvpActBody(jv, z, zv []float64, a, u, b, c float64) { jvpActGo(jv, z, zv, a, u, b, c) }

func hvpBackBody(back, z, zv, s, r []float64, a, u, b, c float64) (sa, sb float64) {
	return hvpBackGo(back, z, zv, s, r, a, u, b, c)
}
