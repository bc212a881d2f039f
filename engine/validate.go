package engine

import (
	"fmt"
	"math"
)

// Validate checks that r is a result a run of steps steps could have
// produced, whoever reports it. Errors wrap ErrInvalidResult and name the
// field by its JSON name. The rules, each true of every result Run returns
// (engine tests run every model, diverged and dead runs included, through
// them):
//
//   - every float is finite; wall_ms ≥ 0; train_acc and test_acc are in [0, 1]
//     or absent (a model without data, no test set);
//   - steps_run is in [0, steps], and equals steps unless diverged (a run
//     stops early only when it diverges);
//   - the trajectory holds 1 to MaxTrajectory points, starts at step 0 (a run
//     always records θ₀), its steps strictly increase and the last is
//     steps_run (the run's last iterate);
//   - eos_ratio and max_eos_ratio are ≥ 0, and max_eos_ratio ≥ eos_ratio
//     (the maximum includes the final measurement); max_eos_ratio_after_init
//     is in [0, max_eos_ratio] (the same maximum without θ₀; 0 from a worker
//     older than the field);
//   - min_bias ≤ final_bias and min_bias ≤ every trajectory bias (the
//     minimum is over every iterate);
//   - bias_negative only for a run that did not diverge and with
//     final_bias < 0 (it means final_bias < −bias_eps, bias_eps ≥ 0;
//     ValidateFor checks it exactly);
//   - metrics bounded, named and finite (CheckMetrics; the engine sets none).
func (r Result) Validate(steps int) error { return r.validate(steps, -1) }

// ValidateProgram checks the result of an exec trial. A program reports what
// it measures, so there is no step count to hold it to and no θ₀ it must
// record: every field and metric finite, metrics bounded and named
// (CheckMetrics), steps_run and trajectory steps ≥ 0, a trajectory of at most
// MaxTrajectory finite points, wall time ≥ 0. Errors wrap ErrInvalidResult
// and name the field by its JSON name.
func (r Result) ValidateProgram() error {
	if err := r.CheckMetrics(); err != nil {
		return err
	}
	for _, name := range FieldNames() {
		if v, _ := r.Metric(name); math.IsNaN(v) || math.IsInf(v, 0) {
			return invalid("%s: %v is not finite", name, v)
		}
	}
	if r.WallMS < 0 {
		return invalid("wall_ms: %v is negative", r.WallMS)
	}
	if r.StepsRun < 0 {
		return invalid("steps_run: %d is negative", r.StepsRun)
	}
	if len(r.Trajectory) > MaxTrajectory {
		return invalid("trajectory: %d points, at most %d", len(r.Trajectory), MaxTrajectory)
	}
	for i, p := range r.Trajectory {
		if p.Step < 0 {
			return invalid("trajectory[%d].step: %d is negative", i, p.Step)
		}
		if err := p.checkFinite(i); err != nil {
			return err
		}
	}
	return nil
}

// ValidateFor is Validate for the trial cfg describes, with the rule that
// needs more than its step count: bias_negative is exactly "did not diverge
// and final_bias < −bias_eps".
func (r Result) ValidateFor(cfg Config) error { return r.validate(cfg.Steps, cfg.BiasEps) }

// signFlag is the flag that summarises final_bias against bias_eps, and its
// JSON name: the one place the rules name it.
func (r Result) signFlag() (name string, v bool) { return "bias_negative", r.BiasNegative }

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidResult}, args...)...)
}

