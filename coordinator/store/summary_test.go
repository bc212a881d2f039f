package store_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/eosweep/eosweep/coordinator/store"
	"github.com/eosweep/eosweep/coordinator/store/storetest"
	"github.com/eosweep/eosweep/engine"
	"github.com/eosweep/eosweep/engine/enginetest"
)

func TestSummary(t *testing.T) {
	t.Parallel()
	full := enginetest.FullResult(1000, -0.5)
	full.MaxEOSRatioAfterInit = 1.2
	legacy := enginetest.FullResult(1000, -0.5) // stored before max_eos_ratio_after_init
	legacy.Trajectory[10].Sharpness = 1e6       // the largest after step 0
	unmeasured := enginetest.Result(10)
	unmeasured.Trajectory[1].Sharpness = 0
	tests := []struct {
		name string
		in   engine.Result
		traj []engine.Point
	}{
		{"current result: no trajectory", full, nil},
		{"older result: its largest sharpness after step 0", legacy, []engine.Point{legacy.Trajectory[10]}},
		{"older result without a sharpness after step 0", unmeasured, nil},
		{"no trajectory", engine.Result{FinalBias: 1}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := store.Summary(tc.in)
			want := tc.in
			want.Trajectory = tc.traj
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Summary:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

// EachTrialResult walks a sweep's trials in Seq order with their results,
// whole or summarised as Summary does; the summaries' reads agree with it.
func TestEachTrialResult(t *testing.T) {
	t.Parallel()
	st := storetest.MustOpen(t)
	full := enginetest.FullResult(1000, -0.5)
	full.MaxEOSRatioAfterInit = 1.2
	full.Metrics = map[string]float64{"x": 1}
	legacy := enginetest.FullResult(1000, -0.25)
	results := map[int]engine.Result{0: full, 2: legacy} // trial 1 has none
	var trials []store.Trial
	for i := range 3 {
		tr := store.Trial{Sweep: "sw", ID: string(rune('a' + i)), Seq: 2 - i, State: store.Done, Params: map[string]float64{"eta": float64(i)}}
		trials = append(trials, tr)
		if err := st.Apply(must(store.TrialOp(tr))); err != nil {
			t.Fatal(err)
		}
		if r, ok := results[i]; ok {
			if err := st.Apply(must(store.ResultOp(tr, r))); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, fields := range []store.ResultFields{store.FullResults, store.Summaries} {
		var ids []string
		err := st.EachTrialResult("sw", fields, func(tr store.Trial, r *engine.Result) error {
			ids = append(ids, tr.ID)
			i := int(tr.ID[0] - 'a')
			want, ok := results[i]
			if fields == store.Summaries {
				want = store.Summary(want)
			}
			switch {
			case !reflect.DeepEqual(tr, trials[i]):
				t.Errorf("trial %+v, want %+v", tr, trials[i])
			case !ok && r != nil:
				t.Errorf("trial %s: result %+v, want none", tr.ID, r)
			case ok && (r == nil || !reflect.DeepEqual(*r, want)):
				t.Errorf("fields %d: trial %s: result\n got %+v\nwant %+v", fields, tr.ID, r, want)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(ids, []string{"c", "b", "a"}) {
			t.Errorf("fields %d: trials %v, want them in Seq order", fields, ids)
		}
	}
	some, err := st.SummariesFor(trials)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]engine.Result{"a": store.Summary(full), "c": store.Summary(legacy)}
	if !reflect.DeepEqual(some, want) {
		t.Errorf("summaries:\n %+v\nwant %+v", some, want)
	}
	stop := errors.New("stop")
	n := 0
	if err := st.EachTrialResult("sw", store.Summaries, func(store.Trial, *engine.Result) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("fn's error: got %v after %d trials, want it as it is after 1", err, n)
	}
	if err := st.EachTrialResult("none", store.Summaries, func(store.Trial, *engine.Result) error { return stop }); err != nil {
		t.Errorf("unknown sweep: %v", err)
	}
}
