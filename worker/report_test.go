package worker_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/eosweep/eosweep/coordinator"
	"github.com/eosweep/eosweep/coordinator/coordinatortest"
	"github.com/eosweep/eosweep/coordinator/scheduler"
	"github.com/eosweep/eosweep/coordinator/store"
	"github.com/eosweep/eosweep/engine"
	"github.com/eosweep/eosweep/engine/enginetest"
	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
	"github.com/eosweep/eosweep/worker"
)

// fullResult is a valid result of a steps-step run with a full 255-point
// trajectory of non-zero values: about 8.4 KB encoded, like a `single` trial
// with sharpness_every: 1.
func fullResult(steps int) engine.Result {
	r := enginetest.Result(steps)
	r.Trajectory = make([]engine.Point, 255)
	for i := range r.Trajectory {
		r.Trajectory[i] = engine.Point{Step: i * steps / 254, Loss: 0.5 + float64(i)/1e3, Bias: -0.1 - float64(i)/1e4, Sharpness: 1.5 + float64(i)/1e5}
	}
	r.FinalBias, r.FinalLoss = -0.3, 0.25
	r.Trajectory[254].Bias = r.FinalBias // the run ends where its trajectory does
	r.MinBias = r.FinalBias              // the lowest bias of the run
	r.BiasNegative = true                // b_T < −bias_eps (0.01 by default)
	if err := r.Validate(steps); err != nil {
		panic(err) // a result the coordinator would refuse proves nothing here
	}
	return r
}

// gatedRunner returns fullResult for every trial once open is closed; all
// is closed when it has finished target trials.
type gatedRunner struct {
	open     chan struct{}
	target   int64
	all      chan struct{}
	finished atomic.Int64
}

func newGatedRunner(target int) *gatedRunner {
	return &gatedRunner{open: make(chan struct{}), target: int64(target), all: make(chan struct{})}
}

func (g *gatedRunner) Run(ctx context.Context, cfg engine.Config) (engine.Result, error) {
	select {
	case <-g.open:
	case <-ctx.Done():
		return engine.Result{}, ctx.Err()
	}
	if g.finished.Add(1) == g.target {
		close(g.all)
	}
	return fullResult(cfg.Steps), nil
}

// reportGate passes calls through to a coordinator and controls ReportResult:
// while down, every call fails with UNAVAILABLE (a coordinator away) and its
// size is sent on refused; the first quota calls are refused with a
// non-size ResourceExhausted. It records the largest request the coordinator
// accepted, and how many it refused as too large.
type reportGate struct {
	pb.CoordinatorServiceClient
	down     atomic.Bool
	refused  chan int // reports in each call refused while down
	quota    atomic.Int64
	hold     chan struct{} // if set, the first call waits for it to close
	holdOnce sync.Once

	mu       sync.Mutex
	largest  int // bytes of the largest request accepted
	tooLarge int // calls the coordinator refused as too large
}

func (g *reportGate) ReportResult(ctx context.Context, req *pb.ReportResultRequest, opts ...grpc.CallOption) (*pb.ReportResultResponse, error) {
	if g.hold != nil {
		g.holdOnce.Do(func() { <-g.hold })
	}
	if g.down.Load() {
		select {
		case g.refused <- len(req.GetReports()):
		default:
		}
		return nil, status.Error(codes.Unavailable, "coordinator away")
	}
	if g.quota.Add(-1) >= 0 {
		return nil, status.Error(codes.ResourceExhausted, "quota exceeded")
	}
	resp, err := g.CoordinatorServiceClient.ReportResult(ctx, req, opts...)
	g.mu.Lock()
	defer g.mu.Unlock()
	if err == nil {
		g.largest = max(g.largest, proto.Size(req))
	} else if status.Code(err) == codes.ResourceExhausted {
		g.tooLarge++
	}
	return resp, err
}

