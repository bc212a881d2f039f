package spec

import (
	"fmt"
	"reflect"

	"go.yaml.in/yaml/v3"

	"github.com/eosweep/eosweep/coordinator/boundary"
	"github.com/eosweep/eosweep/engine"
)

// MaxMetrics bounds boundary.metrics.
const MaxMetrics = 8

// Metric is one order parameter of a spec's boundary analysis: the metric
// and, when given, its own threshold.
type Metric struct {
	boundary.Metric
	// Eps is the threshold of the metric's change (nil: boundary.bias_eps
	// or the model's, for a metric against its plateau; 0 against a level).
	Eps *float64 `json:",omitempty"`
}

// rawMetrics are the boundary keys that choose the order parameters: one
// metric (metric, sense, level), or a list (metrics: entries of a name or
// {metric, sense, level, eps}).
type rawMetrics struct {
	Metric  *string     `yaml:"metric"`
	Sense   *string     `yaml:"sense"`
	Level   *float64    `yaml:"level"`
	Metrics []yaml.Node `yaml:"metrics"`
}

// EOSLevel is the level max_eos_ratio and eos_ratio rise past when named
// alone: the edge of stability, η·S/2 = 1, within 5%. Runs at the edge hover
// just below it (measured on the sparse model at d = 100: the run's largest
// η·S/2 is 0.96–1.0 from η* on, and below 1 for some seeds at every η), so
// a level of exactly 1 is missed by some seeds; level: 1 asks for it.
const EOSLevel = 0.95

// metricDefaults are the sense and level a metric named alone takes: η·S/2
// rises past EOSLevel at the edge of stability; every other metric drops
// against its plateau, as the bias of the threshold neuron does.
func metricDefaults(name string) boundary.Metric {
	switch name {
	case "max_eos_ratio", "eos_ratio":
		level := EOSLevel
		return boundary.Metric{Name: name, Sense: boundary.SenseRise, Level: &level}
	}
	return boundary.Metric{Name: name, Sense: boundary.SenseDrop}
}

// parseMetrics fills s.Boundary.Metrics. The default analysis alone
// (final_bias dropping against its plateau, the spec's bias_eps) is stored
// as no metrics, so that spelling it out names the same sweep.
func (s *Spec) parseMetrics(raw *rawMetrics) error {
	single := raw.Metric != nil || raw.Sense != nil || raw.Level != nil
	if single && raw.Metrics != nil {
		return fmt.Errorf("%w: boundary.metrics: give metric (with sense, level) or metrics, not both", ErrInvalid)
	}
	var ms []Metric
	switch {
	case single:
		name := boundary.DefaultMetric
		if raw.Metric != nil {
			name = *raw.Metric
		}
		m, err := s.metric("boundary", name, raw.Sense, raw.Level, nil)
		if err != nil {
			return err
		}
		ms = append(ms, m)
	case raw.Metrics != nil:
		if len(raw.Metrics) == 0 || len(raw.Metrics) > MaxMetrics {
			return fmt.Errorf("%w: boundary.metrics: %d entries, want 1 to %d", ErrInvalid, len(raw.Metrics), MaxMetrics)
		}
		seen := map[string]bool{}
		for i := range raw.Metrics {
			field := fmt.Sprintf("boundary.metrics[%d]", i)
			m, err := s.metricEntry(field, &raw.Metrics[i])
			if err != nil {
				return err
			}
			if seen[m.String()] {
				return fmt.Errorf("%w: %s: %s is listed twice", ErrInvalid, field, m)
			}
			seen[m.String()] = true
			ms = append(ms, m)
		}
	}
	if len(ms) == 1 && ms[0].IsDefault() && ms[0].Eps == nil {
		ms = nil
	}
	s.Boundary.Metrics = ms
	return nil
}

// rawMetricEntry is an entry of boundary.metrics given as a mapping.
type rawMetricEntry struct {
	Metric string   `yaml:"metric"`
	Sense  *string  `yaml:"sense"`
	Level  *float64 `yaml:"level"`
	Eps    *float64 `yaml:"eps"`
}

