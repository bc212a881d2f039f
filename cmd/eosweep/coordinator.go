package main

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/eosweep/eosweep/coordinator"
	"github.com/eosweep/eosweep/coordinator/scheduler"
)

func init() { rootCmd.AddCommand(newCoordinatorCmd()) }

type coordinatorOptions struct {
	listen      string
	db          string
	leaseTTL    time.Duration
	maxAttempts int
	maxTrials   int
	grace       time.Duration
}

func newCoordinatorCmd() *cobra.Command {
	var o coordinatorOptions
	cmd := &cobra.Command{
		Use:   "coordinator --listen ADDR --db PATH",
		Short: "Serve sweeps to workers (gRPC), storing everything in a bbolt file",
		Long: `Run the coordinator: it accepts sweeps (eosweep submit), leases their trials to
workers (eosweep worker), stores results in the bbolt file --db, and answers
status and boundary queries. Restarted on the same file, it carries on: leases
in flight are released (their workers may re-adopt them), completed trials are
never run again. SIGTERM/SIGINT stops it gracefully.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runCoordinator(cmd, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", "127.0.0.1:7870", "address to serve gRPC on (port 0 picks a free port)")
	f.StringVar(&o.db, "db", "eosweep.db", "bbolt store file")
	addSchedulerFlags(cmd, &o)
	f.DurationVar(&o.grace, "grace", 10*time.Second, "how long a shutdown waits for RPCs in flight")
	addServerSecurityFlags(cmd) // security.go
	addMetricsFlag(cmd)         // observe.go
	addHealthListenFlag(cmd)
	return cmd
}

func addSchedulerFlags(cmd *cobra.Command, o *coordinatorOptions) {
	f := cmd.Flags()
	f.DurationVar(&o.leaseTTL, "lease-ttl", 30*time.Second, "a lease without heartbeat for this long goes back to PENDING")
	f.IntVar(&o.maxAttempts, "max-attempts", 3, "leases a trial gets before it is FAILED")
	f.IntVar(&o.maxTrials, "max-trials", 100_000, "largest grid a spec may expand to")
}

func (o coordinatorOptions) schedulerConfig(log *slog.Logger) scheduler.Config {
	return scheduler.Config{LeaseTTL: o.leaseTTL, MaxAttempts: o.maxAttempts, MaxTrials: o.maxTrials, Logger: log}
}

// logLevel is the root --log-level flag: debug, info, warn or error.
var logLevel slog.Level

func init() {
	rootCmd.PersistentFlags().TextVar(&logLevel, "log-level", slog.LevelInfo, "least severe log level shown: debug (one line per trial), info, warn, error")
}

func logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel}))
}

func runCoordinator(cmd *cobra.Command, o coordinatorOptions) error {
	log := logger()
	opts, err := serverOptions(cmd)
	if err != nil {
		return err
	}
	sc := o.schedulerConfig(log)
	sc.OnExpire = coordinatorMetrics(cmd).LeaseExpired // a no-op when metrics are off
	c, err := coordinator.Open(coordinator.Config{DBPath: o.db, Scheduler: sc, ServerOptions: opts, Logger: log})
	if err != nil {
		return err
	}
	observeScheduler(c.Scheduler)
	stopOps, err := startOps(cmd, c.Health) // metrics and health endpoints (observe.go)
	if err != nil {
		_ = c.Shutdown(0)
		return err
	}
	defer stopOps()
	lis, err := net.Listen("tcp", o.listen)
	if err != nil {
		_ = c.Shutdown(0)
		return fmt.Errorf("listen %s: %w", o.listen, err)
	}
	// One parseable line on stdout: scripts and tests read the address from it.
	fmt.Fprintf(cmd.OutOrStdout(), "listening on %s\n", lis.Addr())
	served := make(chan error, 1)
	go func() { served <- c.Serve(lis) }()
	select {
	case err := <-served:
		_ = c.Shutdown(o.grace)
		return err
	case <-cmd.Context().Done():
		log.Info("coordinator stopping", "grace", o.grace)
		return c.Shutdown(o.grace)
	}
}
