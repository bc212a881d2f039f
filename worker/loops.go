package worker

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/eosweep/eosweep/engine"
	"github.com/eosweep/eosweep/internal/metrics"
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

// leaseLoop leases as many trials as there are free slots until ctx ends.
func (w *Worker) leaseLoop(ctx context.Context, jobs chan<- *job, slots chan struct{}) {
	bo := backoff{base: 100 * time.Millisecond, cap: 10 * time.Second}
	for {
		select { // wait for one free slot, then take every free one
		case slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		n := 1
	more:
		for n < cap(slots) {
			select {
			case slots <- struct{}{}:
				n++
			default:
				break more
			}
		}
		callCtx, cancel := context.WithTimeout(ctx, w.cfg.LeaseWait+15*time.Second)
		resp, err := w.client.LeaseTrial(callCtx, &pb.LeaseTrialRequest{WorkerId: w.cfg.ID, MaxTrials: int32(n),
			Wait: durationpb.New(w.cfg.LeaseWait), AllowExec: w.cfg.Exec != nil}, grpc.WaitForReady(true))
		cancel()
		got := len(resp.GetLeases())
		for range n - got {
			<-slots
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			d := bo.next()
			w.cfg.Logger.Warn("lease failed; retrying", "worker", w.cfg.ID, "err", err, "backoff", d)
			if !sleep(ctx, d) {
				return
			}
			continue
		}
		bo.reset()
		if t := resp.GetLeaseTtl().AsDuration(); t > 0 {
			w.ttl.Store(int64(t))
		}
		for _, l := range resp.GetLeases() {
			j := &job{lease: l}
			w.hold(j)
			jobs <- j
		}
	}
}

// runLoop runs queued jobs; once ctx (the worker's life) has ended, jobs not
// yet started are handed back instead.
func (w *Worker) runLoop(ctx, runCtx context.Context, jobs <-chan *job, slots <-chan struct{}) {
	for j := range jobs {
		if ctx.Err() != nil {
			w.drop(j.lease)
			w.send(j.lease, func(r *pb.TrialReport) { r.Outcome = &pb.TrialReport_Released{Released: true} })
		} else {
			w.execute(runCtx, j)
		}
		<-slots
	}
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
	if lost {
		w.drop(l)
		w.cfg.Logger.Info("trial skipped: lease lost before it ran", "sweep", l.GetSweepId(), "trial", l.GetTrialId())
		return
	}
	run, err := w.runner(l)
	if err != nil {
		w.drop(l)
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
	w.drop(l)
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

func (w *Worker) send(l *pb.Lease, set func(*pb.TrialReport)) {
	r := &pb.TrialReport{SweepId: l.GetSweepId(), TrialId: l.GetTrialId(), Token: l.GetToken()}
	set(r)
	w.reports <- r
}

// maxReportBatch bounds the reports of one ReportResult call.
const maxReportBatch = 512

// reportLoop sends whatever reports are waiting in one call, retrying
// transport failures with backoff, until the reports channel is closed and
// empty or ctx ends.
func (w *Worker) reportLoop(ctx context.Context) {
	bo := backoff{base: 50 * time.Millisecond, cap: 5 * time.Second}
	var batch []*pb.TrialReport
	open := true
	for open || len(batch) > 0 {
		if len(batch) == 0 {
			r, ok := <-w.reports
			if !ok {
				return
			}
			batch = append(batch, r)
		}
	gather:
		for open && len(batch) < maxReportBatch {
			select {
			case r, ok := <-w.reports:
				if !ok {
					open = false
					break gather
				}
				batch = append(batch, r)
			default:
				break gather
			}
		}
		if err := w.report(ctx, batch); err != nil {
			d := bo.next()
			w.cfg.Logger.Warn("report failed; retrying", "worker", w.cfg.ID, "reports", len(batch), "err", err, "backoff", d)
			if !sleep(ctx, d) {
				w.cfg.Logger.Error("reports not delivered", "worker", w.cfg.ID, "reports", len(batch))
				return
			}
			continue
		}
		bo.reset()
		batch = batch[:0]
	}
}

// report sends one batch. It returns an error only when the batch should be retried.
func (w *Worker) report(ctx context.Context, batch []*pb.TrialReport) error {
	callCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	resp, err := w.client.ReportResult(callCtx, &pb.ReportResultRequest{WorkerId: w.cfg.ID, Reports: batch}, grpc.WaitForReady(true))
	if status.Code(err) == codes.InvalidArgument {
		w.cfg.Logger.Error("reports rejected", "worker", w.cfg.ID, "reports", len(batch), "err", err)
		return nil
	}
	if err != nil {
		return err
	}
	w.reported.Add(int64(len(batch)))
	for i, o := range resp.GetOutcomes() {
		if o.GetStatus() == pb.ReportStatus_REPORT_STATUS_REJECTED {
			var sweep string
			if i < len(batch) && batch[i].GetTrialId() == o.GetTrialId() {
				sweep = batch[i].GetSweepId()
			}
			w.cfg.Logger.Warn("report rejected", "worker", w.cfg.ID, "sweep", sweep, "trial", o.GetTrialId(), "reason", o.GetMessage())
		}
	}
	return nil
}

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
		if len(refs) == 0 {
			continue
		}
		callCtx, cancel := context.WithTimeout(ctx, every)
		resp, err := w.client.Heartbeat(callCtx, &pb.HeartbeatRequest{WorkerId: w.cfg.ID, Leases: refs})
		cancel()
		if err != nil {
			w.cfg.Logger.Warn("heartbeat failed", "worker", w.cfg.ID, "err", err)
			continue
		}
		for _, l := range resp.GetLost() {
			w.mu.Lock()
			var cancel context.CancelCauseFunc
			if j := w.held[key(l.GetSweepId(), l.GetTrialId())]; j != nil {
				j.lost = true     // a job still waiting for a runner is skipped
				cancel = j.cancel // nil until the job runs
			}
			w.mu.Unlock()
			if cancel != nil {
				cancel(errLeaseLost)
			}
		}
	}
}
