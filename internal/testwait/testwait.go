// Package testwait waits, with a bound, for a condition in a test.
//
// Until is for conditions of the test's own process: it re-checks only when
// the code under test announces a change (a channel closed on change, such as
// scheduler.SweepInfo.Changed), so it neither sleeps nor spins. Poll is for
// conditions of an outside process (a child eosweep, a container), which
// cannot announce anything: it re-checks with a growing pause.
package testwait

import (
	"testing"
	"time"
)

// Until waits up to limit for check to report true. check returns whether the
// condition holds and, if not, a channel that is closed at the next change
// worth checking again on. Until fails the test when limit passes.
func Until(t testing.TB, what string, limit time.Duration, check func() (ok bool, changed <-chan struct{})) {
	t.Helper()
	timeout := time.NewTimer(limit)
	defer timeout.Stop()
	for {
		ok, changed := check()
		if ok {
			return
		}
		select {
		case <-changed:
		case <-timeout.C:
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
	}
}

// Poll waits up to limit for cond, an observation of an outside process, to
// hold, checking it every 10 ms at first and every 250 ms at most. It fails the
// test when limit passes.
func Poll(t testing.TB, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	pause := 10 * time.Millisecond
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(pause)
		pause = min(2*pause, 250*time.Millisecond)
	}
}
