// Package worker is the eosweep worker: it leases trials from a coordinator,
// runs them on the engine, heartbeats its leases while they run, and reports
// the results.
//
// # Basics
//
// Run keeps up to Parallel trials running, with up to Parallel×depth leased
// at once, several per LeaseTrial call: a fixed depth (Prefetch), or by
// default one chosen from the trials' run time and the coordinator's
// round-trip time, so that microsecond trials go hundreds to a call and
// minute-long ones one per free slot (see pacer). A refill is asked for as
// soon as a slot is idle or half of what is queued ahead has started, and
// takes all the room there is. Transport failures are
// retried with exponential backoff and jitter (at most 5 s apart); the gRPC
// connection itself reconnects with grpc-go's backoff (see
// internal/transport).
//
// # Errors
//
// Calls fail fast: a coordinator that cannot be reached is logged at once,
// as "cannot reach ADDR: why", and again at every retry (a WARN at most every
// 5 s), until a call goes through. An error that retrying cannot cure — a
// missing or wrong token (Unauthenticated), PermissionDenied, a TLS handshake
// the coordinator or the worker refuses (see transport.IsPermanent) — stops
// the worker: Run cancels its trials and returns the error, so that the
// process exits non-zero with the reason.
//
// # Reports
//
// Finished trials wait in an outbox and go to the coordinator in batches: one
// ReportResult call carries whatever is waiting, at most MaxReportBatch
// reports and MaxReportBytes of encoded reports (default DefaultReportBytes,
// 1 MiB: a quarter of gRPC's default message limit and a sixteenth of
// transport.MaxMessageBytes, so any coordinator accepts it). Hand-backs
// (released leases) go before results. A batch the coordinator refuses with
// ResourceExhausted is halved and sent again, down to a single report, and the
// byte bound of later batches halves with it (to 16 KiB at least). A single
// report still refused as too large (gRPC's "message larger than max") can
// never be delivered: it is logged and replaced by an error report naming its
// size, so the attempt is recorded (and the trial ends FAILED with that
// message once its attempts are used) instead of being retried forever. A
// single report refused with any other ResourceExhausted (a quota) is retried
// with backoff like any transient failure. A call refused as a whole with
// InvalidArgument is logged and dropped.
//
// While reports cannot be delivered (the last ReportResult failed) and the
// undelivered results reach Parallel, the worker stops leasing and hands back
// (releases) every lease it has not started, so that it no longer renews —
// through its heartbeats — trials it could not report anyway; other workers
// may take them. It leases again once a report goes through.
//
// # Shutdown
//
// With ExitWhenIdle or UntilDone, the worker also ends by itself once there
// is no work left (checked whenever a lease call finds nothing and the worker
// holds nothing), and Run returns nil: batch jobs (Slurm) release their
// allocation instead of idling until their time limit.
//
// When Run's context ends (SIGTERM), the worker stops leasing, hands back the
// leases it has not started, lets running trials finish, then cancels them and
// hands their leases back, reports what it has, and returns — all within
// Grace: trials may run until a reserve of min(Grace/4, 5 s) before it ends,
// kept for the last reports (at least 1 s). A process stopped with a deadline
// (Slurm's KillWait, Kubernetes' terminationGracePeriodSeconds) should get a
// Grace below that deadline.
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
	"google.golang.org/grpc/status"

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

// Report batches: the defaults of Config.MaxReportBytes and the fixed count bound.
const (
	// DefaultReportBytes bounds one ReportResult call's encoded reports
	// unless Config.MaxReportBytes says otherwise.
	DefaultReportBytes = 1 << 20
	// MaxReportBatch bounds one ReportResult call's reports by count.
	MaxReportBatch = 4096
	// minReportBytes is the least byte bound that splitting comes down to.
	minReportBytes = 16 << 10
)

