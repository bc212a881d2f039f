package worker

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
)

// idle tracks when the coordinator last had work, for Config.ExitWhenIdle
// and Config.UntilDone. It is used by the lease loop alone.
type idle struct {
	since time.Time // when the coordinator was first seen without a running sweep; zero while it has one
}

// holdsNothing reports whether the worker has nothing queued, running or
// waiting for delivery.
func (w *Worker) holdsNothing() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.queue) == 0 && w.running == 0 && len(w.out.releases) == 0 && len(w.out.reports) == 0
}

// noMoreWork is asked after a lease call (started at asked) found nothing and
// the worker holds nothing: it reports whether the worker should stop —
// the sweep of UntilDone is finished, or no sweep has been running for
// ExitWhenIdle.
func (w *Worker) noMoreWork(ctx context.Context, st *idle, asked time.Time) bool {
	if id := w.cfg.UntilDone; id != "" {
		resp, err := w.client.GetSweep(ctx, &pb.GetSweepRequest{SweepId: id})
		switch {
		case status.Code(err) == codes.NotFound:
			w.abort(fmt.Errorf("until done: sweep %s: %s", id, status.Convert(err).Message()))
			return true
		case err != nil:
			w.cfg.Logger.Warn("sweep state unknown", "worker", w.cfg.ID, "sweep", id, "err", err)
		case resp.GetSweep().GetState() != pb.SweepState_SWEEP_STATE_RUNNING:
			w.cfg.Logger.Info("sweep finished: worker exits", "worker", w.cfg.ID, "sweep", id,
				"state", resp.GetSweep().GetState().String())
			return true
		}
	}
	if w.cfg.ExitWhenIdle <= 0 {
		return false
	}
	resp, err := w.client.ListSweeps(ctx, &pb.ListSweepsRequest{})
	if err != nil {
		w.cfg.Logger.Warn("sweeps unknown", "worker", w.cfg.ID, "err", err)
		return false
	}
	for _, sw := range resp.GetSweeps() {
		if sw.GetState() == pb.SweepState_SWEEP_STATE_RUNNING {
			st.since = time.Time{}
			return false
		}
	}
	if st.since.IsZero() {
		st.since = asked
	}
	if quiet := w.cfg.Now().Sub(st.since); quiet >= w.cfg.ExitWhenIdle {
		w.cfg.Logger.Info("no sweep running: worker exits", "worker", w.cfg.ID, "idle", quiet.Round(time.Second), "exit_when_idle", w.cfg.ExitWhenIdle)
		return true
	}
	return false
}
