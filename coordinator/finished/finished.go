// Package finished reads a sweep's finished trials — DONE, with a stored
// result — as the boundary analysis takes them, and analyses them under the
// sweep's spec. It is the one join of trials and results: the coordinator's
// GetBoundary and the CLI's --db reader read through Trials, the scheduler's
// refinement joins its in-memory trials with Join.
//
// # Caveats
//
// A trial's DONE state and its result are written in one store transaction,
// so the trials Trials returns are exactly those whose result is durable. A
// result the scheduler has accepted but not yet written (up to one group
// commit) is not among them.
package finished

import (
	"errors"
	"fmt"

	"github.com/eosweep/eosweep/coordinator/boundary"
	"github.com/eosweep/eosweep/coordinator/spec"
	"github.com/eosweep/eosweep/coordinator/store"
	"github.com/eosweep/eosweep/engine"
)

// ErrNone is returned by Analyze for a sweep with no finished trial yet.
var ErrNone = errors.New("no finished trials yet")

// Join pairs the DONE trials with their results, in the order of trials;
// trials without a result are left out.
func Join(trials []store.Trial, results map[string]engine.Result) []boundary.Trial {
	var out []boundary.Trial
	for _, t := range trials {
		if r, ok := results[t.ID]; ok && t.State == store.Done {
			out = append(out, boundary.Trial{Params: t.Params, Result: r})
		}
	}
	return out
}

// Trials reads the finished trials of a sweep from st, in insertion order.
func Trials(st *store.Store, sweep string) ([]boundary.Trial, error) {
	trials, err := st.Trials(sweep)
	if err != nil {
		return nil, fmt.Errorf("sweep %s: %w", sweep, err)
	}
	results, err := st.Results(sweep)
	if err != nil {
		return nil, fmt.Errorf("sweep %s: %w", sweep, err)
	}
	return Join(trials, results), nil
}

// Boundaries runs the boundary analysis of finished trials once per metric
// of their sweep's spec (spec.Spec.Analyses) and returns every group's
// boundaries, the metrics of a group side by side (boundary.SideBySide);
// ErrNone when there are none.
func Boundaries(sp *spec.Spec, done []boundary.Trial) ([]boundary.Group, error) {
	if len(done) == 0 {
		return nil, ErrNone
	}
	as, err := boundary.AnalyzeEach(done, sp.Analyses())
	if err != nil {
		return nil, fmt.Errorf("analyse: %w", err)
	}
	return boundary.SideBySide(as), nil
}

// Analyze runs the boundary analysis of finished trials under their sweep's
// spec (spec.Spec.Analysis, its first metric); ErrNone when there are none.
func Analyze(sp *spec.Spec, done []boundary.Trial) (boundary.Analysis, error) {
	if len(done) == 0 {
		return boundary.Analysis{}, ErrNone
	}
	a, err := boundary.Analyze(done, sp.Analysis())
	if err != nil {
		return boundary.Analysis{}, fmt.Errorf("analyse: %w", err)
	}
	return a, nil
}
