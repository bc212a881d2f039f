package worker_test

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/eosweep/eosweep/internal/transport"
	"github.com/eosweep/eosweep/internal/transport/transporttest"
	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
	"github.com/eosweep/eosweep/worker"
)

// lineWatch is a log destination that hands every line to the test.
type lineWatch chan string

func (l lineWatch) Write(b []byte) (int, error) {
	select {
	case l <- strings.TrimSpace(string(b)):
	default: // the test has seen enough
	}
	return len(b), nil
}

// refuser answers every worker call with one status.
type refuser struct {
	pb.UnimplementedCoordinatorServiceServer
	err error
}

func (r refuser) LeaseTrial(context.Context, *pb.LeaseTrialRequest) (*pb.LeaseTrialResponse, error) {
	return nil, r.err
}

// serve serves a refuser with the server config on a loopback port.
func serve(t *testing.T, cfg transport.ServerConfig, err error) string {
	t.Helper()
	opts, e := transport.ServerOptions(cfg)
	if e != nil {
		t.Fatal(e)
	}
	lis, e := net.Listen("tcp", "127.0.0.1:0")
	if e != nil {
		t.Fatal(e)
	}
	srv := grpc.NewServer(opts...)
	pb.RegisterCoordinatorServiceServer(srv, refuser{err: err})
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

// TestMisconfiguredWorker (issue 9 item 10): a worker that cannot work with
// its coordinator says so. An unreachable address is logged at the first
// failed call ("cannot reach ADDR: …", attempt 1) and again at every retry;
// a refusal that retrying cannot cure — a wrong or missing token, a
// PermissionDenied, a TLS handshake failure — ends Run with the reason.
// Before, the first lease call waited 25 s for a connection and logged
// nothing, and every refusal was retried forever.
func TestMisconfiguredWorker(t *testing.T) {
	t.Parallel()
	p := transporttest.NewPKI(t)
	tests := []struct {
		name    string
		addr    func(t *testing.T) string
		client  transport.ClientConfig
		wantErr string // permanent: Run's error contains it
		wantLog string // transient: three WARN lines contain it, the first with attempt=1
	}{
		{name: "unreachable", addr: func(*testing.T) string { return "127.0.0.1:1" },
			wantLog: `msg="cannot reach 127.0.0.1:1: connection error: desc = \"transport: Error while dialing: dial tcp 127.0.0.1:1: connect: connection refused\""`},
		{name: "coordinator restarting", addr: func(t *testing.T) string {
			return serve(t, transport.ServerConfig{}, status.Error(codes.Unavailable, "coordinator restarting"))
		}, wantLog: `: coordinator restarting"`},
		{name: "store failing", addr: func(t *testing.T) string {
			return serve(t, transport.ServerConfig{}, status.Error(codes.Internal, "disk full"))
		}, wantLog: `msg="lease failed; retrying"`},
		{name: "wrong token", addr: func(t *testing.T) string {
			return serve(t, transport.ServerConfig{Token: "right"}, nil)
		}, client: transport.ClientConfig{Token: "wrong", AllowInsecureToken: true}, wantErr: "refused this worker: Unauthenticated"},
		{name: "no token", addr: func(t *testing.T) string {
			return serve(t, transport.ServerConfig{Token: "right"}, nil)
		}, wantErr: "refused this worker: Unauthenticated"},
		{name: "permission denied", addr: func(t *testing.T) string {
			return serve(t, transport.ServerConfig{}, status.Error(codes.PermissionDenied, "worker not allowed"))
		}, wantErr: "refused this worker: PermissionDenied: worker not allowed"},
		{name: "untrusted certificate", addr: func(t *testing.T) string {
			return serve(t, transport.ServerConfig{CertFile: p.ServerCert, KeyFile: p.ServerKey}, nil)
		}, client: transport.ClientConfig{CAFile: p.RogueCAFile}, wantErr: "TLS handshake refused: tls: failed to verify certificate"},
		{name: "TLS to a plaintext coordinator", addr: func(t *testing.T) string {
			return serve(t, transport.ServerConfig{}, nil)
		}, client: transport.ClientConfig{CAFile: p.CAFile}, wantErr: "TLS handshake refused"},
		{name: "client certificate refused", addr: func(t *testing.T) string {
			return serve(t, transport.ServerConfig{CertFile: p.ServerCert, KeyFile: p.ServerKey, ClientCAFile: p.CAFile}, nil)
		}, client: transport.ClientConfig{CAFile: p.CAFile, CertFile: p.RogueCert, KeyFile: p.RogueKey}, wantErr: "TLS handshake refused: remote error: tls: certificate required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			addr := tt.addr(t)
			opts, err := transport.DialOptions(tt.client)
			if err != nil {
				t.Fatal(err)
			}
			conn, err := grpc.NewClient(addr, opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			lines := make(lineWatch, 64)
			log := slog.New(slog.NewTextHandler(lines, &slog.HandlerOptions{Level: slog.LevelWarn}))
			w := worker.New(pb.NewCoordinatorServiceClient(conn), worker.Config{Coordinator: addr, Parallel: 1, LeaseWait: 100 * time.Millisecond, Logger: log})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- w.Run(ctx) }()
			timeout := time.After(15 * time.Second)
			if tt.wantErr != "" {
				select {
				case err := <-done:
					if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), addr) {
						t.Fatalf("Run = %v, want an error naming %s and containing %q", err, addr, tt.wantErr)
					}
				case <-timeout:
					t.Fatalf("the worker kept retrying a permanent refusal (want %q)", tt.wantErr)
				}
				return
			}
			var seen []string
			for len(seen) < 3 {
				select {
				case l := <-lines:
					if strings.Contains(l, tt.wantLog) {
						seen = append(seen, l)
					}
				case err := <-done:
					t.Fatalf("Run returned %v on a transient failure", err)
				case <-timeout:
					t.Fatalf("after 15 s, %d WARN lines containing %s: %q", len(seen), tt.wantLog, seen)
				}
			}
			if !strings.Contains(seen[0], "attempt=1 ") || !strings.Contains(seen[2], "attempt=3 ") {
				t.Errorf("the first failed call was not logged at once: %q", seen)
			}
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run after cancel = %v", err)
			}
		})
	}
}
