package main

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/eosweep/eosweep/engine/enginetest"
	"github.com/eosweep/eosweep/internal/wire"
	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
)

// TestReportResultAgainstProcess drives a coordinator process with raw RPCs:
// a stale lease's result still wins when it comes first, later results are
// duplicates (also after a restart), malformed and forged reports are
// rejected with a reason naming the field.
func TestReportResultAgainstProcess(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "c.db")
	coord, addr := startCoordinator(t, db, "127.0.0.1:0", "--lease-ttl", "300ms")
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cl := pb.NewCoordinatorServiceClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := cl.SubmitSweep(ctx, &pb.SubmitSweepRequest{SpecYaml: "model: single\ngrid: {eta: [1]}\nparams: {steps: 10}\n"}); err != nil {
		t.Fatal(err)
	}
	leaseOne := func() *pb.Lease {
		t.Helper()
		r, err := cl.LeaseTrial(ctx, &pb.LeaseTrialRequest{WorkerId: "raw", MaxTrials: 1, Wait: durationpb.New(5 * time.Second)})
		if err != nil || len(r.GetLeases()) != 1 {
			t.Fatalf("lease: %v %v", r, err)
		}
		return r.GetLeases()[0]
	}
	report := func(l *pb.Lease, token string, res *pb.Result) (*pb.ReportResultResponse, error) {
		return cl.ReportResult(ctx, &pb.ReportResultRequest{WorkerId: "raw", Reports: []*pb.TrialReport{{SweepId: l.GetSweepId(),
			TrialId: l.GetTrialId(), Token: token, Outcome: &pb.TrialReport_Result{Result: res}}}})
	}
	good := wire.ResultToProto(enginetest.ResultBias(10, -0.5))
	first := leaseOne() // never heartbeated: expires after 300 ms
	second := leaseOne()
	if second.GetAttempt() != 2 || second.GetTrialId() != first.GetTrialId() {
		t.Fatalf("second lease %v", second)
	}
	cases := []struct {
		name  string
		token string
		res   *pb.Result
		field string
	}{
		{"non-finite", second.GetToken(), &pb.Result{FinalBias: math.NaN(), StepsRun: 10}, "final_bias"},
		{"steps out of range", second.GetToken(), &pb.Result{StepsRun: 11}, "steps_run"},
		{"empty result", second.GetToken(), &pb.Result{}, "trajectory"},
		{"forged token", "2.0123456789abcdef01234567", good, "token"},
		{"missing token", "", good, "token"},
	}
	for _, c := range cases {
		resp, err := report(second, c.token, c.res)
		if o := resp.GetOutcomes(); err != nil || len(o) != 1 || o[0].GetStatus() != pb.ReportStatus_REPORT_STATUS_REJECTED ||
			!strings.Contains(o[0].GetMessage(), c.field) {
			t.Errorf("%s: %v, %v, want REJECTED naming %s", c.name, resp, err, c.field)
		}
	}
	check := func(l *pb.Lease, token string, want pb.ReportStatus) {
		t.Helper()
		resp, err := report(l, token, good)
		if err != nil || resp.GetOutcomes()[0].GetStatus() != want {
			t.Fatalf("report: %v %v, want %v", resp, err, want)
		}
	}
	check(first, first.GetToken(), pb.ReportStatus_REPORT_STATUS_ACCEPTED) // stale lease, first result: it wins
	check(second, second.GetToken(), pb.ReportStatus_REPORT_STATUS_DUPLICATE)

	coord.kill()
	_, _ = startCoordinator(t, db, addr, "--lease-ttl", "300ms")
	check(second, second.GetToken(), pb.ReportStatus_REPORT_STATUS_DUPLICATE)
}
