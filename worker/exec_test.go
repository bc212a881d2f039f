package worker_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eosweep/eosweep/internal/proctest"

	"github.com/eosweep/eosweep/coordinator"
	"github.com/eosweep/eosweep/coordinator/coordinatortest"
	"github.com/eosweep/eosweep/coordinator/scheduler"
	"github.com/eosweep/eosweep/coordinator/store"
	"github.com/eosweep/eosweep/internal/testwait"
	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
	"github.com/eosweep/eosweep/worker"
	"github.com/eosweep/eosweep/worker/execrun"
)

func execWorker(t *testing.T, c pb.CoordinatorServiceClient, id string, allow ...string) *worker.Worker {
	t.Helper()
	r, err := execrun.New(allow, 200*time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	return worker.New(c, worker.Config{ID: id, Parallel: 2, LeaseWait: 50 * time.Millisecond, Exec: r})
}

// waitDone waits up to a minute for the sweep to leave RUNNING (refinement
// rounds included).
func waitDone(t *testing.T, c coord, id string) scheduler.SweepInfo {
	t.Helper()
	return waitDoneWithin(t, c, id, time.Minute)
}

func waitDoneWithin(t *testing.T, c coord, id string, limit time.Duration) scheduler.SweepInfo {
	t.Helper()
	var info scheduler.SweepInfo
	testwait.Until(t, "the sweep to finish", limit, func() (bool, <-chan struct{}) {
		var err error
		if info, err = c.Scheduler.Sweep(id); err != nil {
			t.Fatal(err)
		}
		return info.Sweep.State != store.SweepRunning, info.Changed
	})
	return info
}

// A synthetic program whose metric drops as log(η/η₀) above η₀ (and is flat
// below, at a level of each seed's own): refinement over exec workers locates
// the boundary within 2% of η₀, both ways.
func TestExecSyntheticBoundary(t *testing.T) {
	t.Parallel()
	const eta0 = 0.0123
	c := start(t, 5*time.Second)
	spec := fmt.Sprintf(`name: synthetic
model: exec
exec:
  command: [awk, -v, "eta={eta}", -v, "seed={seed}", -v, "eta0={eta0}", 'BEGIN { d = log(eta / eta0); if (d < 0) d = 0;
    printf "EOSWEEP_PROGRESS {\"step\": 1, \"loss\": %%.6f}\n", d; printf "{\"score\": %%.17g, \"final_bias\": 0}\n", 1 + 0.1 * seed - d }']
  timeout: 30s
grid:
  eta: {logspace: [0.003, 0.05, 9]}
  seed: [0, 1, 2]
params: {eta0: %v}
boundary:
  metric: score
  bias_eps: 1.0e-3
  refine: {rounds: 10, tolerance: 0.005}
`, eta0)
	id := submit(t, c, spec)
	w := execWorker(t, c, "runner", "awk")
	run(t, w)
	info := waitDone(t, c, id)
	resp, err := c.GetBoundary(context.Background(), &pb.GetBoundaryRequest{SweepId: id})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.GetGroups()) != 1 {
		t.Fatalf("groups %v", resp.GetGroups())
	}
	g := resp.GetGroups()[0]
	t.Logf("%d trials in %d rounds: bracket [%.6g, %.6g], η* %.6g (%s), onset %.6g (%s); η₀ %g",
		g.GetTrials(), info.Sweep.Round, g.GetBracket().GetLow(), g.GetBracket().GetHigh(), g.GetEtaStar(), g.GetFit(),
		g.GetOnset(), g.GetOnsetForm(), eta0)
	if g.GetMetric() != "score" || g.GetSense() != pb.Sense_SENSE_DROP || g.GetTheory() != 0 {
		t.Errorf("group metric %q sense %q theory %v", g.GetMetric(), g.GetSense(), g.GetTheory())
	}
	if r := g.GetEtaStar() / eta0; math.Abs(r-1) > 0.02 || g.GetCrossing() != pb.Crossing_CROSSING_INSIDE {
		t.Errorf("η* = %g = %.4f η₀ (%s), want within 2%%", g.GetEtaStar(), r, g.GetCrossing())
	}
	if r := g.GetOnset() / eta0; math.Abs(r-1) > 0.02 {
		t.Errorf("onset = %g = %.4f η₀, want within 2%%", g.GetOnset(), r)
	}
	if info.Sweep.Round < 2 {
		t.Errorf("%d refinement rounds: the grid alone should not have done", info.Sweep.Round)
	}
	// The program's progress line became its trajectory.
	trials, _ := c.Store.Trials(id)
	results, _ := c.Store.Results(id)
	if r := results[trials[0].ID]; len(r.Trajectory) != 1 || r.Trajectory[0].Step != 1 || r.Metrics["score"] == 0 {
		t.Errorf("stored result %+v", r)
	}
}

