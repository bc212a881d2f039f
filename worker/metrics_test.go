package worker_test

import (
	"strings"
	"testing"
	"time"

	"github.com/eosweep/eosweep/coordinator/scheduler"
	"github.com/eosweep/eosweep/internal/metrics"
	"github.com/eosweep/eosweep/worker"
)

// A worker given a registry counts the trials it runs and their engine time
// there, holds no lease once stopped, and registers no coordinator series.
func TestWorkerMetrics(t *testing.T) {
	t.Parallel()
	c := start(t, 5*time.Second)
	id := submit(t, c, "model: single\ngrid: {eta: {linspace: [0.5, 3, 6]}}\nparams: {steps: 50}\n")
	reg := metrics.NewRegistry()
	cancel, done := run(t, worker.New(c, worker.Config{Parallel: 2, LeaseWait: 100 * time.Millisecond, Metrics: reg}))
	waitState(t, c, id, "6 trials done", func(p scheduler.Progress) bool { return p.Done == 6 })
	cancel()
	<-done
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range fams {
		if strings.HasPrefix(f.GetName(), "eosweep_") && !strings.HasPrefix(f.GetName(), "eosweep_worker_") && f.GetName() != "eosweep_build_info" {
			t.Errorf("a worker exports %s", f.GetName())
		}
		for _, m := range f.GetMetric() {
			key := f.GetName()
			for _, l := range m.GetLabel() {
				key += "/" + l.GetValue()
			}
			got[key] = m.GetCounter().GetValue() + m.GetGauge().GetValue() + float64(m.GetHistogram().GetSampleCount())
		}
	}
	for key, want := range map[string]float64{
		"eosweep_worker_trials_total/ok":    6,
		"eosweep_worker_trials_total/error": 0,
		"eosweep_worker_engine_seconds":     6,
		"eosweep_worker_leases_held":        0,
		"eosweep_worker_slots":              2,
	} {
		if got[key] != want {
			t.Errorf("%s = %v, want %v", key, got[key], want)
		}
	}
}
