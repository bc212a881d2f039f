// Package coordinator runs the eosweep coordinator: a bbolt store, the lease
// scheduler and the gRPC CoordinatorService with the standard health service
// (and, when asked, server reflection and the web dashboard).
//
// # Basics
//
// Open opens the store, reloads the scheduler from it and builds the gRPC
// server; Serve serves it on a listener; Shutdown marks the service not
// serving, stops the scheduler, drains RPCs for a grace period and closes the
// store. InProcessConn gives a client connection to the same server without
// a socket (eosweep run, tests).
//
// The handlers (server.go for clients, worker_api.go for workers) only
// translate: they check the request's shape (required fields, bounds), call
// the scheduler or read the store, and map errors onto status codes
// (grpcError). The scheduler (package scheduler) owns every state change.
// Results cross the wire through package wire, boundary groups through
// package boundarypb, sweeps and trials through convert.go.
//
// # Caveats
//
// Two handlers read the store directly, never to change it: ListTrials reads
// the results of its page, and GetBoundary reads a sweep's trials and results
// through package finished and analyses them under the sweep's spec. They see
// what is durable: a result the scheduler has accepted but not yet committed
// (up to one group commit) is not among them, though the sweep's progress
// already counts it. Everything else — sweeps, progress, leases — comes from
// the scheduler's memory.
package coordinator
