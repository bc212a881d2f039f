package scheduler

import (
	"fmt"

	"github.com/eosweep/eosweep/coordinator/spec"
	"github.com/eosweep/eosweep/coordinator/store"
)

// Submit validates a YAML spec and creates its sweep, or resumes the sweep
// that the same spec created before (same id): cancelled and failed trials
// go back to PENDING. It returns the sweep and whether it was created.
// Validation errors wrap spec.ErrInvalid.
func (s *Scheduler) Submit(yamlText []byte) (store.Sweep, bool, error) {
	sp, err := spec.Parse(yamlText, s.cfg.MaxTrials)
	if err != nil {
		return store.Sweep{}, false, err
	}
	s.submitMu.Lock()
	defer s.submitMu.Unlock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return store.Sweep{}, false, ErrClosed
	}
	if sw, ok := s.sweeps[sp.ID()]; ok {
		s.mu.Unlock()
		rec, err := s.resume(sw)
		return rec, false, err
	}
	s.mu.Unlock()

	trials, err := sp.Trials()
	if err != nil {
		return store.Sweep{}, false, err
	}
	rec := store.Sweep{ID: sp.ID(), Name: sp.Name, Model: sp.Model, SpecYAML: string(yamlText),
		State: store.SweepRunning, Created: s.cfg.Now().UTC()}
	sw := newSweepState(rec, sp)
	recs := make([]store.Trial, len(trials))
	for i, tr := range trials {
		recs[i] = store.Trial{Sweep: rec.ID, ID: tr.ID, Seq: i, Params: tr.Params, Key: tr.Key, State: store.Pending}
		sw.add(&trialState{sweep: sw, rec: recs[i], steps: tr.Steps})
	}
	if err := s.persist([]store.Sweep{rec}, recs); err != nil {
		return store.Sweep{}, false, fmt.Errorf("submit sweep %s: %w", rec.ID, err)
	}
	s.mu.Lock()
	s.sweeps[rec.ID] = sw
	s.order = append(s.order, sw)
	for _, t := range sw.list {
		s.enqueue(t)
	}
	s.mu.Unlock()
	s.cfg.Logger.Info("sweep submitted", "sweep", rec.ID, "name", rec.Name, "model", rec.Model, "trials", len(recs))
	if x := sp.Exec; x != nil { // it runs code on every worker that takes it
		s.cfg.Logger.Warn("exec sweep submitted", "sweep", rec.ID, "name", rec.Name, "command", x.Command,
			"env", x.Env, "workdir", x.Workdir, "timeout", x.Timeout)
	}
	return rec, true, nil
}

// resume puts a resubmitted sweep's cancelled and failed trials back to PENDING.
func (s *Scheduler) resume(sw *sweepState) (store.Sweep, error) {
	s.mu.Lock()
	var changed []*trialState
	for _, t := range sw.list {
		if t.rec.State == store.Cancelled || t.rec.State == store.Failed {
			changed = append(changed, t)
		}
	}
	wasDone := sw.rec.State == store.SweepDone && len(changed) == 0
	prev := sw.rec
	if !wasDone {
		sw.rec.State = store.SweepRunning
	}
	recs := make([]store.Trial, len(changed))
	for i, t := range changed {
		s.setState(t, store.Pending)
		t.rec.Attempt, t.rec.LastError = 0, ""
		recs[i] = t.rec
	}
	rec := sw.rec
	if prev.State == rec.State && len(recs) == 0 {
		s.mu.Unlock()
		return rec, nil
	}
	recorded := s.persistAsync([]store.Sweep{rec}, recs)
	s.mu.Unlock()
	if err := recorded(); err != nil {
		return store.Sweep{}, fmt.Errorf("resume sweep %s: %w", rec.ID, err)
	}
	s.mu.Lock()
	for _, t := range changed {
		s.enqueue(t)
	}
	sw.notify()
	s.mu.Unlock()
	s.cfg.Logger.Info("sweep resumed", "sweep", rec.ID, "requeued", len(recs))
	s.maybeAdvance(sw)
	return rec, nil
}

// Cancel stops a sweep: its pending and leased trials become CANCELLED (their
// workers lose the leases at the next heartbeat). Resubmitting resumes it.
func (s *Scheduler) Cancel(id string) (store.Sweep, error) {
	// Not in the middle of a refinement step (see advance).
	if !s.submitMu.TryLock() {
		if h := s.hooks.cancelWaiting; h != nil {
			h()
		}
		s.submitMu.Lock()
	}
	defer s.submitMu.Unlock()
	s.mu.Lock()
	sw, ok := s.sweeps[id]
	if !ok {
		s.mu.Unlock()
		return store.Sweep{}, fmt.Errorf("sweep %q: %w", id, ErrUnknownSweep)
	}
	var recs []store.Trial
	for _, t := range sw.list {
		if t.rec.State == store.Pending || t.rec.State == store.Leased {
			s.setState(t, store.Cancelled)
			recs = append(recs, t.rec)
		}
	}
	sw.rec.State = store.SweepCancelled
	sw.notify()
	rec := sw.rec
	recorded := s.persistAsync([]store.Sweep{rec}, recs)
	s.mu.Unlock()
	if err := recorded(); err != nil {
		return store.Sweep{}, fmt.Errorf("cancel sweep %s: %w", id, err)
	}
	s.cfg.Logger.Info("sweep cancelled", "sweep", id, "trials", len(recs))
	return rec, nil
}
