// Package sweeptest runs small sweeps in process, without a coordinator: the
// grid of a spec through engine.Run, then boundary refinement round after
// round as the coordinator does it. For tests and measurements of the
// boundary analysis against the real engine.
package sweeptest

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	"github.com/eosweep/eosweep/coordinator/boundary"
	"github.com/eosweep/eosweep/coordinator/spec"
	"github.com/eosweep/eosweep/engine"
)

// Result is a finished in-process sweep.
type Result struct {
	Spec *spec.Spec
	// Analysis is the analysis after the last round, under Spec.Analysis():
	// its Trials are every trial run, grid first.
	Analysis boundary.Analysis
	Grid     int // trials of the initial grid
	Rounds   int // refinement rounds that added trials
}

// RunTrials runs every parameter set of model through the engine, on
// GOMAXPROCS goroutines; the trials come back in the order given.
func RunTrials(ctx context.Context, model string, params []map[string]float64) ([]boundary.Trial, error) {
	out := make([]boundary.Trial, len(params))
	errs := make([]error, len(params))
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				cfg, err := engine.Resolve(model, params[i])
				if err == nil {
					out[i].Result, err = engine.Run(ctx, cfg)
				}
				out[i].Params, errs[i] = params[i], err
			}
		}()
	}
	for i := range params {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("trial %v: %w", params[i], err)
		}
	}
	return out, nil
}

// Run parses a YAML spec, runs its grid and refines up to the spec's
// boundary.refine.rounds, stopping early when boundary.Refine plans nothing.
func Run(ctx context.Context, yaml []byte) (*Result, error) {
	sp, err := spec.Parse(yaml, 0)
	if err != nil {
		return nil, err
	}
	grid, err := sp.Trials()
	if err != nil {
		return nil, err
	}
	params := make([]map[string]float64, len(grid))
	for i, g := range grid {
		params[i] = g.Params
	}
	trials, err := RunTrials(ctx, sp.Model, params)
	if err != nil {
		return nil, err
	}
	res := &Result{Spec: sp, Grid: len(grid)}
	for {
		if res.Analysis, err = boundary.Analyze(trials, sp.Analysis()); err != nil {
			return nil, err
		}
		if res.Rounds == sp.Boundary.Refine.Rounds {
			return res, nil
		}
		next := boundary.Refine(res.Analysis.Groups, trials, sp.Boundary.Refine.Tolerance)
		if len(next) == 0 {
			return res, nil
		}
		more, err := RunTrials(ctx, sp.Model, next)
		if err != nil {
			return nil, err
		}
		trials = append(trials, more...)
		res.Rounds++
	}
}
