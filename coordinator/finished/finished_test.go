package finished_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/eosweep/eosweep/coordinator/boundary"
	"github.com/eosweep/eosweep/coordinator/finished"
	"github.com/eosweep/eosweep/coordinator/spec"
	"github.com/eosweep/eosweep/coordinator/store"
	"github.com/eosweep/eosweep/coordinator/store/storetest"
	"github.com/eosweep/eosweep/engine"
)

// A sweep with a trial in every state, each but the first pending one with a
// result stored: only DONE trials with a result are finished, in Seq order.
func sweep(t *testing.T, st *store.Store) (want []boundary.Trial) {
	t.Helper()
	var ops []store.Op
	add := func(op store.Op, err error) {
		if err != nil {
			t.Fatal(err)
		}
		ops = append(ops, op)
	}
	states := []store.TrialState{store.Pending, store.Done, store.Leased, store.Done, store.Failed, store.Cancelled, store.Done}
	for i, state := range states {
		tr := store.Trial{Sweep: "sw", ID: string(rune('a' + i)), Seq: i, State: state,
			Params: map[string]float64{"eta": float64(i + 1), "seed": 0}}
		add(store.TrialOp(tr))
		if i == 0 || i == 6 { // a pending trial with no result; a DONE one without one
			continue
		}
		res := engine.Result{FinalBias: -float64(i), StepsRun: 10, Trajectory: []engine.Point{{Step: 0}}}
		add(store.ResultOp(tr, res))
		if state == store.Done {
			want = append(want, boundary.Trial{Params: tr.Params, Result: res})
		}
	}
	if err := st.Apply(ops...); err != nil {
		t.Fatal(err)
	}
	return want
}

func TestTrials(t *testing.T) {
	t.Parallel()
	st := storetest.MustOpen(t)
	want := sweep(t, st)
	got, err := finished.Trials(st, "sw")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("finished trials:\n got %+v\nwant %+v", got, want)
	}
	if none, err := finished.Trials(st, "unknown"); err != nil || len(none) != 0 {
		t.Errorf("unknown sweep: %v, %v; want none, no error", none, err)
	}
}

func TestAnalyze(t *testing.T) {
	t.Parallel()
	sp, err := spec.Parse([]byte("model: single\ngrid:\n  eta: [1, 2, 4]\n  seed: [0]\nparams: {steps: 10}\n"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := finished.Analyze(sp, nil); !errors.Is(err, finished.ErrNone) {
		t.Errorf("no trials: error %v, want ErrNone", err)
	}
	st := storetest.MustOpen(t)
	done := sweep(t, st)
	a, err := finished.Analyze(sp, done)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a.Options, sp.Analysis()) || len(a.Trials) != len(done) || len(a.OrderParameters) != len(done) || len(a.Groups) != 1 {
		t.Errorf("analysis: options %+v, %d trials, %d order parameters, %d groups", a.Options, len(a.Trials), len(a.OrderParameters), len(a.Groups))
	}
}
