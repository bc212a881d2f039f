package scheduler

import (
	"errors"
	"fmt"
	"strings"

	"github.com/eosweep/eosweep/coordinator/store"
)

// ErrNotRetryable is wrapped by Retry for a state whose trials cannot be
// retried (only FAILED and CANCELLED trials can).
var ErrNotRetryable = errors.New("not a state to retry")

// Retry puts the trials of sweep id in the given states (FAILED and/or
// CANCELLED; none means FAILED) back to PENDING with fresh attempts and no
// last error, queues them and puts the sweep back to RUNNING, all durable
// before it returns. It returns the sweep and how many trials went back; a
// sweep with no such trial is left as it is (0). A state other than FAILED
// or CANCELLED wraps ErrNotRetryable and names its index in states.
func (s *Scheduler) Retry(id string, states []store.TrialState) (store.Sweep, int, error) {
	var want [store.NumTrialStates]bool
	for i, st := range states {
		if st != store.Failed && st != store.Cancelled {
			return store.Sweep{}, 0, fmt.Errorf("%w: states[%d]: %s trials cannot be retried (give failed or cancelled)",
				ErrNotRetryable, i, strings.ToLower(st.String()))
		}
		want[st] = true
	}
	if len(states) == 0 {
		want[store.Failed] = true
	}
	// Not in the middle of a refinement step, a cancel or a submit (as resume).
	s.submitMu.Lock()
	defer s.submitMu.Unlock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return store.Sweep{}, 0, ErrClosed
	}
	sw, ok := s.sweeps[id]
	if !ok {
		s.mu.Unlock()
		return store.Sweep{}, 0, fmt.Errorf("sweep %q: %w", id, ErrUnknownSweep)
	}
	var changed []*trialState
	for _, t := range sw.list {
		if want[t.rec.State] {
			changed = append(changed, t)
		}
	}
	if len(changed) == 0 {
		rec := sw.rec
		s.mu.Unlock()
		return rec, 0, nil
	}
	prev := sw.rec.State
	sw.rec.State = store.SweepRunning
	recs := make([]store.TrialUpdate, len(changed))
	before := make([]trialRec, len(changed))
	for i, t := range changed {
		before[i] = t.rec
		s.setState(t, store.Pending)
		t.rec.Attempt, t.rec.LastError = 0, ""
		recs[i] = t.update()
	}
	rec := sw.rec
	recorded := s.persistAsync([]store.Sweep{rec}, recs)
	s.mu.Unlock()
	if err := recorded(); err != nil {
		// Nothing of it is stored: undo it in memory too.
		s.mu.Lock()
		for i, t := range changed {
			s.setState(t, before[i].State)
			t.rec = before[i]
		}
		sw.rec.State = prev
		s.mu.Unlock()
		return store.Sweep{}, 0, fmt.Errorf("retry sweep %s: %w", id, err)
	}
	s.mu.Lock()
	for _, t := range changed {
		s.enqueue(t)
	}
	sw.notify()
	s.mu.Unlock()
	s.cfg.Logger.Info("sweep retried", "sweep", id, "requeued", len(recs), "was", prev.String())
	s.maybeAdvance(sw)
	return rec, len(recs), nil
}
