// Package metrics exposes eosweep's Prometheus metrics: the coordinator's trial
// states, lease expiries, stored results and RPC latencies, and the worker's
// trials run and engine time.
//
// # Basics
//
// Create a registry with NewRegistry, the metric sets with NewCoordinator,
// NewWorker and NewRPC, and serve it with Serve (GET /metrics). Every method of
// a metric set is safe on a nil receiver, so code records unconditionally and
// metrics are simply off when no set was created.
//
// Results per second is rate(eosweep_results_total{outcome="stored"}[1m]).
//
// # Caveats
//
// The trial-state gauge is read at scrape time from a callback, so it is as
// fresh as the coordinator's own counts and never drifts; the callback must be
// cheap and safe to call from the HTTP server's goroutine.
//
// /metrics carries no authentication: serve it on a port that only the
// monitoring network reaches.
package metrics
