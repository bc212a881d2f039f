// Command eosweep runs sweeps of gradient-descent experiments and locates the
// step size at which a network learns a threshold neuron. newRootCmd builds
// the command tree; each subcommand lives in its own file as newXxxCmd, and
// gets what it needs from the process (output, logs) through deps.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCmd(&deps{stdout: os.Stdout, stderr: os.Stderr}).ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "eosweep:", err)
		os.Exit(1)
	}
}

// deps are what the commands take from their process: where output and logs
// go. newRootCmd binds the log level to the root's --log-level flag.
type deps struct {
	stdout   io.Writer
	stderr   io.Writer
	logLevel slog.Level
}

// logger returns a logger writing text to stderr at the --log-level (call it
// once the flags are parsed, as commands do in RunE).
func (d *deps) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(d.stderr, &slog.HandlerOptions{Level: d.logLevel}))
}

// newRootCmd builds the eosweep command tree on d (nil writers: the
// process's stdout and stderr).
func newRootCmd(d *deps) *cobra.Command {
	if d.stdout == nil {
		d.stdout = os.Stdout
	}
	if d.stderr == nil {
		d.stderr = os.Stderr
	}
	root := &cobra.Command{
		Use:           "eosweep",
		Short:         "Sweeps of gradient descent at the edge of stability",
		Long:          "eosweep runs grids of gradient-descent trials (step size × seed × width × …)\non one machine or many, and locates where a threshold neuron starts to be learned.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(d.stdout)
	root.SetErr(d.stderr)
	root.PersistentFlags().TextVar(&d.logLevel, "log-level", slog.LevelInfo, "least severe log level shown: debug (one line per trial), info, warn, error")
	root.AddCommand(
		newBoundaryCmd(),
		newCancelCmd(),
		newCoordinatorCmd(d),
		newDoctorCmd(),
		newHealthCmd(),
		newReportCmd(),
		newRunCmd(),
		newStatusCmd(),
		newSubmitCmd(),
		newTrialCmd(),
		newWorkerCmd(d),
	)
	return root
}
