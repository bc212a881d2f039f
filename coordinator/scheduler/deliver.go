package scheduler

import (
	"errors"
	"fmt"

	"github.com/eosweep/eosweep/coordinator/store"
	"github.com/eosweep/eosweep/engine"
)

// Delivery is what a worker hands in for one lease: a result, the engine's
// error (Failure != ""), or the lease handed back unfinished (Release).
// Invalid is set by a handler that could not decode the report: the delivery
// is Rejected with it as the reason, once its trial and token are checked.
type Delivery struct {
	Sweep, Trial, Token string
	Result              engine.Result
	Failure             string
	Release             bool
	Invalid             error
}

// Verdict says what became of one delivery. The numbering matches proto
// ReportStatus.
type Verdict int

// Verdicts.
const (
	// Accepted: the result is stored and the trial is DONE.
	Accepted Verdict = iota + 1
	// Duplicate: the trial already had a result; this one was not stored
	// (Receipt.Err wraps ErrAlreadyDone).
	Duplicate
	// Rejected: the delivery failed a check; Receipt.Err wraps the sentinel
	// that says which and names the field.
	Rejected
	// FailureRecorded: the error was recorded; the trial is retried or FAILED.
	FailureRecorded
	// Released: the lease was handed back; the trial is PENDING and the
	// attempt does not count.
	Released
)

// Why a delivery was not stored: Receipt.Err wraps one of these or
// ErrInvalidResult.
var (
	// ErrUnknownTrial: no trial of that id in a sweep of that id.
	ErrUnknownTrial = errors.New("unknown trial")
	// ErrTokenMismatch: the token was never issued for the trial (malformed,
	// forged, or for a later attempt than any leased).
	ErrTokenMismatch = errors.New("token not issued for the trial")
	// ErrNotOutstanding: the token is the trial's, but its lease is no longer
	// held (expired, cancelled or superseded), so there is nothing to release
	// and no failure to record. Results are accepted regardless.
	ErrNotOutstanding = errors.New("lease no longer held")
	// ErrAlreadyDone: the trial already has a result (verdict Duplicate).
	ErrAlreadyDone = errors.New("trial already has a result")
)

// Receipt answers one Delivery.
type Receipt struct {
	Verdict Verdict
	// Err says why a Rejected or Duplicate delivery was not stored (nil for
	// the other verdicts). It wraps one of the sentinels above or
	// ErrInvalidResult; its message
	// is written for the worker's log and names the field at fault.
	Err error
}

// reason is a Receipt.Err: a message of its own, matched by its sentinel.
type reason struct {
	kind error
	msg  string
}

func (r *reason) Error() string { return r.msg }
func (r *reason) Unwrap() error { return r.kind }

func rejected(kind error, format string, args ...any) Receipt {
	return Receipt{Verdict: Rejected, Err: &reason{kind: kind, msg: fmt.Sprintf(format, args...)}}
}

type pendingWrite struct {
	t    *trialState
	prev trialRec
	op   *store.Op // result op, for accepted results
}

// Deliver records deliveries. The first valid result of a trial wins,
// whichever attempt's token it carries; results are deterministic. Every
// accepted result and recorded failure is durable before Deliver returns; if
// writing fails, nothing of this call is kept and the error is returned.
func (s *Scheduler) Deliver(ds []Delivery) ([]Receipt, error) {
	out := make([]Receipt, len(ds))
	var writes []pendingWrite
	touched := map[*sweepState]bool{}
	s.mu.Lock()
	for i, d := range ds {
		var w *pendingWrite
		out[i], w = s.apply(d)
		if w != nil {
			writes = append(writes, *w)
			touched[w.t.sweep] = true
		}
	}
	recs := make([]store.TrialUpdate, len(writes))
	var ops []store.Op
	for i, w := range writes {
		recs[i] = w.t.update()
		if w.op != nil {
			ops = append(ops, *w.op)
		}
	}
	recorded := s.persistAsync(nil, recs, ops...)
	s.mu.Unlock()
	if len(writes) == 0 {
		s.cfg.Observer.Delivered(out)
		return out, nil
	}
	if err := recorded(); err != nil {
		s.revert(writes)
		return nil, fmt.Errorf("record results: %w", err)
	}
	s.cfg.Observer.Delivered(out)
	for sw := range touched {
		s.maybeAdvance(sw)
	}
	return out, nil
}

// apply checks one delivery and changes the trial's state in memory.
// Callers hold s.mu.
func (s *Scheduler) apply(d Delivery) (Receipt, *pendingWrite) {
	t := s.lookup(d.Sweep, d.Trial)
	if t == nil {
		return rejected(ErrUnknownTrial, "trial_id: unknown trial %s/%s", d.Sweep, d.Trial), nil
	}
	attempt := s.tokenAttempt(t, d.Token)
	if attempt == 0 {
		return rejected(ErrTokenMismatch, "token: not issued for trial %s", d.Trial), nil
	}
	if d.Invalid != nil {
		return Receipt{Verdict: Rejected, Err: d.Invalid}, nil
	}
	w := &pendingWrite{t: t, prev: t.rec}
	if d.Release {
		if t.rec.State != store.Leased || t.token() != d.Token {
			return rejected(ErrNotOutstanding, "token: lease of attempt %d is no longer held; nothing to release", attempt), nil
		}
		s.setState(t, store.Pending)
		t.rec.Attempt--
		s.enqueue(t)
		return Receipt{Verdict: Released}, w
	}
	if d.Failure != "" {
		if t.rec.State != store.Leased || t.token() != d.Token {
			return rejected(ErrNotOutstanding, "token: lease of attempt %d is no longer held; error not recorded", attempt), nil
		}
		t.rec.LastError = d.Failure
		if t.rec.Attempt >= s.cfg.MaxAttempts {
			s.setState(t, store.Failed)
		} else {
			s.setState(t, store.Pending)
			s.enqueue(t)
		}
		return Receipt{Verdict: FailureRecorded}, w
	}
	if err := ValidateResult(d.Result, t.steps); err != nil {
		return Receipt{Verdict: Rejected, Err: err}, nil
	}
	if t.rec.State == store.Done {
		return Receipt{Verdict: Duplicate, Err: ErrAlreadyDone}, nil
	}
	op, err := store.ResultOp(store.Trial{Sweep: t.sweep.rec.ID, ID: t.rec.ID, Seq: t.rec.Seq}, d.Result)
	if err != nil {
		return Receipt{Verdict: Rejected, Err: fmt.Errorf("%w: %w", ErrInvalidResult, err)}, nil
	}
	w.op = &op
	t.rec.LastError = ""
	s.setState(t, store.Done)
	return Receipt{Verdict: Accepted}, w
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
