package coordinator_test

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/eosweep/eosweep/coordinator"
	"github.com/eosweep/eosweep/coordinator/coordinatortest"
	"github.com/eosweep/eosweep/coordinator/scheduler"
	"github.com/eosweep/eosweep/engine/enginetest"
	"github.com/eosweep/eosweep/internal/wire"
	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
)

const twoEtas = "name: t\nmodel: single\ngrid: {eta: [1, 3]}\nparams: {steps: 20}\n"

func TestSubmitValidationCodes(t *testing.T) {
	t.Parallel()
	_, conn := coordinatortest.Start(t, coordinator.Config{})
	cl := pb.NewCoordinatorServiceClient(conn)
	ctx := context.Background()
	_, err := cl.SubmitSweep(ctx, &pb.SubmitSweepRequest{SpecYaml: "model: single\ngrid: {eta: [-1]}\n"})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), `"eta"`) {
		t.Fatalf("bad spec: %v", err)
	}
	if _, err := cl.SubmitSweep(ctx, &pb.SubmitSweepRequest{}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("empty spec: %v", err)
	}
	if _, err := cl.GetSweep(ctx, &pb.GetSweepRequest{SweepId: "nope"}); status.Code(err) != codes.NotFound {
		t.Fatalf("unknown sweep: %v", err)
	}
	r1, err := cl.SubmitSweep(ctx, &pb.SubmitSweepRequest{SpecYaml: twoEtas})
	if err != nil || !r1.GetCreated() || r1.GetSweep().GetProgress().GetTotal() != 2 {
		t.Fatalf("submit: %v %v", r1, err)
	}
	r2, err := cl.SubmitSweep(ctx, &pb.SubmitSweepRequest{SpecYaml: twoEtas})
	if err != nil || r2.GetCreated() || r2.GetSweep().GetId() != r1.GetSweep().GetId() {
		t.Fatalf("resubmit: %v %v", r2, err)
	}
	list, err := cl.ListSweeps(ctx, &pb.ListSweepsRequest{})
	if err != nil || len(list.GetSweeps()) != 1 {
		t.Fatalf("list: %v %v", list, err)
	}
	h, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: pb.CoordinatorService_ServiceDesc.ServiceName})
	if err != nil || h.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health: %v %v", h, err)
	}
}

func validResult() *pb.Result {
	return wire.ResultToProto(enginetest.ResultBias(20, -0.1))
}

func TestReportResultOverGRPC(t *testing.T) {
	t.Parallel()
	_, conn := coordinatortest.Start(t, coordinator.Config{})
	cl := pb.NewCoordinatorServiceClient(conn)
	ctx := context.Background()
	sub, err := cl.SubmitSweep(ctx, &pb.SubmitSweepRequest{SpecYaml: twoEtas})
	if err != nil {
		t.Fatal(err)
	}
	lr, err := cl.LeaseTrial(ctx, &pb.LeaseTrialRequest{WorkerId: "w", MaxTrials: 5, Wait: durationpb.New(time.Second)})
	if err != nil || len(lr.GetLeases()) != 2 || lr.GetLeaseTtl().AsDuration() <= 0 {
		t.Fatalf("lease: %v %v", lr, err)
	}
	l := lr.GetLeases()[0]
	rep := func(r *pb.Result) *pb.TrialReport {
		return &pb.TrialReport{SweepId: l.GetSweepId(), TrialId: l.GetTrialId(), Token: l.GetToken(), Outcome: &pb.TrialReport_Result{Result: r}}
	}
	// A call whose every report is refused answers each with its reason.
	bad := validResult()
	bad.FinalLoss = math.Inf(-1)
	negative := validResult()
	negative.StepsRun = -3
	refused, err := cl.ReportResult(ctx, &pb.ReportResultRequest{WorkerId: "w", Reports: []*pb.TrialReport{rep(bad), rep(negative)}})
	if err != nil || len(refused.GetOutcomes()) != 2 {
		t.Fatalf("all refused: %v, %v; want an outcome per report", refused, err)
	}
	for i, field := range []string{"final_loss", "steps_run"} {
		o := refused.GetOutcomes()[i]
		if o.GetStatus() != pb.ReportStatus_REPORT_STATUS_REJECTED || !strings.Contains(o.GetMessage(), field) || o.GetTrialId() != l.GetTrialId() {
			t.Errorf("outcome %d = %v, want REJECTED naming %s", i, o, field)
		}
	}
	empty := &pb.TrialReport{SweepId: l.GetSweepId(), TrialId: l.GetTrialId(), Token: l.GetToken()}
	resp, err := cl.ReportResult(ctx, &pb.ReportResultRequest{WorkerId: "w", Reports: []*pb.TrialReport{empty, rep(validResult()), rep(validResult())}})
	if err != nil {
		t.Fatal(err)
	}
	want := []pb.ReportStatus{pb.ReportStatus_REPORT_STATUS_REJECTED, pb.ReportStatus_REPORT_STATUS_ACCEPTED, pb.ReportStatus_REPORT_STATUS_DUPLICATE}
	for i, o := range resp.GetOutcomes() {
		if o.GetStatus() != want[i] {
			t.Errorf("outcome %d = %v, want %v", i, o, want[i])
		}
	}
	if _, err := cl.ReportResult(ctx, &pb.ReportResultRequest{WorkerId: "w"}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("no reports: %v", err)
	}
	// The second lease is handed back: PENDING again, attempt not counted.
	l2 := lr.GetLeases()[1]
	resp, err = cl.ReportResult(ctx, &pb.ReportResultRequest{WorkerId: "w", Reports: []*pb.TrialReport{{SweepId: l2.GetSweepId(),
		TrialId: l2.GetTrialId(), Token: l2.GetToken(), Outcome: &pb.TrialReport_Released{Released: true}}}})
	if err != nil || resp.GetOutcomes()[0].GetStatus() != pb.ReportStatus_REPORT_STATUS_RELEASED {
		t.Fatalf("release: %v %v", resp, err)
	}
	again, err := cl.LeaseTrial(ctx, &pb.LeaseTrialRequest{WorkerId: "w", MaxTrials: 5})
	if err != nil || len(again.GetLeases()) != 1 || again.GetLeases()[0].GetAttempt() != 1 {
		t.Fatalf("lease after release: %v %v", again, err)
	}
	trials, err := cl.ListTrials(ctx, &pb.ListTrialsRequest{SweepId: sub.GetSweep().GetId(), PageSize: 1})
	if err != nil || len(trials.GetTrials()) != 1 || trials.GetNextPageToken() == "" {
		t.Fatalf("page 1: %v %v", trials, err)
	}
	page2, err := cl.ListTrials(ctx, &pb.ListTrialsRequest{SweepId: sub.GetSweep().GetId(), PageSize: 1, PageToken: trials.GetNextPageToken()})
	if err != nil || len(page2.GetTrials()) != 1 || page2.GetNextPageToken() != "" {
		t.Fatalf("page 2: %v %v", page2, err)
	}
	var withResult int
	for _, tr := range append(trials.GetTrials(), page2.GetTrials()...) {
		if tr.GetResult() != nil {
			withResult++
			if tr.GetState() != pb.TrialState_TRIAL_STATE_DONE || tr.GetResult().GetFinalBias() != -0.1 {
				t.Errorf("trial %v", tr)
			}
		}
	}
	if withResult != 1 {
		t.Fatalf("%d trials with results, want 1", withResult)
	}
}

