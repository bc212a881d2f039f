package worker

import (
	"context"
	"fmt"
	"slices"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/eosweep/eosweep/internal/transport"
	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
)

// pending is a report waiting for delivery, with its encoded size inside a
// ReportResultRequest.
type pending struct {
	r    *pb.TrialReport
	size int
}

func newPending(r *pb.TrialReport) pending {
	return pending{r: r, size: protowire.SizeTag(2) + protowire.SizeBytes(proto.Size(r))}
}

func (p pending) release() bool {
	_, ok := p.r.GetOutcome().(*pb.TrialReport_Released)
	return ok
}

// outbox holds the reports not yet delivered. Guarded by Worker.mu.
type outbox struct {
	releases []pending // hand-backs: they go first
	reports  []pending // results and errors, oldest first
	results  int       // results and errors waiting or being sent: the backlog
	closed   bool      // no more reports will come
	maxBytes int       // byte bound of one batch
}

// queueReportLocked adds a report to the outbox. Callers hold w.mu.
func (w *Worker) queueReportLocked(r *pb.TrialReport) {
	p := newPending(r)
	if p.release() {
		w.out.releases = append(w.out.releases, p)
	} else {
		w.out.reports = append(w.out.reports, p)
		w.out.results++
	}
	w.notifyLocked()
}

// closeOutbox says that no more reports will come: the reporter returns once
// it has delivered what is waiting.
func (w *Worker) closeOutbox() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.out.closed = true
	w.notifyLocked()
}

// take waits for reports and takes a batch of them: hand-backs first, then
// results in order, within MaxReportBatch and the byte bound (a single report
// over the bound goes alone). It returns false once the outbox is closed and
// empty.
func (w *Worker) take() ([]pending, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for len(w.out.releases) == 0 && len(w.out.reports) == 0 {
		if w.out.closed {
			return nil, false
		}
		ch := w.changed
		w.mu.Unlock()
		<-ch
		w.mu.Lock()
	}
	var batch []pending
	bytes := 0
	for _, list := range []*[]pending{&w.out.releases, &w.out.reports} {
		n := 0
		for _, p := range *list {
			if len(batch) == MaxReportBatch || (len(batch) > 0 && bytes+p.size > w.out.maxBytes) {
				break
			}
			batch = append(batch, p)
			bytes += p.size
			n++
		}
		*list = slices.Delete(*list, 0, n)
	}
	return batch, true
}

// putBack returns undelivered reports to the front of the outbox.
func (w *Worker) putBack(rest []pending) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var releases, reports []pending
	for _, p := range rest {
		if p.release() {
			releases = append(releases, p)
		} else {
			reports = append(reports, p)
		}
	}
	w.out.releases = append(releases, w.out.releases...)
	w.out.reports = append(reports, w.out.reports...)
}

// settled records that reports left the outbox for good (delivered, or
// dropped as undeliverable), and that delivery works.
func (w *Worker) settled(done []pending) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, p := range done {
		if !p.release() {
			w.out.results--
		}
	}
	w.failing = false
	w.notifyLocked()
}

// deliveryFailed records a failed ReportResult: leasing may stall and the
// queued leases be handed back.
func (w *Worker) deliveryFailed() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.failing = true
	w.checkStallLocked()
	w.notifyLocked()
}

// shrink lowers the byte bound of later batches after a refused one of bytes.
func (w *Worker) shrink(bytes int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.out.maxBytes = max(min(w.out.maxBytes, bytes)/2, minReportBytes)
}

