package main

import (
	"fmt"

	"github.com/spf13/cobra"

	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
)

func newDeleteCmd() *cobra.Command {
	var coord dialFlags
	cmd := &cobra.Command{
		Use:   "delete SWEEP --coordinator ADDR",
		Short: "Delete a finished or cancelled sweep with its trials and results",
		Long: `Delete a sweep from the coordinator's store: its record, its trials and its
results. A running sweep is refused (cancel it first). Other sweeps keep their
results, the ones they reused from this sweep included, and new sweeps still
reuse them.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, err := coord.remote()
			if err != nil {
				return err
			}
			defer src.Close()
			id, err := src.id(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			resp, err := src.cl.DeleteSweep(cmd.Context(), &pb.DeleteSweepRequest{SweepId: id})
			if err != nil {
				return fmt.Errorf("delete: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "sweep %s deleted with its %d trials\n", id, resp.GetTrials())
			return nil
		},
	}
	coord.bind(cmd.Flags(), defaultCoordinator, "coordinator address HOST:PORT") // security.go
	return cmd
}
