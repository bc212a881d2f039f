package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/eosweep/eosweep/internal/transport/transporttest"
)

// A refused connection is told apart from a coordinator that is away: a
// wrong token, and every TLS handshake that can never succeed, are permanent;
// a plaintext client at a TLS server (the server just hangs up) is not. The
// connections are real loopback TCP: a TLS 1.3 server refuses a client
// certificate only after the client's handshake, and the refusal must be read
// from the socket.
func TestIsPermanentOverRealConnections(t *testing.T) {
	t.Parallel()
	p := transporttest.NewPKI(t)
	tlsServer := ServerConfig{CertFile: p.ServerCert, KeyFile: p.ServerKey, Token: "tok"}
	mtlsServer := ServerConfig{CertFile: p.ServerCert, KeyFile: p.ServerKey, ClientCAFile: p.CAFile}
	tests := []struct {
		name   string
		server ServerConfig
		client ClientConfig
		want   bool
	}{
		{"right token", tlsServer, ClientConfig{CAFile: p.CAFile, Token: "tok"}, false},
		{"wrong token", tlsServer, ClientConfig{CAFile: p.CAFile, Token: "nope"}, true},
		{"no token", tlsServer, ClientConfig{CAFile: p.CAFile}, true},
		{"untrusted server cert", tlsServer, ClientConfig{CAFile: p.RogueCAFile, Token: "tok"}, true},
		{"wrong server name", tlsServer, ClientConfig{CAFile: p.CAFile, ServerName: "coordinator.example", Token: "tok"}, true},
		{"tls client, plaintext server", ServerConfig{}, ClientConfig{CAFile: p.CAFile}, true},
		{"mtls without client cert", mtlsServer, ClientConfig{CAFile: p.CAFile}, true},
		{"mtls with rogue cert", mtlsServer, ClientConfig{CAFile: p.CAFile, CertFile: p.RogueCert, KeyFile: p.RogueKey}, true},
		{"plaintext client, tls server", tlsServer, ClientConfig{Token: "tok", AllowInsecureToken: true}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			addr := startTCPServer(t, tt.server)
			opts, err := DialOptions(tt.client)
			if err != nil {
				t.Fatal(err)
			}
			conn, err := grpc.NewClient(addr, opts...)
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer conn.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err = conn.Invoke(ctx, pingMethod, &emptypb.Empty{}, &emptypb.Empty{})
			if got := IsPermanent(err); got != tt.want {
				t.Errorf("IsPermanent(%v) = %v, want %v", err, got, tt.want)
			}
		})
	}
}

// startTCPServer serves the ping service with cfg on a loopback port and
// returns its address.
func startTCPServer(t *testing.T, cfg ServerConfig) string {
	t.Helper()
	opts, err := ServerOptions(cfg)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(opts...)
	srv.RegisterService(&pingDesc, &pingServer{})
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

func TestIsPermanentCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("not a status"), false},
		{status.Error(codes.Unauthenticated, "missing bearer token"), true},
		{status.Error(codes.PermissionDenied, "not allowed"), true},
		{status.Error(codes.Unavailable, `connection error: desc = "transport: Error while dialing: dial tcp 127.0.0.1:1: connect: connection refused"`), false},
		{status.Error(codes.Unavailable, `connection error: desc = "transport: authentication handshake failed: EOF"`), false},
		{status.Error(codes.Unavailable, `connection error: desc = "transport: authentication handshake failed: `+
			(&HandshakeError{Err: errors.New("x509: certificate signed by unknown authority")}).Error()+`"`), true},
		{status.Error(codes.DeadlineExceeded, "context deadline exceeded"), false},
		{status.Error(codes.ResourceExhausted, "grpc: received message larger than max (5 vs. 4)"), false},
		{status.Error(codes.Internal, "store: disk full"), false},
	}
	for _, tt := range tests {
		if got := IsPermanent(tt.err); got != tt.want {
			t.Errorf("IsPermanent(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestCheckAddress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr    string
		wantErr string // "" for accepted
	}{
		{"127.0.0.1:7870", ""},
		{"coord.cluster:7870", ""},
		{"[::1]:7870", ""},
		{":7870", ""},
		{"dns:///coord.cluster:7870", ""},
		{"unix:///run/eosweep.sock", ""},
		{"", "empty address"},
		{"127.0.0.1", `"127.0.0.1" has no port: want HOST:PORT, e.g. 127.0.0.1:7870`},
		{"coord.cluster", `"coord.cluster" has no port`},
		{"::1", "want HOST:PORT"},
		{"127.0.0.1:http", "is not a number"},
		{"127.0.0.1:0", "is not a number from 1 to 65535"},
		{"127.0.0.1:70000", "is not a number from 1 to 65535"},
	}
	for _, tt := range tests {
		err := CheckAddress(tt.addr)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("CheckAddress(%q) = %v, want nil", tt.addr, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("CheckAddress(%q) = %v, want an error containing %q", tt.addr, err, tt.wantErr)
		}
	}
}

// The client's message limits are MaxMessageBytes unless set; a message over
// them fails with ResourceExhausted that IsMessageTooLarge recognises.
func TestClientMessageLimits(t *testing.T) {
	t.Parallel()
	if MaxMessageBytes != 16<<20 {
		t.Fatalf("MaxMessageBytes = %d, want 16 MiB (the coordinator's limit is the same constant)", MaxMessageBytes)
	}
	tests := []struct {
		name    string
		cfg     ClientConfig
		payload int
		tooBig  bool
	}{
		{"default under the limit", ClientConfig{}, 1 << 20, false},
		{"default over the limit", ClientConfig{}, MaxMessageBytes + 1, true},
		{"own send limit", ClientConfig{MaxSendBytes: 1 << 10}, 2 << 10, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, dial := startServer(t, ServerConfig{})
			conn, err := dial(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			// An Empty with unknown-field bytes: the server's codec keeps them.
			msg := &emptypb.Empty{}
			msg.ProtoReflect().SetUnknown(append([]byte{0x0a}, lengthPrefixed(tt.payload)...))
			err = conn.Invoke(ctx, pingMethod, msg, &emptypb.Empty{})
			if got := IsMessageTooLarge(err); got != tt.tooBig {
				t.Errorf("payload %d: error %v; IsMessageTooLarge = %v, want %v", tt.payload, err, got, tt.tooBig)
			}
		})
	}
	if IsMessageTooLarge(status.Error(codes.ResourceExhausted, "quota exceeded")) {
		t.Error("a quota refusal counted as a message size refusal")
	}
	if IsMessageTooLarge(fmt.Errorf("wrapped: %w", errors.New("message larger than max"))) {
		t.Error("a non-status error counted as a size refusal")
	}
}

// lengthPrefixed returns a varint length n followed by n zero bytes.
func lengthPrefixed(n int) []byte {
	var b []byte
	for v := uint64(n); ; v >>= 7 {
		if v < 0x80 {
			b = append(b, byte(v))
			break
		}
		b = append(b, byte(v)|0x80)
	}
	return append(b, make([]byte, n)...)
}
