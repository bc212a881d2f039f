package coordinator

import (
	"fmt"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/eosweep/eosweep/coordinator/scheduler"
	"github.com/eosweep/eosweep/coordinator/store"
	"github.com/eosweep/eosweep/engine"
	"github.com/eosweep/eosweep/internal/wire"
	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
)

// SweepToProto converts a scheduler view of a sweep, without its spec text
// (SweepWithSpec adds it): a sweep as listed and watched stays small
// whatever its spec holds.
func SweepToProto(info scheduler.SweepInfo) *pb.Sweep {
	return &pb.Sweep{
		Id: info.Sweep.ID, Name: info.Sweep.Name, Model: info.Sweep.Model,
		State: pb.SweepState(info.Sweep.State), Round: int32(info.Sweep.Round),
		MaxRounds: int32(info.Spec.Boundary.Refine.Rounds),
		Created:   timestamppb.New(info.Sweep.Created),
		Progress:  progressToProto(info.Progress),
		Reused:    int64(info.Sweep.Reused),
	}
}

// SweepWithSpec is SweepToProto with the spec as submitted.
func SweepWithSpec(info scheduler.SweepInfo) *pb.Sweep {
	out := SweepToProto(info)
	out.SpecYaml = info.Sweep.SpecYAML
	return out
}

func progressToProto(p scheduler.Progress) *pb.Progress {
	out := &pb.Progress{Total: int64(p.Total), Pending: int64(p.Pending), Leased: int64(p.Leased),
		Done: int64(p.Done), Failed: int64(p.Failed), Cancelled: int64(p.Cancelled),
		ResultsPerSecond: p.ResultsPerSecond}
	if p.ETA > 0 {
		out.Eta = durationpb.New(p.ETA)
	}
	return out
}

// TrialToProto converts a stored trial and its result (nil when it has none).
func TrialToProto(t store.Trial, r *engine.Result) *pb.Trial {
	out := &pb.Trial{Id: t.ID, SweepId: t.Sweep, Params: t.Params, State: pb.TrialState(t.State),
		Attempt: int32(t.Attempt), Round: int32(t.Round), LastError: t.LastError}
	if t.State == store.Leased && !t.Deadline.IsZero() {
		out.Deadline = timestamppb.New(t.Deadline)
	}
	if r != nil {
		out.Result = wire.ResultToProto(*r)
	}
	return out
}

// TrialFromProto converts a wire trial back to its stored record (the fields
// the wire carries) and its result (nil when it has none).
func TrialFromProto(t *pb.Trial) (store.Trial, *engine.Result, error) {
	rec := store.Trial{Sweep: t.GetSweepId(), ID: t.GetId(), Params: t.GetParams(), State: store.TrialState(t.GetState()),
		Attempt: int(t.GetAttempt()), Round: int(t.GetRound()), LastError: t.GetLastError()}
	if t.GetResult() == nil {
		return rec, nil, nil
	}
	r, err := wire.ResultFromProto(t.GetResult())
	if err != nil {
		return store.Trial{}, nil, fmt.Errorf("trial %s: %w", t.GetId(), err)
	}
	return rec, &r, nil
}

func leaseToProto(l scheduler.Lease) *pb.Lease {
	out := &pb.Lease{SweepId: l.Sweep, TrialId: l.Trial, Token: l.Token, Model: l.Model, Params: l.Params,
		Attempt: int32(l.Attempt), Deadline: timestamppb.New(l.Deadline)}
	if x := l.Exec; x != nil {
		out.Exec = &pb.ExecTrial{Command: x.Command, Env: x.Env, Workdir: x.Workdir, Timeout: durationpb.New(x.Timeout)}
	}
	return out
}

func ttl(s *scheduler.Scheduler) *durationpb.Duration { return durationpb.New(s.LeaseTTL()) }
