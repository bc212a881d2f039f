//lint:file-ignore SA1019 the tests set and read the deprecated threshold_learned on purpose (older workers)

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

// A result from a worker older than bias_negative carries the same test as
// threshold_learned, set for diverged runs too: it is read as bias_negative,
// never true for a diverged run; bias_negative, when present, wins. Absent
// accuracies stay absent; a new writer sets both names for older readers.
func TestResultBiasNegativeAndAccuracies(t *testing.T) {
	t.Parallel()
	yes, no := true, false
	for _, c := range []struct {
		name string
		in   *pb.Result
		want bool
	}{
		{"old worker, negative", &pb.Result{ThresholdLearned: true}, true},
		{"old worker, diverged", &pb.Result{ThresholdLearned: true, Diverged: true}, false},
		{"old worker, not negative", &pb.Result{}, false},
		{"new worker, negative", &pb.Result{BiasNegative: &yes, ThresholdLearned: true}, true},
		{"new field wins", &pb.Result{BiasNegative: &no, ThresholdLearned: true}, false},
	} {
		got, err := wire.ResultFromProto(c.in)
		if err != nil || got.BiasNegative != c.want {
			t.Errorf("%s: bias_negative %v (%v), want %v", c.name, got.BiasNegative, err, c.want)
		}
	}
	out := wire.ResultToProto(engine.Result{BiasNegative: true})
	if !out.GetBiasNegative() || !out.GetThresholdLearned() || out.TrainAcc != nil || out.TestAcc != nil {
		t.Errorf("to proto: %v", out)
	}
	acc := 0.0 // a measured 0 stays present
	got, err := wire.ResultFromProto(wire.ResultToProto(engine.Result{TrainAcc: &acc}))
	if err != nil || got.TrainAcc == nil || *got.TrainAcc != 0 || got.TestAcc != nil {
		t.Errorf("accuracies: train %v test %v (%v), want 0 and absent", got.TrainAcc, got.TestAcc, err)
	}
}
