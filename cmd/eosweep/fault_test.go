package main

import (
	"context"
	"net"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/eosweep/eosweep/coordinator/store"
	"github.com/eosweep/eosweep/internal/testwait"
	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
)

// TestClusterMatchesEmbedded: a coordinator process and two worker processes
// give, trial by trial, the same results (all fields but wall_ms) as the
// embedded run of the same spec.
func TestClusterMatchesEmbedded(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	spec := writeSpec(t, dir, "name: match\nmodel: mean\ngrid:\n  eta: {logspace: [1, 10, 6]}\n  width: [4, 8]\n  seed: [0, 1]\nparams: {steps: 300}\n")
	embeddedDB, clusterDB := filepath.Join(dir, "embedded.db"), filepath.Join(dir, "cluster.db")
	eosweep(t, "run", spec, "--db", embeddedDB, "--workers", "2", "--quiet")

	coord, addr := startCoordinator(t, clusterDB, "127.0.0.1:0")
	log := filepath.Join(dir, "trials.log")
	w1, w2 := startWorker(t, addr, log, "--parallel", "1"), startWorker(t, addr, log, "--parallel", "1")
	sub := submitSpec(t, addr, spec)
	if sub.Trials != 24 || !sub.Created {
		t.Fatalf("submit: %+v", sub)
	}
	testwait.Poll(t, "the sweep", time.Minute, func() bool { return sweepStatus(t, addr, sub.Sweep).State == "done" })
	remote := eosweep(t, "boundary", sub.Sweep, "--coordinator", addr, "--format", "json")
	reportDir := filepath.Join(dir, "report")
	if out := eosweep(t, "report", sub.Sweep, "--coordinator", addr, "--out", reportDir, "--size", "single"); !strings.Contains(out, "report of 24 trials") {
		t.Fatalf("report over gRPC: %s", out)
	}
	w1.stop(t)
	w2.stop(t)
	coord.stop(t)
	if local := eosweep(t, "boundary", sub.Sweep, "--db", embeddedDB, "--format", "json"); local != remote || !strings.Contains(local, "eta_star") {
		t.Fatalf("boundary differs:\ncluster (gRPC) %s\nembedded (file) %s", remote, local)
	}

	eTrials, eResults := stored(t, embeddedDB, sub.Sweep)
	cTrials, cResults := stored(t, clusterDB, sub.Sweep)
	if len(eTrials) != 24 || len(cTrials) != 24 || len(eResults) != 24 || len(cResults) != 24 {
		t.Fatalf("embedded %d trials %d results; cluster %d trials %d results", len(eTrials), len(eResults), len(cTrials), len(cResults))
	}
	for id, want := range eResults {
		got, ok := cResults[id]
		if !ok {
			t.Fatalf("trial %s missing from the cluster run", id)
		}
		got.WallMS, want.WallMS = 0, 0
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("trial %s differs:\ncluster  %+v\nembedded %+v", id, got, want)
		}
	}
	if ran := executions(t, log); len(ran) != 24 {
		t.Fatalf("%d distinct trials ran on the workers, want 24", len(ran))
	}
}

// TestWorkerKilledMidTrial: SIGKILL a worker while it runs a trial; its lease
// expires, another worker runs the trial, the sweep completes, and every
// trial has exactly one stored result.
func TestWorkerKilledMidTrial(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// About 2 s per trial: long enough to be killed in the middle.
	spec := writeSpec(t, dir, "name: kill-worker\nmodel: single\ngrid:\n  eta: [1, 3]\n  seed: [0, 1]\nparams: {steps: 10000000}\n")
	db := filepath.Join(dir, "c.db")
	coord, addr := startCoordinator(t, db, "127.0.0.1:0", "--lease-ttl", "1s")
	logA, logB := filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")
	a := startWorker(t, addr, logA, "--parallel", "1")
	sub := submitSpec(t, addr, spec)
	testwait.Poll(t, "worker A to start a trial", 30*time.Second, func() bool { return len(executions(t, logA)) > 0 })
	a.kill() // SIGKILL mid-trial
	var victim string
	for id := range executions(t, logA) {
		victim = id
	}
	b := startWorker(t, addr, logB, "--parallel", "2")
	waitSweep(t, addr, sub.Sweep, "the sweep", 2*time.Minute, sweepDone)
	b.stop(t)
	coord.stop(t)

	trials, results := stored(t, db, sub.Sweep)
	if len(results) != 4 {
		t.Fatalf("%d results for 4 trials", len(results))
	}
	for _, tr := range trials {
		if tr.State != store.Done {
			t.Fatalf("trial %s is %v", tr.ID, tr.State)
		}
		if tr.ID == victim && tr.Attempt != 2 {
			t.Errorf("the killed worker's trial finished on attempt %d, want 2", tr.Attempt)
		}
	}
	if ranB := executions(t, logB); ranB[victim] != 1 || len(ranB) != 4 {
		t.Fatalf("worker B ran %v; want every trial once, including %s", ranB, victim)
	}
}

