package metrics

import (
	"context"
	"strings"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/selector"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"

	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
)

// rpcBuckets span 100 µs to about 13 s, each bound twice the one before.
var rpcBuckets = prometheus.ExponentialBuckets(0.0001, 2, 18)

// waits are the calls that wait by design: LeaseTrial (a long poll) and
// WatchSweep (a stream that lasts a sweep). They are counted, but kept out of
// the handling-time histograms, where their wait would pass for slowness.
var waits = []string{
	"/" + pb.CoordinatorService_ServiceDesc.ServiceName + "/LeaseTrial",
	"/" + pb.CoordinatorService_ServiceDesc.ServiceName + "/WatchSweep",
}

// Names of the standard gRPC handling-time histograms (go-grpc-middleware's).
const (
	serverHandlingSeconds = "grpc_server_handling_seconds"
	clientHandlingSeconds = "grpc_client_handling_seconds"
)

// ServerRPC registers go-grpc-middleware's standard gRPC server metrics on
// reg (grpc_server_started_total, grpc_server_handled_total,
// grpc_server_msg_received_total, grpc_server_msg_sent_total and the
// grpc_server_handling_seconds histogram, labelled grpc_type, grpc_service,
// grpc_method and, on handled, grpc_code) and returns the interceptors that
// feed them. Put them before authentication so that refused calls count too.
// LeaseTrial and WatchSweep are counted but not timed (see waits).
func ServerRPC(reg prometheus.Registerer) ([]grpc.ServerOption, error) {
	counted := grpcprom.NewServerMetrics()
	timed := grpcprom.NewServerMetrics(grpcprom.WithServerHandlingTimeHistogram(grpcprom.WithHistogramBuckets(rpcBuckets)))
	hist, err := onlyFamily(timed, serverHandlingSeconds)
	if err != nil {
		return nil, err
	}
	if err := Register(reg, counted, hist); err != nil {
		return nil, err
	}
	short := notIn(waits)
	return []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(counted.UnaryServerInterceptor(),
			selector.UnaryServerInterceptor(timed.UnaryServerInterceptor(), short)),
		grpc.ChainStreamInterceptor(counted.StreamServerInterceptor(),
			selector.StreamServerInterceptor(timed.StreamServerInterceptor(), short)),
	}, nil
}

// ClientRPC registers go-grpc-middleware's standard gRPC client metrics on
// reg (grpc_client_started_total, grpc_client_handled_total,
// grpc_client_msg_received_total, grpc_client_msg_sent_total and the
// grpc_client_handling_seconds histogram) and returns the dial options that
// feed them. LeaseTrial and WatchSweep are counted but not timed, as for
// ServerRPC.
func ClientRPC(reg prometheus.Registerer) ([]grpc.DialOption, error) {
	counted := grpcprom.NewClientMetrics()
	timed := grpcprom.NewClientMetrics(grpcprom.WithClientHandlingTimeHistogram(grpcprom.WithHistogramBuckets(rpcBuckets)))
	hist, err := onlyFamily(timed, clientHandlingSeconds)
	if err != nil {
		return nil, err
	}
	if err := Register(reg, counted, hist); err != nil {
		return nil, err
	}
	short := notIn(waits)
	return []grpc.DialOption{
		grpc.WithChainUnaryInterceptor(counted.UnaryClientInterceptor(),
			selector.UnaryClientInterceptor(timed.UnaryClientInterceptor(), short)),
		grpc.WithChainStreamInterceptor(counted.StreamClientInterceptor(),
			selector.StreamClientInterceptor(timed.StreamClientInterceptor(), short)),
	}, nil
}

// notIn matches the calls whose full method is none of methods.
func notIn(methods []string) selector.Matcher {
	skip := make(map[string]bool, len(methods))
	for _, m := range methods {
		skip[m] = true
	}
	return selector.MatchFunc(func(_ context.Context, c interceptors.CallMeta) bool {
		return !skip[c.FullMethod()]
	})
}

// family exposes one metric family of a collector and nothing else: the
// handling-time histogram of a go-grpc-middleware metric set whose counters
// are exported by another set (the one that sees every method).
type family struct {
	c    prometheus.Collector
	desc *prometheus.Desc
}

// onlyFamily returns the view of c that holds only the family called name.
func onlyFamily(c prometheus.Collector, name string) (prometheus.Collector, error) {
	ch := make(chan *prometheus.Desc, 16)
	go func() { c.Describe(ch); close(ch) }()
	var found *prometheus.Desc
	for d := range ch {
		// A Desc does not export its name; its String starts with it.
		if strings.HasPrefix(d.String(), `Desc{fqName: "`+name+`"`) {
			found = d
		}
	}
	if found == nil {
		return nil, errNoFamily(name)
	}
	return &family{c: c, desc: found}, nil
}

type errNoFamily string

func (e errNoFamily) Error() string {
	return "metrics: no family " + string(e) + " in the gRPC metric set"
}

// Describe implements prometheus.Collector.
func (f *family) Describe(ch chan<- *prometheus.Desc) { ch <- f.desc }

// Collect implements prometheus.Collector.
func (f *family) Collect(ch chan<- prometheus.Metric) {
	all := make(chan prometheus.Metric, 64)
	go func() { f.c.Collect(all); close(all) }()
	for m := range all {
		if m.Desc() == f.desc {
			ch <- m
		}
	}
}
