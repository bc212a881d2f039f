package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunResumesAndClientsReadTheFile: an embedded run, run again, executes
// nothing more; status, boundary and report read its file with --db.
func TestRunResumesAndClientsReadTheFile(t *testing.T) {
	t.Parallel()
	bin := eosweepBinary(t)
	dir := t.TempDir()
	spec := writeSpec(t, dir, "name: resume\nmodel: single\ngrid:\n  eta: {logspace: [0.5, 8, 9]}\n  seed: [0, 1]\nparams: {steps: 500}\nboundary: {refine: {rounds: 2, tolerance: 0.01}}\n")
	db, log := filepath.Join(dir, "run.db"), filepath.Join(dir, "trials.log")
	for range 2 {
		cmd := exec.Command(bin, "run", spec, "--db", db, "--quiet")
		cmd.Env = append(os.Environ(), trialLogEnv+"="+log)
		if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "theory") {
			t.Fatalf("run: %v\n%s", err, out)
		}
	}
	ran := executions(t, log)
	var st statusOutput
	if err := json.Unmarshal([]byte(eosweep(t, "status", "--db", db, "--json")), &st); err != nil {
		t.Fatal(err)
	}
	if st.State != "done" || st.Round != 2 || st.Total != int64(len(ran)) || st.Done != st.Total || st.Total <= 18 {
		t.Fatalf("status %+v after %d distinct executions", st, len(ran))
	}
	for id, n := range ran {
		if n != 1 {
			t.Fatalf("trial %s ran %d times over two runs", id, n)
		}
	}
	var groups []map[string]any
	if err := json.Unmarshal([]byte(eosweep(t, "boundary", st.Sweep[:6], "--db", db, "--format", "json")), &groups); err != nil {
		t.Fatal(err)
	}
	if len(groups) != 1 || groups[0]["eta_star"] == nil {
		t.Fatalf("boundary: %v", groups)
	}
	out := filepath.Join(dir, "report")
	eosweep(t, "report", st.Sweep, "--db", db, "--out", out, "--size", "single")
	if _, err := os.Stat(filepath.Join(out, "trials.csv")); err != nil {
		t.Fatal(err)
	}
}
