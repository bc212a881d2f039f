package engine

import (
	"context"
	"errors"
	"math"
	"reflect"
	"sync"
	"testing"
	"time"
)

func runT(t *testing.T, model string, p map[string]float64) Result {
	t.Helper()
	res, err := Run(context.Background(), mustResolve(t, model, p))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// checkResult checks the invariants every Result must satisfy.
func checkResult(t *testing.T, name string, cfg Config, r Result) {
	t.Helper()
	for field, v := range map[string]float64{
		"final_bias": r.FinalBias, "min_bias": r.MinBias, "initial_sharpness": r.InitialSharpness,
		"final_sharpness": r.FinalSharpness, "eos_ratio": r.EOSRatio, "max_eos_ratio": r.MaxEOSRatio, "max_eos_ratio_after_init": r.MaxEOSRatioAfterInit,
		"final_loss": r.FinalLoss, "train_acc": valueOr(r.TrainAcc, 0), "test_acc": valueOr(r.TestAcc, 0), "wall_ms": r.WallMS,
	} {
		if !finite(v) {
			t.Errorf("%s: %s = %g is not finite", name, field, v)
		}
	}
	if hasTrain, hasTest := r.TrainAcc != nil, r.TestAcc != nil; hasTrain != HasData(cfg.Model) || hasTest != (HasData(cfg.Model) && cfg.NTest > 0) {
		t.Errorf("%s: train_acc present %v, test_acc present %v (model %s, n_test %d)", name, hasTrain, hasTest, cfg.Model, cfg.NTest)
	}
	tr := r.Trajectory
	if len(tr) == 0 || len(tr) > MaxTrajectory {
		t.Fatalf("%s: %d trajectory points", name, len(tr))
	}
	if tr[0].Step != 0 || tr[len(tr)-1].Step != r.StepsRun {
		t.Errorf("%s: trajectory covers steps %d..%d, want 0..%d", name, tr[0].Step, tr[len(tr)-1].Step, r.StepsRun)
	}
	if tr[0].Sharpness != r.InitialSharpness || tr[len(tr)-1].Sharpness != r.FinalSharpness {
		t.Errorf("%s: trajectory sharpness %g..%g, result %g..%g", name, tr[0].Sharpness, tr[len(tr)-1].Sharpness, r.InitialSharpness, r.FinalSharpness)
	}
	for i, p := range tr {
		if i > 0 && p.Step <= tr[i-1].Step {
			t.Errorf("%s: trajectory steps not increasing at %d", name, i)
		}
		if !finite(p.Loss) || !finite(p.Bias) || !finite(p.Sharpness) || p.Bias < r.MinBias {
			t.Errorf("%s: bad trajectory point %+v (min bias %g)", name, p, r.MinBias)
		}
	}
	if last := tr[len(tr)-1]; last.Bias != r.FinalBias || last.Loss != r.FinalLoss {
		t.Errorf("%s: last point %+v, result bias %g loss %g", name, last, r.FinalBias, r.FinalLoss)
	}
	if r.BiasNegative != (!r.Diverged && r.FinalBias < -cfg.BiasEps) {
		t.Errorf("%s: bias_negative %v with final bias %g (diverged %v)", name, r.BiasNegative, r.FinalBias, r.Diverged)
	}
	if want := cfg.Eta * r.FinalSharpness / 2; r.EOSRatio != want {
		t.Errorf("%s: eos_ratio %g, want η·S/2 = %g", name, r.EOSRatio, want)
	}
	if init := cfg.Eta * r.InitialSharpness / 2; r.MaxEOSRatio < r.EOSRatio || r.MaxEOSRatio < init {
		t.Errorf("%s: max_eos_ratio %g below eos_ratio %g or η·S₀/2 = %g", name, r.MaxEOSRatio, r.EOSRatio, init)
	}
	for _, p := range tr {
		if v := cfg.Eta * p.Sharpness / 2; v > r.MaxEOSRatio {
			t.Errorf("%s: η·S/2 = %g at step %d exceeds max_eos_ratio %g", name, v, p.Step, r.MaxEOSRatio)
		}
		if v := cfg.Eta * p.Sharpness / 2; p.Step > 0 && v > r.MaxEOSRatioAfterInit {
			t.Errorf("%s: η·S/2 = %g at step %d exceeds max_eos_ratio_after_init %g", name, v, p.Step, r.MaxEOSRatioAfterInit)
		}
	}
	if r.MaxEOSRatioAfterInit > r.MaxEOSRatio || (r.StepsRun > 0 && !r.Diverged && r.MaxEOSRatioAfterInit < r.EOSRatio) {
		t.Errorf("%s: max_eos_ratio_after_init %g not in [eos_ratio %g, max_eos_ratio %g]", name, r.MaxEOSRatioAfterInit, r.EOSRatio, r.MaxEOSRatio)
	}
	if !r.Diverged && r.StepsRun != cfg.Steps {
		t.Errorf("%s: ran %d of %d steps without diverging", name, r.StepsRun, cfg.Steps)
	}
	if err := r.ValidateFor(cfg); err != nil {
		t.Errorf("%s: the engine's own result fails validation: %v", name, err)
	}
	if err := r.Validate(cfg.Steps); err != nil {
		t.Errorf("%s: the engine's own result fails validation: %v", name, err)
	}
}

func TestRunInvariants(t *testing.T) {
	t.Parallel()
	tests := []struct {
		model string
		p     map[string]float64
	}{
		{ModelSingle, map[string]float64{"eta": 1}},
		{ModelSingle, map[string]float64{"eta": 2.2, "steps": 100000}},
		{ModelMean, map[string]float64{"eta": 3, "width": 16}},
		{ModelMean, map[string]float64{"eta": 3, "width": 16, "steps": 7, "sharpness_every": 3}},
		{ModelSparse, map[string]float64{"eta": 0.01, "width": 20, "n": 30, "n_test": 50}},
		{ModelSparse, map[string]float64{"eta": 0.05, "width": 20, "n": 30, "horizon": 3}},
	}
	for _, tc := range tests {
		cfg := mustResolve(t, tc.model, tc.p)
		r := runT(t, tc.model, tc.p)
		checkResult(t, cfg.Key(), cfg, r)
		if r.Diverged || r.Dead {
			t.Errorf("%s: diverged %v dead %v", cfg.Key(), r.Diverged, r.Dead)
		}
	}
}

// TestRunDiverges: far above the stability limit the iterates of single blow
// up (each step multiplies them by about η/2); the run stops early and still
// reports finite values. (mean and sparse do not blow up: their gradients are
// bounded and a large step pushes b negative until the output dies.)
func TestRunDiverges(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		model string
		p     map[string]float64
	}{
		{ModelSingle, map[string]float64{"eta": 60}},
		{ModelSingle, map[string]float64{"eta": 1e6, "x0": 1e3}},
	} {
		cfg := mustResolve(t, tc.model, tc.p)
		r := runT(t, tc.model, tc.p)
		checkResult(t, cfg.Key(), cfg, r)
		if !r.Diverged || r.StepsRun >= cfg.Steps {
			t.Errorf("%s: diverged %v after %d of %d steps; want an early stop", cfg.Key(), r.Diverged, r.StepsRun, cfg.Steps)
		}
	}
}

