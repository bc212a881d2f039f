package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Outcomes of a reported result, the values of the results counter's label.
const (
	OutcomeStored    = "stored"    // first valid report of a trial: stored
	OutcomeDuplicate = "duplicate" // a later report of a finished trial: acknowledged, not stored
)

// Coordinator holds the coordinator's metrics. A nil *Coordinator records nothing.
type Coordinator struct {
	leaseExpiries prometheus.Counter
	results       *prometheus.CounterVec
}

// NewCoordinator registers the coordinator's metrics on reg. trials returns the
// number of trials per state (e.g. "pending", "leased", "done", "failed"); it
// is called at every scrape and may be nil when no store is open yet.
func NewCoordinator(reg prometheus.Registerer, trials func() map[string]int) *Coordinator {
	c := &Coordinator{
		leaseExpiries: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace,
			Name:      "lease_expiries_total",
			Help:      "Leases that missed their heartbeat deadline and went back to pending.",
		}),
		results: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace,
			Name:      "results_total",
			Help:      "Trial results reported by workers, by outcome (stored or duplicate).",
		}, []string{"outcome"}),
	}
	// Start both series at zero so rate() works from the first scrape.
	c.results.WithLabelValues(OutcomeStored)
	c.results.WithLabelValues(OutcomeDuplicate)
	reg.MustRegister(c.leaseExpiries, c.results, &stateCollector{counts: trials})
	return c
}

// LeaseExpired records n leases that expired.
func (c *Coordinator) LeaseExpired(n int) {
	if c == nil || n <= 0 {
		return
	}
	c.leaseExpiries.Add(float64(n))
}

// Result records n reports with the given outcome (OutcomeStored or OutcomeDuplicate).
func (c *Coordinator) Result(outcome string, n int) {
	if c == nil || n <= 0 {
		return
	}
	c.results.WithLabelValues(outcome).Add(float64(n))
}

// stateCollector turns the coordinator's own per-state counts into a gauge at
// scrape time.
type stateCollector struct {
	counts func() map[string]int
}

var trialsDesc = prometheus.NewDesc(
	prometheus.BuildFQName(namespace, "", "trials"),
	"Trials in the store, by state.",
	[]string{"state"}, nil,
)

// Describe sends the gauge's descriptor.
func (s *stateCollector) Describe(ch chan<- *prometheus.Desc) { ch <- trialsDesc }

// Collect reads the counts and sends one gauge sample per state.
func (s *stateCollector) Collect(ch chan<- prometheus.Metric) {
	if s.counts == nil {
		return
	}
	for state, n := range s.counts() {
		ch <- prometheus.MustNewConstMetric(trialsDesc, prometheus.GaugeValue, float64(n), state)
	}
}
