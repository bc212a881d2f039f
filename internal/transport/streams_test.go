package transport

import (
	"context"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
)

// A server built with ServerOptions runs at most MaxStreamsPerConn streams
// of one connection at once: with that many idle watch streams open, a
// further call on the same connection waits (here: until its deadline),
// while another connection is served.
func TestServerCapsStreamsPerConn(t *testing.T) {
	t.Parallel()
	opts, err := ServerOptions(ServerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer(opts...)
	healthpb.RegisterHealthServer(srv, health.NewServer())
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	dial := func() *grpc.ClientConn {
		conn, err := grpc.NewClient("passthrough:///capped", grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return conn
	}
	conn := dial()
	cl := healthpb.NewHealthClient(conn)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for i := range MaxStreamsPerConn {
		w, err := cl.Watch(ctx, &healthpb.HealthCheckRequest{})
		if err != nil {
			t.Fatalf("watch %d: %v", i, err)
		}
		if _, err := w.Recv(); err != nil { // the stream runs on the server
			t.Fatalf("watch %d: %v", i, err)
		}
	}
	short, stop := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer stop()
	if _, err := cl.Check(short, &healthpb.HealthCheckRequest{}); status.Code(err) != codes.DeadlineExceeded {
		t.Errorf("call %d on the connection: %v, want it held back (DeadlineExceeded)", MaxStreamsPerConn+1, err)
	}
	other, stop2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer stop2()
	if _, err := healthpb.NewHealthClient(dial()).Check(other, &healthpb.HealthCheckRequest{}); err != nil {
		t.Errorf("call on another connection: %v", err)
	}
}
