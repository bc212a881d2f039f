package scheduler

import (
	"fmt"
	"time"

	"github.com/eosweep/eosweep/coordinator/spec"
	"github.com/eosweep/eosweep/coordinator/store"
)

// load rebuilds the in-memory state from the store. LEASED trials become
// PENDING (written back) and are held for one lease TTL for re-adoption.
func (s *Scheduler) load() error {
	sweeps, err := s.st.Sweeps()
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	now := s.cfg.Now()
	var released []store.Trial
	for _, rec := range sweeps {
		sp, err := spec.ParseStored([]byte(rec.SpecYAML))
		if err != nil {
			return fmt.Errorf("load sweep %s: stored spec: %w", rec.ID, err)
		}
		sw := newSweepState(rec, sp)
		trials, err := s.st.Trials(rec.ID)
		if err != nil {
			return fmt.Errorf("load sweep %s: %w", rec.ID, err)
		}
		for _, tr := range trials {
			t, err := newTrialState(sw, tr)
			if err != nil {
				return fmt.Errorf("load sweep %s: %w", rec.ID, err)
			}
			if tr.State == store.Leased {
				t.rec.State = store.Pending
				t.rec.Deadline = time.Time{}
				if !s.cfg.ReleaseOnLoad {
					t.holdUntil = now.Add(s.cfg.LeaseTTL)
					s.held[t] = struct{}{}
				}
				released = append(released, t.rec)
			}
			sw.add(t)
		}
		s.sweeps[rec.ID] = sw
		s.order = append(s.order, sw)
		for _, t := range sw.list {
			if sw.rec.State == store.SweepRunning {
				s.enqueue(t)
			}
		}
	}
	if err := s.persist(nil, released); err != nil {
		return fmt.Errorf("load: release leases: %w", err)
	}
	if len(released) > 0 && s.cfg.ReleaseOnLoad {
		s.cfg.Logger.Info("restart: leases of the previous process released", "trials", len(released))
	} else if len(released) > 0 {
		s.cfg.Logger.Info("restart: leases released, held for re-adoption", "trials", len(released), "hold", s.cfg.LeaseTTL)
	}
	return nil
}

func newSweepState(rec store.Sweep, sp *spec.Spec) *sweepState {
	return &sweepState{rec: rec, spec: sp, trials: map[string]*trialState{}, changed: make(chan struct{})}
}

func newTrialState(sw *sweepState, rec store.Trial) (*trialState, error) {
	if !rec.State.Valid() {
		return nil, fmt.Errorf("trial %s: stored state %d is not a trial state", rec.ID, uint8(rec.State))
	}
	if rec.Steps != 0 { // resolved at submit
		return newTrial(sw, rec), nil
	}
	tr, err := sw.spec.NewTrial(rec.Params)
	if err != nil {
		return nil, fmt.Errorf("trial %s: %w", rec.ID, err)
	}
	return &trialState{sweep: sw, rec: rec, steps: tr.Steps}, nil
}

// newTrial is the state of a trial just written.
func newTrial(sw *sweepState, rec store.Trial) *trialState {
	return &trialState{sweep: sw, rec: rec, steps: rec.Steps}
}

// add appends t to the sweep (t.rec.Seq must follow the last one's).
func (sw *sweepState) add(t *trialState) {
	sw.trials[t.rec.ID] = t
	sw.list = append(sw.list, t)
	sw.counts[t.rec.State]++
}
