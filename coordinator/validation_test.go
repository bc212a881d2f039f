package coordinator_test

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/eosweep/eosweep/coordinator"
	"github.com/eosweep/eosweep/coordinator/coordinatortest"
	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
)

// Requests a client gets wrong are refused with InvalidArgument naming the
// field, the same way in every RPC.
func TestRequestValidation(t *testing.T) {
	t.Parallel()
	_, conn := coordinatortest.Start(t, coordinator.Config{})
	cl := pb.NewCoordinatorServiceClient(conn)
	ctx := context.Background()
	sub, err := cl.SubmitSweep(ctx, &pb.SubmitSweepRequest{SpecYaml: twoEtas})
	if err != nil {
		t.Fatal(err)
	}
	id := sub.GetSweep().GetId()
	watch := func(r *pb.WatchSweepRequest) error {
		st, err := cl.WatchSweep(ctx, r)
		if err != nil {
			return err
		}
		_, err = st.Recv()
		return err
	}
	tests := []struct {
		name, field string
		call        func() error
	}{
		{"GetSweep without id", "sweep_id: required", func() error { _, err := cl.GetSweep(ctx, &pb.GetSweepRequest{}); return err }},
		{"WatchSweep without id", "sweep_id: required", func() error { return watch(&pb.WatchSweepRequest{}) }},
		{"CancelSweep without id", "sweep_id: required", func() error { _, err := cl.CancelSweep(ctx, &pb.CancelSweepRequest{}); return err }},
		{"ListTrials without id", "sweep_id: required", func() error { _, err := cl.ListTrials(ctx, &pb.ListTrialsRequest{}); return err }},
		{"GetBoundary without id", "sweep_id: required", func() error { _, err := cl.GetBoundary(ctx, &pb.GetBoundaryRequest{}); return err }},
		{"ListTrials negative page", "page_size: -1", func() error {
			_, err := cl.ListTrials(ctx, &pb.ListTrialsRequest{SweepId: id, PageSize: -1})
			return err
		}},
		{"LeaseTrial of none", "max_trials: 0", func() error {
			_, err := cl.LeaseTrial(ctx, &pb.LeaseTrialRequest{WorkerId: "w"})
			return err
		}},
		{"LeaseTrial of fewer than none", "max_trials: -2", func() error {
			_, err := cl.LeaseTrial(ctx, &pb.LeaseTrialRequest{WorkerId: "w", MaxTrials: -2})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if status.Code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).Message(), tt.field) {
				t.Errorf("%v, want InvalidArgument with %q", err, tt.field)
			}
		})
	}
	// Page size 0 still means the default.
	if r, err := cl.ListTrials(ctx, &pb.ListTrialsRequest{SweepId: id}); err != nil || len(r.GetTrials()) != 2 {
		t.Errorf("ListTrials page_size 0: %v, %v", r, err)
	}
}
