package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
)

// workerOutput is one worker in `eosweep workers --json`.
type workerOutput struct {
	Worker        string    `json:"worker"`
	Address       string    `json:"address"`
	LastSeen      time.Time `json:"last_seen"`
	Leases        int32     `json:"leases"`
	TrialsDone    int64     `json:"trials_done"`
	EngineSeconds float64   `json:"engine_seconds"`
}

func newWorkersCmd() *cobra.Command {
	var (
		coord  dialFlags
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "workers --coordinator ADDR [--json]",
		Short: "List the workers a coordinator hears from: leases held, trials done",
		Long: `List the workers the coordinator has heard from, most recently seen first:
their id and address, when they last leased, heartbeated or reported, the
leases they hold, the trials they finished and the engine time those took. A
worker last seen long ago that still holds leases is stuck or gone: its trials
go back to pending when their lease deadlines pass ("eosweep trials SWEEP
--state leased" shows the deadlines).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			conn, err := coord.dial()
			if err != nil {
				return err
			}
			defer conn.Close()
			resp, err := pb.NewCoordinatorServiceClient(conn).ListWorkers(cmd.Context(), &pb.ListWorkersRequest{})
			if status.Code(err) == codes.Unimplemented {
				return fmt.Errorf("coordinator %s does not list its workers (it is older than this eosweep)", coord.address())
			}
			if err != nil {
				return fmt.Errorf("list workers: %w", err)
			}
			out := make([]workerOutput, len(resp.GetWorkers()))
			for i, w := range resp.GetWorkers() {
				out[i] = workerOutput{Worker: w.GetWorkerId(), Address: w.GetAddress(), LastSeen: w.GetLastSeen().AsTime().UTC(),
					Leases: w.GetLeases(), TrialsDone: w.GetTrialsDone(), EngineSeconds: w.GetEngineSeconds()}
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				for _, w := range out {
					if err := enc.Encode(w); err != nil {
						return err
					}
				}
				return nil
			}
			return writeWorkersTable(cmd.OutOrStdout(), out, time.Now())
		},
	}
	coord.bind(cmd.Flags(), defaultCoordinator, "coordinator address HOST:PORT") // security.go
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON, one object per worker")
	return cmd
}

func writeWorkersTable(w io.Writer, workers []workerOutput, now time.Time) error {
	if len(workers) == 0 {
		_, err := fmt.Fprintln(w, "no workers")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "WORKER\tADDRESS\tLAST SEEN\tLEASES\tTRIALS DONE\tENGINE TIME")
	for _, o := range workers {
		fmt.Fprintf(tw, "%s\t%s\t%s ago\t%d\t%d\t%s\n", o.Worker, dash(o.Address), now.Sub(o.LastSeen).Round(time.Second),
			o.Leases, o.TrialsDone, (time.Duration(o.EngineSeconds * float64(time.Second))).Round(time.Millisecond))
	}
	return tw.Flush()
}
