package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
)

// statusOutput is one sweep in `eosweep status --json`.
type statusOutput struct {
	Sweep            string  `json:"sweep"`
	Name             string  `json:"name"`
	Model            string  `json:"model"`
	State            string  `json:"state"`
	Round            int32   `json:"round"`
	MaxRounds        int32   `json:"max_rounds"`
	Total            int64   `json:"total"`
	Pending          int64   `json:"pending"`
	Leased           int64   `json:"leased"`
	Done             int64   `json:"done"`
	Failed           int64   `json:"failed"`
	Cancelled        int64   `json:"cancelled"`
	ResultsPerSecond float64 `json:"results_per_second"`
	ETASeconds       float64 `json:"eta_seconds"`
}

func toStatus(s *pb.Sweep) statusOutput {
	p := s.GetProgress()
	return statusOutput{Sweep: s.GetId(), Name: s.GetName(), Model: s.GetModel(), State: stateName(s.GetState()),
		Round: s.GetRound(), MaxRounds: s.GetMaxRounds(), Total: p.GetTotal(), Pending: p.GetPending(),
		Leased: p.GetLeased(), Done: p.GetDone(), Failed: p.GetFailed(), Cancelled: p.GetCancelled(),
		ResultsPerSecond: p.GetResultsPerSecond(), ETASeconds: p.GetEta().AsDuration().Seconds()}
}

func stateName(s pb.SweepState) string {
	switch s {
	case pb.SweepState_SWEEP_STATE_RUNNING:
		return "running"
	case pb.SweepState_SWEEP_STATE_DONE:
		return "done"
	case pb.SweepState_SWEEP_STATE_CANCELLED:
		return "cancelled"
	}
	return "unknown"
}

func newStatusCmd() *cobra.Command {
	var (
		asJSON bool
		from   sourceFlags
	)
	cmd := &cobra.Command{
		Use:   "status [SWEEP] (--coordinator ADDR | --db PATH) [--json]",
		Short: "Show sweeps: trials per state, throughput, ETA",
		Long: `Show one sweep (SWEEP: its id or a unique prefix) or every sweep: trials per
state, results per second and the estimated time left. --json prints one JSON
object per sweep (one line each) with at least sweep, total, pending, leased,
done and failed. With --db the file is read directly (no rate or ETA).`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, err := from.open()
			if err != nil {
				return err
			}
			defer src.Close()
			var sweeps []*pb.Sweep
			if len(args) == 1 {
				sw, err := src.Sweep(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				sweeps = []*pb.Sweep{sw}
			} else if sweeps, err = src.Sweeps(cmd.Context()); err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				for _, s := range sweeps {
					if err := enc.Encode(toStatus(s)); err != nil {
						return err
					}
				}
				return nil
			}
			return writeStatusTable(cmd.OutOrStdout(), sweeps)
		},
	}
	from.bind(cmd.Flags())
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON, one object per sweep")
	return cmd
}

func writeStatusTable(w io.Writer, sweeps []*pb.Sweep) error {
	if len(sweeps) == 0 {
		_, err := fmt.Fprintln(w, "no sweeps")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SWEEP\tNAME\tMODEL\tSTATE\tROUND\tTOTAL\tPENDING\tLEASED\tDONE\tFAILED\tRESULTS/S\tETA")
	for _, s := range sweeps {
		o := toStatus(s)
		eta := "-"
		if o.ETASeconds > 0 {
			eta = (time.Duration(o.ETASeconds) * time.Second).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d/%d\t%d\t%d\t%d\t%d\t%d\t%.1f\t%s\n", o.Sweep, o.Name, o.Model, o.State,
			o.Round, o.MaxRounds, o.Total, o.Pending, o.Leased, o.Done, o.Failed, o.ResultsPerSecond, eta)
	}
	return tw.Flush()
}
