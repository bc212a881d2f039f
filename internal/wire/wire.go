// Package wire converts between engine results and their protobuf form. It
// is the one conversion the worker, the coordinator and the CLI share, and a
// leaf: it imports only the engine and the generated protobuf package, so a
// worker links neither the store, the scheduler nor the boundary analysis.
//
// # Basics
//
// ResultToProto and ResultFromProto are inverses for every Result the engine
// produces (a round-trip test fills every field). ResultFromProto refuses what
// the protobuf types allow but a Result cannot hold: integers beyond int32 and
// trajectories longer than engine.MaxTrajectory. Its errors wrap
// engine.ErrInvalidResult and name the field. Whether a result is plausible
// for its trial (finite values, steps within the run, fields consistent with
// each other) is engine.Result.Validate's check.
package wire

import (
	"fmt"
	"maps"
	"math"

	"github.com/eosweep/eosweep/engine"
	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
)

// ResultToProto converts an engine result to its wire form.
func ResultToProto(r engine.Result) *pb.Result {
	out := &pb.Result{
		FinalBias: r.FinalBias, MinBias: r.MinBias, BiasNegative: &r.BiasNegative,
		ThresholdLearned: r.BiasNegative, //lint:ignore SA1019 set for readers older than bias_negative
		InitialSharpness: r.InitialSharpness, FinalSharpness: r.FinalSharpness, EosRatio: r.EOSRatio,
		MaxEosRatio: r.MaxEOSRatio, MaxEosRatioAfterInit: r.MaxEOSRatioAfterInit, FinalLoss: r.FinalLoss, TrainAcc: accuracy(r.TrainAcc), TestAcc: accuracy(r.TestAcc), StepsRun: int64(r.StepsRun),
		Diverged: r.Diverged, Dead: r.Dead, WallMs: r.WallMS,
		Trajectory: make([]*pb.TrajectoryPoint, len(r.Trajectory)),
	}
	for i, p := range r.Trajectory {
		out.Trajectory[i] = &pb.TrajectoryPoint{Step: int64(p.Step), Loss: p.Loss, Bias: p.Bias, Sharpness: p.Sharpness}
	}
	if len(r.Metrics) > 0 {
		out.Metrics = maps.Clone(r.Metrics)
	}
	return out
}

// biasNegative reads bias_negative, or for a result from a worker older than
// that field its predecessor threshold_learned (the same test, which those
// workers also set for diverged runs: a diverged run is never bias-negative).
func biasNegative(r *pb.Result) bool {
	if r.BiasNegative != nil {
		return r.GetBiasNegative()
	}
	//lint:ignore SA1019 the deprecated field is read on purpose, for older workers
	return r.GetThresholdLearned() && !r.GetDiverged()
}

// accuracy copies an optional accuracy (nil stays absent).
func accuracy(v *float64) *float64 {
	if v == nil {
		return nil
	}
	c := *v
	return &c
}

// ResultFromProto converts a wire result, refusing integers out of range,
// trajectories longer than engine.MaxTrajectory, and more than
// engine.MaxMetrics metrics or a metric name longer than
// engine.MaxMetricName (before allocating them).
func ResultFromProto(r *pb.Result) (engine.Result, error) {
	if r == nil {
		r = &pb.Result{}
	}
	if r.GetStepsRun() < 0 || r.GetStepsRun() > math.MaxInt32 {
		return engine.Result{}, fmt.Errorf("%w: steps_run: %d is out of range", engine.ErrInvalidResult, r.GetStepsRun())
	}
	if len(r.GetTrajectory()) > engine.MaxTrajectory {
		return engine.Result{}, fmt.Errorf("%w: trajectory: %d points, at most %d", engine.ErrInvalidResult, len(r.GetTrajectory()), engine.MaxTrajectory)
	}
	if len(r.GetMetrics()) > engine.MaxMetrics {
		return engine.Result{}, fmt.Errorf("%w: metrics: %d entries, at most %d", engine.ErrInvalidResult, len(r.GetMetrics()), engine.MaxMetrics)
	}
	for k := range r.GetMetrics() {
		if len(k) > engine.MaxMetricName {
			return engine.Result{}, fmt.Errorf("%w: metrics: a name of %d bytes, at most %d", engine.ErrInvalidResult, len(k), engine.MaxMetricName)
		}
	}
	out := engine.Result{
		FinalBias: r.GetFinalBias(), MinBias: r.GetMinBias(), BiasNegative: biasNegative(r),
		InitialSharpness: r.GetInitialSharpness(), FinalSharpness: r.GetFinalSharpness(), EOSRatio: r.GetEosRatio(),
		MaxEOSRatio: r.GetMaxEosRatio(), MaxEOSRatioAfterInit: r.GetMaxEosRatioAfterInit(), FinalLoss: r.GetFinalLoss(), TrainAcc: accuracy(r.TrainAcc), TestAcc: accuracy(r.TestAcc), StepsRun: int(r.GetStepsRun()),
		Diverged: r.GetDiverged(), Dead: r.GetDead(), WallMS: r.GetWallMs(),
		Trajectory: make([]engine.Point, len(r.GetTrajectory())),
	}
	for i, p := range r.GetTrajectory() {
		if p.GetStep() < 0 || p.GetStep() > math.MaxInt32 {
			return engine.Result{}, fmt.Errorf("%w: trajectory[%d].step: %d is out of range", engine.ErrInvalidResult, i, p.GetStep())
		}
		out.Trajectory[i] = engine.Point{Step: int(p.GetStep()), Loss: p.GetLoss(), Bias: p.GetBias(), Sharpness: p.GetSharpness()}
	}
	if len(r.GetMetrics()) > 0 {
		out.Metrics = maps.Clone(r.GetMetrics())
	}
	return out, nil
}
