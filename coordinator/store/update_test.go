package store_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/eosweep/eosweep/coordinator/store"
	"github.com/eosweep/eosweep/coordinator/store/storetest"
)

// TestUpdateOpKeepsTheRest: an update sets a stored trial's state fields and
// leaves its parameters, key, round and steps as they were written; it is
// refused for a trial not stored at its seq, or stored there under another id.
func TestUpdateOpKeepsTheRest(t *testing.T) {
	t.Parallel()
	s := storetest.MustOpen(t)
	orig := store.Trial{Sweep: "sw", ID: "abc", Seq: 3, Params: map[string]float64{"eta": 0.5, "seed": 2},
		Key: `single eta=0.5 "quoted"`, State: store.Pending, Round: 2, Steps: 7}
	if err := s.Apply(must(store.TrialOp(orig))); err != nil {
		t.Fatal(err)
	}
	deadline := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	u := store.TrialUpdate{Sweep: "sw", ID: "abc", Seq: 3, State: store.Leased, Attempt: 2, Deadline: deadline, LastError: "boom"}
	if err := s.Apply(store.UpdateOp(u)); err != nil {
		t.Fatal(err)
	}
	got, err := s.TrialsAt("sw", []store.TrialRef{{Seq: 3, ID: "abc"}})
	if err != nil {
		t.Fatal(err)
	}
	want := orig
	want.State, want.Attempt, want.Deadline, want.LastError = store.Leased, 2, deadline, "boom"
	if !reflect.DeepEqual(got[0], want) {
		t.Fatalf("after update\n got %+v\nwant %+v", got[0], want)
	}
	for _, tc := range []struct {
		name string
		u    store.TrialUpdate
		want string
	}{
		{"other id", store.TrialUpdate{Sweep: "sw", ID: "xyz", Seq: 3, State: store.Done}, "holds trial abc"},
		{"no such seq", store.TrialUpdate{Sweep: "sw", ID: "abc", Seq: 4, State: store.Done}, "no trial stored at seq 4"},
		{"no such sweep", store.TrialUpdate{Sweep: "other", ID: "abc", Seq: 3, State: store.Done}, "no trials stored"},
	} {
		if err := s.Apply(store.UpdateOp(tc.u)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
	heads := 0
	err = s.EachTrialHead("sw", func(tr store.Trial) error {
		heads++
		if tr.Params != nil || tr.Key != "" || tr.State != store.Leased || tr.Steps != 7 || tr.Round != 2 {
			t.Errorf("head %+v: want no params or key, state, steps and round", tr)
		}
		return nil
	})
	if err != nil || heads != 1 {
		t.Fatalf("EachTrialHead: %d heads, %v", heads, err)
	}
}
