package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	"github.com/eosweep/eosweep/coordinator"
	"github.com/eosweep/eosweep/coordinator/boundary"
	"github.com/eosweep/eosweep/coordinator/scheduler"
	"github.com/eosweep/eosweep/coordinator/spec"
	"github.com/eosweep/eosweep/coordinator/store"
	"github.com/eosweep/eosweep/internal/transport"
	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
	"github.com/eosweep/eosweep/worker"
	"github.com/eosweep/eosweep/worker/execrun"
)

// runOptions are the flags of `eosweep run`.
type runOptions struct {
	db        string
	workers   int
	out       string
	quiet     bool
	scheduler schedulerFlags
	dashboard dashboardFlags
}

// errInterrupted is wrapped by the error of a command stopped by a signal.
var errInterrupted = errors.New("interrupted")

func newRunCmd(d *deps) *cobra.Command {
	var o runOptions
	cmd := &cobra.Command{
		Use:   "run SPEC [--db PATH] [--workers N] [--out DIR]",
		Short: "Run a sweep on this machine: embedded coordinator and workers",
		Long: `Run a sweep in one process: a coordinator on the bbolt file --db and --workers
local workers talking to it over an in-process gRPC connection. Shows its
progress on stderr (one line redrawn on a terminal, log lines otherwise),
prints the boundary table at the end, and with --out writes the report (CSV,
JSON, PNG) into DIR. Interrupted (exit status 130), killed, or run again, it
resumes from the file: completed trials are never run again, and the trials a
killed run had in flight start again at once.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runEmbedded(cmd, d.logger(), args[0], o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.db, "db", "eosweep.db", "bbolt store file (reused: running again resumes)")
	f.IntVar(&o.workers, "workers", runtime.NumCPU(), "trials to run at once")
	f.StringVar(&o.out, "out", "", "write the report (trials.csv, boundary.json, PNGs) into this directory")
	f.BoolVar(&o.quiet, "quiet", false, "no progress output")
	o.scheduler.bind(f)
	o.dashboard.bind(f, "127.0.0.1:0", "serve the read-only web dashboard on this address (port 0: a free one; empty: none)")
	return cmd
}

func runEmbedded(cmd *cobra.Command, log *slog.Logger, path string, o runOptions) error {
	if o.workers < 1 {
		return fmt.Errorf("flag --workers %d: want at least 1 (trials run at once)", o.workers)
	}
	text, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read spec: %w", err)
	}
	sp, err := spec.ParseNew(text, o.scheduler.maxTrials)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	// The spec given here is the user's own: its program, and only it, runs.
	var execRunner worker.ExecRunner
	if sp.Exec != nil {
		r, err := execrun.New(sp.Exec.Command[:1], 0, nil)
		if err != nil {
			return fmt.Errorf("%s: exec.command[0]: %w", path, err)
		}
		execRunner = r
		log.Info("exec sweep: every trial runs its program", "command", sp.Exec.Command)
	}
	c, err := coordinator.Open(coordinator.Config{DBPath: o.db, Scheduler: embeddedScheduler(o.scheduler.config(nil))})
	if err != nil {
		return err
	}
	defer func() { _ = c.Shutdown(5 * time.Second) }()
	stopDashboard, err := o.dashboard.start(cmd.ErrOrStderr(), log, c, transport.ServerConfig{}) // dashboard.go
	if err != nil {
		return err
	}
	defer stopDashboard()
	conn, err := c.InProcessConn() // closed by Shutdown
	if err != nil {
		return err
	}
	cl := pb.NewCoordinatorServiceClient(conn)
	ctx := cmd.Context()
	sub, err := cl.SubmitSweep(ctx, &pb.SubmitSweepRequest{SpecYaml: string(text)})
	if err != nil {
		return fmt.Errorf("submit %s: %w", path, err)
	}
	sw := sub.GetSweep()
	doneBefore := sw.GetProgress().GetDone()
	if sub.GetCreated() {
		log.Info("sweep created", "sweep", sw.GetId(), "name", sw.GetName(), "trials", sw.GetProgress().GetTotal(), "store", o.db, "workers", o.workers)
	} else {
		log.Info("sweep resumed", "sweep", sw.GetId(), "name", sw.GetName(), "done", doneBefore, "trials", sw.GetProgress().GetTotal(),
			"store", o.db, "workers", o.workers)
	}

	onRun, closeLog, err := trialLog()
	if err != nil {
		return err
	}
	defer closeLog()
	workCtx, stopWork := context.WithCancel(ctx)
	w := worker.New(cl, worker.Config{ID: "embedded", Parallel: o.workers, Prefetch: 2, LeaseWait: time.Second,
		Grace: 2 * time.Second, OnRun: onRun, Logger: log, Exec: execRunner})
	workerDone := make(chan struct{})
	go func() { defer close(workerDone); _ = w.Run(workCtx) }()
	var view *progressView
	if !o.quiet {
		view = newProgressView(cmd.ErrOrStderr(), log, sw)
	}
	final, err := watch(ctx, cl, sw.GetId(), view)
	stopWork()
	<-workerDone // every result the worker reported is stored now
	if ctx.Err() != nil {
		return interrupted(c, sw)
	}
	if err != nil {
		return err
	}
	if final.GetState() != pb.SweepState_SWEEP_STATE_DONE {
		return fmt.Errorf("sweep %s ended %s", sw.GetId(), stateText(final))
	}
	p := final.GetProgress()
	if view != nil {
		view.finish(final, p.GetDone()-doneBefore)
	}
	log.Info("sweep done", "sweep", sw.GetId(), "state", stateText(final), "trials", p.GetTotal(), "failed", p.GetFailed(),
		"run_now", w.Executions())
	return finishRun(cmd, conn, sw.GetId(), o.out)
}

// interrupted says how far an interrupted run got, counting the trials
// stored (the worker has stopped, so none is in flight), and how to go on.
func interrupted(c *coordinator.Coordinator, sw *pb.Sweep) error {
	done, all := 0, 0
	err := c.Store.EachTrialHead(sw.GetId(), func(t store.Trial) error { // the states only
		all++
		if t.State == store.Done {
			done++
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%w: run the same command again to resume", errInterrupted)
	}
	return fmt.Errorf("%w: %d of %d trials stored; run the same command again to resume", errInterrupted, done, all)
}

// embeddedScheduler is the scheduler of an embedded run: the leases its store
// holds belonged to the workers of a previous run of this command, which died
// with it, so they are released at once rather than held for re-adoption.
func embeddedScheduler(c scheduler.Config) scheduler.Config {
	c.ReleaseOnLoad = true
	return c
}

// watch follows the sweep's progress on view (nil: silently) until it
// leaves RUNNING, and returns its last state.
func watch(ctx context.Context, cl pb.CoordinatorServiceClient, id string, view *progressView) (*pb.Sweep, error) {
	var last *pb.Sweep
	err := (&remote{cl: cl}).Watch(ctx, id, func(s *pb.Sweep) error {
		last = s
		if view != nil && s.GetState() == pb.SweepState_SWEEP_STATE_RUNNING {
			view.update(s)
		}
		return nil
	})
	return last, err
}

// finishRun prints the boundary table and, with out, writes the report. With
// out the trials are fetched and analysed once, for both.
func finishRun(cmd *cobra.Command, conn *grpc.ClientConn, id, out string) error {
	src := &remote{conn: conn, cl: pb.NewCoordinatorServiceClient(conn)}
	var groups []boundary.Group
	if out == "" {
		var err error
		if groups, err = src.Boundary(cmd.Context(), id); err != nil {
			return err
		}
	} else {
		data, err := src.Finished(cmd.Context(), id)
		if err != nil {
			return err
		}
		if groups, err = writeReport(cmd, data, reportOptions{out: out}); err != nil {
			return err
		}
	}
	return boundary.WriteTable(cmd.OutOrStdout(), groups)
}
