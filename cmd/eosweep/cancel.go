package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
)

func newCancelCmd() *cobra.Command {
	var coord dialFlags
	cmd := &cobra.Command{
		Use:   "cancel SWEEP --coordinator ADDR",
		Short: "Cancel a sweep (submitting its spec again resumes it)",
		Long: `Cancel a running sweep: its pending and leased trials become cancelled (their
workers drop them at the next heartbeat); finished trials keep their results.
A finished sweep is not cancelled (it stays done); cancelling a cancelled sweep
changes nothing. Submitting the spec again resumes a cancelled sweep.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, err := coord.remote()
			if err != nil {
				return err
			}
			defer src.Close()
			sw, err := src.Sweep(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			switch sw.GetState() {
			case pb.SweepState_SWEEP_STATE_DONE:
				return alreadyDone(sw)
			case pb.SweepState_SWEEP_STATE_CANCELLED:
				fmt.Fprintf(cmd.OutOrStdout(), "sweep %s was already cancelled; nothing changed (%s)\n", sw.GetId(), stateText(sw))
				return nil
			}
			resp, err := src.cl.CancelSweep(cmd.Context(), &pb.CancelSweepRequest{SweepId: sw.GetId()})
			if status.Code(err) == codes.FailedPrecondition { // it finished meanwhile
				if now, err := src.Sweep(cmd.Context(), sw.GetId()); err == nil && now.GetState() == pb.SweepState_SWEEP_STATE_DONE {
					return alreadyDone(now)
				}
			}
			if err != nil {
				return fmt.Errorf("cancel: %w", err)
			}
			after := resp.GetSweep()
			if after.GetState() == pb.SweepState_SWEEP_STATE_DONE {
				return alreadyDone(after)
			}
			p := after.GetProgress()
			fmt.Fprintf(cmd.OutOrStdout(), "sweep %s cancelled: %d trials cancelled, %d done kept (submit the spec again to resume)\n",
				after.GetId(), p.GetCancelled(), p.GetDone())
			return nil
		},
	}
	coord.bind(cmd.Flags(), defaultCoordinator, "coordinator address HOST:PORT") // security.go
	return cmd
}

// alreadyDone refuses to cancel a finished sweep.
func alreadyDone(sw *pb.Sweep) error {
	return fmt.Errorf("sweep %s is already done (%s): nothing to cancel", sw.GetId(), stateText(sw))
}