func TestRunDead(t *testing.T) {
	t.Parallel()
	// b0 below every −|x_ij|: every ReLU is off, output and gradient are 0.
	p := map[string]float64{"eta": 0.01, "width": 10, "n": 20, "b0": -100, "steps": 5}
	r := runT(t, ModelSparse, p)
	if !r.Dead || r.FinalBias != -100 || r.FinalLoss != math.Ln2 {
		t.Errorf("dead network: dead %v, final bias %g, loss %g (want true, −100, ln 2)", r.Dead, r.FinalBias, r.FinalLoss)
	}
	// Far above the stability limit the first steps throw b below every −|x|.
	p = map[string]float64{"eta": 5, "width": 20, "n": 30, "steps": 1000}
	r = runT(t, ModelSparse, p)
	checkResult(t, "sparse eta=5", mustResolve(t, ModelSparse, p), r)
	if !r.Dead || r.Diverged || r.FinalLoss != math.Ln2 {
		t.Errorf("sparse at η = 5: dead %v, diverged %v, loss %g (want true, false, ln 2)", r.Dead, r.Diverged, r.FinalLoss)
	}
	if r := runT(t, ModelSparse, map[string]float64{"eta": 0.05, "width": 20, "n": 30, "steps": 1000}); r.Dead {
		t.Error("sparse at η = 0.05 died")
	}
}