// TestCoordinatorKilledAndRestarted: SIGKILL the coordinator mid-sweep and
// restart it on the same file and address: the sweep completes, no trial
// completed before the kill runs again, and no result is lost. Then a sweep
// of the same grid under another name reuses every result and runs nothing:
// the trial-id index entries that waited in memory at the kill (written
// behind the results) were rebuilt when the store opened again.
func TestCoordinatorKilledAndRestarted(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// 48 trials of about 0.1 s on two single-slot workers.
	spec := writeSpec(t, dir, "name: kill-coordinator\nmodel: single\ngrid:\n  eta: {linspace: [0.5, 3.5, 12]}\n  seed: {range: [0, 4]}\nparams: {steps: 600000}\n")
	db := filepath.Join(dir, "c.db")
	coord, addr := startCoordinator(t, db, "127.0.0.1:0", "--lease-ttl", "2s")
	log := filepath.Join(dir, "trials.log")
	startWorker(t, addr, log, "--parallel", "1", "--id", "w1")
	startWorker(t, addr, log, "--parallel", "1", "--id", "w2")
	sub := submitSpec(t, addr, spec)
	waitSweep(t, addr, sub.Sweep, "a third of the sweep", time.Minute, func(s *pb.Sweep) bool { return s.GetProgress().GetDone() >= 16 })
	coord.kill() // SIGKILL mid-sweep

	trials, _ := stored(t, db, sub.Sweep)
	doneBefore := map[string]bool{}
	for _, tr := range trials {
		if tr.State == store.Done {
			doneBefore[tr.ID] = true
		}
	}
	// Progress counts results whose commit is in flight, so the file may hold
	// a few fewer than the 16 seen: their workers retry after the restart.
	if len(doneBefore) < 8 || len(doneBefore) == 48 {
		t.Fatalf("%d trials done at the kill", len(doneBefore))
	}
	// The workers notice: each comes back to the address and is turned away,
	// so both are retrying with backoff when the coordinator returns.
	turnAway(t, addr, "w1", "w2")
	coord, _ = startCoordinator(t, db, addr, "--lease-ttl", "2s")
	waitSweep(t, addr, sub.Sweep, "the sweep after the restart", 2*time.Minute, sweepDone)
	coord.stop(t)

	trials, results := stored(t, db, sub.Sweep)
	if len(trials) != 48 || len(results) != 48 {
		t.Fatalf("%d trials, %d results after the restart, want 48", len(trials), len(results))
	}
	ran := executions(t, log)
	again := 0
	for id, n := range ran {
		if doneBefore[id] && n != 1 {
			t.Errorf("trial %s completed before the kill ran %d times", id, n)
		}
		if n > 1 {
			again++
		}
	}
	if len(ran) != 48 {
		t.Fatalf("%d distinct trials ran, want 48", len(ran))
	}
	t.Logf("%d trials done before the kill; %d in-flight trials ran twice", len(doneBefore), again)

	total := func() (n int) {
		for _, k := range executions(t, log) {
			n += k
		}
		return n
	}
	before := total()
	coord, _ = startCoordinator(t, db, addr, "--lease-ttl", "2s")
	twin := writeSpec(t, dir, "name: kill-coordinator-twin\nmodel: single\ngrid:\n  eta: {linspace: [0.5, 3.5, 12]}\n  seed: {range: [0, 4]}\nparams: {steps: 600000}\n")
	sub2 := submitSpec(t, addr, twin)
	var reused int64
	waitSweep(t, addr, sub2.Sweep, "the twin sweep", time.Minute, func(s *pb.Sweep) bool {
		reused = s.GetReused()
		return sweepDone(s)
	})
	coord.stop(t)
	if reused != 48 {
		t.Errorf("the twin sweep reused %d results, want 48", reused)
	}
	if n := total(); n != before {
		t.Errorf("the twin sweep ran %d trials, want none", n-before)
	}
}

// TestWorkerWaitsForCoordinator: a worker started before its coordinator
// connects once the coordinator comes up (reconnect with backoff) and works.
func TestWorkerWaitsForCoordinator(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// Until the coordinator starts, its address drops every connection: the
	// worker must dial, fail, and dial again (reconnect with backoff).
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	dialed := make(chan struct{}, 64)
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			c.Close()
			dialed <- struct{}{}
		}
	}()
	log := filepath.Join(dir, "trials.log")
	w := startWorker(t, addr, log, "--parallel", "2")
	for i := range 2 {
		select {
		case <-dialed:
		case <-time.After(30 * time.Second):
			lis.Close()
			t.Fatalf("the worker dialed the coordinator's address %d times in 30 s, want 2", i)
		}
	}
	lis.Close()
	coord, _ := startCoordinator(t, filepath.Join(dir, "c.db"), addr)
	sub := submitSpec(t, addr, writeSpec(t, dir, "name: waits\nmodel: single\ngrid: {eta: [1, 2, 3]}\nparams: {steps: 100}\n"))
	waitSweep(t, addr, sub.Sweep, "the sweep", 30*time.Second, sweepDone)
	w.stop(t)
	coord.stop(t)
	if ran := executions(t, log); len(ran) != 3 {
		t.Fatalf("ran %v", ran)
	}
}

