package boundarypb_test

import (
	"reflect"
	"testing"

	"github.com/eosweep/eosweep/coordinator/boundary"
	"github.com/eosweep/eosweep/coordinator/boundary/boundarypb"
	"github.com/eosweep/eosweep/internal/wire/wiretest"
	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
)

func TestGroupRoundTrip(t *testing.T) {
	t.Parallel()
	var g boundary.Group
	// The group's strings are its fit and onset form: "none" is valid for both.
	wiretest.Fill(t, &g, map[reflect.Type]any{reflect.TypeFor[boundary.Crossing](): boundary.CrossingBelow,
		reflect.TypeFor[string](): boundary.FitNone, reflect.TypeFor[boundary.Sense](): boundary.SenseRise})
	if got := boundarypb.GroupFromProto(boundarypb.GroupToProto(g)); !reflect.DeepEqual(got, g) {
		t.Fatalf("round trip lost fields:\n got %+v\nwant %+v", got, g)
	}
}

// Every fit kind and onset form the analysis produces has its enum value on
// the wire and comes back unchanged.
func TestFitAndOnsetFormEnums(t *testing.T) {
	t.Parallel()
	fits := map[string]pb.Fit{boundary.FitNone: pb.Fit_FIT_NONE, boundary.FitMLE: pb.Fit_FIT_MLE,
		boundary.FitSeparated: pb.Fit_FIT_SEPARATED}
	for fit, want := range fits {
		p := boundarypb.GroupToProto(boundary.Group{Fit: fit, OnsetForm: boundary.OnsetNone})
		if p.GetFit() != want {
			t.Errorf("fit %q is %v on the wire, want %v", fit, p.GetFit(), want)
		}
		if back := boundarypb.GroupFromProto(p); back.Fit != fit {
			t.Errorf("fit %q came back as %q", fit, back.Fit)
		}
	}
	forms := map[string]pb.OnsetForm{"log-linear": pb.OnsetForm_ONSET_FORM_LOG_LINEAR, "linear": pb.OnsetForm_ONSET_FORM_LINEAR,
		"log-quadratic": pb.OnsetForm_ONSET_FORM_LOG_QUADRATIC}
	if len(forms) != len(boundary.HingeForms()) {
		t.Fatalf("the analysis has forms %v, the test knows %d", boundary.HingeForms(), len(forms))
	}
	for _, form := range boundary.HingeForms() {
		want, ok := forms[form]
		if !ok {
			t.Errorf("hinge form %q has no enum value", form)
		}
		for _, relative := range []bool{false, true} {
			name := form
			if relative {
				name += "+relative"
			}
			p := boundarypb.GroupToProto(boundary.Group{Fit: boundary.FitMLE, OnsetForm: name})
			if p.GetOnsetForm() != want || p.GetOnsetRelative() != relative {
				t.Errorf("onset form %q is %v relative=%v on the wire", name, p.GetOnsetForm(), p.GetOnsetRelative())
			}
			if back := boundarypb.GroupFromProto(p); back.OnsetForm != name {
				t.Errorf("onset form %q came back as %q", name, back.OnsetForm)
			}
		}
	}
	if p := boundarypb.GroupToProto(boundary.Group{Fit: boundary.FitNone, OnsetForm: boundary.OnsetNone}); p.GetOnsetForm() != pb.OnsetForm_ONSET_FORM_NONE {
		t.Errorf("onset none is %v on the wire", p.GetOnsetForm())
	}
}

// A metric's sense is an enum on the wire; the empty sense (the default,
// drop) goes as SENSE_DROP, never UNSPECIFIED, and the metric's name and
// level come back as sent.
func TestSenseEnum(t *testing.T) {
	t.Parallel()
	one := 1.0
	for _, c := range []struct {
		metric boundary.Metric
		want   pb.Sense
		back   boundary.Sense
	}{
		{boundary.Metric{}, pb.Sense_SENSE_DROP, boundary.SenseDrop},
		{boundary.Metric{Name: "final_bias", Sense: boundary.SenseDrop}, pb.Sense_SENSE_DROP, boundary.SenseDrop},
		{boundary.Metric{Name: "max_eos_ratio", Sense: boundary.SenseRise, Level: &one}, pb.Sense_SENSE_RISE, boundary.SenseRise},
	} {
		p := boundarypb.GroupToProto(boundary.Group{Fit: boundary.FitNone, OnsetForm: boundary.OnsetNone, Metric: c.metric})
		if p.GetSense() != c.want || p.GetMetric() != c.metric.Name || (p.Level == nil) != (c.metric.Level == nil) {
			t.Errorf("%v: on the wire metric %q sense %v level %v", c.metric, p.GetMetric(), p.GetSense(), p.Level)
		}
		back := boundarypb.GroupFromProto(p).Metric
		if back.Sense != c.back || back.Name != c.metric.Name || back.MetricName() != c.metric.MetricName() {
			t.Errorf("%v came back as %+v", c.metric, back)
		}
	}
}
