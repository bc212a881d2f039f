package coordinator_test

import (
	"context"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/eosweep/eosweep/coordinator"
	"github.com/eosweep/eosweep/coordinator/coordinatortest"
	"github.com/eosweep/eosweep/coordinator/scheduler"
	"github.com/eosweep/eosweep/coordinator/store"
	"github.com/eosweep/eosweep/engine"
	"github.com/eosweep/eosweep/engine/enginetest"
	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
)

// filledFull starts a coordinator holding coordinatortest.FullSpec with every
// trial done, and returns it with the sweep's id.
func filledFull(t *testing.T) (*coordinator.Coordinator, *grpc.ClientConn, string) {
	t.Helper()
	c, conn := coordinatortest.Start(t, coordinator.Config{})
	rec, _, err := c.Scheduler.Submit([]byte(coordinatortest.FullSpec()))
	if err != nil {
		t.Fatal(err)
	}
	coordinatortest.DeliverAll(t, c.Scheduler, func(scheduler.Lease) engine.Result { return enginetest.FullResult(50000, -0.25) })
	return c, conn, rec.ID
}

// Pages of ListTrials are bounded by bytes as well as count: a client that
// receives gRPC's default 4 MiB (older CLIs, other languages' stubs) reads
// every trial of a 3,000-trial sweep with full trajectories, in pages well
// under the limit, with its results; a smaller page size is honoured.
func TestListTrialsPagesBoundedByBytes(t *testing.T) {
	t.Parallel()
	_, conn, id := filledFull(t)
	cl := pb.NewCoordinatorServiceClient(conn)
	ctx := context.Background()
	seen, pages := map[string]bool{}, 0
	token := ""
	for {
		resp, err := cl.ListTrials(ctx, &pb.ListTrialsRequest{SweepId: id, PageToken: token}, grpc.MaxCallRecvMsgSize(4<<20))
		if err != nil {
			t.Fatalf("page %d: %v", pages, err)
		}
		if n := proto.Size(resp); n > 1<<20+16<<10 {
			t.Errorf("page %d: %d bytes, want at most about 1 MiB", pages, n)
		}
		for _, tr := range resp.GetTrials() {
			if seen[tr.GetId()] {
				t.Fatalf("trial %s listed twice", tr.GetId())
			}
			seen[tr.GetId()] = true
			if n := len(tr.GetResult().GetTrajectory()); n != engine.MaxTrajectory-1 {
				t.Fatalf("trial %s: %d trajectory points, want %d", tr.GetId(), n, engine.MaxTrajectory-1)
			}
		}
		pages++
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	if len(seen) != coordinatortest.FullTrials() || pages < coordinatortest.FullTrials()/150 {
		t.Errorf("%d trials listed in %d pages, want %d in pages of about 1 MiB", len(seen), pages, coordinatortest.FullTrials())
	}
	resp, err := cl.ListTrials(ctx, &pb.ListTrialsRequest{SweepId: id, PageSize: 50})
	if err != nil || len(resp.GetTrials()) != 50 || resp.GetNextPageToken() != "50" {
		t.Errorf("page_size 50: %d trials, next %q (%v), want 50 and \"50\"", len(resp.GetTrials()), resp.GetNextPageToken(), err)
	}
}

// With omit_trajectories, ListTrials sends each result as the analysis
// reads it (store.Summary: of these results, stored without
// max_eos_ratio_after_init, one trajectory point), so a page
// holds page_size trials.
func TestListTrialsOmitTrajectories(t *testing.T) {
	t.Parallel()
	_, conn, id := filledFull(t)
	cl := pb.NewCoordinatorServiceClient(conn)
	ctx := context.Background()
	whole, err := cl.ListTrials(ctx, &pb.ListTrialsRequest{SweepId: id, PageSize: 200})
	if err != nil {
		t.Fatal(err)
	}
	lean, err := cl.ListTrials(ctx, &pb.ListTrialsRequest{SweepId: id, PageSize: 200, OmitTrajectories: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(lean.GetTrials()) != 200 || len(whole.GetTrials()) >= 200 {
		t.Fatalf("%d trials with trajectories omitted, %d without: want 200 and a page bounded by bytes", len(lean.GetTrials()), len(whole.GetTrials()))
	}
	for i, tr := range whole.GetTrials() {
		_, res, err := coordinator.TrialFromProto(tr)
		if err != nil {
			t.Fatal(err)
		}
		want := coordinator.TrialToProto(store.Trial{}, ptr(store.Summary(*res))).GetResult()
		if got := lean.GetTrials()[i].GetResult(); !proto.Equal(got, want) || len(got.GetTrajectory()) > 1 {
			t.Fatalf("trial %s: result\n got %v\nwant %v", tr.GetId(), got, want)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// ListTrials filters by state, and every page of a filtered list holds
// matches only; leased trials carry their worker and deadline.
func TestListTrialsStatesWorkerDeadline(t *testing.T) {
	t.Parallel()
	c, conn := coordinatortest.Start(t, coordinator.Config{})
	cl := pb.NewCoordinatorServiceClient(conn)
	ctx := context.Background()
	sub, err := cl.SubmitSweep(ctx, &pb.SubmitSweepRequest{SpecYaml: "name: s\nmodel: single\ngrid: {eta: {logspace: [1.0e-3, 1, 30]}}\nparams: {steps: 20}\n"})
	if err != nil {
		t.Fatal(err)
	}
	leases, err := c.Scheduler.Lease(ctx, "w7", 4, 0)
	if err != nil || len(leases) != 4 {
		t.Fatalf("lease: %v %v", leases, err)
	}
	var got []*pb.Trial
	token := ""
	for {
		resp, err := cl.ListTrials(ctx, &pb.ListTrialsRequest{SweepId: sub.GetSweep().GetId(), PageSize: 3, PageToken: token,
			States: []pb.TrialState{pb.TrialState_TRIAL_STATE_LEASED}})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, resp.GetTrials()...)
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	if len(got) != 4 {
		t.Fatalf("%d leased trials listed, want 4", len(got))
	}
	for _, tr := range got {
		if tr.GetState() != pb.TrialState_TRIAL_STATE_LEASED || tr.GetWorkerId() != "w7" || !tr.GetDeadline().AsTime().Equal(leases[0].Deadline) {
			t.Errorf("trial %s: state %v, worker %q, deadline %v; want leased by w7 until %v", tr.GetId(), tr.GetState(), tr.GetWorkerId(),
				tr.GetDeadline().AsTime(), leases[0].Deadline)
		}
	}
	if _, err := cl.ListTrials(ctx, &pb.ListTrialsRequest{SweepId: sub.GetSweep().GetId(), States: []pb.TrialState{9}}); err == nil {
		t.Error("state 9 accepted")
	}
	if _, err := cl.ListTrials(ctx, &pb.ListTrialsRequest{SweepId: sub.GetSweep().GetId(), PageToken: "31"}); err == nil {
		t.Error("page token past the end accepted")
	}
}

// ListSweeps pages: every sweep once, newest first, at most page_size a page.
func TestListSweepsPages(t *testing.T) {
	t.Parallel()
	_, conn := coordinatortest.Start(t, coordinator.Config{})
	cl := pb.NewCoordinatorServiceClient(conn)
	ctx := context.Background()
	var ids []string
	for _, eta := range []string{"1", "2", "3", "4", "5"} {
		sub, err := cl.SubmitSweep(ctx, &pb.SubmitSweepRequest{SpecYaml: "name: s\nmodel: single\ngrid: {eta: [" + eta + "]}\nparams: {steps: 2}\n"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append([]string{sub.GetSweep().GetId()}, ids...)
	}
	var got []string
	token := ""
	for {
		resp, err := cl.ListSweeps(ctx, &pb.ListSweepsRequest{PageSize: 2, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.GetSweeps()) > 2 {
			t.Errorf("page of %d sweeps", len(resp.GetSweeps()))
		}
		for _, s := range resp.GetSweeps() {
			got = append(got, s.GetId())
		}
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	if len(got) != len(ids) {
		t.Fatalf("listed %v, want %v", got, ids)
	}
	for i := range ids {
		if got[i] != ids[i] {
			t.Fatalf("listed %v, want %v (newest first)", got, ids)
		}
	}
	if _, err := cl.ListSweeps(ctx, &pb.ListSweepsRequest{PageToken: "gone"}); err == nil {
		t.Error("unknown page token accepted")
	}
	if _, err := cl.ListSweeps(ctx, &pb.ListSweepsRequest{PageSize: -1}); err == nil {
		t.Error("negative page size accepted")
	}
}
