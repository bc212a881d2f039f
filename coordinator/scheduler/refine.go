package scheduler

import (
	"fmt"

	"github.com/eosweep/eosweep/coordinator/boundary"
	"github.com/eosweep/eosweep/coordinator/finished"
	"github.com/eosweep/eosweep/coordinator/spec"
	"github.com/eosweep/eosweep/coordinator/store"
)

// Refiner plans a refinement round: given a sweep's spec and its finished
// trials, the input parameter sets of the trials to add (existing ones are
// dropped by the scheduler).
type Refiner interface {
	Plan(sp *spec.Spec, done []boundary.Trial) ([]map[string]float64, error)
}

// BoundaryRefiner plans rounds with boundary.Analyze and boundary.Refine
// (bisection in log η inside each group's bracket), for every metric of the
// spec's boundary (spec.Spec.Analyses): each boundary is refined.
type BoundaryRefiner struct{}

// Plan implements Refiner.
func (BoundaryRefiner) Plan(sp *spec.Spec, done []boundary.Trial) ([]map[string]float64, error) {
	as, err := boundary.AnalyzeEach(done, nil, sp.Analyses())
	if err != nil {
		return nil, fmt.Errorf("analyse: %w", err)
	}
	return boundary.Refine(boundary.SideBySide(as), done, sp.Boundary.Refine.Tolerance), nil
}

// maybeAdvance starts the next step of a running sweep whose current round is
// complete (no trial PENDING or LEASED): a refinement round, or DONE.
func (s *Scheduler) maybeAdvance(sw *sweepState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || sw.refining || sw.rec.State != store.SweepRunning ||
		sw.counts[store.Pending]+sw.counts[store.Leased] > 0 {
		return
	}
	sw.refining = true
	id := sw.rec.ID // read under s.mu: sw.rec is replaced whole by writers
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		err := s.advance(sw)
		if err != nil {
			s.cfg.Logger.Error("advance sweep", "sweep", id, "err", err)
		}
		s.mu.Lock()
		sw.refining = false
		s.mu.Unlock()
		if err == nil {
			// The new round may have finished while refining was set, when
			// maybeAdvance calls from Deliver were ignored: look again.
			s.maybeAdvance(sw)
		}
	}()
}

// advance adds the next refinement round's trials, or marks the sweep DONE.
// It is derived from stored state only, so it resumes after a restart.
func (s *Scheduler) advance(sw *sweepState) error {
	// Cancel and resume take submitMu too: a sweep cancelled while its next
	// round is planned must not get a round of PENDING trials (nor be
	// written back as RUNNING).
	s.submitMu.Lock()
	defer s.submitMu.Unlock()
	s.mu.Lock()
	rec := sw.rec
	seq := len(sw.list)
	s.mu.Unlock()
	if rec.State != store.SweepRunning {
		return nil // cancelled since maybeAdvance; resubmitting resumes it
	}
	var fresh []*trialState
	var puts []store.Op // the fresh trials' records
	if rec.Round < sw.spec.Boundary.Refine.Rounds && s.cfg.Refiner != nil {
		var err error
		if fresh, puts, err = s.plan(sw, seq, rec.Round+1); err != nil {
			return err
		}
	}
	if len(fresh) > 0 {
		rec.Round++
	} else {
		rec.State = store.SweepDone
	}
	if err := s.persist([]store.Sweep{rec}, nil, puts...); err != nil {
		return fmt.Errorf("sweep %s round %d: %w", rec.ID, rec.Round, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if sw.rec.State == store.SweepCancelled {
		rec.State = store.SweepCancelled
	}
	sw.rec = rec
	for _, t := range fresh {
		sw.add(t)
		s.enqueue(t)
	}
	sw.notify()
	s.cfg.Logger.Info("sweep advanced", "sweep", rec.ID, "round", rec.Round, "new_trials", len(fresh), "state", rec.State.String())
	return nil
}

// plan asks the refiner for the next round and resolves the new trials: their
// states and the puts of their records.
func (s *Scheduler) plan(sw *sweepState, seq, round int) ([]*trialState, []store.Op, error) {
	results, err := s.st.Results(sw.rec.ID)
	if err != nil {
		return nil, nil, err
	}
	recs, err := s.Trials(sw.rec.ID)
	if err != nil {
		return nil, nil, err
	}
	done := finished.Join(recs, results)
	if len(done) == 0 {
		return nil, nil, nil
	}
	params, err := s.cfg.Refiner.Plan(sw.spec, done)
	if err != nil {
		return nil, nil, fmt.Errorf("plan round %d: %w", round, err)
	}
	var fresh []*trialState
	var puts []store.Op
	seen := map[string]bool{}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range params {
		tr, err := sw.spec.NewTrial(p)
		if err != nil {
			s.cfg.Logger.Warn("refinement point refused", "sweep", sw.rec.ID, "err", err)
			continue
		}
		if _, exists := sw.trials[tr.ID]; exists || seen[tr.ID] {
			continue
		}
		seen[tr.ID] = true
		rec := store.Trial{Sweep: sw.rec.ID, ID: tr.ID, Seq: seq + len(fresh), Params: tr.Params,
			Key: tr.Key, State: store.Pending, Round: round, Steps: tr.Steps}
		op, err := store.TrialOp(rec)
		if err != nil {
			return nil, nil, err
		}
		fresh = append(fresh, newTrial(sw, rec))
		puts = append(puts, op)
	}
	return fresh, puts, nil
}
