package coordinator

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/eosweep/eosweep/coordinator/boundary"
	"github.com/eosweep/eosweep/coordinator/scheduler"
	"github.com/eosweep/eosweep/coordinator/spec"
	"github.com/eosweep/eosweep/coordinator/store"
	"github.com/eosweep/eosweep/engine"
	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
)

// Server implements CoordinatorService by translating requests into
// scheduler calls and scheduler errors into gRPC codes.
type Server struct {
	pb.UnimplementedCoordinatorServiceServer
	sched *scheduler.Scheduler
	st    *store.Store
	// MaxWait caps a LeaseTrial long poll.
	maxWait time.Duration
	// watchEvery is the least time between two WatchSweep updates.
	watchEvery time.Duration
}

// NewServer returns the service over a scheduler and its store.
func NewServer(sched *scheduler.Scheduler, st *store.Store) *Server {
	return &Server{sched: sched, st: st, maxWait: 30 * time.Second, watchEvery: 200 * time.Millisecond}
}

// grpcError maps scheduler and spec errors onto status codes.
func grpcError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, spec.ErrInvalid), errors.Is(err, scheduler.ErrInvalidResult):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, scheduler.ErrUnknownSweep):
		return status.Error(codes.NotFound, err.Error())
	case errors.Is(err, scheduler.ErrClosed), errors.Is(err, store.ErrClosed):
		return status.Error(codes.Unavailable, err.Error())
	}
	return status.Error(codes.Internal, err.Error())
}

func required(field, v string) error {
	if v == "" {
		return status.Errorf(codes.InvalidArgument, "%s: required", field)
	}
	return nil
}

// SubmitSweep implements CoordinatorService.
func (s *Server) SubmitSweep(_ context.Context, req *pb.SubmitSweepRequest) (*pb.SubmitSweepResponse, error) {
	if err := required("spec_yaml", req.GetSpecYaml()); err != nil {
		return nil, err
	}
	rec, created, err := s.sched.Submit([]byte(req.GetSpecYaml()))
	if err != nil {
		return nil, grpcError(err)
	}
	info, err := s.sched.Sweep(rec.ID)
	if err != nil {
		return nil, grpcError(err)
	}
	return &pb.SubmitSweepResponse{Sweep: SweepToProto(info), Created: created}, nil
}

// GetSweep implements CoordinatorService.
func (s *Server) GetSweep(_ context.Context, req *pb.GetSweepRequest) (*pb.GetSweepResponse, error) {
	info, err := s.sched.Sweep(req.GetSweepId())
	if err != nil {
		return nil, grpcError(err)
	}
	return &pb.GetSweepResponse{Sweep: SweepToProto(info)}, nil
}

// ListSweeps implements CoordinatorService.
func (s *Server) ListSweeps(context.Context, *pb.ListSweepsRequest) (*pb.ListSweepsResponse, error) {
	resp := &pb.ListSweepsResponse{}
	for _, info := range s.sched.Sweeps() {
		resp.Sweeps = append(resp.Sweeps, SweepToProto(info))
	}
	return resp, nil
}

// WatchSweep implements CoordinatorService: an update at most every
// watchEvery while the sweep changes, at least every 2 s, until it is DONE or
// CANCELLED.
func (s *Server) WatchSweep(req *pb.WatchSweepRequest, stream pb.CoordinatorService_WatchSweepServer) error {
	ctx := stream.Context()
	for {
		info, err := s.sched.Sweep(req.GetSweepId())
		if err != nil {
			return grpcError(err)
		}
		if err := stream.Send(&pb.WatchSweepResponse{Sweep: SweepToProto(info)}); err != nil {
			return err
		}
		if info.Sweep.State != store.SweepRunning {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(s.watchEvery):
		}
		select {
		case <-ctx.Done():
			return nil
		case <-info.Changed:
		case <-time.After(2 * time.Second):
		}
	}
}

// CancelSweep implements CoordinatorService.
func (s *Server) CancelSweep(_ context.Context, req *pb.CancelSweepRequest) (*pb.CancelSweepResponse, error) {
	if _, err := s.sched.Cancel(req.GetSweepId()); err != nil {
		return nil, grpcError(err)
	}
	info, err := s.sched.Sweep(req.GetSweepId())
	if err != nil {
		return nil, grpcError(err)
	}
	return &pb.CancelSweepResponse{Sweep: SweepToProto(info)}, nil
}

const maxPage = 1000

// ListTrials implements CoordinatorService.
func (s *Server) ListTrials(_ context.Context, req *pb.ListTrialsRequest) (*pb.ListTrialsResponse, error) {
	trials, err := s.sched.Trials(req.GetSweepId())
	if err != nil {
		return nil, grpcError(err)
	}
	start := 0
	if tok := req.GetPageToken(); tok != "" {
		if start, err = strconv.Atoi(tok); err != nil || start < 0 || start > len(trials) {
			return nil, status.Errorf(codes.InvalidArgument, "page_token: %q is not a token of this sweep", tok)
		}
	}
	size := int(req.GetPageSize())
	if size <= 0 || size > maxPage {
		size = maxPage
	}
	page := trials[start:min(start+size, len(trials))]
	results, err := s.st.ResultsFor(page)
	if err != nil {
		return nil, grpcError(err)
	}
	resp := &pb.ListTrialsResponse{}
	for _, t := range page {
		var res *engine.Result
		if r, ok := results[t.ID]; ok {
			res = &r
		}
		resp.Trials = append(resp.Trials, TrialToProto(t, res))
	}
	if end := start + len(page); end < len(trials) {
		resp.NextPageToken = strconv.Itoa(end)
	}
	return resp, nil
}

// GetBoundary implements CoordinatorService.
func (s *Server) GetBoundary(_ context.Context, req *pb.GetBoundaryRequest) (*pb.GetBoundaryResponse, error) {
	info, err := s.sched.Sweep(req.GetSweepId())
	if err != nil {
		return nil, grpcError(err)
	}
	trials, err := s.sched.Trials(req.GetSweepId())
	if err != nil {
		return nil, grpcError(err)
	}
	results, err := s.st.Results(req.GetSweepId())
	if err != nil {
		return nil, grpcError(err)
	}
	groups, err := Analyze(info.Spec, trials, results)
	if err != nil {
		return nil, status.Error(codes.FailedPrecondition, err.Error())
	}
	resp := &pb.GetBoundaryResponse{}
	for _, g := range groups {
		resp.Groups = append(resp.Groups, GroupToProto(g))
	}
	return resp, nil
}

// DoneTrials pairs the DONE trials with their results, for the analysis.
func DoneTrials(trials []store.Trial, results map[string]engine.Result) []boundary.Trial {
	var out []boundary.Trial
	for _, t := range trials {
		if r, ok := results[t.ID]; ok && t.State == store.Done {
			out = append(out, boundary.Trial{Params: t.Params, Result: r})
		}
	}
	return out
}

// Analyze runs the boundary analysis of a sweep's finished trials.
func Analyze(sp *spec.Spec, trials []store.Trial, results map[string]engine.Result) ([]boundary.Group, error) {
	done := DoneTrials(trials, results)
	if len(done) == 0 {
		return nil, fmt.Errorf("no finished trials yet")
	}
	groups, err := boundary.Analyze(done, scheduler.AnalysisOptions(sp))
	if err != nil {
		return nil, fmt.Errorf("analyse: %w", err)
	}
	return groups, nil
}
