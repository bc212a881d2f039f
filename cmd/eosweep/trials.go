package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/eosweep/eosweep/coordinator/spec"
	"github.com/eosweep/eosweep/coordinator/store"
	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
)

// trialStates are the trial states by their lower-case names (--state).
var trialStates = map[string]store.TrialState{
	"pending": store.Pending, "leased": store.Leased, "done": store.Done, "failed": store.Failed, "cancelled": store.Cancelled,
}

// trialStateNames lists the names of trialStates in lifecycle order.
var trialStateNames = []string{"pending", "leased", "done", "failed", "cancelled"}

// parseStates parses --state values (each may be a comma list) into a set;
// nil (every state) when none is given.
func parseStates(values []string) (map[store.TrialState]bool, error) {
	if len(values) == 0 {
		return nil, nil
	}
	out := map[store.TrialState]bool{}
	for _, v := range values {
		for _, name := range strings.Split(v, ",") {
			name = strings.ToLower(strings.TrimSpace(name))
			st, ok := trialStates[name]
			if !ok {
				return nil, fmt.Errorf("flag --state %q: want %s", name, strings.Join(trialStateNames, ", "))
			}
			out[st] = true
		}
	}
	return out, nil
}

// trialRow is one trial as `eosweep trials` prints it (its JSON form).
type trialRow struct {
	Trial   string             `json:"trial"`
	State   string             `json:"state"`
	Attempt int                `json:"attempt"`
	Round   int                `json:"round"`
	Params  map[string]float64 `json:"params"`
	// Worker holds a leased trial's lease (when the source knows it).
	Worker string `json:"worker,omitempty"`
	// Deadline is a leased trial's lease deadline.
	Deadline *time.Time `json:"deadline,omitempty"`
	// Error is the trial's last error (why it failed, or why its last lease ended).
	Error string `json:"error,omitempty"`
}

// trialInfo is a trial as a source reads it: the stored record, and the
// worker holding its lease where the source knows it.
type trialInfo struct {
	store.Trial
	Worker string
}

func toTrialRow(t trialInfo) trialRow {
	r := trialRow{Trial: t.ID, State: strings.ToLower(t.State.String()), Attempt: t.Attempt, Round: t.Round,
		Params: t.Params, Worker: t.Worker, Error: t.LastError}
	if r.Params == nil {
		r.Params = map[string]float64{}
	}
	if t.State == store.Leased && !t.Deadline.IsZero() {
		d := t.Deadline.UTC()
		r.Deadline = &d
	}
	return r
}

