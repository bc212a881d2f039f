package main

import (
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/eosweep/eosweep/coordinator"
	"github.com/eosweep/eosweep/coordinator/scheduler"
)

// schedulerFlags are the scheduler's flags (coordinator, run).
type schedulerFlags struct {
	leaseTTL    time.Duration
	maxAttempts int
	maxTrials   int
}

func (s *schedulerFlags) bind(f *pflag.FlagSet) {
	f.DurationVar(&s.leaseTTL, "lease-ttl", scheduler.DefaultLeaseTTL, "a lease without heartbeat for this long goes back to PENDING (workers heartbeat every third of it)")
	f.IntVar(&s.maxAttempts, "max-attempts", 3, "leases a trial gets before it is FAILED")
	f.IntVar(&s.maxTrials, "max-trials", 100_000, "largest grid a spec may expand to")
}

func (s schedulerFlags) config(log *slog.Logger) scheduler.Config {
	return scheduler.Config{LeaseTTL: s.leaseTTL, MaxAttempts: s.maxAttempts, MaxTrials: s.maxTrials, Logger: log}
}

// coordinatorOptions are the flags of `eosweep coordinator`.
type coordinatorOptions struct {
	listen    string
	db        string
	grace     time.Duration
	scheduler schedulerFlags
	transport serverFlags
	ops       opsFlags
	dashboard dashboardFlags
}

func newCoordinatorCmd(d *deps) *cobra.Command {
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
		RunE: func(cmd *cobra.Command, _ []string) error { return runCoordinator(cmd, d.logger(), &o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", "127.0.0.1:7870", "address to serve gRPC on (port 0 picks a free port)")
	f.StringVar(&o.db, "db", "eosweep.db", "bbolt store file")
	o.scheduler.bind(f)
	f.DurationVar(&o.grace, "grace", 10*time.Second, "how long a shutdown waits for RPCs in flight")
	o.transport.bind(f)  // security.go
	o.ops.bindMetrics(f) // observe.go
	o.ops.bindHealth(f)
	o.dashboard.bind(f, "", "serve the read-only web dashboard on this address (a bare port binds 127.0.0.1; default off)")
	return cmd
}

func runCoordinator(cmd *cobra.Command, log *slog.Logger, o *coordinatorOptions) error {
	obs := o.ops.observer() // nil when metrics are off
	opts, err := o.transport.options()
	if err != nil {
		return err
	}
	tcfg, err := o.transport.config() // the dashboard's token and certificate
	if err != nil {
		return err
	}
	// Listen first: an address that cannot be served fails before the store
	// is opened, and nothing has to be stopped.
	lis, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", o.listen, err)
	}
	c, err := coordinator.Open(coordinator.Config{DBPath: o.db, Scheduler: o.scheduler.config(log), ServerOptions: opts,
		Metrics: obs.registerer(), Logger: log})
	if err != nil {
		lis.Close()
		return err
	}
	stopOps, err := startOps(log, o.ops, obs, c.Health) // metrics and health endpoints (observe.go)
	if err != nil {
		lis.Close()
		_ = c.Shutdown(o.grace) // nothing served yet: returns at once
		return err
	}
	defer stopOps()
	if host, _, err := net.SplitHostPort(o.listen); err == nil && !loopback(host) && !o.transport.secured() {
		log.Warn("serving without a token or TLS on a non-loopback address: anyone who can reach it can submit, cancel and read sweeps",
			"addr", lis.Addr().String(), "fix", "--token-file (and --tls-cert/--tls-key), or --listen 127.0.0.1:PORT")
	}
	// One parseable line on stdout: scripts and tests read the address from it.
	fmt.Fprintf(cmd.OutOrStdout(), "listening on %s\n", lis.Addr())
	stopDashboard, err := o.dashboard.start(cmd.OutOrStdout(), log, c, tcfg) // dashboard.go: a second line, "dashboard on URL"
	if err != nil {
		lis.Close()
		_ = c.Shutdown(o.grace) // nothing served yet: returns at once
		return err
	}
	defer stopDashboard()
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

// loopback reports whether host (from --listen) names only this machine.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
