package main

import (
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/eosweep/eosweep/internal/transport"
	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
	"github.com/eosweep/eosweep/worker"
	"github.com/eosweep/eosweep/worker/execrun"
)

// trialLogEnv names a file to which the worker appends "SWEEP TRIAL" for
// every engine execution: the fault tests count executions with it.
const trialLogEnv = "EOSWEEP_TRIAL_LOG"

// workerOptions are the flags of `eosweep worker`.
type workerOptions struct {
	coord     dialFlags
	id        string
	parallel  int
	prefetch  int
	leaseWait time.Duration
	grace     time.Duration
	idle      time.Duration
	untilDone string
	allowExec bool
	execAllow []string
	ops       opsFlags
}

func newWorkerCmd(d *deps) *cobra.Command {
	var o workerOptions
	cmd := &cobra.Command{
		Use:   "worker --coordinator ADDR [--parallel N]",
		Short: "Lease trials from a coordinator, run them, report the results",
		Long: `Run a worker: it leases trials from the coordinator, runs them on the engine
(--parallel at once), heartbeats its leases and reports the results. It
reconnects with exponential backoff when the coordinator is away, logging
"cannot reach ADDR" at every retry, and exits non-zero when the coordinator
refuses it for good (wrong token, refused TLS). On SIGTERM it stops leasing,
lets running trials finish within --grace (then hands their leases back) and
exits. With --exit-when-idle or --until-done it also exits by itself once there
is no work left (batch jobs).

With --allow-exec it also takes the trials of exec sweeps: it runs their
program, each in its own process group, which is killed (SIGTERM, then
SIGKILL) when the lease is lost, the sweep cancelled, the trial's timeout
passes or the worker drains. Without it, the coordinator never hands it one.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runWorker(cmd, d, &o) },
	}
	f := cmd.Flags()
	o.coord.bind(f, "127.0.0.1:7870", "coordinator address HOST:PORT") // security.go
	f.StringVar(&o.id, "id", "", "worker name in leases and logs (default HOST-PID)")
	f.IntVar(&o.parallel, "parallel", runtime.NumCPU(), "trials to run at once")
	f.IntVar(&o.prefetch, "prefetch", 0, "trials per slot to hold, running and leased ahead (0: chosen from the trials' run time and the coordinator's round trip; 1: none ahead)")
	f.DurationVar(&o.leaseWait, "lease-wait", 10*time.Second, "long-poll wait of one lease request")
	f.DurationVar(&o.grace, "grace", 30*time.Second, "on SIGTERM, how long draining may take: running trials finish or are handed back (keep it below the scheduler's kill deadline)")
	f.DurationVar(&o.idle, "exit-when-idle", 0, "exit 0 once no sweep has been running for this long (0: never; for batch jobs)")
	f.StringVar(&o.untilDone, "until-done", "", "exit 0 once this sweep is done or cancelled")
	f.BoolVar(&o.allowExec, "allow-exec", false, "also run exec trials: the programs of model exec sweeps (runs code that submitters give)")
	f.StringSliceVar(&o.execAllow, "exec-allow", nil, "with --allow-exec, run only these programs (paths or names in PATH, comma-separated)")
	o.ops.bindMetrics(f) // observe.go
	return cmd
}

func runWorker(cmd *cobra.Command, d *deps, o *workerOptions) error {
	if o.parallel < 1 {
		return fmt.Errorf("flag --parallel %d: want at least 1 (trials run at once)", o.parallel)
	}
	if err := o.coord.required(); err != nil {
		return err
	}
	if err := transport.CheckAddress(o.coord.addr); err != nil {
		return fmt.Errorf("flag --coordinator: %w", err)
	}
	log := d.logger()
	execRun, err := execRunner(o, log)
	if err != nil {
		return err
	}
	obs := o.ops.observer() // nil when metrics are off
	dopts, err := obs.dialOptions()
	if err != nil {
		return err
	}
	conn, err := o.coord.dial(dopts...)
	if err != nil {
		return err
	}
	defer conn.Close()
	onRun, closeLog, err := trialLog()
	if err != nil {
		return err
	}
	defer closeLog()
	stopOps, err := startOps(log, o.ops, obs, nil) // metrics endpoint (observe.go)
	if err != nil {
		return err
	}
	defer stopOps()
	w := worker.New(pb.NewCoordinatorServiceClient(conn), worker.Config{ID: o.id, Coordinator: o.coord.addr, Parallel: o.parallel,
		Prefetch: o.prefetch, LeaseWait: o.leaseWait, Grace: o.grace, ExitWhenIdle: o.idle, UntilDone: o.untilDone,
		OnRun: onRun, Logger: log,
		Metrics: obs.registerer(), Exec: execRun})
	return w.Run(cmd.Context())
}

// execRunner is the worker's exec runner: nil without --allow-exec.
func execRunner(o *workerOptions, log *slog.Logger) (worker.ExecRunner, error) {
	if !o.allowExec {
		if len(o.execAllow) > 0 {
			return nil, fmt.Errorf("flag --exec-allow: only with --allow-exec")
		}
		return nil, nil
	}
	r, err := execrun.New(o.execAllow, 0, log)
	if err != nil {
		return nil, fmt.Errorf("flag --exec-allow: %w", err)
	}
	log.Warn("worker runs exec trials: programs given by sweep submitters", "exec_allow", o.execAllow)
	return r, nil
}

// trialLog opens the execution log named by EOSWEEP_TRIAL_LOG, if any.
func trialLog() (func(sweep, trial string), func(), error) {
	path := os.Getenv(trialLogEnv)
	if path == "" {
		return nil, func() {}, nil
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", trialLogEnv, err)
	}
	var mu sync.Mutex
	onRun := func(sweep, trial string) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(f, "%s %s\n", sweep, trial) // one O_APPEND write per line
	}
	return onRun, func() { _ = f.Close() }, nil
}
