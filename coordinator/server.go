package coordinator

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

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
	// maxPage is the most trials (sweeps) one ListTrials (ListSweeps) page
	// holds, and the page size when the request gives none.
	maxPage = 1000
	// maxPageBytes bounds the encoded trials (sweeps) of one page, whatever
	// its count: well under transport.MaxMessageBytes (16 MiB), and under
	// the 4 MiB that gRPC clients accept by default (older eosweep CLIs,
	// the in-process connection, other languages' stubs). A page always
	// holds at least one trial, so a page is over it only by one trial,
	// itself bounded by engine.MaxTrajectory points.
	maxPageBytes = 1 << 20
	// resultChunk is how many results ListTrials reads from the store at a
	// time while it fills a page.
	resultChunk = 32
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
	case errors.Is(err, spec.ErrInvalid), errors.Is(err, scheduler.ErrInvalidResult), errors.Is(err, scheduler.ErrNotRetryable):
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
	return &pb.SubmitSweepResponse{Sweep: SweepWithSpec(info), Created: created}, nil
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
	if req.GetIncludeSpec() {
		return &pb.GetSweepResponse{Sweep: SweepWithSpec(info)}, nil
	}
	return &pb.GetSweepResponse{Sweep: SweepToProto(info)}, nil
}

// ListSweeps implements CoordinatorService: newest first, a page of at most
// page_size sweeps (maxPage) and about maxPageBytes encoded bytes. The page
// token is the id of the sweep the next page starts with. Progress counts
// are kept by the scheduler, so a page costs O(sweeps), never O(trials).
func (s *Server) ListSweeps(_ context.Context, req *pb.ListSweepsRequest) (*pb.ListSweepsResponse, error) {
	size, err := pageSize(req.GetPageSize())
	if err != nil {
		return nil, err
	}
	sweeps := s.sched.Sweeps()
	start := 0
	if tok := req.GetPageToken(); tok != "" {
		start = slices.IndexFunc(sweeps, func(info scheduler.SweepInfo) bool { return info.Sweep.ID == tok })
		if start < 0 {
			return nil, status.Errorf(codes.InvalidArgument, "page_token: %q is not a sweep of this coordinator (deleted since the last page? list again)", tok)
		}
	}
	resp := &pb.ListSweepsResponse{}
	bytes := 0
	for i := start; i < len(sweeps); i++ {
		msg := SweepToProto(sweeps[i])
		n := protowire.SizeBytes(proto.Size(msg)) + 1
		if len(resp.Sweeps) == size || (len(resp.Sweeps) > 0 && bytes+n > maxPageBytes) {
			resp.NextPageToken = sweeps[i].Sweep.ID
			break
		}
		bytes += n
		resp.Sweeps = append(resp.Sweeps, msg)
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
	n, err := s.sched.Delete(req.GetSweepId())
	if err != nil {
		return nil, grpcError(err)
	}
	return &pb.DeleteSweepResponse{Trials: int64(n)}, nil
}

// ListTrials implements CoordinatorService: a page of at most page_size
// trials (maxPage) and about maxPageBytes encoded bytes, their results whole
// or, with omit_trajectories, as the analysis reads them (store.Summary).
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
	size, err := pageSize(req.GetPageSize())
	if err != nil {
		return nil, err
	}
	want, err := stateFilter(req.GetStates())
	if err != nil {
		return nil, err
	}
	page, next, err := s.sched.TrialPage(req.GetSweepId(), start, size, want)
	if errors.Is(err, scheduler.ErrBadPage) {
		return nil, status.Errorf(codes.InvalidArgument, "page_token: %q is not a token of this sweep", req.GetPageToken())
	}
	if err != nil {
		return nil, grpcError(err)
	}
	resp := &pb.ListTrialsResponse{}
	bytes := 0
	// Results are read a chunk at a time, so that a page cut short by its
	// bytes decodes few results it does not send.
	for lo := 0; lo < len(page); lo += resultChunk {
		chunk := page[lo:min(lo+resultChunk, len(page))]
		recs := make([]store.Trial, len(chunk))
		for i, t := range chunk {
			recs[i] = t.Trial
		}
		read := s.st.ResultsFor
		if req.GetOmitTrajectories() {
			read = s.st.SummariesFor
		}
		results, err := read(recs)
		if err != nil {
			return nil, grpcError(err)
		}
		for _, t := range chunk {
			var res *engine.Result
			if r, ok := results[t.Trial.ID]; ok {
				res = &r
			}
			msg := TrialToProto(t.Trial, res)
			msg.WorkerId = t.Worker
			n := protowire.SizeBytes(proto.Size(msg)) + 1 // the repeated field's tag and length
			if len(resp.Trials) > 0 && bytes+n > maxPageBytes {
				resp.NextPageToken = strconv.Itoa(t.Index)
				return resp, nil
			}
			bytes += n
			resp.Trials = append(resp.Trials, msg)
		}
	}
	if next >= 0 {
		resp.NextPageToken = strconv.Itoa(next)
	}
	return resp, nil
}

// pageSize checks a request's page_size: 0 means maxPage, which also caps it.
func pageSize(n int32) (int, error) {
	if n < 0 {
		return 0, status.Errorf(codes.InvalidArgument, "page_size: %d is negative (0 means the server's default, %d)", n, maxPage)
	}
	if n == 0 || n > maxPage {
		return maxPage, nil
	}
	return int(n), nil
}

// stateFilter turns a request's states into a filter (nil: every state).
func stateFilter(states []pb.TrialState) (func(store.TrialState) bool, error) {
	if len(states) == 0 {
		return nil, nil
	}
	var want [store.NumTrialStates]bool
	for i, st := range states {
		if !store.TrialState(st).Valid() {
			return nil, status.Errorf(codes.InvalidArgument, "states[%d]: %v is not a trial state (pending, leased, done, failed, cancelled)", i, st)
		}
		want[st] = true
	}
	return func(st store.TrialState) bool { return want[st] }, nil
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

// RetrySweep implements CoordinatorService.
func (s *Server) RetrySweep(_ context.Context, req *pb.RetrySweepRequest) (*pb.RetrySweepResponse, error) {
	if err := required("sweep_id", req.GetSweepId()); err != nil {
		return nil, err
	}
	states := make([]store.TrialState, len(req.GetStates()))
	for i, st := range req.GetStates() {
		states[i] = store.TrialState(st)
	}
	_, n, err := s.sched.Retry(req.GetSweepId(), states)
	if err != nil {
		return nil, grpcError(err)
	}
	info, err := s.sched.Sweep(req.GetSweepId())
	if err != nil {
		return nil, grpcError(err)
	}
	return &pb.RetrySweepResponse{Sweep: SweepToProto(info), Retried: int64(n)}, nil
}

// ListWorkers implements CoordinatorService: the scheduler's registry, at
// most scheduler.MaxWorkers workers of ids of at most maxWorkerID bytes.
func (s *Server) ListWorkers(context.Context, *pb.ListWorkersRequest) (*pb.ListWorkersResponse, error) {
	resp := &pb.ListWorkersResponse{}
	for _, w := range s.sched.Workers() {
		resp.Workers = append(resp.Workers, &pb.WorkerInfo{WorkerId: w.ID, Address: w.Address, LastSeen: timestamppb.New(w.LastSeen),
			Leases: int32(w.Leases), TrialsDone: w.Done, EngineSeconds: w.EngineSeconds})
	}
	return resp, nil
}