// validate checks r; biasEps < 0 means unknown.
func (r Result) validate(steps int, biasEps float64) error {
	for _, f := range []struct {
		name string
		v    float64
	}{
		{"final_bias", r.FinalBias}, {"min_bias", r.MinBias}, {"initial_sharpness", r.InitialSharpness},
		{"final_sharpness", r.FinalSharpness}, {"eos_ratio", r.EOSRatio}, {"max_eos_ratio", r.MaxEOSRatio},
		{"max_eos_ratio_after_init", r.MaxEOSRatioAfterInit}, {"final_loss", r.FinalLoss}, {"wall_ms", r.WallMS},
	} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			return invalid("%s: %v is not finite", f.name, f.v)
		}
	}
	for _, f := range []struct {
		name string
		v    *float64
	}{{"train_acc", r.TrainAcc}, {"test_acc", r.TestAcc}} {
		if f.v != nil && !(*f.v >= 0 && *f.v <= 1) { // NaN fails too
			return invalid("%s: %v is not in [0, 1]", f.name, *f.v)
		}
	}
	if r.WallMS < 0 {
		return invalid("wall_ms: %v is negative", r.WallMS)
	}
	if r.StepsRun < 0 || r.StepsRun > steps {
		return invalid("steps_run: %d is not in [0, %d]", r.StepsRun, steps)
	}
	if err := r.validateTrajectory(); err != nil {
		return err
	}
	if r.StepsRun != steps && !r.Diverged {
		return invalid("steps_run: %d of %d steps, but diverged is false (a run stops early only when it diverges)", r.StepsRun, steps)
	}
	if r.EOSRatio < 0 {
		return invalid("eos_ratio: %v is negative", r.EOSRatio)
	}
	if r.MaxEOSRatio < r.EOSRatio {
		return invalid("max_eos_ratio: %v is below eos_ratio %v (the maximum includes the final measurement)", r.MaxEOSRatio, r.EOSRatio)
	}
	if r.MaxEOSRatioAfterInit < 0 || r.MaxEOSRatioAfterInit > r.MaxEOSRatio {
		return invalid("max_eos_ratio_after_init: %v is not in [0, max_eos_ratio %v] (the same maximum without θ₀)",
			r.MaxEOSRatioAfterInit, r.MaxEOSRatio)
	}
	if r.MinBias > r.FinalBias {
		return invalid("min_bias: %v is above final_bias %v", r.MinBias, r.FinalBias)
	}
	if err := r.CheckMetrics(); err != nil {
		return err
	}
	name, negative := r.signFlag()
	switch {
	case biasEps >= 0 && negative != (!r.Diverged && r.FinalBias < -biasEps):
		return invalid("%s: %v with final_bias %v, bias_eps %v and diverged %v (it means: did not diverge and final_bias < −bias_eps)",
			name, negative, r.FinalBias, biasEps, r.Diverged)
	case negative && r.Diverged:
		return invalid("%s: true for a run that diverged (it is never true for one)", name)
	case negative && r.FinalBias >= 0:
		return invalid("%s: true with final_bias %v ≥ 0 (it means final_bias < −bias_eps)", name, r.FinalBias)
	}
	return nil
}

func (r Result) validateTrajectory() error {
	tr := r.Trajectory
	// The engine always records θ₀: a result without it (an empty or missing
	// message) did not come from a run and must not win the trial.
	if len(tr) == 0 || tr[0].Step != 0 {
		return invalid("trajectory: must start at step 0 (a run always records θ₀)")
	}
	if len(tr) > MaxTrajectory {
		return invalid("trajectory: %d points, at most %d", len(tr), MaxTrajectory)
	}
	for i, p := range tr {
		if i > 0 && p.Step <= tr[i-1].Step {
			return invalid("trajectory[%d].step: %d does not follow trajectory[%d].step %d (steps strictly increase)", i, p.Step, i-1, tr[i-1].Step)
		}
		if err := p.checkFinite(i); err != nil {
			return err
		}
		if p.Bias < r.MinBias {
			return invalid("trajectory[%d].bias: %v is below min_bias %v (the minimum is over every step)", i, p.Bias, r.MinBias)
		}
	}
	if last := tr[len(tr)-1].Step; last != r.StepsRun {
		return invalid("trajectory: ends at step %d, not at steps_run %d (a run records its last iterate)", last, r.StepsRun)
	}
	return nil
}

// checkFinite checks that the trajectory point at index i is finite.
func (p Point) checkFinite(i int) error {
	for _, f := range []struct {
		name string
		v    float64
	}{{"loss", p.Loss}, {"bias", p.Bias}, {"sharpness", p.Sharpness}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			return invalid("trajectory[%d].%s: %v is not finite", i, f.name, f.v)
		}
	}
	return nil
}