// TestRunDeterministic runs the same trials concurrently, twice each: the
// results must be identical but for the wall time.
func TestRunDeterministic(t *testing.T) {
	t.Parallel()
	cfgs := []Config{
		mustResolve(t, ModelSingle, map[string]float64{"eta": 2.1, "seed": 3}),
		mustResolve(t, ModelMean, map[string]float64{"eta": 3.3, "width": 16, "seed": 5}),
		mustResolve(t, ModelSparse, map[string]float64{"eta": 1e-3, "width": 60, "seed": 7}),
	}
	results := make([][2]Result, len(cfgs))
	var wg sync.WaitGroup
	for i, c := range cfgs {
		for j := range 2 {
			wg.Go(func() {
				r, err := Run(context.Background(), c)
				if err != nil {
					t.Error(err)
				}
				r.WallMS = 0
				results[i][j] = r
			})
		}
	}
	wg.Wait()
	for i, pair := range results {
		if !reflect.DeepEqual(pair[0], pair[1]) {
			t.Errorf("%s: two runs differ:\n%+v\n%+v", cfgs[i].Key(), pair[0], pair[1])
		}
	}
	other := runT(t, ModelSparse, map[string]float64{"eta": 1e-3, "width": 60, "seed": 8})
	if other.InitialSharpness == results[2][0].InitialSharpness {
		t.Error("seeds 7 and 8 gave the same initial sharpness: the seed is ignored")
	}
}

func TestRunCancelled(t *testing.T) {
	t.Parallel()
	cfg := mustResolve(t, ModelSparse, map[string]float64{"eta": 1e-5}) // 10⁶ steps: seconds
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Run(ctx, cfg)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run after its deadline: %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Run took %v to notice cancellation", d)
	}
}

func TestRunRefusesBadConfig(t *testing.T) {
	t.Parallel()
	if _, err := Run(context.Background(), Config{Model: ModelSingle, Eta: 1}); !errors.Is(err, ErrBadParam) {
		t.Errorf("unresolved config: %v, want ErrBadParam", err)
	}
	if _, err := newModel(Config{Model: "nope"}); !errors.Is(err, ErrNoModel) {
		t.Errorf("unknown model: %v, want ErrNoModel", err)
	}
}

