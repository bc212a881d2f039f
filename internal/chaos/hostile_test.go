package chaos

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/eosweep/eosweep/engine/enginetest"
	"github.com/eosweep/eosweep/internal/wire"
	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
)

// maxWatches is the most idle WatchSweep streams the hostile client keeps open.
const maxWatches = 64

// hostile is a client that runs beside the real workers and does what no
// well-behaved client does. Every request it sends either must be refused
// (a spec over the limits, an oversized message, a forged token) or must not
// matter (garbage, idle streams); an answer that breaks that is a finding.
type hostile struct {
	c    *campaign
	rng  *mrand.Rand
	conn *grpc.ClientConn // large send limit, so the server is the one to refuse
	cl   pb.CoordinatorServiceClient
	// watchConn carries the idle streams, with the smallest flow-control
	// window, so the coordinator soon has to hold what they do not read.
	watchConn *grpc.ClientConn

	requests, refused, unanswered, watches, abandoned atomic.Int64

	mu      sync.Mutex
	cancels []context.CancelFunc // of the idle streams
	stopped bool
	done    chan struct{}
	accepts int // accepted hostile sweeps, at most one
}

func newHostile(c *campaign, rng *mrand.Rand) *hostile {
	conn, err := grpc.NewClient(c.addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(64<<20), grpc.MaxCallRecvMsgSize(64<<20)))
	if err != nil {
		c.t.Fatal(err)
	}
	watchConn, err := grpc.NewClient(c.addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithInitialWindowSize(64<<10), grpc.WithInitialConnWindowSize(64<<10))
	if err != nil {
		c.t.Fatal(err)
	}
	return &hostile{c: c, rng: rng, conn: conn, cl: pb.NewCoordinatorServiceClient(conn), watchConn: watchConn, done: make(chan struct{})}
}

// run sends hostile requests, one every 20-300 ms, until ctx is done or stop.
func (h *hostile) run(ctx context.Context) {
	defer close(h.done)
	acts := []struct {
		name string
		f    func(context.Context)
	}{
		{"oversized report", h.oversizedReport},
		{"oversized spec", h.oversizedSpec},
		{"garbage bytes", h.garbageTCP},
		{"garbage rpc", h.garbageRPC},
		{"forged tokens", h.forgedTokens},
		{"idle watch", h.idleWatch},
		{"non-advancing axis", h.nonAdvancing},
		{"huge grid", h.hugeGrid},
		{"bad fields", h.badFields},
		{"commented spec", h.commentedSpec},
		{"abandoned lease", h.abandonLease},
	}
	for {
		h.mu.Lock()
		stopped := h.stopped
		h.mu.Unlock()
		if stopped || ctx.Err() != nil {
			return
		}
		a := acts[h.rng.IntN(len(acts))]
		a.f(ctx)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Duration(20+h.rng.IntN(280)) * time.Millisecond):
		}
	}
}

// stop ends the requests and closes the idle streams.
func (h *hostile) stop() {
	h.mu.Lock()
	h.stopped = true
	h.mu.Unlock()
	<-h.done
	h.close()
}

func (h *hostile) close() {
	h.mu.Lock()
	for _, cancel := range h.cancels {
		cancel()
	}
	h.cancels = nil
	h.mu.Unlock()
	_ = h.conn.Close()
	_ = h.watchConn.Close()
}

// expectRefused counts a request that must be refused with one of codes;
// Unavailable and DeadlineExceeded (a killed or paused coordinator) are
// unanswered, anything else a finding — and so is no answer within the call's
// 5 s from a coordinator that was neither killed nor paused meanwhile (epoch
// is campaign.disturb when the request was made).
func (h *hostile) expectRefused(what string, epoch int64, err error, want ...codes.Code) {
	h.requests.Add(1)
	code := status.Code(err)
	switch {
	case err == nil:
		h.c.finding("hostile %s: accepted, want %v", what, want)
	case code == codes.DeadlineExceeded && epoch%2 == 0 && h.c.disturb.Load() == epoch:
		h.c.finding("hostile %s: no answer within 5 s from a coordinator neither killed nor paused meanwhile (%v)", what, err)
	case code == codes.Unavailable || code == codes.DeadlineExceeded || code == codes.Canceled:
		h.unanswered.Add(1)
	default:
		for _, w := range want {
			if code == w {
				h.refused.Add(1)
				return
			}
		}
		h.c.finding("hostile %s: refused with %v, want %v", what, err, want)
	}
}

func callCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, 5*time.Second)
}

// oversizedReport sends a ReportResult of 17-24 MiB: over the coordinator's
// 16 MiB message limit.
func (h *hostile) oversizedReport(ctx context.Context) {
	e := h.c.disturb.Load()
	ctx, cancel := callCtx(ctx)
	defer cancel()
	big := strings.Repeat("x", 17<<20+h.rng.IntN(7<<20))
	_, err := h.cl.ReportResult(ctx, &pb.ReportResultRequest{WorkerId: "hostile",
		Reports: []*pb.TrialReport{{SweepId: "x", TrialId: "y", Token: "z", Outcome: &pb.TrialReport_Error{Error: big}}}})
	h.expectRefused("ReportResult of 17+ MiB", e, err, codes.ResourceExhausted)
}

// oversizedSpec submits a valid spec under 2-4 MiB of comments.
func (h *hostile) oversizedSpec(ctx context.Context) {
	var b strings.Builder
	for b.Len() < 2<<20+h.rng.IntN(2<<20) {
		b.WriteString("# a comment line that makes the spec megabytes long, which the coordinator must refuse\n")
	}
	b.WriteString("name: hostile-comments\nmodel: single\ngrid:\n  seed: [0, 1]\nparams: {eta: 0.5, steps: 10}\n")
	h.refusedSpec(ctx, "spec of megabytes of comments", b.String(), codes.InvalidArgument, codes.ResourceExhausted)
}

// refusedSpec submits a spec the coordinator must refuse with one of want.
func (h *hostile) refusedSpec(ctx context.Context, what, yaml string, want ...codes.Code) {
	e := h.c.disturb.Load()
	ctx, cancel := callCtx(ctx)
	defer cancel()
	_, err := h.cl.SubmitSweep(ctx, &pb.SubmitSweepRequest{SpecYaml: yaml})
	h.expectRefused(what, e, err, want...)
}

// commentedSpec submits, once, a small valid sweep under 200 KiB of comments
// (under the spec limit, well under the ~1 MB of the known ListSweeps
// issue): it must be accepted, run and finished like any other.
func (h *hostile) commentedSpec(ctx context.Context) {
	h.mu.Lock()
	if h.accepts > 0 {
		h.mu.Unlock()
		h.nonAdvancing(ctx)
		return
	}
	h.mu.Unlock()
	ctx, cancel := callCtx(ctx)
	defer cancel()
	var b strings.Builder
	for b.Len() < 200<<10 {
		b.WriteString("# two hundred KiB of comments, under the limit: accepted\n")
	}
	b.WriteString("name: hostile-commented\nmodel: sparse\ngrid:\n  eta: [1.0e-3, 5.0e-3]\n  seed: [0, 1]\nparams: {width: 100, n: 150, lam: 3, horizon: 10}\n")
	h.requests.Add(1)
	resp, err := h.cl.SubmitSweep(ctx, &pb.SubmitSweepRequest{SpecYaml: b.String()})
	if err != nil {
		h.unanswered.Add(1)
		return
	}
	path := filepath.Join(h.c.dir, "hostile-commented.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		h.c.t.Error(err)
		return
	}
	h.mu.Lock()
	h.accepts++
	h.mu.Unlock()
	h.c.addSpec(specRun{path: path, sweep: resp.GetSweep().GetId(), what: "hostile spec with 200 KiB of comments"})
}

// nonAdvancing submits the axis of issue 9 item 2, whose v += 1 never
// changes v.
func (h *hostile) nonAdvancing(ctx context.Context) {
	h.refusedSpec(ctx, "spec with a non-advancing axis",
		"name: hostile-stuck-axis\nmodel: single\ngrid:\n  seed: {range: [1.0e17, 100000000000000016]}\nparams: {eta: 0.5, steps: 10}\n", codes.InvalidArgument)
}

// hugeGrid submits a grid of 10 million points (the limit is 100,000).
func (h *hostile) hugeGrid(ctx context.Context) {
	h.refusedSpec(ctx, "spec of a 10,000,000-trial grid",
		"name: hostile-huge\nmodel: single\ngrid:\n  eta: {logspace: [1.0e-4, 1, 10000]}\n  seed: {range: [0, 1000]}\nparams: {steps: 10}\n", codes.InvalidArgument)
}

