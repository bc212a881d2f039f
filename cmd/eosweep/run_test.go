package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	specpkg "github.com/eosweep/eosweep/coordinator/spec"
	"github.com/eosweep/eosweep/coordinator/store"
	"github.com/eosweep/eosweep/internal/proctest"
	"github.com/eosweep/eosweep/internal/testwait"
)

// TestRunResumesAndClientsReadTheFile: an embedded run, run again, executes
// nothing more; status, boundary and report read its file with --db.
func TestRunResumesAndClientsReadTheFile(t *testing.T) {
	t.Parallel()
	bin := proctest.BuildOnce(t)
	dir := t.TempDir()
	spec := writeSpec(t, dir, "name: resume\nmodel: single\ngrid:\n  eta: {logspace: [0.5, 8, 9]}\n  seed: [0, 1]\nparams: {steps: 500}\nboundary: {refine: {rounds: 2, tolerance: 0.01}}\n")
	db, log := filepath.Join(dir, "run.db"), filepath.Join(dir, "trials.log")
	for i := range 2 {
		args := []string{"run", spec, "--db", db}
		if i == 1 {
			args = append(args, "--quiet")
		}
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), trialLogEnv+"="+log)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "theory") {
			t.Fatalf("run: %v\n%s", err, out)
		}
		// Not a terminal: the progress is log lines, never a redrawn frame.
		if progress := strings.Contains(string(out), "msg=progress"); strings.ContainsAny(string(out), "\r\033") || progress == (i == 1) {
			t.Fatalf("run %d output to a pipe (progress lines %v):\n%q", i+1, progress, out)
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
			for i, want := range []string{`msg="sweep created" sweep=`, `msg="sweep resumed" sweep=`} {
				out, errOut, err := execute(ctx, "run", spec, "--db", db, "--quiet", "--workers", "1")
				if err != nil || !strings.Contains(out, "theory") || !strings.Contains(errOut, want) ||
					!strings.Contains(errOut, "name=inproc-"+name) || (i == 1 && !strings.Contains(errOut, "done=4 trials=4")) {
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

// TestRunKilledResumesAtOnce: SIGKILL `eosweep run` mid-sweep, with leases in
// flight, and run it again: the rerun starts the orphaned trials at once
// (its workers died with the first process, so nothing can re-adopt their
// leases) and finishes in about the remaining CPU work, far below the lease
// TTL; no trial completed before the kill runs again.
func TestRunKilledResumesAtOnce(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and kills the binary")
	}
	bin := proctest.BuildOnce(t)
	dir := t.TempDir()
	// 30 trials of about 0.1 s each on 2 workers.
	text := "name: kill-run\nmodel: single\ngrid:\n  eta: {linspace: [0.5, 3.5, 6]}\n  seed: {range: [0, 5]}\nparams: {steps: 600000}\n"
	spec := writeSpec(t, dir, text)
	sp, err := specpkg.Parse([]byte(text), 0)
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "run.db")
	const ttl = 60 * time.Second
	firstLog, secondLog := filepath.Join(dir, "first.log"), filepath.Join(dir, "second.log")
	first := exec.Command(bin, "run", spec, "--db", db, "--workers", "2", "--quiet", "--lease-ttl", ttl.String())
	first.Env = append(os.Environ(), trialLogEnv+"="+firstLog)
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	testwait.Poll(t, "the first run to start 8 trials", time.Minute, func() bool { return len(executions(t, firstLog)) >= 8 })
	_ = first.Process.Kill() // SIGKILL mid-sweep
	_ = first.Wait()

	trials, _ := stored(t, db, sp.ID())
	var leased int
	doneBefore := map[string]bool{}
	for _, tr := range trials {
		switch tr.State {
		case store.Done:
			doneBefore[tr.ID] = true
		case store.Leased:
			leased++
		}
	}
	if leased == 0 || len(doneBefore) == len(trials) {
		t.Fatalf("at the kill: %d done, %d leased of %d; want leases in flight", len(doneBefore), leased, len(trials))
	}

	ctx, cancel := context.WithTimeout(context.Background(), ttl*3/4)
	defer cancel()
	second := exec.CommandContext(ctx, bin, "run", spec, "--db", db, "--workers", "2", "--quiet", "--lease-ttl", ttl.String())
	second.Env = append(os.Environ(), trialLogEnv+"="+secondLog)
	start := time.Now()
	out, err := second.CombinedOutput()
	wall := time.Since(start)
	if err != nil {
		t.Fatalf("rerun after %v: %v\n%s", wall, err, out)
	}
	trials, results := stored(t, db, sp.ID())
	var remaining time.Duration // engine time of the trials the rerun ran
	for _, tr := range trials {
		if tr.State != store.Done {
			t.Fatalf("trial %s is %v after the rerun", tr.ID, tr.State)
		}
		if !doneBefore[tr.ID] {
			remaining += time.Duration(results[tr.ID].WallMS * float64(time.Millisecond))
		}
	}
	for id := range executions(t, secondLog) {
		if doneBefore[id] {
			t.Errorf("trial %s, done before the kill, ran again", id)
		}
	}
	t.Logf("kill: %d done, %d leased of %d; rerun %v wall for %v of engine time on 2 workers (lease TTL %v)",
		len(doneBefore), leased, len(trials), wall.Round(time.Millisecond), remaining.Round(time.Millisecond), ttl)
	if limit := remaining + 10*time.Second; wall > limit {
		t.Errorf("rerun took %v for %v of engine time: stalled on the dead process's leases?", wall, remaining)
	}
}

// SIGINT stops `eosweep run` with exit status 130, and its message counts
// the trials stored exactly (as the store holds them afterwards).
func TestRunInterrupted(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and signals the binary")
	}
	bin := proctest.BuildOnce(t)
	dir := t.TempDir()
	text := "name: interrupt\nmodel: single\ngrid:\n  eta: {linspace: [0.5, 3.5, 6]}\n  seed: {range: [0, 5]}\nparams: {steps: 600000}\n"
	spec := writeSpec(t, dir, text)
	sp, err := specpkg.Parse([]byte(text), 0)
	if err != nil {
		t.Fatal(err)
	}
	db, log := filepath.Join(dir, "run.db"), filepath.Join(dir, "trials.log")
	cmd := exec.Command(bin, "run", spec, "--db", db, "--workers", "2")
	cmd.Env = append(os.Environ(), trialLogEnv+"="+log)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	testwait.Poll(t, "the run to start 6 trials", time.Minute, func() bool { return len(executions(t, log)) >= 6 })
	_ = cmd.Process.Signal(os.Interrupt)
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 130 {
		t.Fatalf("exit %v, want status 130\n%s", err, stderr.String())
	}
	trials, _ := stored(t, db, sp.ID())
	done := 0
	for _, tr := range trials {
		if tr.State == store.Done {
			done++
		}
	}
	if want := fmt.Sprintf("interrupted: %d of %d trials stored; run the same command again to resume", done, len(trials)); !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
	}
}
