// Package enginetest builds engine values for tests of the packages above
// the engine.
package enginetest

import "github.com/eosweep/eosweep/engine"

// Result is the smallest result that passes the coordinator's validation for
// a trial of steps steps: a run of all of them whose trajectory records θ₀ and
// the last step, every other field zero but a wall time of 1 ms. Tests set
// the fields they look at (FinalBias, …) on the copy they get.
func Result(steps int) engine.Result {
	return engine.Result{StepsRun: steps, WallMS: 1,
		Trajectory: []engine.Point{{Step: 0, Loss: 0.7}, {Step: steps, Loss: 0.6, Sharpness: 1}}}
}
