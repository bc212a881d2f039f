package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Outcomes of a trial run by a worker, the values of the trials counter's label.
const (
	TrialOK       = "ok"       // ran to the end
	TrialDiverged = "diverged" // stopped early on a non-finite or exploding loss (still a result)
	TrialError    = "error"    // the engine returned an error: no result
)

// Worker holds a worker's metrics. A nil *Worker records nothing.
type Worker struct {
	trials        *prometheus.CounterVec
	engineSeconds prometheus.Histogram
}

// NewWorker registers a worker's metrics on reg.
func NewWorker(reg prometheus.Registerer) *Worker {
	w := &Worker{
		trials: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace,
			Subsystem: "worker",
			Name:      "trials_total",
			Help:      "Trials this worker ran, by outcome (ok, diverged, error).",
		}, []string{"outcome"}),
		engineSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace,
			Subsystem: "worker",
			Name:      "engine_seconds",
			Help:      "Wall time of one trial in the engine.",
			// 1 ms to about 30 minutes: trials range from the tiny single model to relu at large widths.
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 11),
		}),
	}
	for _, o := range []string{TrialOK, TrialDiverged, TrialError} {
		w.trials.WithLabelValues(o)
	}
	reg.MustRegister(w.trials, w.engineSeconds)
	return w
}

// TrialRun records one trial with its outcome and its time in the engine.
func (w *Worker) TrialRun(outcome string, engine time.Duration) {
	if w == nil {
		return
	}
	w.trials.WithLabelValues(outcome).Inc()
	w.engineSeconds.Observe(engine.Seconds())
}
