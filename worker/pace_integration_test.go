package worker_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/eosweep/eosweep/coordinator/scheduler"
	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
	"github.com/eosweep/eosweep/worker"
)

// callCounter counts lease and report calls and what they carried.
type callCounter struct {
	pb.CoordinatorServiceClient
	leaseCalls, leases, reportCalls atomic.Int64
}

func (c *callCounter) LeaseTrial(ctx context.Context, req *pb.LeaseTrialRequest, opts ...grpc.CallOption) (*pb.LeaseTrialResponse, error) {
	resp, err := c.CoordinatorServiceClient.LeaseTrial(ctx, req, opts...)
	if n := len(resp.GetLeases()); n > 0 {
		c.leaseCalls.Add(1)
		c.leases.Add(int64(n))
	}
	return resp, err
}

func (c *callCounter) ReportResult(ctx context.Context, req *pb.ReportResultRequest, opts ...grpc.CallOption) (*pb.ReportResultResponse, error) {
	c.reportCalls.Add(1)
	return c.CoordinatorServiceClient.ReportResult(ctx, req, opts...)
}

// TestAutoPrefetchBatchesShortTrials (issue 11, worker side): with the
// default Prefetch, microsecond trials go many to a lease and report call —
// no --prefetch tuning. Before, the default leased one trial per slot: 2
// trials per call here.
func TestAutoPrefetchBatchesShortTrials(t *testing.T) {
	t.Parallel()
	c := start(t, time.Minute)
	id := submit(t, c, "model: single\ngrid: {eta: [1], seed: {range: [0, 3000]}}\nparams: {steps: 1}\n")
	cc := &callCounter{CoordinatorServiceClient: c}
	w := worker.New(cc, worker.Config{Parallel: 2, LeaseWait: 50 * time.Millisecond})
	run(t, w)
	waitStateFor(t, c, id, "3000 trials done", time.Minute, func(p scheduler.Progress) bool { return p.Done == 3000 })
	perLease := float64(cc.leases.Load()) / float64(cc.leaseCalls.Load())
	perReport := 3000 / float64(cc.reportCalls.Load())
	t.Logf("%.0f trials per lease call, %.0f per report call", perLease, perReport)
	if perLease < 20 || perReport < 20 {
		t.Errorf("%.1f trials per lease call, %.1f per report call: want at least 20", perLease, perReport)
	}
}
