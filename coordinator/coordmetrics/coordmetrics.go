// Package coordmetrics is the coordinator's Prometheus metric set: report
// outcomes and lease events counted where the scheduler decides them (it
// implements scheduler.Observer), per-sweep progress, workers and store
// commits read at scrape time, and the standard gRPC server metrics.
//
// # Basics
//
// New registers the counters and the gRPC metrics on a registry and is the
// scheduler's Observer; Watch adds the collector that reads the scheduler and
// the store at every scrape. Per-sweep series exist only for RUNNING sweeps:
// a sweep's series go away when it finishes or is cancelled, so cardinality
// is bounded by the sweeps running at once.
//
// # Caveats
//
// LeaseTrial (a long poll) and WatchSweep (a stream that lasts a sweep) are
// counted in grpc_server_handled_total but kept out of
// grpc_server_handling_seconds; the time a lease grant takes once there is
// work is eosweep_lease_grant_seconds.
package coordmetrics

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"

	"github.com/eosweep/eosweep/coordinator/scheduler"
	"github.com/eosweep/eosweep/coordinator/store"
	"github.com/eosweep/eosweep/internal/metrics"
)

const namespace = "eosweep"

// Outcomes of a report, the values of eosweep_results_total's label.
const (
	OutcomeStored    = "stored"    // first valid result of a trial: stored
	OutcomeDuplicate = "duplicate" // the trial already had a result: acknowledged, not stored
	OutcomeRejected  = "rejected"  // failed a check: not stored (see eosweep_rejected_reports_total)
	OutcomeError     = "error"     // the worker's engine error, recorded: the trial is retried or FAILED
	OutcomeReleased  = "released"  // the lease handed back: the trial is PENDING again
)

// Reasons of a rejected report, the values of eosweep_rejected_reports_total's label.
const (
	ReasonUnknownTrial  = "unknown_trial"  // no such trial in such a sweep
	ReasonTokenMismatch = "token_mismatch" // a token never issued for the trial
	ReasonLeaseNotHeld  = "lease_not_held" // an error or release for a lease no longer held
	ReasonInvalidResult = "invalid_result" // a result that failed validation
	ReasonMalformed     = "malformed"      // a report with no usable outcome
)

var (
	outcomes = []string{OutcomeStored, OutcomeDuplicate, OutcomeRejected, OutcomeError, OutcomeReleased}
	reasons  = []string{ReasonUnknownTrial, ReasonTokenMismatch, ReasonLeaseNotHeld, ReasonInvalidResult, ReasonMalformed}
)

// Metrics is the coordinator's metric set. Its methods are safe for
// concurrent use.
type Metrics struct {
	reg      prometheus.Registerer
	results  *prometheus.CounterVec
	rejected *prometheus.CounterVec
	expired  prometheus.Counter
	granted  prometheus.Counter
	grant    prometheus.Histogram
	rpc      []grpc.ServerOption
	workers  *workerSet
	started  time.Time
}

// New registers the coordinator's counters and the standard gRPC server
// metrics on reg.
func New(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		reg: reg,
		results: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "results_total",
			Help: "Trial reports by outcome: stored, duplicate, rejected, error (the worker's, recorded), released.",
		}, []string{"outcome"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "rejected_reports_total",
			Help: "Rejected trial reports by reason: unknown_trial, token_mismatch, lease_not_held, invalid_result, malformed.",
		}, []string{"reason"}),
		expired: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "lease_expiries_total",
			Help: "Leases that missed their heartbeat deadline and went back to pending (or failed).",
		}),
		granted: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "leases_granted_total",
			Help: "Leases handed out to workers.",
		}),
		grant: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace, Name: "lease_grant_seconds",
			Help: "Time a LeaseTrial call takes once there is work (claim and durable write), without the long poll's wait.",
			// 50 µs to about 6.5 s, each bound twice the one before.
			Buckets: prometheus.ExponentialBuckets(0.00005, 2, 18),
		}),
		workers: newWorkerSet(),
		started: time.Now(),
	}
	// Every series from the first scrape, so that rate() and absent() work.
	for _, o := range outcomes {
		m.results.WithLabelValues(o)
	}
	for _, r := range reasons {
		m.rejected.WithLabelValues(r)
	}
	if err := metrics.Register(reg, m.results, m.rejected, m.expired, m.granted, m.grant); err != nil {
		return nil, err
	}
	rpc, err := metrics.ServerRPC(reg)
	if err != nil {
		return nil, err
	}
	m.rpc = append(rpc, grpc.ChainUnaryInterceptor(m.workers.unary), grpc.ChainStreamInterceptor(m.workers.stream))
	return m, nil
}

