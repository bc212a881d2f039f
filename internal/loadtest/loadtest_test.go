package loadtest

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/eosweep/eosweep/engine/enginetest"
	"github.com/eosweep/eosweep/internal/proctest"
	"github.com/eosweep/eosweep/internal/wire"
	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
)

// Knobs, from the environment.
var (
	numWorkers = envInt("EOSWEEP_LOAD_WORKERS", 50)
	duration   = envDuration("EOSWEEP_LOAD_DURATION", 3*time.Second)
	batch      = envInt("EOSWEEP_LOAD_BATCH", 8)     // trials leased and reported per RPC
	chunk      = envInt("EOSWEEP_LOAD_CHUNK", 5_000) // trials per submitted sweep
	// hold is how long a simulated worker "runs" each batch before it
	// reports it, heartbeating its leases every TTL/3 meanwhile, as a worker
	// does (0: report at once, no heartbeats).
	hold = envDuration("EOSWEEP_LOAD_HOLD", 0)
	// leaseTTL is the coordinator's --lease-ttl (0: its default).
	leaseTTL = envDuration("EOSWEEP_LOAD_LEASE_TTL", 0)
	// numConns is how many connections the workers share (worker i uses
	// connection i mod numConns); default one per worker. At 10,000
	// workers, goroutines on 100 shared connections keep the client
	// process's sockets and memory reasonable.
	numConns = min(envInt("EOSWEEP_LOAD_CONNS", numWorkers), numWorkers)
)

func TestMain(m *testing.M) { os.Exit(proctest.Run(m)) }

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if v, err := time.ParseDuration(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// latencies collects one worker's RPC latencies per method.
type latencies map[string][]time.Duration

func (l latencies) add(method string, d time.Duration) { l[method] = append(l[method], d) }

func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(q*float64(len(sorted))))]
}

// tally is what the simulated workers saw, shared between them.
type tally struct {
	accepted   sync.Map // trial id → worker index: who stored it
	nAccepted  atomic.Int64
	duplicates atomic.Int64
	rejected   atomic.Int64
	rpcErrors  atomic.Int64
	twice      atomic.Int64 // trials the coordinator accepted more than once
	lostLeases atomic.Int64 // leases a heartbeat found lost (expired while held)
}

// fakeResult is the trivial, valid result a simulated worker reports for a
// trial of one step: its final bias encodes the seed so the stored value can
// be checked afterwards.
func fakeResult(l *pb.Lease) *pb.Result {
	r := enginetest.Result(1)
	r.FinalBias = -l.GetParams()["seed"] * 1e-3
	r.MinBias = r.FinalBias
	return wire.ResultToProto(r)
}

// simWorker leases and reports until ctx is done. It returns its latencies.
func simWorker(ctx context.Context, idx int, conn *grpc.ClientConn, tl *tally) latencies {
	c := pb.NewCoordinatorServiceClient(conn)
	id := fmt.Sprintf("sim-%05d", idx)
	lat := latencies{}
	for ctx.Err() == nil {
		start := time.Now()
		resp, err := c.LeaseTrial(ctx, &pb.LeaseTrialRequest{WorkerId: id, MaxTrials: int32(batch), Wait: durationpb.New(time.Second)})
		if err != nil {
			if ctx.Err() == nil {
				tl.rpcErrors.Add(1)
				time.Sleep(50 * time.Millisecond)
			}
			continue
		}
		lat.add("LeaseTrial", time.Since(start))
		if len(resp.GetLeases()) == 0 {
			continue
		}
		if hold > 0 {
			holdLeases(c, id, resp, lat, tl)
		}
		req := &pb.ReportResultRequest{WorkerId: id}
		for _, l := range resp.GetLeases() {
			req.Reports = append(req.Reports, &pb.TrialReport{SweepId: l.GetSweepId(), TrialId: l.GetTrialId(),
				Token: l.GetToken(), Outcome: &pb.TrialReport_Result{Result: fakeResult(l)}})
		}
		// Reports are sent even after ctx ends, so no held lease is abandoned.
		rctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		start = time.Now()
		rep, err := c.ReportResult(rctx, req)
		cancel()
		if err != nil {
			tl.rpcErrors.Add(1)
			continue
		}
		lat.add("ReportResult", time.Since(start))
		for _, o := range rep.GetOutcomes() {
			switch o.GetStatus() {
			case pb.ReportStatus_REPORT_STATUS_ACCEPTED:
				tl.nAccepted.Add(1)
				if _, dup := tl.accepted.LoadOrStore(o.GetTrialId(), idx); dup {
					tl.twice.Add(1)
				}
			case pb.ReportStatus_REPORT_STATUS_DUPLICATE:
				tl.duplicates.Add(1)
			default:
				tl.rejected.Add(1)
			}
		}
	}
	return lat
}

