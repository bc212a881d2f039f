package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/eosweep/eosweep/coordinator/boundary"
	"github.com/eosweep/eosweep/coordinator/report"
)

// sweepTrials is what a report needs from a sweep: the analysis options from
// its spec (spec.Spec.Analyses, one per metric, the model included) and its
// finished trials (state DONE) with results.
type sweepTrials struct {
	Analyses []boundary.Options
	Trials   []boundary.Trial
}

// reportOptions are the flags of `eosweep report`.
type reportOptions struct {
	out        string
	axis       string
	trajectory string
	size       string
	source     sourceFlags
}

func newReportCmd() *cobra.Command {
	var o reportOptions
	cmd := &cobra.Command{
		Use:   "report SWEEP --out DIR [--trajectory k=v,...] [--axis NAME] [--size WxH]",
		Short: "Write a sweep's report: trials.csv, boundary.json and PNG plots",
		Long: `Analyse a sweep's finished trials and write into DIR:
  trials.csv       one row per trial: every parameter and result field
  boundary.json    per group: eta_star and ci (logistic fit), onset and onset_ci
                   (hinge fit), bracket, theory, stability (2/S0), trials
  boundary.txt     the boundary table
  phase.png        phase diagram: log eta x group axis, coloured by the bias drop
  overview.png     every group's final bias, test accuracy and max eta*sharpness/2
                   over the run (max_eos_ratio) vs eta
  group-*.png      the same per group, per trial, with eta*, its CI and the onset
  trajectory.png   loss, bias and sharpness (with 2/eta) of one trial
--trajectory picks that trial by parameters (e.g. eta=0.001,width=200,seed=0);
by default the smallest seed near 1.5*eta* of the first group with a boundary.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := o.source.finished(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			groups, err := writeReport(cmd, data, o)
			if err != nil {
				return err
			}
			return boundary.WriteTable(cmd.OutOrStdout(), groups)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.out, "out", "", "directory to write the report into (required)")
	f.StringVar(&o.axis, "axis", "", "group axis on the phase diagram's vertical axis (default width, else the first)")
	f.StringVar(&o.trajectory, "trajectory", "", "trial whose trajectory to plot, as name=value,... (default: automatic)")
	f.StringVar(&o.size, "size", "900x620", "size of every PNG in pixels, WxH")
	o.source.bind(f) // --coordinator ADDR or --db PATH (client.go)
	return cmd
}

// writeReport analyses the trials, writes the report, prints where it is (not
// the boundary table: the callers print it) and returns the analysed groups.
func writeReport(cmd *cobra.Command, data sweepTrials, o reportOptions) ([]boundary.Group, error) {
	if o.out == "" {
		return nil, fmt.Errorf("flag --out: required")
	}
	opt := report.Options{Axis: o.axis}
	var err error
	if opt.Width, opt.Height, err = parseSize(o.size); err != nil {
		return nil, err
	}
	if opt.Trajectory, err = parseAssignments(o.trajectory); err != nil {
		return nil, fmt.Errorf("flag --trajectory: %w", err)
	}
	if len(data.Trials) == 0 {
		return nil, fmt.Errorf("report: the sweep has no finished trials yet")
	}
	as, err := boundary.AnalyzeEach(data.Trials, data.Analyses)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	opt.Boundaries = boundary.SideBySide(as) // every metric's; the plots draw the first
	if err := report.Write(o.out, as[0], opt); err != nil {
		return nil, err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "report of %d trials written to %s (%s, %s, %s, ...)\n", len(data.Trials), o.out,
		report.TrialsCSV, report.BoundaryJSON, report.PhasePNG)
	return opt.Boundaries, nil
}

// parseSize parses "WxH" in pixels.
func parseSize(s string) (int, int, error) {
	ws, hs, ok := strings.Cut(strings.ToLower(s), "x")
	w, err1 := strconv.Atoi(strings.TrimSpace(ws))
	h, err2 := strconv.Atoi(strings.TrimSpace(hs))
	if !ok || err1 != nil || err2 != nil || w < 100 || h < 100 || w > 10000 || h > 10000 {
		return 0, 0, fmt.Errorf("flag --size %q: want WxH in pixels, each 100..10000", s)
	}
	return w, h, nil
}
