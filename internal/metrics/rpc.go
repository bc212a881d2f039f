package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
)

// RPC measures gRPC latency on the server or the client side. A nil *RPC
// returns no options.
type RPC struct {
	latency *prometheus.HistogramVec
}

// rpcBuckets span 100 µs (a cached lease) to about 100 s (a long-poll held to its end).
var rpcBuckets = prometheus.ExponentialBuckets(0.0001, 2.5, 16)

// NewServerRPC registers eosweep_rpc_server_seconds{method,code} on reg.
func NewServerRPC(reg prometheus.Registerer) *RPC { return newRPC(reg, "server") }

// NewClientRPC registers eosweep_rpc_client_seconds{method,code} on reg.
func NewClientRPC(reg prometheus.Registerer) *RPC { return newRPC(reg, "client") }

func newRPC(reg prometheus.Registerer, side string) *RPC {
	r := &RPC{latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace,
		Subsystem: "rpc",
		Name:      side + "_seconds",
		Help:      "gRPC latency seen by the " + side + ", by full method and status code.",
		Buckets:   rpcBuckets,
	}, []string{"method", "code"})}
	reg.MustRegister(r.latency)
	return r
}

func (r *RPC) observe(method string, start time.Time, err error) {
	r.latency.WithLabelValues(method, status.Code(err).String()).Observe(time.Since(start).Seconds())
}

// ServerOptions returns interceptors that time every RPC. Put them before
// authentication so that refused calls are counted too.
func (r *RPC) ServerOptions() []grpc.ServerOption {
	if r == nil {
		return nil
	}
	unary := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		start := time.Now()
		resp, err := h(ctx, req)
		r.observe(info.FullMethod, start, err)
		return resp, err
	}
	stream := func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		start := time.Now()
		err := h(srv, ss)
		r.observe(info.FullMethod, start, err)
		return err
	}
	return []grpc.ServerOption{grpc.ChainUnaryInterceptor(unary), grpc.ChainStreamInterceptor(stream)}
}

// DialOptions returns a unary client interceptor that times every call.
// Streaming calls are not timed on the client side.
func (r *RPC) DialOptions() []grpc.DialOption {
	if r == nil {
		return nil
	}
	unary := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, inv grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		start := time.Now()
		err := inv(ctx, method, req, reply, cc, opts...)
		r.observe(method, start, err)
		return err
	}
	return []grpc.DialOption{grpc.WithChainUnaryInterceptor(unary)}
}
