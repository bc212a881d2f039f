//go:build !amd64 || purego

package kernel

// hasAVX2FMA is false: there is no assembly micro-kernel on this platform.
const hasAVX2FMA = false

// useAsm is false: only the pure-Go micro-kernel exists here.
var useAsm = false

func panel(a []float64, lda, blocks int, b0, b1, b2 []float64, k int, c []float64, ldc int) {
	panelGo(a, lda, blocks, b0, b1, b2, k, c, ldc)
}
