// Package coordinatortest serves a coordinator in memory for tests: a real
// store on t.TempDir() (fsync off) behind the coordinator's in-process
// connection, no sockets.
package coordinatortest

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/eosweep/eosweep/coordinator"
	"github.com/eosweep/eosweep/coordinator/scheduler"
	"github.com/eosweep/eosweep/engine"
)

// Start opens a coordinator with cfg (DBPath defaults to a file in
// t.TempDir(); NoSync is set) and returns it with its in-process client
// connection. It is shut down (closing the connection) when the test ends.
func Start(t testing.TB, cfg coordinator.Config) (*coordinator.Coordinator, *grpc.ClientConn) {
	t.Helper()
	if cfg.DBPath == "" {
		cfg.DBPath = filepath.Join(t.TempDir(), "c.db")
	}
	cfg.NoSync = true
	c, err := coordinator.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Shutdown(time.Second); err != nil {
			t.Error(err)
		}
	})
	conn, err := c.InProcessConn()
	if err != nil {
		t.Fatal(err)
	}
	return c, conn
}

// DeliverAll leases every pending trial of the scheduler as worker "filler"
// and delivers result(lease) for each, in batches, as a worker would, and
// fails the test unless every one is accepted. It fills a store with results
// (full trajectories, say) without running the engine.
func DeliverAll(t testing.TB, s *scheduler.Scheduler, result func(scheduler.Lease) engine.Result) {
	t.Helper()
	for {
		leases, err := s.Lease(context.Background(), "filler", scheduler.MaxLeaseBatch, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(leases) == 0 {
			return
		}
		ds := make([]scheduler.Delivery, len(leases))
		for i, l := range leases {
			ds[i] = scheduler.Delivery{Sweep: l.Sweep, Trial: l.Trial, Token: l.Token, Result: result(l)}
		}
		rs, err := s.Deliver(ds)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range rs {
			if r.Verdict != scheduler.Accepted {
				t.Fatalf("trial %s: verdict %d: %v", ds[i].Trial, r.Verdict, r.Err)
			}
		}
	}
}

// FullTrials is how many trials FullSpec has: 3,000, or 600 with -short
// (6 MB of results: still more than gRPC's default 4 MiB in one page).
func FullTrials() int {
	if testing.Short() {
		return 600
	}
	return 3000
}

// FullSpec is the sweep of FullTrials trials (η × 3 seeds) whose results,
// delivered as enginetest.FullResult, carry full 255-point trajectories
// (~10 KB a trial on the wire).
func FullSpec() string {
	return fmt.Sprintf("name: full\nmodel: single\ngrid: {eta: {logspace: [1.0e-3, 1, %d]}, seed: {range: [0, 3]}}\nparams: {steps: 50000}\n", FullTrials()/3)
}
