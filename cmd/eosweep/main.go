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
	"runtime/debug"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, caught := notifySignals()
	err := newRootCmd(&deps{stdout: os.Stdout, stderr: os.Stderr}).ExecuteContext(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "eosweep:", err)
	}
	os.Exit(exitCode(err, caught()))
}

// notifySignals returns a context cancelled at the first SIGINT or SIGTERM,
// and a function naming the signal caught (nil before one).
func notifySignals() (context.Context, func() os.Signal) {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	var caught atomic.Value
	go func() {
		s := <-sigs
		caught.Store(s)
		signal.Stop(sigs) // a second signal kills the process at once
		cancel()
	}()
	return ctx, func() os.Signal {
		s, _ := caught.Load().(os.Signal)
		return s
	}
}

// exitCode is 0 for success (a command that stopped gracefully on a signal
// included), 128 + the signal's number for a command a signal cut short (130
// for SIGINT, as shells report it), 1 for any other error.
func exitCode(err error, caught os.Signal) int {
	if err == nil {
		return 0
	}
	if s, ok := caught.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 1
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

// logLevels are --log-level's choices.
var logLevels = map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}

// version describes the binary from its build information: the module
// version ("(devel)" for a build from a checkout), the commit it was built
// from (marked "modified" when the tree had changes) and the Go version.
func version(bi *debug.BuildInfo, ok bool) string {
	if !ok || bi == nil {
		return "eosweep (no build information)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var commit, when string
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			commit = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	out := "eosweep " + v
	if commit != "" {
		out += " commit " + commit
		if modified {
			out += " (modified)"
		}
		if when != "" {
			out += " of " + when
		}
	}
	return out + ", " + bi.GoVersion
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
	root.Version = version(debug.ReadBuildInfo())
	root.SetVersionTemplate("{{.Version}}\n")
	var level string
	root.PersistentFlags().StringVar(&level, "log-level", "info", "least severe log level shown: debug (one line per trial), info, warn or error")
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		l, ok := logLevels[strings.ToLower(level)]
		if !ok {
			return fmt.Errorf("flag --log-level %q: want debug, info, warn or error", level)
		}
		d.logLevel = l
		return nil
	}
	root.AddCommand(
		newBoundaryCmd(),
		newCancelCmd(),
		newDeleteCmd(),
		newCoordinatorCmd(d),
		newDoctorCmd(),
		newHealthCmd(),
		newReportCmd(),
		newRetryCmd(),
		newRunCmd(d),
		newStatusCmd(),
		newSubmitCmd(d),
		newTrialCmd(),
		newTrialsCmd(),
		newWorkerCmd(d),
		newWorkersCmd(),
	)
	return root
}
