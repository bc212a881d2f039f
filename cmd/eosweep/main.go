// Command eosweep runs sweeps of gradient-descent experiments and locates the
// step size at which a network learns a threshold neuron. Each subcommand lives
// in its own file and registers itself on rootCmd in an init function.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

var rootCmd = &cobra.Command{
	Use:           "eosweep",
	Short:         "Sweeps of gradient descent at the edge of stability",
	Long:          "eosweep runs grids of gradient-descent trials (step size × seed × width × …)\non one machine or many, and locates where a threshold neuron starts to be learned.",
	SilenceUsage:  true,
	SilenceErrors: true,
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := rootCmd.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "eosweep:", err)
		os.Exit(1)
	}
}
