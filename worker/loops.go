package worker

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/eosweep/eosweep/engine"
	"github.com/eosweep/eosweep/internal/metrics"
	"github.com/eosweep/eosweep/internal/transport"
	"github.com/eosweep/eosweep/internal/wire"
	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
	"github.com/eosweep/eosweep/worker/execrun"
)

// backoff is exponential backoff with full jitter between base and cap.
type backoff struct {
	base, cap time.Duration
	n         int
}

func (b *backoff) next() time.Duration {
	d := min(b.base<<min(b.n, 20), b.cap)
	b.n++
	return d/2 + rand.N(d/2+1)
}

func (b *backoff) reset() { b.n = 0 }

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// maxLeaseBatch bounds the trials asked for in one LeaseTrial call, about
// 400 KB of leases (the coordinator's own bound is scheduler.MaxLeaseBatch,
// 4096).
const maxLeaseBatch = 2048

// depth is how many trials per slot the worker holds at most.
func (w *Worker) depth() int {
	if w.cfg.Prefetch > 0 {
		return w.cfg.Prefetch
	}
	return max(min(w.pace.depth(), w.pace.maxHeld()/w.cfg.Parallel), 1)
}

// capacity is how many leases the worker holds at most (queued and running).
func (w *Worker) capacity() int { return w.cfg.Parallel * w.depth() }

// stalledLocked reports whether leasing must wait for the reports: too many
// undelivered (twice the capacity), or delivery failing with a slot's worth
// waiting. Callers hold w.mu.
func (w *Worker) stalledLocked() bool {
	backlog := w.out.results
	return backlog >= 2*w.capacity() || (w.failing && backlog >= w.cfg.Parallel)
}

// checkStallLocked hands back the queued leases when delivery fails with a
// slot's worth of results waiting. Callers hold w.mu.
func (w *Worker) checkStallLocked() {
	if w.failing && w.out.results >= w.cfg.Parallel && len(w.queue) > 0 {
		w.releaseQueuedLocked("reports cannot be delivered")
	}
}

// leaseRoom waits until the worker should lease — a slot is idle, or half
// of what may be queued ahead is free — and returns how many trials to ask
// for (all the room there is); 0 when ctx ends first.
func (w *Worker) leaseRoom(ctx context.Context) int {
	w.mu.Lock()
	for {
		depth := w.depth()
		free := w.cfg.Parallel*depth - len(w.queue) - w.running
		idle := len(w.queue) == 0 && w.running < w.cfg.Parallel
		refill := max(1, w.cfg.Parallel*(depth-1)/2)
		if free > 0 && (idle || free >= refill) && !w.stalledLocked() {
			w.mu.Unlock()
			return min(free, maxLeaseBatch)
		}
		ch := w.changed
		w.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return 0
		}
		w.mu.Lock()
	}
}

// retryCap is the longest pause between retries of a failed call.
const retryCap = 5 * time.Second

// leaseLoop leases trials while there is room until ctx ends.
func (w *Worker) leaseLoop(ctx context.Context) {
	bo := backoff{base: 100 * time.Millisecond, cap: retryCap}
	var quiet idle
	for {
		n := w.leaseRoom(ctx)
		if n == 0 {
			return
		}
		callCtx, cancel := context.WithTimeout(ctx, w.cfg.LeaseWait+15*time.Second)
		start := time.Now()
		asked := w.cfg.Now()
		resp, err := w.client.LeaseTrial(callCtx, &pb.LeaseTrialRequest{WorkerId: w.cfg.ID, MaxTrials: int32(n),
			Wait: durationpb.New(w.cfg.LeaseWait), AllowExec: w.cfg.Exec != nil})
		cancel()
		if len(resp.GetLeases()) == n {
			w.pace.roundTrip(time.Since(start)) // answered at once: it did not wait for work
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if transport.IsPermanent(err) {
				w.refuse(err)
				return
			}
			d := bo.next()
			w.logCallFailure("lease", err, bo.n, d)
			if !sleep(ctx, d) {
				return
			}
			continue
		}
		if bo.n > 0 {
			w.cfg.Logger.Info("coordinator reachable again", "worker", w.cfg.ID, "coordinator", w.cfg.Coordinator, "failed_attempts", bo.n)
		}
		bo.reset()
		if t := resp.GetLeaseTtl().AsDuration(); t > 0 {
			w.ttl.Store(int64(t))
		}
		if len(resp.GetLeases()) > 0 {
			quiet = idle{}
		} else if (w.cfg.ExitWhenIdle > 0 || w.cfg.UntilDone != "") && w.holdsNothing() && w.noMoreWork(ctx, &quiet, asked) {
			return
		}
		w.enqueue(resp.GetLeases())
	}
}

