package scheduler

import (
	"fmt"
	"time"

	"github.com/eosweep/eosweep/coordinator/spec"
	"github.com/eosweep/eosweep/coordinator/store"
)

// load rebuilds the in-memory state from the store. LEASED trials become
// PENDING (written back) and are held for one lease TTL for re-adoption.
// It reads each sweep's trial records once, without their parameters
// (store.EachTrialHead), and writes the released leases in batches.
func (s *Scheduler) load() error {
	sweeps, err := s.st.Sweeps()
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	now := s.cfg.Now()
	var released []store.TrialUpdate
	nReleased := 0
	for _, rec := range sweeps {
		sp, err := spec.ParseStored([]byte(rec.SpecYAML))
		if err != nil {
			return fmt.Errorf("load sweep %s: stored spec: %w", rec.ID, err)
		}
		sw := newSweepState(rec, sp)
		err = s.st.EachTrialHead(rec.ID, func(tr store.Trial) error {
			t, err := newTrialState(sw, tr)
			if err != nil {
				return err
			}
			if tr.State == store.Leased {
				t.rec.State = store.Pending
				t.rec.Deadline = time.Time{}
				if !s.cfg.ReleaseOnLoad {
					t.rec.Deadline = now.Add(s.cfg.LeaseTTL) // held (trialState.held)
					s.held[t] = struct{}{}
				}
				released = append(released, t.update())
				nReleased++
			}
			sw.add(t)
			return nil
		})
		if err != nil {
			return fmt.Errorf("load sweep %s: %w", rec.ID, err)
		}
		s.sweeps[rec.ID] = sw
		s.order = append(s.order, sw)
		for _, t := range sw.list {
			if sw.rec.State == store.SweepRunning {
				s.enqueue(t)
			}
		}
	}
	if err := s.persist(nil, released); err != nil { // in transactions of s.batch
		return fmt.Errorf("load: release leases: %w", err)
	}
	if nReleased > 0 && s.cfg.ReleaseOnLoad {
		s.cfg.Logger.Info("restart: leases of the previous process released", "trials", nReleased)
	} else if nReleased > 0 {
		s.cfg.Logger.Info("restart: leases released, held for re-adoption", "trials", nReleased, "hold", s.cfg.LeaseTTL)
	}
	return nil
}

func newSweepState(rec store.Sweep, sp *spec.Spec) *sweepState {
	return &sweepState{rec: rec, spec: sp, trials: map[string]*trialState{}, changed: make(chan struct{})}
}

// newTrialState is the state of a stored trial; one stored without its
// resolved steps has them resolved from its parameters.
func newTrialState(sw *sweepState, rec store.Trial) (*trialState, error) {
	if !rec.State.Valid() {
		return nil, fmt.Errorf("trial %s: stored state %d is not a trial state", rec.ID, uint8(rec.State))
	}
	if rec.Steps == 0 { // stored before steps were recorded
		tr, err := sw.spec.NewTrial(rec.Params)
		if err != nil {
			return nil, fmt.Errorf("trial %s: %w", rec.ID, err)
		}
		rec.Steps = tr.Steps
	}
	return newTrial(sw, rec), nil
}

// newTrial is the state of the trial rec (its Params and Key are not kept).
func newTrial(sw *sweepState, rec store.Trial) *trialState {
	// A stored deadline is not carried over: a deadline in memory is a lease's
	// or a restart hold's, each set from this process's clock.
	return &trialState{sweep: sw, steps: rec.Steps, rec: trialRec{ID: rec.ID, Seq: rec.Seq, State: rec.State,
		Attempt: rec.Attempt, LastError: rec.LastError, Round: rec.Round, LeaseSeq: rec.LeaseSeq}}
}

// add appends t to the sweep (t.rec.Seq must follow the last one's).
func (sw *sweepState) add(t *trialState) {
	sw.trials[t.rec.ID] = t
	sw.list = append(sw.list, t)
	sw.counts[t.rec.State]++
}
