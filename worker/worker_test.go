package worker_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eosweep/eosweep/coordinator"
	"github.com/eosweep/eosweep/coordinator/coordinatortest"
	"github.com/eosweep/eosweep/coordinator/scheduler"
	"github.com/eosweep/eosweep/engine"
	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
	"github.com/eosweep/eosweep/worker"
)

func start(t *testing.T, ttl time.Duration) (*coordinator.Coordinator, pb.CoordinatorServiceClient) {
	t.Helper()
	c, conn := coordinatortest.Start(t, coordinator.Config{Scheduler: scheduler.Config{LeaseTTL: ttl}})
	return c, pb.NewCoordinatorServiceClient(conn)
}

func submit(t *testing.T, cl pb.CoordinatorServiceClient, yaml string) string {
	t.Helper()
	r, err := cl.SubmitSweep(context.Background(), &pb.SubmitSweepRequest{SpecYaml: yaml})
	if err != nil {
		t.Fatal(err)
	}
	return r.GetSweep().GetId()
}

func waitState(t *testing.T, cl pb.CoordinatorServiceClient, id string, cond func(*pb.Progress) bool) *pb.Progress {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		r, err := cl.GetSweep(context.Background(), &pb.GetSweepRequest{SweepId: id})
		if err != nil {
			t.Fatal(err)
		}
		if cond(r.GetSweep().GetProgress()) {
			return r.GetSweep().GetProgress()
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out; progress %v", r.GetSweep().GetProgress())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestWorkersRunSweepWithEngine: two workers on the real engine finish a
// sweep; every trial runs exactly once and its stored result is the engine's.
func TestWorkersRunSweepWithEngine(t *testing.T) {
	t.Parallel()
	c, cl := start(t, 5*time.Second)
	id := submit(t, cl, "model: single\ngrid: {eta: {linspace: [0.5, 3, 6]}, seed: [0, 1]}\nparams: {steps: 50}\n")
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var workers []*worker.Worker
	for i := range 2 {
		w := worker.New(cl, worker.Config{ID: "w" + string(rune('a'+i)), Parallel: 2, Prefetch: 2, LeaseWait: 100 * time.Millisecond})
		workers = append(workers, w)
		wg.Add(1)
		go func() { defer wg.Done(); w.Run(ctx) }()
	}
	waitState(t, cl, id, func(p *pb.Progress) bool { return p.GetDone() == 12 })
	cancel()
	wg.Wait()
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

// blockingRunner runs until its context ends, or for d when d > 0.
type blockingRunner struct {
	d       time.Duration
	started atomic.Int64
	causes  chan error
}

func (b *blockingRunner) Run(ctx context.Context, cfg engine.Config) (engine.Result, error) {
	b.started.Add(1)
	select {
	case <-ctx.Done():
		b.causes <- context.Cause(ctx)
		return engine.Result{}, ctx.Err()
	case <-time.After(b.d):
		return engine.Result{FinalBias: -cfg.Eta, StepsRun: cfg.Steps,
			Trajectory: []engine.Point{{Step: 0, Loss: 0.7}, {Step: cfg.Steps, Loss: 0.5, Bias: -cfg.Eta}}}, nil
	}
}

// TestLostLeaseCancelsTrial: cancelling the sweep makes the next heartbeat
// report the lease lost, which cancels the running trial.
func TestLostLeaseCancelsTrial(t *testing.T) {
	t.Parallel()
	_, cl := start(t, 300*time.Millisecond)
	id := submit(t, cl, "model: single\ngrid: {eta: [1]}\nparams: {steps: 5}\n")
	r := &blockingRunner{d: time.Hour, causes: make(chan error, 1)}
	w := worker.New(cl, worker.Config{Parallel: 1, Runner: r, LeaseWait: 50 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go w.Run(ctx)
	waitState(t, cl, id, func(p *pb.Progress) bool { return p.GetLeased() == 1 })
	time.Sleep(400 * time.Millisecond) // past the TTL: heartbeats keep the lease
	waitState(t, cl, id, func(p *pb.Progress) bool { return p.GetLeased() == 1 })
	if _, err := cl.CancelSweep(context.Background(), &pb.CancelSweepRequest{SweepId: id}); err != nil {
		t.Fatal(err)
	}
	select {
	case cause := <-r.causes:
		if cause == nil || cause.Error() != "lease lost" {
			t.Fatalf("cancel cause %v", cause)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("trial not cancelled after its lease was lost")
	}
}

// TestDrainFinishesRunningAndReleasesQueued: on shutdown a running trial
// finishes within the grace period and is reported; leases not started are
// handed back (PENDING, attempt not counted).
func TestDrainFinishesRunningAndReleasesQueued(t *testing.T) {
	t.Parallel()
	_, cl := start(t, 5*time.Second)
	id := submit(t, cl, "model: single\ngrid: {eta: [1, 2, 3]}\nparams: {steps: 5}\n")
	r := &blockingRunner{d: 300 * time.Millisecond, causes: make(chan error, 3)}
	w := worker.New(cl, worker.Config{Parallel: 1, Prefetch: 3, Runner: r, Grace: 5 * time.Second, LeaseWait: 50 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	waitState(t, cl, id, func(p *pb.Progress) bool { return p.GetLeased() == 3 })
	time.Sleep(50 * time.Millisecond) // the first trial is running
	cancel()
	<-done
	p := waitState(t, cl, id, func(p *pb.Progress) bool { return p.GetDone() == 1 })
	if p.GetPending() != 2 || r.started.Load() != 1 {
		t.Fatalf("after drain: %v, %d started", p, r.started.Load())
	}
	tr, err := cl.ListTrials(context.Background(), &pb.ListTrialsRequest{SweepId: id})
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
	_, cl := start(t, 5*time.Second)
	id := submit(t, cl, "model: single\ngrid: {eta: [1]}\nparams: {steps: 5}\n")
	r := &blockingRunner{d: time.Hour, causes: make(chan error, 1)}
	w := worker.New(cl, worker.Config{Parallel: 1, Runner: r, Grace: 100 * time.Millisecond, LeaseWait: 50 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	waitState(t, cl, id, func(p *pb.Progress) bool { return p.GetLeased() == 1 })
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("worker did not stop after its grace period")
	}
	waitState(t, cl, id, func(p *pb.Progress) bool { return p.GetPending() == 1 })
}