func TestWatchSweepUntilDone(t *testing.T) {
	t.Parallel()
	_, conn := coordinatortest.Start(t, coordinator.Config{Scheduler: scheduler.Config{LeaseTTL: time.Minute}})
	cl := pb.NewCoordinatorServiceClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sub, err := cl.SubmitSweep(ctx, &pb.SubmitSweepRequest{SpecYaml: twoEtas})
	if err != nil {
		t.Fatal(err)
	}
	stream, err := cl.WatchSweep(ctx, &pb.WatchSweepRequest{SweepId: sub.GetSweep().GetId()})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		lr, _ := cl.LeaseTrial(ctx, &pb.LeaseTrialRequest{WorkerId: "w", MaxTrials: 2})
		for _, l := range lr.GetLeases() {
			cl.ReportResult(ctx, &pb.ReportResultRequest{WorkerId: "w", Reports: []*pb.TrialReport{{SweepId: l.GetSweepId(),
				TrialId: l.GetTrialId(), Token: l.GetToken(), Outcome: &pb.TrialReport_Result{Result: validResult()}}}})
		}
	}()
	var last *pb.Sweep
	updates := 0
	for {
		msg, err := stream.Recv()
		if err != nil {
			break
		}
		last = msg.GetSweep()
		updates++
	}
	if last.GetState() != pb.SweepState_SWEEP_STATE_DONE || last.GetProgress().GetDone() != 2 {
		t.Fatalf("after %d updates: %v", updates, last)
	}
}

// TestDeleteSweepCodes: DeleteSweep refuses a running sweep with
// FAILED_PRECONDITION and an unknown one with NOT_FOUND; a cancelled sweep
// is deleted and no longer listed.
func TestDeleteSweepCodes(t *testing.T) {
	t.Parallel()
	_, conn := coordinatortest.Start(t, coordinator.Config{})
	cl := pb.NewCoordinatorServiceClient(conn)
	ctx := context.Background()
	r, err := cl.SubmitSweep(ctx, &pb.SubmitSweepRequest{SpecYaml: twoEtas})
	if err != nil {
		t.Fatal(err)
	}
	id := r.GetSweep().GetId()
	if _, err := cl.DeleteSweep(ctx, &pb.DeleteSweepRequest{SweepId: id}); status.Code(err) != codes.FailedPrecondition ||
		!strings.Contains(err.Error(), "cancel it first") {
		t.Fatalf("delete a running sweep: %v", err)
	}
	if _, err := cl.DeleteSweep(ctx, &pb.DeleteSweepRequest{SweepId: "nope"}); status.Code(err) != codes.NotFound {
		t.Fatalf("delete an unknown sweep: %v", err)
	}
	if _, err := cl.DeleteSweep(ctx, &pb.DeleteSweepRequest{}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("delete without an id: %v", err)
	}
	if _, err := cl.CancelSweep(ctx, &pb.CancelSweepRequest{SweepId: id}); err != nil {
		t.Fatal(err)
	}
	d, err := cl.DeleteSweep(ctx, &pb.DeleteSweepRequest{SweepId: id})
	if err != nil || d.GetTrials() != 2 {
		t.Fatalf("delete a cancelled sweep: %v %v", d, err)
	}
	if list, err := cl.ListSweeps(ctx, &pb.ListSweepsRequest{}); err != nil || len(list.GetSweeps()) != 0 {
		t.Fatalf("list after delete: %v %v", list, err)
	}
}
