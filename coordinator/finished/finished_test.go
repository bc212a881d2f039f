package finished_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/eosweep/eosweep/coordinator/boundary"
	"github.com/eosweep/eosweep/coordinator/finished"
	"github.com/eosweep/eosweep/coordinator/spec"
	"github.com/eosweep/eosweep/coordinator/store"
	"github.com/eosweep/eosweep/coordinator/store/storetest"
	"github.com/eosweep/eosweep/engine"
)

// A sweep with a trial in every state, each but the first pending one with a
// result stored: only DONE trials with a result are finished, in Seq order;
// the others are missing, with their state, attempt and last error.
func sweep(t *testing.T, st *store.Store) (want []boundary.Trial) {
	return sweepSet(t, st).Done
}

func sweepSet(t *testing.T, st *store.Store) (want finished.Set) {
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
		tr := store.Trial{Sweep: "sw", ID: string(rune('a' + i)), Seq: i, State: state, Attempt: i,
			Params: map[string]float64{"eta": float64(i + 1), "seed": 0}}
		if state == store.Failed {
			tr.LastError = "engine: boom"
		}
		add(store.TrialOp(tr))
		missing := boundary.MissingTrial{ID: tr.ID, Params: tr.Params, State: strings.ToLower(state.String()),
			Attempt: i, Error: tr.LastError}
		if i == 0 || i == 6 { // a pending trial with no result; a DONE one without one
			if i == 6 {
				missing.Error = "no stored result"
			}
			want.Missing = append(want.Missing, missing)
			continue
		}
		res := engine.Result{FinalBias: -float64(i), StepsRun: 10, Trajectory: []engine.Point{{Step: 0}}}
		add(store.ResultOp(tr, res))
		if state == store.Done {
			// Read reads summaries: the trajectory is left out
			want.Done = append(want.Done, boundary.Trial{ID: tr.ID, Params: tr.Params, Result: store.Summary(res)})
		} else {
			want.Missing = append(want.Missing, missing)
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

func TestRead(t *testing.T) {
	t.Parallel()
	st := storetest.MustOpen(t)
	want := sweepSet(t, st)
	got, err := finished.Read(st, "sw")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("read:\n got %+v\nwant %+v", got, want)
	}
	if len(want.Missing) != 5 {
		t.Fatalf("fixture: %d missing, want 5", len(want.Missing))
	}
}

// EachTrajectory gives the finished trials' whole trajectories, which Read
// leaves out, in insertion order.
func TestEachTrajectory(t *testing.T) {
	t.Parallel()
	st := storetest.MustOpen(t)
	want := sweep(t, st)
	var got []string
	err := finished.EachTrajectory(st, "sw", func(id string, traj []engine.Point) error {
		if !reflect.DeepEqual(traj, []engine.Point{{Step: 0}}) {
			t.Errorf("trial %s: trajectory %+v", id, traj)
		}
		got = append(got, id)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, w := range want {
		ids = append(ids, w.ID)
		if w.Result.Trajectory != nil {
			t.Errorf("trial %s: Read kept the trajectory %+v", w.ID, w.Result.Trajectory)
		}
	}
	if !reflect.DeepEqual(got, ids) {
		t.Errorf("trajectories of %v, want %v", got, ids)
	}
	stop := errors.New("stop")
	if err := finished.EachTrajectory(st, "sw", func(string, []engine.Point) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("fn's error: got %v", err)
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

// AnalyzeSet places the missing trials in their groups.
func TestAnalyzeSet(t *testing.T) {
	t.Parallel()
	sp, err := spec.Parse([]byte("model: single\ngrid:\n  eta: [1, 2, 4]\n  seed: [0]\nparams: {steps: 10}\n"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := finished.AnalyzeSet(sp, finished.Set{Missing: []boundary.MissingTrial{{ID: "x"}}}); !errors.Is(err, finished.ErrNone) {
		t.Errorf("only missing trials: error %v, want ErrNone", err)
	}
	st := storetest.MustOpen(t)
	set := sweepSet(t, st)
	a, err := finished.AnalyzeSet(sp, set)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Groups) != 1 || len(a.Groups[0].Missing) != len(set.Missing) || !a.Groups[0].Incomplete || len(a.Missing) != len(set.Missing) {
		t.Errorf("groups %+v", a.Groups)
	}
}
