package scheduler

import (
	"fmt"
	"time"

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

// Retries of a failed refinement step: the first after advanceRetryBase, each
// later one after twice the delay, at most advanceRetryMax; the
// reconciliation pass of the expiry loop (every reconcileEvery passes) runs
// them, so they follow the scheduler's clock.
const (
	advanceRetryBase = time.Second
	advanceRetryMax  = time.Minute
	reconcileEvery   = 10
)

// maybeAdvance starts the next step of a running sweep whose current round is
// complete (no trial PENDING or LEASED): a refinement round, or DONE. After a
// failed step it waits for the step's retry time.
func (s *Scheduler) maybeAdvance(sw *sweepState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || !s.idle(sw) || s.cfg.Now().Before(sw.retryAt) {
		return
	}
	sw.refining = true
	id := sw.rec.ID // read under s.mu: sw.rec is replaced whole by writers
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		err := s.advance(sw)
		s.mu.Lock()
		sw.refining = false
		if err != nil {
			sw.failures++
			delay := min(advanceRetryBase<<min(sw.failures-1, 10), advanceRetryMax)
			sw.retryAt = s.cfg.Now().Add(delay)
			s.cfg.Logger.Error("advance sweep", "sweep", id, "err", err, "failures", sw.failures, "retry_in", delay)
		} else {
			sw.failures, sw.retryAt = 0, time.Time{}
		}
		s.mu.Unlock()
		if h := s.hooks.advanced; h != nil {
			h(err)
		}
		if err == nil {
			// The new round may have finished while refining was set, when
			// maybeAdvance calls from Deliver were ignored: look again.
			s.maybeAdvance(sw)
		}
	}()
}

// idle reports whether sw is running with no work and no step in flight:
// its next step is due. Callers hold s.mu.
func (s *Scheduler) idle(sw *sweepState) bool {
	return !sw.refining && sw.rec.State == store.SweepRunning &&
		sw.counts[store.Pending]+sw.counts[store.Leased] == 0
}

// reconcile advances every running sweep left without work: one whose last
// step failed and whose retry is due, and any other that no delivery or expiry
// advanced. The expiry loop runs it every reconcileEvery passes.
func (s *Scheduler) reconcile() {
	s.mu.Lock()
	var due []*sweepState
	now := s.cfg.Now()
	for _, sw := range s.order {
		if s.idle(sw) && !now.Before(sw.retryAt) {
			due = append(due, sw)
		}
	}
	s.mu.Unlock()
	for _, sw := range due {
		s.maybeAdvance(sw)
	}
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
		var reused int
		if fresh, puts, reused, err = s.plan(sw, seq, rec.Round+1); err != nil {
			return err
		}
		rec.Reused += reused
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
// states and the puts of their records. A new trial the store holds a result
// for (from any sweep, as at submit) is DONE with a copy of it; plan returns
// how many were.
func (s *Scheduler) plan(sw *sweepState, seq, round int) ([]*trialState, []store.Op, int, error) {
	// A trial's DONE and its result are written in one transaction: the
	// store's finished trials are the scheduler's (one pass over it, the
	// results' summaries only: the refiner reads no trajectory).
	done, err := finished.Trials(s.st, sw.rec.ID)
	if err != nil {
		return nil, nil, 0, err
	}
	if len(done) == 0 {
		return nil, nil, 0, nil
	}
	params, err := s.cfg.Refiner.Plan(sw.spec, done)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("plan round %d: %w", round, err)
	}
	// Only advance adds trials to a running sweep, and it holds submitMu:
	// what is new here stays new while s.mu is let go for the store's read.
	var news []store.Trial
	seen := map[string]bool{}
	s.mu.Lock()
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
		news = append(news, store.Trial{Sweep: sw.rec.ID, ID: tr.ID, Seq: seq + len(news), Params: tr.Params,
			Key: tr.Key, State: store.Pending, Round: round, Steps: tr.Steps})
	}
	s.mu.Unlock()
	copies, err := s.reuse(sw.spec, news)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("plan round %d: %w", round, err)
	}
	puts, err := store.TrialOps(news)
	if err != nil {
		return nil, nil, 0, err
	}
	fresh := make([]*trialState, len(news))
	for i, rec := range news {
		fresh[i] = newTrial(sw, rec)
	}
	return fresh, append(puts, copies...), len(copies), nil
}
