package scheduler

import (
	"errors"
	"strings"
	"testing"

	"github.com/eosweep/eosweep/coordinator/store"
	"github.com/eosweep/eosweep/internal/fakeclock"
)

// failAll delivers an error for every lease (with MaxAttempts 1, each trial
// becomes FAILED).
func failAll(t *testing.T, s *Scheduler, ls []Lease) {
	t.Helper()
	ds := make([]Delivery, len(ls))
	for i, l := range ls {
		ds[i] = Delivery{Sweep: l.Sweep, Trial: l.Trial, Token: l.Token, Failure: "engine: boom"}
	}
	rs, err := s.Deliver(ds)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Verdict != FailureRecorded {
			t.Fatalf("failure: %+v", r)
		}
	}
}

// Retry puts the failed (and, if asked, cancelled) trials of a sweep back to
// PENDING with fresh attempts, durably, queued, and the sweep back to
// RUNNING; it refuses states that cannot be retried, naming the field.
func TestRetry(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		cancel    bool // cancel the sweep (its 2 pending trials) after 2 failed
		states    []store.TrialState
		retried   int
		wantState store.SweepState
		wantErr   string
	}{
		{name: "failed by default", states: nil, retried: 2, wantState: store.SweepRunning},
		{name: "failed", states: []store.TrialState{store.Failed}, retried: 2, wantState: store.SweepRunning},
		{name: "cancelled only", cancel: true, states: []store.TrialState{store.Cancelled}, retried: 2, wantState: store.SweepRunning},
		{name: "failed and cancelled", cancel: true, states: []store.TrialState{store.Failed, store.Cancelled}, retried: 4,
			wantState: store.SweepRunning},
		{name: "nothing cancelled", states: []store.TrialState{store.Cancelled}, retried: 0, wantState: store.SweepRunning},
		{name: "done refused", states: []store.TrialState{store.Failed, store.Done}, wantErr: "states[1]: done trials cannot be retried"},
		{name: "pending refused", states: []store.TrialState{store.Pending}, wantErr: "states[0]: pending"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newTestScheduler(t, nil, fakeclock.New(), Config{MaxAttempts: 1})
			sw := submit(t, s, fourTrials)
			failAll(t, s, lease(t, s, 2))
			if tc.cancel {
				if _, err := s.Cancel(sw.ID); err != nil {
					t.Fatal(err)
				}
			}
			before := progress(t, s, sw.ID)
			rec, n, err := s.Retry(sw.ID, tc.states)
			if tc.wantErr != "" {
				if !errors.Is(err, ErrNotRetryable) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Retry: %v, want ErrNotRetryable saying %q", err, tc.wantErr)
				}
				if p := progress(t, s, sw.ID); p != before {
					t.Errorf("a refused retry changed progress %+v to %+v", before, p)
				}
				return
			}
			if err != nil || n != tc.retried || rec.State != tc.wantState {
				t.Fatalf("Retry: %d, %v, %v; want %d, %v", n, rec.State, err, tc.retried, tc.wantState)
			}
			p := progress(t, s, sw.ID)
			if p.Pending != before.Pending+tc.retried || p.Failed+p.Cancelled != before.Failed+before.Cancelled-tc.retried {
				t.Errorf("progress %+v after retrying %d of %+v", p, tc.retried, before)
			}
			// Queued: every pending trial can be leased, as attempt 1.
			ls := lease(t, s, 10)
			if len(ls) != p.Pending {
				t.Errorf("leased %d after the retry, want the %d pending", len(ls), p.Pending)
			}
			for _, l := range ls {
				if l.Attempt != 1 {
					t.Errorf("trial %s leased as attempt %d, want a fresh attempt 1", l.Trial, l.Attempt)
				}
			}
			// Durable: the store says the same.
			trials, err := s.st.Trials(sw.ID)
			if err != nil {
				t.Fatal(err)
			}
			stored, err := s.st.Sweep(sw.ID)
			if err != nil || stored.State != tc.wantState {
				t.Errorf("stored sweep %v (%v), want %v", stored.State, err, tc.wantState)
			}
			var leased int
			for _, tr := range trials {
				if tr.State == store.Leased {
					leased++
					if tr.LastError != "" {
						t.Errorf("trial %s keeps its last error %q after the retry", tr.ID, tr.LastError)
					}
				}
			}
			if leased != len(ls) {
				t.Errorf("%d trials stored leased, want %d", leased, len(ls))
			}
		})
	}
}

// Retrying a finished sweep's failed trials runs it again: RUNNING, and DONE
// once they have results.
func TestRetryReopensFinishedSweep(t *testing.T) {
	t.Parallel()
	s := newTestScheduler(t, nil, nil, Config{MaxAttempts: 1})
	sw := submit(t, s, fourTrials)
	ls := lease(t, s, 4)
	failAll(t, s, ls[:1])
	for _, l := range ls[1:] {
		deliverOne(t, s, l, goodResult(-1))
	}
	waitSweep(t, s, sw.ID, "the sweep to finish", func(i SweepInfo) bool { return i.Sweep.State == store.SweepDone })
	rec, n, err := s.Retry(sw.ID, nil)
	if err != nil || n != 1 || rec.State != store.SweepRunning {
		t.Fatalf("Retry: %d %v %v", n, rec.State, err)
	}
	again := lease(t, s, 4)
	if len(again) != 1 || again[0].Trial != ls[0].Trial {
		t.Fatalf("leased %+v after the retry, want the failed trial", again)
	}
	deliverOne(t, s, again[0], goodResult(-1))
	waitSweep(t, s, sw.ID, "the sweep to finish again", func(i SweepInfo) bool {
		return i.Sweep.State == store.SweepDone && i.Progress.Done == 4
	})
	if _, _, err := s.Retry("nope", nil); !errors.Is(err, ErrUnknownSweep) {
		t.Errorf("unknown sweep: %v", err)
	}
}