// metricEntry parses one entry of boundary.metrics: a name, or a mapping
// with metric (required), sense, level and eps.
func (s *Spec) metricEntry(field string, node *yaml.Node) (Metric, error) {
	switch node.Kind {
	case yaml.ScalarNode:
		return s.metric(field, node.Value, nil, nil, nil)
	case yaml.MappingNode:
		var e rawMetricEntry
		if err := checkKeys(node, reflect.TypeFor[rawMetricEntry](), field+"."); err != nil { // decode.go
			return Metric{}, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		if err := node.Decode(&e); err != nil {
			return Metric{}, fmt.Errorf("%w: %s: %w", ErrInvalid, field, yamlError(err))
		}
		if e.Metric == "" {
			return Metric{}, fmt.Errorf("%w: %s.metric: required", ErrInvalid, field)
		}
		return s.metric(field, e.Metric, e.Sense, e.Level, e.Eps)
	}
	return Metric{}, fmt.Errorf("%w: %s: want a metric name or {metric, sense, level, eps}", ErrInvalid, field)
}

// metric checks one metric: a result field of the engine's models (not a
// flag), any valid name for model exec; sense drop or rise; level and eps
// finite (eps ≥ 0). A metric given without sense and level takes
// metricDefaults; with either, the other is as given (no level: the plateau).
func (s *Spec) metric(field, name string, sense *string, level, eps *float64) (Metric, error) {
	switch {
	case engine.IsBoolField(name):
		return Metric{}, fmt.Errorf("%w: %s.metric: %s is a flag, not a metric", ErrInvalid, field, name)
	case s.Model == engine.ModelExec && !engine.ValidName(name):
		return Metric{}, fmt.Errorf("%w: %s.metric: %.80q is not a metric name [a-z_][a-z0-9_]*", ErrInvalid, field, name)
	case s.Model != engine.ModelExec && !engine.IsField(name):
		return Metric{}, fmt.Errorf("%w: %s.metric: %.80q is not a result field of model %s (want one of %v)", ErrInvalid, field, name, s.Model, engine.FieldNames())
	}
	m := metricDefaults(name)
	if sense != nil || level != nil {
		m = boundary.Metric{Name: name, Sense: boundary.SenseDrop}
		if sense != nil {
			m.Sense = boundary.Sense(*sense)
		}
		if level != nil {
			if !finite(*level) {
				return Metric{}, fmt.Errorf("%w: %s.level: %v is not a finite number", ErrInvalid, field, *level)
			}
			m.Level = level
		}
	}
	if m.Sense != boundary.SenseDrop && m.Sense != boundary.SenseRise {
		return Metric{}, fmt.Errorf("%w: %s.sense: %q is not %s or %s", ErrInvalid, field, m.Sense, boundary.SenseDrop, boundary.SenseRise)
	}
	if eps != nil && (!finite(*eps) || *eps < 0) {
		return Metric{}, fmt.Errorf("%w: %s.eps: %v must be a finite number >= 0", ErrInvalid, field, *eps)
	}
	return Metric{Metric: m, Eps: eps}, nil
}

// Analyses returns the options of the spec's boundary analyses, one per
// metric in the order given (one, the default final_bias, when the spec
// names none). Each is Analysis with that metric and its threshold.
func (s *Spec) Analyses() []boundary.Options {
	base := boundary.Options{Model: s.Model, GroupBy: s.GroupBy(), BiasEps: s.BiasEps(), ReferenceEta: s.Boundary.ReferenceEta}
	if len(s.Boundary.Metrics) == 0 {
		return []boundary.Options{base}
	}
	out := make([]boundary.Options, len(s.Boundary.Metrics))
	for i, m := range s.Boundary.Metrics {
		o := base
		o.Metric = m.Metric
		switch {
		case m.Eps != nil:
			o.BiasEps = *m.Eps
		case m.Level != nil:
			o.BiasEps = 0
		}
		out[i] = o
	}
	return out
}
