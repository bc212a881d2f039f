package boundary

import (
	"math"
	"reflect"
	"testing"

	"github.com/eosweep/eosweep/engine"
)

// oracle is a synthetic mean-model trial: the bias drops by 0.5 above
// η* = 16π/m (seed-independent, as in the deterministic model).
func oracle(p map[string]float64) Trial {
	star := 16 * math.Pi / p["width"]
	b := 0.0
	if p["eta"] > star {
		b = -0.5
	}
	return Trial{Params: p, Result: engine.Result{FinalBias: b, InitialSharpness: 2 / star}}
}

// TestRefineConverges runs an initial log grid through the oracle, then
// refines round after round until Refine plans nothing: every bracket ends
// narrower than the tolerance around the true η*, in few rounds, with far
// fewer trials than a uniform grid of the same resolution.
func TestRefineConverges(t *testing.T) {
	t.Parallel()
	const tol, seeds = 0.01, 3
	widths := []float64{1, 2, 4, 8, 16}
	var trials []Trial
	for _, m := range widths {
		star := 16 * math.Pi / m
		for _, eta := range logGrid(star/2, star*2, 8) {
			for s := range seeds {
				trials = append(trials, oracle(map[string]float64{"eta": eta * 1.013, "seed": float64(s), "width": m}))
			}
		}
	}
	initial := len(trials)
	opt := Options{Model: engine.ModelMean, GroupBy: []string{"width"}, BiasEps: 0.01}
	rounds := 0
	var groups []Group
	for ; ; rounds++ {
		a, err := Analyze(trials, opt)
		if err != nil {
			t.Fatal(err)
		}
		groups = a.Groups
		next := Refine(groups, trials, tol)
		if len(next) == 0 {
			break
		}
		if rounds > 20 {
			t.Fatalf("refinement did not converge in 20 rounds")
		}
		if len(next) != len(widths)*seeds {
			t.Errorf("round %d planned %d trials, want one η per group for %d seeds", rounds, len(next), seeds)
		}
		for _, p := range next {
			trials = append(trials, oracle(p))
		}
	}
	// log range 4 bisected from spacing 4^(1/7) down to < 1%: ⌈log₂(0.198/0.01)⌉ = 5 rounds.
	if rounds > 5 {
		t.Errorf("took %d rounds, want ≤ 5", rounds)
	}
	for _, g := range groups {
		star := 16 * math.Pi / g.Key["width"]
		if !Narrow(g.Bracket, tol) || !(g.Bracket.Low < star && star <= g.Bracket.High) {
			t.Errorf("width %g: bracket %v not narrow around %g", g.Key["width"], g.Bracket, star)
		}
		if math.Abs(g.EtaStar/star-1) > tol {
			t.Errorf("width %g: η* %g, want %g within %g", g.Key["width"], g.EtaStar, star, tol)
		}
	}
	uniform := (int(math.Ceil(math.Log(4)/math.Log(1+tol))) + 1) * seeds * len(widths)
	t.Logf("%d rounds; refined sweep %d trials (initial %d), uniform log grid at the same resolution %d", rounds, len(trials), initial, uniform)
	if float64(len(trials)) > 0.4*float64(uniform) {
		t.Errorf("refined sweep used %d trials, more than 40%% of the uniform grid's %d", len(trials), uniform)
	}
}

func TestRefinePlan(t *testing.T) {
	t.Parallel()
	base := map[string]float64{"width": 4, "steps": 500}
	mk := func(eta, seed, bias float64) Trial {
		return trial(eta, seed, base, bias, 1)
	}
	trials := []Trial{
		mk(1, 0, 0), mk(4, 0, -1), mk(1, 1, 0), mk(4, 1, -1),
		mk(2, 1, 0),
		trial(1, 0, map[string]float64{"width": 8}, 0, 1), trial(4, 0, map[string]float64{"width": 8}, 0, 1), // never learns
	}
	a, err := Analyze(trials, Options{Model: engine.ModelMean, GroupBy: []string{"width"}})
	if err != nil {
		t.Fatal(err)
	}
	groups := a.Groups
	got := Refine(groups, trials, 0.01)
	// Width 4: η=2 has only seed 1, unlearned, so the bracket is [2, 4] and both
	// seeds get its log-midpoint √8. Width 8 never learns: no bracket, no points.
	if groups[0].Bracket != (Interval{2, 4}) || groups[1].Crossing != CrossingAbove {
		t.Fatalf("brackets %v (%s), %v (%s)", groups[0].Bracket, groups[0].Crossing, groups[1].Bracket, groups[1].Crossing)
	}
	want := []map[string]float64{
		{"eta": math.Sqrt(8), "seed": 0, "width": 4, "steps": 500},
		{"eta": math.Sqrt(8), "seed": 1, "width": 4, "steps": 500},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Refine = %v, want %v", got, want)
	}
	if again := Refine(groups, trials, 0.01); !reflect.DeepEqual(again, got) {
		t.Errorf("Refine is not deterministic: %v then %v", got, again)
	}
	if none := Refine(groups, trials, 2); len(none) != 0 {
		t.Errorf("Refine with a loose tolerance planned %v, want nothing", none)
	}
}

// A seed that lacks the midpoint gets it; one that has it does not.
func TestRefineSkipsExistingPoints(t *testing.T) {
	t.Parallel()
	trials := []Trial{
		trial(1, 0, nil, 0, 1), trial(4, 0, nil, -1, 1),
		trial(1, 1, nil, 0, 1), trial(4, 1, nil, -1, 1),
	}
	a, err := Analyze(trials, Options{Model: engine.ModelSingle})
	if err != nil {
		t.Fatal(err)
	}
	groups := a.Groups
	first := Refine(groups, trials, 0.01)
	if len(first) != 2 || first[0]["eta"] != 2 || first[0]["seed"] != 0 || first[1]["seed"] != 1 {
		t.Fatalf("Refine = %v, want η=2 for seeds 0 and 1", first)
	}
	trials = append(trials, trial(2, 1, nil, 0, 1)) // seed 1 ran; bracket unchanged
	if got := Refine(groups, trials, 0.01); len(got) != 1 || got[0]["seed"] != 0 {
		t.Errorf("Refine after a partial round = %v, want only seed 0", got)
	}
}

func TestNarrow(t *testing.T) {
	t.Parallel()
	cases := []struct {
		b    Interval
		tol  float64
		want bool
	}{
		{Interval{1, 1.01}, 0.02, true},
		{Interval{1, 1.03}, 0.02, false},
		{Interval{2, 2}, 0, true},
		{Interval{0, 1}, 0.5, true}, // degenerate: nothing to bisect in log η
	}
	for _, c := range cases {
		if got := Narrow(c.b, c.tol); got != c.want {
			t.Errorf("Narrow(%v, %g) = %v, want %v", c.b, c.tol, got, c.want)
		}
	}
}