// garbageTCP writes random bytes to the coordinator's port: not HTTP/2.
func (h *hostile) garbageTCP(ctx context.Context) {
	h.requests.Add(1)
	d := net.Dialer{Timeout: time.Second}
	conn, err := d.DialContext(ctx, "tcp", h.c.addr)
	if err != nil {
		h.unanswered.Add(1)
		return
	}
	defer conn.Close()
	buf := make([]byte, 1+h.rng.IntN(256<<10))
	_, _ = rand.Read(buf)
	_ = conn.SetDeadline(time.Now().Add(time.Second))
	_, _ = conn.Write(buf)
}

// rawCodec sends its []byte as the message, whatever the method expects.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) {
	if b, ok := v.(*[]byte); ok {
		return *b, nil
	}
	return nil, errors.New("rawCodec: not *[]byte")
}
func (rawCodec) Unmarshal(data []byte, v any) error {
	if b, ok := v.(*[]byte); ok {
		*b = append((*b)[:0], data...)
	}
	return nil
}
func (rawCodec) Name() string { return "proto" }

var _ encoding.Codec = rawCodec{}

// garbageRPC calls a method with random bytes for its request. The bytes
// may even decode (protobuf skips unknown fields); whatever they mean, the
// store is checked at the end.
func (h *hostile) garbageRPC(ctx context.Context) {
	methods := []string{"SubmitSweep", "ReportResult", "Heartbeat", "LeaseTrial", "ListTrials", "GetBoundary", "WatchSweep"}
	m := "/eosweep.v1.CoordinatorService/" + methods[h.rng.IntN(len(methods))]
	buf := make([]byte, h.rng.IntN(64<<10))
	_, _ = rand.Read(buf)
	ctx, cancel := callCtx(ctx)
	defer cancel()
	h.requests.Add(1)
	var out []byte
	var err error
	if strings.HasSuffix(m, "WatchSweep") {
		var s grpc.ClientStream
		if s, err = h.conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, m, grpc.ForceCodec(rawCodec{})); err == nil {
			if err = s.SendMsg(&buf); err == nil {
				_ = s.CloseSend()
				err = s.RecvMsg(&out)
			}
		}
	} else {
		err = h.conn.Invoke(ctx, m, &buf, &out, grpc.ForceCodec(rawCodec{}))
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded:
		h.unanswered.Add(1)
	case codes.Unknown:
		h.c.finding("hostile garbage %s: %v (an unknown error: a handler failed to classify it)", m, err)
	}
}

