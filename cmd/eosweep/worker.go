package main

import (
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/spf13/cobra"

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
reconnects with exponential backoff when the coordinator is away. On SIGTERM
it stops leasing, lets running trials finish within --grace (then hands their
leases back) and exits.

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
	f.IntVar(&o.prefetch, "prefetch", 1, "trials per slot to lease ahead (more for very short trials)")
	f.DurationVar(&o.leaseWait, "lease-wait", 10*time.Second, "long-poll wait of one lease request")
	f.DurationVar(&o.grace, "grace", 30*time.Second, "on SIGTERM, how long running trials may take to finish")
	f.BoolVar(&o.allowExec, "allow-exec", false, "also run exec trials: the programs of model exec sweeps (runs code that submitters give)")
	f.StringSliceVar(&o.execAllow, "exec-allow", nil, "with --allow-exec, run only these programs (paths or names in PATH, comma-separated)")
	o.ops.bindMetrics(f) // observe.go
	return cmd
}

func runWorker(cmd *cobra.Command, d *deps, o *workerOptions) error {
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
	w := worker.New(pb.NewCoordinatorServiceClient(conn), worker.Config{ID: o.id, Parallel: o.parallel,
		Prefetch: o.prefetch, LeaseWait: o.leaseWait, Grace: o.grace, OnRun: onRun, Logger: log,
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
