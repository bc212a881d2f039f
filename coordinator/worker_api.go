package coordinator

import (
	"context"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/eosweep/eosweep/coordinator/scheduler"
	"github.com/eosweep/eosweep/internal/wire"
	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
)

// LeaseTrial implements CoordinatorService: a long poll of at most the
// request's wait (capped by the server) for up to max_trials trials.
func (s *Server) LeaseTrial(ctx context.Context, req *pb.LeaseTrialRequest) (*pb.LeaseTrialResponse, error) {
	if err := required("worker_id", req.GetWorkerId()); err != nil {
		return nil, err
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
func (s *Server) Heartbeat(_ context.Context, req *pb.HeartbeatRequest) (*pb.HeartbeatResponse, error) {
	if err := required("worker_id", req.GetWorkerId()); err != nil {
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
// request order; when every report of the call is rejected the call fails
// with InvalidArgument carrying the first reason (it names the field).
func (s *Server) ReportResult(_ context.Context, req *pb.ReportResultRequest) (*pb.ReportResultResponse, error) {
	if err := required("worker_id", req.GetWorkerId()); err != nil {
		return nil, err
	}
	if len(req.GetReports()) == 0 {
		return nil, status.Error(codes.InvalidArgument, "reports: empty")
	}
	outcomes := make([]*pb.ReportOutcome, len(req.GetReports()))
	var deliveries []scheduler.Delivery
	var index []int
	for i, r := range req.GetReports() {
		outcomes[i] = &pb.ReportOutcome{TrialId: r.GetTrialId()}
		d := scheduler.Delivery{Sweep: r.GetSweepId(), Trial: r.GetTrialId(), Token: r.GetToken()}
		switch o := r.GetOutcome().(type) {
		case *pb.TrialReport_Result:
			res, err := wire.ResultFromProto(o.Result)
			if err != nil {
				outcomes[i].Status, outcomes[i].Message = pb.ReportStatus_REPORT_STATUS_REJECTED, err.Error()
				continue
			}
			d.Result = res
		case *pb.TrialReport_Released:
			d.Release = o.Released
			if !d.Release {
				outcomes[i].Status, outcomes[i].Message = pb.ReportStatus_REPORT_STATUS_REJECTED, "released: false (omit it)"
				continue
			}
		case *pb.TrialReport_Error:
			d.Failure = o.Error
			if d.Failure == "" {
				d.Failure = "unspecified worker error"
			}
		default:
			outcomes[i].Status, outcomes[i].Message = pb.ReportStatus_REPORT_STATUS_REJECTED, "outcome: neither result nor error"
			continue
		}
		deliveries = append(deliveries, d)
		index = append(index, i)
	}
	receipts, err := s.sched.Deliver(deliveries)
	if err != nil {
		return nil, grpcError(err)
	}
	for j, r := range receipts {
		outcomes[index[j]].Status = pb.ReportStatus(r.Verdict)
		if r.Err != nil {
			outcomes[index[j]].Message = r.Err.Error()
		}
	}
	for _, o := range outcomes {
		if o.Status != pb.ReportStatus_REPORT_STATUS_REJECTED {
			return &pb.ReportResultResponse{Outcomes: outcomes}, nil
		}
	}
	return nil, status.Errorf(codes.InvalidArgument, "trial %s: %s", outcomes[0].TrialId, outcomes[0].Message)
}
