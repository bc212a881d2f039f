package coordinator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/test/bufconn"

	"github.com/eosweep/eosweep/coordinator/coordmetrics"
	"github.com/eosweep/eosweep/coordinator/scheduler"
	"github.com/eosweep/eosweep/coordinator/store"
	"github.com/eosweep/eosweep/internal/transport"
	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
)

// Config configures a Coordinator.
type Config struct {
	// DBPath is the bbolt file (created if missing).
	DBPath string
	// NoSync skips fsync (benchmarks of non-durable runs only).
	NoSync bool
	// Scheduler configures leases, attempts and refinement. A nil Refiner
	// gets scheduler.BoundaryRefiner.
	Scheduler scheduler.Config
	// ServerOptions are passed to grpc.NewServer (transport security,
	// keepalive, interceptors).
	ServerOptions []grpc.ServerOption
	// Metrics, if set, gets the coordinator's metrics (package coordmetrics)
	// registered on it, and only those: a process serves its own registry.
	Metrics prometheus.Registerer
	Logger  *slog.Logger
}

// Coordinator is a running coordinator.
type Coordinator struct {
	Store     *store.Store
	Scheduler *scheduler.Scheduler
	Server    *Server
	GRPC      *grpc.Server
	Health    *health.Server
	log       *slog.Logger

	mu     sync.Mutex       // guards inProc and closed
	inProc *grpc.ClientConn // InProcessConn's connection, once made
	closed bool             // Shutdown has begun
}

// inProcessBuffer is the size of each direction of the in-memory pipe behind
// InProcessConn (what `eosweep run` always used).
const inProcessBuffer = 4 << 20

// ErrShutDown is returned by InProcessConn once Shutdown has begun.
var ErrShutDown = errors.New("coordinator is shut down")

// Open opens the store, reloads the scheduler from it and builds the gRPC
// server (not yet serving).
func Open(cfg Config) (*Coordinator, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	st, err := store.Open(cfg.DBPath, store.Options{NoSync: cfg.NoSync})
	if err != nil {
		return nil, err
	}
	sc := cfg.Scheduler
	if sc.Refiner == nil {
		sc.Refiner = scheduler.BoundaryRefiner{}
	}
	if sc.Logger == nil {
		sc.Logger = cfg.Logger
	}
	opts := cfg.ServerOptions
	var m *coordmetrics.Metrics
	if cfg.Metrics != nil {
		if m, err = coordmetrics.New(cfg.Metrics); err != nil {
			_ = st.Close()
			return nil, err
		}
		sc.Observer = m
		// First, so that calls refused by authentication are counted too.
		opts = append(m.ServerOptions(), opts...)
	}
	sched, err := scheduler.New(st, sc)
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	if m != nil {
		if err := m.Watch(sched, st.Stats); err != nil {
			sched.Close()
			_ = st.Close()
			return nil, err
		}
	}
	c := &Coordinator{Store: st, Scheduler: sched, Server: NewServer(sched, st),
		GRPC: grpc.NewServer(opts...), Health: health.NewServer(), log: cfg.Logger}
	pb.RegisterCoordinatorServiceServer(c.GRPC, c.Server)
	healthpb.RegisterHealthServer(c.GRPC, c.Health)
	// Server reflection, so grpcurl and other generic clients can list,
	// describe and call the service; behind the token when one is set (only
	// the health service is exempt).
	reflection.Register(c.GRPC)
	c.Health.SetServingStatus(pb.CoordinatorService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	return c, nil
}

// Serve serves gRPC on lis until Shutdown.
func (c *Coordinator) Serve(lis net.Listener) error {
	c.log.Info("coordinator serving", "addr", lis.Addr().String(), "db", c.Store.Path())
	if err := c.GRPC.Serve(lis); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// InProcessConn returns a client connection to this coordinator over an
// in-memory listener, without sockets: the first call starts serving the
// listener, later calls return the same connection. The connection belongs
// to the coordinator: Shutdown closes it, callers do not.
//
// It dials plaintext and sends no token, so it suits a coordinator whose
// ServerOptions ask for neither (an embedded run, tests).
func (c *Coordinator) InProcessConn() (*grpc.ClientConn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrShutDown
	}
	if c.inProc != nil {
		return c.inProc, nil
	}
	lis := bufconn.Listen(inProcessBuffer)
	conn, err := grpc.NewClient("passthrough:///in-process",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(transport.MaxMessageBytes)))
	if err != nil {
		return nil, fmt.Errorf("in-process connection: %w", err)
	}
	go func() { _ = c.GRPC.Serve(lis) }() // returns when Shutdown stops the server
	c.inProc = conn
	return conn, nil
}

// Shutdown marks the service not serving, stops the scheduler (long polls
// return), closes the in-process connection, drains RPCs for up to grace
// (then stops hard), and closes the store.
func (c *Coordinator) Shutdown(grace time.Duration) error {
	c.mu.Lock()
	c.closed = true
	inProc := c.inProc
	c.mu.Unlock()
	c.Health.Shutdown()
	c.Scheduler.Close()
	if inProc != nil {
		_ = inProc.Close()
	}
	done := make(chan struct{})
	go func() {
		c.GRPC.GracefulStop()
		close(done)
	}()
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		c.log.Warn("graceful stop timed out; stopping", "grace", grace)
		c.GRPC.Stop()
		<-done
	}
	return c.Store.Close()
}
