package boundary

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/eosweep/eosweep/engine"
)

// Sense says which way a metric moves past the boundary, into the phase the
// analysis looks for.
type Sense string

// Senses.
const (
	// SenseDrop: the metric falls below its reference (the bias of the
	// paper's threshold neuron).
	SenseDrop Sense = "drop"
	// SenseRise: the metric climbs above its reference (η·sharpness/2
	// reaching 1 at the edge of stability, an accuracy that improves).
	SenseRise Sense = "rise"
)

// DefaultMetric is the metric of an analysis whose Options.Metric has no name.
const DefaultMetric = "final_bias"

// Metric is the order parameter of an analysis: a result field or an exec
// program's metric (engine.Result.Metric), the way it moves, and what it is
// compared with. The zero value is final_bias, drop, against each seed's
// plateau: the analysis of the paper's threshold neuron.
type Metric struct {
	// Name is the metric's name (engine.Result.Metric); "" is DefaultMetric.
	Name string
	// Sense is SenseDrop or SenseRise; "" is SenseDrop.
	Sense Sense
	// Level, when set, is a fixed value the metric is compared with instead
	// of each seed's plateau (its value at the reference η): a trial is
	// learned when it is past Level by more than the threshold (Options.BiasEps,
	// which is then taken as given, 0 included). A level crossing has no
	// hinge shape, so such an analysis fits no onset.
	Level *float64
}

// MetricName returns the metric's name, DefaultMetric when it has none.
func (m Metric) MetricName() string {
	if m.Name == "" {
		return DefaultMetric
	}
	return m.Name
}

// MetricSense returns the metric's sense, SenseDrop when it has none.
func (m Metric) MetricSense() Sense {
	if m.Sense == "" {
		return SenseDrop
	}
	return m.Sense
}

// IsDefault reports whether m is the default metric (final_bias, drop,
// against the plateau), however spelled.
func (m Metric) IsDefault() bool {
	return m.MetricName() == DefaultMetric && m.MetricSense() == SenseDrop && m.Level == nil
}

// String describes the metric: "final_bias drop", "max_eos_ratio rise past 1".
func (m Metric) String() string {
	s := m.MetricName() + " " + string(m.MetricSense())
	if m.Level != nil {
		s += " past " + strconv.FormatFloat(*m.Level, 'g', -1, 64)
	}
	return s
}

// Value reads the metric from a result: the one place the analysis takes its
// order parameter from. ok is false when the result does not hold it.
func (m Metric) Value(r *engine.Result) (v float64, ok bool) {
	return r.Metric(m.MetricName())
}

// change is how far v has moved from ref in the metric's sense: ref − v for
// a drop, v − ref for a rise.
func (m Metric) change(v, ref float64) float64 {
	if m.MetricSense() == SenseRise {
		return v - ref
	}
	return ref - v
}

// check refuses an unknown sense.
func (m Metric) check() error {
	switch m.MetricSense() {
	case SenseDrop, SenseRise:
		return nil
	}
	return fmt.Errorf("metric %s: sense %q is not %q or %q", m.MetricName(), m.Sense, SenseDrop, SenseRise)
}

// AnalyzeEach analyses the trials, with the sweep's trials that have no
// result (AnalyzeIncomplete; nil for none), once per options — one per metric
// of a sweep (spec.Spec.Analyses) — and returns the analyses in that order.
func AnalyzeEach(trials []Trial, missing []MissingTrial, opts []Options) ([]Analysis, error) {
	out := make([]Analysis, len(opts))
	for i, o := range opts {
		a, err := AnalyzeIncomplete(trials, missing, o)
		if err != nil {
			return nil, fmt.Errorf("metric %s: %w", o.Metric, err)
		}
		out[i] = a
	}
	return out, nil
}

// SideBySide returns the groups of several analyses of one set of trials
// (AnalyzeEach), ordered by group and, within a group, by analysis: the
// boundaries of every metric of a group next to each other.
func SideBySide(as []Analysis) []Group {
	type at struct{ analysis, group int }
	var order []at
	pos := map[string]int{} // group name → rank by first appearance
	for i, a := range as {
		for j, g := range a.Groups {
			name := GroupName(a.Options.GroupBy, g.Key)
			if _, ok := pos[name]; !ok {
				pos[name] = len(pos)
			}
			order = append(order, at{i, j})
		}
	}
	rank := func(x at) int { a := as[x.analysis]; return pos[GroupName(a.Options.GroupBy, a.Groups[x.group].Key)] }
	sort.SliceStable(order, func(i, j int) bool { return rank(order[i]) < rank(order[j]) })
	out := make([]Group, len(order))
	for i, x := range order {
		out[i] = as[x.analysis].Groups[x.group]
	}
	return out
}
