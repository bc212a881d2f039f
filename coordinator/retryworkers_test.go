package coordinator_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/eosweep/eosweep/coordinator"
	"github.com/eosweep/eosweep/coordinator/coordinatortest"
	"github.com/eosweep/eosweep/coordinator/scheduler"
	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
)

// RetrySweep and ListWorkers answer over gRPC (they were declared but
// Unimplemented): a failed trial goes back to pending and runs again, the
// worker that ran the trials is listed with what it did, and bad requests
// are refused naming the field.
func TestRetrySweepAndListWorkers(t *testing.T) {
	t.Parallel()
	_, conn := coordinatortest.Start(t, coordinator.Config{Scheduler: scheduler.Config{MaxAttempts: 1}})
	cl := pb.NewCoordinatorServiceClient(conn)
	ctx := context.Background()
	sub, err := cl.SubmitSweep(ctx, &pb.SubmitSweepRequest{SpecYaml: twoEtas})
	if err != nil {
		t.Fatal(err)
	}
	id := sub.GetSweep().GetId()
	lr, err := cl.LeaseTrial(ctx, &pb.LeaseTrialRequest{WorkerId: "node1-42", MaxTrials: 2, Wait: durationpb.New(time.Second)})
	if err != nil || len(lr.GetLeases()) != 2 {
		t.Fatalf("lease: %v %v", lr, err)
	}
	ok, bad := lr.GetLeases()[0], lr.GetLeases()[1]
	if _, err := cl.ReportResult(ctx, &pb.ReportResultRequest{WorkerId: "node1-42", Reports: []*pb.TrialReport{
		{SweepId: id, TrialId: ok.GetTrialId(), Token: ok.GetToken(), Outcome: &pb.TrialReport_Result{Result: validResult()}},
		{SweepId: id, TrialId: bad.GetTrialId(), Token: bad.GetToken(), Outcome: &pb.TrialReport_Error{Error: "engine: boom"}},
	}}); err != nil {
		t.Fatal(err)
	}

	ws, err := cl.ListWorkers(ctx, &pb.ListWorkersRequest{})
	if err != nil || len(ws.GetWorkers()) != 1 {
		t.Fatalf("ListWorkers: %v %v", ws, err)
	}
	if w := ws.GetWorkers()[0]; w.GetWorkerId() != "node1-42" || w.GetTrialsDone() != 1 || w.GetLeases() != 0 ||
		w.GetAddress() == "" || w.GetLastSeen() == nil || w.GetEngineSeconds() <= 0 {
		t.Errorf("worker %v", w)
	}

	for _, c := range []struct {
		name  string
		req   *pb.RetrySweepRequest
		code  codes.Code
		field string
	}{
		{"no sweep", &pb.RetrySweepRequest{}, codes.InvalidArgument, "sweep_id"},
		{"unknown sweep", &pb.RetrySweepRequest{SweepId: "nope"}, codes.NotFound, "nope"},
		{"done state", &pb.RetrySweepRequest{SweepId: id, States: []pb.TrialState{pb.TrialState_TRIAL_STATE_DONE}}, codes.InvalidArgument, "states[0]"},
	} {
		if _, err := cl.RetrySweep(ctx, c.req); status.Code(err) != c.code || !strings.Contains(err.Error(), c.field) {
			t.Errorf("%s: %v, want %v naming %s", c.name, err, c.code, c.field)
		}
	}
	resp, err := cl.RetrySweep(ctx, &pb.RetrySweepRequest{SweepId: id})
	if err != nil || resp.GetRetried() != 1 || resp.GetSweep().GetState() != pb.SweepState_SWEEP_STATE_RUNNING ||
		resp.GetSweep().GetProgress().GetPending() != 1 || resp.GetSweep().GetSpecYaml() != "" {
		t.Fatalf("RetrySweep: %v %v", resp, err)
	}
	again, err := cl.LeaseTrial(ctx, &pb.LeaseTrialRequest{WorkerId: "node2-7", MaxTrials: 2, Wait: durationpb.New(time.Second)})
	if err != nil || len(again.GetLeases()) != 1 || again.GetLeases()[0].GetTrialId() != bad.GetTrialId() || again.GetLeases()[0].GetAttempt() != 1 {
		t.Fatalf("lease after the retry: %v %v", again, err)
	}
	ws, err = cl.ListWorkers(ctx, &pb.ListWorkersRequest{})
	if err != nil || len(ws.GetWorkers()) != 2 || ws.GetWorkers()[0].GetWorkerId() != "node2-7" || ws.GetWorkers()[0].GetLeases() != 1 {
		t.Errorf("ListWorkers after the retry: %v %v", ws, err)
	}
	long := strings.Repeat("w", 257)
	if _, err := cl.Heartbeat(ctx, &pb.HeartbeatRequest{WorkerId: long}); status.Code(err) != codes.InvalidArgument ||
		!strings.Contains(err.Error(), "worker_id") {
		t.Errorf("257-byte worker id: %v", err)
	}
}
