package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// gemmRef is the naive C = A·Bᵀ, also returning the scale Σ|a||b| of each
// entry for a rounding-error bound.
func gemmRef(m, n, k int, a []float64, lda int, b []float64, ldb int) (c, scale []float64) {
	c = make([]float64, m*n)
	scale = make([]float64, m*n)
	for i := range m {
		for j := range n {
			var s, t float64
			for q := range k {
				s += a[i*lda+q] * b[j*ldb+q]
				t += math.Abs(a[i*lda+q] * b[j*ldb+q])
			}
			c[i*n+j], scale[i*n+j] = s, t
		}
	}
	return c, scale
}

func randSlice(r *rand.Rand, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = r.NormFloat64()
	}
	return x
}

type shape struct{ m, n, k, pad int }

var shapes = []shape{
	{1, 1, 1, 0}, {1, 1, 4, 0}, {4, 3, 4, 0}, {4, 3, 8, 1}, {5, 7, 3, 2}, {3, 2, 9, 0},
	{7, 5, 13, 3}, {20, 17, 200, 0}, {21, 1000, 203, 5}, {20, 200, 1000, 0}, {2, 11, 1, 1},
	{9, 4, 0, 0}, {0, 5, 5, 0}, {6, 0, 5, 2},
}

// kernels lists the micro-kernels available here, by name.
func kernels() []bool {
	if hasAVX2FMA {
		return []bool{false, true}
	}
	return []bool{false}
}

func withKernel(t testing.TB, asm bool) {
	old := useAsm
	useAsm = asm
	t.Cleanup(func() { useAsm = old })
}

// TestGemmNTReference holds GemmNT, with each micro-kernel, against the naive
// product on shapes that exercise every edge: partial tiles in both
// directions, k not a multiple of 4 (or below 4), strides wider than rows,
// and empty matrices.
func TestGemmNTReference(t *testing.T) {
	for _, asm := range kernels() {
		for _, s := range shapes {
			t.Run(fmt.Sprintf("asm=%v/%dx%dx%d+%d", asm, s.m, s.n, s.k, s.pad), func(t *testing.T) {
				withKernel(t, asm)
				r := rand.New(rand.NewPCG(uint64(s.m), uint64(s.n*1000+s.k)))
				lda, ldb, ldc := s.k+s.pad, s.k+2*s.pad, s.n+s.pad
				a := randSlice(r, s.m*lda)
				b := randSlice(r, s.n*ldb)
				c := randSlice(r, s.m*ldc) // garbage that must be overwritten or kept
				before := append([]float64(nil), c...)
				GemmNT(s.m, s.n, s.k, a, lda, b, ldb, c, ldc)
				want, scale := gemmRef(s.m, s.n, s.k, a, lda, b, ldb)
				for i := range s.m {
					for j := range ldc {
						got := c[i*ldc+j]
						if j >= s.n {
							if got != before[i*ldc+j] {
								t.Fatalf("c[%d,%d] beyond n was written: %v", i, j, got)
							}
							continue
						}
						tol := 4 * float64(s.k+1) * 0x1p-52 * scale[i*s.n+j]
						if d := math.Abs(got - want[i*s.n+j]); d > tol {
							t.Fatalf("c[%d,%d] = %v, want %v (|diff| %g > %g)", i, j, got, want[i*s.n+j], d, tol)
						}
					}
				}
			})
		}
	}
}

// TestAsmMatchesGo checks that the assembly micro-kernel and its pure-Go twin
// give bit-identical products, so a trial is reproducible on any amd64 worker.
func TestAsmMatchesGo(t *testing.T) {
	if !hasAVX2FMA {
		t.Skip("no AVX2/FMA assembly kernel on this machine")
	}
	for _, s := range shapes {
		r := rand.New(rand.NewPCG(7, uint64(s.k)))
		lda, ldb, ldc := s.k+s.pad, s.k+s.pad, s.n
		a, b := randSlice(r, s.m*lda), randSlice(r, s.n*ldb)
		cAsm, cGo := make([]float64, s.m*ldc), make([]float64, s.m*ldc)
		func() {
			withKernel(t, true)
			GemmNT(s.m, s.n, s.k, a, lda, b, ldb, cAsm, ldc)
		}()
		func() {
			withKernel(t, false)
			GemmNT(s.m, s.n, s.k, a, lda, b, ldb, cGo, ldc)
		}()
		for i := range cAsm {
			if math.Float64bits(cAsm[i]) != math.Float64bits(cGo[i]) {
				t.Fatalf("%v: entry %d: asm %v != go %v", s, i, cAsm[i], cGo[i])
			}
		}
	}
}

func TestGemmNTShortPanics(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		a, b, c int // lengths
	}{
		{"a", 3*4 - 1, 2 * 4, 3 * 2},
		{"b", 3 * 4, 2*4 - 1, 3 * 2},
		{"c", 3 * 4, 2 * 4, 3*2 - 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("short %s did not panic", tc.name)
				}
			}()
			GemmNT(3, 2, 4, make([]float64, tc.a), 4, make([]float64, tc.b), 4, make([]float64, tc.c), 2)
		})
	}
}

func TestGemmNTAllocatesNothing(t *testing.T) {
	a, b, c := make([]float64, 20*200), make([]float64, 1000*200), make([]float64, 20*1000)
	if n := testing.AllocsPerRun(5, func() { GemmNT(20, 1000, 200, a, 200, b, 200, c, 1000) }); n != 0 {
		t.Errorf("GemmNT allocates %v times per call", n)
	}
}

// BenchmarkGemmNT runs the relu model's two product shapes at its defaults
// (m = 20 neurons, d = 200, n = 1000): the forward Zᵀ = W·Xᵀ (k = d) and the
// backward ∇W = Dᵀ·(Xᵀ)ᵀ (k = n), reporting GFLOP/s (2mnk flops per product).
func BenchmarkGemmNT(b *testing.B) {
	for _, asm := range kernels() {
		for _, s := range []shape{{20, 1000, 200, 0}, {20, 200, 1000, 0}} {
			b.Run(fmt.Sprintf("asm=%v/%dx%dx%d", asm, s.m, s.n, s.k), func(b *testing.B) {
				withKernel(b, asm)
				r := rand.New(rand.NewPCG(1, 2))
				x, y, c := randSlice(r, s.m*s.k), randSlice(r, s.n*s.k), make([]float64, s.m*s.n)
				b.ReportAllocs()
				for b.Loop() {
					GemmNT(s.m, s.n, s.k, x, s.k, y, s.k, c, s.n)
				}
				flops := 2 * float64(s.m*s.n*s.k) * float64(b.N)
				b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
