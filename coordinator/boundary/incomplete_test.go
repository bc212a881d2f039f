package boundary

import (
	"reflect"
	"slices"
	"testing"
)

// A sweep of single at η = 1, 2, 3, 4 and seeds 0, 1 whose bias drops below
// the plateau from η = 3 (the bracket is [2, 3]), with some trials moved out
// of the finished ones into the missing ones: the groups say which, and which
// estimates they could still move.
func TestAnalyzeIncompleteMarks(t *testing.T) {
	t.Parallel()
	type point struct{ eta, seed float64 }
	bias := func(eta float64) float64 {
		if eta >= 3 {
			return -0.5
		}
		return -0.1
	}
	grid := []point{}
	for _, eta := range []float64{1, 2, 3, 4} {
		for _, seed := range []float64{0, 1} {
			grid = append(grid, point{eta, seed})
		}
	}
	tests := []struct {
		name        string
		missing     []point
		extra       []point // missing trials at η not on the grid
		allLearned  bool    // every trial above the plateau: the crossing is above the grid
		bracket     bool    // want "bracket" in Unconverged
		ci          *bool   // want "ci" in Unconverged (nil: whatever the CI holds)
		wantBracket Interval
	}{
		{name: "complete", wantBracket: Interval{2, 3}},
		{name: "one seed missing at the crossing row: still ≥ ½", missing: []point{{3, 1}}, wantBracket: Interval{2, 3}},
		{name: "one seed missing below: could reach ½", missing: []point{{2, 0}}, bracket: true, wantBracket: Interval{2, 3}},
		{name: "the whole crossing row missing", missing: []point{{3, 0}, {3, 1}}, bracket: true, wantBracket: Interval{2, 4}},
		{name: "only missing trials at an η inside", extra: []point{{2.5, 0}}, bracket: true, wantBracket: Interval{2, 3}},
		{name: "above the crossing: the bracket stays", missing: []point{{4, 0}}, ci: new(false), wantBracket: Interval{2, 3}},
		{name: "never learned, a seed missing", missing: []point{{4, 1}}, allLearned: true, bracket: true, wantBracket: Interval{4, 4}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var done []Trial
			var miss []MissingTrial
			for _, p := range grid {
				b := bias(p.eta)
				if tc.allLearned {
					b = -0.1
				}
				if slices.Contains(tc.missing, p) {
					miss = append(miss, MissingTrial{ID: "m", Params: map[string]float64{"eta": p.eta, "seed": p.seed, "steps": 10},
						State: "failed", Attempt: 1, Error: "lease expired"})
					continue
				}
				tr := trial(p.eta, p.seed, map[string]float64{"steps": 10}, b, 1)
				done = append(done, tr)
			}
			for _, p := range tc.extra {
				miss = append(miss, MissingTrial{ID: "x", Params: map[string]float64{"eta": p.eta, "seed": p.seed, "steps": 10}, State: "pending"})
			}
			a, err := AnalyzeIncomplete(done, miss, Options{Model: "single"})
			if err != nil {
				t.Fatal(err)
			}
			if len(a.Groups) != 1 {
				t.Fatalf("%d groups", len(a.Groups))
			}
			g := a.Groups[0]
			if g.Bracket != tc.wantBracket {
				t.Errorf("bracket %v, want %v", g.Bracket, tc.wantBracket)
			}
			if g.Incomplete != (len(miss) > 0) || len(g.Missing) != len(miss) || g.Trials != len(done) {
				t.Errorf("incomplete %v, %d missing, %d trials; want %v, %d, %d", g.Incomplete, len(g.Missing), g.Trials, len(miss) > 0, len(miss), len(done))
			}
			if got := slices.Contains(g.Unconverged, EstimateBracket); got != tc.bracket {
				t.Errorf("bracket unconverged %v, want %v (unconverged %v)", got, tc.bracket, g.Unconverged)
			}
			inCI := false
			for _, m := range g.Missing {
				inCI = inCI || (m.Eta >= g.CI.Low && m.Eta <= g.CI.High) || g.Fit == FitNone
			}
			if tc.ci != nil && *tc.ci != inCI {
				t.Fatalf("case expects ci unconverged %v but a missing trial in the CI %v is %v", *tc.ci, g.CI, inCI)
			}
			if got := slices.Contains(g.Unconverged, EstimateCI); got != inCI {
				t.Errorf("ci %v unconverged %v, want %v", g.CI, got, inCI)
			}
			for i, m := range g.Missing {
				if i > 0 && (m.Eta < g.Missing[i-1].Eta || (m.Eta == g.Missing[i-1].Eta && m.Seed < g.Missing[i-1].Seed)) {
					t.Errorf("missing not sorted by η, seed: %v", g.Missing)
				}
				if m.State == "" || (m.State == "failed" && (m.Error != "lease expired" || m.Attempt != 1)) {
					t.Errorf("mark %+v lost its state or error", m)
				}
			}
		})
	}
}

// A group where no trial finished is still a group: no results, every
// estimate unconverged, its theory line from its missing trials. Diverged
// trials are listed by η and seed.
func TestAnalyzeIncompleteGroups(t *testing.T) {
	t.Parallel()
	var done []Trial
	for _, eta := range []float64{1, 2, 4, 8} {
		for _, seed := range []float64{0, 1} {
			done = append(done, trial(eta, seed, map[string]float64{"width": 4, "steps": 10}, -0.1, 1))
		}
	}
	done[len(done)-1].Result.Diverged = true
	done[len(done)-1].ID = "div"
	miss := []MissingTrial{
		{ID: "a", Params: map[string]float64{"eta": 1, "width": 8, "steps": 10}, State: "cancelled"},
		{ID: "b", Params: map[string]float64{"eta": 2, "width": 8, "steps": 10}, State: "leased", Attempt: 2},
	}
	a, err := AnalyzeIncomplete(done, miss, Options{Model: "mean", GroupBy: []string{"width"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Groups) != 2 || !reflect.DeepEqual(a.Missing, miss) {
		t.Fatalf("%d groups, missing %v", len(a.Groups), a.Missing)
	}
	w4, w8 := a.Groups[0], a.Groups[1]
	if w4.Incomplete || len(w4.Unconverged) != 0 || !reflect.DeepEqual(w4.Diverged, []Mark{{Trial: "div", Eta: 8, Seed: 1, State: StateDiverged}}) {
		t.Errorf("width 4: incomplete %v, unconverged %v, diverged %v", w4.Incomplete, w4.Unconverged, w4.Diverged)
	}
	want := []string{EstimateBracket, EstimateCI, EstimateOnsetCI}
	if w8.Key["width"] != 8 || w8.Trials != 0 || !w8.Incomplete || !reflect.DeepEqual(w8.Unconverged, want) || w8.Theory == nil || len(w8.Rows) != 0 {
		t.Errorf("width 8 (no results): %+v", w8)
	}
	if th := 16 * 3.141592653589793 / 8; w8.Theory != nil && (*w8.Theory-th)/th > 1e-12 {
		t.Errorf("width 8 theory %v, want 16π/8", *w8.Theory)
	}
}
