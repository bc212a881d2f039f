// Package report writes the report of a sweep into a directory: the trials
// as CSV, the boundary per group as JSON and as a text table, and figures
// drawn with gonum/plot for a paper: the phase diagram, per-group curves
// against η, an overview of every group, the trajectory of one trial and,
// for sparse sweeps, the paper's Figure 1 as the paper lays it out.
//
// # Files
//
//	trials.csv         one row per trial: its id, every resolved parameter, every
//	                   scalar result field (JSON names), group, plateau, drop,
//	                   learned, then state and error; trials without a result
//	                   (failed, pending, ...) last, their result cells empty
//	trajectories.csv   every finished trial's trajectory, one row per point: trial,
//	                   eta, seed, width, step, loss, bias, sharpness (empty where
//	                   not measured), for plots of one's own
//	boundary.json      one object per group (boundary.Record, without rows)
//	boundary.txt       the table of boundary.WriteTable
//	phase.*            log η × group axis, one cell per η coloured (viridis,
//	                   log scale) by the mean drop of b_T below its plateau;
//	                   on each group's row η* and the onset with their 95%
//	                   intervals and the theory and stability (2/S₀) lines
//	overview.*         every group: final bias, test accuracy (models with
//	                   data) and max η·S/2 after θ₀ against η, theory lines
//	group-<key>.*      the same for one group, per trial (up to MaxTrialMarks;
//	                   past that the per-η means alone), with η*, its CI,
//	                   the onset, 2/S₀ and the theory line, values in the legend
//	trajectory.*       loss, bias and sharpness (with 2/η) against the step
//	paper1.*           (sparse; or asked for) the paper's Figure 1: final bias
//	                   and test accuracy (%) against η on a linear axis
//	                   0 … 0.012, insets 0 … 0.0015, the dashed line at 8π/d²
//
// Every figure is written as .png (Options.DPI, default 300), .svg and .pdf
// (fonts embedded), at the printed width of Options.Size: 7 in for the text
// width of a two-column paper (DoubleColumn, the default) or 3.4 in for one
// column (SingleColumn), with 7–9 pt text at that size. Legends sit above the
// panels, never over the data; panels stacked in one column share one x
// label.
//
// Write holds no more than the analysis it is given: trials.csv is written
// row by row, and the trajectories, which the analysis need not hold (its
// results may be summaries, store.Summary), can come apart from it
// (Options.Trajectories) in any order, one trial at a time: those ahead of
// their turn in trajectories.csv wait in a temporary file in dir, and only
// the plotted one is kept.
//
// The figure builders (PhaseFigure, OverviewFigure, GroupFigure,
// TrajectoryFigure, Paper1Figure) return a *Figure that draws on any vg
// canvas, so a web page can render the same figure to SVG in memory
// (Figure.Render) without writing files.
package report

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/eosweep/eosweep/coordinator/boundary"
	"github.com/eosweep/eosweep/engine"
)

// Options configure a report.
type Options struct {
	// Analysis are the options the groups were analysed with; trials.csv
	// reports each trial's plateau, drop and learned flag under them. Its
	// Model defaults to Write's model.
	Analysis boundary.Options
	// Axis is the group axis on the phase diagram's vertical axis: "" picks
	// "width" when it is a group axis, else the first group axis; another
	// name is refused (ErrUnknownAxis). Groups are
	// rows of the diagram, labelled by this axis (or by the whole group key
	// when other axes vary too).
	Axis string
	// Trajectory selects the trial whose trajectory is plotted: the first
	// trial, in (group, η, seed) order, whose Params hold every given value
	// but "eta", and, when "eta" is given, of those the one nearest to it in
	// log η within 5% (so a rounded η from a table selects its trial). A
	// selection that matches none is refused (ErrNoTrajectory) with the
	// values there are.
	// Empty picks one: in the first group with a boundary estimate, the
	// smallest seed at the η nearest 1.5·η* (inside the edge-of-stability
	// regime), else the first trial.
	Trajectory map[string]float64
	// Size is the printed width of every figure ("" is DoubleColumn).
	Size Size
	// DPI is the resolution of the PNGs (0 is DefaultDPI).
	DPI int
	// Figures names the figures to write (see FigureNames); empty writes
	// every standard figure, and paper1 for the sparse model.
	Figures []string
	// Boundaries, when set, are the groups boundary.json and boundary.txt
	// hold instead of the analysis' own: the boundaries of every metric of
	// the sweep side by side (boundary.SideBySide). The figures draw the
	// analysis given to Write.
	Boundaries []boundary.Group
	// Trajectories, when set, is where trajectories.csv and the trajectory
	// figure read the finished trials' trajectories, so that the analysis'
	// trials need not hold them (their results may be summaries,
	// store.Summary): it calls fn with each finished trial's id and
	// trajectory, in any order, and returns fn's error. fn keeps no
	// trajectory but the plotted one's copy; trials the analysis does not
	// hold are skipped, and one it holds but that never comes fails the
	// report. Nil: the analysis' trials hold their trajectories.
	Trajectories func(fn func(trial string, traj []engine.Point) error) error
}

// File names written by Write. Every figure is written as .png, .svg and
// .pdf; the …PNG names are the PNG of each.
const (
	TrialsCSV = "trials.csv"
	// TrajectoriesCSV holds every finished trial's trajectory, long format.
	TrajectoriesCSV = "trajectories.csv"
	BoundaryJSON    = "boundary.json"
	BoundaryTable   = "boundary.txt"
	PhaseName       = "phase"
	OverviewName    = "overview"
	TrajectoryName  = "trajectory"
	PhasePNG        = PhaseName + ".png"
	OverviewPNG     = OverviewName + ".png"
	TrajectoryPNG   = TrajectoryName + ".png"
	Paper1PNG       = Paper1Name + ".png"
)

