package scheduler

import (
	"fmt"
	"math"

	"github.com/eosweep/eosweep/engine"
)

// validateProgram checks the result of an exec trial. A program reports what
// it measures, so there is no step count to hold it to and no θ₀ it must
// record: every field and metric finite, metrics bounded and named
// (engine.Result.CheckMetrics), steps_run and trajectory steps ≥ 0, a
// trajectory of at most engine.MaxTrajectory finite points, wall time ≥ 0.
func validateProgram(r engine.Result) error {
	if err := r.CheckMetrics(); err != nil {
		return err
	}
	for _, name := range engine.FieldNames() {
		if v, _ := r.Metric(name); math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%w: %s: %v is not finite", ErrInvalidResult, name, v)
		}
	}
	if r.WallMS < 0 {
		return fmt.Errorf("%w: wall_ms: %v is negative", ErrInvalidResult, r.WallMS)
	}
	if r.StepsRun < 0 {
		return fmt.Errorf("%w: steps_run: %d is negative", ErrInvalidResult, r.StepsRun)
	}
	if len(r.Trajectory) > engine.MaxTrajectory {
		return fmt.Errorf("%w: trajectory: %d points, at most %d", ErrInvalidResult, len(r.Trajectory), engine.MaxTrajectory)
	}
	for i, p := range r.Trajectory {
		if p.Step < 0 {
			return fmt.Errorf("%w: trajectory[%d].step: %d is negative", ErrInvalidResult, i, p.Step)
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
