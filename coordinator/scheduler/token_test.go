package scheduler

import (
	"errors"
	"fmt"
	"strconv"
	"testing"

	"github.com/eosweep/eosweep/coordinator/store"
)

// No lease token is issued twice: a resume resets the attempt and a release
// hands it back, but the next lease's token differs, so the stale holder's
// error report or release cannot void the new lease, nor its heartbeat
// extend it. Its result is still a result of the trial and is accepted.
func TestStaleTokenCannotVoidNewLease(t *testing.T) {
	t.Parallel()
	const one = "model: single\ngrid: {eta: [1]}\nparams: {steps: 5}\n"
	for _, c := range []struct {
		name  string
		stale func(t *testing.T, s *Scheduler, a Lease) // makes a's lease stale with the attempt back at 0
	}{
		{"cancel and resubmit", func(t *testing.T, s *Scheduler, a Lease) {
			if _, err := s.Cancel(a.Sweep); err != nil {
				t.Fatal(err)
			}
			submit(t, s, one)
		}},
		{"release", func(t *testing.T, s *Scheduler, a Lease) {
			if out, err := s.Deliver([]Delivery{{Sweep: a.Sweep, Trial: a.Trial, Token: a.Token, Release: true}}); err != nil || out[0].Verdict != Released {
				t.Fatalf("release: %+v, %v", out, err)
			}
		}},
		{"unclaimed", func(t *testing.T, s *Scheduler, a Lease) {
			if err := s.unclaim([]Lease{a}, true)(); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := newTestScheduler(t, nil, nil, Config{MaxAttempts: 1})
			sw := submit(t, s, one)
			a := lease(t, s, 1)[0]
			c.stale(t, s, a)
			b := lease(t, s, 1)[0]
			if b.Attempt != a.Attempt || b.Token == a.Token {
				t.Fatalf("lease after %s: attempt %d token %q; A had attempt %d token %q: want the same attempt, another token", c.name, b.Attempt, b.Token, a.Attempt, a.Token)
			}
			for _, d := range []Delivery{
				{Sweep: a.Sweep, Trial: a.Trial, Token: a.Token, Failure: "stale error"},
				{Sweep: a.Sweep, Trial: a.Trial, Token: a.Token, Release: true},
			} {
				out, err := s.Deliver([]Delivery{d})
				if err != nil || out[0].Verdict != Rejected || !errors.Is(out[0].Err, ErrNotOutstanding) {
					t.Fatalf("A's stale delivery %+v: %+v, %v; want rejected, lease no longer held", d, out, err)
				}
			}
			if lost, err := s.Heartbeat("a", []LeaseRef{{a.Sweep, a.Trial, a.Token}}); err != nil || len(lost) != 1 {
				t.Fatalf("A's heartbeat: lost %v, %v; want its lease lost", lost, err)
			}
			if p := progress(t, s, sw.ID); p.Leased != 1 || p.Failed != 0 {
				t.Fatalf("after A's stale deliveries: %+v, want B's lease held", p)
			}
			if lost, err := s.Heartbeat("b", []LeaseRef{{b.Sweep, b.Trial, b.Token}}); err != nil || len(lost) != 0 {
				t.Fatalf("B's heartbeat: lost %v, %v", lost, err)
			}
			if r := deliverOne(t, s, a, goodResult(-1)); r.Verdict != Accepted {
				t.Fatalf("A's late result: %+v, want accepted (results are deterministic)", r)
			}
		})
	}
}

// A store written before lease sequences holds LEASED trials whose workers
// hold "attempt.mac" tokens: after the upgrade those tokens still re-adopt
// their leases and deliver, and the next lease gets a token of the new form.
func TestTokenOfOlderCoordinatorReadopts(t *testing.T) {
	t.Parallel()
	path := tempDB(t)
	st := openStore(t, path)
	defer st.Close()
	s := newTestScheduler(t, st, nil, Config{})
	sw := submit(t, s, fourTrials)
	ls := lease(t, s, 2)
	s.Close()
	// Rewrite the leases as today's main stored them: no lease sequence.
	trials, err := st.Trials(sw.ID)
	if err != nil {
		t.Fatal(err)
	}
	legacy := map[string]string{}
	var ops []store.Op
	for _, tr := range trials {
		if tr.State != store.Leased {
			continue
		}
		tr.LeaseSeq = 0
		op, err := store.TrialOp(tr)
		if err != nil {
			t.Fatal(err)
		}
		ops = append(ops, op)
		legacy[tr.ID] = strconv.Itoa(tr.Attempt) + "." + s.mac(fmt.Sprintf("%s/%s/%d", sw.ID, tr.ID, tr.Attempt))
	}
	if err := st.Apply(ops...); err != nil {
		t.Fatal(err)
	}
	s = newTestScheduler(t, st, nil, Config{})
	defer s.Close() // before the store closes
	old := ls[0]
	if lost, err := s.Heartbeat("w", []LeaseRef{{old.Sweep, old.Trial, legacy[old.Trial]}}); err != nil || len(lost) != 0 {
		t.Fatalf("re-adoption by an older coordinator's token: lost %v, %v", lost, err)
	}
	if r := deliverOne(t, s, Lease{Sweep: old.Sweep, Trial: old.Trial, Token: legacy[old.Trial]}, goodResult(-1)); r.Verdict != Accepted {
		t.Fatalf("result with an older coordinator's token: %+v", r)
	}
	if r := deliverOne(t, s, Lease{Sweep: ls[1].Sweep, Trial: ls[1].Trial, Token: legacy[ls[1].Trial] + "0"}, goodResult(-1)); r.Verdict != Rejected || !errors.Is(r.Err, ErrTokenMismatch) {
		t.Fatalf("a damaged old token: %+v, want refused", r)
	}
}

// The lease sequence survives what a restart reads and what the compact
// writes update (store.UpdateOp and the head decoder keep only the state
// fields): after a restart, a trial leased again gets a token no earlier
// lease had, so the holder of a pre-restart token cannot void it.
func TestLeaseSequenceSurvivesRestart(t *testing.T) {
	t.Parallel()
	const one = "model: single\ngrid: {eta: [1]}\nparams: {steps: 5}\n"
	path := tempDB(t)
	st := openStore(t, path)
	defer st.Close()
	s := newTestScheduler(t, st, nil, Config{MaxAttempts: 1})
	submit(t, s, one)
	a := lease(t, s, 1)[0]
	if err := s.unclaim([]Lease{a}, true)(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	trials, err := st.Trials(a.Sweep)
	if err != nil {
		t.Fatal(err)
	}
	if len(trials) != 1 || trials[0].LeaseSeq != 1 {
		t.Fatalf("stored after one lease: %+v, want lease_seq 1", trials)
	}
	s = newTestScheduler(t, st, nil, Config{MaxAttempts: 1, ReleaseOnLoad: true})
	defer s.Close() // before the store closes
	b := lease(t, s, 1)[0]
	if b.Attempt != a.Attempt || b.Token == a.Token {
		t.Fatalf("lease after a restart: attempt %d token %q; before it attempt %d token %q: want another token", b.Attempt, b.Token, a.Attempt, a.Token)
	}
	out, err := s.Deliver([]Delivery{{Sweep: a.Sweep, Trial: a.Trial, Token: a.Token, Failure: "stale error"}})
	if err != nil || out[0].Verdict != Rejected {
		t.Fatalf("the pre-restart token's error report: %+v, %v; want rejected", out, err)
	}
}