// forgedTokens heartbeats and reports the sweeps' leased trials with tokens
// the coordinator never issued: a result, an error and a release. None may
// be accepted.
func (h *hostile) forgedTokens(ctx context.Context) {
	specs := h.c.allSpecs()
	if len(specs) == 0 {
		return
	}
	sweep := specs[len(specs)-1].sweep
	lctx, cancel := callCtx(ctx)
	defer cancel()
	resp, err := h.cl.ListTrials(lctx, &pb.ListTrialsRequest{SweepId: sweep, PageSize: 50})
	h.requests.Add(1)
	if err != nil {
		h.unanswered.Add(1)
		return
	}
	var refs []*pb.LeaseRef
	var reports []*pb.TrialReport
	for i, tr := range resp.GetTrials() {
		tok := make([]byte, 16+h.rng.IntN(48))
		_, _ = rand.Read(tok)
		forged := fmt.Sprintf("%x", tok)
		refs = append(refs, &pb.LeaseRef{SweepId: sweep, TrialId: tr.GetId(), Token: forged})
		r := &pb.TrialReport{SweepId: sweep, TrialId: tr.GetId(), Token: forged}
		switch i % 3 {
		case 0:
			r.Outcome = &pb.TrialReport_Result{Result: wire.ResultToProto(enginetest.ResultBias(1000, -12345))}
		case 1:
			r.Outcome = &pb.TrialReport_Error{Error: "forged failure"}
		default:
			r.Outcome = &pb.TrialReport_Released{Released: true}
		}
		reports = append(reports, r)
	}
	if len(refs) == 0 {
		return
	}
	hctx, hcancel := callCtx(ctx)
	defer hcancel()
	hb, err := h.cl.Heartbeat(hctx, &pb.HeartbeatRequest{WorkerId: "hostile", Leases: refs})
	h.requests.Add(1)
	switch {
	case err == nil && len(hb.GetLost()) != len(refs):
		h.c.finding("hostile heartbeat with %d forged tokens: %d leases extended", len(refs), len(refs)-len(hb.GetLost()))
	case err == nil || status.Code(err) == codes.InvalidArgument || status.Code(err) == codes.PermissionDenied:
		h.refused.Add(1)
	default:
		h.unanswered.Add(1)
	}
	rctx, rcancel := callCtx(ctx)
	defer rcancel()
	rr, err := h.cl.ReportResult(rctx, &pb.ReportResultRequest{WorkerId: "hostile", Reports: reports})
	h.requests.Add(1)
	if err != nil {
		if c := status.Code(err); c == codes.InvalidArgument || c == codes.PermissionDenied {
			h.refused.Add(1)
		} else {
			h.unanswered.Add(1)
		}
		return
	}
	for _, o := range rr.GetOutcomes() {
		switch o.GetStatus() {
		case pb.ReportStatus_REPORT_STATUS_ACCEPTED, pb.ReportStatus_REPORT_STATUS_FAILURE_RECORDED, pb.ReportStatus_REPORT_STATUS_RELEASED:
			h.c.finding("hostile report of trial %s with a forged token: %v (%s)", o.GetTrialId(), o.GetStatus(), o.GetMessage())
		}
	}
	h.refused.Add(1)
}

// idleWatch opens a WatchSweep stream that is never read.
func (h *hostile) idleWatch(ctx context.Context) {
	specs := h.c.allSpecs()
	h.mu.Lock()
	n := len(h.cancels)
	h.mu.Unlock()
	if len(specs) == 0 || n >= maxWatches {
		h.badFields(ctx)
		return
	}
	sctx, cancel := context.WithCancel(ctx)
	h.requests.Add(1)
	if _, err := pb.NewCoordinatorServiceClient(h.watchConn).WatchSweep(sctx, &pb.WatchSweepRequest{SweepId: specs[len(specs)-1].sweep}); err != nil {
		cancel()
		h.unanswered.Add(1)
		return
	}
	h.watches.Add(1)
	h.mu.Lock()
	h.cancels = append(h.cancels, cancel)
	h.mu.Unlock()
}

// badFields sends requests with fields out of range.
func (h *hostile) badFields(ctx context.Context) {
	e := h.c.disturb.Load()
	ctx, cancel := callCtx(ctx)
	defer cancel()
	switch h.rng.IntN(3) {
	case 0:
		_, err := h.cl.LeaseTrial(ctx, &pb.LeaseTrialRequest{WorkerId: "hostile", MaxTrials: -int32(1 + h.rng.IntN(1000))})
		h.expectRefused("LeaseTrial with max_trials < 0", e, err, codes.InvalidArgument)
	case 1:
		_, err := h.cl.ListTrials(ctx, &pb.ListTrialsRequest{SweepId: "nope", PageSize: -1})
		h.expectRefused("ListTrials with page_size -1", e, err, codes.InvalidArgument, codes.NotFound)
	default:
		_, err := h.cl.GetSweep(ctx, &pb.GetSweepRequest{SweepId: strings.Repeat("z", 1<<20)})
		h.expectRefused("GetSweep with a 1 MiB id", e, err, codes.InvalidArgument, codes.NotFound)
	}
}

// abandonLease leases a trial and never heartbeats or reports it, as a
// worker that hangs would: the lease expires after the TTL and the trial is
// run by a real worker (stored once all the same).
func (h *hostile) abandonLease(ctx context.Context) {
	ctx, cancel := callCtx(ctx)
	defer cancel()
	h.requests.Add(1)
	resp, err := h.cl.LeaseTrial(ctx, &pb.LeaseTrialRequest{WorkerId: "hostile-hangs", MaxTrials: 1, Wait: durationpb.New(100 * time.Millisecond)})
	if err != nil {
		h.unanswered.Add(1)
		return
	}
	h.abandoned.Add(int64(len(resp.GetLeases())))
}
