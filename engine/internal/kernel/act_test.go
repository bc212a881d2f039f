package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// refSlopes and refAct are the textbook definitions, with branches.
func refAct(z, b float64) float64 { return math.Max(z+b, 0) - math.Max(b-z, 0) }

func refSlopes(z, b float64) (dz, db float64) {
	var p, q float64
	if z+b > 0 {
		p = 1
	}
	if b-z > 0 {
		q = 1
	}
	return p + q, p - q
}

func TestActDefinition(t *testing.T) {
	t.Parallel()
	cases := []struct{ z, b, want float64 }{
		{0.3, 0, 0.3}, {-2, 0, -2}, // b = 0: the identity
		{0.3, 0.5, 0.6}, {-0.3, 0.5, -0.6}, {2, 0.5, 2.5}, {-2, 0.5, -2.5}, // b > 0: 2z inside, z ± b outside
		{0.3, -0.5, 0}, {-0.3, -0.5, 0}, {2, -0.5, 1.5}, {-2, -0.5, -1.5}, // b < 0: soft thresholding at |b|
	}
	for _, c := range cases {
		if got := Act(c.z, c.b); math.Abs(got-c.want) > 1e-15 {
			t.Errorf("Act(%v, %v) = %v, want %v", c.z, c.b, got, c.want)
		}
	}
	if Step(0) != 0 || Step(math.NaN()) != 0 || Step(1e-300) != 1 || Step(-1) != 0 {
		t.Error("Step: want [x > 0]")
	}
}

// actInputs returns length-n rows with entries drawn around ±b, including
// entries exactly at the kinks z = ±b and at 0.
func actInputs(seed uint64, n int, b float64) (z, other [4][]float64) {
	r := rand.New(rand.NewPCG(seed, uint64(n)))
	for i := range 4 {
		z[i], other[i] = make([]float64, n), make([]float64, n)
		for k := range n {
			other[i][k] = r.NormFloat64()
			switch r.IntN(8) {
			case 0:
				z[i][k] = b
			case 1:
				z[i][k] = -b
			case 2:
				z[i][k] = 0
			default:
				z[i][k] = 1.5 * r.NormFloat64()
			}
		}
	}
	return z, other
}

var actLens = []int{1, 3, 4, 5, 8, 13, 1000, 1003}

type actOut struct {
	rows   [][]float64
	scalar []float64
}

// runActKernels runs every row kernel on the same inputs and collects outputs.
func runActKernels(n int, b float64) actOut {
	zs, o := actInputs(uint64(1000*b+7), n, b)
	z, zv, s, r := zs[0], o[0], o[1], o[2]
	a, u, c := 0.7, -1.3, 0.4
	f := append([]float64(nil), o[3]...)
	AccAct(f, z, a, b)
	d := make([]float64, n)
	sg, sdb := BackAct(d, z, r, a, b)
	jv := append([]float64(nil), o[3]...)
	JVPAct(jv, z, zv, a, u, b, c)
	back := make([]float64, n)
	sa, sb := HVPBack(back, z, zv, s, r, a, u, b, c)
	return actOut{rows: [][]float64{f, d, jv, back}, scalar: []float64{sg, sdb, sa, sb}}
}

// refActKernels is runActKernels from the definitions, entry by entry.
func refActKernels(n int, b float64) (out actOut, scale []float64) {
	zs, o := actInputs(uint64(1000*b+7), n, b)
	z, zv, s, r := zs[0], o[0], o[1], o[2]
	a, u, c := 0.7, -1.3, 0.4
	f, d, jv, back := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	out.scalar, scale = make([]float64, 4), make([]float64, 4)
	for k := range n {
		g := refAct(z[k], b)
		dz, db := refSlopes(z[k], b)
		f[k] = o[3][k] + a*g
		d[k] = r[k] * a * dz
		out.scalar[0] += r[k] * g
		out.scalar[1] += r[k] * db
		jv[k] = o[3][k] + a*(dz*zv[k]+db*c) + u*g
		e := s[k]*a + r[k]*u
		back[k] = dz * e
		ta := s[k]*g + r[k]*(dz*zv[k]+db*c)
		out.scalar[2] += ta
		out.scalar[3] += db * e
		for i, v := range []float64{r[k] * g, r[k] * db, math.Abs(s[k]*g) + math.Abs(r[k]*(dz*zv[k]+db*c)), db * e} {
			scale[i] += math.Abs(v)
		}
	}
	out.rows = [][]float64{f, d, jv, back}
	return out, scale
}

// TestActKernelsReference holds every row kernel, with each implementation,
// against the definitions.
func TestActKernelsReference(t *testing.T) {
	for _, asm := range kernels() {
		for _, n := range actLens {
			for _, b := range []float64{-0.5, 0, 0.7} {
				t.Run(fmt.Sprintf("asm=%v/n=%d/b=%v", asm, n, b), func(t *testing.T) {
					withKernel(t, asm)
					got := runActKernels(n, b)
					want, scale := refActKernels(n, b)
					for i, row := range got.rows {
						for k, v := range row {
							if w := want.rows[i][k]; math.Abs(v-w) > 1e-14*(1+math.Abs(w)) {
								t.Fatalf("row output %d, entry %d: %v, want %v", i, k, v, w)
							}
						}
					}
					for i, v := range got.scalar {
						if w := want.scalar[i]; math.Abs(v-w) > 1e-14*(1+scale[i]) {
							t.Errorf("sum %d: %v, want %v", i, v, w)
						}
					}
				})
			}
		}
	}
}

// TestActKernelsAsmMatchesGo checks bit-identical results from the assembly
// and Go row kernels, kinks and zeros included.
func TestActKernelsAsmMatchesGo(t *testing.T) {
	if !hasAVX2FMA {
		t.Skip("no AVX2 assembly kernels on this machine")
	}
	for _, n := range actLens {
		for _, b := range []float64{-0.5, 0, 0.7} {
			var outs [2]actOut
			for i, asm := range []bool{false, true} {
				func() {
					withKernel(t, asm)
					outs[i] = runActKernels(n, b)
				}()
			}
			for i := range outs[0].rows {
				for k := range outs[0].rows[i] {
					if x, y := outs[0].rows[i][k], outs[1].rows[i][k]; math.Float64bits(x) != math.Float64bits(y) {
						t.Fatalf("n=%d b=%v: row output %d entry %d: go %v, asm %v", n, b, i, k, x, y)
					}
				}
			}
			for i := range outs[0].scalar {
				if x, y := outs[0].scalar[i], outs[1].scalar[i]; math.Float64bits(x) != math.Float64bits(y) {
					t.Fatalf("n=%d b=%v: sum %d: go %v, asm %v", n, b, i, x, y)
				}
			}
		}
	}
}
