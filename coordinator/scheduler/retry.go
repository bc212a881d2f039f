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
	sw, ok := s.sweeps[id]
	s.mu.Unlock()
	if !ok {
		return store.Sweep{}, 0, fmt.Errorf("sweep %q: %w", id, ErrUnknownSweep)
	}
	return s.requeue(sw, want, false, "retry")
}

// requeue puts sw's trials in the states want names back to PENDING with
// fresh attempts and no last error, queues them and puts the sweep back to
// RUNNING, durable before it returns (a failed write is undone in memory
// too), and returns the sweep and how many trials went back. With no such
// trial the sweep is left as it is, unless reopen is set and it was
// cancelled: then it runs again (and finishes at once if nothing is left).
// step (retry, resume) names it in errors and the log. Callers hold
// s.submitMu, not s.mu.
func (s *Scheduler) requeue(sw *sweepState, want [store.NumTrialStates]bool, reopen bool, step string) (store.Sweep, int, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return store.Sweep{}, 0, ErrClosed
	}
	var changed []*trialState
	for _, t := range sw.list {
		if want[t.rec.State] {
			changed = append(changed, t)
		}
	}
	prev := sw.rec.State
	if len(changed) == 0 && (!reopen || prev == store.SweepRunning || prev == store.SweepDone) {
		rec := sw.rec
		s.mu.Unlock()
		return rec, 0, nil
	}
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
		return store.Sweep{}, 0, fmt.Errorf("%s sweep %s: %w", step, rec.ID, err)
	}
	s.mu.Lock()
	for _, t := range changed {
		s.enqueue(t)
	}
	sw.notify()
	s.mu.Unlock()
	s.cfg.Logger.Info(map[string]string{"retry": "sweep retried", "resume": "sweep resumed"}[step], "sweep", rec.ID, "requeued", len(recs), "was", prev.String())
	s.maybeAdvance(sw)
	return rec, len(recs), nil
}
