package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/eosweep/eosweep/coordinator/boundary/sweeptest"
	"github.com/eosweep/eosweep/coordinator/report"
	"github.com/eosweep/eosweep/coordinator/spec"
)

// writeReport on a small real mean sweep writes every file and says where.
func TestWriteReport(t *testing.T) {
	t.Parallel()
	yaml := []byte(`
name: mean-small
model: mean
grid:
  eta: {logspace: [4, 40, 6]}
  width: [4, 8]
  seed: {range: [0, 2]}
params: {steps: 300}
`)
	res, err := sweeptest.Run(context.Background(), yaml)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := spec.Parse(yaml, 0)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var out bytes.Buffer
	cmd := &cobra.Command{}
	cmd.SetOut(&out)
	o := reportOptions{out: dir, size: "400x300", trajectory: "width=8, seed=1"}
	groups, err := writeReport(cmd, sweepTrials{Analyses: sp.Analyses(), Trials: res.Analysis.Trials}, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 2 {
		t.Errorf("%d groups, want 2 (widths 4, 8)", len(groups))
	}
	for _, name := range []string{report.TrialsCSV, report.BoundaryJSON, report.BoundaryTable, report.PhasePNG,
		report.OverviewPNG, report.TrajectoryPNG, "group-width-4.png", "group-width-8.png"} {
		if st, err := os.Stat(filepath.Join(dir, name)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", name, err)
		}
	}
	if s := out.String(); !strings.Contains(s, "report of 24 trials written to "+dir) {
		t.Errorf("output %q does not say where the report is", s)
	}
	o.trajectory = "width=3"
	if _, err := writeReport(cmd, sweepTrials{Analyses: sp.Analyses(), Trials: res.Analysis.Trials}, o); err == nil {
		t.Error("a trajectory selection matching no trial was accepted")
	}
}

func TestReportFlags(t *testing.T) {
	t.Parallel()
	if w, h, err := parseSize("640x480"); err != nil || w != 640 || h != 480 {
		t.Errorf("parseSize: %d %d %v", w, h, err)
	}
	for _, bad := range []string{"640", "x480", "10x10", "axb"} {
		if _, _, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q) accepted", bad)
		}
	}
	if m, err := parseAssignments("eta=0.001, seed=2"); err != nil || m["eta"] != 0.001 || m["seed"] != 2 || len(m) != 2 {
		t.Errorf("parseAssignments: %v %v", m, err)
	}
	for _, bad := range []string{"eta", "=1", "eta=x"} {
		if _, err := parseAssignments(bad); err == nil {
			t.Errorf("parseAssignments(%q) accepted", bad)
		}
	}
	if _, err := writeReport(&cobra.Command{}, sweepTrials{}, reportOptions{size: "900x620"}); err == nil {
		t.Error("a report without --out was accepted")
	}
}