// reportLoop delivers the outbox's reports, retrying transient failures with
// backoff, until the outbox is closed and empty or ctx ends.
func (w *Worker) reportLoop(ctx context.Context) {
	bo := backoff{base: 50 * time.Millisecond, cap: 5 * time.Second}
	for {
		batch, ok := w.take()
		if !ok {
			return
		}
		rest, err := w.deliver(ctx, batch)
		if err == nil {
			bo.reset()
			continue
		}
		w.putBack(rest)
		w.deliveryFailed()
		if transport.IsPermanent(err) {
			w.refuse(err)
			return
		}
		if ctx.Err() == nil {
			d := bo.next()
			w.logCallFailure("report", err, bo.n, d)
			if sleep(ctx, d) {
				continue
			}
		}
		w.mu.Lock()
		lost := len(w.out.releases) + len(w.out.reports)
		w.mu.Unlock()
		w.cfg.Logger.Error("reports not delivered", "worker", w.cfg.ID, "reports", lost)
		return
	}
}

// deliver sends a batch, halving the part sent after every ResourceExhausted
// (see the package doc). It returns nil once every report is settled, or the
// error that stopped it with the reports not settled.
func (w *Worker) deliver(ctx context.Context, batch []pending) ([]pending, error) {
	limit := len(batch)
	for len(batch) > 0 {
		chunk := batch[:min(limit, len(batch))]
		err := w.report(ctx, chunk)
		switch {
		case err == nil:
			w.settled(chunk)
			batch = batch[len(chunk):]
		case status.Code(err) == codes.ResourceExhausted && len(chunk) > 1:
			bytes := 0
			for _, p := range chunk {
				bytes += p.size
			}
			w.shrink(bytes)
			limit = len(chunk) / 2
			w.cfg.Logger.Info("report batch refused as too large; splitting it", "worker", w.cfg.ID,
				"reports", len(chunk), "bytes", bytes, "err", status.Convert(err).Message())
		case transport.IsMessageTooLarge(err):
			p := chunk[0]
			w.cfg.Logger.Error("report refused as too large; it cannot be delivered", "worker", w.cfg.ID,
				"sweep", p.r.GetSweepId(), "trial", p.r.GetTrialId(), "bytes", p.size, "err", status.Convert(err).Message())
			if _, isErr := p.r.GetOutcome().(*pb.TrialReport_Error); isErr || p.release() {
				w.settled(chunk) // dropped: nothing smaller can say it
				batch = batch[1:]
				continue
			}
			batch[0] = newPending(&pb.TrialReport{SweepId: p.r.GetSweepId(), TrialId: p.r.GetTrialId(), Token: p.r.GetToken(),
				Outcome: &pb.TrialReport_Error{Error: fmt.Sprintf("the worker's report of %d bytes is over the coordinator's message limit (%s)",
					p.size, status.Convert(err).Message())}})
		default:
			return batch, err
		}
	}
	return nil, nil
}

// report sends one ReportResult call. It returns an error only when the
// reports are not settled: a call refused as a whole with InvalidArgument is
// logged and settled.
func (w *Worker) report(ctx context.Context, batch []pending) error {
	req := &pb.ReportResultRequest{WorkerId: w.cfg.ID, Reports: make([]*pb.TrialReport, len(batch))}
	for i, p := range batch {
		req.Reports[i] = p.r
	}
	callCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	start := time.Now()
	resp, err := w.client.ReportResult(callCtx, req)
	if err == nil {
		w.pace.roundTrip(time.Since(start))
	}
	if status.Code(err) == codes.InvalidArgument {
		w.cfg.Logger.Error("reports rejected", "worker", w.cfg.ID, "reports", len(batch), "err", err)
		return nil
	}
	if err != nil {
		return err
	}
	w.reported.Add(int64(len(batch)))
	for i, o := range resp.GetOutcomes() {
		if o.GetStatus() != pb.ReportStatus_REPORT_STATUS_REJECTED {
			continue
		}
		var sweep string
		release := false
		if i < len(batch) && batch[i].r.GetTrialId() == o.GetTrialId() {
			sweep, release = batch[i].r.GetSweepId(), batch[i].release()
		}
		log := w.cfg.Logger.Warn
		if release {
			log = w.cfg.Logger.Debug // a hand-back of a lease already void: nothing lost
		}
		log("report rejected", "worker", w.cfg.ID, "sweep", sweep, "trial", o.GetTrialId(), "reason", o.GetMessage())
	}
	return nil
}
