package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/eosweep/eosweep/internal/metrics"
)

// Flags of the operational endpoints of the long-running commands.
const (
	flagMetricsListen = "metrics-listen"
	flagHealthListen  = "health-listen"
)

// opsFlags are the operational endpoints of a long-running command:
// Prometheus metrics (coordinator, worker) and the plaintext health listener
// (coordinator).
type opsFlags struct {
	metricsListen string
	healthListen  string
}

func (o *opsFlags) bindMetrics(f *pflag.FlagSet) {
	f.StringVar(&o.metricsListen, flagMetricsListen, "", "serve Prometheus metrics at http://ADDR/metrics, e.g. :7872 (empty: off)")
}

func (o *opsFlags) bindHealth(f *pflag.FlagSet) {
	f.StringVar(&o.healthListen, flagHealthListen, "", "also serve the gRPC health service on ADDR, plaintext and without token (Kubernetes probes), e.g. :7871")
}

// observer returns the command's metrics registry, or nil when metrics are off.
func (o *opsFlags) observer() *observer {
	if o.metricsListen == "" {
		return nil
	}
	return &observer{reg: metrics.NewRegistry()}
}

// observer is one process's metrics registry: the coordinator and the worker
// register their own sets on it (coordinator.Config.Metrics,
// worker.Config.Metrics), nothing else. A nil observer means metrics are off.
type observer struct {
	reg *prometheus.Registry
}

// registerer is where a process registers its metrics; nil when metrics are
// off (an untyped nil, so that the Config fields see no registry).
func (o *observer) registerer() prometheus.Registerer {
	if o == nil {
		return nil
	}
	return o.reg
}

// dialOptions registers the standard gRPC client metrics and returns the
// interceptors that feed them (none when metrics are off).
func (o *observer) dialOptions() ([]grpc.DialOption, error) {
	if o == nil {
		return nil, nil
	}
	return metrics.ClientRPC(o.reg)
}

// startOps starts the metrics endpoint (given an observer) and, given a
// health server, the plaintext health listener, as the flags ask. stop ends both.
func startOps(log *slog.Logger, f opsFlags, obs *observer, hs *health.Server) (stop func(), err error) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	stop = func() { cancel(); wg.Wait() }
	if obs != nil {
		lis, err := metrics.Listen(f.metricsListen)
		if err != nil {
			stop()
			return nil, err
		}
		wg.Go(func() {
			if err := metrics.Serve(ctx, lis, obs.reg, log); err != nil {
				log.Error("metrics endpoint stopped", "err", err)
			}
		})
	}
	if addr := f.healthListen; addr != "" && hs != nil {
		lis, err := net.Listen("tcp", addr)
		if err != nil {
			stop()
			return nil, fmt.Errorf("health listen %s: %w", addr, err)
		}
		srv := grpc.NewServer()
		healthpb.RegisterHealthServer(srv, hs)
		wg.Go(func() { _ = srv.Serve(lis) })
		wg.Go(func() { <-ctx.Done(); srv.Stop() })
		log.Info("serving health", "addr", lis.Addr().String())
	}
	return stop, nil
}
