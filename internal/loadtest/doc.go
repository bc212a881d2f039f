// Package loadtest drives one real coordinator process with many simulated
// workers over loopback gRPC and checks that no result is lost or stored
// twice. Its only code is the test; see loadtest_test.go for the knobs:
//
//	EOSWEEP_LOAD_WORKERS=1000 EOSWEEP_LOAD_DURATION=60s go test -run TestLoad -v -timeout 30m ./internal/loadtest
//
// With EOSWEEP_LOAD_HOLD each simulated worker holds every batch that long,
// heartbeating it every TTL/3 (EOSWEEP_LOAD_LEASE_TTL sets --lease-ttl), and
// the Heartbeat latencies are reported too:
//
//	EOSWEEP_LOAD_WORKERS=1000 EOSWEEP_LOAD_DURATION=60s EOSWEEP_LOAD_HOLD=10s EOSWEEP_LOAD_LEASE_TTL=6s go test -run TestLoad -v -timeout 30m ./internal/loadtest
//
// EOSWEEP_LOAD_CONNS shares that many connections among the workers (default
// one each); 10,000 workers run as goroutines on 100 connections:
//
//	EOSWEEP_LOAD_WORKERS=10000 EOSWEEP_LOAD_CONNS=100 EOSWEEP_LOAD_DURATION=30s go test -run TestLoad -v -timeout 30m ./internal/loadtest
//
// The report gives results/s, p50/p99 per RPC and the coordinator's peak RSS.
//
// Without the variables it runs a short smoke version (50 workers, 3 s);
// with -short it is skipped (it builds and runs the eosweep binary).
package loadtest
