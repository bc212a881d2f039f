package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	"github.com/eosweep/eosweep/coordinator"
	"github.com/eosweep/eosweep/coordinator/boundary"
	"github.com/eosweep/eosweep/coordinator/spec"
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
}

func newRunCmd() *cobra.Command {
	var o runOptions
	cmd := &cobra.Command{
		Use:   "run SPEC [--db PATH] [--workers N] [--out DIR]",
		Short: "Run a sweep on this machine: embedded coordinator and workers",
		Long: `Run a sweep in one process: a coordinator on the bbolt file --db and --workers
local workers talking to it over an in-process gRPC connection. Shows a
progress bar with ETA on stderr, prints the boundary table at the end, and with
--out writes the report (CSV, JSON, PNG) into DIR. Interrupted, or run again,
it resumes from the file: completed trials are never run again.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runEmbedded(cmd, args[0], o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.db, "db", "eosweep.db", "bbolt store file (reused: running again resumes)")
	f.IntVar(&o.workers, "workers", runtime.NumCPU(), "trials to run at once")
	f.StringVar(&o.out, "out", "", "write the report (trials.csv, boundary.json, PNGs) into this directory")
	f.BoolVar(&o.quiet, "quiet", false, "no progress bar")
	o.scheduler.bind(f)
	return cmd
}

func runEmbedded(cmd *cobra.Command, path string, o runOptions) error {
	text, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read spec: %w", err)
	}
	sp, err := spec.Parse(text, o.scheduler.maxTrials)
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
		fmt.Fprintf(cmd.ErrOrStderr(), "exec sweep: every trial runs %q\n", sp.Exec.Command)
	}
	c, err := coordinator.Open(coordinator.Config{DBPath: o.db, Scheduler: o.scheduler.config(nil)})
	if err != nil {
		return err
	}
	defer func() { _ = c.Shutdown(5 * time.Second) }()
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
	verb := "created"
	if !sub.GetCreated() {
		verb = fmt.Sprintf("resumed (%d of %d trials already done)", sw.GetProgress().GetDone(), sw.GetProgress().GetTotal())
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "sweep %s (%s) %s, store %s, %d workers\n", sw.GetId(), sw.GetName(), verb, o.db, o.workers)

	onRun, closeLog, err := trialLog()
	if err != nil {
		return err
	}
	defer closeLog()
	workCtx, stopWork := context.WithCancel(ctx)
	w := worker.New(cl, worker.Config{ID: "embedded", Parallel: o.workers, Prefetch: 2, LeaseWait: time.Second,
		Grace: 2 * time.Second, OnRun: onRun, Exec: execRunner})
	workerDone := make(chan struct{})
	go func() { defer close(workerDone); _ = w.Run(workCtx) }()
	final, err := watch(ctx, cmd, cl, sw.GetId(), o.quiet)
	stopWork()
	<-workerDone
	if err != nil || final.GetState() != pb.SweepState_SWEEP_STATE_DONE {
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted: run the same command again to resume (%d trials done)", final.GetProgress().GetDone())
		}
		if err != nil {
			return err
		}
		return fmt.Errorf("sweep %s ended %s", sw.GetId(), stateName(final.GetState()))
	}
	p := final.GetProgress()
	fmt.Fprintf(cmd.ErrOrStderr(), "sweep %s done: %d trials (%d failed), %d run now\n", sw.GetId(), p.GetTotal(), p.GetFailed(), w.Executions())
	return finishRun(cmd, conn, sw.GetId(), o.out)
}

// watch follows the sweep's progress with a progress bar until it leaves RUNNING.
func watch(ctx context.Context, cmd *cobra.Command, cl pb.CoordinatorServiceClient, id string, quiet bool) (*pb.Sweep, error) {
	stream, err := cl.WatchSweep(ctx, &pb.WatchSweepRequest{SweepId: id})
	if err != nil {
		return nil, fmt.Errorf("watch: %w", err)
	}
	var bar *progressbar.ProgressBar
	var last *pb.Sweep
	described := ""
	for {
		msg, err := stream.Recv()
		if err != nil {
			if bar != nil {
				_ = bar.Exit()
				fmt.Fprintln(cmd.ErrOrStderr())
			}
			if last != nil && last.GetState() != pb.SweepState_SWEEP_STATE_RUNNING {
				return last, nil
			}
			return last, fmt.Errorf("watch: %w", err)
		}
		last = msg.GetSweep()
		p := last.GetProgress()
		if quiet {
			continue
		}
		if bar == nil {
			bar = progressbar.NewOptions64(p.GetTotal(), progressbar.OptionSetWriter(cmd.ErrOrStderr()),
				progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true), progressbar.OptionSetWidth(30),
				progressbar.OptionShowIts(), progressbar.OptionSetItsString("trials"), progressbar.OptionThrottle(100*time.Millisecond))
			bar.StartWithoutRender()
		}
		if bar.GetMax64() != p.GetTotal() {
			bar.ChangeMax64(p.GetTotal())
		}
		if desc := fmt.Sprintf("round %d/%d", last.GetRound(), last.GetMaxRounds()); desc != described {
			bar.Describe(desc)
			described = desc
		}
		_ = bar.Set64(p.GetDone() + p.GetFailed())
	}
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
		if groups, err = writeReport(cmd, data, reportOptions{out: out, size: "900x620"}); err != nil {
			return err
		}
	}
	return boundary.WriteTable(cmd.OutOrStdout(), groups)
}