// logCallFailure logs a failed call that will be retried: "cannot reach
// ADDR: why" when the coordinator is unreachable, else what failed.
func (w *Worker) logCallFailure(call string, err error, attempt int, retryIn time.Duration) {
	if status.Code(err) == codes.Unavailable {
		w.cfg.Logger.Warn(fmt.Sprintf("cannot reach %s: %s", w.cfg.Coordinator, status.Convert(err).Message()),
			"worker", w.cfg.ID, "call", call, "attempt", attempt, "retry_in", retryIn)
		return
	}
	w.cfg.Logger.Warn(call+" failed; retrying", "worker", w.cfg.ID, "coordinator", w.cfg.Coordinator,
		"err", err, "attempt", attempt, "retry_in", retryIn)
}

// enqueue adds leased trials to the queue (or hands them back at once when
// leasing has ended meanwhile).
func (w *Worker) enqueue(leases []*pb.Lease) {
	if len(leases) == 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pace.leased(proto.Size(leases[0]))
	for _, l := range leases {
		j := &job{lease: l}
		w.held[key(l.GetSweepId(), l.GetTrialId())] = j
		w.queue = append(w.queue, j)
	}
	if !w.leasing {
		w.releaseQueuedLocked("worker shutting down")
	}
	w.notifyLocked()
}

// next waits for a queued job and marks it running; nil once leasing has
// ended and the queue is empty.
func (w *Worker) next() *job {
	w.mu.Lock()
	defer w.mu.Unlock()
	for {
		if len(w.queue) > 0 {
			j := w.queue[0]
			w.queue[0] = nil
			w.queue = w.queue[1:]
			w.running++
			w.notifyLocked()
			return j
		}
		if !w.leasing {
			return nil
		}
		ch := w.changed
		w.mu.Unlock()
		<-ch
		w.mu.Lock()
	}
}

// runLoop runs queued jobs until there are no more.
func (w *Worker) runLoop(runCtx context.Context) {
	for j := w.next(); j != nil; j = w.next() {
		w.execute(runCtx, j)
		w.mu.Lock()
		w.running--
		w.notifyLocked()
		w.mu.Unlock()
	}
}

// lost forgets the queued job of a lost lease; for a running one it returns
// the job's cancel function (nil until the job can be cancelled).
func (w *Worker) lost(l *pb.LeaseRef) context.CancelCauseFunc {
	w.mu.Lock()
	defer w.mu.Unlock()
	k := key(l.GetSweepId(), l.GetTrialId())
	j := w.held[k]
	if j == nil {
		return nil
	}
	if i := slices.Index(w.queue, j); i >= 0 {
		w.queue = slices.Delete(w.queue, i, i+1)
		delete(w.held, k)
		w.notifyLocked()
		w.cfg.Logger.Info("trial skipped: lease lost before it ran", "sweep", l.GetSweepId(), "trial", l.GetTrialId())
		return nil
	}
	if j.cancel == nil {
		j.lost = true // running, but not yet cancellable: execute checks
	}
	return j.cancel
}

// execute runs one leased trial and queues its report.
func (w *Worker) execute(runCtx context.Context, j *job) {
	l := j.lease
	jctx, cancel := context.WithCancelCause(runCtx)
	defer cancel(nil)
	w.mu.Lock()
	j.cancel = cancel
	lost := j.lost
	w.mu.Unlock()
	defer w.drop(l)
	if lost {
		w.cfg.Logger.Info("trial skipped: lease lost before it ran", "sweep", l.GetSweepId(), "trial", l.GetTrialId())
		return
	}
	run, err := w.runner(l)
	if err != nil {
		w.send(l, func(r *pb.TrialReport) { r.Outcome = &pb.TrialReport_Error{Error: err.Error()} })
		return
	}
	w.executions.Add(1)
	if w.cfg.OnRun != nil {
		w.cfg.OnRun(l.GetSweepId(), l.GetTrialId())
	}
	start := time.Now()
	res, err := run(jctx)
	w.record(jctx, start, res, err)
	w.pace.trialRan(time.Since(start))
	switch {
	case err == nil:
		w.cfg.Logger.Debug("trial done", "worker", w.cfg.ID, "sweep", l.GetSweepId(), "trial", l.GetTrialId(),
			"final_bias", res.FinalBias, "diverged", res.Diverged, "wall_ms", res.WallMS)
		w.send(l, func(r *pb.TrialReport) { r.Outcome = &pb.TrialReport_Result{Result: wire.ResultToProto(res)} })
	case errors.Is(context.Cause(jctx), errLeaseLost):
		w.cfg.Logger.Info("trial abandoned: lease lost", "sweep", l.GetSweepId(), "trial", l.GetTrialId())
	case runCtx.Err() != nil:
		w.send(l, func(r *pb.TrialReport) { r.Outcome = &pb.TrialReport_Released{Released: true} })
	default:
		w.cfg.Logger.Warn("trial failed", "sweep", l.GetSweepId(), "trial", l.GetTrialId(), "err", err)
		w.send(l, func(r *pb.TrialReport) { r.Outcome = &pb.TrialReport_Error{Error: err.Error()} })
	}
}

