package engine

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/eosweep/eosweep/internal/boundtest"
)

// FuzzResultValidate decodes a result from JSON (at most 64 KiB, as a
// report brings at most one trajectory of 256 points) and validates it for
// a trial of steps steps, with one float field set to v (which may be NaN
// or infinite). Validate never panics, returns within a second
// and allocates at most 64 KiB (it allocates only its error message); every
// error wraps ErrInvalidResult; and an accepted result has the properties
// the rules promise, checked here independently of them. Seeds: results the
// engine produced (converged, diverged, dead), under testdata/fuzz too.
func FuzzResultValidate(f *testing.F) {
	for _, c := range []struct {
		model string
		p     map[string]float64
	}{
		{ModelSingle, map[string]float64{"eta": 1, "steps": 40}},
		{ModelSingle, map[string]float64{"eta": 60, "steps": 40}},                                   // diverges
		{ModelSparse, map[string]float64{"eta": 5, "width": 8, "n": 10, "n_test": 10, "steps": 30}}, // dies
		{ModelMean, map[string]float64{"eta": 3, "width": 8, "steps": 20, "sharpness_every": 3}},
	} {
		cfg, err := Resolve(c.model, c.p)
		if err != nil {
			f.Fatal(err)
		}
		r, err := Run(context.Background(), cfg)
		if err != nil {
			f.Fatal(err)
		}
		data, err := json.Marshal(r)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, cfg.Steps, uint8(0), r.FinalBias)
	}
	f.Add([]byte(`{"steps_run":3,"train_acc":0.5,"test_acc":null,"trajectory":[{"step":0},{"step":3}]}`), 3, uint8(9), 2.0)
	f.Add([]byte(`{"steps_run":2,"trajectory":[{"step":0},{"step":2},{"step":1}]}`), 2, uint8(3), 0.0)
	f.Add([]byte(`{"final_bias":-99,"min_bias":-99,"trajectory":[{"step":0,"bias":-99}]}`), 10, uint8(1), math.NaN())
	f.Add([]byte(`{"trajectory":[{"step":0}]}`), 0, uint8(12), math.Inf(-1))
	f.Fuzz(func(t *testing.T, data []byte, steps int, which uint8, v float64) {
		if len(data) > 64<<10 {
			t.Skip()
		}
		var r Result
		if json.Unmarshal(data, &r) != nil {
			t.Skip()
		}
		// JSON has no NaN or ±Inf: v, which the fuzzer may make one, goes
		// into the field which picks.
		fields := []*float64{&r.FinalBias, &r.MinBias, &r.InitialSharpness, &r.FinalSharpness, &r.EOSRatio,
			&r.MaxEOSRatio, &r.MaxEOSRatioAfterInit, &r.FinalLoss, &r.WallMS}
		for _, acc := range []**float64{&r.TrainAcc, &r.TestAcc} {
			if *acc != nil {
				fields = append(fields, *acc)
			}
		}
		for i := range r.Trajectory {
			fields = append(fields, &r.Trajectory[i].Loss, &r.Trajectory[i].Bias, &r.Trajectory[i].Sharpness)
		}
		*fields[int(which)%len(fields)] = v
		var err error
		boundtest.Call(t, time.Second, 64<<10, func() { err = r.Validate(steps) })
		if err != nil {
			if !errors.Is(err, ErrInvalidResult) {
				t.Fatalf("error %v does not wrap ErrInvalidResult", err)
			}
			return
		}
		if _, err := json.Marshal(r); err != nil {
			t.Fatalf("accepted result does not encode (not finite?): %v", err)
		}
		tr := r.Trajectory
		switch {
		case r.StepsRun < 0 || r.StepsRun > steps || (!r.Diverged && r.StepsRun != steps):
			t.Fatalf("accepted steps_run %d of %d (diverged %v)", r.StepsRun, steps, r.Diverged)
		case len(tr) == 0 || len(tr) > MaxTrajectory || tr[0].Step != 0 || tr[len(tr)-1].Step != r.StepsRun:
			t.Fatalf("accepted trajectory of %d points", len(tr))
		case !inUnit(r.TrainAcc) || !inUnit(r.TestAcc) || r.WallMS < 0:
			t.Fatalf("accepted accuracies %v, %v or wall time %v", r.TrainAcc, r.TestAcc, r.WallMS)
		case !(r.EOSRatio >= 0) || r.MaxEOSRatio < r.EOSRatio || r.MinBias > r.FinalBias:
			t.Fatalf("accepted eos %v/%v, bias %v/%v", r.EOSRatio, r.MaxEOSRatio, r.MinBias, r.FinalBias)
		case r.MaxEOSRatioAfterInit < 0 || r.MaxEOSRatioAfterInit > r.MaxEOSRatio:
			t.Fatalf("accepted max_eos_ratio_after_init %v with max_eos_ratio %v", r.MaxEOSRatioAfterInit, r.MaxEOSRatio)
		case r.BiasNegative && (r.Diverged || !(r.FinalBias < 0)):
			t.Fatalf("accepted bias_negative with final_bias %v, diverged %v", r.FinalBias, r.Diverged)
		}
		for i := 1; i < len(tr); i++ {
			if tr[i].Step <= tr[i-1].Step || tr[i].Bias < r.MinBias || math.IsNaN(tr[i].Loss) {
				t.Fatalf("accepted trajectory point %d: %+v", i, tr[i])
			}
		}
	})
}

// inUnit reports whether an accuracy is absent or in [0, 1].
func inUnit(v *float64) bool { return v == nil || (*v >= 0 && *v <= 1) }
