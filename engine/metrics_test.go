package engine

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestMetricFieldsRoundTrip(t *testing.T) {
	t.Parallel()
	for i, name := range FieldNames() {
		var r Result
		v := float64(i + 2)
		if IsBoolField(name) {
			v = 1
		}
		r.SetMetric(name, v)
		got, ok := r.Metric(name)
		if !ok || got != v {
			t.Errorf("%s: Metric = %v, %v after SetMetric(%v)", name, got, ok, v)
		}
		if r.Metrics != nil {
			t.Errorf("%s: a field name went into Metrics", name)
		}
	}
	var r Result
	r.FinalBias, r.MaxEOSRatio, r.Diverged = -0.5, 1.01, true
	for name, want := range map[string]float64{"final_bias": -0.5, "max_eos_ratio": 1.01, "diverged": 1, "dead": 0} {
		if got, ok := r.Metric(name); !ok || got != want {
			t.Errorf("Metric(%s) = %v, %v; want %v", name, got, ok, want)
		}
	}
	r.SetMetric("val_loss", 0.25)
	if got, ok := r.Metric("val_loss"); !ok || got != 0.25 || r.Metrics["val_loss"] != 0.25 {
		t.Errorf("Metric(val_loss) = %v, %v; Metrics = %v", got, ok, r.Metrics)
	}
	if _, ok := r.Metric("absent"); ok {
		t.Error("Metric(absent) found")
	}
	if v, ok := r.Metric("test_acc"); ok {
		t.Errorf("Metric(test_acc) of a result without accuracies = %v, found (want absent, not 0)", v)
	}
}

func TestCheckMetrics(t *testing.T) {
	t.Parallel()
	many := map[string]float64{}
	for i := range MaxMetrics + 1 {
		many["m"+strings.Repeat("x", i%10)+string(rune('a'+i%26))+string(rune('a'+i/26))] = 1
	}
	tests := []struct {
		name    string
		metrics map[string]float64
		want    string // "" = valid
	}{
		{"none", nil, ""},
		{"ok", map[string]float64{"val_loss": 1, "_x9": -2}, ""},
		{"nan", map[string]float64{"val_loss": math.NaN()}, "metrics.val_loss: NaN is not finite"},
		{"inf", map[string]float64{"v": math.Inf(1)}, "metrics.v: +Inf is not finite"},
		{"upper", map[string]float64{"valLoss": 1}, `name "valLoss"`},
		{"digit first", map[string]float64{"9a": 1}, `name "9a"`},
		{"long", map[string]float64{strings.Repeat("a", MaxMetricName+1): 1}, "at most 64 bytes"},
		{"field", map[string]float64{"final_bias": 1}, "metrics.final_bias: is a result field"},
		{"many", many, "65 entries, at most 64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := Result{Metrics: tt.metrics}
			err := r.CheckMetrics()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("CheckMetrics: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidResult) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("CheckMetrics = %v, want ErrInvalidResult containing %q", err, tt.want)
			}
		})
	}
}

func TestValidName(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]bool{"eta": true, "_": true, "a1_b": true, "": false, "1a": false, "A": false,
		"a-b": false, "é": false, strings.Repeat("a", MaxMetricName): true, strings.Repeat("a", MaxMetricName+1): false} {
		if got := ValidName(name); got != want {
			t.Errorf("ValidName(%q) = %v, want %v", name, got, want)
		}
	}
}
