package worker_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/eosweep/eosweep/coordinator"
	"github.com/eosweep/eosweep/coordinator/coordinatortest"
	"github.com/eosweep/eosweep/coordinator/scheduler"
	"github.com/eosweep/eosweep/engine"
	"github.com/eosweep/eosweep/engine/enginetest"
	"github.com/eosweep/eosweep/internal/fakeclock"
	"github.com/eosweep/eosweep/internal/testwait"
	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
	"github.com/eosweep/eosweep/worker"
)

// coord is an in-memory coordinator and a client of it.
type coord struct {
	*coordinator.Coordinator
	pb.CoordinatorServiceClient
}

func start(t *testing.T, ttl time.Duration) coord {
	return startWith(t, scheduler.Config{LeaseTTL: ttl})
}

func startWith(t *testing.T, cfg scheduler.Config) coord {
	t.Helper()
	c, conn := coordinatortest.Start(t, coordinator.Config{Scheduler: cfg})
	return coord{c, pb.NewCoordinatorServiceClient(conn)}
}

// run runs w until the test ends (or cancel is called) and waits for it to stop.
func run(t *testing.T, w *worker.Worker) (cancel func(), done <-chan struct{}) {
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { defer close(stopped); w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-stopped })
	return cancel, stopped
}

func submit(t *testing.T, c coord, yaml string) string {
	t.Helper()
	r, err := c.SubmitSweep(context.Background(), &pb.SubmitSweepRequest{SpecYaml: yaml})
	if err != nil {
		t.Fatal(err)
	}
	return r.GetSweep().GetId()
}

// waitState waits for cond to hold of a sweep's progress, checking it at
// every change the scheduler announces, for up to 20 s.
func waitState(t *testing.T, c coord, id, what string, cond func(scheduler.Progress) bool) scheduler.Progress {
	t.Helper()
	return waitStateFor(t, c, id, what, 20*time.Second, cond)
}

// waitStateFor is waitState with its own limit (for tests that store
// megabytes of results, slow under -race on a loaded machine).
func waitStateFor(t *testing.T, c coord, id, what string, limit time.Duration, cond func(scheduler.Progress) bool) scheduler.Progress {
	t.Helper()
	var info scheduler.SweepInfo
	testwait.Until(t, what, limit, func() (bool, <-chan struct{}) {
		var err error
		if info, err = c.Scheduler.Sweep(id); err != nil {
			t.Fatal(err)
		}
		return cond(info.Progress), info.Changed
	})
	return info.Progress
}

