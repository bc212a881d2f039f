package coordinator

import (
	"fmt"
	"math"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/eosweep/eosweep/coordinator/boundary"
	"github.com/eosweep/eosweep/coordinator/scheduler"
	"github.com/eosweep/eosweep/coordinator/store"
	"github.com/eosweep/eosweep/engine"
	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
)

// ResultToProto converts an engine result to its wire form.
func ResultToProto(r engine.Result) *pb.Result {
	out := &pb.Result{
		FinalBias: r.FinalBias, MinBias: r.MinBias, ThresholdLearned: r.ThresholdLearned,
		InitialSharpness: r.InitialSharpness, FinalSharpness: r.FinalSharpness, EosRatio: r.EOSRatio,
		MaxEosRatio: r.MaxEOSRatio, MaxEosRatioAfterInit: r.MaxEOSRatioAfterInit, FinalLoss: r.FinalLoss, TrainAcc: r.TrainAcc, TestAcc: r.TestAcc, StepsRun: int64(r.StepsRun),
		Diverged: r.Diverged, Dead: r.Dead, WallMs: r.WallMS,
		Trajectory: make([]*pb.TrajectoryPoint, len(r.Trajectory)),
	}
	for i, p := range r.Trajectory {
		out.Trajectory[i] = &pb.TrajectoryPoint{Step: int64(p.Step), Loss: p.Loss, Bias: p.Bias, Sharpness: p.Sharpness}
	}
	return out
}

// ResultFromProto converts a wire result, refusing integers out of range.
func ResultFromProto(r *pb.Result) (engine.Result, error) {
	if r.GetStepsRun() < 0 || r.GetStepsRun() > math.MaxInt32 {
		return engine.Result{}, fmt.Errorf("%w: steps_run: %d is out of range", scheduler.ErrInvalidResult, r.GetStepsRun())
	}
	if len(r.GetTrajectory()) > engine.MaxTrajectory {
		return engine.Result{}, fmt.Errorf("%w: trajectory: %d points, at most %d", scheduler.ErrInvalidResult, len(r.GetTrajectory()), engine.MaxTrajectory)
	}
	out := engine.Result{
		FinalBias: r.GetFinalBias(), MinBias: r.GetMinBias(), ThresholdLearned: r.GetThresholdLearned(),
		InitialSharpness: r.GetInitialSharpness(), FinalSharpness: r.GetFinalSharpness(), EOSRatio: r.GetEosRatio(),
		MaxEOSRatio: r.GetMaxEosRatio(), MaxEOSRatioAfterInit: r.GetMaxEosRatioAfterInit(), FinalLoss: r.GetFinalLoss(), TrainAcc: r.GetTrainAcc(), TestAcc: r.GetTestAcc(), StepsRun: int(r.GetStepsRun()),
		Diverged: r.GetDiverged(), Dead: r.GetDead(), WallMS: r.GetWallMs(),
		Trajectory: make([]engine.Point, len(r.GetTrajectory())),
	}
	for i, p := range r.GetTrajectory() {
		if p.GetStep() < 0 || p.GetStep() > math.MaxInt32 {
			return engine.Result{}, fmt.Errorf("%w: trajectory[%d].step: %d is out of range", scheduler.ErrInvalidResult, i, p.GetStep())
		}
		out.Trajectory[i] = engine.Point{Step: int(p.GetStep()), Loss: p.GetLoss(), Bias: p.GetBias(), Sharpness: p.GetSharpness()}
	}
	return out, nil
}

// SweepToProto converts a scheduler view of a sweep.
func SweepToProto(info scheduler.SweepInfo) *pb.Sweep {
	p := info.Progress
	return &pb.Sweep{
		Id: info.Sweep.ID, Name: info.Sweep.Name, Model: info.Sweep.Model,
		State: pb.SweepState(info.Sweep.State), Round: int32(info.Sweep.Round),
		MaxRounds: int32(info.Spec.Boundary.Refine.Rounds), SpecYaml: info.Sweep.SpecYAML,
		Created: timestamppb.New(info.Sweep.Created),
		Progress: &pb.Progress{Total: int64(p.Total), Pending: int64(p.Pending), Leased: int64(p.Leased),
			Done: int64(p.Done), Failed: int64(p.Failed), Cancelled: int64(p.Cancelled),
			ResultsPerSecond: p.ResultsPerSecond, EtaSeconds: p.ETA.Seconds()},
	}
}

// TrialToProto converts a stored trial and its result (nil when it has none).
func TrialToProto(t store.Trial, r *engine.Result) *pb.Trial {
	out := &pb.Trial{Id: t.ID, SweepId: t.Sweep, Params: t.Params, State: pb.TrialState(t.State),
		Attempt: int32(t.Attempt), Round: int32(t.Round), LastError: t.LastError}
	if r != nil {
		out.Result = ResultToProto(*r)
	}
	return out
}

func leaseToProto(l scheduler.Lease) *pb.Lease {
	return &pb.Lease{SweepId: l.Sweep, TrialId: l.Trial, Token: l.Token, Model: l.Model, Params: l.Params,
		Attempt: int32(l.Attempt), Deadline: timestamppb.New(l.Deadline)}
}

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

func ttl(s *scheduler.Scheduler) *durationpb.Duration { return durationpb.New(s.LeaseTTL()) }
