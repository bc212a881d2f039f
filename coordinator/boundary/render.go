package boundary

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Record is the JSON form of one group's boundary, as in boundary.json:
// intervals are [low, high] pairs, Theory is null for models without one.
// Missing, Diverged and Unconverged are lists (empty, never null).
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
	// Incomplete is set when some of the group's trials have no result.
	Incomplete bool `json:"incomplete"`
	// Missing are those trials: trial, eta, seed, state, attempt, error.
	Missing []Mark `json:"missing"`
	// Diverged are the group's diverged trials (state "diverged").
	Diverged []Mark `json:"diverged"`
	// Unconverged names the estimates a missing trial could still move:
	// "bracket", "ci", "onset_ci".
	Unconverged []string `json:"unconverged"`
	Rows        []EtaRow `json:"rows,omitempty"`
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
			Stability: g.Stability, Trials: g.Trials, Incomplete: g.Incomplete,
			Missing: nonNil(g.Missing), Diverged: nonNil(g.Diverged), Unconverged: nonNil(g.Unconverged),
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

// nonNil returns s, or an empty slice for nil (JSON [] rather than null).
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

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
	"incomplete", "missing", "diverged", "unconverged", "missing_trials", "diverged_trials",
	"metric", "sense", "level",
}

// WriteCSV writes one row per group: the group's axis values, then csvHeader.
// A missing theory is an empty cell. missing and diverged count the marked
// trials, missing_trials and diverged_trials list them as "state eta=… seed=…"
// joined by "; ", unconverged joins its names with ";". metric, sense and
// level are the group's order parameter (Group.Metric: its name, drop or
// rise, and the fixed level it is compared with, an empty cell for each
// seed's plateau): several metrics of one sweep are rows side by side.
func WriteCSV(w io.Writer, groups []Group) error {
	axes := axesOf(groups)
	cw := csv.NewWriter(w)
	if err := cw.Write(append(append([]string{}, axes...), csvHeader...)); err != nil {
		return fmt.Errorf("boundary csv: %w", err)
	}
	for _, g := range groups {
		row := make([]string, 0, len(axes)+len(csvHeader))
		for _, a := range axes {
			row = append(row, num(g.Key[a]))
		}
		theory, level := "", ""
		if g.Theory != nil {
			theory = num(*g.Theory)
		}
		if g.Metric.Level != nil {
			level = num(*g.Metric.Level)
		}
		row = append(row, string(g.Crossing), num(g.Bracket.Low), num(g.Bracket.High),
			num(g.EtaStar), num(g.CI.Low), num(g.CI.High), g.Fit,
			num(g.Onset), num(g.OnsetCI.Low), num(g.OnsetCI.High), g.OnsetForm,
			theory, num(g.Stability), strconv.Itoa(g.Trials),
			strconv.FormatBool(g.Incomplete), strconv.Itoa(len(g.Missing)), strconv.Itoa(len(g.Diverged)),
			strings.Join(g.Unconverged, ";"), markList(g.Missing), markList(g.Diverged),
			g.Metric.MetricName(), string(g.Metric.MetricSense()), level)
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

// markList renders marks for a CSV cell: "failed eta=0.5 seed=1; ...".
func markList(ms []Mark) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = fmt.Sprintf("%s eta=%s seed=%s", m.State, num(m.Eta), num(m.Seed))
	}
	return strings.Join(parts, "; ")
}

// WriteTable writes an aligned plain-text table, one line per group: the
// bracket (or the side of the grid the crossing is on), η* with its 95%
// interval, the onset with its interval, the theory and stability lines,
// η*/theory and onset/theory where there is a theory, the trials analysed and
// those without a result. An estimate a missing trial could still move
// carries a "*". Below the table, for every group with trials missing or
// diverged, one line per kind says which η and seeds, and why. When
// showMetric, the first column names each group's metric (several metrics of
// one sweep come out side by side, one line per metric and group).
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
	fmt.Fprintln(tw, "bracket\tη* [95% CI]\tonset [95% CI]\ttheory\t2/S₀\tη*/theory\tonset/theory\ttrials\tmissing")
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
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.4g\t%s\t%s\t%d\t%d\n", bracketText(g)+star(g, EstimateBracket),
			estimateText(g.Fit != FitNone, g.EtaStar, g.CI)+star(g, EstimateCI),
			estimateText(g.OnsetForm != OnsetNone, g.Onset, g.OnsetCI)+star(g, EstimateOnsetCI),
			theory, g.Stability, r1, r2, g.Trials, len(g.Missing))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("boundary table: %w", err)
	}
	if _, err := io.WriteString(w, Notes(axes, groups)); err != nil {
		return fmt.Errorf("boundary table: %w", err)
	}
	return nil
}

// star is "*" when the group's estimate named may still move.
func star(g Group, estimate string) string {
	if slices.Contains(g.Unconverged, estimate) {
		return "*"
	}
	return ""
}

// Notes says, for every group with trials missing or diverged, which η and
// seeds and why — the lines WriteTable prints below its table, "" when every
// group is complete and nothing diverged. axes name the groups (GroupName).
func Notes(axes []string, groups []Group) string {
	var b strings.Builder
	unconverged := false
	seen := map[string]bool{} // a group's boundaries on several metrics share its trials
	for _, g := range groups {
		unconverged = unconverged || len(g.Unconverged) > 0
		name := GroupName(axes, g.Key)
		if seen[name] {
			continue
		}
		seen[name] = true
		if n := len(g.Missing); n > 0 {
			fmt.Fprintf(&b, "%s: %d of %s have no result, so the estimates do not see them: %s\n",
				name, n, plural(n+g.Trials, "trial"), clusters(g.Missing))
		}
		if n := len(g.Diverged); n > 0 {
			fmt.Fprintf(&b, "%s: %s diverged (never learned, in no fit): %s\n", name, plural(n, "trial"), clusters(g.Diverged))
		}
	}
	if unconverged {
		b.WriteString("* may still move: a trial without a result could change it (run the sweep again, or `eosweep retry` its failed trials)\n")
	}
	return b.String()
}

// plural renders "1 trial", "2 trials".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// clusters renders marks grouped by state, η and error:
// "failed at η = 0.5 (seeds 0, 1): lease expired; pending at η = 1 (seed 0)".
func clusters(ms []Mark) string {
	type cluster struct {
		state, err string
		eta        float64
		seeds      []string
	}
	var out []*cluster
	for _, m := range ms {
		var c *cluster
		for _, x := range out {
			if x.state == m.State && x.eta == m.Eta && x.err == m.Error {
				c = x
			}
		}
		if c == nil {
			c = &cluster{state: m.State, err: m.Error, eta: m.Eta}
			out = append(out, c)
		}
		c.seeds = append(c.seeds, num(m.Seed))
	}
	parts := make([]string, len(out))
	for i, c := range out {
		seeds := "seed " + c.seeds[0]
		if len(c.seeds) > 1 {
			seeds = "seeds " + strings.Join(c.seeds, ", ")
		}
		parts[i] = fmt.Sprintf("%s at η = %.4g (%s)", c.state, c.eta, seeds)
		if c.err != "" {
			parts[i] += ": " + c.err
		}
	}
	return strings.Join(parts, "; ")
}

func bracketText(g Group) string {
	if g.Trials == 0 {
		return "no results"
	}
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
