package report_test

import (
	"bytes"
	"context"
	"math"
	"os"
	"testing"
	"time"

	"github.com/eosweep/eosweep/coordinator/boundary"
	"github.com/eosweep/eosweep/coordinator/boundary/sweeptest"
	"github.com/eosweep/eosweep/coordinator/report"
)

// runExample runs an example spec in process with refinement, logs the
// boundary table and writes the report into $envOut (or a temporary dir).
func runExample(t *testing.T, example, envOut string) *sweeptest.Result {
	t.Helper()
	yaml, err := os.ReadFile("../../examples/" + example)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, err := sweeptest.Run(context.Background(), yaml)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d grid trials + %d refinement rounds = %d trials in %v", res.Grid, res.Rounds, len(res.Analysis.Trials), time.Since(start).Round(time.Second))
	var table bytes.Buffer
	if err := boundary.WriteTable(&table, res.Analysis.Groups); err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", table.String())
	out := os.Getenv(envOut)
	if out == "" {
		out = t.TempDir()
	}
	if err := report.Write(out, res.Analysis, report.Options{}); err != nil {
		t.Fatal(err)
	}
	return res
}

// TestFigure1 runs examples/figure1.yaml in process (about a minute on two
// cores, so opt-in: EOSWEEP_FIGURE1=1; EOSWEEP_FIGURE1_OUT=DIR keeps the
// report) and checks the paper's claim: the onset of the bias drop lies
// within 5% of η* = 8π/d² for every width.
func TestFigure1(t *testing.T) {
	if os.Getenv("EOSWEEP_FIGURE1") == "" {
		t.Skip("opt-in (a minute): set EOSWEEP_FIGURE1=1")
	}
	res := runExample(t, "figure1.yaml", "EOSWEEP_FIGURE1_OUT")
	for _, g := range res.Analysis.Groups {
		d := g.Key["width"]
		theory := 8 * math.Pi / (d * d)
		if math.Abs(g.Onset/theory-1) > 0.05 {
			t.Errorf("d=%g: onset %.4g [%.4g, %.4g] is not within 5%% of 8π/d² = %.4g", d, g.Onset, g.OnsetCI.Low, g.OnsetCI.High, theory)
		}
	}
}

// TestExampleReport runs any example spec in process and writes its report:
// a measurement harness, opt-in with EOSWEEP_EXAMPLE=NAME.yaml (from
// examples/) and EOSWEEP_EXAMPLE_OUT=DIR. It fails only if the sweep or the
// report fails; the boundary table is in the log.
func TestExampleReport(t *testing.T) {
	name := os.Getenv("EOSWEEP_EXAMPLE")
	if name == "" {
		t.Skip("opt-in: set EOSWEEP_EXAMPLE=NAME.yaml (and EOSWEEP_EXAMPLE_OUT=DIR)")
	}
	res := runExample(t, name, "EOSWEEP_EXAMPLE_OUT")
	for _, g := range res.Analysis.Groups {
		t.Logf("%v: η* = %.4g [%.4g, %.4g] (%s), onset %.4g (%s), 2/S₀ = %.4g, η*·S₀/2 = %.3f",
			g.Key, g.EtaStar, g.CI.Low, g.CI.High, g.Fit, g.Onset, g.OnsetForm, g.Stability, g.EtaStar/g.Stability)
	}
}