// holdLeases keeps a batch for hold, heartbeating it every TTL/3 as a worker
// running the trials would; it does not stop with the run's context, so the
// batch is reported.
func holdLeases(c pb.CoordinatorServiceClient, id string, resp *pb.LeaseTrialResponse, lat latencies, tl *tally) {
	every := resp.GetLeaseTtl().AsDuration() / 3
	refs := make([]*pb.LeaseRef, len(resp.GetLeases()))
	for i, l := range resp.GetLeases() {
		refs[i] = &pb.LeaseRef{SweepId: l.GetSweepId(), TrialId: l.GetTrialId(), Token: l.GetToken()}
	}
	end := time.Now().Add(hold)
	for {
		left := time.Until(end)
		if every <= 0 || left < every {
			time.Sleep(left) // the simulated trial's run time
			return
		}
		time.Sleep(every)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		start := time.Now()
		hb, err := c.Heartbeat(ctx, &pb.HeartbeatRequest{WorkerId: id, Leases: refs})
		cancel()
		if err != nil {
			tl.rpcErrors.Add(1)
			continue
		}
		lat.add("Heartbeat", time.Since(start))
		if n := len(hb.GetLost()); n > 0 {
			tl.lostLeases.Add(int64(n))
		}
	}
}

// connectAll opens the workers' numConns connections and makes sure each is
// up before the clock starts.
func connectAll(t *testing.T, addr string) []*grpc.ClientConn {
	t.Helper()
	conns := make([]*grpc.ClientConn, numConns)
	var wg sync.WaitGroup
	var failed atomic.Int64
	for i := range conns {
		conns[i] = dial(t, addr)
		t.Cleanup(func() { conns[i].Close() })
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if _, err := healthpb.NewHealthClient(conns[i]).Check(ctx, &healthpb.HealthCheckRequest{}, grpc.WaitForReady(true)); err != nil {
				failed.Add(1)
			}
		})
	}
	wg.Wait()
	if n := failed.Load(); n > 0 {
		t.Fatalf("%d of %d worker connections failed", n, numConns)
	}
	return conns
}

func TestLoad(t *testing.T) {
	addr, pid := startCoordinator(t) // skipped with -short: it builds and runs the binary
	admin := dial(t, addr)
	defer admin.Close()
	client := pb.NewCoordinatorServiceClient(admin)
	conns := connectAll(t, addr)

	feedCtx, stopFeed := context.WithCancel(context.Background())
	defer stopFeed()
	sweepsCh := make(chan []string, 1)
	// Keep at least two chunks pending, so workers never wait for a submission.
	primed := make(chan struct{})
	go func() { sweepsCh <- feeder(feedCtx, t, client, int64(max(2*numWorkers*batch, 2*chunk)), primed) }()
	<-primed // the clock starts with work for every worker

	runCtx, stopRun := context.WithCancel(context.Background())
	defer stopRun()
	tl := &tally{}
	lats := make([]latencies, numWorkers)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range numWorkers {
		wg.Go(func() { lats[i] = simWorker(runCtx, i, conns[i%numConns], tl) })
	}
	time.Sleep(duration)
	timed, elapsed := tl.nAccepted.Load(), time.Since(start)
	stopFeed()
	sweeps := <-sweepsCh
	waitDone(t, client, 5*time.Minute) // the workers drain what was submitted
	stopRun()
	wg.Wait()

	n := verify(t, client, sweeps, tl)
	if tw := tl.twice.Load(); tw > 0 {
		t.Errorf("%d trials were accepted twice", tw)
	}
	if r := tl.rejected.Load(); r > 0 {
		t.Errorf("%d valid reports were rejected", r)
	}
	if e := tl.rpcErrors.Load(); e == 0 && tl.nAccepted.Load() != int64(n) {
		t.Errorf("%d reports accepted for %d trials", tl.nAccepted.Load(), n)
	}
	report(t, n, timed, elapsed, tl, lats, pid)
}

// report logs throughput and latency quantiles, and writes them to
// $EOSWEEP_LOAD_REPORT when set.
func report(t *testing.T, trials int, timed int64, elapsed time.Duration, tl *tally, lats []latencies, pid int) {
	t.Helper()
	out := fmt.Sprintf("workers=%d conns=%d batch=%d hold=%v duration=%v: %d results stored in the timed phase = %.0f results/s; %d trials in all, %d duplicates acknowledged, %d RPC errors, %d leases lost while held\n",
		numWorkers, numConns, batch, hold, elapsed.Round(time.Millisecond), timed, float64(timed)/elapsed.Seconds(), trials, tl.duplicates.Load(), tl.rpcErrors.Load(), tl.lostLeases.Load())
	if peak, now, err := rss(pid); err == nil {
		out += fmt.Sprintf("  coordinator RSS: peak %d MiB, at the end %d MiB\n", peak>>20, now>>20)
	}
	for _, m := range []string{"LeaseTrial", "ReportResult", "Heartbeat"} {
		var all []time.Duration
		for _, l := range lats {
			all = append(all, l[m]...)
		}
		sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
		out += fmt.Sprintf("  %-12s n=%d p50=%v p99=%v max=%v\n", m, len(all),
			quantile(all, 0.50).Round(time.Microsecond), quantile(all, 0.99).Round(time.Microsecond), quantile(all, 1).Round(time.Microsecond))
	}
	t.Log("\n" + out)
	if f := os.Getenv("EOSWEEP_LOAD_REPORT"); f != "" {
		if err := os.WriteFile(f, []byte(out), 0o644); err != nil {
			t.Errorf("write report: %v", err)
		}
	}
}
