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
	"github.com/eosweep/eosweep/coordinator/finished"
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
	o := reportOptions{out: dir, size: "single", trajectory: "width=8, seed=1"}
	groups, err := writeReport(cmd, sweepTrials{Analyses: sp.Analyses(), Set: finished.Set{Done: res.Analysis.Trials}}, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 2 {
		t.Errorf("%d groups, want 2 (widths 4, 8)", len(groups))
	}
	files := []string{report.TrialsCSV, report.BoundaryJSON, report.BoundaryTable}
	for _, fig := range []string{report.PhaseName, report.OverviewName, report.TrajectoryName, "group-width-4", "group-width-8"} {
		for _, ext := range []string{".png", ".svg", ".pdf"} {
			files = append(files, fig+ext)
		}
	}
	for _, name := range files {
		if st, err := os.Stat(filepath.Join(dir, name)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, report.Paper1PNG)); err == nil {
		t.Error("paper1 written for a mean sweep without --figure paper1")
	}
	only := t.TempDir()
	if _, err := writeReport(cmd, sweepTrials{Analyses: sp.Analyses(), Set: finished.Set{Done: res.Analysis.Trials}},
		reportOptions{out: only, figures: []string{"paper1"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(only, report.Paper1PNG)); err != nil {
		t.Errorf("--figure paper1: %v", err)
	}
	if _, err := os.Stat(filepath.Join(only, report.PhasePNG)); err == nil {
		t.Error("--figure paper1 also wrote the phase diagram")
	}
	for _, bad := range []reportOptions{{out: only, size: "900x620"}, {out: only, figures: []string{"phse"}}} {
		if _, err := writeReport(cmd, sweepTrials{Analyses: sp.Analyses(), Set: finished.Set{Done: res.Analysis.Trials}}, bad); err == nil {
			t.Errorf("options %+v accepted", bad)
		}
	}
	if s := out.String(); !strings.Contains(s, "report of 24 trials written to "+dir) {
		t.Errorf("output %q does not say where the report is", s)
	}
	o.trajectory = "width=3"
	if _, err := writeReport(cmd, sweepTrials{Analyses: sp.Analyses(), Set: finished.Set{Done: res.Analysis.Trials}}, o); err == nil {
		t.Error("a trajectory selection matching no trial was accepted")
	}
}

func TestReportFlags(t *testing.T) {
	t.Parallel()
	if m, err := parseAssignments("eta=0.001, seed=2"); err != nil || m["eta"] != 0.001 || m["seed"] != 2 || len(m) != 2 {
		t.Errorf("parseAssignments: %v %v", m, err)
	}
	for _, bad := range []string{"eta", "=1", "eta=x"} {
		if _, err := parseAssignments(bad); err == nil {
			t.Errorf("parseAssignments(%q) accepted", bad)
		}
	}
	if _, err := writeReport(&cobra.Command{}, sweepTrials{}, reportOptions{}); err == nil {
		t.Error("a report without --out was accepted")
	}
}