// runner returns what runs a leased trial: its program on Config.Exec for an
// exec trial, the engine (Config.Runner) on its resolved configuration
// otherwise.
func (w *Worker) runner(l *pb.Lease) (func(context.Context) (engine.Result, error), error) {
	if x := l.GetExec(); x != nil || l.GetModel() == engine.ModelExec {
		if w.cfg.Exec == nil {
			return nil, errors.New("exec trial leased to a worker without --allow-exec (it does not run programs)")
		}
		t := execrun.Trial{Sweep: l.GetSweepId(), ID: l.GetTrialId(), Command: x.GetCommand(), Env: x.GetEnv(),
			Workdir: x.GetWorkdir(), Timeout: x.GetTimeout().AsDuration(), Params: l.GetParams(),
			Progress: func(p engine.Point) {
				w.cfg.Logger.Debug("trial progress", "sweep", l.GetSweepId(), "trial", l.GetTrialId(),
					"step", p.Step, "loss", p.Loss, "bias", p.Bias, "sharpness", p.Sharpness)
			}}
		return func(ctx context.Context) (engine.Result, error) { return w.cfg.Exec.Run(ctx, t) }, nil
	}
	cfg, err := engine.Resolve(l.GetModel(), l.GetParams())
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) (engine.Result, error) { return w.cfg.Runner.Run(ctx, cfg) }, nil
}

// record counts one run (the engine's or a program's) with its outcome and time.
func (w *Worker) record(jctx context.Context, start time.Time, res engine.Result, err error) {
	outcome := metrics.TrialOK
	switch {
	case err != nil && jctx.Err() != nil:
		outcome = metrics.TrialCancelled
	case err != nil:
		outcome = metrics.TrialError
	case res.Diverged:
		outcome = metrics.TrialDiverged
	}
	w.metrics.TrialRun(outcome, time.Since(start))
}

// drop forgets a lease that is finished (no more heartbeats).
func (w *Worker) drop(l *pb.Lease) {
	w.mu.Lock()
	delete(w.held, key(l.GetSweepId(), l.GetTrialId()))
	w.mu.Unlock()
}

// newReport returns the report of lease l, its outcome set by set.
func newReport(l *pb.Lease, set func(*pb.TrialReport)) *pb.TrialReport {
	r := &pb.TrialReport{SweepId: l.GetSweepId(), TrialId: l.GetTrialId(), Token: l.GetToken()}
	set(r)
	return r
}

// send queues the report of lease l for delivery.
func (w *Worker) send(l *pb.Lease, set func(*pb.TrialReport)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.queueReportLocked(newReport(l, set))
	w.checkStallLocked()
}

// heartbeatBatch bounds the leases of one Heartbeat call (about 100 bytes each).
const heartbeatBatch = 2048

// heartbeatLoop extends every held lease every TTL/3 and cancels the trials
// whose leases are lost.
func (w *Worker) heartbeatLoop(ctx context.Context) {
	for {
		every := time.Duration(w.ttl.Load()) / 3
		if every <= 0 {
			every = 100 * time.Millisecond // no lease yet: the TTL is unknown
		}
		if !sleep(ctx, every) {
			return
		}
		w.mu.Lock()
		refs := make([]*pb.LeaseRef, 0, len(w.held))
		for _, j := range w.held {
			refs = append(refs, &pb.LeaseRef{SweepId: j.lease.GetSweepId(), TrialId: j.lease.GetTrialId(), Token: j.lease.GetToken()})
		}
		w.mu.Unlock()
		for chunk := range slices.Chunk(refs, heartbeatBatch) {
			callCtx, cancel := context.WithTimeout(ctx, every)
			resp, err := w.client.Heartbeat(callCtx, &pb.HeartbeatRequest{WorkerId: w.cfg.ID, Leases: chunk})
			cancel()
			if err != nil {
				if transport.IsPermanent(err) {
					w.refuse(err)
					return
				}
				w.cfg.Logger.Warn("heartbeat failed", "worker", w.cfg.ID, "err", err)
				break
			}
			for _, l := range resp.GetLost() {
				if cancel := w.lost(l); cancel != nil {
					cancel(errLeaseLost)
				}
			}
		}
	}
}