// TestReportsAfterOutage is issue 9's reproduction: 1000 trials of ~8.4 KB
// results, a worker with --parallel 2 --prefetch 300, and a coordinator that
// cannot take reports while the worker finishes its trials. Before the fix
// the worker piled up 512 results, retried one 4.3 MB ReportResult forever
// (over gRPC's default 4 MiB limit, which this in-process coordinator keeps)
// and the sweep never finished. Now batches stay under 1 MiB, the worker
// hands back the leases it has not started once reports fail, and the sweep
// completes with every trial run exactly once.
func TestReportsAfterOutage(t *testing.T) {
	t.Parallel()
	c := startWith(t, scheduler.Config{LeaseTTL: time.Minute})
	id := submit(t, c, "model: single\ngrid: {eta: [1], seed: {range: [0, 1000]}}\nparams: {steps: 50000, sharpness_every: 1}\n")
	g := &reportGate{CoordinatorServiceClient: c, refused: make(chan int, 16)}
	r := newGatedRunner(1000)
	w := worker.New(g, worker.Config{Parallel: 2, Prefetch: 300, Runner: r, LeaseWait: 50 * time.Millisecond})
	run(t, w)
	waitState(t, c, id, "600 leases", func(p scheduler.Progress) bool { return p.Leased == 600 })
	g.down.Store(true)
	close(r.open)
	for range 3 { // the worker retries its reports while the coordinator is away
		select {
		case <-g.refused:
		case <-time.After(20 * time.Second):
			t.Fatal("no report attempt while the coordinator was away")
		}
	}
	g.down.Store(false)
	waitStateFor(t, c, id, "1000 trials done", 2*time.Minute, func(p scheduler.Progress) bool { return p.Done == 1000 })
	if n := w.Executions(); n != 1000 {
		t.Errorf("%d executions for 1000 trials: a trial ran twice", n)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.largest > 2<<20 { // well under gRPC's default 4 MiB
		t.Errorf("largest ReportResult was %d bytes", g.largest)
	}
}

// TestReportBatchSplit: a coordinator with a small receive limit refuses a
// large batch with ResourceExhausted; the worker halves it until it fits. A
// single report over the limit becomes an error report (the trial fails with
// the reason, once, instead of being retried forever); a ResourceExhausted
// that is not about size (a quota) is retried and the results kept.
func TestReportBatchSplit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		limit      int // the coordinator's MaxRecvMsgSize
		quota      int64
		trials     int
		wantDone   int
		wantError  string // in every FAILED trial's last error
		wantRefuse bool   // the coordinator refused at least one call as too large
	}{
		{name: "batches split to fit", limit: 64 << 10, trials: 200, wantDone: 200, wantRefuse: true},
		{name: "a report over the limit fails its trial", limit: 4 << 10, trials: 20, wantError: "over the coordinator's message limit", wantRefuse: true},
		{name: "a quota is retried", limit: 4 << 20, quota: 3, trials: 50, wantDone: 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cc, conn := coordinatortest.Start(t, coordinator.Config{Scheduler: scheduler.Config{LeaseTTL: time.Minute, MaxAttempts: 1},
				ServerOptions: []grpc.ServerOption{grpc.MaxRecvMsgSize(tt.limit)}})
			c := coord{cc, pb.NewCoordinatorServiceClient(conn)}
			id := submit(t, c, "model: single\ngrid: {eta: [1], seed: {range: [0, "+strconv.Itoa(tt.trials)+"]}}\nparams: {steps: 50000}\n")
			// The first report call waits until every trial has finished, so
			// that the next batch holds them all.
			g := &reportGate{CoordinatorServiceClient: c, refused: make(chan int, 1), hold: make(chan struct{})}
			g.quota.Store(tt.quota)
			r := newGatedRunner(tt.trials)
			close(r.open)
			w := worker.New(g, worker.Config{Parallel: 2, Prefetch: tt.trials, Runner: r, LeaseWait: 50 * time.Millisecond})
			run(t, w)
			waitState(t, c, id, "every trial leased", func(p scheduler.Progress) bool { return p.Leased+p.Done+p.Failed == tt.trials })
			select {
			case <-r.all:
			case <-time.After(20 * time.Second):
				t.Fatalf("%d of %d trials finished", r.finished.Load(), tt.trials)
			}
			close(g.hold)
			p := waitStateFor(t, c, id, "every trial settled", time.Minute, func(p scheduler.Progress) bool { return p.Done+p.Failed == tt.trials })
			if p.Done != tt.wantDone {
				t.Errorf("%d done, want %d (%+v)", p.Done, tt.wantDone, p)
			}
			trials, err := c.Store.Trials(id)
			if err != nil {
				t.Fatal(err)
			}
			for _, tr := range trials {
				if tr.State == store.Failed && (tt.wantError == "" || !strings.Contains(tr.LastError, tt.wantError)) {
					t.Errorf("trial %s failed with %q, want %q", tr.ID, tr.LastError, tt.wantError)
				}
			}
			g.mu.Lock()
			defer g.mu.Unlock()
			if (g.tooLarge > 0) != tt.wantRefuse {
				t.Errorf("%d calls refused as too large; want some: %v", g.tooLarge, tt.wantRefuse)
			}
			if g.largest > tt.limit {
				t.Errorf("accepted a %d-byte call over the %d-byte limit", g.largest, tt.limit)
			}
			if n := w.Executions(); n != int64(tt.trials) {
				t.Errorf("%d executions for %d trials", n, tt.trials)
			}
		})
	}
}
