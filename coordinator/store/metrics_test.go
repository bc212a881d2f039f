package store_test

import (
	"reflect"
	"testing"

	"github.com/eosweep/eosweep/coordinator/store"
	"github.com/eosweep/eosweep/coordinator/store/storetest"
	"github.com/eosweep/eosweep/engine"
)

// An exec trial's further metrics are stored with its result and read back.
func TestResultMetricsKept(t *testing.T) {
	t.Parallel()
	s := storetest.MustOpen(t)
	tr := store.Trial{Sweep: "sw1", ID: "t1", Params: map[string]float64{"eta": 1.5}, State: store.Done}
	res := engine.Result{FinalBias: -0.25, Metrics: map[string]float64{"val_loss": 0.125, "rank": 3}}
	if err := s.Apply(must(store.TrialOp(tr)), must(store.ResultOp(tr, res))); err != nil {
		t.Fatal(err)
	}
	got, err := s.Results("sw1")
	if err != nil || !reflect.DeepEqual(got["t1"].Metrics, res.Metrics) {
		t.Fatalf("results = %+v, %v", got, err)
	}
	byTrial, err := s.ResultsFor([]store.Trial{tr})
	if err != nil || !reflect.DeepEqual(byTrial["t1"].Metrics, res.Metrics) {
		t.Fatalf("ResultsFor = %+v, %v", byTrial, err)
	}
}