// ServerOptions returns the interceptors that feed the gRPC metrics and the
// connected-workers gauge. They go before authentication, so refused calls
// count too.
func (m *Metrics) ServerOptions() []grpc.ServerOption { return m.rpc }

// Source is what the scrape-time collector reads: the scheduler.
type Source interface {
	Sweeps() []scheduler.SweepInfo
	LeaseTTL() time.Duration
}

// Watch registers the collector that reads src and commits (the store's
// counters) at every scrape.
func (m *Metrics) Watch(src Source, commits func() store.CommitStats) error {
	return metrics.Register(m.reg, &collector{m: m, src: src, commits: commits})
}

// Delivered implements scheduler.Observer.
func (m *Metrics) Delivered(rs []scheduler.Receipt) {
	var n [len(outcomesByVerdict)]int
	for _, r := range rs {
		if int(r.Verdict) < len(n) {
			n[r.Verdict]++
		}
		if r.Verdict == scheduler.Rejected {
			m.rejected.WithLabelValues(reason(r.Err)).Inc()
		}
	}
	for v, c := range n {
		if c > 0 && outcomesByVerdict[v] != "" {
			m.results.WithLabelValues(outcomesByVerdict[v]).Add(float64(c))
		}
	}
}

var outcomesByVerdict = [...]string{
	scheduler.Accepted:        OutcomeStored,
	scheduler.Duplicate:       OutcomeDuplicate,
	scheduler.Rejected:        OutcomeRejected,
	scheduler.FailureRecorded: OutcomeError,
	scheduler.Released:        OutcomeReleased,
}

// reason classifies a rejection by the sentinel its error wraps.
func reason(err error) string {
	switch {
	case errors.Is(err, scheduler.ErrUnknownTrial):
		return ReasonUnknownTrial
	case errors.Is(err, scheduler.ErrTokenMismatch):
		return ReasonTokenMismatch
	case errors.Is(err, scheduler.ErrNotOutstanding):
		return ReasonLeaseNotHeld
	case errors.Is(err, scheduler.ErrInvalidResult):
		return ReasonInvalidResult
	}
	return ReasonMalformed
}

// Leased implements scheduler.Observer.
func (m *Metrics) Leased(n int, d time.Duration) {
	m.granted.Add(float64(n))
	m.grant.Observe(d.Seconds())
}

// LeasesExpired implements scheduler.Observer.
func (m *Metrics) LeasesExpired(n int) { m.expired.Add(float64(n)) }

// workerSet tracks the workers that talk to the coordinator: when each was
// last seen (any RPC naming its worker_id) and its long polls in flight.
type workerSet struct {
	mu      sync.Mutex
	seen    map[string]time.Time
	polling map[string]int
	pruned  int // len(seen) after the last prune
}

func newWorkerSet() *workerSet {
	return &workerSet{seen: map[string]time.Time{}, polling: map[string]int{}}
}

type workerRequest interface{ GetWorkerId() string }

func (w *workerSet) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	r, ok := req.(workerRequest)
	if !ok || r.GetWorkerId() == "" {
		return h(ctx, req)
	}
	id := r.GetWorkerId()
	poll := strings.HasSuffix(info.FullMethod, "/LeaseTrial")
	w.begin(id, poll)
	defer w.end(id, poll)
	return h(ctx, req)
}

func (w *workerSet) stream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	return h(srv, ss) // no streaming RPC carries a worker id
}

func (w *workerSet) begin(id string, poll bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seen[id] = time.Now()
	if poll {
		w.polling[id]++
	}
	if len(w.seen) > 2*max(w.pruned, 512) {
		w.prune(time.Now().Add(-time.Hour))
	}
}

func (w *workerSet) end(id string, poll bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seen[id] = time.Now()
	if poll {
		if w.polling[id]--; w.polling[id] <= 0 {
			delete(w.polling, id)
		}
	}
}

// connected counts the workers in a long poll or seen since cutoff, and
// forgets the others. Callers hold w.mu.
func (w *workerSet) prune(cutoff time.Time) int {
	for id, at := range w.seen {
		if at.Before(cutoff) && w.polling[id] == 0 {
			delete(w.seen, id)
		}
	}
	w.pruned = len(w.seen)
	return len(w.seen)
}

func (w *workerSet) connected(cutoff time.Time) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.prune(cutoff)
}
