package wire_test

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/eosweep/eosweep/engine"
	"github.com/eosweep/eosweep/internal/depstest"
	"github.com/eosweep/eosweep/internal/wire"
	"github.com/eosweep/eosweep/internal/wire/wiretest"
	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
)

func TestResultRoundTrip(t *testing.T) {
	t.Parallel()
	var r engine.Result
	wiretest.Fill(t, &r, nil)
	got, err := wire.ResultFromProto(wire.ResultToProto(r))
	if err != nil || !reflect.DeepEqual(got, r) {
		t.Fatalf("round trip: %v\n got %+v\nwant %+v", err, got, r)
	}
}

func TestResultFromProtoRefuses(t *testing.T) {
	t.Parallel()
	long := make([]*pb.TrajectoryPoint, engine.MaxTrajectory+1)
	for i := range long {
		long[i] = &pb.TrajectoryPoint{Step: int64(i)}
	}
	many := map[string]float64{}
	for i := range engine.MaxMetrics + 1 {
		many[fmt.Sprintf("m%d", i)] = 1
	}
	for _, c := range []struct {
		name  string
		in    *pb.Result
		field string
	}{
		{"too many metrics", &pb.Result{Metrics: many}, "metrics"},
		{"long metric name", &pb.Result{Metrics: map[string]float64{strings.Repeat("a", engine.MaxMetricName+1): 1}}, "metrics"},
		{"negative steps", &pb.Result{StepsRun: -1}, "steps_run"},
		{"steps beyond int32", &pb.Result{StepsRun: math.MaxInt32 + 1}, "steps_run"},
		{"long trajectory", &pb.Result{Trajectory: long}, "trajectory"},
		{"step beyond int32", &pb.Result{Trajectory: []*pb.TrajectoryPoint{{Step: 0}, {Step: math.MaxInt32 + 1}}}, "trajectory[1].step"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := wire.ResultFromProto(c.in)
			if !errors.Is(err, engine.ErrInvalidResult) {
				t.Fatalf("error %v does not wrap engine.ErrInvalidResult", err)
			}
			if want := ": " + c.field + ":"; !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name %s", err, c.field)
			}
		})
	}
	if _, err := wire.ResultFromProto(nil); err != nil {
		t.Errorf("a nil result (all zero) was refused: %v", err)
	}
}

// The package stays a leaf: of this module it links only the engine and the
// generated protobuf code.
func TestLeaf(t *testing.T) {
	t.Parallel()
	depstest.Within(t, "github.com/eosweep/eosweep/internal/wire", "github.com/eosweep/eosweep",
		"github.com/eosweep/eosweep/engine", "github.com/eosweep/eosweep/proto/eosweep/v1")
}
