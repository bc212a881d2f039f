package coordinator

import (
	"context"
	"errors"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/eosweep/eosweep/coordinator/scheduler"
	"github.com/eosweep/eosweep/internal/wire"
	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
)

// maxWorkerID bounds a worker id (a default id is the host name and the
// process id), so that the scheduler's registry of workers stays bounded in
// bytes as well as in count.
const maxWorkerID = 256

// worker checks a worker call's worker_id and tells the scheduler where the
// call came from.
func (s *Server) worker(ctx context.Context, id string) error {
	if err := required("worker_id", id); err != nil {
		return err
	}
	if len(id) > maxWorkerID {
		return status.Errorf(codes.InvalidArgument, "worker_id: %d bytes, at most %d (eosweep worker --id)", len(id), maxWorkerID)
	}
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		s.sched.WorkerAddress(id, p.Addr.String())
	}
	return nil
}

// LeaseTrial implements CoordinatorService: a long poll of at most the
// request's wait (capped by the server) for up to max_trials trials.
func (s *Server) LeaseTrial(ctx context.Context, req *pb.LeaseTrialRequest) (*pb.LeaseTrialResponse, error) {
	if err := s.worker(ctx, req.GetWorkerId()); err != nil {
		return nil, err
	}
	if n := req.GetMaxTrials(); n <= 0 {
		return nil, status.Errorf(codes.InvalidArgument, "max_trials: %d, want at least 1", n)
	}
	wait := min(req.GetWait().AsDuration(), maxLeaseWait)
	if deadline, ok := ctx.Deadline(); ok {
		wait = min(wait, time.Until(deadline)-leaseReplyMargin)
	}
	caps := scheduler.Capabilities{Exec: req.GetAllowExec()}
	leases, err := s.sched.LeaseFor(ctx, req.GetWorkerId(), caps, int(req.GetMaxTrials()), max(wait, 0))
	if err != nil {
		return nil, grpcError(err)
	}
	resp := &pb.LeaseTrialResponse{LeaseTtl: ttl(s.sched)}
	for _, l := range leases {
		resp.Leases = append(resp.Leases, leaseToProto(l))
	}
	return resp, nil
}

// Heartbeat implements CoordinatorService.
func (s *Server) Heartbeat(ctx context.Context, req *pb.HeartbeatRequest) (*pb.HeartbeatResponse, error) {
	if err := s.worker(ctx, req.GetWorkerId()); err != nil {
		return nil, err
	}
	refs := make([]scheduler.LeaseRef, len(req.GetLeases()))
	for i, l := range req.GetLeases() {
		refs[i] = scheduler.LeaseRef{Sweep: l.GetSweepId(), Trial: l.GetTrialId(), Token: l.GetToken()}
	}
	lost, err := s.sched.Heartbeat(req.GetWorkerId(), refs)
	if err != nil {
		return nil, grpcError(err)
	}
	resp := &pb.HeartbeatResponse{LeaseTtl: ttl(s.sched)}
	for _, l := range lost {
		resp.Lost = append(resp.Lost, &pb.LeaseRef{SweepId: l.Sweep, TrialId: l.Trial, Token: l.Token})
	}
	return resp, nil
}

// ReportResult implements CoordinatorService. Each report gets an outcome in
// request order, a rejected one with its reason (naming the field), also
// when every report of the call is rejected; only a request without
// worker_id or reports fails as a whole (InvalidArgument).
func (s *Server) ReportResult(ctx context.Context, req *pb.ReportResultRequest) (*pb.ReportResultResponse, error) {
	if err := s.worker(ctx, req.GetWorkerId()); err != nil {
		return nil, err
	}
	if len(req.GetReports()) == 0 {
		return nil, status.Error(codes.InvalidArgument, "reports: empty")
	}
	deliveries := make([]scheduler.Delivery, len(req.GetReports()))
	for i, r := range req.GetReports() {
		d := scheduler.Delivery{Sweep: r.GetSweepId(), Trial: r.GetTrialId(), Token: r.GetToken()}
		switch o := r.GetOutcome().(type) {
		case *pb.TrialReport_Result:
			d.Result, d.Invalid = wire.ResultFromProto(o.Result)
		case *pb.TrialReport_Released:
			d.Release = o.Released
			if !d.Release {
				d.Invalid = errors.New("released: false (omit it)")
			}
		case *pb.TrialReport_Error:
			d.Failure = o.Error
			if d.Failure == "" {
				d.Failure = "unspecified worker error"
			}
		default:
			d.Invalid = errors.New("outcome: neither result nor error")
		}
		deliveries[i] = d
	}
	receipts, err := s.sched.DeliverFrom(req.GetWorkerId(), deliveries)
	if err != nil {
		return nil, grpcError(err)
	}
	outcomes := make([]*pb.ReportOutcome, len(receipts))
	for i, r := range receipts {
		outcomes[i] = &pb.ReportOutcome{TrialId: deliveries[i].Trial, Status: pb.ReportStatus(r.Verdict)}
		if r.Err != nil {
			outcomes[i].Message = r.Err.Error()
		}
	}
	return &pb.ReportResultResponse{Outcomes: outcomes}, nil
}