// TestWorkersRunSweepWithEngine: two workers on the real engine finish a
// sweep; every trial runs exactly once and its stored result is the engine's.
func TestWorkersRunSweepWithEngine(t *testing.T) {
	t.Parallel()
	c := start(t, 5*time.Second)
	id := submit(t, c, "model: single\ngrid: {eta: {linspace: [0.5, 3, 6]}, seed: [0, 1]}\nparams: {steps: 50}\n")
	var workers []*worker.Worker
	var stops []<-chan struct{}
	var cancels []func()
	for i := range 2 {
		w := worker.New(c, worker.Config{ID: "w" + string(rune('a'+i)), Parallel: 2, Prefetch: 2, LeaseWait: 100 * time.Millisecond})
		workers = append(workers, w)
		cancel, done := run(t, w)
		cancels, stops = append(cancels, cancel), append(stops, done)
	}
	waitState(t, c, id, "12 trials done", func(p scheduler.Progress) bool { return p.Done == 12 })
	for i := range cancels {
		cancels[i]()
		<-stops[i]
	}
	if n := workers[0].Executions() + workers[1].Executions(); n != 12 {
		t.Fatalf("%d executions for 12 trials", n)
	}
	trials, _ := c.Store.Trials(id)
	results, _ := c.Store.Results(id)
	for _, tr := range trials {
		cfg, err := engine.Resolve("single", tr.Params)
		if err != nil {
			t.Fatal(err)
		}
		want, err := engine.Run(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		got := results[tr.ID]
		got.WallMS, want.WallMS = 0, 0
		if got.FinalBias != want.FinalBias || got.FinalSharpness != want.FinalSharpness || got.StepsRun != want.StepsRun || len(got.Trajectory) != len(want.Trajectory) {
			t.Fatalf("trial %v: stored %+v, engine %+v", tr.Params, got, want)
		}
	}
}

// blockingRunner runs until its context ends, or for d when d > 0; it
// announces every run it starts on started.
type blockingRunner struct {
	d       time.Duration
	started chan struct{}
	runs    atomic.Int64
	causes  chan error
}

func newBlockingRunner(d time.Duration, n int) *blockingRunner {
	return &blockingRunner{d: d, started: make(chan struct{}, n), causes: make(chan error, n)}
}

func (b *blockingRunner) Run(ctx context.Context, cfg engine.Config) (engine.Result, error) {
	b.runs.Add(1)
	b.started <- struct{}{}
	select {
	case <-ctx.Done():
		b.causes <- context.Cause(ctx)
		return engine.Result{}, ctx.Err()
	case <-time.After(b.d):
		return enginetest.ResultBias(cfg.Steps, -cfg.Eta), nil
	}
}

// heartbeatWatch passes calls through and tells, after each heartbeat the
// coordinator answered, the clock's time when it was sent.
type heartbeatWatch struct {
	pb.CoordinatorServiceClient
	clk  *fakeclock.Clock
	sent chan time.Time
}

func (h *heartbeatWatch) Heartbeat(ctx context.Context, req *pb.HeartbeatRequest, opts ...grpc.CallOption) (*pb.HeartbeatResponse, error) {
	at := h.clk.Now()
	resp, err := h.CoordinatorServiceClient.Heartbeat(ctx, req, opts...)
	if err == nil {
		select {
		case h.sent <- at:
		default: // nobody is waiting for this one
		}
	}
	return resp, err
}

// await returns once a heartbeat sent at or after at has been answered.
func (h *heartbeatWatch) await(t *testing.T, at time.Time) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case sent := <-h.sent:
			if !sent.Before(at) {
				return
			}
		case <-timeout:
			t.Fatal("no heartbeat within 10 s")
		}
	}
}

