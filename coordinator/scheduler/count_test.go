package scheduler

import (
	"reflect"
	"testing"

	"github.com/eosweep/eosweep/coordinator/store"
)

// Count, Add and ByState agree on which counter each state has: a store
// reader's count and the scheduler's own give the same gauge.
func TestProgressCount(t *testing.T) {
	t.Parallel()
	var a, b Progress
	for _, st := range []store.TrialState{store.Pending, store.Pending, store.Leased, store.Done, store.Done, store.Done, store.Failed} {
		a.Count(st)
	}
	b.Count(store.Cancelled)
	b.Count(store.TrialState(0)) // not a state: counted in Total only
	want := Progress{Total: 7, Pending: 2, Leased: 1, Done: 3, Failed: 1}
	if a != want {
		t.Errorf("Count: %+v, want %+v", a, want)
	}
	a.Add(b)
	want.Total, want.Cancelled = 9, 1
	if a != want {
		t.Errorf("Add: %+v, want %+v", a, want)
	}
	if got := a.ByState(); !reflect.DeepEqual(got, map[string]int{"pending": 2, "leased": 1, "done": 3, "failed": 1, "cancelled": 1}) {
		t.Errorf("ByState: %v", got)
	}
}
