package coordinator_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc/connectivity"

	"github.com/eosweep/eosweep/coordinator"
	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
)

// The in-process connection is made once, serves RPCs, and belongs to the
// coordinator: Shutdown closes it and no new one is handed out after.
func TestInProcessConn(t *testing.T) {
	t.Parallel()
	c, err := coordinator.Open(coordinator.Config{DBPath: filepath.Join(t.TempDir(), "c.db"), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := c.InProcessConn()
	if err != nil {
		t.Fatal(err)
	}
	if again, err := c.InProcessConn(); err != nil || again != conn {
		t.Fatalf("second InProcessConn = %p, %v; want the first, %p", again, err, conn)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := pb.NewCoordinatorServiceClient(conn).SubmitSweep(ctx, &pb.SubmitSweepRequest{SpecYaml: twoEtas}); err != nil {
		t.Fatalf("submit over the in-process connection: %v", err)
	}
	if err := c.Shutdown(time.Second); err != nil {
		t.Fatal(err)
	}
	if got := conn.GetState(); got != connectivity.Shutdown {
		t.Errorf("after Shutdown the connection is %v, want %v", got, connectivity.Shutdown)
	}
	if _, err := c.InProcessConn(); !errors.Is(err, coordinator.ErrShutDown) {
		t.Errorf("InProcessConn after Shutdown: %v, want ErrShutDown", err)
	}
}
