package kernel

// Row kernels of the threshold activation g_b(z) = ReLU(z+b) − ReLU(b−z) and
// its slopes ∂g/∂z = p+q, ∂g/∂b = p−q with p = [z+b > 0], q = [b−z > 0]: the
// elementwise passes of the relu model over one neuron's row of Zᵀ (one entry
// per sample). Each runs as AVX2 assembly over the first len &^ 3 entries where
// available and as Go otherwise, the remaining entries in Go; the two paths
// perform the same roundings in the same order (no fused operations), so they
// agree bit for bit. Sums are kept in four lanes (entry k in lane k mod 4),
// reduced as (l0+l1)+(l2+l3), then the tail entries are added in order.

// Act is the threshold activation g_b(z) = ReLU(z+b) − ReLU(b−z).
func Act(z, b float64) float64 { return pos(z+b) - pos(b-z) }

// Step is the Heaviside step [x > 0] as 0 or 1 (0 at 0 and for NaN).
func Step(x float64) float64 {
	var s int
	if x > 0 {
		s = 1
	}
	return float64(s)
}

// pos is ReLU(x) with the assembly's conventions: 0 for x ≤ 0 and for NaN.
func pos(x float64) float64 {
	if x > 0 {
		return x
	}
	return 0
}

// slopes returns p+q and p−q at (z, b).
func slopes(z, b float64) (dz, db float64) {
	p, q := Step(z+b), Step(b-z)
	return p + q, p - q
}

// AccAct sets f[k] += a·g_b(z[k]) for every k (len(f) ≥ len(z)).
func AccAct(f, z []float64, a, b float64) {
	f = f[:len(z)]
	n4 := len(z) &^ 3
	if n4 > 0 {
		accActBody(f[:n4], z[:n4], a, b)
	}
	for k := n4; k < len(z); k++ {
		f[k] += float64(a * Act(z[k], b))
	}
}

func accActGo(f, z []float64, a, b float64) {
	f = f[:len(z)]
	for k, zk := range z {
		f[k] += float64(a * Act(zk, b))
	}
}

// BackAct is the backprop pass of one neuron with output weight a: it sets
// d[k] = (r[k]·a)·(p+q)_k and returns Σ_k r[k]·g_k and Σ_k r[k]·(p−q)_k, with
// z[k] the neuron's pre-activations and r[k] = ∂L/∂f_k.
func BackAct(d, z, r []float64, a, b float64) (sg, sdb float64) {
	d, r = d[:len(z)], r[:len(z)]
	n4 := len(z) &^ 3
	if n4 > 0 {
		sg, sdb = backActBody(d[:n4], z[:n4], r[:n4], a, b)
	}
	for k := n4; k < len(z); k++ {
		dz, db := slopes(z[k], b)
		d[k] = float64(r[k]*a) * dz
		sg += float64(r[k] * Act(z[k], b))
		sdb += float64(r[k] * db)
	}
	return sg, sdb
}

func backActGo(d, z, r []float64, a, b float64) (sg, sdb float64) {
	d, r = d[:len(z)], r[:len(z)]
	var lg, lb [4]float64
	for k := 0; k+3 < len(z); k += 4 {
		for l := range 4 {
			dz, db := slopes(z[k+l], b)
			d[k+l] = float64(r[k+l]*a) * dz
			lg[l] += float64(r[k+l] * Act(z[k+l], b))
			lb[l] += float64(r[k+l] * db)
		}
	}
	return (lg[0] + lg[1]) + (lg[2] + lg[3]), (lb[0] + lb[1]) + (lb[2] + lb[3])
}

// JVPAct adds one neuron's part of the directional derivative of the outputs:
// jv[k] += a·((p+q)_k·zv[k] + (p−q)_k·c) + u·g_k, for a direction with
// pre-activations zv, output weight u and bias c.
func JVPAct(jv, z, zv []float64, a, u, b, c float64) {
	jv, zv = jv[:len(z)], zv[:len(z)]
	n4 := len(z) &^ 3
	if n4 > 0 {
		jvpActBody(jv[:n4], z[:n4], zv[:n4], a, u, b, c)
	}
	for k := n4; k < len(z); k++ {
		jv[k] += jvpTerm(z[k], zv[k], a, u, b, c)
	}
}

func jvpTerm(z, zv, a, u, b, c float64) float64 {
	dz, db := slopes(z, b)
	t := float64(dz*zv) + float64(db*c)
	return float64(a*t) + float64(u*Act(z, b))
}

func jvpActGo(jv, z, zv []float64, a, u, b, c float64) {
	jv, zv = jv[:len(z)], zv[:len(z)]
	for k, zk := range z {
		jv[k] += jvpTerm(zk, zv[k], a, u, b, c)
	}
}

// HVPBack is the HVP's backward pass of one neuron (output weight a, direction
// weight u, direction bias c): with e_k = s[k]·a + r[k]·u it sets
// back[k] = (p+q)_k·e_k and returns
// Σ_k s[k]·g_k + r[k]·((p+q)_k·zv[k] + (p−q)_k·c) and Σ_k (p−q)_k·e_k.
func HVPBack(back, z, zv, s, r []float64, a, u, b, c float64) (sa, sb float64) {
	back, zv, s, r = back[:len(z)], zv[:len(z)], s[:len(z)], r[:len(z)]
	n4 := len(z) &^ 3
	if n4 > 0 {
		sa, sb = hvpBackBody(back[:n4], z[:n4], zv[:n4], s[:n4], r[:n4], a, u, b, c)
	}
	for k := n4; k < len(z); k++ {
		var ta, tb float64
		back[k], ta, tb = hvpBackTerm(z[k], zv[k], s[k], r[k], a, u, b, c)
		sa += ta
		sb += tb
	}
	return sa, sb
}

func hvpBackTerm(z, zv, s, r, a, u, b, c float64) (back, ta, tb float64) {
	dz, db := slopes(z, b)
	e := float64(s*a) + float64(r*u)
	t := float64(dz*zv) + float64(db*c)
	return dz * e, float64(s*Act(z, b)) + float64(r*t), db * e
}

func hvpBackGo(back, z, zv, s, r []float64, a, u, b, c float64) (sa, sb float64) {
	back, zv, s, r = back[:len(z)], zv[:len(z)], s[:len(z)], r[:len(z)]
	var la, lb [4]float64
	for k := 0; k+3 < len(z); k += 4 {
		for l := range 4 {
			var ta, tb float64
			back[k+l], ta, tb = hvpBackTerm(z[k+l], zv[k+l], s[k+l], r[k+l], a, u, b, c)
			la[l] += ta
			lb[l] += tb
		}
	}
	return (la[0] + la[1]) + (la[2] + la[3]), (lb[0] + lb[1]) + (lb[2] + lb[3])
}
