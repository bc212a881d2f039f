package engine

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
)

// TestValidateAcceptsEngineResults: the validation rules are true of the
// engine, not just plausible. Every model runs over step sizes from far
// below its stability limit to far above (where single diverges and the
// ReLU networks die), with two seeds, and Validate and ValidateFor accept
// every result; the sweep must include diverged and dead runs and runs
// ending with bias_negative.
func TestValidateAcceptsEngineResults(t *testing.T) {
	t.Parallel()
	small := map[string]map[string]float64{
		ModelSingle: {"steps": 300},
		ModelMean:   {"steps": 300, "width": 8},
		ModelSparse: {"width": 12, "n": 20, "n_test": 20, "horizon": 2},
		ModelReLU:   {"steps": 150, "width": 6, "d": 8, "n": 20, "n_test": 20, "sharpness_every": 10, "lanczos_iters": 8},
	}
	etas := []float64{1e-4, 1e-2, 0.1, 0.5, 1, 2, 4, 8, 30, 200, 1e4}
	var diverged, dead, learned, runs int
	for _, model := range Models {
		for _, eta := range etas {
			for _, seed := range []float64{0, 1} {
				p := map[string]float64{"eta": eta, "seed": seed}
				for k, v := range small[model] {
					p[k] = v
				}
				if model == ModelSparse && eta > 1 {
					delete(p, "horizon") // horizon/eta would be below one step
					p["steps"] = 50
				}
				cfg, err := Resolve(model, p)
				if err != nil {
					t.Fatal(err)
				}
				r, err := Run(context.Background(), cfg)
				if err != nil {
					t.Fatal(err)
				}
				runs++
				if err := r.ValidateFor(cfg); err != nil {
					t.Errorf("%s: ValidateFor: %v\n%+v", cfg.Key(), err, r)
				}
				if err := r.Validate(cfg.Steps); err != nil {
					t.Errorf("%s: Validate: %v", cfg.Key(), err)
				}
				if r.Diverged {
					diverged++
				}
				if r.Dead {
					dead++
				}
				if r.BiasNegative {
					learned++
				}
			}
		}
	}
	// And at the models' default sizes (the paper's Figure 1 network among
	// them), where Lanczos measures the ReLU sharpness.
	if !testing.Short() {
		for _, c := range []struct {
			model string
			etas  []float64
		}{
			{ModelSingle, []float64{0.5, 1.2, 60}},
			{ModelMean, []float64{0.1, 1, 5}},
			{ModelSparse, []float64{2e-3, 1.2e-2, 0.5}},
			{ModelReLU, []float64{0.05, 1, 20}},
		} {
			for _, eta := range c.etas {
				p := map[string]float64{"eta": eta}
				if c.model == ModelReLU {
					p["steps"] = 300
				}
				cfg, err := Resolve(c.model, p)
				if err != nil {
					t.Fatal(err)
				}
				r, err := Run(context.Background(), cfg)
				if err != nil {
					t.Fatal(err)
				}
				runs++
				if err := r.ValidateFor(cfg); err != nil {
					t.Errorf("%s: ValidateFor: %v", cfg.Key(), err)
				}
				diverged, dead, learned = diverged+b2i(r.Diverged), dead+b2i(r.Dead), learned+b2i(r.BiasNegative)
			}
		}
	}
	t.Logf("%d runs: %d diverged, %d dead, %d with bias_negative", runs, diverged, dead, learned)
	if diverged == 0 || dead == 0 || learned == 0 {
		t.Errorf("the runs cover %d diverged, %d dead, %d with bias_negative: want some of each", diverged, dead, learned)
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// validResult is a result that passes Validate(100) and ValidateFor with
// bias_eps 0.01: a 100-step run that ended with a negative bias.
func validResult() Result {
	train, test := 0.9, 0.8
	return Result{
		FinalBias: -0.5, MinBias: -0.6, BiasNegative: true, InitialSharpness: 2, FinalSharpness: 4,
		EOSRatio: 1, MaxEOSRatio: 1.2, MaxEOSRatioAfterInit: 1.1, FinalLoss: 0.3, TrainAcc: &train, TestAcc: &test,
		StepsRun: 100, WallMS: 3,
		Trajectory: []Point{{Step: 0, Loss: 0.7, Bias: 0, Sharpness: 2}, {Step: 50, Loss: 0.5, Bias: -0.6}, {Step: 100, Loss: 0.3, Bias: -0.5, Sharpness: 4}},
	}
}

// TestValidateRefuses is issue 9 item 8: each inconsistent result the
// review stored (trajectory steps out of order, steps_run 0 not diverged
// with final_bias −99, steps_run halved under a longer trajectory,
// max_eos_ratio below eos_ratio or negative, threshold_learned — now
// bias_negative — flipped against final_bias) is refused, naming its field.
func TestValidateRefuses(t *testing.T) {
	t.Parallel()
	cfg := Config{Steps: 100, BiasEps: 0.01}
	if err := validResult().ValidateFor(cfg); err != nil {
		t.Fatalf("the valid result: %v", err)
	}
	absent := validResult()
	absent.TrainAcc, absent.TestAcc, absent.MaxEOSRatioAfterInit = nil, nil, 0 // no data; an older worker
	if err := absent.ValidateFor(cfg); err != nil {
		t.Fatalf("absent accuracies, no max_eos_ratio_after_init: %v", err)
	}
	for _, c := range []struct {
		name   string
		change func(*Result)
		field  string
		exact  bool // only ValidateFor (it knows bias_eps) refuses it
	}{
		{"steps out of order", func(r *Result) {
			r.Trajectory = []Point{{Step: 0}, {Step: 200}, {Step: 100}}
			r.MinBias = -1
		}, "trajectory[2].step", false},
		{"repeated step", func(r *Result) { r.Trajectory[1].Step = 0 }, "trajectory[1].step", false},
		{"steps_run 0, not diverged", func(r *Result) {
			r.StepsRun, r.FinalBias, r.MinBias, r.Trajectory = 0, -99, -99, []Point{{Step: 0, Bias: -99}}
		}, "steps_run", false},
		{"steps_run halved", func(r *Result) { r.StepsRun = 50; r.Diverged = true }, "trajectory: ends at step 100", false},
		{"steps_run beyond steps", func(r *Result) { r.StepsRun = 101 }, "steps_run", false},
		{"trajectory short of steps_run", func(r *Result) { r.Trajectory = r.Trajectory[:2] }, "trajectory: ends at step 50", false},
		{"max_eos_ratio below eos_ratio", func(r *Result) { r.MaxEOSRatio = 0.5 }, "max_eos_ratio", false},
		{"negative eos_ratio", func(r *Result) { r.EOSRatio, r.MaxEOSRatio = -1, -1 }, "eos_ratio", false},
		{"negative max_eos_ratio", func(r *Result) { r.EOSRatio, r.MaxEOSRatio = 0, -0.1 }, "max_eos_ratio", false},
		{"max_eos_ratio_after_init above max_eos_ratio", func(r *Result) { r.MaxEOSRatioAfterInit = 1.3 }, "max_eos_ratio_after_init", false},
		{"negative max_eos_ratio_after_init", func(r *Result) { r.MaxEOSRatioAfterInit = -0.1 }, "max_eos_ratio_after_init", false},
		{"bias_negative with a positive bias", func(r *Result) { r.FinalBias, r.Trajectory[2].Bias = 0.2, 0.2 }, "bias_negative", false},
		{"bias_negative for a diverged run", func(r *Result) { r.Diverged = true }, "bias_negative", false},
		{"bias_negative flipped off", func(r *Result) { r.BiasNegative = false }, "bias_negative", true},
		{"bias_negative within bias_eps", func(r *Result) {
			r.FinalBias, r.MinBias, r.Trajectory[1].Bias, r.Trajectory[2].Bias = -0.005, -0.005, -0.005, -0.005
		}, "bias_negative", true},
		{"min_bias above final_bias", func(r *Result) { r.MinBias = -0.4; r.Trajectory[1].Bias = -0.4 }, "min_bias", false},
		{"min_bias above a trajectory bias", func(r *Result) { r.Trajectory[1].Bias = -0.7 }, "trajectory[1].bias", false},
		{"accuracy above 1", func(r *Result) { *r.TestAcc = 1.5 }, "test_acc", false},
		{"negative accuracy", func(r *Result) { *r.TrainAcc = -0.1 }, "train_acc", false},
		{"nan accuracy", func(r *Result) { *r.TrainAcc = math.NaN() }, "train_acc", false},
		{"nan", func(r *Result) { r.FinalLoss = math.NaN() }, "final_loss", false},
		{"inf in trajectory", func(r *Result) { r.Trajectory[1].Loss = math.Inf(1) }, "trajectory[1].loss", false},
		{"negative wall time", func(r *Result) { r.WallMS = -1 }, "wall_ms", false},
		{"no trajectory", func(r *Result) { r.Trajectory = nil }, "trajectory", false},
		{"trajectory from step 1", func(r *Result) { r.Trajectory[0].Step = 1 }, "trajectory", false},
		{"trajectory too long", func(r *Result) {
			r.Trajectory = make([]Point, MaxTrajectory+1)
			for i := range r.Trajectory {
				r.Trajectory[i] = Point{Step: i * 100 / MaxTrajectory, Bias: -0.5}
			}
		}, "trajectory", false},
		{"nan metric", func(r *Result) { r.Metrics = map[string]float64{"val_loss": math.NaN()} }, "metrics.val_loss", false},
		{"metric named as a field", func(r *Result) { r.Metrics = map[string]float64{"final_bias": 1} }, "metrics.final_bias", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := validResult()
			c.change(&r)
			err := r.ValidateFor(cfg)
			if err == nil || !errors.Is(err, ErrInvalidResult) || !strings.Contains(err.Error(), c.field) {
				t.Fatalf("ValidateFor = %v, want an ErrInvalidResult naming %s", err, c.field)
			}
			if err := r.Validate(cfg.Steps); c.exact != (err == nil) {
				t.Errorf("Validate = %v (want refused: %v)", err, !c.exact)
			}
		})
	}
}

// TestValidateDiverged: a diverged run may stop short of its steps, at any
// step from 0, or at the last step.
func TestValidateDiverged(t *testing.T) {
	t.Parallel()
	for _, stepsRun := range []int{0, 1, 50, 100} {
		r := validResult()
		r.Diverged, r.BiasNegative, r.StepsRun = true, false, stepsRun
		r.Trajectory = []Point{{Step: 0, Bias: -0.5}}
		if stepsRun > 0 {
			r.Trajectory = append(r.Trajectory, Point{Step: stepsRun, Bias: -0.5})
		}
		if err := r.ValidateFor(Config{Steps: 100, BiasEps: 0.01}); err != nil {
			t.Errorf("diverged at step %d: %v", stepsRun, err)
		}
	}
}

// TestValidateProgram: an exec trial's result is held to what a program can
// promise without a step count — no θ₀, any steps_run ≥ 0, any order of
// trajectory steps — and still refused, naming the field, when a value is
// not finite, negative where it cannot be, too long, or a metric is bad.
func TestValidateProgram(t *testing.T) {
	t.Parallel()
	acc := 0.75
	ok := Result{FinalBias: 3, MinBias: 5, StepsRun: 1 << 20, TestAcc: &acc, WallMS: 10,
		Metrics:    map[string]float64{"val_loss": 0.25},
		Trajectory: []Point{{Step: 7, Loss: 1}, {Step: 3, Loss: 2}}}
	if err := ok.ValidateProgram(); err != nil {
		t.Fatalf("a program's result: %v", err)
	}
	if err := (Result{}).ValidateProgram(); err != nil {
		t.Fatalf("an empty result (a program that reports nothing but exits 0): %v", err)
	}
	if err := ok.Validate(100); err == nil {
		t.Fatal("Validate(100) accepted a result without θ₀ and beyond its steps")
	}
	for _, c := range []struct {
		name   string
		change func(*Result)
		field  string
	}{
		{"nan field", func(r *Result) { r.FinalLoss = math.NaN() }, "final_loss"},
		{"inf accuracy", func(r *Result) { inf := math.Inf(1); r.TrainAcc = &inf }, "train_acc"},
		{"negative steps_run", func(r *Result) { r.StepsRun = -1 }, "steps_run"},
		{"negative wall time", func(r *Result) { r.WallMS = -1 }, "wall_ms"},
		{"negative step", func(r *Result) { r.Trajectory[1].Step = -3 }, "trajectory[1].step"},
		{"nan in trajectory", func(r *Result) { r.Trajectory[0].Bias = math.NaN() }, "trajectory[0].bias"},
		{"trajectory too long", func(r *Result) { r.Trajectory = make([]Point, MaxTrajectory+1) }, "trajectory"},
		{"inf metric", func(r *Result) { r.Metrics["val_loss"] = math.Inf(-1) }, "metrics.val_loss"},
		{"bad metric name", func(r *Result) { r.Metrics["Val"] = 1 }, "metrics: name"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := ok
			r.Metrics = map[string]float64{"val_loss": 0.25}
			r.Trajectory = append([]Point(nil), ok.Trajectory...)
			c.change(&r)
			err := r.ValidateProgram()
			if err == nil || !errors.Is(err, ErrInvalidResult) || !strings.Contains(err.Error(), c.field) {
				t.Fatalf("ValidateProgram = %v, want an ErrInvalidResult naming %s", err, c.field)
			}
		})
	}
}
