// Package metrics holds what eosweep's processes share for Prometheus: the
// registry (Go runtime, process and eosweep_build_info), the /metrics
// endpoint, the standard gRPC server and client metrics of
// go-grpc-middleware, and the worker's metric set. The coordinator's set is
// package coordinator/coordmetrics.
//
// # Basics
//
// Each process creates one registry with NewRegistry and gives it to the
// part it runs (coordinator.Config.Metrics, worker.Config.Metrics), which
// registers its own metrics and nothing else; Serve exposes it (GET
// /metrics). ServerRPC and ClientRPC return the interceptors that feed the
// grpc_server_* and grpc_client_* families (labels grpc_type, grpc_service,
// grpc_method, grpc_code).
//
// # Caveats
//
// LeaseTrial (a long poll) and WatchSweep (a stream as long as a sweep) are
// counted but kept out of the handling-time histograms, where their wait
// would read as slowness.
//
// /metrics carries no authentication: serve it on a port that only the
// monitoring network reaches.
package metrics
