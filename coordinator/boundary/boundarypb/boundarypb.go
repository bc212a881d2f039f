// Package boundarypb converts boundary groups to and from their protobuf form
// (GetBoundary's answer). It sits with the analysis, apart from package wire,
// so that what a worker links never includes the boundary analysis.
package boundarypb

import (
	"github.com/eosweep/eosweep/coordinator/boundary"
	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
)

var crossings = map[boundary.Crossing]pb.Crossing{
	boundary.CrossingInside: pb.Crossing_CROSSING_INSIDE,
	boundary.CrossingBelow:  pb.Crossing_CROSSING_BELOW,
	boundary.CrossingAbove:  pb.Crossing_CROSSING_ABOVE,
}

// GroupToProto converts a boundary group.
func GroupToProto(g boundary.Group) *pb.BoundaryGroup {
	out := &pb.BoundaryGroup{
		Group: g.Key, Crossing: crossings[g.Crossing], Bracket: interval(g.Bracket), EtaStar: g.EtaStar,
		Ci: interval(g.CI), Onset: g.Onset, OnsetCi: interval(g.OnsetCI), Theory: g.Theory,
		Stability: g.Stability, Trials: int32(g.Trials), Fit: g.Fit, OnsetForm: g.OnsetForm,
		Metric: g.Metric.Name, Sense: string(g.Metric.Sense), Level: g.Metric.Level,
	}
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
		Stability: g.GetStability(), Trials: int(g.GetTrials()), Fit: g.GetFit(), OnsetForm: g.GetOnsetForm(),
		Metric: boundary.Metric{Name: g.GetMetric(), Sense: boundary.Sense(g.GetSense()), Level: g.Level},
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
