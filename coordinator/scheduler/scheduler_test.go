package scheduler

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/eosweep/eosweep/coordinator/spec"
	"github.com/eosweep/eosweep/coordinator/store"
	"github.com/eosweep/eosweep/internal/fakeclock"
)

func TestLeaseReportDuplicate(t *testing.T) {
	t.Parallel()
	s := newTestScheduler(t, nil, nil, Config{})
	sw := submit(t, s, fourTrials)
	ls := lease(t, s, 3)
	if len(ls) != 3 {
		t.Fatalf("leased %d, want 3", len(ls))
	}
	seen := map[string]bool{}
	for _, l := range ls {
		if seen[l.Trial] || l.Attempt != 1 || l.Model != "single" || l.Params["steps"] != 5 {
			t.Fatalf("bad lease %+v", l)
		}
		seen[l.Trial] = true
	}
	if p := progress(t, s, sw.ID); p.Total != 4 || p.Leased != 3 || p.Pending != 1 {
		t.Fatalf("progress %+v", p)
	}
	if r := deliverOne(t, s, ls[0], goodResult(-1)); r.Verdict != Accepted || r.Err != nil {
		t.Fatalf("first delivery: %+v", r)
	}
	if r := deliverOne(t, s, ls[0], goodResult(-2)); r.Verdict != Duplicate || !errors.Is(r.Err, ErrAlreadyDone) {
		t.Fatalf("second delivery: %+v", r)
	}
	res, err := s.st.Results(sw.ID)
	if err != nil || len(res) != 1 || res[ls[0].Trial].FinalBias != -1 {
		t.Fatalf("stored results %+v, %v", res, err)
	}
	if p := progress(t, s, sw.ID); p.Done != 1 || p.Leased != 2 {
		t.Fatalf("progress %+v", p)
	}
}

func TestRejectsInvalidDeliveries(t *testing.T) {
	t.Parallel()
	s := newTestScheduler(t, nil, nil, Config{})
	submit(t, s, fourTrials)
	ls := lease(t, s, 2)
	l, gone := ls[0], ls[1]
	// gone's worker reports a failure: its token stays the trial's, but the
	// lease is no longer held.
	if out, err := s.Deliver([]Delivery{{Sweep: gone.Sweep, Trial: gone.Trial, Token: gone.Token, Failure: "boom"}}); err != nil || out[0].Verdict != FailureRecorded {
		t.Fatalf("failure: %+v, %v", out, err)
	}
	nan, long, infMax := goodResult(0), goodResult(0), goodResult(0)
	nan.EOSRatio = math.NaN()
	infMax.MaxEOSRatio = math.Inf(1)
	long.StepsRun = 6
	badPoint := goodResult(0)
	emptyResult := goodResult(0)
	emptyResult.Trajectory = nil
	badPoint.Trajectory[1].Sharpness = math.Inf(1)
	cases := []struct {
		name  string
		d     Delivery
		kind  error  // the sentinel Receipt.Err wraps
		field string // the field the message names
	}{
		{"unknown trial", Delivery{Sweep: l.Sweep, Trial: "ffff", Token: l.Token, Result: goodResult(0)}, ErrUnknownTrial, "trial_id"},
		{"unknown sweep", Delivery{Sweep: "nope", Trial: l.Trial, Token: l.Token, Result: goodResult(0)}, ErrUnknownTrial, "trial_id"},
		{"forged token", Delivery{Sweep: l.Sweep, Trial: l.Trial, Token: "1.00112233445566778899aabb", Result: goodResult(0)}, ErrTokenMismatch, "token"},
		{"future attempt", Delivery{Sweep: l.Sweep, Trial: l.Trial, Token: s.token(l.Sweep, l.Trial, 2, 2), Result: goodResult(0)}, ErrTokenMismatch, "token"},
		{"malformed token", Delivery{Sweep: l.Sweep, Trial: l.Trial, Token: "xyz", Result: goodResult(0)}, ErrTokenMismatch, "token"},
		{"release of a lost lease", Delivery{Sweep: gone.Sweep, Trial: gone.Trial, Token: gone.Token, Release: true}, ErrNotOutstanding, "token"},
		{"failure on a lost lease", Delivery{Sweep: gone.Sweep, Trial: gone.Trial, Token: gone.Token, Failure: "boom"}, ErrNotOutstanding, "token"},
		{"nan", Delivery{Sweep: l.Sweep, Trial: l.Trial, Token: l.Token, Result: nan}, ErrInvalidResult, "eos_ratio"},
		{"inf max_eos_ratio", Delivery{Sweep: l.Sweep, Trial: l.Trial, Token: l.Token, Result: infMax}, ErrInvalidResult, "max_eos_ratio"},
		{"steps out of range", Delivery{Sweep: l.Sweep, Trial: l.Trial, Token: l.Token, Result: long}, ErrInvalidResult, "steps_run"},
		{"trajectory inf", Delivery{Sweep: l.Sweep, Trial: l.Trial, Token: l.Token, Result: badPoint}, ErrInvalidResult, "trajectory[1].sharpness"},
		{"empty result", Delivery{Sweep: l.Sweep, Trial: l.Trial, Token: l.Token, Result: emptyResult}, ErrInvalidResult, "trajectory"},
	}
	for _, c := range cases {
		out, err := s.Deliver([]Delivery{c.d})
		if err != nil {
			t.Fatal(err)
		}
		if r := out[0]; r.Verdict != Rejected || !errors.Is(r.Err, c.kind) || !strings.Contains(r.Err.Error(), c.field) {
			t.Errorf("%s: receipt %+v, want rejected for %v naming %q", c.name, r, c.kind, c.field)
		}
	}
	// A batch mixes verdicts: the valid delivery is stored despite the bad one.
	out, err := s.Deliver([]Delivery{cases[7].d, {Sweep: l.Sweep, Trial: l.Trial, Token: l.Token, Result: goodResult(0)}})
	if err != nil || out[0].Verdict != Rejected || out[1].Verdict != Accepted {
		t.Fatalf("mixed batch: %+v, %v", out, err)
	}
}

