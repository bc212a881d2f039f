package boundary

import (
	"math"
	"math/rand/v2"

	"github.com/eosweep/eosweep/engine"
)

// trial builds a synthetic finished trial of model at (eta, seed) with extra
// parameters, a final bias and an initial sharpness.
func trial(eta, seed float64, extra map[string]float64, bias, s0 float64) Trial {
	p := map[string]float64{"eta": eta, "seed": seed}
	for k, v := range extra {
		p[k] = v
	}
	return Trial{Params: p, Result: engine.Result{FinalBias: bias, InitialSharpness: s0, EOSRatio: eta * s0 / 2}}
}

// logGrid returns n points from lo to hi evenly spaced in log.
func logGrid(lo, hi float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = lo * math.Pow(hi/lo, float64(i)/float64(n-1))
	}
	return out
}

// logisticOutcomes draws learned ~ Bernoulli(σ(slope·(log η − log etaStar)))
// for `seeds` trials at each η of grid; x = log η.
func logisticOutcomes(rng *rand.Rand, grid []float64, seeds int, etaStar, slope float64) (x []float64, y []bool) {
	for _, eta := range grid {
		p := sigmoid(slope * math.Log(eta/etaStar))
		for range seeds {
			x = append(x, math.Log(eta))
			y = append(y, rng.Float64() < p)
		}
	}
	return x, y
}

// logLik is the log-likelihood of logit = β(x − μ) (x = log η, μ = log η*).
func logLik(x []float64, y []bool, mu, beta float64) float64 {
	var ll float64
	for i := range x {
		s := -1.0
		if y[i] {
			s = 1
		}
		ll -= softplus(-s * beta * (x[i] - mu))
	}
	return ll
}
