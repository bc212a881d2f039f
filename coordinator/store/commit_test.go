package store

import (
	"errors"
	"path/filepath"
	"testing"

	berrors "go.etcd.io/bbolt/errors"
)

// A request that cannot be written fails alone: the requests group-committed
// with it are written and succeed (bbolt's DB.Batch contract), in order.
func TestFailedRequestFailsAlone(t *testing.T) {
	t.Parallel()
	s, err := Open(filepath.Join(t.TempDir(), "s.db"), Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	trial := func(seq int) Op {
		op, err := TrialOp(Trial{Sweep: "sw", ID: string(rune('a' + seq)), Seq: seq, State: Pending})
		if err != nil {
			t.Fatal(err)
		}
		return op
	}
	bad, err := SweepOp(Sweep{}) // an empty sweep id: bbolt refuses the empty key
	if err != nil {
		t.Fatal(err)
	}
	// Hold bbolt's writer lock while queueing, so the committer (blocked in
	// its transaction) finds the rest waiting: whichever request it took
	// first, the bad one shares a group with a good one.
	tx, err := s.db.Begin(true)
	if err != nil {
		t.Fatal(err)
	}
	waits := []func() error{s.ApplyAsync(trial(0)), s.ApplyAsync(trial(1)), s.ApplyAsync(bad), s.ApplyAsync(trial(2), trial(3))}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	for i, wait := range waits {
		err := wait()
		if i == 2 {
			if !errors.Is(err, berrors.ErrKeyRequired) {
				t.Errorf("the bad request: error %v, want bbolt's ErrKeyRequired", err)
			}
			continue
		}
		if err != nil {
			t.Errorf("good request %d failed with the bad one: %v", i, err)
		}
	}
	trials, err := s.Trials("sw")
	if err != nil || len(trials) != 4 {
		t.Fatalf("%d trials stored (%v), want the 4 good ones", len(trials), err)
	}
	if st := s.Stats(); st.Ops != 4 {
		t.Errorf("stats count %d ops written, want 4 (the failed transactions not counted)", st.Ops)
	}
}
