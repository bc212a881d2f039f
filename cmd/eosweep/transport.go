package main

import (
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
)

// This file is the one place where gRPC servers and clients get their
// transport options (credentials, keepalive, reconnect backoff, retries).

// serverOptions returns the options of every eosweep gRPC server.
func serverOptions(cmd *cobra.Command) ([]grpc.ServerOption, error) {
	sec, err := securityServerOptions(cmd) // TLS, token (security.go)
	if err != nil {
		return nil, err
	}
	opts := []grpc.ServerOption{
		grpc.Creds(insecure.NewCredentials()),
		grpc.KeepaliveParams(keepalive.ServerParameters{
			Time:    30 * time.Second, // ping an idle client after this long
			Timeout: 10 * time.Second, // and drop it if the ping is not answered
		}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{
			MinTime:             10 * time.Second, // clients may ping at most this often
			PermitWithoutStream: true,             // idle workers may ping too
		}),
	}
	// Metrics interceptors first (observe.go), so refused calls are timed too.
	opts = append(metricsServerOptions(cmd), opts...)
	return append(opts, sec...), nil
}

// retryServiceConfig retries the idempotent reads on UNAVAILABLE. Leases,
// heartbeats and reports are retried by the worker itself, which knows
// which outcomes to keep.
const retryServiceConfig = `{
  "methodConfig": [{
    "name": [
      {"service": "eosweep.v1.CoordinatorService", "method": "GetSweep"},
      {"service": "eosweep.v1.CoordinatorService", "method": "ListSweeps"},
      {"service": "eosweep.v1.CoordinatorService", "method": "ListTrials"},
      {"service": "eosweep.v1.CoordinatorService", "method": "GetBoundary"}
    ],
    "retryPolicy": {
      "maxAttempts": 4,
      "initialBackoff": "0.1s",
      "maxBackoff": "2s",
      "backoffMultiplier": 2,
      "retryableStatusCodes": ["UNAVAILABLE"]
    }
  }]
}`

// dialOptions returns the options of every eosweep gRPC client.
func dialOptions(cmd *cobra.Command) ([]grpc.DialOption, error) {
	sec, err := securityDialOptions(cmd) // TLS, token (security.go)
	if err != nil {
		return nil, err
	}
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{
			Time:                30 * time.Second, // ping an idle connection after this long (≥ the server's MinTime)
			Timeout:             10 * time.Second, // and reconnect if the ping is not answered
			PermitWithoutStream: true,
		}),
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff: backoff.Config{ // reconnect: exponential backoff with jitter
				BaseDelay:  100 * time.Millisecond,
				Multiplier: 1.6,
				Jitter:     0.2,
				MaxDelay:   5 * time.Second,
			},
			MinConnectTimeout: 5 * time.Second,
		}),
		grpc.WithDefaultServiceConfig(retryServiceConfig),
	}
	opts = append(opts, metricsDialOptions(cmd)...)
	return append(opts, sec...), nil
}
