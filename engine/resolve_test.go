package engine

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// TestResolveErrorsNameTheParameter: every refusal names what is wrong.
func TestResolveErrorsNameTheParameter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		model string
		p     map[string]float64
		want  error
		names []string // each must appear in the message
	}{
		{"dense", map[string]float64{"eta": 1}, ErrUnknownModel, []string{`"dense"`}},
		{ModelSparse, map[string]float64{"eta": 1, "x0": 2}, ErrUnknownParam, []string{`"x0"`, "sparse"}},
		{ModelSingle, map[string]float64{"eta": 1, "width": 2}, ErrUnknownParam, []string{`"width"`}},
		{ModelMean, map[string]float64{"width": 3}, ErrBadParam, []string{`"eta"`, "required"}},
		{ModelMean, map[string]float64{"eta": 0}, ErrBadParam, []string{`"eta"`}},
		{ModelMean, map[string]float64{"eta": -1}, ErrBadParam, []string{`"eta"`}},
		{ModelMean, map[string]float64{"eta": math.NaN()}, ErrBadParam, []string{`"eta"`, "finite"}},
		{ModelMean, map[string]float64{"eta": math.Inf(1)}, ErrBadParam, []string{`"eta"`}},
		{ModelMean, map[string]float64{"eta": 1, "width": 0}, ErrBadParam, []string{`"width"`}},
		{ModelMean, map[string]float64{"eta": 1, "width": 2.5}, ErrBadParam, []string{`"width"`, "whole"}},
		{ModelSparse, map[string]float64{"eta": 1, "steps": 10, "horizon": 5}, ErrBadParam, []string{`"steps"`, `"horizon"`}},
		{ModelSparse, map[string]float64{"eta": 1e-12}, ErrBadParam, []string{`"horizon"`}},
		{ModelReLU, map[string]float64{"eta": 1, "n": 0}, ErrBadParam, []string{`"n"`}},
		{ModelReLU, map[string]float64{"eta": 1, "seed": -1}, ErrBadParam, []string{`"seed"`}},
		{ModelSparse, map[string]float64{"eta": 1, "noise": -0.5}, ErrBadParam, []string{`"noise"`}},
	}
	for _, tc := range tests {
		_, err := Resolve(tc.model, tc.p)
		if !errors.Is(err, tc.want) {
			t.Errorf("Resolve(%s, %v) = %v, want %v", tc.model, tc.p, err, tc.want)
			continue
		}
		for _, name := range tc.names {
			if !strings.Contains(err.Error(), name) {
				t.Errorf("Resolve(%s, %v): %q does not name %s", tc.model, tc.p, err, name)
			}
		}
	}
}

func TestResolveStepsAndHorizon(t *testing.T) {
	t.Parallel()
	tests := []struct {
		model     string
		p         map[string]float64
		steps     int
		sharpEach int
	}{
		{ModelSparse, map[string]float64{"eta": 6e-4}, 16667, 66},       // ceil(10/6e-4), about 256 sharpness measurements
		{ModelSparse, map[string]float64{"eta": 0.1, "steps": 7}, 7, 1}, // explicit steps overrides the default horizon
		{ModelSingle, map[string]float64{"eta": 0.5, "horizon": 2}, 4, 1},
		{ModelMean, map[string]float64{"eta": 1}, 1000, 4},
		{ModelReLU, map[string]float64{"eta": 1}, 2000, 100},
	}
	for _, tc := range tests {
		c := mustResolve(t, tc.model, tc.p)
		if c.Steps != tc.steps || c.SharpnessEvery != tc.sharpEach {
			t.Errorf("%s %v: steps %d, sharpness every %d; want %d, %d", tc.model, tc.p, c.Steps, c.SharpnessEvery, tc.steps, tc.sharpEach)
		}
	}
}
