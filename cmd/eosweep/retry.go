package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/eosweep/eosweep/coordinator/store"
	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
)

func newRetryCmd() *cobra.Command {
	var (
		coord  dialFlags
		states []string
	)
	cmd := &cobra.Command{
		Use:   "retry SWEEP --coordinator ADDR [--state failed]",
		Short: "Put a sweep's failed trials back to pending, with fresh attempts",
		Long: `Put the trials of a sweep that are in the states given (default failed; also
cancelled) back to pending with fresh attempts, so that workers run them
again, and the sweep back to running. "eosweep trials SWEEP --state failed"
shows what failed and why before you retry.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			want, err := parseStates(states)
			if err != nil {
				return err
			}
			for st := range want {
				if st != store.Failed && st != store.Cancelled {
					return fmt.Errorf("flag --state %q: retry takes failed or cancelled trials", strings.ToLower(st.String()))
				}
			}
			src, err := coord.remote()
			if err != nil {
				return err
			}
			defer src.Close()
			sw, err := src.Sweep(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if retryable(sw, want) == 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "sweep %s has no %s trials to retry (%s)\n", sw.GetId(), stateList(want), stateText(sw))
				return nil
			}
			after, n, err := retryTrials(cmd.Context(), src.cl, sw, want)
			if err != nil {
				return fmt.Errorf("retry: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "sweep %s: %d %s trials back to pending with fresh attempts (%s)\n",
				after.GetId(), n, stateList(want), stateText(after))
			return nil
		},
	}
	coord.bind(cmd.Flags(), defaultCoordinator, "coordinator address HOST:PORT") // security.go
	cmd.Flags().StringSliceVar(&states, "state", []string{"failed"}, "retry the trials in these states: failed, cancelled")
	return cmd
}

// retryable counts the sweep's trials in the states wanted.
func retryable(sw *pb.Sweep, want map[store.TrialState]bool) int64 {
	var n int64
	if want[store.Failed] {
		n += sw.GetProgress().GetFailed()
	}
	if want[store.Cancelled] {
		n += sw.GetProgress().GetCancelled()
	}
	return n
}

// stateList names a set of states: "failed", "failed or cancelled".
func stateList(want map[store.TrialState]bool) string {
	var names []string
	for _, st := range slices.Sorted(maps.Keys(want)) {
		names = append(names, strings.ToLower(st.String()))
	}
	return strings.Join(names, " or ")
}

// retryTrials puts the sweep's trials in the states wanted back to pending
// with fresh attempts (RetrySweep) and returns the sweep and how many. A
// coordinator older than RetrySweep does the same for failed and cancelled
// trials together when the sweep's own spec is submitted again (SubmitSweep
// resumes the sweep of the same id); that is used when it resets no more
// than was asked for.
func retryTrials(ctx context.Context, cl pb.CoordinatorServiceClient, sw *pb.Sweep, want map[store.TrialState]bool) (*pb.Sweep, int64, error) {
	var states []pb.TrialState
	for _, st := range slices.Sorted(maps.Keys(want)) {
		states = append(states, pb.TrialState(st))
	}
	resp, err := cl.RetrySweep(ctx, &pb.RetrySweepRequest{SweepId: sw.GetId(), States: states})
	if err == nil {
		return resp.GetSweep(), resp.GetRetried(), nil
	}
	if status.Code(err) != codes.Unimplemented {
		return nil, 0, err
	}
	if c := sw.GetProgress().GetCancelled(); c > 0 && !want[store.Cancelled] {
		return nil, 0, fmt.Errorf("sweep %s also has %d cancelled trials, and this coordinator retries them together with the failed ones: give --state failed,cancelled", sw.GetId(), c)
	}
	text := sw.GetSpecYaml() // such a coordinator sends the spec with every sweep; ask in case
	if text == "" {
		got, err := cl.GetSweep(ctx, &pb.GetSweepRequest{SweepId: sw.GetId(), IncludeSpec: true})
		if err != nil {
			return nil, 0, err
		}
		text = got.GetSweep().GetSpecYaml()
	}
	sub, err := cl.SubmitSweep(ctx, &pb.SubmitSweepRequest{SpecYaml: text})
	if err != nil {
		return nil, 0, err
	}
	return sub.GetSweep(), retryable(sw, want), nil
}
