// Package boundarypb converts boundary groups to and from their protobuf form
// (GetBoundary's answer). It sits with the analysis, apart from package wire,
// so that what a worker links never includes the boundary analysis.
package boundarypb

import (
	"strings"

	"github.com/eosweep/eosweep/coordinator/boundary"
	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
)

var crossings = map[boundary.Crossing]pb.Crossing{
	boundary.CrossingInside: pb.Crossing_CROSSING_INSIDE,
	boundary.CrossingBelow:  pb.Crossing_CROSSING_BELOW,
	boundary.CrossingAbove:  pb.Crossing_CROSSING_ABOVE,
}

// senses maps boundary.Metric's senses; the empty sense (SenseDrop by
// default) goes on the wire as SENSE_DROP.
var senses = map[boundary.Sense]pb.Sense{
	boundary.SenseDrop: pb.Sense_SENSE_DROP,
	boundary.SenseRise: pb.Sense_SENSE_RISE,
}

var fits = map[string]pb.Fit{
	boundary.FitNone:      pb.Fit_FIT_NONE,
	boundary.FitMLE:       pb.Fit_FIT_MLE,
	boundary.FitSeparated: pb.Fit_FIT_SEPARATED,
}

// onsetForms maps boundary.HingeForms and boundary.OnsetNone; a form may
// carry relativeSuffix (the global fit under relative errors stood).
var onsetForms = map[string]pb.OnsetForm{
	boundary.OnsetNone: pb.OnsetForm_ONSET_FORM_NONE,
	"log-linear":       pb.OnsetForm_ONSET_FORM_LOG_LINEAR,
	"linear":           pb.OnsetForm_ONSET_FORM_LINEAR,
	"log-quadratic":    pb.OnsetForm_ONSET_FORM_LOG_QUADRATIC,
}

const relativeSuffix = "+relative"

// lookup returns the key of m whose value is v, or "" (an unknown value).
func lookup[K comparable, V comparable](m map[K]V, v V) K {
	var zero K
	for k, x := range m {
		if x == v {
			return k
		}
	}
	return zero
}

// GroupToProto converts a boundary group.
func GroupToProto(g boundary.Group) *pb.BoundaryGroup {
	out := &pb.BoundaryGroup{
		Group: g.Key, Crossing: crossings[g.Crossing], Bracket: interval(g.Bracket), EtaStar: g.EtaStar,
		Ci: interval(g.CI), Onset: g.Onset, OnsetCi: interval(g.OnsetCI), Theory: g.Theory,
		Stability: g.Stability, Trials: int32(g.Trials), Fit: fits[g.Fit],
		Missing: marksToProto(g.Missing), Diverged: marksToProto(g.Diverged), Incomplete: g.Incomplete,
		Unconverged: g.Unconverged,
		Metric:      g.Metric.Name, Sense: senses[g.Metric.MetricSense()], Level: g.Metric.Level,
	}
	form, relative := strings.CutSuffix(g.OnsetForm, relativeSuffix)
	out.OnsetForm, out.OnsetRelative = onsetForms[form], relative
	for _, r := range g.Rows {
		out.Rows = append(out.Rows, &pb.EtaRow{Eta: r.Eta, Seeds: int32(r.Seeds), Learned: int32(r.Learned),
			Fraction: r.Fraction, Diverged: int32(r.Diverged), MeanBias: r.MeanBias, StdBias: r.StdBias,
			MeanDrop: r.MeanDrop, StdDrop: r.StdDrop, MeanSharpness: r.MeanSharpness, StdSharpness: r.StdSharpness,
			MeanEosRatio: r.MeanEOSRatio, StdEosRatio: r.StdEOSRatio,
			MeanMaxEosRatio: r.MeanMaxEOSRatio, StdMaxEosRatio: r.StdMaxEOSRatio, MeanTestAcc: r.MeanTestAcc,
			StdTestAcc: r.StdTestAcc, MeanInitialSharpness: r.MeanInitialSharp})
	}
	return out
}

// GroupFromProto converts a wire boundary group back.
func GroupFromProto(g *pb.BoundaryGroup) boundary.Group {
	out := boundary.Group{
		Key: g.GetGroup(), Bracket: fromInterval(g.GetBracket()), EtaStar: g.GetEtaStar(), CI: fromInterval(g.GetCi()),
		Onset: g.GetOnset(), OnsetCI: fromInterval(g.GetOnsetCi()), Theory: g.Theory,
		Stability: g.GetStability(), Trials: int(g.GetTrials()), Fit: lookup(fits, g.GetFit()),
		OnsetForm: lookup(onsetForms, g.GetOnsetForm()),
		Missing:   marksFromProto(g.GetMissing()), Diverged: marksFromProto(g.GetDiverged()), Incomplete: g.GetIncomplete(),
		Unconverged: append([]string{}, g.GetUnconverged()...),
		Metric:      boundary.Metric{Name: g.GetMetric(), Sense: lookup(senses, g.GetSense()), Level: g.Level},
	}
	if g.GetOnsetRelative() && out.OnsetForm != "" {
		out.OnsetForm += relativeSuffix
	}
	for c, p := range crossings {
		if p == g.GetCrossing() {
			out.Crossing = c
		}
	}
	if out.Key == nil {
		out.Key = map[string]float64{}
	}
	for _, r := range g.GetRows() {
		out.Rows = append(out.Rows, boundary.EtaRow{Eta: r.GetEta(), Seeds: int(r.GetSeeds()), Learned: int(r.GetLearned()),
			Fraction: r.GetFraction(), Diverged: int(r.GetDiverged()), MeanBias: r.GetMeanBias(), StdBias: r.GetStdBias(),
			MeanDrop: r.GetMeanDrop(), StdDrop: r.GetStdDrop(), MeanSharpness: r.GetMeanSharpness(),
			StdSharpness: r.GetStdSharpness(), MeanEOSRatio: r.GetMeanEosRatio(), StdEOSRatio: r.GetStdEosRatio(),
			MeanMaxEOSRatio: r.GetMeanMaxEosRatio(), StdMaxEOSRatio: r.GetStdMaxEosRatio(),
			MeanTestAcc: r.GetMeanTestAcc(), StdTestAcc: r.GetStdTestAcc(), MeanInitialSharp: r.GetMeanInitialSharpness()})
	}
	return out
}

func interval(iv boundary.Interval) *pb.Interval { return &pb.Interval{Low: iv.Low, High: iv.High} }

func fromInterval(iv *pb.Interval) boundary.Interval {
	return boundary.Interval{Low: iv.GetLow(), High: iv.GetHigh()}
}

func marksToProto(ms []boundary.Mark) []*pb.TrialMark {
	out := make([]*pb.TrialMark, len(ms))
	for i, m := range ms {
		out[i] = &pb.TrialMark{TrialId: m.Trial, Eta: m.Eta, Seed: m.Seed, State: m.State, Attempt: int32(m.Attempt), Error: m.Error}
	}
	return out
}

// marksFromProto converts marks back (an empty list, not nil, as Analyze gives).
func marksFromProto(ms []*pb.TrialMark) []boundary.Mark {
	out := make([]boundary.Mark, len(ms))
	for i, m := range ms {
		out[i] = boundary.Mark{Trial: m.GetTrialId(), Eta: m.GetEta(), Seed: m.GetSeed(), State: m.GetState(),
			Attempt: int(m.GetAttempt()), Error: m.GetError()}
	}
	return out
}
