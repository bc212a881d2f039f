// Package finished reads a sweep's finished trials — DONE, with a stored
// result — as the boundary analysis takes them, with the trials that have no
// result (boundary.MissingTrial), and analyses them under the sweep's spec.
// It is the one join of trials and results: the coordinator's GetBoundary and
// the CLI's --db reader read through Read, which reads the results' summaries
// only (store.Summary: no trajectories), and stream the trajectories a report
// writes with EachTrajectory; the CLI's remote reader adds ListTrials' pages
// to a Set one trial at a time (Set.Add), and the scheduler's refinement reads
// Trials.
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
	"strings"

	"github.com/eosweep/eosweep/coordinator/boundary"
	"github.com/eosweep/eosweep/coordinator/spec"
	"github.com/eosweep/eosweep/coordinator/store"
	"github.com/eosweep/eosweep/engine"
)

// ErrNone is returned by Analyze for a sweep with no finished trial yet.
var ErrNone = errors.New("no finished trials yet")

// Set is a sweep's trials as the analysis takes them: Done, the finished
// trials with their results, and Missing, every other trial — pending,
// leased, failed, cancelled, or DONE without a stored result — with its
// state and last error. Both are in the order of the trials given.
type Set struct {
	Done    []boundary.Trial
	Missing []boundary.MissingTrial
}

// Split pairs the DONE trials with their results and lists the rest as missing.
func Split(trials []store.Trial, results map[string]engine.Result) Set {
	var out Set
	for _, t := range trials {
		var res *engine.Result
		if r, ok := results[t.ID]; ok {
			res = &r
		}
		out.Add(t, res)
	}
	return out
}

// Is reports whether a trial with that result (nil: none) is finished:
// DONE, with a stored result.
func Is(t store.Trial, r *engine.Result) bool { return r != nil && t.State == store.Done }

// Add adds a trial with its result (nil: none) to Done when it is finished,
// else to Missing, with its state and last error.
func (s *Set) Add(t store.Trial, r *engine.Result) {
	if Is(t, r) {
		s.Done = append(s.Done, boundary.Trial{ID: t.ID, Params: t.Params, Result: *r})
		return
	}
	m := boundary.MissingTrial{ID: t.ID, Params: t.Params, State: strings.ToLower(t.State.String()),
		Attempt: t.Attempt, Error: t.LastError}
	if t.State == store.Done && m.Error == "" {
		m.Error = "no stored result"
	}
	s.Missing = append(s.Missing, m)
}

// Read reads a sweep's trials from st, split as Split does, in insertion
// order, with their results' summaries (store.Summary: what the analysis
// reads, without trajectories), in one pass over the store.
func Read(st *store.Store, sweep string) (Set, error) {
	var out Set
	err := st.EachTrialResult(sweep, store.Summaries, func(t store.Trial, r *engine.Result) error {
		out.Add(t, r)
		return nil
	})
	if err != nil {
		return Set{}, fmt.Errorf("sweep %s: %w", sweep, err)
	}
	return out, nil
}

// EachTrajectory calls fn with each finished trial of a sweep in st, in
// insertion order, and its trajectory, read whole one trial at a time
// (report.Options.Trajectories): what Read leaves out.
func EachTrajectory(st *store.Store, sweep string, fn func(trial string, traj []engine.Point) error) error {
	err := st.EachTrialResult(sweep, store.FullResults, func(t store.Trial, r *engine.Result) error {
		if !Is(t, r) {
			return nil
		}
		return fn(t.ID, r.Trajectory)
	})
	if err != nil {
		return fmt.Errorf("sweep %s: %w", sweep, err)
	}
	return nil
}

// Trials reads the finished trials of a sweep from st, in insertion order,
// with their results' summaries (Read).
func Trials(st *store.Store, sweep string) ([]boundary.Trial, error) {
	s, err := Read(st, sweep)
	return s.Done, err
}

// Boundaries runs the boundary analysis of a sweep's trials once per metric
// of its spec (spec.Spec.Analyses), each group marked with what it lacks as
// AnalyzeSet does, and returns every group's boundaries, the metrics of a
// group side by side (boundary.SideBySide); ErrNone when no trial has
// finished.
func Boundaries(sp *spec.Spec, s Set) ([]boundary.Group, error) {
	as, err := AnalyzeEach(sp, s)
	if err != nil {
		return nil, err
	}
	return boundary.SideBySide(as), nil
}

// AnalyzeEach is the analysis Boundaries makes, one per metric of the spec
// in its order (the first is spec.Spec.Analysis, the figures' analysis);
// ErrNone when no trial has finished.
func AnalyzeEach(sp *spec.Spec, s Set) ([]boundary.Analysis, error) {
	if len(s.Done) == 0 {
		return nil, ErrNone
	}
	as, err := boundary.AnalyzeEach(s.Done, s.Missing, sp.Analyses())
	if err != nil {
		return nil, fmt.Errorf("analyse: %w", err)
	}
	return as, nil
}

// Analyze runs the boundary analysis of finished trials under their sweep's
// spec (spec.Spec.Analysis, its first metric); ErrNone when there are none.
func Analyze(sp *spec.Spec, done []boundary.Trial) (boundary.Analysis, error) {
	return AnalyzeSet(sp, Set{Done: done})
}

// AnalyzeSet is Analyze with the sweep's missing trials too, so that every
// group is marked with what it lacks (boundary.AnalyzeIncomplete); ErrNone
// when no trial has finished.
func AnalyzeSet(sp *spec.Spec, s Set) (boundary.Analysis, error) {
	if len(s.Done) == 0 {
		return boundary.Analysis{}, ErrNone
	}
	a, err := boundary.AnalyzeIncomplete(s.Done, s.Missing, sp.Analysis())
	if err != nil {
		return boundary.Analysis{}, fmt.Errorf("analyse: %w", err)
	}
	return a, nil
}
