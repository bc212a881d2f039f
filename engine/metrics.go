package engine

import (
	"fmt"
	"maps"
	"math"
	"slices"
)

// Bounds of Result.Metrics: how many further metrics a result may carry and
// how long their names may be.
const (
	MaxMetrics    = 64
	MaxMetricName = 64
)

// metricFields maps the names of Result's scalar fields (their JSON names)
// to readers and writers. Booleans read as 0 or 1; an absent accuracy (nil)
// reads as not there.
var metricFields = map[string]struct {
	get func(*Result) (float64, bool)
	set func(*Result, float64)
}{
	"final_bias":               {always(func(r *Result) float64 { return r.FinalBias }), func(r *Result, v float64) { r.FinalBias = v }},
	"min_bias":                 {always(func(r *Result) float64 { return r.MinBias }), func(r *Result, v float64) { r.MinBias = v }},
	"initial_sharpness":        {always(func(r *Result) float64 { return r.InitialSharpness }), func(r *Result, v float64) { r.InitialSharpness = v }},
	"final_sharpness":          {always(func(r *Result) float64 { return r.FinalSharpness }), func(r *Result, v float64) { r.FinalSharpness = v }},
	"eos_ratio":                {always(func(r *Result) float64 { return r.EOSRatio }), func(r *Result, v float64) { r.EOSRatio = v }},
	"max_eos_ratio":            {always(func(r *Result) float64 { return r.MaxEOSRatio }), func(r *Result, v float64) { r.MaxEOSRatio = v }},
	"max_eos_ratio_after_init": {always(func(r *Result) float64 { return r.MaxEOSRatioAfterInit }), func(r *Result, v float64) { r.MaxEOSRatioAfterInit = v }},
	"final_loss":               {always(func(r *Result) float64 { return r.FinalLoss }), func(r *Result, v float64) { r.FinalLoss = v }},
	"train_acc":                {optional(func(r *Result) *float64 { return r.TrainAcc }), func(r *Result, v float64) { r.TrainAcc = &v }},
	"test_acc":                 {optional(func(r *Result) *float64 { return r.TestAcc }), func(r *Result, v float64) { r.TestAcc = &v }},
	"wall_ms":                  {always(func(r *Result) float64 { return r.WallMS }), func(r *Result, v float64) { r.WallMS = v }},
	"steps_run":                {always(func(r *Result) float64 { return float64(r.StepsRun) }), func(r *Result, v float64) { r.StepsRun = int(v) }},
	"bias_negative":            {always(func(r *Result) float64 { return b2f(r.BiasNegative) }), func(r *Result, v float64) { r.BiasNegative = v != 0 }},
	"diverged":                 {always(func(r *Result) float64 { return b2f(r.Diverged) }), func(r *Result, v float64) { r.Diverged = v != 0 }},
	"dead":                     {always(func(r *Result) float64 { return b2f(r.Dead) }), func(r *Result, v float64) { r.Dead = v != 0 }},
}

func always(f func(*Result) float64) func(*Result) (float64, bool) {
	return func(r *Result) (float64, bool) { return f(r), true }
}

func optional(f func(*Result) *float64) func(*Result) (float64, bool) {
	return func(r *Result) (float64, bool) {
		if p := f(r); p != nil {
			return *p, true
		}
		return 0, false
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// FieldNames returns the JSON names of Result's scalar fields, sorted: the
// metrics every result has.
func FieldNames() []string { return slices.Sorted(maps.Keys(metricFields)) }

// IsField reports whether name is one of FieldNames.
func IsField(name string) bool {
	_, ok := metricFields[name]
	return ok
}

// IsBoolField reports whether name is a boolean field of Result
// (bias_negative, diverged, dead).
func IsBoolField(name string) bool {
	return name == "bias_negative" || name == "diverged" || name == "dead"
}

// Metric returns the value of the metric name: the scalar field of that JSON
// name (booleans as 0 or 1; an absent accuracy is not found), else the entry
// of Metrics. It is the one place the boundary analysis reads an order
// parameter from.
func (r *Result) Metric(name string) (float64, bool) {
	if f, ok := metricFields[name]; ok {
		return f.get(r)
	}
	v, ok := r.Metrics[name]
	return v, ok
}

// SetMetric sets the metric name: the scalar field of that JSON name
// (steps_run truncated to an integer; booleans true when v ≠ 0), else an
// entry of Metrics. It does not validate; see CheckMetrics.
func (r *Result) SetMetric(name string, v float64) {
	if f, ok := metricFields[name]; ok {
		f.set(r, v)
		return
	}
	if r.Metrics == nil {
		r.Metrics = map[string]float64{}
	}
	r.Metrics[name] = v
}

// ValidName reports whether name is a valid metric or parameter name of an
// exec sweep: [a-z_][a-z0-9_]*, at most MaxMetricName bytes.
func ValidName(name string) bool {
	if name == "" || len(name) > MaxMetricName {
		return false
	}
	for i, c := range []byte(name) {
		switch {
		case c == '_' || (c >= 'a' && c <= 'z'):
		case i > 0 && c >= '0' && c <= '9':
		default:
			return false
		}
	}
	return true
}

// CheckMetrics checks Result.Metrics: at most MaxMetrics entries, each named
// by ValidName and not a field name (those go in their field), each finite.
// Errors wrap ErrInvalidResult and name the metric.
func (r *Result) CheckMetrics() error {
	if len(r.Metrics) > MaxMetrics {
		return fmt.Errorf("%w: metrics: %d entries, at most %d", ErrInvalidResult, len(r.Metrics), MaxMetrics)
	}
	for _, k := range slices.Sorted(maps.Keys(r.Metrics)) {
		v := r.Metrics[k]
		switch {
		case !ValidName(k):
			return fmt.Errorf("%w: metrics: name %.80q is not [a-z_][a-z0-9_]* of at most %d bytes", ErrInvalidResult, k, MaxMetricName)
		case IsField(k):
			return fmt.Errorf("%w: metrics.%s: is a result field (set the field, not a metric)", ErrInvalidResult, k)
		case math.IsNaN(v) || math.IsInf(v, 0):
			return fmt.Errorf("%w: metrics.%s: %v is not finite", ErrInvalidResult, k, v)
		}
	}
	return nil
}