func TestRunDump(t *testing.T) {
	t.Parallel()
	tests := []struct {
		model string
		p     map[string]float64
		names []string
	}{
		{ModelSingle, map[string]float64{"eta": 1}, []string{"x0", "y0", "x", "y"}},
		{ModelMean, map[string]float64{"eta": 1, "width": 3}, []string{"a0", "b0", "a", "b"}},
		{ModelSparse, map[string]float64{"eta": 0.1, "width": 6, "n": 5, "n_test": 4},
			[]string{"X", "y", "X_test", "y_test", "a_plus0", "a_minus0", "b0", "a_plus", "a_minus", "b"}},
	}
	for _, tc := range tests {
		cfg := mustResolve(t, tc.model, tc.p)
		res, d, err := RunDump(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range append(tc.names, "eta", "steps", "seed") {
			a, ok := d[name]
			if !ok {
				t.Errorf("%s: dump lacks %q", tc.model, name)
				continue
			}
			size := 1
			for _, s := range a.Shape {
				size *= s
			}
			if size != len(a.Data) {
				t.Errorf("%s: %q has shape %v and %d values", tc.model, name, a.Shape, len(a.Data))
			}
		}
		if d["eta"].Data[0] != cfg.Eta || d["steps"].Data[0] != float64(cfg.Steps) {
			t.Errorf("%s: dumped eta %v steps %v", tc.model, d["eta"].Data, d["steps"].Data)
		}
		if b, ok := d["b"]; ok && b.Data[0] != res.FinalBias {
			t.Errorf("%s: dumped b %g, final bias %g", tc.model, b.Data[0], res.FinalBias)
		}
	}
}

// TestRunLoopAllocatesNothing: after construction, the GD loop (steps,
// sharpness, trajectory) allocates nothing for the dense models.
func TestRunLoopAllocatesNothing(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, cfg := range []Config{
		mustResolve(t, ModelSingle, map[string]float64{"eta": 2.1}),
		mustResolve(t, ModelMean, map[string]float64{"eta": 3.3, "width": 16}),
		mustResolve(t, ModelSparse, map[string]float64{"eta": 1e-3, "width": 30, "n": 40, "steps": 2000}),
	} {
		m, err := newModel(cfg)
		if err != nil {
			t.Fatal(err)
		}
		g := newGD(cfg, m)
		allocs := testing.AllocsPerRun(3, func() {
			copy(g.theta, g.theta0)
			g.traj.points = g.traj.points[:0]
			if err := g.loop(ctx); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 || g.step != cfg.Steps {
			t.Errorf("%s: %g allocations per run of %d steps", cfg.Model, allocs, g.step)
		}
	}
}

// TestUpdateRefusesNonFinite: a step to a non-finite iterate is not taken.
func TestUpdateRefusesNonFinite(t *testing.T) {
	t.Parallel()
	for _, grad := range [][]float64{{math.Inf(1), 0}, {0, math.NaN()}, {-1e308, 0}} {
		g := &gd{eta: 10, theta: []float64{1, 2}, next: make([]float64, 2), grad: grad}
		if g.update() || g.theta[0] != 1 || g.theta[1] != 2 {
			t.Errorf("gradient %v: update taken, theta %v", grad, g.theta)
		}
	}
	g := &gd{eta: 0.5, theta: []float64{1, 2}, next: make([]float64, 2), grad: []float64{2, -2}}
	if !g.update() || g.theta[0] != 0 || g.theta[1] != 3 {
		t.Errorf("finite step: theta %v, want [0 3]", g.theta)
	}
}

// valueOr returns *v, or fallback when v is absent.
func valueOr(v *float64, fallback float64) float64 {
	if v == nil {
		return fallback
	}
	return *v
}

// A run that diverges is never bias-negative, however negative its last
// finite bias: a relu at η = 100 ends far below −bias_eps. Accuracies are
// present exactly where there is data to measure them on.
func TestDivergedIsNeverBiasNegative(t *testing.T) {
	t.Parallel()
	p := map[string]float64{"eta": 100, "steps": 200, "n": 100, "n_test": 0, "d": 20}
	r := runT(t, ModelReLU, p)
	if !r.Diverged || !(r.FinalBias < -1) {
		t.Fatalf("want a diverged run with a very negative bias: diverged %v, b_T %g", r.Diverged, r.FinalBias)
	}
	if r.BiasNegative {
		t.Errorf("diverged run (b_T = %g) is bias_negative", r.FinalBias)
	}
	if r.TrainAcc == nil || r.TestAcc != nil {
		t.Errorf("n_test = 0: train_acc %v, test_acc %v; want present, absent", r.TrainAcc, r.TestAcc)
	}
	if s := runT(t, ModelSingle, map[string]float64{"eta": 1, "steps": 10}); s.TrainAcc != nil || s.TestAcc != nil {
		t.Errorf("single (no data): train_acc %v, test_acc %v; want both absent", s.TrainAcc, s.TestAcc)
	}
}
