package scheduler

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/eosweep/eosweep/coordinator/spec"
	"github.com/eosweep/eosweep/coordinator/store"
)

// Submit batches: a new sweep's trials are written in transactions of at
// most submitBatchTrials trials and about submitBatchBytes bytes, so no
// transaction holds more than one batch of encoded records.
const (
	submitBatchTrials = 16384
	submitBatchBytes  = 8 << 20
)

// Submit validates a YAML spec and creates its sweep, or resumes the sweep
// that the same spec created before (same id): cancelled and failed trials
// go back to PENDING. It returns the sweep and whether it was created.
// Validation errors wrap spec.ErrInvalid.
//
// The trial limit (Config.MaxTrials) is submit-time policy: it is recorded
// with a new sweep (store.Sweep.MaxTrials) and a sweep already stored is
// resumed whatever the limit is now. The grid is expanded point by point
// (spec.Each) and its trials written in batches (submitBatchTrials,
// submitBatchBytes), the sweep record last: a submit cut short leaves no
// sweep, and the same spec submitted again writes the same trials over
// whatever it left.
func (s *Scheduler) Submit(yamlText []byte) (store.Sweep, bool, error) {
	sp, err := spec.Parse(yamlText, s.cfg.MaxTrials)
	if err != nil {
		// A sweep stored under a higher limit is still resumed.
		stored, serr := spec.ParseStored(yamlText)
		if serr != nil || !s.holds(stored.ID()) {
			return store.Sweep{}, false, err
		}
		sp = stored
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

	rec := store.Sweep{ID: sp.ID(), Name: sp.Name, Model: sp.Model, SpecYAML: string(yamlText),
		State: store.SweepRunning, Created: s.cfg.Now().UTC(), MaxTrials: s.cfg.MaxTrials}
	start := time.Now()
	sw, err := s.writeGrid(rec, sp)
	if err != nil {
		return store.Sweep{}, false, fmt.Errorf("submit sweep %s: %w", rec.ID, err)
	}
	rec = sw.rec // with the count of reused results
	if err := s.persist([]store.Sweep{rec}, nil); err != nil {
		return store.Sweep{}, false, fmt.Errorf("submit sweep %s: %w", rec.ID, err)
	}
	s.mu.Lock()
	s.sweeps[rec.ID] = sw
	s.order = append(s.order, sw)
	for _, t := range sw.list {
		s.enqueue(t)
	}
	s.mu.Unlock()
	s.cfg.Logger.Info("sweep submitted", "sweep", rec.ID, "name", rec.Name, "model", rec.Model,
		"trials", len(sw.list), "reused", rec.Reused, "took", time.Since(start).Round(time.Millisecond))
	if x := sp.Exec; x != nil { // it runs code on every worker that takes it
		s.cfg.Logger.Warn("exec sweep submitted", "sweep", rec.ID, "name", rec.Name, "command", x.Command,
			"env", x.Env, "workdir", x.Workdir, "timeout", x.Timeout)
	}
	s.maybeAdvance(sw) // every trial may have been reused
	return rec, true, nil
}

// holds reports whether the scheduler holds sweep id.
func (s *Scheduler) holds(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.sweeps[id]
	return ok
}

// writeGrid expands sp's grid into PENDING trials of the sweep rec and
// writes them in batches: the batches are expanded concurrently (one per
// core, a few ahead) and written in order, each while the next ones are
// expanded. It returns the sweep's state, not yet registered.
func (s *Scheduler) writeGrid(rec store.Sweep, sp *spec.Spec) (*sweepState, error) {
	sw := newSweepState(rec, sp)
	n := sp.Size()
	per := s.batch
	if n > 0 { // a batch's bytes: twice the first record's size, per record
		first, err := s.gridBatch(context.Background(), rec.ID, sp, 0, 1)
		if err != nil {
			return nil, err
		}
		per = min(per, max(1, submitBatchBytes/(2*first.ops[0].Size())))
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ahead := make(chan chan gridBatch, runtime.GOMAXPROCS(0)+1)
	go func() {
		defer close(ahead)
		for from := 0; from < n; from += per {
			c := make(chan gridBatch, 1)
			select {
			case ahead <- c:
			case <-ctx.Done():
				return
			}
			go func() {
				b, err := s.gridBatch(ctx, rec.ID, sp, from, from+per)
				b.err = err
				c <- b
			}()
		}
	}()
	inFlight := func() error { return nil }
	var err error
	for c := range ahead {
		b := <-c
		if err == nil {
			err = b.err
		}
		if err == nil {
			err = inFlight()
		}
		if err != nil {
			cancel() // drain the batches under way
			continue
		}
		inFlight = s.st.ApplyAsync(b.ops...)
		for _, t := range b.trials {
			sw.add(newTrial(sw, t))
		}
		sw.rec.Reused += b.reused
	}
	if werr := inFlight(); err == nil {
		err = werr
	}
	if err != nil {
		return nil, err
	}
	return sw, nil
}

// gridBatch is the trials of one batch of a grid and their puts.
type gridBatch struct {
	trials []store.Trial
	ops    []store.Op
	reused int // trials DONE with another sweep's result
	err    error
}

// gridBatch expands the grid points [from, to) of sp into trials of sweep.
// The trial records are encoded together (store.TrialOps), after the
// reuse lookup (one read transaction for the batch) has set their states.
func (s *Scheduler) gridBatch(ctx context.Context, sweep string, sp *spec.Spec, from, to int) (gridBatch, error) {
	recs := make([]store.Trial, 0, to-from) // with their parameters and keys
	err := sp.EachIn(ctx, from, to, func(i int, tr spec.Trial) error {
		recs = append(recs, store.Trial{Sweep: sweep, ID: tr.ID, Seq: i, Params: tr.Params, Key: tr.Key,
			State: store.Pending, Steps: tr.Steps})
		return nil
	})
	if err != nil {
		return gridBatch{}, err
	}
	b := gridBatch{trials: recs}
	copies, err := s.reuse(sp, recs)
	if err != nil {
		return b, err
	}
	b.reused = len(copies)
	if b.ops, err = store.TrialOps(recs); err != nil {
		return b, err
	}
	b.ops = append(b.ops, copies...)
	for i := range recs { // the scheduler keeps neither
		recs[i].Params, recs[i].Key = nil, ""
	}
	return b, nil
}

// reuse sets DONE every trial of recs whose id the store holds a result for,
// from any sweep (one read transaction), and returns the puts of the copies
// of those results: a submit's and a refinement round's new trials. An exec
// sweep's trials are always run: their program is the user's.
func (s *Scheduler) reuse(sp *spec.Spec, recs []store.Trial) ([]store.Op, error) {
	if sp.Exec != nil || len(recs) == 0 {
		return nil, nil
	}
	ids := make([]string, len(recs))
	for i, t := range recs {
		ids[i] = t.ID
	}
	reusable, err := s.st.Reusable(ids)
	if err != nil {
		return nil, err
	}
	var copies []store.Op
	for i := range recs {
		if reusable[i] != nil {
			recs[i].State = store.Done
			copies = append(copies, store.ReusedResultOp(recs[i], reusable[i]))
		}
	}
	return copies, nil
}

// resume puts a resubmitted sweep's cancelled and failed trials back to PENDING.
func (s *Scheduler) resume(sw *sweepState) (store.Sweep, error) {
	var want [store.NumTrialStates]bool
	want[store.Cancelled], want[store.Failed] = true, true
	rec, _, err := s.requeue(sw, want, true, "resume")
	return rec, err
}

// ErrSweepRunning is returned by Delete for a running sweep (cancel it first).
var ErrSweepRunning = errors.New("sweep is running")

// Delete removes a finished or cancelled sweep, its trials and its results
// from the store and the scheduler, and returns how many trials went. Other
// sweeps keep their own results (reused results are copies), and what they
// can give new sweeps.
func (s *Scheduler) Delete(id string) (int, error) {
	s.submitMu.Lock() // not in the middle of a refinement step (see advance)
	defer s.submitMu.Unlock()
	s.mu.Lock()
	sw, ok := s.sweeps[id]
	if !ok {
		s.mu.Unlock()
		return 0, fmt.Errorf("sweep %q: %w", id, ErrUnknownSweep)
	}
	if sw.rec.State == store.SweepRunning || sw.refining {
		s.mu.Unlock()
		return 0, fmt.Errorf("sweep %s: %w: cancel it first (eosweep cancel %s)", id, ErrSweepRunning, id)
	}
	// Forget the sweep under the same lock that queues its deletion: a late
	// result delivered meanwhile finds no sweep, so no write of it can follow
	// the deletion and recreate the sweep's buckets.
	s.forget(sw)
	recorded := s.st.ApplyAsync(store.DeleteSweepOp(id, s.copiesElsewhere(sw)))
	s.mu.Unlock()
	if err := recorded(); err != nil {
		s.mu.Lock()
		s.sweeps[id] = sw // nothing was deleted: keep serving it
		s.order = append(s.order, sw)
		s.mu.Unlock()
		return 0, fmt.Errorf("delete sweep %s: %w", id, err)
	}
	s.mu.Lock()
	sw.notify()
	s.mu.Unlock()
	s.cfg.Logger.Info("sweep deleted", "sweep", id, "trials", len(sw.list))
	return len(sw.list), nil
}

// copiesElsewhere finds, for each DONE trial of sw, another sweep that holds
// the same trial DONE (its result stored): where the trial-id index can point
// once sw is deleted. Callers hold s.mu.
func (s *Scheduler) copiesElsewhere(sw *sweepState) map[string]store.ResultRef {
	copies := map[string]store.ResultRef{}
	for _, t := range sw.list {
		if t.rec.State != store.Done {
			continue
		}
		for _, o := range s.order {
			if ot, ok := o.trials[t.rec.ID]; ok && o != sw && ot.rec.State == store.Done {
				copies[t.rec.ID] = store.ResultRef{Sweep: o.rec.ID, Seq: ot.rec.Seq}
				break
			}
		}
	}
	return copies
}

// forget removes sw from the scheduler's sweeps. Callers hold s.mu.
func (s *Scheduler) forget(sw *sweepState) {
	delete(s.sweeps, sw.rec.ID)
	for i, o := range s.order {
		if o == sw {
			s.order = append(s.order[:i:i], s.order[i+1:]...)
			break
		}
	}
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
	var recs []store.TrialUpdate
	for _, t := range sw.list {
		if t.rec.State == store.Pending || t.rec.State == store.Leased {
			s.setState(t, store.Cancelled)
			recs = append(recs, t.update())
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