// turnAway serves, on the address of a killed coordinator, a stand-in that
// answers every worker call with UNAVAILABLE, until each of the workers named
// has called; then it stops and frees the address.
func turnAway(t *testing.T, addr string, workers ...string) {
	t.Helper()
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	stand := &standIn{seen: make(chan string, 64)}
	srv := grpc.NewServer()
	pb.RegisterCoordinatorServiceServer(srv, stand)
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()
	want := map[string]bool{}
	for _, w := range workers {
		want[w] = true
	}
	timeout := time.After(30 * time.Second)
	for len(want) > 0 {
		select {
		case id := <-stand.seen:
			delete(want, id)
		case <-timeout:
			t.Fatalf("workers %v did not call the coordinator's address within 30 s", want)
		}
	}
}

// standIn is a coordinator that turns every worker away.
type standIn struct {
	pb.UnimplementedCoordinatorServiceServer
	seen chan string
}

func (s *standIn) away(worker string) error {
	select {
	case s.seen <- worker:
	default:
	}
	return status.Error(codes.Unavailable, "coordinator restarting")
}

func (s *standIn) LeaseTrial(_ context.Context, r *pb.LeaseTrialRequest) (*pb.LeaseTrialResponse, error) {
	return nil, s.away(r.GetWorkerId())
}

func (s *standIn) Heartbeat(_ context.Context, r *pb.HeartbeatRequest) (*pb.HeartbeatResponse, error) {
	return nil, s.away(r.GetWorkerId())
}

func (s *standIn) ReportResult(_ context.Context, r *pb.ReportResultRequest) (*pb.ReportResultResponse, error) {
	return nil, s.away(r.GetWorkerId())
}

// TestCoordinatorPausedPastTTL: SIGSTOP the coordinator for longer than the
// lease TTL while a healthy worker runs two trials, then SIGCONT: the pause
// re-arms the leases instead of expiring them, so with --max-attempts 1 both
// trials still finish DONE, each run once.
func TestCoordinatorPausedPastTTL(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// About 6 s per trial: still running when the coordinator wakes.
	spec := writeSpec(t, dir, "name: pause\nmodel: single\ngrid:\n  eta: [1, 3]\nparams: {steps: 30000000}\n")
	db := filepath.Join(dir, "c.db")
	coord, addr := startCoordinator(t, db, "127.0.0.1:0", "--lease-ttl", "1s", "--max-attempts", "1")
	trialLog := filepath.Join(dir, "w.log")
	w := startWorker(t, addr, trialLog, "--parallel", "2")
	sub := submitSpec(t, addr, spec)
	testwait.Poll(t, "the worker to start both trials", 30*time.Second, func() bool { return len(executions(t, trialLog)) == 2 })
	if err := coord.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second) // the fault under test: a pause of 3 TTLs
	if err := coord.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	waitSweep(t, addr, sub.Sweep, "the sweep", 2*time.Minute, sweepDone)
	w.stop(t)
	coord.stop(t)
	trials, results := stored(t, db, sub.Sweep)
	if len(results) != 2 {
		t.Fatalf("%d results for 2 trials", len(results))
	}
	for _, tr := range trials {
		if tr.State != store.Done || tr.Attempt != 1 {
			t.Errorf("trial %s is %v after %d attempts (%s), want DONE on the first", tr.ID, tr.State, tr.Attempt, tr.LastError)
		}
	}
	if !strings.Contains(coord.log(), "lease deadlines re-armed") {
		t.Errorf("the coordinator did not log the pause:\n%s", coord.log())
	}
}

// TestDeadWorkerRerunsWithin10s: with the default lease TTL, the trials of a
// SIGKILLed worker run again on another worker within 10 s of the kill.
func TestDeadWorkerRerunsWithin10s(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	spec := writeSpec(t, dir, "name: rerun\nmodel: single\ngrid:\n  eta: [1, 3]\nparams: {steps: 100000000}\n")
	_, addr := startCoordinator(t, filepath.Join(dir, "c.db"), "127.0.0.1:0") // default --lease-ttl
	logA, logB := filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")
	a := startWorker(t, addr, logA, "--parallel", "2")
	submitSpec(t, addr, spec)
	testwait.Poll(t, "worker A to start both trials", 30*time.Second, func() bool { return len(executions(t, logA)) == 2 })
	startWorker(t, addr, logB, "--parallel", "2") // idle: nothing left to lease
	a.kill()
	killed := time.Now()
	testwait.Poll(t, "worker B to rerun the dead worker's trials", 30*time.Second, func() bool { return len(executions(t, logB)) == 2 })
	took := time.Since(killed)
	t.Logf("the dead worker's trials ran again %v after the kill", took.Round(100*time.Millisecond))
	if took > 10*time.Second {
		t.Fatalf("the dead worker's trials ran again %v after the kill, want within 10 s", took)
	}
}
