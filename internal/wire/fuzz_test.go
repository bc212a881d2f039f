package wire_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/eosweep/eosweep/engine"
	"github.com/eosweep/eosweep/internal/boundtest"
	"github.com/eosweep/eosweep/internal/wire"
	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
)

// reportMaxAlloc bounds what decoding one ReportResultRequest of at most
// 64 KiB allocates: protobuf allocates each of its messages (a trajectory
// point of 2 bytes on the wire is a ~80-byte struct), the conversion one
// Result per report.
const reportMaxAlloc = 16 << 20

// FuzzReportResultDecode decodes a ReportResultRequest as the coordinator
// receives it (at most 64 KiB), converts every result with ResultFromProto
// and validates it for a trial of steps steps. Neither panics, the whole
// returns within a second and allocates at most 16 MB, every error wraps
// engine.ErrInvalidResult, and a result that passes both round-trips
// through the wire unchanged.
func FuzzReportResultDecode(f *testing.F) {
	traj := make([]*pb.TrajectoryPoint, 255)
	for i := range traj {
		traj[i] = &pb.TrajectoryPoint{Step: int64(4 * i), Loss: 0.5, Bias: -0.01 * float64(i)}
	}
	good := &pb.Result{FinalBias: -2.54, MinBias: -2.54, StepsRun: 1016, WallMs: 3, EosRatio: 1, MaxEosRatio: 1.5, Trajectory: traj}
	for _, req := range []*pb.ReportResultRequest{
		{WorkerId: "w", Reports: []*pb.TrialReport{{SweepId: "s", TrialId: "t", Token: "x", Outcome: &pb.TrialReport_Result{Result: good}}}},
		{WorkerId: "w", Reports: []*pb.TrialReport{{Outcome: &pb.TrialReport_Error{Error: "boom"}}, {Outcome: &pb.TrialReport_Released{Released: true}}}},
		{Reports: []*pb.TrialReport{{Outcome: &pb.TrialReport_Result{Result: &pb.Result{StepsRun: -1}}}}},
		{Reports: []*pb.TrialReport{{Outcome: &pb.TrialReport_Result{Result: &pb.Result{Trajectory: append(traj, traj...)}}}}},
	} {
		data, err := proto.Marshal(req)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, 1016)
	}
	f.Fuzz(func(t *testing.T, data []byte, steps int) {
		if len(data) > 64<<10 {
			t.Skip()
		}
		var accepted []engine.Result
		var errs []error
		boundtest.Call(t, time.Second, reportMaxAlloc, func() {
			var req pb.ReportResultRequest
			if proto.Unmarshal(data, &req) != nil {
				return
			}
			for _, rep := range req.GetReports() {
				in := rep.GetResult()
				if in == nil {
					continue
				}
				r, err := wire.ResultFromProto(in)
				if err == nil {
					err = r.Validate(steps)
				}
				if err != nil {
					errs = append(errs, err)
					continue
				}
				accepted = append(accepted, r)
			}
		})
		for _, err := range errs {
			if !errors.Is(err, engine.ErrInvalidResult) {
				t.Fatalf("error %v does not wrap ErrInvalidResult", err)
			}
		}
		for _, r := range accepted {
			if back, err := wire.ResultFromProto(wire.ResultToProto(r)); err != nil || !reflect.DeepEqual(back, r) {
				t.Fatalf("accepted result does not round-trip: %v\n in %+v\nout %+v", err, r, back)
			}
		}
	})
}