// Config configures a Worker.
type Config struct {
	// ID names the worker in leases and logs (default host-pid).
	ID string
	// Coordinator is the coordinator's address as the user gave it, for
	// messages ("cannot reach ADDR: …").
	Coordinator string
	// Parallel is how many trials run at once (default runtime.NumCPU()).
	Parallel int
	// Prefetch is how many trials per slot may be held (running and
	// queued): 1 leases none ahead. 0 (the default) chooses it from the
	// observed trial and round-trip times, from 1 to MaxAutoPrefetch.
	Prefetch int
	// LeaseWait is the long-poll wait of one LeaseTrial call (default 10s).
	LeaseWait time.Duration
	// Grace bounds the drain after the context ends (default 30s): see the
	// package doc.
	Grace time.Duration
	// MaxReportBytes bounds the encoded reports of one ReportResult call
	// (default DefaultReportBytes).
	MaxReportBytes int
	// ExitWhenIdle, if positive, ends Run (as its context would, with
	// nil) once no sweep has been running on the coordinator for that long
	// and the worker holds nothing. A sweep waiting for its last trials
	// elsewhere, or between refinement rounds, is running.
	ExitWhenIdle time.Duration
	// UntilDone, if set, is a sweep id: Run ends once that sweep is done or
	// cancelled and the worker holds nothing; an unknown id is an error.
	UntilDone string
	// Now is the clock of ExitWhenIdle (default time.Now).
	Now func() time.Time
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
	if c.Prefetch < 0 {
		c.Prefetch = 0
	}
	if c.LeaseWait <= 0 {
		c.LeaseWait = 10 * time.Second
	}
	if c.Grace <= 0 {
		c.Grace = 30 * time.Second
	}
	if c.MaxReportBytes <= 0 {
		c.MaxReportBytes = DefaultReportBytes
	}
	if c.Runner == nil {
		c.Runner = RunnerFunc(engine.Run)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Coordinator == "" {
		c.Coordinator = "the coordinator"
	}
}

// Worker runs trials for one coordinator.
type Worker struct {
	cfg    Config
	client pb.CoordinatorServiceClient

	mu      sync.Mutex
	held    map[string]*job // leases held and not finished: queued or running
	queue   []*job          // leased, not started, oldest first
	running int             // jobs being executed
	leasing bool            // the lease loop may still add jobs
	out     outbox          // reports not yet delivered
	failing bool            // the last ReportResult call failed
	refused error           // a permanent error: the worker stops
	stop    context.CancelCauseFunc
	changed chan struct{} // closed (and replaced) at every change of queue, running, out, failing

	metrics    *metrics.Worker // nil without Config.Metrics
	pace       pacer
	ttl        atomic.Int64 // lease TTL in ns, from the coordinator (0 until known)
	executions atomic.Int64
	reported   atomic.Int64
}

type job struct {
	lease  *pb.Lease
	cancel context.CancelCauseFunc // set when the job starts running
	lost   bool                    // the lease was lost before cancel was set
}

// errLeaseLost cancels a trial whose lease the coordinator no longer honours.
var errLeaseLost = errors.New("lease lost")

// New returns a worker using client. It panics when Config.Metrics already
// holds a worker's metrics (a programming error, as with MustRegister).
func New(client pb.CoordinatorServiceClient, cfg Config) *Worker {
	cfg.defaults()
	w := &Worker{cfg: cfg, client: client, held: map[string]*job{},
		changed: make(chan struct{})}
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

// Run works until ctx ends, then drains (see the package doc). It returns an
// error only when the coordinator refused the worker for good.
func (w *Worker) Run(ctx context.Context) error {
	life, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	w.mu.Lock()
	w.leasing = true
	w.out.maxBytes = w.cfg.MaxReportBytes
	w.stop = stop
	w.mu.Unlock()
	runCtx, stopRuns := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRuns()
	var runners sync.WaitGroup
	for range w.cfg.Parallel {
		runners.Go(func() { w.runLoop(runCtx) })
	}
	bgCtx, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBG()
	reporterDone := make(chan struct{})
	go func() { defer close(reporterDone); w.reportLoop(bgCtx) }()
	hbDone := make(chan struct{})
	go func() { defer close(hbDone); w.heartbeatLoop(bgCtx) }()

	w.cfg.Logger.Info("worker started", "worker", w.cfg.ID, "coordinator", w.cfg.Coordinator, "parallel", w.cfg.Parallel, "prefetch", prefetchName(w.cfg.Prefetch))
	w.leaseLoop(life)
	if err := w.refusal(); err != nil {
		// Nothing can be delivered: stop at once.
		w.stopLeasing("the worker cannot go on")
		stopRuns()
		w.closeOutbox()
		stopBG()
		runners.Wait()
		<-reporterDone
		<-hbDone
		w.cfg.Logger.Error("worker stopped", "worker", w.cfg.ID, "err", err)
		return err
	}

	// Drain, within Grace: hand back what has not started; running trials
	// may finish until the reserve for the last reports, then they are
	// cancelled and handed back.
	end := time.Now().Add(w.cfg.Grace)
	reserve := min(w.cfg.Grace/4, 5*time.Second)
	w.cfg.Logger.Info("worker draining", "worker", w.cfg.ID, "grace", w.cfg.Grace)
	w.stopLeasing("worker shutting down")
	ran := make(chan struct{})
	go func() { runners.Wait(); close(ran) }()
	if !waitUntil(ran, end.Add(-reserve)) {
		stopRuns()
		<-ran
	}
	w.closeOutbox()
	if !waitUntil(reporterDone, later(end, time.Now().Add(time.Second))) {
		stopBG()
		<-reporterDone
	}
	stopBG()
	<-hbDone
	w.cfg.Logger.Info("worker stopped", "worker", w.cfg.ID, "executions", w.Executions(), "reported", w.Reported())
	return w.refusal() // a refusal while draining still says why
}

func prefetchName(n int) any {
	if n == 0 {
		return "auto"
	}
	return n
}

// waitUntil waits for done until the deadline; it reports whether done closed.
func waitUntil(done <-chan struct{}, deadline time.Time) bool {
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func key(sweep, trial string) string { return sweep + "/" + trial }

// refuse records a permanent refusal by the coordinator and stops the worker.
func (w *Worker) refuse(err error) {
	w.abort(fmt.Errorf("coordinator %s refused this worker: %s: %s", w.cfg.Coordinator, status.Code(err), status.Convert(err).Message()))
}

// abort records the error that stops the worker (the first one counts).
func (w *Worker) abort(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.refused == nil {
		w.refused = err
		w.stop(err)
	}
}

// refusal returns the permanent error that stopped the worker, if any.
func (w *Worker) refusal() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.refused
}

// notifyLocked wakes every waiter on w.changed. Callers hold w.mu.
func (w *Worker) notifyLocked() {
	close(w.changed)
	w.changed = make(chan struct{})
}

// stopLeasing ends leasing: no job is added any more, and the queued ones
// are handed back (why says why, in the log).
func (w *Worker) stopLeasing(why string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.leasing = false
	w.releaseQueuedLocked(why)
	w.notifyLocked()
}

// releaseQueuedLocked hands back every lease not started: it leaves held (no
// more heartbeats) and a release report goes to the outbox. Callers hold w.mu.
func (w *Worker) releaseQueuedLocked(why string) {
	if len(w.queue) == 0 {
		return
	}
	w.cfg.Logger.Info("handing back leases not started", "worker", w.cfg.ID, "leases", len(w.queue), "why", why)
	for _, j := range w.queue {
		delete(w.held, key(j.lease.GetSweepId(), j.lease.GetTrialId()))
		w.queueReportLocked(newReport(j.lease, func(r *pb.TrialReport) { r.Outcome = &pb.TrialReport_Released{Released: true} }))
	}
	w.queue = nil
	w.notifyLocked()
}
