package boundary_test

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/eosweep/eosweep/coordinator/boundary"
	"github.com/eosweep/eosweep/coordinator/boundary/sweeptest"
	"github.com/eosweep/eosweep/coordinator/spec"
)

// refinedSweep runs an example spec in process with refinement (sweeptest.Run).
func refinedSweep(t *testing.T, example string) (*spec.Spec, []boundary.Group, []boundary.Trial) {
	t.Helper()
	yaml, err := os.ReadFile(filepath.Join("..", "..", "examples", example))
	if err != nil {
		t.Fatal(err)
	}
	res, err := sweeptest.Run(context.Background(), yaml)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d grid trials, %d refinement rounds, %d trials in all", res.Spec.Name, res.Grid, res.Rounds, len(res.Analysis.Trials))
	return res.Spec, res.Analysis.Groups, res.Analysis.Trials
}

// uniformCount is the number of trials of a uniform log grid over the spec's
// η range whose spacing is the finest final bracket (the same resolution).
func uniformCount(sp *spec.Spec, groups []boundary.Group) int {
	var etas []float64
	other := 1
	for _, a := range sp.Grid {
		if a.Name == "eta" {
			etas = a.Values
		} else {
			other *= len(a.Values)
		}
	}
	width := math.Inf(1)
	for _, g := range groups {
		width = math.Min(width, math.Log(g.Bracket.High/g.Bracket.Low))
	}
	return (int(math.Ceil(math.Log(etas[len(etas)-1]/etas[0])/width)) + 1) * other
}

// examples/mean-widths.yaml: the mean model's η* = 16π/m, recovered within 2% for every
// width, with at most 40% of the trials of an equally fine uniform grid.
func TestRecoverMeanBoundary(t *testing.T) {
	t.Parallel()
	sp, groups, trials := refinedSweep(t, "mean-widths.yaml")
	for _, g := range groups {
		theory := 16 * math.Pi / g.Key["width"]
		t.Logf("m=%-2g η*=%.4f [%.4f, %.4f] (%s)  16π/m=%.4f  ratio %.4f  bracket [%.4f, %.4f]  onset ratio %.4f (%s)",
			g.Key["width"], g.EtaStar, g.CI.Low, g.CI.High, g.Fit, theory, g.EtaStar/theory, g.Bracket.Low, g.Bracket.High, g.Onset/theory, g.OnsetForm)
		if g.Crossing != boundary.CrossingInside || math.Abs(g.EtaStar/theory-1) > 0.02 {
			t.Errorf("width %g: η* = %g (%s), want within 2%% of 16π/m = %g", g.Key["width"], g.EtaStar, g.Crossing, theory)
		}
		if math.Abs(g.Onset/theory-1) > 0.05 { // the hinge onset, independent of bias_eps
			t.Errorf("width %g: onset = %g (%s), want within 5%% of 16π/m = %g", g.Key["width"], g.Onset, g.OnsetForm, theory)
		}
	}
	uniform := uniformCount(sp, groups)
	t.Logf("refined sweep: %d trials; uniform log grid at the same resolution: %d trials (%.1f%%)",
		len(trials), uniform, 100*float64(len(trials))/float64(uniform))
	if float64(len(trials)) > 0.4*float64(uniform) {
		t.Errorf("refined sweep used %d trials, more than 40%% of %d", len(trials), uniform)
	}
}

// examples/single-x0.yaml: the single model's η* = 8/x₀², recovered within 2%.
func TestRecoverSingleBoundary(t *testing.T) {
	t.Parallel()
	_, groups, _ := refinedSweep(t, "single-x0.yaml")
	for _, g := range groups {
		x0 := g.Key["x0"]
		theory := 8 / (x0 * x0)
		t.Logf("x0=%g η*=%.4f [%.4f, %.4f] (%s)  8/x0²=%.4f  ratio %.4f  onset ratio %.4f (%s)",
			x0, g.EtaStar, g.CI.Low, g.CI.High, g.Fit, theory, g.EtaStar/theory, g.Onset/theory, g.OnsetForm)
		if g.Crossing != boundary.CrossingInside || math.Abs(g.EtaStar/theory-1) > 0.02 {
			t.Errorf("x0 %g: η* = %g (%s), want within 2%% of 8/x0² = %g", x0, g.EtaStar, g.Crossing, theory)
		}
		if math.Abs(g.Onset/theory-1) > 0.05 {
			t.Errorf("x0 %g: onset = %g (%s), want within 5%% of 8/x0² = %g", x0, g.Onset, g.OnsetForm, theory)
		}
	}
}