// TestLostLeaseCancelsTrial: heartbeats keep a lease past its TTL; cancelling
// the sweep makes the next heartbeat report the lease lost, which cancels the
// running trial. The coordinator's clock is fake: the lease lives only as long
// as the heartbeats extend it.
func TestLostLeaseCancelsTrial(t *testing.T) {
	t.Parallel()
	const ttl = 300 * time.Millisecond
	clk := fakeclock.New()
	c := startWith(t, scheduler.Config{LeaseTTL: ttl, Now: clk.Now, Ticks: clk.Ticks()})
	id := submit(t, c, "model: single\ngrid: {eta: [1]}\nparams: {steps: 5}\n")
	r := newBlockingRunner(time.Hour, 1)
	hb := &heartbeatWatch{CoordinatorServiceClient: c, clk: clk, sent: make(chan time.Time)}
	run(t, worker.New(hb, worker.Config{Parallel: 1, Runner: r, LeaseWait: 50 * time.Millisecond}))
	<-r.started
	// 2/3 of the TTL on, a heartbeat; 4/3 of the TTL after the lease, a tick
	// of the expiry loop: only that heartbeat keeps the lease. The loop ticks
	// every third of the TTL (a longer gap would be a pause of the
	// coordinator, which re-arms every lease).
	clk.Advance(ttl / 3)
	clk.Tick(t)
	clk.Advance(ttl / 3)
	hb.await(t, clk.Now())
	clk.Tick(t)
	clk.Advance(ttl / 3)
	clk.Tick(t)
	clk.Advance(ttl / 3)
	clk.Tick(t)
	if info, err := c.Scheduler.Sweep(id); err != nil || info.Progress.Leased != 1 {
		t.Fatalf("heartbeats did not keep the lease past its TTL: %+v, %v", info.Progress, err)
	}
	if _, err := c.CancelSweep(context.Background(), &pb.CancelSweepRequest{SweepId: id}); err != nil {
		t.Fatal(err)
	}
	select {
	case cause := <-r.causes:
		if cause == nil || cause.Error() != "lease lost" {
			t.Fatalf("cancel cause %v", cause)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("trial not cancelled after its lease was lost")
	}
}

// TestDrainFinishesRunningAndReleasesQueued: on shutdown a running trial
// finishes within the grace period and is reported; leases not started are
// handed back (PENDING, attempt not counted).
func TestDrainFinishesRunningAndReleasesQueued(t *testing.T) {
	t.Parallel()
	c := start(t, 5*time.Second)
	id := submit(t, c, "model: single\ngrid: {eta: [1, 2, 3]}\nparams: {steps: 5}\n")
	r := newBlockingRunner(300*time.Millisecond, 3)
	cancel, done := run(t, worker.New(c, worker.Config{Parallel: 1, Prefetch: 3, Runner: r, Grace: 5 * time.Second, LeaseWait: 50 * time.Millisecond}))
	waitState(t, c, id, "3 leases", func(p scheduler.Progress) bool { return p.Leased == 3 })
	<-r.started // the first trial is running
	cancel()
	<-done
	p := waitState(t, c, id, "1 trial done", func(p scheduler.Progress) bool { return p.Done == 1 })
	if p.Pending != 2 || r.runs.Load() != 1 {
		t.Fatalf("after drain: %+v, %d started", p, r.runs.Load())
	}
	tr, err := c.ListTrials(context.Background(), &pb.ListTrialsRequest{SweepId: id})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range tr.GetTrials() {
		if x.GetState() == pb.TrialState_TRIAL_STATE_PENDING && x.GetAttempt() != 0 {
			t.Fatalf("released trial counts an attempt: %v", x)
		}
	}
}

// TestDrainGraceExpires: a trial that outlives the grace period is cancelled
// and its lease handed back.
func TestDrainGraceExpires(t *testing.T) {
	t.Parallel()
	c := start(t, 5*time.Second)
	id := submit(t, c, "model: single\ngrid: {eta: [1]}\nparams: {steps: 5}\n")
	r := newBlockingRunner(time.Hour, 1)
	cancel, done := run(t, worker.New(c, worker.Config{Parallel: 1, Runner: r, Grace: 100 * time.Millisecond, LeaseWait: 50 * time.Millisecond}))
	<-r.started
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("worker did not stop after its grace period")
	}
	waitState(t, c, id, "the lease handed back", func(p scheduler.Progress) bool { return p.Pending == 1 })
}

// TestGraceReleasesBeforeExit (issue 14): a trial that cannot finish within
// the grace period is cancelled and its lease handed back before Run
// returns: the trial is PENDING again with no attempt counted the moment the
// worker is gone (its lease TTL is a minute: no expiry explains it).
func TestGraceReleasesBeforeExit(t *testing.T) {
	t.Parallel()
	c := start(t, time.Minute)
	id := submit(t, c, "model: single\ngrid: {eta: [1, 2]}\nparams: {steps: 5}\n")
	r := newBlockingRunner(time.Hour, 2)
	cancel, done := run(t, worker.New(c, worker.Config{Parallel: 2, Prefetch: 1, Runner: r, Grace: 500 * time.Millisecond, LeaseWait: 50 * time.Millisecond}))
	<-r.started
	<-r.started
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the worker outlived its grace period")
	}
	info, err := c.Scheduler.Sweep(id)
	if err != nil || info.Progress.Pending != 2 {
		t.Fatalf("after the worker exited: %+v, %v; want both trials handed back", info.Progress, err)
	}
	tr, err := c.ListTrials(context.Background(), &pb.ListTrialsRequest{SweepId: id})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range tr.GetTrials() {
		if x.GetAttempt() != 0 {
			t.Errorf("trial %s counts attempt %d: it was not handed back", x.GetId(), x.GetAttempt())
		}
	}
}
