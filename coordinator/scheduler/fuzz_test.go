package scheduler

import (
	"encoding/json"
	"errors"
	"math"
	"testing"

	"github.com/eosweep/eosweep/engine"
)

// FuzzValidateResult: ValidateResult never panics, every error wraps
// ErrInvalidResult, and an accepted result is storable (JSON-encodable, so
// finite) and within the step range.
func FuzzValidateResult(f *testing.F) {
	f.Add(0.1, -0.2, 3.0, 0.5, 0.99, 0.7, 12, 100, 5, 1.0)
	f.Add(math.NaN(), 0.0, 0.0, 0.0, 0.0, 0.0, 0, 1, 0, 0.0)
	f.Add(0.0, 0.0, math.Inf(1), 0.0, 2.0, -1.0, -1, 1, 300, math.Inf(-1))
	f.Fuzz(func(t *testing.T, bias, minBias, sharp, acc, eos, loss float64, stepsRun, steps, points int, pointVal float64) {
		r := engine.Result{FinalBias: bias, MinBias: minBias, InitialSharpness: sharp, FinalSharpness: sharp,
			EOSRatio: eos, MaxEOSRatio: eos, FinalLoss: loss, TrainAcc: &acc, TestAcc: &acc, StepsRun: stepsRun, WallMS: math.Abs(loss)}
		for i := range min(max(points, 0), 400) {
			r.Trajectory = append(r.Trajectory, engine.Point{Step: i * max(stepsRun, 0) / max(points, 1), Loss: pointVal, Bias: bias, Sharpness: sharp})
		}
		err := ValidateResult(r, steps)
		if err != nil {
			if !errors.Is(err, ErrInvalidResult) {
				t.Fatalf("error %v does not wrap ErrInvalidResult", err)
			}
			return
		}
		if _, err := json.Marshal(r); err != nil {
			t.Fatalf("accepted result does not encode: %v", err)
		}
		if r.StepsRun < 0 || r.StepsRun > steps || len(r.Trajectory) > engine.MaxTrajectory || acc < 0 || acc > 1 {
			t.Fatalf("accepted out-of-range result %+v for %d steps", r, steps)
		}
	})
}
