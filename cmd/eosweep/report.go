package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/eosweep/eosweep/coordinator/boundary"
	"github.com/eosweep/eosweep/coordinator/finished"
	"github.com/eosweep/eosweep/coordinator/report"
	"github.com/eosweep/eosweep/engine"
)

// sweepTrials is what a report needs from a sweep: the analysis options from
// its spec (spec.Spec.Analyses, one per metric, the model included) and its
// trials, finished (state DONE, with results) and missing.
type sweepTrials struct {
	Analyses []boundary.Options
	finished.Set
	// Trajectories, from a source, reads the finished trials' trajectories
	// again while the source is open (report.Options.Trajectories): the
	// source's Set holds their results' summaries. Nil: Set holds them.
	Trajectories func(fn func(trial string, traj []engine.Point) error) error
}

// reportOptions are the flags of `eosweep report`.
type reportOptions struct {
	out        string
	axis       string
	trajectory string
	size       string
	source     sourceFlags
	figures    []string
}

func newReportCmd() *cobra.Command {
	var o reportOptions
	cmd := &cobra.Command{
		Use:   "report SWEEP --out DIR [--trajectory k=v,...] [--axis NAME] [--size single|double] [--figure NAME,...]",
		Short: "Write a sweep's report: trials.csv, trajectories.csv, boundary.json and figures (PNG, SVG, PDF)",
		Long: `Analyse a sweep's finished trials and write into DIR:
  trials.csv       one row per trial: id, every parameter and result field,
                   the analysis (group, plateau, drop, learned), state and
                   error; trials without a result (failed, ...) included
  trajectories.csv every finished trial's trajectory, one row per point:
                   trial, eta, seed, width, step, loss, bias, sharpness
  boundary.json    per group and metric of the spec's boundary: the metric,
                   its sense and level, eta_star and ci (logistic fit), onset
                   and onset_ci (hinge fit), bracket, theory, stability (2/S0),
                   trials, and what it lacks: incomplete, missing, diverged,
                   unconverged
  boundary.txt     the boundary table
and every figure as .png (300 dpi), .svg and .pdf:
  phase            phase diagram: log eta x group axis, coloured by the bias drop,
                   eta*, onset, theory and 2/S0 on each group's row
  overview         every group's final bias, test accuracy and the largest
                   eta*sharpness/2 after step 0 (max_eos_ratio_after_init) vs eta
  group-*          the same per group, per trial (up to 10,000 trials; past
                   that the per-eta means alone), with eta*, its CI and the onset
  trajectory       loss, bias and sharpness (with 2/eta) of one trial
  paper1           the paper's Figure 1: final bias and test accuracy (%) vs eta
                   on a linear axis 0..0.012, insets 0..0.0015, dashed 8pi/d^2
                   (written for sparse sweeps, or when asked for with --figure)
--size: figure width, double (7 in, a two-column paper's text width) or single
(3.4 in, one column). --figure: only these (phase, overview, groups,
trajectory, paper1). --trajectory picks that trial by parameters (e.g.
eta=0.001,width=200,seed=0); by default the smallest seed near 1.5*eta* of the
first group with a boundary.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.source.withFinished(cmd.Context(), args[0], func(data sweepTrials) error {
				groups, err := writeReport(cmd, data, o)
				if err != nil {
					return err
				}
				return boundary.WriteTable(cmd.OutOrStdout(), groups)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.out, "out", "", "directory to write the report into (required)")
	f.StringVar(&o.axis, "axis", "", "group axis on the phase diagram's vertical axis (default width, else the first)")
	f.StringVar(&o.trajectory, "trajectory", "", "trial whose trajectory to plot, as name=value,... (default: automatic)")
	f.StringVar(&o.size, "size", string(report.DoubleColumn), "figure width: double (7 in) or single (3.4 in, one column)")
	f.StringSliceVar(&o.figures, "figure", nil, "write only these figures: phase, overview, groups, trajectory, paper1 (default: all; paper1 for sparse)")
	o.source.bind(f) // --coordinator ADDR or --db PATH (client.go)
	return cmd
}

// writeReport analyses the trials, writes the report, prints where it is (not
// the boundary table: the callers print it) and returns the analysed groups.
func writeReport(cmd *cobra.Command, data sweepTrials, o reportOptions) ([]boundary.Group, error) {
	if o.out == "" {
		return nil, fmt.Errorf("flag --out: required")
	}
	opt := report.Options{Axis: o.axis, Figures: o.figures, Trajectories: data.Trajectories}
	var err error
	if opt.Size, err = report.ParseSize(o.size); err != nil {
		return nil, fmt.Errorf("flag --size: %w", err)
	}
	if opt.Trajectory, err = parseAssignments(o.trajectory); err != nil {
		return nil, fmt.Errorf("flag --trajectory: %w", err)
	}
	if len(data.Done) == 0 {
		return nil, fmt.Errorf("report: the sweep has no finished trials yet")
	}
	as, err := boundary.AnalyzeEach(data.Done, data.Missing, data.Analyses)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	opt.Boundaries = boundary.SideBySide(as) // every metric's; the figures draw the first
	if err := report.Write(o.out, as[0], opt); err != nil {
		switch {
		case errors.Is(err, report.ErrUnknownAxis):
			return nil, fmt.Errorf("flag --axis: %w", err)
		case errors.Is(err, report.ErrNoTrajectory):
			return nil, fmt.Errorf("flag --trajectory: %w", err)
		}
		return nil, err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "report of %d trials written to %s (%s, %s, %s, ...)\n", len(data.Done), o.out,
		report.TrialsCSV, report.BoundaryJSON, report.PhasePNG)
	return opt.Boundaries, nil
}
