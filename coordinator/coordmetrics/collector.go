package coordmetrics

import (
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eosweep/eosweep/coordinator/scheduler"
	"github.com/eosweep/eosweep/coordinator/store"
)

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(namespace, "", name), help, labels, nil)
}

// Descriptors of the series read at scrape time.
var (
	trialsDesc = desc("trials", "Trials of every sweep in the store, by state.", "state")
	sweepsDesc = desc("sweeps", "Sweeps in the store, by state (running, done, cancelled).", "state")

	sweepTrialsDesc = desc("sweep_trials", "Trials of a running sweep, by state (their sum grows with refinement rounds).", "sweep", "name", "state")
	sweepRoundDesc  = desc("sweep_round", "Refinement round of a running sweep (0 = the grid).", "sweep", "name")
	sweepRoundsDesc = desc("sweep_max_rounds", "Refinement rounds a running sweep may take.", "sweep", "name")
	sweepRateDesc   = desc("sweep_results_per_second", "Results stored per second for a running sweep over the last ~30 s.", "sweep", "name")
	sweepETADesc    = desc("sweep_eta_seconds", "Estimated seconds to finish a running sweep's current round at that rate (0 when unknown).", "sweep", "name")
	sweepLastDesc   = desc("sweep_last_result_timestamp_seconds",
		"Unix time of a running sweep's last stored result (the coordinator's start when none since).", "sweep", "name")

	workersDesc = desc("workers_connected", "Workers in a LeaseTrial long poll or seen within one lease TTL.")

	commitsDesc  = desc("store_commits_total", "Store transactions committed (group commits).")
	opsDesc      = desc("store_ops_total", "Records written by committed store transactions.")
	commitSecDes = desc("store_commit_seconds_total", "Time spent in store transactions, fsync included; mean commit latency is its rate over store_commits_total's.")
)

// collector reads the scheduler and the store at scrape time.
type collector struct {
	m       *Metrics
	src     Source
	commits func() store.CommitStats
}

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{trialsDesc, sweepsDesc, sweepTrialsDesc, sweepRoundDesc, sweepRoundsDesc,
		sweepRateDesc, sweepETADesc, sweepLastDesc, workersDesc, commitsDesc, opsDesc, commitSecDes} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	var total scheduler.Progress
	sweeps := map[string]int{}
	for _, s := range []store.SweepState{store.SweepRunning, store.SweepDone, store.SweepCancelled} {
		sweeps[stateName(s.String())] = 0
	}
	for _, info := range c.src.Sweeps() {
		total.Add(info.Progress)
		sweeps[stateName(info.Sweep.State.String())]++
		if info.Sweep.State != store.SweepRunning {
			continue
		}
		id, name, p := info.Sweep.ID, info.Sweep.Name, info.Progress
		for state, n := range p.ByState() {
			gauge(sweepTrialsDesc, float64(n), id, name, state)
		}
		gauge(sweepRoundDesc, float64(info.Sweep.Round), id, name)
		rounds := 0
		if info.Spec != nil {
			rounds = info.Spec.Boundary.Refine.Rounds
		}
		gauge(sweepRoundsDesc, float64(rounds), id, name)
		gauge(sweepRateDesc, p.ResultsPerSecond, id, name)
		gauge(sweepETADesc, p.ETA.Seconds(), id, name)
		last := p.LastResult
		if last.IsZero() {
			last = c.m.started
		}
		gauge(sweepLastDesc, float64(last.UnixNano())/1e9, id, name)
	}
	for state, n := range total.ByState() {
		gauge(trialsDesc, float64(n), state)
	}
	for state, n := range sweeps {
		gauge(sweepsDesc, float64(n), state)
	}
	gauge(workersDesc, float64(c.m.workers.connected(time.Now().Add(-c.src.LeaseTTL()))))
	if c.commits != nil {
		st := c.commits()
		counter(commitsDesc, float64(st.Commits))
		counter(opsDesc, float64(st.Ops))
		counter(commitSecDes, st.Busy.Seconds())
	}
}

// stateName is a store state's lower-case name without its kind prefix.
func stateName(s string) string { return strings.ToLower(s) }
