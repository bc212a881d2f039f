package worker_test

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/eosweep/eosweep/coordinator"
	"github.com/eosweep/eosweep/coordinator/scheduler"
	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
	"github.com/eosweep/eosweep/worker"
)

// BenchmarkCoordinatorThroughput measures the coordinator's overhead per
// trial: trivial trials (single, steps=1) run by 8 workers, each with its own
// gRPC connection over loopback TCP, against a coordinator whose store
// fsyncs every commit. b.N is the number of trials; results/s counts
// durable results.
func BenchmarkCoordinatorThroughput(b *testing.B) {
	for _, c := range []struct{ workers, parallel, prefetch int }{{8, 1, 1}, {8, 1, 64}, {8, 1, 0}, {2, 2, 1}, {2, 2, 64}, {2, 2, 0}} {
		b.Run(fmt.Sprintf("workers=%d/parallel=%d/prefetch=%d", c.workers, c.parallel, c.prefetch), func(b *testing.B) {
			benchThroughput(b, c.workers, c.parallel, c.prefetch)
		})
	}
}

func benchThroughput(b *testing.B, workers, parallel, prefetch int) {
	c, err := coordinator.Open(coordinator.Config{DBPath: filepath.Join(b.TempDir(), "bench.db"),
		Scheduler: scheduler.Config{LeaseTTL: time.Minute, MaxTrials: 10_000_000}})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Shutdown(time.Second)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go c.Serve(lis)
	spec := fmt.Sprintf("name: bench-%d\nmodel: single\ngrid:\n  eta: [1]\n  seed: {range: [0, %d]}\nparams: {steps: 1}\n", b.N, b.N)
	sub, _, err := c.Scheduler.Submit([]byte(spec))
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for i := range workers {
		conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close()
		w := worker.New(pb.NewCoordinatorServiceClient(conn), worker.Config{ID: fmt.Sprint("bench-", i), Parallel: parallel,
			Prefetch: prefetch, LeaseWait: 100 * time.Millisecond, Grace: time.Second})
		wg.Add(1)
		go func() { defer wg.Done(); w.Run(ctx) }()
	}
	for {
		info, err := c.Scheduler.Sweep(sub.ID)
		if err != nil {
			b.Fatal(err)
		}
		if info.Progress.Done == b.N {
			break
		}
		time.Sleep(200 * time.Microsecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	cancel()
	wg.Wait()
	st := c.Store.Stats()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "results/s")
	b.ReportMetric(float64(elapsed.Microseconds())/float64(b.N), "µs/trial")
	b.ReportMetric(float64(st.Ops)/float64(max(st.Commits, 1)), "ops/commit")
}
