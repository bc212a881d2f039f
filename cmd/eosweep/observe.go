package main

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/eosweep/eosweep/coordinator/scheduler"
	"github.com/eosweep/eosweep/engine"
	"github.com/eosweep/eosweep/internal/metrics"
	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
	"github.com/eosweep/eosweep/worker"
)

// Flags of the operational endpoints of the long-running commands.
const (
	flagMetricsListen = "metrics-listen"
	flagHealthListen  = "health-listen"
)

// addMetricsFlag registers --metrics-listen (coordinator, worker).
func addMetricsFlag(cmd *cobra.Command) {
	cmd.Flags().String(flagMetricsListen, "", "serve Prometheus metrics at http://ADDR/metrics, e.g. :7872 (empty: off)")
}

// addHealthListenFlag registers --health-listen (coordinator).
func addHealthListenFlag(cmd *cobra.Command) {
	cmd.Flags().String(flagHealthListen, "", "also serve the gRPC health service on ADDR, plaintext and without token (Kubernetes probes), e.g. :7871")
}

// observability is the process's metric sets, created on first use.
var observability struct {
	once      sync.Once
	reg       *prometheus.Registry
	serverRPC *metrics.RPC
	clientRPC *metrics.RPC
	coord     *metrics.Coordinator
	worker    *metrics.Worker
	sched     atomic.Pointer[scheduler.Scheduler] // source of the trial-state gauge
}

func initObservability() {
	o := &observability
	o.once.Do(func() {
		o.reg = metrics.NewRegistry()
		o.serverRPC = metrics.NewServerRPC(o.reg)
		o.clientRPC = metrics.NewClientRPC(o.reg)
		o.coord = metrics.NewCoordinator(o.reg, trialCounts)
		o.worker = metrics.NewWorker(o.reg)
	})
}

// metricsOn reports whether cmd serves metrics.
func metricsOn(cmd *cobra.Command) bool {
	on := flagString(cmd.Flags(), flagMetricsListen) != ""
	if on {
		initObservability()
	}
	return on
}

// coordinatorMetrics returns the coordinator's metric set, nil when off.
func coordinatorMetrics(cmd *cobra.Command) *metrics.Coordinator {
	if !metricsOn(cmd) {
		return nil
	}
	return observability.coord
}

// observeScheduler makes s the source of the trial-state gauge.
func observeScheduler(s *scheduler.Scheduler) { observability.sched.Store(s) }

// trialCounts sums the trials of every sweep per state.
func trialCounts() map[string]int {
	s := observability.sched.Load()
	if s == nil {
		return nil
	}
	var total scheduler.Progress
	for _, sw := range s.Sweeps() {
		total.Add(sw.Progress)
	}
	return total.ByState()
}

// metricsServerOptions times every RPC and counts stored and duplicate
// results from ReportResult's answers. It goes first, so refused RPCs count too.
func metricsServerOptions(cmd *cobra.Command) []grpc.ServerOption {
	if !metricsOn(cmd) {
		return nil
	}
	count := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		resp, err := h(ctx, req)
		if r, ok := resp.(*pb.ReportResultResponse); ok && err == nil {
			var stored, dup int
			for _, o := range r.GetOutcomes() {
				switch o.GetStatus() {
				case pb.ReportStatus_REPORT_STATUS_ACCEPTED:
					stored++
				case pb.ReportStatus_REPORT_STATUS_DUPLICATE:
					dup++
				}
			}
			observability.coord.Result(metrics.OutcomeStored, stored)
			observability.coord.Result(metrics.OutcomeDuplicate, dup)
		}
		return resp, err
	}
	return append(observability.serverRPC.ServerOptions(), grpc.ChainUnaryInterceptor(count))
}

// metricsDialOptions times every unary call of a client.
func metricsDialOptions(cmd *cobra.Command) []grpc.DialOption {
	if !metricsOn(cmd) {
		return nil
	}
	return observability.clientRPC.DialOptions()
}

// timedRunner wraps the engine to count trials and engine time; nil when
// metrics are off (the worker then calls the engine directly).
func timedRunner(cmd *cobra.Command) worker.Runner {
	if !metricsOn(cmd) {
		return nil
	}
	wm := observability.worker
	return worker.RunnerFunc(func(ctx context.Context, cfg engine.Config) (engine.Result, error) {
		start := time.Now()
		r, err := engine.Run(ctx, cfg)
		outcome := metrics.TrialOK
		switch {
		case err != nil:
			outcome = metrics.TrialError
		case r.Diverged:
			outcome = metrics.TrialDiverged
		}
		wm.TrialRun(outcome, time.Since(start))
		return r, err
	})
}

// startOps starts the metrics endpoint and, given a health server, the
// plaintext health listener, as the command's flags ask. stop ends both.
func startOps(cmd *cobra.Command, hs *health.Server) (stop func(), err error) {
	log := logger()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	stop = func() { cancel(); wg.Wait() }
	if addr := flagString(cmd.Flags(), flagMetricsListen); addr != "" {
		initObservability()
		lis, err := metrics.Listen(addr)
		if err != nil {
			stop()
			return nil, err
		}
		wg.Go(func() {
			if err := metrics.Serve(ctx, lis, observability.reg, log); err != nil {
				log.Error("metrics endpoint stopped", "err", err)
			}
		})
	}
	if addr := flagString(cmd.Flags(), flagHealthListen); addr != "" && hs != nil {
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