func newTrialsCmd() *cobra.Command {
	var (
		format string
		states []string
		from   sourceFlags
	)
	cmd := &cobra.Command{
		Use:   "trials SWEEP [--state pending|leased|done|failed|cancelled] [--format table|csv|json]",
		Short: "List a sweep's trials: parameters, state, attempts, lease and last error",
		Long: `List the trials of a sweep (SWEEP: its id, a unique prefix of it, or its name) with their
parameters, state, attempts, the worker and deadline of a lease (leased
trials) and the last error (why a trial failed, or why its last lease ended).
--state keeps only trials in the states given (repeatable, or a comma list),
e.g. --state failed to see what failed and why, --state leased to see which
leases are held and until when.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			write := map[string]func(io.Writer, eachRow) error{
				"table": writeTrialsTable, "csv": writeTrialsCSV, "json": writeTrialsJSON,
			}[format]
			if write == nil {
				return fmt.Errorf("flag --format %q: want table, csv or json", format)
			}
			want, err := parseStates(states)
			if err != nil {
				return err
			}
			src, err := from.open()
			if err != nil {
				return err
			}
			defer src.Close()
			return write(cmd.OutOrStdout(), trialRows(cmd.Context(), src, args[0], want))
		},
	}
	from.bind(cmd.Flags())
	cmd.Flags().StringSliceVar(&states, "state", nil, "only trials in these states: "+strings.Join(trialStateNames, ", ")+" (default all)")
	cmd.Flags().StringVar(&format, "format", "table", "table, csv or json")
	return cmd
}

// eachRow reads a sweep's trials in the states wanted, a page at a time:
// it calls start with the sweep's grid axes (the parameters that vary
// between its trials), then fn with each row. Called again, it reads them
// again (writeTrialsCSV reads them twice); nothing is held but a page.
type eachRow func(start func(axes []string) error, fn func(trialRow) error) error

// trialRows is the eachRow of a sweep read from src.
func trialRows(ctx context.Context, src source, prefix string, want map[store.TrialState]bool) eachRow {
	return func(start func([]string) error, fn func(trialRow) error) error {
		begin := func(sw *pb.Sweep) error {
			sp, err := spec.ParseStored([]byte(sw.GetSpecYaml()))
			if err != nil {
				return fmt.Errorf("sweep %s: stored spec: %w", sw.GetId(), err)
			}
			var axes []string
			for _, a := range sp.Grid {
				axes = append(axes, a.Name)
			}
			if !slices.Contains(axes, "eta") { // refinement adds η values
				axes = append(axes, "eta")
			}
			return start(orderParams(axes))
		}
		return src.Trials(ctx, prefix, want, begin, func(t trialInfo) error {
			if want != nil && !want[t.State] {
				return nil
			}
			return fn(toTrialRow(t))
		})
	}
}

// orderParams sorts parameter names: eta, seed, width first, then by name.
func orderParams(names []string) []string {
	rank := map[string]int{"eta": 0, "seed": 1, "width": 2}
	sort.Slice(names, func(i, j int) bool {
		ri, iok := rank[names[i]]
		rj, jok := rank[names[j]]
		switch {
		case iok && jok:
			return ri < rj
		case iok != jok:
			return iok
		}
		return names[i] < names[j]
	})
	return names
}

// tableBlock is how many rows the table aligns together: a block's columns
// are as wide as its widest cells (a listing of fewer trials is one block).
// The table is written a block at a time, so a million trials are never held.
const tableBlock = 1000

// writeTrialsTable writes one line per trial: id, state, attempts, the
// parameters named (the sweep's grid axes), the lease's worker and deadline,
// and the last error.
func writeTrialsTable(w io.Writer, rows eachRow) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	var params []string
	n := 0
	now := time.Now()
	err := rows(func(axes []string) error {
		params = axes
		return nil
	}, func(r trialRow) error {
		if n == 0 {
			fmt.Fprint(tw, "TRIAL\tSTATE\tATTEMPT")
			for _, p := range params {
				fmt.Fprint(tw, "\t"+p)
			}
			fmt.Fprintln(tw, "\tWORKER\tDEADLINE\tERROR")
		}
		n++
		fmt.Fprintf(tw, "%s\t%s\t%d", r.Trial, r.State, r.Attempt)
		for _, p := range params {
			v, ok := r.Params[p]
			cell := "-"
			if ok {
				cell = strconv.FormatFloat(v, 'g', 6, 64)
			}
			fmt.Fprint(tw, "\t"+cell)
		}
		fmt.Fprintf(tw, "\t%s\t%s\t%s\n", dash(r.Worker), deadlineText(r.Deadline, now), dash(r.Error))
		if n%tableBlock == 0 {
			return tw.Flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	if n == 0 {
		_, err := fmt.Fprintln(w, "no trials")
		return err
	}
	return tw.Flush()
}

// deadlineText renders a lease deadline relative to now: "in 12s", or
// "expired 3s ago".
func deadlineText(d *time.Time, now time.Time) string {
	if d == nil {
		return "-"
	}
	left := d.Sub(now).Round(time.Second)
	if left >= 0 {
		return "in " + left.String()
	}
	return "expired " + (-left).String() + " ago"
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// writeTrialsCSV writes trial, state, attempt, round, worker, deadline
// (RFC 3339), error, then every parameter any trial has: a first pass reads
// their names, a second writes the rows.
func writeTrialsCSV(w io.Writer, rows eachRow) error {
	names := map[string]bool{}
	err := rows(func([]string) error { return nil }, func(r trialRow) error {
		for k := range r.Params {
			names[k] = true
		}
		return nil
	})
	if err != nil {
		return err
	}
	params := orderParams(slices.Collect(maps.Keys(names)))
	cw := csv.NewWriter(w)
	if err := cw.Write(append([]string{"trial", "state", "attempt", "round", "worker", "deadline", "error"}, params...)); err != nil {
		return fmt.Errorf("trials csv: %w", err)
	}
	err = rows(func([]string) error { return nil }, func(r trialRow) error {
		deadline := ""
		if r.Deadline != nil {
			deadline = r.Deadline.Format(time.RFC3339Nano)
		}
		rec := []string{r.Trial, r.State, strconv.Itoa(r.Attempt), strconv.Itoa(r.Round), r.Worker, deadline, r.Error}
		for _, p := range params {
			cell := ""
			if v, ok := r.Params[p]; ok {
				cell = strconv.FormatFloat(v, 'g', -1, 64)
			}
			rec = append(rec, cell)
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("trials csv: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("trials csv: %w", err)
	}
	return nil
}

// writeTrialsJSON writes the rows as an indented JSON list, one row at a
// time: the bytes json.Encoder with a two-space indent writes for the list.
func writeTrialsJSON(w io.Writer, rows eachRow) error {
	n := 0
	err := rows(func([]string) error { return nil }, func(r trialRow) error {
		b, err := json.MarshalIndent(r, "  ", "  ")
		if err != nil {
			return fmt.Errorf("trials json: %w", err)
		}
		sep := ",\n  "
		if n == 0 {
			sep = "[\n  "
		}
		n++
		if _, err := io.WriteString(w, sep); err != nil {
			return fmt.Errorf("trials json: %w", err)
		}
		if _, err := w.Write(b); err != nil {
			return fmt.Errorf("trials json: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	end := "\n]\n"
	if n == 0 {
		end = "[]\n"
	}
	if _, err := io.WriteString(w, end); err != nil {
		return fmt.Errorf("trials json: %w", err)
	}
	return nil
}
