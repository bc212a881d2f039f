package boundary

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"text/tabwriter"
)

// Record is the JSON form of one group's boundary, as in boundary.json:
// intervals are [low, high] pairs, Theory is null for models without one.
type Record struct {
	Group map[string]float64 `json:"group"`
	// Metric, Sense and Level are the order parameter's (Group.Metric).
	Metric    string     `json:"metric"`
	Sense     Sense      `json:"sense"`
	Level     *float64   `json:"level,omitempty"`
	EtaStar   float64    `json:"eta_star"`
	CI        [2]float64 `json:"ci"`
	Fit       string     `json:"fit"`
	Onset     float64    `json:"onset"`
	OnsetCI   [2]float64 `json:"onset_ci"`
	OnsetForm string     `json:"onset_form"`
	Crossing  Crossing   `json:"crossing"`
	Bracket   [2]float64 `json:"bracket"`
	Theory    *float64   `json:"theory"`
	Stability float64    `json:"stability"`
	Trials    int        `json:"trials"`
	Rows      []EtaRow   `json:"rows,omitempty"`
}

// Records converts groups to their JSON records; withRows keeps the per-η rows.
func Records(groups []Group, withRows bool) []Record {
	out := make([]Record, len(groups))
	for i, g := range groups {
		out[i] = Record{
			Group: g.Key, Metric: g.Metric.MetricName(), Sense: g.Metric.MetricSense(), Level: g.Metric.Level,
			EtaStar: g.EtaStar, CI: pair(g.CI), Fit: g.Fit,
			Onset: g.Onset, OnsetCI: pair(g.OnsetCI), OnsetForm: g.OnsetForm,
			Crossing: g.Crossing, Bracket: pair(g.Bracket), Theory: g.Theory,
			Stability: g.Stability, Trials: g.Trials,
		}
		if out[i].Group == nil {
			out[i].Group = map[string]float64{}
		}
		if withRows {
			out[i].Rows = g.Rows
		}
	}
	return out
}

func pair(iv Interval) [2]float64 { return [2]float64{iv.Low, iv.High} }

// WriteJSON writes the groups as an indented JSON list of Records, per-η rows
// included.
func WriteJSON(w io.Writer, groups []Group) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(Records(groups, true)); err != nil {
		return fmt.Errorf("boundary json: %w", err)
	}
	return nil
}

// axesOf returns the union of the groups' key names, sorted.
func axesOf(groups []Group) []string {
	set := map[string]bool{}
	for _, g := range groups {
		for k := range g.Key {
			set[k] = true
		}
	}
	axes := make([]string, 0, len(set))
	for k := range set {
		axes = append(axes, k)
	}
	sort.Strings(axes)
	return axes
}

// showMetric reports whether the tables name each group's metric: when some
// group's is not the default one (final_bias, drop), so also when a sweep's
// boundaries on several metrics are shown side by side.
func showMetric(groups []Group) bool {
	for _, g := range groups {
		if !g.Metric.IsDefault() {
			return true
		}
	}
	return false
}

// csvHeader lists the columns WriteCSV writes after the group axes.
var csvHeader = []string{
	"crossing", "bracket_low", "bracket_high", "eta_star", "ci_low", "ci_high", "fit",
	"onset", "onset_ci_low", "onset_ci_high", "onset_form", "theory", "stability", "trials",
}

// WriteCSV writes one row per group: the group's metric (a column "metric"
// holding Metric.String, when showMetric), its axis values, then csvHeader.
// A missing theory is an empty cell.
func WriteCSV(w io.Writer, groups []Group) error {
	axes := axesOf(groups)
	withMetric := showMetric(groups)
	cw := csv.NewWriter(w)
	var head []string
	if withMetric {
		head = append(head, "metric")
	}
	if err := cw.Write(append(append(head, axes...), csvHeader...)); err != nil {
		return fmt.Errorf("boundary csv: %w", err)
	}
	for _, g := range groups {
		row := make([]string, 0, 1+len(axes)+len(csvHeader))
		if withMetric {
			row = append(row, g.Metric.String())
		}
		for _, a := range axes {
			row = append(row, num(g.Key[a]))
		}
		theory := ""
		if g.Theory != nil {
			theory = num(*g.Theory)
		}
		row = append(row, string(g.Crossing), num(g.Bracket.Low), num(g.Bracket.High),
			num(g.EtaStar), num(g.CI.Low), num(g.CI.High), g.Fit,
			num(g.Onset), num(g.OnsetCI.Low), num(g.OnsetCI.High), g.OnsetForm,
			theory, num(g.Stability), strconv.Itoa(g.Trials))
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("boundary csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("boundary csv: %w", err)
	}
	return nil
}

func num(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// WriteTable writes an aligned plain-text table, one line per group: the
// bracket (or the side of the grid the crossing is on), η* with its 95%
// interval, the onset with its interval, the theory and stability lines, and
// η*/theory and onset/theory where there is a theory. When showMetric, the
// first column names each group's metric (several metrics of one sweep come
// out side by side, one line per metric and group).
func WriteTable(w io.Writer, groups []Group) error {
	axes := axesOf(groups)
	withMetric := showMetric(groups)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if withMetric {
		fmt.Fprint(tw, "metric\t")
	}
	for _, a := range axes {
		fmt.Fprintf(tw, "%s\t", a)
	}
	fmt.Fprintln(tw, "bracket\tη* [95% CI]\tonset [95% CI]\ttheory\t2/S₀\tη*/theory\tonset/theory\ttrials")
	for _, g := range groups {
		if withMetric {
			fmt.Fprintf(tw, "%s\t", g.Metric)
		}
		for _, a := range axes {
			fmt.Fprintf(tw, "%g\t", g.Key[a])
		}
		theory, r1, r2 := "—", "—", "—"
		if g.Theory != nil && *g.Theory > 0 {
			theory = fmt.Sprintf("%.4g", *g.Theory)
			if g.Fit != FitNone {
				r1 = fmt.Sprintf("%.4f", g.EtaStar / *g.Theory)
			}
			if g.OnsetForm != OnsetNone {
				r2 = fmt.Sprintf("%.4f", g.Onset / *g.Theory)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.4g\t%s\t%s\t%d\n", bracketText(g),
			estimateText(g.Fit != FitNone, g.EtaStar, g.CI), estimateText(g.OnsetForm != OnsetNone, g.Onset, g.OnsetCI),
			theory, g.Stability, r1, r2, g.Trials)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("boundary table: %w", err)
	}
	return nil
}

func bracketText(g Group) string {
	switch g.Crossing {
	case CrossingBelow:
		return fmt.Sprintf("below grid (< %.4g)", g.Bracket.Low)
	case CrossingAbove:
		return fmt.Sprintf("above grid (> %.4g)", g.Bracket.High)
	}
	return fmt.Sprintf("[%.4g, %.4g]", g.Bracket.Low, g.Bracket.High)
}

func estimateText(ok bool, v float64, ci Interval) string {
	if !ok || math.IsNaN(v) {
		return "—"
	}
	return fmt.Sprintf("%.4g [%.4g, %.4g]", v, ci.Low, ci.High)
}
