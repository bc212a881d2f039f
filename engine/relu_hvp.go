package engine

import "github.com/eosweep/eosweep/engine/internal/kernel"

// hvp sets dst = ∇²L(θ)·v, exactly (almost everywhere, where the second derivative of ReLU vanishes). The last
// forward pass must have been forward(θ, true): hvp reuses its Zᵀ, r and h, so
// the Lanczos iterations at one θ share a single forward pass.
//
// With v = (V, u, c) and J the Jacobian of the outputs f,
//
//	∇²L·v = Σ_k h_k·(J_k·v)·∇f_k + Σ_k r_k·∇²f_k·v,
//
// the Gauss–Newton term and the cross terms between a_i and (w_i, b), the only
// second derivatives of f that survive:
//
//	J_k·v   = Σ_i a_i(p+q)_ik·⟨v_i, x_k⟩ + u_i·g_ik + c·a_i(p−q)_ik
//	(∇²f_k·v)_{a_i} = (p+q)_ik·⟨v_i, x_k⟩ + c·(p−q)_ik
//	(∇²f_k·v)_{w_i} = u_i·(p+q)_ik·x_k
//	(∇²f_k·v)_b     = Σ_i u_i·(p−q)_ik.
//
// With s_k = h_k·J_k·v and e_ik = s_k·a_i + r_k·u_i this is
// (∇²L·v)_W = Eᵀ·X with E_ik = (p+q)_ik·e_ik, (∇²L·v)_b = Σ_ik (p−q)_ik·e_ik and
// (∇²L·v)_{a_i} = Σ_k s_k·g_ik + r_k·((p+q)_ik·⟨v_i, x_k⟩ + c·(p−q)_ik):
// two matrix products, V·Xᵀ and Eᵀ·X, as for a gradient.
func (md *relu) hvp(dst, theta, v []float64) {
	n, m, d := md.n, md.m, md.d
	_, a, b := md.split(theta)
	vw, u, c := md.split(v)
	hw, ha, _ := md.split(dst)
	kernel.GemmNT(m, n, d, vw, d, md.x, d, md.zv, n)

	jv := md.jv[:n]
	clear(jv)
	for i, ai := range a {
		kernel.JVPAct(jv, md.z[i*n:(i+1)*n], md.zv[i*n:(i+1)*n], ai, u[i], b, c)
	}
	for k, hk := range md.h[:n] {
		jv[k] *= hk // now s_k = h_k·J_k·v
	}
	var hb float64
	for i, ai := range a {
		sa, sb := kernel.HVPBack(md.back[i*n:(i+1)*n], md.z[i*n:(i+1)*n], md.zv[i*n:(i+1)*n], jv, md.r[:n], ai, u[i], b, c)
		ha[i] = sa
		hb += sb
	}
	dst[m*d+m] = hb
	kernel.GemmNT(m, d, n, md.back, n, md.xt, n, hw, d)
}

// accuracy is the fraction of training and test samples with y·f(x) > 0.
func (md *relu) accuracy(theta []float64) (train, test float64) {
	md.forward(theta, false)
	right := 0
	for k, yk := range md.y[:md.n] {
		if yk*md.f[k] > 0 {
			right++
		}
	}
	train = float64(right) / float64(md.n)
	if md.nTest == 0 {
		return train, 0
	}
	nt, m := md.nTest, md.m
	w, a, b := md.split(theta)
	kernel.GemmNT(m, nt, md.d, w, md.d, md.xTest, md.d, md.zTest, nt)
	right = 0
	for k, yk := range md.yTest {
		var f float64
		for i, ai := range a {
			f += ai * kernel.Act(md.zTest[i*nt+k], b)
		}
		if yk*f > 0 {
			right++
		}
	}
	return train, float64(right) / float64(nt)
}

// dead reports whether every neuron is off on every training sample:
// ReLU(z+b) = ReLU(b−z) = 0, i.e. |⟨w_i, x_k⟩| ≤ −b, so the output is 0.
func (md *relu) dead(theta []float64) bool {
	w, _, b := md.split(theta)
	if b > 0 {
		return false
	}
	kernel.GemmNT(md.m, md.n, md.d, w, md.d, md.x, md.d, md.z, md.n)
	for _, z := range md.z {
		if z+b > 0 || b-z > 0 {
			return false
		}
	}
	return true
}

// dump adds the data, θ₀ as W0, a0, b0 and θ as W, a, b.
func (md *relu) dump(d Dump, theta0, theta []float64) {
	d["X"] = matrix(md.x, md.n, md.d)
	d["y"] = vector(md.y)
	d["X_test"] = matrix(md.xTest, md.nTest, md.d)
	d["y_test"] = vector(md.yTest)
	for _, p := range []struct {
		suffix string
		theta  []float64
	}{{"0", theta0}, {"", theta}} {
		w, a, b := md.split(p.theta)
		d["W"+p.suffix] = matrix(w, md.m, md.d)
		d["a"+p.suffix] = vector(a)
		d["b"+p.suffix] = scalar(b)
	}
}
