package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/eosweep/eosweep/internal/proctest"
)

// TestRunResumesAndClientsReadTheFile: an embedded run, run again, executes
// nothing more; status, boundary and report read its file with --db.
func TestRunResumesAndClientsReadTheFile(t *testing.T) {
	t.Parallel()
	bin := proctest.BuildOnce(t)
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

// Two embedded runs in one process, each on its own command tree, do not
// share state: each creates, then resumes, its own sweep, and status reads
// each file. Nothing here starts a process.
func TestRunInProcess(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	var wg sync.WaitGroup
	for _, name := range []string{"a", "b"} {
		spec := filepath.Join(dir, name+".yaml")
		text := "name: inproc-" + name + "\nmodel: single\ngrid: {eta: [0.5, 1, 1.5, 2.5]}\nparams: {steps: 40}\n"
		if err := os.WriteFile(spec, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		db := filepath.Join(dir, name+".db")
		wg.Go(func() {
			for i, want := range []string{"created", "resumed (4 of 4 trials already done)"} {
				out, errOut, err := execute(ctx, "run", spec, "--db", db, "--quiet", "--workers", "1")
				if err != nil || !strings.Contains(out, "theory") || !strings.Contains(errOut, "(inproc-"+name+") "+want) {
					t.Errorf("run %d of %s: %v\nstdout:\n%s\nstderr:\n%s", i+1, name, err, out, errOut)
				}
			}
			out, _, err := execute(ctx, "status", "--db", db, "--json")
			var st statusOutput
			if err != nil || json.Unmarshal([]byte(out), &st) != nil || st.Name != "inproc-"+name || st.Done != 4 {
				t.Errorf("status of %s: %v %q", name, err, out)
			}
		})
	}
	wg.Wait()
}
