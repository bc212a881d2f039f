package metrics

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
)

const (
	checkMethod = "/grpc.health.v1.Health/Check"
	watchMethod = "/grpc.health.v1.Health/Watch"
)

// histogram returns the latency histogram for method and code, or nil.
func histogram(t *testing.T, reg *prometheus.Registry, name, method, code string) *dto.Histogram {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			if labels["method"] == method && labels["code"] == code {
				return m.GetHistogram()
			}
		}
	}
	return nil
}

func TestRPCLatency(t *testing.T) {
	t.Parallel()
	const delay = 20 * time.Millisecond
	sreg, creg := prometheus.NewRegistry(), prometheus.NewRegistry()
	// The metrics interceptor is outermost, so it times the slow inner interceptor too.
	slow := func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		time.Sleep(delay)
		return h(ctx, req)
	}
	opts := append(NewServerRPC(sreg).ServerOptions(), grpc.ChainUnaryInterceptor(slow))
	srv := grpc.NewServer(opts...)
	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	lis := bufconn.Listen(1 << 20)
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()

	dopts := append(NewClientRPC(creg).DialOptions(),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }))
	conn, err := grpc.NewClient("passthrough:///bufnet", dopts...)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := healthpb.NewHealthClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range 3 {
		if _, err := client.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
			t.Fatalf("Check: %v", err)
		}
	}
	_, err = client.Check(ctx, &healthpb.HealthCheckRequest{Service: "nope"})
	if status.Code(err) != codes.NotFound {
		t.Fatalf("Check(nope) = %v, want NotFound", err)
	}

	for _, side := range []struct {
		reg  *prometheus.Registry
		name string
	}{{sreg, "eosweep_rpc_server_seconds"}, {creg, "eosweep_rpc_client_seconds"}} {
		ok := histogram(t, side.reg, side.name, checkMethod, "OK")
		if ok == nil || ok.GetSampleCount() != 3 {
			t.Fatalf("%s OK histogram = %v, want 3 samples", side.name, ok)
		}
		if ok.GetSampleSum() < 3*delay.Seconds() {
			t.Errorf("%s OK sum = %vs, want ≥ %vs", side.name, ok.GetSampleSum(), 3*delay.Seconds())
		}
		if nf := histogram(t, side.reg, side.name, checkMethod, "NotFound"); nf == nil || nf.GetSampleCount() != 1 {
			t.Errorf("%s NotFound histogram = %v, want 1 sample", side.name, nf)
		}
	}

	// A stream is timed when it ends, with its final code.
	wctx, wcancel := context.WithCancel(ctx)
	st, err := client.Watch(wctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	if _, err := st.Recv(); err != nil {
		t.Fatalf("Watch Recv: %v", err)
	}
	wcancel()
	deadline := time.Now().Add(5 * time.Second)
	for histogram(t, sreg, "eosweep_rpc_server_seconds", watchMethod, "Canceled") == nil {
		if time.Now().After(deadline) {
			t.Fatal("cancelled Watch stream never recorded")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
