// Package enginetest builds engine values for tests of the packages above
// the engine.
package enginetest

import "github.com/eosweep/eosweep/engine"

// Result is the smallest result that passes engine.Result.Validate for a
// trial of steps steps: a run of all of them whose trajectory records θ₀ and
// the last step, every other field zero but a wall time of 1 ms. Tests set
// the fields they look at on the copy they get, keeping it consistent
// (Validate refuses a min_bias above final_bias): to end at a bias, use
// ResultBias.
func Result(steps int) engine.Result {
	return engine.Result{StepsRun: steps, WallMS: 1,
		Trajectory: []engine.Point{{Step: 0, Loss: 0.7}, {Step: steps, Loss: 0.6, Sharpness: 1}}}
}

// ResultBias is Result ending at final bias bias: the last trajectory point
// and min_bias agree with it.
func ResultBias(steps int, bias float64) engine.Result {
	r := Result(steps)
	r.FinalBias, r.MinBias, r.Trajectory[1].Bias = bias, min(bias, 0), bias
	return r
}

// FullResult is ResultBias with a full trajectory: MaxTrajectory−1 points
// from step 0 to steps (steps ≥ MaxTrajectory), each with loss, bias and
// sharpness set, as a long run measuring sharpness often reports. It is
// about 10 KB on the wire: what pages of trials must be bounded for.
func FullResult(steps int, bias float64) engine.Result {
	r := ResultBias(steps, bias)
	n := engine.MaxTrajectory - 1
	r.Trajectory = make([]engine.Point, n)
	for i := range n {
		step := i * steps / (n - 1)
		r.Trajectory[i] = engine.Point{Step: step, Loss: 0.7 - 0.1*float64(i)/float64(n) + 1e-9*float64(i),
			Bias: bias + 0.123456789*float64(n-1-i)/float64(n), Sharpness: 1.000000123 + float64(i)/7}
	}
	r.Trajectory[n-1].Bias = bias
	return r
}
