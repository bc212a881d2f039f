package worker_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/eosweep/eosweep/coordinator/scheduler"
	"github.com/eosweep/eosweep/internal/fakeclock"
	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
	"github.com/eosweep/eosweep/worker"
)

// listWatch announces every ListSweeps call the worker makes.
type listWatch struct {
	pb.CoordinatorServiceClient
	listed chan struct{}
}

func (l *listWatch) ListSweeps(ctx context.Context, req *pb.ListSweepsRequest, opts ...grpc.CallOption) (*pb.ListSweepsResponse, error) {
	resp, err := l.CoordinatorServiceClient.ListSweeps(ctx, req, opts...)
	select {
	case l.listed <- struct{}{}:
	case <-ctx.Done():
	}
	return resp, err
}

// awaitList waits for the worker's next ListSweeps call to have been answered.
func (l *listWatch) awaitList(t *testing.T) {
	t.Helper()
	select {
	case <-l.listed:
	case <-time.After(10 * time.Second):
		t.Fatal("the idle worker did not look at the sweeps within 10 s")
	}
}

// TestExitWhenIdle (issue 14, Slurm): with ExitWhenIdle, a worker that
// finished its sweep exits once no sweep has been running for that long —
// by the worker's clock, here a fake one — and not while a sweep still runs
// elsewhere (its last trial on another worker, or refinement to come).
func TestExitWhenIdle(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		busy     bool // another sweep keeps running on another worker
		wantExit bool
	}{
		{name: "sweep finished", wantExit: true},
		{name: "a sweep still running elsewhere", busy: true, wantExit: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := start(t, time.Minute)
			id := submit(t, c, "model: single\ngrid: {eta: [1, 2]}\nparams: {steps: 5}\n")
			if tt.busy {
				submit(t, c, "name: long\nmodel: single\ngrid: {eta: [3]}\nparams: {steps: 5}\n")
				r := newBlockingRunner(time.Hour, 1)
				run(t, worker.New(c, worker.Config{ID: "busy", Parallel: 1, Prefetch: 1, Runner: r, LeaseWait: 50 * time.Millisecond, Grace: 100 * time.Millisecond}))
				<-r.started // it holds one trial until the test ends: a sweep stays running
			}
			clk := fakeclock.New()
			lw := &listWatch{CoordinatorServiceClient: c, listed: make(chan struct{})}
			w := worker.New(lw, worker.Config{ID: "idle", Parallel: 1, LeaseWait: 50 * time.Millisecond,
				ExitWhenIdle: time.Minute, Now: clk.Now})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- w.Run(ctx) }()
			if !tt.busy {
				waitState(t, c, id, "the sweep done", func(p scheduler.Progress) bool { return p.Done == 2 })
			}
			lw.awaitList(t) // idle from now on, by the fake clock
			lw.awaitList(t) // checked again without exiting: no time has passed
			clk.Advance(time.Minute)
			lw.awaitList(t) // the first check a minute on
			select {
			case err := <-done:
				if !tt.wantExit || err != nil {
					t.Fatalf("Run returned %v; want it to exit: %v", err, tt.wantExit)
				}
			case <-lw.listed:
				if tt.wantExit {
					t.Fatal("the worker looked at the sweeps again after a minute idle instead of exiting")
				}
				cancel()
				if err := <-done; err != nil {
					t.Fatalf("Run after cancel = %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the worker neither exited nor looked at the sweeps again")
			}
		})
	}
}

// TestUntilDone: with UntilDone the worker exits once that sweep is done;
// an unknown sweep id is an error.
func TestUntilDone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		sweep   func(id string) string
		wantErr string
	}{
		{name: "the sweep", sweep: func(id string) string { return id }},
		{name: "an unknown sweep", sweep: func(string) string { return "nope" }, wantErr: "until done: sweep nope: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := start(t, time.Minute)
			id := submit(t, c, "model: single\ngrid: {eta: [1, 2, 3]}\nparams: {steps: 5}\n")
			w := worker.New(c, worker.Config{Parallel: 2, LeaseWait: 50 * time.Millisecond, UntilDone: tt.sweep(id)})
			done := make(chan error, 1)
			go func() { done <- w.Run(context.Background()) }()
			select {
			case err := <-done:
				if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
					t.Fatalf("Run = %v, want error %q", err, tt.wantErr)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("the worker did not exit")
			}
			if tt.wantErr == "" {
				info, err := c.Scheduler.Sweep(id)
				if err != nil || info.Progress.Done != 3 {
					t.Fatalf("exited with %+v, %v", info.Progress, err)
				}
			}
		})
	}
}
