package engine

import (
	"context"
	"sync"
	"testing"
)

// TestFigure1 reproduces the shape of the paper's Figure 1 with sparse at its
// defaults (d = 200, n = 300, λ = 3, horizon 10, seed 0): below η* = 8π/d² =
// 6.28e-4 the final bias sits on one gradient-flow plateau whatever η; past
// η* it drops further below the plateau as η grows, and test accuracy rises.
func TestFigure1(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("about 120k GD steps")
	}
	etas := []float64{2e-4, 4e-4, 6e-4, 8e-4, 1.2e-3, 4e-3, 1.2e-2}
	res := make([]Result, len(etas))
	var wg sync.WaitGroup
	for i, eta := range etas {
		wg.Go(func() {
			r, err := Run(context.Background(), mustResolve(t, ModelSparse, map[string]float64{"eta": eta}))
			if err != nil {
				t.Error(err)
			}
			res[i] = r
		})
	}
	wg.Wait()
	for i, r := range res {
		t.Logf("η = %-7g b_T = %8.4f  2/S₀ = %.3g  test acc %.3f  η·S/2 = %.3f", etas[i], r.FinalBias, 2/r.InitialSharpness, valueOr(r.TestAcc, 0), r.EOSRatio)
		if r.Diverged || r.Dead {
			t.Errorf("η = %g: diverged %v, dead %v", etas[i], r.Diverged, r.Dead)
		}
	}
	plateau := res[0].FinalBias
	if plateau >= 0 {
		t.Errorf("plateau b_T = %g: gradient flow should already pull b below 0", plateau)
	}
	for i := 1; i < 3; i++ { // stable phase: the same plateau (to O(η))
		if d := res[i].FinalBias - plateau; d > 0.003 || d < -0.003 {
			t.Errorf("η = %g: b_T = %.4f is off the plateau %.4f", etas[i], res[i].FinalBias, plateau)
		}
	}
	if drop := plateau - res[3].FinalBias; drop < 0.05 {
		t.Errorf("η = 8e-4 > η*: b_T = %.4f, only %.4f below the plateau", res[3].FinalBias, drop)
	}
	for i := 4; i < len(etas); i++ {
		if res[i].FinalBias >= res[i-1].FinalBias {
			t.Errorf("b_T does not fall with η past η*: %.4f at η = %g, %.4f at η = %g", res[i-1].FinalBias, etas[i-1], res[i].FinalBias, etas[i])
		}
	}
	if lo, hi := valueOr(res[0].TestAcc, 0), valueOr(res[len(res)-1].TestAcc, 0); hi < lo+0.05 {
		t.Errorf("test accuracy %.3f at η = 1.2e-2, %.3f on the plateau: want a clear rise", hi, lo)
	}
}
