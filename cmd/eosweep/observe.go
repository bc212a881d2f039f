package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"
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

// observer returns the command's metric sets, or nil when metrics are off.
func (o *opsFlags) observer() *observer {
	if o.metricsListen == "" {
		return nil
	}
	return newObserver()
}

// observer holds one command's metric sets. Every method of a nil observer
// (metrics off) adds nothing.
type observer struct {
	reg       *prometheus.Registry
	serverRPC *metrics.RPC
	clientRPC *metrics.RPC
	coord     *metrics.Coordinator
	worker    *metrics.Worker
	sched     atomic.Pointer[scheduler.Scheduler] // source of the trial-state gauge
}

func newObserver() *observer {
	o := &observer{reg: metrics.NewRegistry()}
	o.serverRPC = metrics.NewServerRPC(o.reg)
	o.clientRPC = metrics.NewClientRPC(o.reg)
	o.coord = metrics.NewCoordinator(o.reg, o.trialCounts)
	o.worker = metrics.NewWorker(o.reg)
	return o
}

// coordinator returns the coordinator's metric set (nil-safe itself).
func (o *observer) coordinator() *metrics.Coordinator {
	if o == nil {
		return nil
	}
	return o.coord
}

// observe makes s the source of the trial-state gauge.
func (o *observer) observe(s *scheduler.Scheduler) {
	if o != nil {
		o.sched.Store(s)
	}
}

// trialCounts sums the trials of every sweep per state.
func (o *observer) trialCounts() map[string]int {
	s := o.sched.Load()
	if s == nil {
		return nil
	}
	var total scheduler.Progress
	for _, sw := range s.Sweeps() {
		total.Add(sw.Progress)
	}
	return total.ByState()
}

// serverOptions times every RPC and counts stored and duplicate results
// from ReportResult's answers. They go first, so refused RPCs count too.
func (o *observer) serverOptions() []grpc.ServerOption {
	if o == nil {
		return nil
	}
	count := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		resp, err := h(ctx, req)
		if r, ok := resp.(*pb.ReportResultResponse); ok && err == nil {
			var stored, dup int
			for _, oc := range r.GetOutcomes() {
				switch oc.GetStatus() {
				case pb.ReportStatus_REPORT_STATUS_ACCEPTED:
					stored++
				case pb.ReportStatus_REPORT_STATUS_DUPLICATE:
					dup++
				}
			}
			o.coord.Result(metrics.OutcomeStored, stored)
			o.coord.Result(metrics.OutcomeDuplicate, dup)
		}
		return resp, err
	}
	return append(o.serverRPC.ServerOptions(), grpc.ChainUnaryInterceptor(count))
}

// dialOptions times every unary call of a client.
func (o *observer) dialOptions() []grpc.DialOption {
	if o == nil {
		return nil
	}
	return o.clientRPC.DialOptions()
}

// runner wraps the engine to count trials and engine time; nil when metrics
// are off (the worker then calls the engine directly).
func (o *observer) runner() worker.Runner {
	if o == nil {
		return nil
	}
	wm := o.worker
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
