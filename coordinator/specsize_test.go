package coordinator_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	"github.com/eosweep/eosweep/coordinator"
	"github.com/eosweep/eosweep/coordinator/coordinatortest"
	"github.com/eosweep/eosweep/coordinator/scheduler"
	"github.com/eosweep/eosweep/coordinator/spec"
	"github.com/eosweep/eosweep/coordinator/store"
	"github.com/eosweep/eosweep/engine/enginetest"
	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
)

// bigSpec is a spec with about size bytes of comments: larger than Submit
// accepts today (spec.MaxSpecBytes), as a store written before that limit
// may hold.
func bigSpec(name string, size int) string {
	comment := "# " + strings.Repeat("x", 78) + "\n"
	return strings.Repeat(comment, size/len(comment)) +
		"name: " + name + "\nmodel: single\ngrid: {eta: [0.5, 1, 1.5]}\nparams: {steps: 5}\n"
}

// storeWithSpecs writes sweeps of the given spec texts (and their trials)
// into a new store file, as Submit does but without its size limit, and
// returns the file's path and the sweep ids.
func storeWithSpecs(t *testing.T, texts ...string) (string, []string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "big.db")
	st, err := store.Open(path, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i, text := range texts {
		sp, err := spec.ParseStored([]byte(text))
		if err != nil {
			t.Fatal(err)
		}
		trials, err := sp.Trials()
		if err != nil {
			t.Fatal(err)
		}
		op, err := store.SweepOp(store.Sweep{ID: sp.ID(), Name: sp.Name, Model: sp.Model, SpecYAML: text,
			State: store.SweepRunning, Created: time.Date(2026, 1, 1, 0, i, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		ops := []store.Op{op}
		for j, tr := range trials {
			op, err := store.TrialOp(store.Trial{Sweep: sp.ID(), ID: tr.ID, Seq: j, Params: tr.Params, Key: tr.Key, State: store.Pending})
			if err != nil {
				t.Fatal(err)
			}
			ops = append(ops, op)
		}
		if err := st.Apply(ops...); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, sp.ID())
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return path, ids
}

// Sweeps are listed and watched without their spec text: two sweeps with
// 2.5 MB of comments each keep ListSweeps (what status, boundary, report
// and cancel resolve ids with) and WatchSweep small for a client with
// gRPC's default 4 MiB limit; GetSweep returns the spec when asked.
func TestSweepsListedWithoutSpecs(t *testing.T) {
	t.Parallel()
	texts := []string{bigSpec("a", 2500000), bigSpec("b", 2500000)}
	path, ids := storeWithSpecs(t, texts...)
	_, conn := coordinatortest.Start(t, coordinator.Config{DBPath: path})
	cl := pb.NewCoordinatorServiceClient(conn)
	ctx := context.Background()
	small := grpc.MaxCallRecvMsgSize(4 << 20)
	list, err := cl.ListSweeps(ctx, &pb.ListSweepsRequest{}, small)
	if err != nil {
		t.Fatalf("ListSweeps: %v", err)
	}
	if n := proto.Size(list); len(list.GetSweeps()) != 2 || n > 2<<10 {
		t.Errorf("ListSweeps: %d sweeps in %d bytes, want 2 in at most 2 KiB", len(list.GetSweeps()), n)
	}
	for i, id := range ids {
		got, err := cl.GetSweep(ctx, &pb.GetSweepRequest{SweepId: id}, small)
		if err != nil || got.GetSweep().GetSpecYaml() != "" {
			t.Errorf("GetSweep %s: %d bytes of spec (%v), want none unless asked", id, len(got.GetSweep().GetSpecYaml()), err)
		}
		got, err = cl.GetSweep(ctx, &pb.GetSweepRequest{SweepId: id, IncludeSpec: true}, small)
		if err != nil || got.GetSweep().GetSpecYaml() != texts[i] {
			t.Errorf("GetSweep %s with include_spec: %d bytes of spec (%v), want the %d stored", id,
				len(got.GetSweep().GetSpecYaml()), err, len(texts[i]))
		}
		stream, err := cl.WatchSweep(ctx, &pb.WatchSweepRequest{SweepId: id}, small)
		if err != nil {
			t.Fatal(err)
		}
		msg, err := stream.Recv()
		if err != nil || proto.Size(msg) > 1<<10 {
			t.Errorf("WatchSweep %s: first update of %d bytes (%v), want at most 1 KiB", id, proto.Size(msg), err)
		}
	}
}

// blockedWatch is a WatchSweep stream whose client never reads: its first
// Send blocks until the stream ends, as gRPC's flow control blocks a server
// whose client stops reading once the stream's window is full.
type blockedWatch struct {
	grpc.ServerStream
	ctx   context.Context
	sends atomic.Int32
	bytes atomic.Int64
	sent  chan struct{} // closed at the first Send
}

func (w *blockedWatch) Context() context.Context     { return w.ctx }
func (w *blockedWatch) SetHeader(metadata.MD) error  { return nil }
func (w *blockedWatch) SendHeader(metadata.MD) error { return nil }
func (w *blockedWatch) SetTrailer(metadata.MD)       {}
func (w *blockedWatch) Send(m *pb.WatchSweepResponse) error {
	w.bytes.Add(int64(proto.Size(m)))
	if w.sends.Add(1) == 1 {
		close(w.sent)
	}
	<-w.ctx.Done()
	return w.ctx.Err()
}

// A watcher that never reads holds one update, not a queue of them: the
// handler sends the latest state when the previous send went through, so
// intermediate states are dropped, and an update carries no spec text. Its
// memory is bounded by construction: one small message, whatever the sweep
// does meanwhile.
func TestNeverReadingWatcherHoldsOneUpdate(t *testing.T) {
	t.Parallel()
	c, _ := coordinatortest.Start(t, coordinator.Config{})
	text := bigSpec("w", spec.MaxSpecBytes-1<<10) // as large as Submit takes
	rec, _, err := c.Scheduler.Submit([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &blockedWatch{ctx: ctx, sent: make(chan struct{})}
	done := make(chan error, 1)
	go func() { done <- c.Server.WatchSweep(&pb.WatchSweepRequest{SweepId: rec.ID}, w) }()
	<-w.sent
	// The sweep changes many times while the watcher does not read.
	for range 2 {
		leases, err := c.Scheduler.Lease(context.Background(), "w", 1, 0)
		if err != nil || len(leases) != 1 {
			t.Fatalf("lease: %v %v", leases, err)
		}
		rs, err := c.Scheduler.Deliver([]scheduler.Delivery{{Sweep: rec.ID, Trial: leases[0].Trial, Token: leases[0].Token,
			Result: enginetest.ResultBias(5, -0.1)}})
		if err != nil || rs[0].Verdict != scheduler.Accepted {
			t.Fatalf("deliver: %v %v", rs, err)
		}
	}
	if n := w.sends.Load(); n != 1 {
		t.Errorf("%d sends to a watcher that never read, want 1 (the latest state only)", n)
	}
	if n := w.bytes.Load(); n > 1<<10 {
		t.Errorf("the update held for the watcher is %d bytes (spec %d bytes), want at most 1 KiB", n, len(text))
	}
	cancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("WatchSweep after the watcher left: %v", err)
	}
}

// Submit refuses a spec over spec.MaxSpecBytes with a message giving the
// size and the limit.
func TestSubmitRefusesOversizedSpec(t *testing.T) {
	t.Parallel()
	_, conn := coordinatortest.Start(t, coordinator.Config{})
	_, err := pb.NewCoordinatorServiceClient(conn).SubmitSweep(context.Background(),
		&pb.SubmitSweepRequest{SpecYaml: bigSpec("big", 2500000)})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprint(spec.MaxSpecBytes/1000)) {
		t.Errorf("2.5 MB spec: %v, want a refusal naming the limit", err)
	}
}
