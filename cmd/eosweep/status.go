package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
)

// statusOutput is one sweep in `eosweep status --json`.
type statusOutput struct {
	Sweep     string `json:"sweep"`
	Name      string `json:"name"`
	Model     string `json:"model"`
	State     string `json:"state"`
	Round     int32  `json:"round"`
	MaxRounds int32  `json:"max_rounds"`
	Total     int64  `json:"total"`
	Pending   int64  `json:"pending"`
	Leased    int64  `json:"leased"`
	Done      int64  `json:"done"`
	Failed    int64  `json:"failed"`
	Cancelled int64  `json:"cancelled"`
	// Reused counts the trials DONE at submit with another sweep's result.
	Reused int64 `json:"reused"`
	// ResultsPerSecond is the recent rate of a running sweep (null otherwise).
	ResultsPerSecond *float64 `json:"results_per_second"`
	ETASeconds       float64  `json:"eta_seconds"`
}

func toStatus(s *pb.Sweep) statusOutput {
	p := s.GetProgress()
	o := statusOutput{Sweep: s.GetId(), Name: s.GetName(), Model: s.GetModel(), State: stateName(s.GetState()),
		Round: s.GetRound(), MaxRounds: s.GetMaxRounds(), Total: p.GetTotal(), Pending: p.GetPending(),
		Leased: p.GetLeased(), Done: p.GetDone(), Failed: p.GetFailed(), Cancelled: p.GetCancelled(), Reused: s.GetReused(),
		ETASeconds: p.GetEta().AsDuration().Seconds()}
	if rate, ok := resultRate(s); ok {
		o.ResultsPerSecond = &rate
	}
	return o
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
		asJSON, watch bool
		from          sourceFlags
	)
	cmd := &cobra.Command{
		Use:   "status [SWEEP] (--coordinator ADDR | --db PATH) [--json] [--watch]",
		Short: "Show sweeps: trials per state, throughput, ETA",
		Long: `Show one sweep (SWEEP: its id, a unique prefix of it, or its name) or every sweep: trials per
state, results per second and the estimated time left. --json prints one JSON
object per sweep (one line each) with at least sweep, total, pending, leased,
done, failed and cancelled. With --db the file is read directly (no rate or
ETA). --watch follows one sweep until it finishes: on a terminal the table is
redrawn in place, elsewhere a line is printed when it changes (at most every
2 s), with --json one object per change.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if watch && len(args) == 0 {
				return errors.New("flag --watch: give the SWEEP to watch")
			}
			src, err := from.open()
			if err != nil {
				return err
			}
			defer src.Close()
			if watch {
				return watchStatus(cmd, src, args[0], asJSON)
			}
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
	cmd.Flags().BoolVar(&watch, "watch", false, "follow the sweep until it finishes (needs --coordinator)")
	return cmd
}

// watchStatus follows one sweep (WatchSweep) until it leaves RUNNING.
func watchStatus(cmd *cobra.Command, src source, prefix string, asJSON bool) error {
	sw, err := src.Sweep(cmd.Context(), prefix)
	if err != nil {
		return err
	}
	v := &statusWatch{w: cmd.OutOrStdout(), tty: isTerminal(cmd.OutOrStdout()), json: asJSON, every: 2 * time.Second, now: time.Now}
	err = src.Watch(cmd.Context(), sw.GetId(), v.show)
	if cmd.Context().Err() != nil {
		return fmt.Errorf("%w: stopped watching sweep %s", errInterrupted, sw.GetId())
	}
	return err
}

// statusWatch shows a watched sweep's updates: on a terminal one table
// redrawn in place; elsewhere a line (or a JSON object) when the sweep
// changed, at most every interval, and always its last state.
type statusWatch struct {
	w     io.Writer
	tty   bool
	json  bool
	every time.Duration
	now   func() time.Time

	lines   int    // lines of the table on screen
	last    string // last line printed
	printed time.Time
}

func (v *statusWatch) show(s *pb.Sweep) error {
	final := s.GetState() != pb.SweepState_SWEEP_STATE_RUNNING
	if v.tty && !v.json {
		var b strings.Builder
		if v.lines > 0 {
			fmt.Fprintf(&b, "\033[%dA\033[J", v.lines) // back to the table's first line, clear below
		}
		var table strings.Builder
		if err := writeStatusTable(&table, []*pb.Sweep{s}); err != nil {
			return err
		}
		v.lines = strings.Count(table.String(), "\n")
		_, err := io.WriteString(v.w, b.String()+table.String())
		return err
	}
	line := statusLine(s)
	if v.json {
		data, err := json.Marshal(toStatus(s))
		if err != nil {
			return err
		}
		line = string(data)
	}
	now := v.now()
	if line == v.last || (!final && now.Sub(v.printed) < v.every) {
		return nil
	}
	v.last, v.printed = line, now
	_, err := fmt.Fprintln(v.w, line)
	return err
}

// statusLine is one sweep on one line, for logs and pipes.
func statusLine(s *pb.Sweep) string {
	o := toStatus(s)
	reused := ""
	if o.Reused > 0 {
		reused = fmt.Sprintf(" (%d reused from other sweeps)", o.Reused)
	}
	return fmt.Sprintf("%s %s round %d/%d: %d total, %d pending, %d leased, %d done%s, %d failed, %d cancelled; %s results/s, ETA %s",
		o.Sweep, stateText(s), o.Round, o.MaxRounds, o.Total, o.Pending, o.Leased, o.Done, reused, o.Failed, o.Cancelled, rateText(s), etaText(s))
}

func writeStatusTable(w io.Writer, sweeps []*pb.Sweep) error {
	if len(sweeps) == 0 {
		_, err := fmt.Fprintln(w, "no sweeps")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SWEEP\tNAME\tMODEL\tSTATE\tROUND\tTOTAL\tPENDING\tLEASED\tDONE\tFAILED\tCANCELLED\tRESULTS/S\tETA")
	for _, s := range sweeps {
		o := toStatus(s)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d/%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\n", o.Sweep, o.Name, o.Model, stateText(s),
			o.Round, o.MaxRounds, o.Total, o.Pending, o.Leased, o.Done, o.Failed, o.Cancelled, rateText(s), etaText(s))
	}
	return tw.Flush()
}

// stateText is the sweep's state with what its counts add to it: "done (2
// failed)", "running (1 failed)", "cancelled (12 done, 24 cancelled)". A bare
// "done" means every trial has a result.
func stateText(s *pb.Sweep) string {
	p := s.GetProgress()
	var notes []string
	if s.GetState() == pb.SweepState_SWEEP_STATE_CANCELLED {
		notes = append(notes, fmt.Sprintf("%d done", p.GetDone()))
	}
	if n := p.GetFailed(); n > 0 {
		notes = append(notes, fmt.Sprintf("%d failed", n))
	}
	if n := p.GetCancelled(); n > 0 {
		notes = append(notes, fmt.Sprintf("%d cancelled", n))
	}
	if s.GetState() == pb.SweepState_SWEEP_STATE_CANCELLED && len(notes) == 1 {
		notes = nil // nothing was left to cancel
	}
	if len(notes) == 0 {
		return stateName(s.GetState())
	}
	return stateName(s.GetState()) + " (" + strings.Join(notes, ", ") + ")"
}

// idle reports whether a running sweep has work waiting that no worker takes:
// the coordinator counts no worker connected, or (a coordinator that does not
// count them) nothing is leased and no result came in lately.
func idle(s *pb.Sweep) bool {
	p := s.GetProgress()
	if s.GetState() != pb.SweepState_SWEEP_STATE_RUNNING || p.GetPending() == 0 {
		return false
	}
	if p.Workers != nil {
		return p.GetWorkers() == 0
	}
	return p.GetLeased() == 0 && p.GetResultsPerSecond() == 0
}

// etaText is the time left at the current rate, "no workers" when work waits
// and no worker takes it, "-" when unknown or finished.
func etaText(s *pb.Sweep) string {
	if s.GetState() != pb.SweepState_SWEEP_STATE_RUNNING {
		return "-"
	}
	if idle(s) {
		return "no workers"
	}
	if eta := s.GetProgress().GetEta().AsDuration(); eta > 0 {
		return eta.Round(time.Second).String()
	}
	return "-"
}

// resultRate is a running sweep's recent result rate, as the coordinator
// measures it over the last ~30 s, and a finished sweep's average: its
// results over the time from its creation to when it finished (the recent
// rate would only say how fast its last results came). ok is false for a
// finished sweep whose coordinator does not record when it finished.
func resultRate(s *pb.Sweep) (rate float64, ok bool) {
	if s.GetState() == pb.SweepState_SWEEP_STATE_RUNNING {
		return s.GetProgress().GetResultsPerSecond(), true
	}
	if s.GetFinished() == nil || s.GetCreated() == nil {
		return 0, false
	}
	span := s.GetFinished().AsTime().Sub(s.GetCreated().AsTime()).Seconds()
	if !(span > 0) {
		return 0, false
	}
	return float64(s.GetProgress().GetDone()) / span, true
}

// rateText renders resultRate, "-" when unknown.
func rateText(s *pb.Sweep) string {
	rate, ok := resultRate(s)
	if !ok {
		return "-"
	}
	return fmt.Sprintf("%.1f", rate)
}