// A worker without --allow-exec beside one with it: while a native sweep
// and an exec sweep run together, the plain worker runs native trials only
// and the exec worker runs every exec trial.
func TestPlainWorkerBesideExecWorker(t *testing.T) {
	t.Parallel()
	c := start(t, 5*time.Second)
	execID := submit(t, c, "model: exec\nexec: {command: [sh, -c, 'echo \"{\\\"final_bias\\\": {eta}}\"'], timeout: 30s}\n"+
		"grid: {eta: {linspace: [1, 2, 30]}}\n")
	nativeID := submit(t, c, "model: single\ngrid: {eta: {linspace: [0.5, 3, 30]}}\nparams: {steps: 20}\n")
	var mu sync.Mutex
	plainRan := map[string]int{}
	plain := worker.New(c, worker.Config{ID: "plain", Parallel: 2, LeaseWait: 50 * time.Millisecond,
		OnRun: func(sweep, _ string) { mu.Lock(); plainRan[sweep]++; mu.Unlock() }})
	run(t, plain)
	run(t, execWorker(t, c, "runner"))
	for _, id := range []string{execID, nativeID} {
		if info := waitDone(t, c, id); info.Progress.Done != 30 {
			t.Fatalf("sweep %s: %+v", id, info.Progress)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if plainRan[execID] != 0 || plainRan[nativeID] == 0 {
		t.Fatalf("the plain worker ran %v (exec sweep %s, native %s)", plainRan, execID, nativeID)
	}
}

// holdSpec is an exec sweep of one trial whose program starts a grandchild
// (its pid written to pidfile) and waits, ignoring SIGTERM.
func holdSpec(pidfile string) string {
	return fmt.Sprintf("model: exec\nexec: {command: [sh, -c, \"trap '' TERM; sleep 1000 & echo $! > %s; wait\"], timeout: 10m}\ngrid: {eta: [1]}\n", pidfile)
}

func grandchild(t *testing.T, pidfile string) int {
	t.Helper()
	var pid int
	testwait.Poll(t, "the program to start its grandchild", 20*time.Second, func() bool {
		data, err := os.ReadFile(pidfile)
		if err == nil {
			pid, err = strconv.Atoi(strings.TrimSpace(string(data)))
		}
		return err == nil && proctest.Alive(pid)
	})
	return pid
}

// Cancelling the sweep makes the worker's next heartbeat report the lease
// lost: the program's whole process group is killed (SIGTERM ignored, so by
// SIGKILL after the grace) and nothing is reported for it.
func TestExecCancelKillsProgram(t *testing.T) {
	t.Parallel()
	c := start(t, 300*time.Millisecond)
	pidfile := filepath.Join(t.TempDir(), "pid")
	id := submit(t, c, holdSpec(pidfile))
	w := execWorker(t, c, "runner")
	run(t, w)
	pid := grandchild(t, pidfile)
	if _, err := c.CancelSweep(context.Background(), &pb.CancelSweepRequest{SweepId: id}); err != nil {
		t.Fatal(err)
	}
	testwait.Poll(t, "the program's group to be killed", 20*time.Second, func() bool { return !proctest.Alive(pid) })
	if info, _ := c.Scheduler.Sweep(id); info.Progress.Cancelled != 1 {
		t.Fatalf("after cancel: %+v", info.Progress)
	}
}

// A draining worker (SIGTERM) whose program outlives the worker's grace
// kills the program's group and hands the lease back.
func TestExecDrainKillsProgramAndReleases(t *testing.T) {
	t.Parallel()
	c := start(t, 5*time.Second)
	pidfile := filepath.Join(t.TempDir(), "pid")
	id := submit(t, c, holdSpec(pidfile))
	r, err := execrun.New(nil, 100*time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := worker.New(c, worker.Config{ID: "runner", Parallel: 1, LeaseWait: 50 * time.Millisecond, Grace: 100 * time.Millisecond, Exec: r})
	cancel, done := run(t, w)
	pid := grandchild(t, pidfile)
	cancel()
	<-done
	if proctest.Alive(pid) {
		t.Fatalf("grandchild %d survived the drain", pid)
	}
	if info, _ := c.Scheduler.Sweep(id); info.Progress.Pending != 1 || info.Progress.Leased != 0 {
		t.Fatalf("after the drain the trial should be pending again: %+v", info.Progress)
	}
}

// Resume after a coordinator restart reruns no completed exec trial: the
// trials that failed before the restart are the only ones run after it.
func TestExecResumeAfterRestartRerunsNothingDone(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db, log, ok := filepath.Join(dir, "c.db"), filepath.Join(dir, "runs.log"), filepath.Join(dir, "ok")
	spec := fmt.Sprintf(`model: exec
exec:
  command: [sh, -c, 'echo "$EOSWEEP_TRIAL_ID" >> %s; if [ {eta} -gt 3 ] && [ ! -e %s ]; then echo "not yet" >&2; exit 1; fi; echo "{\"final_bias\": -{eta}}"']
  timeout: 30s
grid: {eta: [1, 2, 3, 4, 5, 6]}
`, log, ok)
	cfg := coordinator.Config{DBPath: db, NoSync: true, Scheduler: scheduler.Config{LeaseTTL: 5 * time.Second, MaxAttempts: 1}}
	first, err := coordinator.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := first.InProcessConn()
	if err != nil {
		t.Fatal(err)
	}
	c1 := coord{first, pb.NewCoordinatorServiceClient(conn)}
	id := submit(t, c1, spec)
	cancel, done := run(t, execWorker(t, c1, "before"))
	if info := waitDone(t, c1, id); info.Progress.Done != 3 || info.Progress.Failed != 3 {
		t.Fatalf("before the restart: %+v", info.Progress)
	}
	cancel()
	<-done
	if err := first.Shutdown(time.Second); err != nil {
		t.Fatal(err)
	}
	before := lines(t, log)

	second, conn2 := coordinatortest.Start(t, cfg)
	c2 := coord{second, pb.NewCoordinatorServiceClient(conn2)}
	if err := os.WriteFile(ok, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if again := submit(t, c2, spec); again != id {
		t.Fatalf("resubmitted as %s, not %s", again, id)
	}
	run(t, execWorker(t, c2, "after"))
	if info := waitDone(t, c2, id); info.Progress.Done != 6 {
		t.Fatalf("after the restart: %+v", info.Progress)
	}
	after := lines(t, log)[len(before):]
	trials, err := second.Store.Trials(id)
	if err != nil {
		t.Fatal(err)
	}
	var failedBefore []string
	for _, tr := range trials {
		if tr.Params["eta"] > 3 {
			failedBefore = append(failedBefore, tr.ID)
		}
	}
	slices.Sort(after)
	slices.Sort(failedBefore)
	if !slices.Equal(after, failedBefore) {
		t.Fatalf("runs after the restart %v, want only the trials that had failed %v", after, failedBefore)
	}
}

func lines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(data))
}