func TestExpiryRetryAndStaleResult(t *testing.T) {
	t.Parallel()
	clk := fakeclock.New()
	s := newTestScheduler(t, nil, clk, Config{LeaseTTL: 10 * time.Second})
	sw := submit(t, s, "model: single\ngrid: {eta: [1]}\nparams: {steps: 5}\n")
	first := lease(t, s, 1)[0]
	// A heartbeat keeps the lease past its original deadline.
	expireAfter(s, clk, 8*time.Second)
	if lost, err := s.Heartbeat("w", []LeaseRef{{first.Sweep, first.Trial, first.Token}}); err != nil || len(lost) != 0 {
		t.Fatalf("heartbeat lost %v, %v", lost, err)
	}
	expireAfter(s, clk, 8*time.Second) // 16 s after the lease, 8 s after the heartbeat
	if p := progress(t, s, sw.ID); p.Leased != 1 {
		t.Fatalf("heartbeat did not extend the lease: %+v", p)
	}
	expireAfter(s, clk, 3*time.Second) // 11 s after the heartbeat
	if p := progress(t, s, sw.ID); p.Leased != 0 || p.Pending != 1 {
		t.Fatalf("lease not expired 11 s after its last heartbeat: %+v", p)
	}
	if lost, _ := s.Heartbeat("w", []LeaseRef{{first.Sweep, first.Trial, first.Token}}); len(lost) != 1 {
		t.Fatalf("heartbeat on an expired lease: lost %v", lost)
	}
	out, err := s.Deliver([]Delivery{{Sweep: first.Sweep, Trial: first.Trial, Token: first.Token, Release: true}})
	if err != nil || out[0].Verdict != Rejected || !errors.Is(out[0].Err, ErrNotOutstanding) {
		t.Fatalf("release of an expired lease: %+v, %v", out, err)
	}
	second := lease(t, s, 1)[0]
	if second.Attempt != 2 || second.Token == first.Token {
		t.Fatalf("second lease %+v", second)
	}
	// The first worker finishes late: its result is valid and wins.
	if r := deliverOne(t, s, first, goodResult(-1)); r.Verdict != Accepted {
		t.Fatalf("late result: %+v", r)
	}
	if r := deliverOne(t, s, second, goodResult(-1)); r.Verdict != Duplicate {
		t.Fatalf("second result: %+v", r)
	}
}

func TestFailedAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	clk := fakeclock.New()
	s := newTestScheduler(t, nil, clk, Config{LeaseTTL: time.Second, MaxAttempts: 2})
	sw := submit(t, s, "model: single\ngrid: {eta: [1]}\nparams: {steps: 5}\n")
	l := lease(t, s, 1)[0]
	out, err := s.Deliver([]Delivery{{Sweep: l.Sweep, Trial: l.Trial, Token: l.Token, Failure: "engine exploded"}})
	if err != nil || out[0].Verdict != FailureRecorded {
		t.Fatalf("error delivery: %+v, %v", out, err)
	}
	l = lease(t, s, 1)[0]
	if l.Attempt != 2 {
		t.Fatalf("attempt %d", l.Attempt)
	}
	expireAfter(s, clk, 2*time.Second)
	if p := progress(t, s, sw.ID); p.Failed != 1 {
		t.Fatalf("after the last attempt expired: %+v, want FAILED", p)
	}
	trials, _ := s.Trials(sw.ID)
	if !strings.Contains(trials[0].LastError, "expired") {
		t.Fatalf("last error %q", trials[0].LastError)
	}
	waitSweep(t, s, sw.ID, "sweep DONE", func(info SweepInfo) bool { return info.Sweep.State == store.SweepDone })
	// Resubmitting retries the failed trial.
	if _, created, err := s.Submit([]byte("model: single\ngrid: {eta: [1]}\nparams: {steps: 5}\n")); err != nil || created {
		t.Fatalf("resubmit: created %v, %v", created, err)
	}
	if l := lease(t, s, 1); len(l) != 1 || l[0].Attempt != 1 {
		t.Fatalf("after resubmit: %+v", l)
	}
}

