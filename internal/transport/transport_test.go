package transport

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/eosweep/eosweep/internal/transport/transporttest"
)

const (
	pingMethod   = "/eosweep.test.Ping/Ping"
	streamMethod = "/eosweep.test.Ping/Stream"
)

// pingServer counts the RPCs its handlers actually ran.
type pingServer struct{ calls atomic.Int64 }

var pingDesc = grpc.ServiceDesc{
	ServiceName: "eosweep.test.Ping",
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Ping",
		Handler: func(srv any, ctx context.Context, dec func(any) error, ic grpc.UnaryServerInterceptor) (any, error) {
			in := new(emptypb.Empty)
			if err := dec(in); err != nil {
				return nil, err
			}
			h := func(context.Context, any) (any, error) {
				srv.(*pingServer).calls.Add(1)
				return &emptypb.Empty{}, nil
			}
			if ic == nil {
				return h(ctx, in)
			}
			return ic(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: pingMethod}, h)
		},
	}},
	Streams: []grpc.StreamDesc{{
		StreamName:    "Stream",
		ServerStreams: true,
		Handler: func(srv any, ss grpc.ServerStream) error {
			srv.(*pingServer).calls.Add(1)
			if err := ss.RecvMsg(new(emptypb.Empty)); err != nil {
				return err
			}
			return ss.SendMsg(&emptypb.Empty{})
		},
	}},
}

// startServer serves the ping and health services with cfg on an in-memory
// listener and returns the server's handler counter and a dial function.
func startServer(t *testing.T, cfg ServerConfig) (*pingServer, func(ClientConfig) (*grpc.ClientConn, error)) {
	t.Helper()
	opts, err := ServerOptions(cfg)
	if err != nil {
		t.Fatalf("ServerOptions: %v", err)
	}
	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer(opts...)
	ps := &pingServer{}
	srv.RegisterService(&pingDesc, ps)
	healthpb.RegisterHealthServer(srv, health.NewServer())
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	dial := func(cc ClientConfig) (*grpc.ClientConn, error) {
		dopts, err := DialOptions(cc)
		if err != nil {
			return nil, err
		}
		dopts = append(dopts, grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			return lis.DialContext(ctx)
		}))
		return grpc.NewClient("passthrough:///localhost", dopts...)
	}
	return ps, dial
}

// call makes one unary and one server-streaming RPC and returns the first error's code.
func call(t *testing.T, conn *grpc.ClientConn) codes.Code {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := conn.Invoke(ctx, pingMethod, &emptypb.Empty{}, &emptypb.Empty{}); err != nil {
		return status.Code(err)
	}
	st, err := conn.NewStream(ctx, &pingDesc.Streams[0], streamMethod)
	if err == nil {
		err = st.SendMsg(&emptypb.Empty{})
	}
	if err == nil {
		err = st.CloseSend()
	}
	if err == nil {
		err = st.RecvMsg(new(emptypb.Empty))
	}
	return status.Code(err)
}

