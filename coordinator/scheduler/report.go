package scheduler

import (
	"fmt"

	"github.com/eosweep/eosweep/coordinator/store"
	"github.com/eosweep/eosweep/engine"
)

// Report is one worker report: a result, the engine's error (Err != ""), or
// the lease handed back unfinished (Release).
type Report struct {
	Sweep, Trial, Token string
	Result              engine.Result
	Err                 string
	Release             bool
}

// Status says what became of one report.
type Status int

// Report statuses.
const (
	// Accepted: the result is stored and the trial is DONE.
	Accepted Status = iota + 1
	// Duplicate: the trial already had a result; this one was not stored.
	Duplicate
	// Rejected: the report failed validation (Message names the field).
	Rejected
	// FailureRecorded: the error was recorded; the trial is retried or FAILED.
	FailureRecorded
	// Released: the lease was handed back; the trial is PENDING and the
	// attempt does not count.
	Released
)

// Outcome answers one Report.
type Outcome struct {
	Status  Status
	Message string
}

type pendingWrite struct {
	t    *trialState
	prev store.Trial
	op   *store.Op // result op, for accepted results
}

// Report records reports. The first valid result of a trial wins, whichever
// attempt's token it carries; results are deterministic. Every accepted
// result and recorded failure is durable before Report returns; if writing
// fails, nothing of this call is kept and the error is returned.
func (s *Scheduler) Report(reports []Report) ([]Outcome, error) {
	out := make([]Outcome, len(reports))
	var writes []pendingWrite
	touched := map[*sweepState]bool{}
	s.mu.Lock()
	for i, r := range reports {
		var w *pendingWrite
		out[i], w = s.apply(r)
		if w != nil {
			writes = append(writes, *w)
			touched[w.t.sweep] = true
		}
	}
	recs := make([]store.Trial, len(writes))
	var ops []store.Op
	for i, w := range writes {
		recs[i] = w.t.rec
		if w.op != nil {
			ops = append(ops, *w.op)
		}
	}
	recorded := s.persistAsync(nil, recs, ops...)
	s.mu.Unlock()
	if len(writes) == 0 {
		return out, nil
	}
	if err := recorded(); err != nil {
		s.revert(writes)
		return nil, fmt.Errorf("record results: %w", err)
	}
	for sw := range touched {
		s.maybeAdvance(sw)
	}
	return out, nil
}

// apply validates one report and changes the trial's state in memory.
// Callers hold s.mu.
func (s *Scheduler) apply(r Report) (Outcome, *pendingWrite) {
	t := s.lookup(r.Sweep, r.Trial)
	if t == nil {
		return rejected("trial_id: unknown trial %s/%s", r.Sweep, r.Trial), nil
	}
	attempt := s.tokenAttempt(t, r.Token)
	if attempt == 0 {
		return rejected("token: not issued for trial %s", r.Trial), nil
	}
	w := &pendingWrite{t: t, prev: t.rec}
	if r.Release {
		if t.rec.State != store.Leased || t.token != r.Token {
			return rejected("token: lease of attempt %d is no longer held; nothing to release", attempt), nil
		}
		s.setState(t, store.Pending)
		t.rec.Attempt--
		s.enqueue(t)
		return Outcome{Status: Released}, w
	}
	if r.Err != "" {
		if t.rec.State != store.Leased || t.token != r.Token {
			return rejected("token: lease of attempt %d is no longer held; error not recorded", attempt), nil
		}
		t.rec.LastError = r.Err
		if t.rec.Attempt >= s.cfg.MaxAttempts {
			s.setState(t, store.Failed)
		} else {
			s.setState(t, store.Pending)
			s.enqueue(t)
		}
		return Outcome{Status: FailureRecorded}, w
	}
	if err := ValidateResult(r.Result, t.steps); err != nil {
		return rejected("%v", err), nil
	}
	if t.rec.State == store.Done {
		return Outcome{Status: Duplicate, Message: "trial already has a result"}, nil
	}
	op, err := store.ResultOp(t.rec, r.Result)
	if err != nil {
		return rejected("%v", err), nil
	}
	w.op = &op
	t.rec.LastError = ""
	s.setState(t, store.Done)
	return Outcome{Status: Accepted}, w
}

func rejected(format string, args ...any) Outcome {
	return Outcome{Status: Rejected, Message: fmt.Sprintf(format, args...)}
}

// revert undoes the in-memory changes of writes that could not be recorded:
// the trials go back to PENDING (their leases are void) and are queued.
func (s *Scheduler) revert(writes []pendingWrite) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, w := range writes {
		t := w.t
		s.setState(t, store.Pending)
		t.rec.LastError = w.prev.LastError
		if t.sweep.rec.State == store.SweepRunning {
			s.enqueue(t)
		}
	}
}
