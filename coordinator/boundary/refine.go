package boundary

import (
	"math"
	"sort"
)

// Narrow reports whether a bracket is narrower than tolerance relative to the
// boundary: (high − low)/√(low·high) ≤ tolerance (the log-midpoint of the
// bracket stands for η*).
func Narrow(b Interval, tolerance float64) bool {
	if !(b.Low > 0) || !(b.High >= b.Low) {
		return true
	}
	return (b.High-b.Low)/math.Sqrt(b.Low*b.High) <= tolerance
}

// Refine plans one round of adaptive refinement: for every group whose
// learned fraction crosses ½ inside its grid (Crossing Inside) and whose
// bracket is not Narrow, one new η at the bracket's log-midpoint √(low·high),
// for every seed of the group. A new trial's parameters are a copy of those
// of the same seed's trial nearest in log η, with "eta" replaced. Points that
// already exist (same group, seed and η up to 1e-9 relative) are not planned
// again. Groups whose crossing lies outside the grid get no points: bisection
// needs a bracket. The result is sorted by group, η and seed, and empty when
// every bracket is narrow or nothing new can be added.
//
// groups must come from Analyze over trials (Key is matched against Params).
func Refine(groups []Group, trials []Trial, tolerance float64) []map[string]float64 {
	var out []map[string]float64
	for _, g := range groups {
		if g.Crossing != CrossingInside || Narrow(g.Bracket, tolerance) {
			continue
		}
		mid := math.Sqrt(g.Bracket.Low * g.Bracket.High)
		if !(mid > g.Bracket.Low && mid < g.Bracket.High) {
			continue // the bracket cannot be split in float64
		}
		out = append(out, refineGroup(g.Key, trials, mid)...)
	}
	sort.SliceStable(out, func(i, j int) bool { return lessParams(out[i], out[j]) })
	return out
}

// refineGroup returns the new parameter sets at η = mid for the seeds of the
// group with the given key.
func refineGroup(key map[string]float64, trials []Trial, mid float64) []map[string]float64 {
	type seedPlan struct {
		template map[string]float64
		dist     float64
		exists   bool
	}
	plans := map[float64]*seedPlan{}
	var seeds []float64
	for i := range trials {
		p := trials[i].Params
		if !member(p, key) {
			continue
		}
		seed := p["seed"] // absent means the default seed 0
		eta, ok := p["eta"]
		if !ok || !(eta > 0) {
			continue
		}
		sp, ok := plans[seed]
		if !ok {
			sp = &seedPlan{dist: math.Inf(1)}
			plans[seed] = sp
			seeds = append(seeds, seed)
		}
		if math.Abs(eta-mid) <= 1e-9*mid {
			sp.exists = true
		}
		if d := math.Abs(math.Log(eta / mid)); d < sp.dist || (d == sp.dist && eta < sp.template["eta"]) {
			sp.template, sp.dist = p, d
		}
	}
	sort.Float64s(seeds)
	var out []map[string]float64
	for _, s := range seeds {
		sp := plans[s]
		if sp.exists {
			continue
		}
		p := make(map[string]float64, len(sp.template))
		for k, v := range sp.template {
			p[k] = v
		}
		p["eta"] = mid
		out = append(out, p)
	}
	return out
}

// member reports whether params carry every value of the group key.
func member(params, key map[string]float64) bool {
	for k, v := range key {
		if pv, ok := params[k]; !ok || pv != v {
			return false
		}
	}
	return true
}

// lessParams orders parameter sets by their sorted keys' values, with "eta"
// and "seed" compared last so that sets of one group stay together.
func lessParams(a, b map[string]float64) bool {
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	names := make([]string, 0, len(keys))
	for k := range keys {
		if k != "eta" && k != "seed" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	names = append(names, "eta", "seed")
	for _, k := range names {
		av, aok := a[k]
		bv, bok := b[k]
		if aok != bok {
			return !aok
		}
		if av != bv {
			return av < bv
		}
	}
	return false
}