func TestResubmitAndCancel(t *testing.T) {
	t.Parallel()
	s := newTestScheduler(t, nil, nil, Config{})
	a := submit(t, s, fourTrials)
	b, created, err := s.Submit([]byte("# reformatted\n" + fourTrials))
	if err != nil || created || b.ID != a.ID {
		t.Fatalf("resubmit: %s created=%v %v", b.ID, created, err)
	}
	if p := progress(t, s, a.ID); p.Total != 4 {
		t.Fatalf("duplicated trials: %+v", p)
	}
	l := lease(t, s, 2)
	if _, err := s.Cancel(a.ID); err != nil {
		t.Fatal(err)
	}
	if lost, _ := s.Heartbeat("w", []LeaseRef{{l[0].Sweep, l[0].Trial, l[0].Token}}); len(lost) != 1 {
		t.Fatal("cancelled lease still held")
	}
	if got := lease(t, s, 4); len(got) != 0 {
		t.Fatalf("leased %d trials of a cancelled sweep", len(got))
	}
	if p := progress(t, s, a.ID); p.Cancelled != 4 {
		t.Fatalf("progress %+v", p)
	}
	submit(t, s, fourTrials)
	if got := lease(t, s, 4); len(got) != 4 {
		t.Fatalf("after resume leased %d", len(got))
	}
	if _, err := s.Cancel("nope"); !errors.Is(err, ErrUnknownSweep) {
		t.Fatalf("cancel unknown: %v", err)
	}
}

func TestSubmitRejectsBadSpec(t *testing.T) {
	t.Parallel()
	s := newTestScheduler(t, nil, nil, Config{MaxTrials: 3})
	_, _, err := s.Submit([]byte(fourTrials))
	if !errors.Is(err, spec.ErrInvalid) || !strings.Contains(err.Error(), "the limit is 3") {
		t.Fatalf("over-large grid: %v", err)
	}
}

func TestLongPollWakesOnSubmit(t *testing.T) {
	t.Parallel()
	s := newTestScheduler(t, nil, nil, Config{})
	waiting := make(chan struct{}, 1)
	s.hooks.leaseWaiting = func() {
		select {
		case waiting <- struct{}{}:
		default:
		}
	}
	got := make(chan []Lease)
	go func() {
		ls, _ := s.Lease(context.Background(), "w", 2, 10*time.Second)
		got <- ls
	}()
	<-waiting // the long poll found nothing and waits
	start := time.Now()
	submit(t, s, fourTrials)
	select {
	case ls := <-got:
		if len(ls) != 2 {
			t.Fatalf("leased %d", len(ls))
		}
		t.Logf("woke %v after submit", time.Since(start))
	case <-time.After(5 * time.Second):
		t.Fatal("long poll did not wake")
	}
	// An empty queue returns no leases after the wait.
	lease(t, s, 2)
	ls, err := s.Lease(context.Background(), "w", 1, 30*time.Millisecond)
	if err != nil || len(ls) != 0 {
		t.Fatalf("empty queue: %v, %v", ls, err)
	}
}

func TestLeaseForDepartedCallerIsUnclaimed(t *testing.T) {
	t.Parallel()
	s := newTestScheduler(t, nil, nil, Config{})
	sw := submit(t, s, fourTrials)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if ls, err := s.Lease(ctx, "gone", 4, time.Second); err != nil || len(ls) != 0 {
		t.Fatalf("lease for a cancelled caller: %v, %v", ls, err)
	}
	stored, _ := s.st.Trials(sw.ID)
	for _, tr := range stored {
		if tr.State != store.Pending || tr.Attempt != 0 {
			t.Fatalf("stored trial after unclaim: %+v", tr)
		}
	}
	if ls := lease(t, s, 4); len(ls) != 4 || ls[0].Attempt != 1 {
		t.Fatalf("lease after unclaim: %+v", ls)
	}
}
