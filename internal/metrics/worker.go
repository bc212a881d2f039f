package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Outcomes of a trial run by a worker, the values of the trials counter's label.
const (
	TrialOK        = "ok"        // ran to the end
	TrialDiverged  = "diverged"  // stopped early on a non-finite or exploding loss (still a result)
	TrialError     = "error"     // the engine returned an error: no result
	TrialCancelled = "cancelled" // stopped by the worker (lease lost, or shutdown past its grace)
)

// engineBuckets span 1 ms to about 35 minutes, each bound twice the one
// before (a quantile estimate is off by at most 2×; trials range from the
// tiny single model to relu at large widths).
var engineBuckets = prometheus.ExponentialBuckets(0.001, 2, 22)

// Worker holds a worker's metrics. A nil *Worker records nothing.
type Worker struct {
	trials        *prometheus.CounterVec
	engineSeconds prometheus.Histogram
}

// WorkerState is what a worker's gauges read at scrape time.
type WorkerState struct {
	// Held returns how many leases the worker holds (queued or running).
	Held func() int
	// Slots is how many trials the worker runs at once.
	Slots int
}

// NewWorker registers a worker's metrics on reg: eosweep_worker_trials_total,
// eosweep_worker_engine_seconds and the eosweep_worker_leases_held and
// eosweep_worker_slots gauges.
func NewWorker(reg prometheus.Registerer, st WorkerState) (*Worker, error) {
	w := &Worker{
		trials: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace,
			Subsystem: "worker",
			Name:      "trials_total",
			Help:      "Trials this worker ran, by outcome (ok, diverged, error, cancelled).",
		}, []string{"outcome"}),
		engineSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace,
			Subsystem: "worker",
			Name:      "engine_seconds",
			Help:      "Wall time of one trial in the engine.",
			Buckets:   engineBuckets,
		}),
	}
	for _, o := range []string{TrialOK, TrialDiverged, TrialError, TrialCancelled} {
		w.trials.WithLabelValues(o)
	}
	held := st.Held
	if held == nil {
		held = func() int { return 0 }
	}
	cs := []prometheus.Collector{w.trials, w.engineSeconds,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "worker", Name: "leases_held",
			Help: "Leases this worker holds, queued or running.",
		}, func() float64 { return float64(held()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "worker", Name: "slots",
			Help: "Trials this worker runs at once (--parallel).",
		}, func() float64 { return float64(st.Slots) }),
	}
	if err := Register(reg, cs...); err != nil {
		return nil, err
	}
	return w, nil
}

// TrialRun records one trial with its outcome and its time in the engine.
func (w *Worker) TrialRun(outcome string, engine time.Duration) {
	if w == nil {
		return
	}
	w.trials.WithLabelValues(outcome).Inc()
	w.engineSeconds.Observe(engine.Seconds())
}
