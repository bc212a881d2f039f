package metrics

import (
	"context"
	"net"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
)

// fakeService answers ListSweeps and LeaseTrial at once and refuses GetSweep.
type fakeService struct {
	pb.UnimplementedCoordinatorServiceServer
}

func (fakeService) ListSweeps(context.Context, *pb.ListSweepsRequest) (*pb.ListSweepsResponse, error) {
	return &pb.ListSweepsResponse{}, nil
}

func (fakeService) LeaseTrial(context.Context, *pb.LeaseTrialRequest) (*pb.LeaseTrialResponse, error) {
	return &pb.LeaseTrialResponse{}, nil
}

func (fakeService) GetSweep(context.Context, *pb.GetSweepRequest) (*pb.GetSweepResponse, error) {
	return nil, status.Error(codes.NotFound, "no such sweep")
}

// series returns the samples of family name as label sets, or nil.
func series(t *testing.T, reg *prometheus.Registry, name string) []*dto.Metric {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, f := range fams {
		if f.GetName() == name {
			return f.GetMetric()
		}
	}
	return nil
}

func labelsOf(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, lp := range m.GetLabel() {
		out[lp.GetName()] = lp.GetValue()
	}
	return out
}

// find returns the sample of family name with every label of want, or nil.
func find(t *testing.T, reg *prometheus.Registry, name string, want map[string]string) *dto.Metric {
	t.Helper()
	for _, m := range series(t, reg, name) {
		l := labelsOf(m)
		ok := true
		for k, v := range want {
			ok = ok && l[k] == v
		}
		if ok {
			return m
		}
	}
	return nil
}

// The standard gRPC metrics count every call on both sides, with
// grpc_service, grpc_method and grpc_code, and time every call but the long
// poll (LeaseTrial), which would pass its wait off as slowness.
func TestRPCMetrics(t *testing.T) {
	t.Parallel()
	sreg, creg := prometheus.NewRegistry(), prometheus.NewRegistry()
	sopts, err := ServerRPC(sreg)
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(sopts...)
	pb.RegisterCoordinatorServiceServer(srv, fakeService{})
	lis := bufconn.Listen(1 << 20)
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()
	copts, err := ClientRPC(creg)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient("passthrough:///bufnet", append(copts,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }))...)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := pb.NewCoordinatorServiceClient(conn)
	ctx := context.Background()
	for range 3 {
		if _, err := client.ListSweeps(ctx, &pb.ListSweepsRequest{}); err != nil {
			t.Fatal(err)
		}
		if _, err := client.LeaseTrial(ctx, &pb.LeaseTrialRequest{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := client.GetSweep(ctx, &pb.GetSweepRequest{}); status.Code(err) != codes.NotFound {
		t.Fatalf("GetSweep: %v, want NotFound", err)
	}

	const service = "eosweep.v1.CoordinatorService"
	for _, side := range []struct {
		reg             *prometheus.Registry
		handled, timing string
	}{{sreg, "grpc_server_handled_total", "grpc_server_handling_seconds"}, {creg, "grpc_client_handled_total", "grpc_client_handling_seconds"}} {
		counts := []struct {
			method, code string
			want         float64
		}{{"ListSweeps", "OK", 3}, {"LeaseTrial", "OK", 3}, {"GetSweep", "NotFound", 1}}
		for _, c := range counts {
			m := find(t, side.reg, side.handled, map[string]string{"grpc_service": service, "grpc_method": c.method, "grpc_code": c.code})
			if got := m.GetCounter().GetValue(); got != c.want {
				t.Errorf("%s{%s,%s} = %v, want %v", side.handled, c.method, c.code, got, c.want)
			}
		}
		if h := find(t, side.reg, side.timing, map[string]string{"grpc_method": "ListSweeps"}); h.GetHistogram().GetSampleCount() != 3 {
			t.Errorf("%s{ListSweeps} has %d samples, want 3", side.timing, h.GetHistogram().GetSampleCount())
		}
		if h := find(t, side.reg, side.timing, map[string]string{"grpc_method": "LeaseTrial"}); h != nil {
			t.Errorf("%s has LeaseTrial samples: %v", side.timing, h)
		}
		// Only the histogram of the timed set is exported: its counters
		// would count the timed calls a second time.
		for _, m := range series(t, side.reg, side.handled) {
			if l := labelsOf(m); l["grpc_method"] == "ListSweeps" && l["grpc_code"] == "OK" && m.GetCounter().GetValue() != 3 {
				t.Errorf("a second %s series for ListSweeps: %v", side.handled, l)
			}
		}
	}
}

// Registering a second set on one registry is an error, not a panic.
func TestRPCMetricsTwiceOnOneRegistry(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	if _, err := ServerRPC(reg); err != nil {
		t.Fatal(err)
	}
	if _, err := ServerRPC(reg); err == nil {
		t.Fatal("second ServerRPC on one registry succeeded")
	}
}