// FigureNames are the names Options.Figures accepts: "groups" stands for
// every group-<key> figure.
var FigureNames = []string{PhaseName, OverviewName, "groups", TrajectoryName, Paper1Name}

// GroupFile is the file name, without extension, of a group's figure:
// "group-" and the group key as axis-value pairs joined by "-"
// ("group-width-200"), or "group-all".
func GroupFile(key map[string]float64) string {
	if len(key) == 0 {
		return "group-all"
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
	return strings.Join(parts, "-")
}

// GroupPNG is the PNG of a group's figure (GroupFile + ".png").
func GroupPNG(key map[string]float64) string { return GroupFile(key) + ".png" }

// selectFigures resolves Options.Figures into a set of names.
func selectFigures(model string, names []string) (map[string]bool, error) {
	want := map[string]bool{}
	if len(names) == 0 {
		for _, n := range FigureNames {
			want[n] = n != Paper1Name || model == engine.ModelSparse
		}
		return want, nil
	}
	for _, n := range names {
		if !slices.Contains(FigureNames, n) {
			return nil, fmt.Errorf("figure %q: want one of %s", n, strings.Join(FigureNames, ", "))
		}
		want[n] = true
	}
	return want, nil
}

// Write writes the report of one sweep's analysis (from boundary.Analyze)
// into dir (created if needed). It draws what the analysis holds and computes
// no order parameter or boundary of its own.
func Write(dir string, a boundary.Analysis, opt Options) error {
	d, err := NewData(a, opt)
	if err != nil {
		return err
	}
	if err := checkAxis(a, opt.Axis); err != nil { // choose.go
		return fmt.Errorf("report: %w", err)
	}
	size, err := ParseSize(string(opt.Size))
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	want, err := selectFigures(d.Model, opt.Figures)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if opt.DPI < 0 || opt.DPI > MaxDPI {
		return fmt.Errorf("report: dpi %d: want 1 … %d (0 for %d)", opt.DPI, MaxDPI, DefaultDPI)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("report dir: %w", err)
	}
	if err := writeTrialsCSV(filepath.Join(dir, TrialsCSV), a); err != nil {
		return err
	}
	plot := -1 // the trial whose trajectory is plotted
	if want[TrajectoryName] && len(a.Trials) > 0 {
		plot = pickTrajectory(d, opt)
	}
	plotted, err := writeTrajectoriesCSV(filepath.Join(dir, TrajectoriesCSV), a, opt.Trajectories, plot) // trajectories.go
	if err != nil {
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
	if plot >= 0 {
		t := d.Trials[plot]
		t.Result.Trajectory = plotted
		d.plotted = &t
	}
	figs, err := d.figures(want, size, opt)
	if err != nil {
		return err
	}
	for _, f := range figs {
		if err := f.Save(dir, opt.DPI); err != nil {
			return err
		}
	}
	return nil
}

// figures builds the selected figures; the trajectory figure's trial is
// d.plotted when set, else pickTrajectory's.
func (d *Data) figures(want map[string]bool, size Size, opt Options) ([]*Figure, error) {
	var out []*Figure
	add := func(name string, f *Figure, err error) error {
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		out = append(out, f)
		return nil
	}
	if want[PhaseName] {
		f, err := PhaseFigure(d, size)
		if err := add("phase diagram", f, err); err != nil {
			return nil, err
		}
	}
	if want[OverviewName] {
		f, err := OverviewFigure(d, size)
		if err := add("overview", f, err); err != nil {
			return nil, err
		}
	}
	if want["groups"] {
		for gi, g := range d.Groups {
			f, err := GroupFigure(d, gi, size)
			if err := add(fmt.Sprintf("group %v", g.Key), f, err); err != nil {
				return nil, err
			}
		}
	}
	if want[TrajectoryName] {
		t := d.plotted
		if t == nil {
			if i := pickTrajectory(d, opt); i >= 0 {
				t = &d.Trials[i]
			}
		}
		if t == nil {
			return nil, fmt.Errorf("trajectory: %w", noTrajectory(boundary.Analysis{Trials: d.Trials}, opt.Trajectory))
		}
		f, err := TrajectoryFigure(d.Model, *t, size)
		if err := add("trajectory", f, err); err != nil {
			return nil, err
		}
	}
	if want[Paper1Name] {
		f, err := Paper1Figure(d, size)
		if err := add("paper1", f, err); err != nil {
			return nil, err
		}
	}
	return out, nil
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
func pickTrajectory(d *Data, opt Options) int {
	sel, trials := opt.Trajectory, d.Trials
	order := trialOrder(d.Trials, d.Order)
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
			if d := math.Abs(math.Log(trials[i].Params["eta"] / want)); d < bestD && d <= math.Log1p(trajectoryTolerance) {
				best, bestD = i, d
			}
		}
		return best
	}
	for _, g := range d.Groups {
		if g.Fit == boundary.FitNone || !(g.EtaStar > 0) {
			continue
		}
		name, target := boundary.GroupName(d.GroupBy, g.Key), 1.5*g.EtaStar
		best, bestD := -1, math.Inf(1)
		for _, i := range order { // order is by η then seed: the first hit has the smallest seed
			if d.Order[i].Group != name || trials[i].Result.Diverged {
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
