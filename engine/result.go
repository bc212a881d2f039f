package engine

import "errors"

// ErrInvalidResult is wrapped by every error that refuses a Result as not one
// the engine could have produced (a field out of range, a trajectory too long),
// wherever it is checked: on the wire (package wire) and by the scheduler.
var ErrInvalidResult = errors.New("invalid result")

// Point is one sample of a trial's trajectory. Sharpness is 0 where it was not
// measured at that step (it is measured every SharpnessEvery steps and at the end).
type Point struct {
	Step      int     `json:"step"`
	Loss      float64 `json:"loss"`
	Bias      float64 `json:"bias"`
	Sharpness float64 `json:"sharpness,omitempty"`
}

// MaxTrajectory is the most points a Result's Trajectory holds.
const MaxTrajectory = 256

// Result is what one trial reports. The JSON names are the ones used in
// protobuf, CSV and reports. Every float field is finite: on divergence the
// values are those of the last finite iterate and Diverged is set.
// For the single model, FinalBias and MinBias hold |x_T| − x₀ (and its minimum).
//
// BiasNegative is the engine's absolute sign test, b_T < −bias_eps, for a run
// that did not diverge. It is not whether the threshold was learned: that is
// the sweep analysis' plateau-relative "learned" (package boundary), which
// compares b_T with the same seed's gradient-flow plateau. (Results stored
// before BiasNegative existed carried the same test as threshold_learned; the
// store reads them into BiasNegative, false for a diverged run.)
//
// TrainAcc and TestAcc are absent (nil, JSON null) where there is nothing to
// measure: both for models without data (single, mean), TestAcc when n_test = 0.
// EOSRatio is η·FinalSharpness/2; MaxEOSRatio is the largest η·sharpness/2 over
// every finite sharpness measurement of the run (θ₀ and the final one included);
// MaxEOSRatioAfterInit is the same maximum without θ₀ (the measurements at
// steps ≥ 1: every SharpnessEvery steps and the last), so that an unstable
// start (η·S₀/2 > 1, which GD leaves in its first steps) does not stand in for
// what GD reaches. It is 0 in results stored before the field existed.
type Result struct {
	FinalBias            float64  `json:"final_bias"`
	MinBias              float64  `json:"min_bias"`
	BiasNegative         bool     `json:"bias_negative"`
	InitialSharpness     float64  `json:"initial_sharpness"`
	FinalSharpness       float64  `json:"final_sharpness"`
	EOSRatio             float64  `json:"eos_ratio"`
	MaxEOSRatio          float64  `json:"max_eos_ratio"`
	MaxEOSRatioAfterInit float64  `json:"max_eos_ratio_after_init"`
	FinalLoss            float64  `json:"final_loss"`
	TrainAcc             *float64 `json:"train_acc"`
	TestAcc              *float64 `json:"test_acc"`
	StepsRun             int      `json:"steps_run"`
	Diverged             bool     `json:"diverged"`
	Dead                 bool     `json:"dead"`
	WallMS               float64  `json:"wall_ms"`
	Trajectory           []Point  `json:"trajectory"`
	// Metrics holds further numeric fields by name: what an exec trial's
	// program reported beyond the fields above (see metrics.go). The engine
	// never sets it.
	Metrics map[string]float64 `json:"metrics,omitempty"`
}

// Array is a dense float64 array in row-major order, for --dump.
type Array struct {
	Shape []int
	Data  []float64
}

// Dump holds named arrays describing a trial so it can be replayed elsewhere:
// the config as 0-d arrays, the data, the initial and the final parameters.
// Names follow the trial command's --dump documentation.
type Dump map[string]Array
