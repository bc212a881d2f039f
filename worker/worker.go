// Package worker is the eosweep worker: it leases trials from a coordinator,
// runs them on the engine, heartbeats its leases while they run, and reports
// the results.
//
// # Basics
//
// Run keeps up to Parallel trials running, with up to Parallel×Prefetch
// leased at once (several per LeaseTrial call); results are reported in
// batches (whatever is waiting goes in one ReportResult). A lease reported
// lost by a heartbeat cancels its trial. Transport failures are retried with
// exponential backoff and jitter; the gRPC connection itself reconnects with
// grpc-go's backoff (see the dial options of cmd/eosweep).
//
// # Shutdown
//
// When Run's context ends (SIGTERM), the worker stops leasing, hands back the
// leases it has not started, lets running trials finish within Grace (then
// cancels them and hands their leases back), reports what it has, and returns.
package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eosweep/eosweep/engine"
	"github.com/eosweep/eosweep/internal/metrics"
	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
	"github.com/eosweep/eosweep/worker/execrun"
)

// Runner runs one trial. engine.Run satisfies it through RunnerFunc.
type Runner interface {
	Run(ctx context.Context, cfg engine.Config) (engine.Result, error)
}

// ExecRunner runs the trials of exec sweeps (an outside program per trial);
// *execrun.Runner satisfies it.
type ExecRunner interface {
	Run(ctx context.Context, t execrun.Trial) (engine.Result, error)
}

// RunnerFunc adapts a function to Runner.
type RunnerFunc func(ctx context.Context, cfg engine.Config) (engine.Result, error)

// Run implements Runner.
func (f RunnerFunc) Run(ctx context.Context, cfg engine.Config) (engine.Result, error) {
	return f(ctx, cfg)
}

// Config configures a Worker.
type Config struct {
	// ID names the worker in leases and logs (default host-pid).
	ID string
	// Parallel is how many trials run at once (default runtime.NumCPU()).
	Parallel int
	// Prefetch is how many trials per slot may be leased ahead (default 1:
	// none ahead). Trivial trials want more, so that one RPC carries many.
	Prefetch int
	// LeaseWait is the long-poll wait of one LeaseTrial call (default 10s).
	LeaseWait time.Duration
	// Grace is how long running trials may take to finish after the context
	// ends (default 30s).
	Grace time.Duration
	// Runner runs trials (default engine.Run).
	Runner Runner
	// Exec runs exec trials. Nil (the default) means the worker does not
	// take them: it leases without allow_exec, so the coordinator never
	// hands it one (--allow-exec sets it).
	Exec ExecRunner
	// OnRun, if set, is called before every engine execution.
	OnRun func(sweep, trial string)
	// Metrics, if set, gets the worker's metrics (metrics.NewWorker)
	// registered on it, and only those: a process serves its own registry.
	Metrics prometheus.Registerer
	Logger  *slog.Logger
}

func (c *Config) defaults() {
	if c.ID == "" {
		host, _ := os.Hostname()
		c.ID = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	if c.Parallel <= 0 {
		c.Parallel = runtime.NumCPU()
	}
	if c.Prefetch <= 0 {
		c.Prefetch = 1
	}
	if c.LeaseWait <= 0 {
		c.LeaseWait = 10 * time.Second
	}
	if c.Grace <= 0 {
		c.Grace = 30 * time.Second
	}
	if c.Runner == nil {
		c.Runner = RunnerFunc(engine.Run)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Worker runs trials for one coordinator.
type Worker struct {
	cfg    Config
	client pb.CoordinatorServiceClient

	mu   sync.Mutex
	held map[string]*job // leases held (queued or running), by sweep/trial

	metrics    *metrics.Worker // nil without Config.Metrics
	ttl        atomic.Int64    // lease TTL in ns, from the coordinator (0 until known)
	executions atomic.Int64
	reported   atomic.Int64
	reports    chan *pb.TrialReport
}

type job struct {
	lease  *pb.Lease
	cancel context.CancelCauseFunc // set when the job starts running
	lost   bool                    // the coordinator no longer honours the lease
}

// errLeaseLost cancels a trial whose lease the coordinator no longer honours.
var errLeaseLost = errors.New("lease lost")

// New returns a worker using client. It panics when Config.Metrics already
// holds a worker's metrics (a programming error, as with MustRegister).
func New(client pb.CoordinatorServiceClient, cfg Config) *Worker {
	cfg.defaults()
	w := &Worker{cfg: cfg, client: client, held: map[string]*job{}}
	if cfg.Metrics != nil {
		m, err := metrics.NewWorker(cfg.Metrics, metrics.WorkerState{Held: w.heldCount, Slots: cfg.Parallel})
		if err != nil {
			panic(fmt.Sprintf("worker: %v", err))
		}
		w.metrics = m
	}
	return w
}

// heldCount returns how many leases the worker holds.
func (w *Worker) heldCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.held)
}

// Executions returns how many trials this worker has started on the engine.
func (w *Worker) Executions() int64 { return w.executions.Load() }

// Reported returns how many reports the coordinator has acknowledged.
func (w *Worker) Reported() int64 { return w.reported.Load() }

// Run works until ctx ends, then drains (see the package doc).
func (w *Worker) Run(ctx context.Context) error {
	capacity := w.cfg.Parallel * w.cfg.Prefetch
	w.reports = make(chan *pb.TrialReport, capacity)
	slots := make(chan struct{}, capacity)
	jobs := make(chan *job, capacity)
	runCtx, stopRuns := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRuns()
	var runners sync.WaitGroup
	for range w.cfg.Parallel {
		runners.Add(1)
		go func() {
			defer runners.Done()
			w.runLoop(ctx, runCtx, jobs, slots)
		}()
	}
	bgCtx, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBG()
	reporterDone := make(chan struct{})
	go func() { defer close(reporterDone); w.reportLoop(bgCtx) }()
	hbDone := make(chan struct{})
	go func() { defer close(hbDone); w.heartbeatLoop(bgCtx) }()

	w.cfg.Logger.Info("worker started", "worker", w.cfg.ID, "parallel", w.cfg.Parallel, "prefetch", w.cfg.Prefetch)
	w.leaseLoop(ctx, jobs, slots)
	close(jobs)

	// Drain: running trials get Grace; then they are cancelled and released.
	w.cfg.Logger.Info("worker draining", "worker", w.cfg.ID, "grace", w.cfg.Grace)
	ran := make(chan struct{})
	go func() { runners.Wait(); close(ran) }()
	select {
	case <-ran:
	case <-time.After(w.cfg.Grace):
		stopRuns()
		<-ran
	}
	close(w.reports)
	select {
	case <-reporterDone:
	case <-time.After(w.cfg.Grace + 10*time.Second):
		stopBG()
		<-reporterDone
	}
	stopBG()
	<-hbDone
	w.cfg.Logger.Info("worker stopped", "worker", w.cfg.ID, "executions", w.Executions(), "reported", w.Reported())
	return nil
}

func key(sweep, trial string) string { return sweep + "/" + trial }

func (w *Worker) hold(j *job) {
	w.mu.Lock()
	w.held[key(j.lease.GetSweepId(), j.lease.GetTrialId())] = j
	w.mu.Unlock()
}

func (w *Worker) drop(l *pb.Lease) {
	w.mu.Lock()
	delete(w.held, key(l.GetSweepId(), l.GetTrialId()))
	w.mu.Unlock()
}