func TestServerRefusesWithoutCredentials(t *testing.T) {
	t.Parallel()
	p := transporttest.NewPKI(t)
	const tok = "s3cret-token"
	tlsServer := ServerConfig{CertFile: p.ServerCert, KeyFile: p.ServerKey, Token: tok}
	mtlsServer := ServerConfig{CertFile: p.ServerCert, KeyFile: p.ServerKey, ClientCAFile: p.CAFile, Token: tok}
	plainServer := ServerConfig{Token: tok}
	tests := []struct {
		name   string
		server ServerConfig
		client ClientConfig
		want   codes.Code
	}{
		{"tls/right token", tlsServer, ClientConfig{CAFile: p.CAFile, Token: tok}, codes.OK},
		{"tls/no token", tlsServer, ClientConfig{CAFile: p.CAFile}, codes.Unauthenticated},
		{"tls/wrong token", tlsServer, ClientConfig{CAFile: p.CAFile, Token: "s3cret-tokeN"}, codes.Unauthenticated},
		{"tls/token prefix", tlsServer, ClientConfig{CAFile: p.CAFile, Token: "s3cret"}, codes.Unauthenticated},
		{"tls/plaintext client", tlsServer, ClientConfig{Token: tok, AllowInsecureToken: true}, codes.Unavailable},
		{"tls/untrusted server cert", tlsServer, ClientConfig{CAFile: p.RogueCAFile, Token: tok}, codes.Unavailable},
		{"tls/wrong server name", tlsServer, ClientConfig{CAFile: p.CAFile, ServerName: "coordinator.example", Token: tok}, codes.Unavailable},
		{"mtls/client cert", mtlsServer, ClientConfig{CAFile: p.CAFile, CertFile: p.ClientCert, KeyFile: p.ClientKey, Token: tok}, codes.OK},
		{"mtls/no client cert", mtlsServer, ClientConfig{CAFile: p.CAFile, Token: tok}, codes.Unavailable},
		{"mtls/rogue client cert", mtlsServer, ClientConfig{CAFile: p.CAFile, CertFile: p.RogueCert, KeyFile: p.RogueKey, Token: tok}, codes.Unavailable},
		{"mtls/cert but no token", mtlsServer, ClientConfig{CAFile: p.CAFile, CertFile: p.ClientCert, KeyFile: p.ClientKey}, codes.Unauthenticated},
		{"plain/right token", plainServer, ClientConfig{Token: tok, AllowInsecureToken: true}, codes.OK},
		{"plain/no token", plainServer, ClientConfig{}, codes.Unauthenticated},
		{"plain/wrong token", plainServer, ClientConfig{Token: "nope", AllowInsecureToken: true}, codes.Unauthenticated},
		{"open server", ServerConfig{}, ClientConfig{}, codes.OK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ps, dial := startServer(t, tt.server)
			conn, err := dial(tt.client)
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer conn.Close()
			if got := call(t, conn); got != tt.want {
				t.Errorf("code = %v, want %v", got, tt.want)
			}
			wantCalls := int64(0)
			if tt.want == codes.OK {
				wantCalls = 2
			}
			if got := ps.calls.Load(); got != wantCalls {
				t.Errorf("handlers ran %d times, want %d", got, wantCalls)
			}
		})
	}
}

// The health service stays open without a token so that probes work, but not
// without TLS when the server requires it.
func TestHealthOpenWithoutToken(t *testing.T) {
	t.Parallel()
	p := transporttest.NewPKI(t)
	_, dial := startServer(t, ServerConfig{CertFile: p.ServerCert, KeyFile: p.ServerKey, Token: "tok"})
	conn, err := dial(ClientConfig{CAFile: p.CAFile})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatalf("health check without token: %v", err)
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("status = %v, want SERVING", resp.GetStatus())
	}
}

// A header that is not exactly one "Bearer <token>" is refused, whatever its form.
func TestTokenHeaderForms(t *testing.T) {
	t.Parallel()
	_, dial := startServer(t, ServerConfig{Token: "tok"})
	tests := []struct {
		name   string
		header []string
		want   codes.Code
	}{
		{"bearer", []string{"Bearer tok"}, codes.OK},
		{"scheme case", []string{"bearer tok"}, codes.OK},
		{"basic scheme", []string{"Basic tok"}, codes.Unauthenticated},
		{"no scheme", []string{"tok"}, codes.Unauthenticated},
		{"empty", []string{""}, codes.Unauthenticated},
		{"two headers", []string{"Bearer tok", "Bearer tok"}, codes.Unauthenticated},
		{"trailing space", []string{"Bearer tok "}, codes.Unauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			conn, err := dial(ClientConfig{})
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer conn.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			for _, h := range tt.header {
				ctx = appendAuth(ctx, h)
			}
			err = conn.Invoke(ctx, pingMethod, &emptypb.Empty{}, &emptypb.Empty{})
			if got := status.Code(err); got != tt.want {
				t.Errorf("code = %v (%v), want %v", got, err, tt.want)
			}
		})
	}
}

func TestDialRefusesPlaintextToken(t *testing.T) {
	t.Parallel()
	if _, err := DialOptions(ClientConfig{Token: "tok"}); !errors.Is(err, ErrInsecureToken) {
		t.Fatalf("DialOptions(token, no TLS) error = %v, want ErrInsecureToken", err)
	}
}

func appendAuth(ctx context.Context, h string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", h)
}
