package scheduler

import (
	"fmt"
	"math"

	"github.com/eosweep/eosweep/coordinator/spec"
	"github.com/eosweep/eosweep/engine"
)

// ValidateResult checks a reported result against its trial's resolved step
// count: every float finite, accuracies in [0, 1], wall time ≥ 0, steps_run in
// [0, steps], a trajectory of at most engine.MaxTrajectory points with steps
// in [0, steps] starting at step 0. Errors wrap ErrInvalidResult and name the field.
//
// steps = spec.NoSteps (an exec trial) checks the result as a program's:
// every float finite, steps_run and trajectory steps ≥ 0, metrics bounded
// (see validateProgram).
func ValidateResult(r engine.Result, steps int) error {
	if steps == spec.NoSteps {
		return validateProgram(r)
	}
	fields := []struct {
		name string
		v    float64
	}{
		{"final_bias", r.FinalBias}, {"min_bias", r.MinBias}, {"initial_sharpness", r.InitialSharpness},
		{"final_sharpness", r.FinalSharpness}, {"eos_ratio", r.EOSRatio}, {"final_loss", r.FinalLoss},
		{"train_acc", r.TrainAcc}, {"test_acc", r.TestAcc}, {"wall_ms", r.WallMS},
		{"max_eos_ratio", r.MaxEOSRatio},
	}
	if err := r.CheckMetrics(); err != nil {
		return err
	}
	for _, f := range fields {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			return fmt.Errorf("%w: %s: %v is not finite", ErrInvalidResult, f.name, f.v)
		}
	}
	for _, f := range fields[6:8] {
		if f.v < 0 || f.v > 1 {
			return fmt.Errorf("%w: %s: %v is not in [0, 1]", ErrInvalidResult, f.name, f.v)
		}
	}
	if r.WallMS < 0 {
		return fmt.Errorf("%w: wall_ms: %v is negative", ErrInvalidResult, r.WallMS)
	}
	if r.StepsRun < 0 || r.StepsRun > steps {
		return fmt.Errorf("%w: steps_run: %d is not in [0, %d]", ErrInvalidResult, r.StepsRun, steps)
	}
	// The engine always records θ₀: a result without it (an empty or missing
	// message) did not come from a run and must not win the trial.
	if len(r.Trajectory) == 0 || r.Trajectory[0].Step != 0 {
		return fmt.Errorf("%w: trajectory: must start at step 0 (a run always records θ₀)", ErrInvalidResult)
	}
	if len(r.Trajectory) > engine.MaxTrajectory {
		return fmt.Errorf("%w: trajectory: %d points, at most %d", ErrInvalidResult, len(r.Trajectory), engine.MaxTrajectory)
	}
	for i, p := range r.Trajectory {
		if p.Step < 0 || p.Step > steps {
			return fmt.Errorf("%w: trajectory[%d].step: %d is not in [0, %d]", ErrInvalidResult, i, p.Step, steps)
		}
		for _, f := range []struct {
			name string
			v    float64
		}{{"loss", p.Loss}, {"bias", p.Bias}, {"sharpness", p.Sharpness}} {
			if math.IsNaN(f.v) || math.IsInf(f.v, 0) {
				return fmt.Errorf("%w: trajectory[%d].%s: %v is not finite", ErrInvalidResult, i, f.name, f.v)
			}
		}
	}
	return nil
}
