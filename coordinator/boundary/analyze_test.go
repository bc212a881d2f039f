package boundary

import (
	"errors"
	"math"
	"testing"

	"github.com/eosweep/eosweep/engine"
)

// sparseSweep is a synthetic sparse sweep over widths with seed-dependent
// plateaus: bias = plateau − 0.6·(log η/η*)₊ with η* = 8π/d², and initial
// sharpness (10, 20, 30)·d²/(4π)/20 for seeds 0, 1, 2.
func sparseSweep(widths []float64, grid []float64) []Trial {
	var trials []Trial
	for _, d := range widths {
		star := 8 * math.Pi / (d * d)
		for seed := range 3 {
			plateau := -0.1 * float64(1+seed)
			s0 := float64(10*(1+seed)) * d * d / (4 * math.Pi) / 20
			for _, eta := range grid {
				b := plateau - 0.6*math.Max(math.Log(eta/star), 0)
				trials = append(trials, trial(eta, float64(seed), map[string]float64{"width": d}, b, s0))
			}
		}
	}
	return trials
}

func TestAnalyzeSparseSynthetic(t *testing.T) {
	t.Parallel()
	widths := []float64{100, 200}
	trials := sparseSweep(widths, logGrid(1e-4, 2e-2, 12))
	a, err := Analyze(trials, Options{Model: engine.ModelSparse, GroupBy: []string{"width"}, BiasEps: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	groups := a.Groups
	if len(groups) != 2 {
		t.Fatalf("%d groups, want 2", len(groups))
	}
	for i, g := range groups {
		d := widths[i]
		star := 8 * math.Pi / (d * d)
		if g.Key["width"] != d || g.Trials != 36 || len(g.Rows) != 12 {
			t.Errorf("group %d: key %v, %d trials, %d rows", i, g.Key, g.Trials, len(g.Rows))
		}
		if g.Crossing != CrossingInside || !(g.Bracket.Low < star && star < g.Bracket.High) {
			t.Errorf("width %g: crossing %s bracket %v, want inside around %g", d, g.Crossing, g.Bracket, star)
		}
		if g.Theory == nil || math.Abs(*g.Theory-star) > 1e-15 {
			t.Errorf("width %g: theory %v, want %g", d, g.Theory, star)
		}
		if want := 2 / (d * d / (4 * math.Pi)); math.Abs(g.Stability/want-1) > 1e-12 {
			t.Errorf("width %g: stability %g, want 2/median(S₀) = %g", d, g.Stability, want)
		}
		if g.Fit != FitSeparated || !(g.CI.Low < star && star < g.CI.High) {
			t.Errorf("width %g: fit %s ci %v, want separated around %g", d, g.Fit, g.CI, star)
		}
		if math.Abs(g.Onset/star-1) > 0.01 || !(g.OnsetCI.Low <= star && star <= g.OnsetCI.High) {
			t.Errorf("width %g: onset %g %v, want %g", d, g.Onset, g.OnsetCI, star)
		}
		for _, r := range g.Rows { // plateaus differ by seed, drops do not
			wantDrop := 0.6 * math.Max(math.Log(r.Eta/star), 0)
			if math.Abs(r.MeanDrop-wantDrop) > 1e-12 || r.StdDrop > 1e-12 || r.StdBias < 0.09 {
				t.Errorf("width %g η %g: drop %g±%g (bias spread %g), want %g±0", d, r.Eta, r.MeanDrop, r.StdDrop, r.StdBias, wantDrop)
			}
			if learned := wantDrop > 0.01; (r.Fraction == 1) != learned || r.Learned != 3*boolInt(learned) {
				t.Errorf("width %g η %g: fraction %g, learned %d, want all %v", d, r.Eta, r.Fraction, r.Learned, learned)
			}
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Diverged trials count in Seeds and Diverged, never as learned, and leave the
// fraction's denominator; a row where every seed diverged is skipped by the
// bracket.
func TestAnalyzeDiverged(t *testing.T) {
	t.Parallel()
	etas := []float64{1, 2, 4, 8}
	var trials []Trial
	for seed := range 4 {
		for _, eta := range etas {
			b := 0.0
			if eta >= 4 && seed > 0 {
				b = -1
			}
			tr := trial(eta, float64(seed), nil, b, 1)
			tr.Result.MaxEOSRatio = float64(seed + 1)
			if eta == 8 || (eta == 4 && seed == 0) {
				tr.Result.Diverged, tr.Result.FinalBias, tr.Result.MaxEOSRatio = true, -50, 1e3
			}
			trials = append(trials, tr)
		}
	}
	a, err := Analyze(trials, Options{Model: engine.ModelSingle, BiasEps: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	g := a.Groups[0]
	r4, r8 := g.Rows[2], g.Rows[3]
	if r4.Seeds != 4 || r4.Diverged != 1 || r4.Learned != 3 || r4.Fraction != 1 || r4.MeanBias != -1 {
		t.Errorf("η=4 row %+v, want 4 seeds, 1 diverged, 3/3 learned, mean bias −1", r4)
	}
	if r4.MeanMaxEOSRatio != 3 || r4.StdMaxEOSRatio != 1 { // seeds 1–3: 2, 3, 4; the diverged one left out
		t.Errorf("η=4 row: max_eos_ratio mean %g sd %g, want 3 and 1", r4.MeanMaxEOSRatio, r4.StdMaxEOSRatio)
	}
	if r8.Diverged != 4 || r8.Learned != 0 || r8.Fraction != 0 {
		t.Errorf("η=8 row %+v, want all diverged, none learned", r8)
	}
	if g.Crossing != CrossingInside || g.Bracket != (Interval{2, 4}) || g.Trials != 16 {
		t.Errorf("crossing %s bracket %v trials %d, want inside [2, 4], 16", g.Crossing, g.Bracket, g.Trials)
	}
	if g.Theory == nil || *g.Theory != 2 { // single: 8/x0² at the default x0 = 2
		t.Errorf("theory %v, want 2", g.Theory)
	}
}

func TestFindBracket(t *testing.T) {
	t.Parallel()
	row := func(eta, frac float64, div int) EtaRow {
		return EtaRow{Eta: eta, Fraction: frac, Seeds: 2, Diverged: div}
	}
	cases := []struct {
		name string
		rows []EtaRow
		c    Crossing
		b    Interval
	}{
		{"inside", []EtaRow{row(1, 0, 0), row(2, 0.5, 0), row(3, 1, 0)}, CrossingInside, Interval{1, 2}},
		{"first crossing wins", []EtaRow{row(1, 0, 0), row(2, 1, 0), row(3, 0, 0), row(4, 1, 0)}, CrossingInside, Interval{1, 2}},
		{"below", []EtaRow{row(1, 1, 0), row(2, 1, 0)}, CrossingBelow, Interval{1, 1}},
		{"above", []EtaRow{row(1, 0, 0), row(2, 0, 0)}, CrossingAbove, Interval{2, 2}},
		{"diverged row skipped", []EtaRow{row(1, 0, 0), row(2, 0, 2), row(3, 1, 0)}, CrossingInside, Interval{1, 3}},
		{"empty", nil, CrossingAbove, Interval{}},
	}
	for _, c := range cases {
		if got, b := findBracket(c.rows); got != c.c || b != c.b {
			t.Errorf("%s: %s %v, want %s %v", c.name, got, b, c.c, c.b)
		}
	}
}

// The plateau is taken at the pinned reference η when given, else at the
// group's smallest η; the drop is measured from it.
func TestOrderParameterReferenceEta(t *testing.T) {
	t.Parallel()
	trials := []Trial{
		trial(1, 0, nil, 0.05, 1), // below the reference: drifts upward
		trial(2, 0, nil, 0, 1),
		trial(4, 0, nil, -0.5, 1),
	}
	for _, c := range []struct {
		ref     float64
		plateau float64
		learned []bool
	}{
		{0, 0.05, []bool{false, true, true}},
		{2.1, 0, []bool{false, false, true}}, // nearest grid η is 2
	} {
		a, err := Analyze(trials, Options{Model: engine.ModelSingle, BiasEps: 0.01, ReferenceEta: c.ref})
		if err != nil {
			t.Fatal(err)
		}
		for i, o := range a.OrderParameters {
			if o.Plateau != c.plateau || o.Learned != c.learned[i] || o.Drop != c.plateau-trials[i].Result.FinalBias {
				t.Errorf("ref %g trial %d: %+v, want plateau %g learned %v", c.ref, i, o, c.plateau, c.learned[i])
			}
		}
	}
}

func TestAnalyzeErrors(t *testing.T) {
	t.Parallel()
	ok := []Trial{trial(1, 0, nil, 0, 1)}
	cases := []struct {
		name   string
		trials []Trial
		opt    Options
		want   error
	}{
		{"no model", ok, Options{}, ErrNoModel},
		{"unknown model", ok, Options{Model: "nope"}, engine.ErrUnknownModel},
		{"axis the model lacks", ok, Options{Model: engine.ModelSingle, GroupBy: []string{"width"}}, engine.ErrUnknownParam},
		{"missing eta", []Trial{{Params: map[string]float64{"seed": 0}}}, Options{Model: engine.ModelSingle}, engine.ErrBadParam},
	}
	for _, c := range cases {
		if _, err := Analyze(c.trials, c.opt); !errors.Is(err, c.want) {
			t.Errorf("%s: error %v, want %v", c.name, err, c.want)
		}
	}
	if a, err := Analyze(nil, Options{Model: engine.ModelMean}); err != nil || len(a.Groups) != 0 {
		t.Errorf("no trials: %v, %v; want no groups, no error", a.Groups, err)
	}
}
