package coordinator

import (
	"context"
	"errors"
	"strconv"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/eosweep/eosweep/coordinator/boundary/boundarypb"
	"github.com/eosweep/eosweep/coordinator/finished"
	"github.com/eosweep/eosweep/coordinator/scheduler"
	"github.com/eosweep/eosweep/coordinator/spec"
	"github.com/eosweep/eosweep/coordinator/store"
	"github.com/eosweep/eosweep/engine"
	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
)

// Limits and pacing of the service.
const (
	// maxLeaseWait caps a LeaseTrial long poll, whatever wait it asks for.
	maxLeaseWait = 30 * time.Second
	// leaseReplyMargin is kept between a long poll's end and its caller's
	// deadline, so that the answer has time to reach the caller before the
	// deadline ends the call: leases granted in an answer the caller never
	// reads would sit unused until their TTL runs out.
	leaseReplyMargin = 50 * time.Millisecond
	// watchEvery is the least time between two WatchSweep updates.
	watchEvery = 200 * time.Millisecond
	// watchIdle is the most time between two WatchSweep updates: a sweep
	// that does not change is sent again this often, so a watcher sees rate
	// and ETA move and can tell a quiet sweep from a dead stream.
	watchIdle = 2 * time.Second
	// maxPage is the most trials one ListTrials page holds, and the page
	// size when the request gives none.
	maxPage = 1000
)

// Server implements CoordinatorService by translating requests into
// scheduler calls and scheduler errors into gRPC codes.
type Server struct {
	pb.UnimplementedCoordinatorServiceServer
	sched *scheduler.Scheduler
	st    *store.Store
}

// NewServer returns the service over a scheduler and its store.
func NewServer(sched *scheduler.Scheduler, st *store.Store) *Server {
	return &Server{sched: sched, st: st}
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
	case errors.Is(err, scheduler.ErrSweepRunning):
		return status.Error(codes.FailedPrecondition, err.Error())
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
	if err := required("sweep_id", req.GetSweepId()); err != nil {
		return nil, err
	}
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
// watchEvery while the sweep changes, at least every watchIdle, until it is
// DONE or CANCELLED.
func (s *Server) WatchSweep(req *pb.WatchSweepRequest, stream pb.CoordinatorService_WatchSweepServer) error {
	if err := required("sweep_id", req.GetSweepId()); err != nil {
		return err
	}
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
		case <-time.After(watchEvery):
		}
		select {
		case <-ctx.Done():
			return nil
		case <-info.Changed:
		case <-time.After(watchIdle):
		}
	}
}

// CancelSweep implements CoordinatorService.
func (s *Server) CancelSweep(_ context.Context, req *pb.CancelSweepRequest) (*pb.CancelSweepResponse, error) {
	if err := required("sweep_id", req.GetSweepId()); err != nil {
		return nil, err
	}
	if _, err := s.sched.Cancel(req.GetSweepId()); err != nil {
		return nil, grpcError(err)
	}
	info, err := s.sched.Sweep(req.GetSweepId())
	if err != nil {
		return nil, grpcError(err)
	}
	return &pb.CancelSweepResponse{Sweep: SweepToProto(info)}, nil
}

// DeleteSweep implements CoordinatorService.
func (s *Server) DeleteSweep(_ context.Context, req *pb.DeleteSweepRequest) (*pb.DeleteSweepResponse, error) {
	if err := required("sweep_id", req.GetSweepId()); err != nil {
		return nil, err
	}
	info, err := s.sched.Sweep(req.GetSweepId())
	if err != nil {
		return nil, grpcError(err)
	}
	if err := s.sched.Delete(req.GetSweepId()); err != nil {
		return nil, grpcError(err)
	}
	return &pb.DeleteSweepResponse{Trials: int64(info.Progress.Total)}, nil
}

// ListTrials implements CoordinatorService.
func (s *Server) ListTrials(_ context.Context, req *pb.ListTrialsRequest) (*pb.ListTrialsResponse, error) {
	if err := required("sweep_id", req.GetSweepId()); err != nil {
		return nil, err
	}
	start := 0
	if tok := req.GetPageToken(); tok != "" {
		var err error
		if start, err = strconv.Atoi(tok); err != nil || start < 0 {
			return nil, status.Errorf(codes.InvalidArgument, "page_token: %q is not a token of this sweep", tok)
		}
	}
	size := int(req.GetPageSize())
	if size < 0 {
		return nil, status.Errorf(codes.InvalidArgument, "page_size: %d is negative (0 means the server's default, %d)", size, maxPage)
	}
	if size == 0 || size > maxPage {
		size = maxPage
	}
	// One page read from the store, not the sweep's every trial.
	page, total, err := s.sched.TrialRange(req.GetSweepId(), start, size)
	if err != nil {
		return nil, grpcError(err)
	}
	if start > total {
		return nil, status.Errorf(codes.InvalidArgument, "page_token: %q is not a token of this sweep", req.GetPageToken())
	}
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
	if end := start + len(page); end < total {
		resp.NextPageToken = strconv.Itoa(end)
	}
	return resp, nil
}

// GetBoundary implements CoordinatorService.
func (s *Server) GetBoundary(_ context.Context, req *pb.GetBoundaryRequest) (*pb.GetBoundaryResponse, error) {
	if err := required("sweep_id", req.GetSweepId()); err != nil {
		return nil, err
	}
	info, err := s.sched.Sweep(req.GetSweepId())
	if err != nil {
		return nil, grpcError(err)
	}
	set, err := finished.Read(s.st, info.Sweep.ID)
	if err != nil {
		return nil, grpcError(err)
	}
	groups, err := finished.Boundaries(info.Spec, set)
	if err != nil {
		return nil, status.Error(codes.FailedPrecondition, err.Error())
	}
	resp := &pb.GetBoundaryResponse{}
	for _, g := range groups {
		resp.Groups = append(resp.Groups, boundarypb.GroupToProto(g))
	}
	return resp, nil
}
