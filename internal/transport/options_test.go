package transport

import (
	"context"
	"encoding/json"
	"net"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/types/known/emptypb"

	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
)

func TestServerKeepalive(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		cfg        ServerConfig
		wantParams keepalive.ServerParameters
		wantPolicy keepalive.EnforcementPolicy
	}{
		{"defaults", ServerConfig{},
			keepalive.ServerParameters{Time: 30 * time.Second, Timeout: 10 * time.Second},
			keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}},
		{"set", ServerConfig{KeepaliveTime: time.Minute, KeepaliveTimeout: time.Second, MinPingInterval: 20 * time.Second},
			keepalive.ServerParameters{Time: time.Minute, Timeout: time.Second},
			keepalive.EnforcementPolicy{MinTime: 20 * time.Second, PermitWithoutStream: true}},
		{"one set", ServerConfig{KeepaliveTimeout: 3 * time.Second},
			keepalive.ServerParameters{Time: 30 * time.Second, Timeout: 3 * time.Second},
			keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			params, policy := tt.cfg.keepalive()
			if params != tt.wantParams || policy != tt.wantPolicy {
				t.Errorf("keepalive() = %+v, %+v; want %+v, %+v", params, policy, tt.wantParams, tt.wantPolicy)
			}
		})
	}
}

func TestClientKeepaliveAndBackoff(t *testing.T) {
	t.Parallel()
	def := backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 5 * time.Second}
	tests := []struct {
		name       string
		cfg        ClientConfig
		wantParams keepalive.ClientParameters
		wantConn   grpc.ConnectParams
	}{
		{"defaults", ClientConfig{},
			keepalive.ClientParameters{Time: 30 * time.Second, Timeout: 10 * time.Second, PermitWithoutStream: true},
			grpc.ConnectParams{Backoff: def, MinConnectTimeout: 5 * time.Second}},
		{"set", ClientConfig{KeepaliveTime: time.Minute, KeepaliveTimeout: 2 * time.Second, MinConnectTimeout: time.Second,
			Backoff: backoff.Config{BaseDelay: time.Second, Multiplier: 2, Jitter: 0.5, MaxDelay: time.Minute}},
			keepalive.ClientParameters{Time: time.Minute, Timeout: 2 * time.Second, PermitWithoutStream: true},
			grpc.ConnectParams{Backoff: backoff.Config{BaseDelay: time.Second, Multiplier: 2, Jitter: 0.5, MaxDelay: time.Minute},
				MinConnectTimeout: time.Second}},
		{"backoff in part", ClientConfig{Backoff: backoff.Config{MaxDelay: 30 * time.Second}},
			keepalive.ClientParameters{Time: 30 * time.Second, Timeout: 10 * time.Second, PermitWithoutStream: true},
			grpc.ConnectParams{Backoff: backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 30 * time.Second},
				MinConnectTimeout: 5 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.cfg.keepalive(); got != tt.wantParams {
				t.Errorf("keepalive() = %+v, want %+v", got, tt.wantParams)
			}
			if got := tt.cfg.connectParams(); got != tt.wantConn {
				t.Errorf("connectParams() = %+v, want %+v", got, tt.wantConn)
			}
		})
	}
}

// legacyServiceConfig is the retry service config the CLI used to spell out
// by hand; the default policy must mean exactly this.
const legacyServiceConfig = `{
  "methodConfig": [{
    "name": [
      {"service": "eosweep.v1.CoordinatorService", "method": "GetSweep"},
      {"service": "eosweep.v1.CoordinatorService", "method": "ListSweeps"},
      {"service": "eosweep.v1.CoordinatorService", "method": "ListTrials"},
      {"service": "eosweep.v1.CoordinatorService", "method": "GetBoundary"}
    ],
    "retryPolicy": {
      "maxAttempts": 4,
      "initialBackoff": "0.1s",
      "maxBackoff": "2s",
      "backoffMultiplier": 2,
      "retryableStatusCodes": ["UNAVAILABLE"]
    }
  }]
}`

func TestRetryServiceConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		policy  RetryPolicy
		want    string // JSON, compared by meaning
		wantErr string // part of the error, naming the field
	}{
		{name: "default", want: legacyServiceConfig},
		{name: "set", policy: RetryPolicy{Methods: []string{"/a.B/C"}, MaxAttempts: 5, InitialBackoff: 250 * time.Millisecond,
			MaxBackoff: 3 * time.Second, BackoffMultiplier: 1.5},
			want: `{"methodConfig": [{"name": [{"service": "a.B", "method": "C"}], "retryPolicy": {"maxAttempts": 5,
				"initialBackoff": "0.25s", "maxBackoff": "3s", "backoffMultiplier": 1.5, "retryableStatusCodes": ["UNAVAILABLE"]}}]}`},
		{name: "no methods", policy: RetryPolicy{Methods: []string{}}, want: `{}`},
		{name: "one attempt", policy: RetryPolicy{MaxAttempts: 1}, wantErr: "MaxAttempts"},
		{name: "negative backoff", policy: RetryPolicy{InitialBackoff: -time.Second}, wantErr: "InitialBackoff"},
		{name: "negative multiplier", policy: RetryPolicy{BackoffMultiplier: -1}, wantErr: "BackoffMultiplier"},
		{name: "method without service", policy: RetryPolicy{Methods: []string{"GetSweep"}}, wantErr: `"GetSweep"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.policy.serviceConfig()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one naming %s", err, tt.wantErr)
				}
				if _, err := DialOptions(ClientConfig{Retry: tt.policy}); err == nil {
					t.Error("DialOptions accepted the policy")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var gotV, wantV any
			if err := json.Unmarshal([]byte(got), &gotV); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, got)
			}
			if err := json.Unmarshal([]byte(tt.want), &wantV); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(gotV, wantV) {
				t.Errorf("service config\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// flakyCoordinator answers the named CoordinatorService methods with
// UNAVAILABLE for its first fails calls, then with success.
type flakyCoordinator struct {
	fails int64
	calls atomic.Int64
}

func (f *flakyCoordinator) desc(methods ...string) *grpc.ServiceDesc {
	d := &grpc.ServiceDesc{ServiceName: pb.CoordinatorService_ServiceDesc.ServiceName, HandlerType: (*any)(nil)}
	for _, m := range methods {
		d.Methods = append(d.Methods, grpc.MethodDesc{MethodName: m,
			Handler: func(_ any, _ context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
				if err := dec(new(emptypb.Empty)); err != nil {
					return nil, err
				}
				if f.calls.Add(1) <= f.fails {
					return nil, status.Error(codes.Unavailable, "not yet")
				}
				return &emptypb.Empty{}, nil
			}})
	}
	return d
}

// The dial options really retry the idempotent reads on UNAVAILABLE, up to
// MaxAttempts, and nothing else.
func TestDialOptionsRetry(t *testing.T) {
	t.Parallel()
	fast := RetryPolicy{InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond}
	tests := []struct {
		name      string
		method    string
		fails     int64
		policy    RetryPolicy
		wantCode  codes.Code
		wantCalls int64
	}{
		{"read retried", pb.CoordinatorService_GetSweep_FullMethodName, 3, fast, codes.OK, 4},
		{"read out of attempts", pb.CoordinatorService_ListTrials_FullMethodName, 4, fast, codes.Unavailable, 4},
		{"lease not retried", pb.CoordinatorService_LeaseTrial_FullMethodName, 1, fast, codes.Unavailable, 1},
		{"report not retried", pb.CoordinatorService_ReportResult_FullMethodName, 1, fast, codes.Unavailable, 1},
		{"two attempts", pb.CoordinatorService_GetBoundary_FullMethodName, 3,
			RetryPolicy{MaxAttempts: 2, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond}, codes.Unavailable, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := &flakyCoordinator{fails: tt.fails}
			method := tt.method[strings.LastIndex(tt.method, "/")+1:]
			lis := bufconn.Listen(1 << 16)
			srv := grpc.NewServer()
			srv.RegisterService(f.desc(method), f)
			go func() { _ = srv.Serve(lis) }()
			t.Cleanup(srv.Stop)
			opts, err := DialOptions(ClientConfig{Retry: tt.policy})
			if err != nil {
				t.Fatal(err)
			}
			opts = append(opts, grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }))
			conn, err := grpc.NewClient("passthrough:///flaky", opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err = conn.Invoke(ctx, tt.method, &emptypb.Empty{}, &emptypb.Empty{})
			if got := status.Code(err); got != tt.wantCode {
				t.Errorf("code = %v (%v), want %v", got, err, tt.wantCode)
			}
			if got := f.calls.Load(); got != tt.wantCalls {
				t.Errorf("%d calls reached the server, want %d", got, tt.wantCalls)
			}
		})
	}
}
