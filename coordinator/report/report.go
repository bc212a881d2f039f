// Package report writes the report of a sweep into a directory: the trials
// as CSV, the boundary per group as JSON and as a text table, and PNG plots
// drawn with gonum/plot (the phase diagram, per-group curves against η, an
// overview of every group in the style of the paper's Figure 1, and the
// trajectory of one trial). Here a report is always those files; what a
// worker sends about a trial is a different thing (package scheduler).
//
// Write takes the boundary.Analysis that boundary.Analyze computed and only
// draws it: every order parameter and boundary in the files is the one the
// caller (and the table it prints) already has.
//
// # Files
//
//	trials.csv         one row per trial: every resolved parameter, every scalar
//	                   result field (JSON names), then group, plateau, drop, learned
//	boundary.json      one object per group (boundary.Record, without rows)
//	boundary.txt       the table of boundary.WriteTable
//	phase.png          log η × group axis, coloured by the mean bias drop, with
//	                   η* and its CI, the onset, the theory and stability lines
//	overview.png       every group: final bias, test accuracy (when the model
//	                   has data) and the run's max η·sharpness/2 against η,
//	                   theory lines
//	group-<key>.png    the same for one group, per trial, with η*, its CI and onset
//	trajectory.png     loss, bias and sharpness (with 2/η) against the step
package report

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/eosweep/eosweep/coordinator/boundary"
)

// Options configure how a report is drawn (what it shows is the analysis
// given to Write).
type Options struct {
	// Axis is the group axis on the phase diagram's vertical axis: "" picks
	// "width" when it is a group axis, else the first group axis. Groups are
	// rows of the diagram, labelled by this axis (or by the whole group key
	// when other axes vary too).
	Axis string
	// Trajectory selects the trial whose trajectory is plotted: the first
	// trial, in (group, η, seed) order, whose Params hold every given value
	// but "eta", and, when "eta" is given, of those the one nearest to it in
	// log η (so a rounded η from a table selects its trial).
	// Empty picks one: in the first group with a boundary estimate, the
	// smallest seed at the η nearest 1.5·η* (inside the edge-of-stability
	// regime), else the first trial.
	Trajectory map[string]float64
	// Width and Height of every PNG in pixels (at 96 dpi); 0 means 900×620.
	Width, Height int
	// Boundaries, when set, are the groups boundary.json and boundary.txt
	// hold instead of the analysis' own: the boundaries of every metric of
	// the sweep side by side (boundary.SideBySide). The plots draw the
	// analysis given to Write.
	Boundaries []boundary.Group
}

// File names written by Write.
const (
	TrialsCSV     = "trials.csv"
	BoundaryJSON  = "boundary.json"
	BoundaryTable = "boundary.txt"
	PhasePNG      = "phase.png"
	OverviewPNG   = "overview.png"
	TrajectoryPNG = "trajectory.png"
)

// GroupPNG is the file name of a group's plot: "group-" and the group key
// as axis-value pairs joined by "-" ("group-width-200.png"), or "group-all.png".
func GroupPNG(key map[string]float64) string {
	if len(key) == 0 {
		return "group-all.png"
	}
	axes := make([]string, 0, len(key))
	for k := range key {
		axes = append(axes, k)
	}
	sort.Strings(axes)
	parts := []string{"group"}
	for _, a := range axes {
		parts = append(parts, a, strconv.FormatFloat(key[a], 'g', -1, 64))
	}
	return strings.Join(parts, "-") + ".png"
}

// Write writes the report of one sweep's analysis (from boundary.Analyze)
// into dir (created if needed). It draws what the analysis holds and computes
// no order parameter or boundary of its own.
func Write(dir string, a boundary.Analysis, opt Options) error {
	if len(a.OrderParameters) != len(a.Trials) {
		return fmt.Errorf("report: %d order parameters for %d trials (give the value boundary.Analyze returns)",
			len(a.OrderParameters), len(a.Trials))
	}
	if opt.Width <= 0 || opt.Height <= 0 {
		opt.Width, opt.Height = 900, 620
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("report dir: %w", err)
	}
	if err := writeTrialsCSV(filepath.Join(dir, TrialsCSV), a); err != nil {
		return err
	}
	groups := a.Groups
	if opt.Boundaries != nil {
		groups = opt.Boundaries
	}
	if err := writeBoundary(dir, groups); err != nil {
		return err
	}
	if len(a.Trials) == 0 {
		return nil
	}
	if err := plotPhase(filepath.Join(dir, PhasePNG), a, opt); err != nil {
		return fmt.Errorf("phase diagram: %w", err)
	}
	if err := plotOverview(filepath.Join(dir, OverviewPNG), a, opt); err != nil {
		return fmt.Errorf("overview: %w", err)
	}
	for _, g := range a.Groups {
		if err := plotGroup(filepath.Join(dir, GroupPNG(g.Key)), a, g, opt); err != nil {
			return fmt.Errorf("group %v: %w", g.Key, err)
		}
	}
	if t := pickTrajectory(a, opt); t >= 0 {
		if err := plotTrajectory(filepath.Join(dir, TrajectoryPNG), a.Options.Model, a.Trials[t], opt); err != nil {
			return fmt.Errorf("trajectory: %w", err)
		}
	} else {
		return fmt.Errorf("trajectory: no trial matches %v", opt.Trajectory)
	}
	return nil
}

func writeBoundary(dir string, groups []boundary.Group) error {
	data, err := json.MarshalIndent(boundary.Records(groups, false), "", "  ")
	if err != nil {
		return fmt.Errorf("boundary.json: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, BoundaryJSON), append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("boundary.json: %w", err)
	}
	f, err := os.Create(filepath.Join(dir, BoundaryTable))
	if err != nil {
		return fmt.Errorf("boundary table: %w", err)
	}
	if err := boundary.WriteTable(f, groups); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("boundary table: %w", err)
	}
	return nil
}

// pickTrajectory returns the index of the trial to plot, or −1 when sel
// matches none.
func pickTrajectory(a boundary.Analysis, opt Options) int {
	sel, trials := opt.Trajectory, a.Trials
	order := trialOrder(a)
	if len(sel) > 0 {
		want, byEta := sel["eta"]
		best, bestD := -1, math.Inf(1)
		for _, i := range order {
			if !matches(trials[i].Params, sel) {
				continue
			}
			if !byEta {
				return i
			}
			if d := math.Abs(math.Log(trials[i].Params["eta"] / want)); d < bestD {
				best, bestD = i, d
			}
		}
		return best
	}
	for _, g := range a.Groups {
		if g.Fit == boundary.FitNone || !(g.EtaStar > 0) {
			continue
		}
		name, target := boundary.GroupName(a.Options.GroupBy, g.Key), 1.5*g.EtaStar
		best, bestD := -1, math.Inf(1)
		for _, i := range order { // order is by η then seed: the first hit has the smallest seed
			if a.OrderParameters[i].Group != name || trials[i].Result.Diverged {
				continue
			}
			if d := math.Abs(math.Log(trials[i].Params["eta"] / target)); d < bestD-1e-12 {
				best, bestD = i, d
			}
		}
		if best >= 0 {
			return best
		}
	}
	return order[0]
}

// matches reports whether params hold every value of sel but "eta".
func matches(params, sel map[string]float64) bool {
	for k, v := range sel {
		if k == "eta" {
			continue
		}
		if pv, ok := params[k]; !ok || pv != v {
			return false
		}
	}
	return true
}
